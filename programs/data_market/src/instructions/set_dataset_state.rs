use anchor_lang::prelude::*;

use crate::domain::listing::{self, DatasetState};
use crate::errors::MarketError;
use crate::events::DatasetStateChanged;
use crate::state::{Dataset, Revision};

#[derive(Accounts)]
pub struct SetDatasetState<'info> {
    pub owner: Signer<'info>,
    /// Only its owner moves it through its lifecycle.
    #[account(mut, has_one = owner @ MarketError::NotDatasetOwner)]
    pub dataset: Box<Account<'info, Dataset>>,
}

impl SetDatasetState<'_> {
    /// Active, OrderingPaused and Unlisted interchange; any of them may be Deprecated or Retired;
    /// Deprecated may be Retired. Retired and Revoked are final.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, state: DatasetState) -> Result<()> {
        let dataset = &mut ctx.accounts.dataset;
        dataset.state = listing::owner_transition(dataset.state, state)?;
        dataset.updated_at = Clock::get()?.unix_timestamp;
        dataset.touch()?;
        emit!(DatasetStateChanged { dataset: dataset.key(), state, reason: 0 });
        Ok(())
    }
}
