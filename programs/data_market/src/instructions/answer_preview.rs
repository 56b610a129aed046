use anchor_lang::prelude::*;
use anchor_lang::compat::solana_sysvar::slot_hashes;

use crate::constants::MAX_CID_LEN;
use crate::domain::preview;
use crate::domain::validation::bounded_text;
use crate::errors::MarketError;
use crate::events::PreviewAnswered;
use crate::state::{Dataset, PreviewPolicy, PreviewRequest, PreviewState, Revision};

#[derive(Accounts)]
pub struct AnswerPreview<'info> {
    /// The dataset owner or its delivery delegate.
    pub deliverer: Signer<'info>,
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset @ MarketError::WrongDataset)]
    pub preview_policy: Box<Account<'info, PreviewPolicy>>,
    #[account(mut, has_one = dataset @ MarketError::WrongDataset)]
    pub preview_request: Box<Account<'info, PreviewRequest>>,
    /// CHECK: the SlotHashes sysvar (address checked): the chain's record of each recent slot's hash,
    /// which nobody can substitute.
    #[account(address = slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl AnswerPreview<'_> {
    fn validate(&self, answer_cid: &str) -> Result<()> {
        require!(self.dataset.may_deliver(&self.deliverer.key()), MarketError::NotDeliveryAuthority);
        require!(self.preview_request.state == PreviewState::Requested, MarketError::PreviewNotPending);
        bounded_text(answer_cid, MAX_CID_LEN, MarketError::InvalidCiphertextCid)?;
        Ok(())
    }

    /// Draws the request's chunks from its slot's hash and records where the owner published them
    /// with their Merkle proofs. The buyer checks the bundle against these indices and the root.
    #[inline(never)]
    #[access_control(ctx.accounts.validate(&answer_cid))]
    pub fn handler(ctx: Context<Self>, answer_cid: String) -> Result<()> {
        let slot = Clock::get()?.slot;
        let request = &mut ctx.accounts.preview_request;
        preview::check_answer_slot(request.requested_slot, slot)?;
        let slot_hash = {
            let data = ctx.accounts.slot_hashes.try_borrow_data()?;
            preview::find_slot_hash(&data, request.requested_slot).ok_or(MarketError::SlotHashUnavailable)?
        };
        let policy = &mut ctx.accounts.preview_policy;
        let key = request.key();
        request.chunks = preview::draw_chunks(&slot_hash, &key.to_bytes(), policy.chunk_count, request.chunks_requested)?;
        request.state = PreviewState::Answered;
        request.answered_slot = slot;
        request.answer_cid = answer_cid;
        request.touch()?;
        policy.answered = policy.answered.checked_add(1).ok_or(MarketError::Overflow)?;
        policy.touch()?;
        emit!(PreviewAnswered {
            dataset: policy.dataset,
            request: key,
            chunks: request.chunks,
            chunks_requested: request.chunks_requested,
            answer_cid: request.answer_cid.clone(),
        });
        Ok(())
    }
}
