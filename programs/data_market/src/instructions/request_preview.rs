use anchor_lang::prelude::*;

use crate::domain::{listing, preview};
use crate::errors::MarketError;
use crate::events::PreviewRequested;
use crate::state::{seeds, Dataset, PreviewPolicy, PreviewRequest, PreviewState, Revision};

#[derive(Accounts)]
#[instruction(nonce: u64)]
pub struct RequestPreview<'info> {
    /// Pays the request's rent (returned by close_preview_request).
    #[account(mut)]
    pub buyer: Signer<'info>,
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset @ MarketError::WrongDataset)]
    pub preview_policy: Box<Account<'info, PreviewPolicy>>,
    /// The buyer picks the nonce (any unused one); it cannot steer the draw, which waits for the hash
    /// of the slot this request lands in.
    #[account(
        init,
        payer = buyer,
        space = 8 + PreviewRequest::INIT_SPACE,
        seeds = [seeds::PREVIEW, dataset.key().as_ref(), buyer.key().as_ref(), &nonce.to_le_bytes()],
        bump
    )]
    pub preview_request: Box<Account<'info, PreviewRequest>>,
    pub system_program: Program<'info, System>,
}

impl RequestPreview<'_> {
    fn validate(&self) -> Result<()> {
        require!(listing::sales_open(self.dataset.state), MarketError::DatasetNotActive);
        Ok(())
    }

    /// Counts the request against the owner's quota and records its slot; the owner answers from the
    /// next slot on with the chunks that slot's hash draws.
    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>, nonce: u64) -> Result<()> {
        let clock = Clock::get()?;
        let policy = &mut ctx.accounts.preview_policy;
        let quota = preview::admit(policy.quota(), &policy.limits(), clock.unix_timestamp)?;
        policy.period_start = quota.period_start;
        policy.used_in_period = quota.used;
        policy.requested = policy.requested.checked_add(1).ok_or(MarketError::Overflow)?;
        policy.touch()?;
        let deadline = preview::answer_deadline(clock.slot)?;
        let request = &mut ctx.accounts.preview_request;
        request.dataset = policy.dataset;
        request.buyer = ctx.accounts.buyer.key();
        request.nonce = nonce;
        request.state = PreviewState::Requested;
        request.requested_slot = clock.slot;
        request.requested_at = clock.unix_timestamp;
        request.answer_deadline_slot = deadline;
        request.chunks_requested = policy.chunks_per_preview;
        request.bump = ctx.bumps.preview_request;
        emit!(PreviewRequested {
            dataset: policy.dataset,
            request: request.key(),
            buyer: request.buyer,
            requested_slot: clock.slot,
            answer_deadline_slot: deadline,
            chunks_requested: request.chunks_requested,
        });
        Ok(())
    }
}
