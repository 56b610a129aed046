use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::domain::lifecycle::LicenseState;
use crate::errors::MarketError;
use crate::events::ReferralFeeClaimed;
use crate::state::{Dataset, License, Revision};
use crate::vault;

#[derive(Accounts)]
pub struct ClaimReferralFee<'info> {
    /// The front-end named as referrer when the licence was bought.
    pub referrer: Signer<'info>,
    #[account(mut, has_one = payment_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset, has_one = referrer @ MarketError::NotTheReferrer)]
    pub license: Box<Account<'info, License>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = payment_mint, token::authority = referrer,
        token::token_program = payment_token_program)]
    pub referrer_account: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl<'info> ClaimReferralFee<'info> {
    fn validate(&self) -> Result<()> {
        require!(self.license.state == LicenseState::Settled, MarketError::LicenseNotSettled);
        require!(!self.license.referral_fee_resolved && self.license.referral_fee > 0, MarketError::NothingToClaim);
        Ok(())
    }

    /// Pays the referral fee of one settled licence, once.
    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let amount = accounts.license.referral_fee;
        accounts.dataset.ledger.pay_referral(amount)?;
        accounts.license.referral_fee_resolved = true;
        vault::pay_out(
            &accounts.dataset,
            &accounts.escrow_vault,
            Some(&accounts.referrer_account),
            &accounts.payment_mint,
            &accounts.payment_token_program,
            amount,
        )?;
        accounts.dataset.touch()?;
        accounts.license.touch()?;
        emit!(ReferralFeeClaimed {
            dataset: accounts.dataset.key(),
            license: accounts.license.key(),
            referrer: accounts.referrer.key(),
            amount,
        });
        Ok(())
    }
}
