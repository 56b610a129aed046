use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::AccountClosed;
use crate::state::{Dispute, License, Revision};

#[derive(Accounts)]
pub struct CloseDispute<'info> {
    /// The buyer who opened it and paid its rent.
    #[account(mut)]
    pub buyer: Signer<'info>,
    #[account(mut, has_one = buyer @ MarketError::NotLicenseBuyer)]
    pub license: Box<Account<'info, License>>,
    #[account(mut, has_one = license, close = buyer)]
    pub dispute: Box<Account<'info, Dispute>>,
}

impl CloseDispute<'_> {
    /// A ruled dispute's record can go; the ruling stays in the licence and in the event log.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        require!(ctx.accounts.dispute.ruling.is_some(), MarketError::DisputeNotRuled);
        ctx.accounts.license.has_dispute = false;
        ctx.accounts.license.touch()?;
        let dispute = &ctx.accounts.dispute;
        emit!(AccountClosed {
            account: dispute.key(),
            rent_to: ctx.accounts.buyer.key(),
            lamports: dispute.get_lamports()
        });
        Ok(())
    }
}
