use anchor_lang::prelude::*;

use crate::domain::lifecycle;
use crate::errors::MarketError;
use crate::events::AccountClosed;
use crate::state::{License, UsageReceipt};

#[derive(Accounts)]
pub struct CloseUsageReceipt<'info> {
    /// The holder who recorded the use and paid the receipt's rent.
    #[account(mut)]
    pub holder: Signer<'info>,
    #[account(mut, has_one = holder @ MarketError::NotLicenseBuyer, close = holder)]
    pub receipt: Box<Account<'info, UsageReceipt>>,
    /// CHECK: the receipt's licence (address checked), which may already be closed.
    #[account(address = receipt.license @ MarketError::WrongLicense)]
    pub license: UncheckedAccount<'info>,
}

impl CloseUsageReceipt<'_> {
    /// Receipts are the on-chain provenance of a licence in force: they may be closed (rent back to
    /// the holder) only once the licence is expired, void or closed. Their content stays in the
    /// UsageRecorded event of the transaction that wrote them.
    fn validate(&self) -> Result<()> {
        let info = self.license.to_account_info();
        if *info.owner != crate::ID {
            return Ok(());
        }
        let license = License::try_deserialize(&mut &info.try_borrow_data()?[..])?;
        if self.receipt.recorded_at < license.bought_at {
            // a receipt of an earlier licence at this address, closed and bought again since
            return Ok(());
        }
        let now = Clock::get()?.unix_timestamp;
        match lifecycle::check_usable(license.state, &license.clock(), now) {
            Err(MarketError::LicenseExpired | MarketError::LicenseVoid) => Ok(()),
            _ => err!(MarketError::LicenseStillValid),
        }
    }

    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let receipt = &ctx.accounts.receipt;
        emit!(AccountClosed {
            account: receipt.key(),
            rent_to: ctx.accounts.holder.key(),
            lamports: receipt.get_lamports()
        });
        Ok(())
    }
}
