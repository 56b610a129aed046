use anchor_lang::prelude::*;

use crate::domain::preview::{check_limits, PreviewLimits};
use crate::errors::MarketError;
use crate::events::PreviewPolicySet;
use crate::state::{Dataset, PreviewPolicy, Revision};

#[derive(Accounts)]
pub struct SetPreviewLimits<'info> {
    pub owner: Signer<'info>,
    #[account(has_one = owner @ MarketError::NotDatasetOwner)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset @ MarketError::WrongDataset)]
    pub preview_policy: Box<Account<'info, PreviewPolicy>>,
}

impl SetPreviewLimits<'_> {
    fn validate(&self, limits: &PreviewLimits) -> Result<()> {
        Ok(check_limits(limits, self.preview_policy.chunk_count)?)
    }

    /// Changes how many chunks a preview shows and how often (0 chunks pauses previews). Requests
    /// already made keep the chunk count they were made with; the root never changes.
    #[inline(never)]
    #[access_control(ctx.accounts.validate(&PreviewLimits { chunks_per_preview, max_per_period, period_secs }))]
    pub fn handler(ctx: Context<Self>, chunks_per_preview: u8, max_per_period: u16, period_secs: u32) -> Result<()> {
        let policy = &mut ctx.accounts.preview_policy;
        policy.set_limits(&PreviewLimits { chunks_per_preview, max_per_period, period_secs });
        policy.touch()?;
        emit!(PreviewPolicySet {
            dataset: policy.dataset,
            chunk_tree_root: policy.chunk_tree_root,
            chunk_size: policy.chunk_size,
            chunk_count: policy.chunk_count,
            chunks_per_preview,
            max_per_period,
            period_secs,
        });
        Ok(())
    }
}
