use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::events::AccountClosed;
use crate::license_token;
use crate::state::{seeds, Dataset, License, Revision};

#[derive(Accounts)]
pub struct CloseLicense<'info> {
    /// The buyer, who paid the licence's rent and gets it back.
    #[account(mut)]
    pub buyer: Signer<'info>,
    /// CHECK: the licence's dataset (address checked), which may already be closed: a closed
    /// dataset must not lock its buyers' rent. When it is live its licence count is updated.
    #[account(mut, address = license.dataset @ MarketError::WrongDataset)]
    pub dataset: UncheckedAccount<'info>,
    #[account(mut, has_one = buyer @ MarketError::NotLicenseBuyer, close = buyer)]
    pub license: Box<Account<'info, License>>,
    /// CHECK: the dataset's licence mint (address checked by the seeds); only handed to Token-2022.
    #[account(mut, seeds = [seeds::LICENSE_MINT, license.dataset.as_ref()], bump)]
    pub license_mint: UncheckedAccount<'info>,
    /// The buyer's licence tokens: those still outstanding for this licence are burned, so they can
    /// never count for a later licence to the same dataset.
    #[account(mut, token::mint = license_mint, token::authority = buyer, token::token_program = token_2022_program)]
    pub buyer_license_account: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_2022_program: Program<'info, Token2022>,
}

impl CloseLicense<'_> {
    fn live_dataset(&self) -> Result<Option<Dataset>> {
        let info = self.dataset.to_account_info();
        if *info.owner != crate::ID {
            return Ok(None);
        }
        let dataset = Dataset::try_deserialize(&mut &info.try_borrow_data()?[..])?;
        Ok(Some(dataset))
    }

    /// Closes a refunded licence, or a settled one whose referral fee is resolved, burning its
    /// remaining licence tokens and returning its rent. The buyer may then buy the dataset again.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let license = &accounts.license;
        require!(license.owes_nothing() && !license.has_dispute, MarketError::LicenseStillOwed);
        let to_burn = match accounts.live_dataset()? {
            Some(mut dataset) => {
                let outstanding = license.tokens_outstanding(dataset.terms.metered);
                require!(accounts.buyer_license_account.amount >= outstanding, MarketError::LicenseTokenNotHeld);
                if license.state != crate::domain::lifecycle::LicenseState::Refunded {
                    dataset.licenses_outstanding =
                        dataset.licenses_outstanding.checked_sub(1).ok_or(MarketError::Overflow)?;
                    dataset.touch()?;
                    let info = accounts.dataset.to_account_info();
                    dataset.try_serialize(&mut &mut info.try_borrow_mut_data()?[..])?;
                }
                outstanding
            }
            // the dataset is gone, and with it any use of its tokens: burn whatever is left
            None => accounts.buyer_license_account.amount,
        };
        if to_burn > 0 {
            license_token::burn_as_holder(
                &accounts.buyer,
                &accounts.license_mint.to_account_info(),
                &accounts.buyer_license_account,
                &accounts.token_2022_program,
                to_burn,
            )?;
        }
        emit!(AccountClosed {
            account: license.key(),
            rent_to: accounts.buyer.key(),
            lamports: license.get_lamports()
        });
        Ok(())
    }
}
