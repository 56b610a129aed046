use anchor_lang::prelude::*;

use crate::domain::listing;
use crate::errors::MarketError;
use crate::events::DatasetStateChanged;
use crate::state::{Dataset, Marketplace, Revision};

#[derive(Accounts)]
pub struct RevokeDataset<'info> {
    pub authority: Signer<'info>,
    /// Only the operator moderates.
    #[account(has_one = authority @ MarketError::NotMarketplaceAuthority)]
    pub marketplace: Box<Account<'info, Marketplace>>,
    #[account(mut)]
    pub dataset: Box<Account<'info, Dataset>>,
}

impl RevokeDataset<'_> {
    /// Moderation: the dataset stops selling and its licences can no longer record use. Escrowed
    /// payments still follow delivery, refund, dispute and settlement as before.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, reason: u16) -> Result<()> {
        let dataset = &mut ctx.accounts.dataset;
        dataset.state = listing::revoke(dataset.state)?;
        dataset.revoke_reason = reason;
        dataset.updated_at = Clock::get()?.unix_timestamp;
        dataset.touch()?;
        emit!(DatasetStateChanged { dataset: dataset.key(), state: dataset.state, reason });
        Ok(())
    }
}
