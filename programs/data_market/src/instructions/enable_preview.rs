use anchor_lang::prelude::*;

use crate::domain::listing;
use crate::domain::preview::{check_chunking, check_limits, PreviewLimits};
use crate::errors::MarketError;
use crate::events::PreviewPolicySet;
use crate::state::{seeds, Dataset, PreviewPolicy};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct EnablePreviewArgs {
    /// Merkle root over the plaintext's chunks; fixed from now on.
    pub chunk_tree_root: [u8; 32],
    pub chunk_size: u32,
    pub chunk_count: u32,
    pub chunks_per_preview: u8,
    pub max_per_period: u16,
    pub period_secs: u32,
}

impl EnablePreviewArgs {
    pub fn limits(&self) -> PreviewLimits {
        PreviewLimits {
            chunks_per_preview: self.chunks_per_preview,
            max_per_period: self.max_per_period,
            period_secs: self.period_secs,
        }
    }
}

#[derive(Accounts)]
pub struct EnablePreview<'info> {
    /// Pays the policy's rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(has_one = owner @ MarketError::NotDatasetOwner)]
    pub dataset: Box<Account<'info, Dataset>>,
    /// One per dataset: a second call fails, so the root cannot be swapped after buyers saw it.
    #[account(
        init,
        payer = owner,
        space = 8 + PreviewPolicy::INIT_SPACE,
        seeds = [seeds::PREVIEW_POLICY, dataset.key().as_ref()],
        bump
    )]
    pub preview_policy: Box<Account<'info, PreviewPolicy>>,
    pub system_program: Program<'info, System>,
}

impl EnablePreview<'_> {
    fn validate(&self, args: &EnablePreviewArgs) -> Result<()> {
        require!(listing::sales_open(self.dataset.state), MarketError::DatasetNotActive);
        check_chunking(args.chunk_size, args.chunk_count)?;
        check_limits(&args.limits(), args.chunk_count)?;
        Ok(())
    }

    /// The owner commits to its plaintext's chunk tree and opens previews under its limits.
    #[inline(never)]
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<Self>, args: EnablePreviewArgs) -> Result<()> {
        let dataset = ctx.accounts.dataset.key();
        let policy = &mut ctx.accounts.preview_policy;
        policy.dataset = dataset;
        policy.chunk_tree_root = args.chunk_tree_root;
        policy.chunk_size = args.chunk_size;
        policy.chunk_count = args.chunk_count;
        policy.set_limits(&args.limits());
        policy.bump = ctx.bumps.preview_policy;
        emit!(PreviewPolicySet {
            dataset,
            chunk_tree_root: args.chunk_tree_root,
            chunk_size: args.chunk_size,
            chunk_count: args.chunk_count,
            chunks_per_preview: args.chunks_per_preview,
            max_per_period: args.max_per_period,
            period_secs: args.period_secs,
        });
        Ok(())
    }
}
