use anchor_lang::prelude::*;

use crate::domain::listing::DatasetState;
use crate::errors::MarketError;
use crate::events::ContentHashReleased;
use crate::state::{ContentHashRecord, Dataset, Marketplace, Revision};

#[derive(Accounts)]
pub struct ReleaseContentHash<'info> {
    pub authority: Signer<'info>,
    #[account(has_one = authority @ MarketError::NotMarketplaceAuthority)]
    pub marketplace: Box<Account<'info, Marketplace>>,
    #[account(mut, has_one = dataset)]
    pub content_hash_record: Box<Account<'info, ContentHashRecord>>,
    /// The dataset holding the hash; the operator must have revoked it first.
    pub dataset: Box<Account<'info, Dataset>>,
}

impl ReleaseContentHash<'_> {
    /// Moderation of content-hash squatting: after revoking a dataset registered by someone who does
    /// not own the data (with a reason code, see revoke_dataset), the operator lets the rightful owner
    /// `claimant` register the hash. The revoked dataset keeps its licences and escrow until closed.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, claimant: Pubkey) -> Result<()> {
        require!(ctx.accounts.dataset.state == DatasetState::Revoked, MarketError::DatasetNotRevoked);
        require_keys_neq!(claimant, Pubkey::default(), MarketError::NotHashClaimant);
        let record = &mut ctx.accounts.content_hash_record;
        record.claimant = claimant;
        record.touch()?;
        emit!(ContentHashReleased { content_hash: record.content_hash, revoked_dataset: record.dataset, claimant });
        Ok(())
    }
}
