use anchor_lang::prelude::*;

use crate::domain::preview;
use crate::errors::MarketError;
use crate::events::PreviewExpired;
use crate::state::{PreviewPolicy, PreviewRequest, PreviewState, Revision};

#[derive(Accounts)]
pub struct ExpirePreview<'info> {
    /// Anyone: usually the buyer, whose client shows the owner did not answer.
    pub caller: Signer<'info>,
    #[account(mut, constraint = preview_policy.dataset == preview_request.dataset @ MarketError::WrongDataset)]
    pub preview_policy: Box<Account<'info, PreviewPolicy>>,
    #[account(mut)]
    pub preview_request: Box<Account<'info, PreviewRequest>>,
}

impl ExpirePreview<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.preview_request.state == PreviewState::Requested, MarketError::PreviewNotPending);
        Ok(())
    }

    /// Puts an unanswered request on record as expired once its answer window has passed; the
    /// policy counts it, so every buyer sees how often the owner failed to answer.
    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let request = &mut ctx.accounts.preview_request;
        preview::check_expirable(request.requested_slot, Clock::get()?.slot)?;
        request.state = PreviewState::Expired;
        request.touch()?;
        let policy = &mut ctx.accounts.preview_policy;
        policy.expired = policy.expired.checked_add(1).ok_or(MarketError::Overflow)?;
        policy.touch()?;
        emit!(PreviewExpired { dataset: request.dataset, request: request.key(), buyer: request.buyer });
        Ok(())
    }
}
