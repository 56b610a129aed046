use anchor_lang::prelude::*;

use crate::domain::lifecycle::LicenseState;
use crate::errors::MarketError;
use crate::events::AccountClosed;
use crate::state::{Dataset, License};

#[derive(Accounts)]
pub struct CloseLicense<'info> {
    /// The buyer, who paid the licence's rent and gets it back.
    #[account(mut)]
    pub buyer: Signer<'info>,
    #[account(mut)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset, has_one = buyer @ MarketError::NotLicenseBuyer, close = buyer)]
    pub license: Box<Account<'info, License>>,
}

impl CloseLicense<'_> {
    fn validate(&self) -> Result<()> {
        let license = &self.license;
        let referral_settled = license.referral_fee == 0 || license.referral_fee_claimed;
        let nothing_owed = match license.state {
            LicenseState::Refunded => true,
            LicenseState::Settled => referral_settled,
            LicenseState::AwaitingKey | LicenseState::Delivered | LicenseState::Disputed => false,
        };
        require!(nothing_owed && !license.has_dispute, MarketError::LicenseStillOwed);
        Ok(())
    }

    /// Closes a refunded licence, or a settled one whose referral fee is paid, returning its rent.
    /// The buyer may then buy the dataset again.
    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let license = &ctx.accounts.license;
        if license.state != LicenseState::Refunded {
            let dataset = &mut ctx.accounts.dataset;
            dataset.licenses_outstanding = dataset.licenses_outstanding.checked_sub(1).ok_or(MarketError::Overflow)?;
        }
        emit!(AccountClosed {
            account: license.key(),
            rent_to: ctx.accounts.buyer.key(),
            lamports: license.get_lamports()
        });
        Ok(())
    }
}
