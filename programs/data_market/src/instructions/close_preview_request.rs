use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::AccountClosed;
use crate::state::{PreviewRequest, PreviewState};

#[derive(Accounts)]
pub struct ClosePreviewRequest<'info> {
    /// The buyer, who paid the rent.
    #[account(mut)]
    pub buyer: Signer<'info>,
    #[account(mut, has_one = buyer @ MarketError::NotPreviewBuyer, close = buyer)]
    pub preview_request: Box<Account<'info, PreviewRequest>>,
}

impl ClosePreviewRequest<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.preview_request.state != PreviewState::Requested, MarketError::PreviewRequestOpen);
        Ok(())
    }

    /// Returns an answered or expired request's rent (its events stay in the ledger).
    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let request = &ctx.accounts.preview_request;
        emit!(AccountClosed { account: request.key(), rent_to: ctx.accounts.buyer.key(), lamports: request.get_lamports() });
        Ok(())
    }
}
