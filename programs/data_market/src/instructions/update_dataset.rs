use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::DatasetUpdated;
use crate::state::{Dataset, Revision};

/// Each field left `None` keeps its value.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateDatasetArgs {
    /// New price for future purchases and renewals; escrowed payments keep theirs. Buyers are
    /// protected from a raise by their `max_price`.
    pub price: Option<u64>,
    /// Key allowed to deliver sealed keys for the owner; Pubkey::default() removes it.
    pub delivery_delegate: Option<Pubkey>,
    /// Restrict purchases to buyers on the allow-list (or lift the restriction).
    pub allow_list_enabled: Option<bool>,
}

#[derive(Accounts)]
pub struct UpdateDataset<'info> {
    pub owner: Signer<'info>,
    /// Only its owner may change it.
    #[account(mut, has_one = owner @ MarketError::NotDatasetOwner)]
    pub dataset: Box<Account<'info, Dataset>>,
}

impl UpdateDataset<'_> {
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, args: UpdateDatasetArgs) -> Result<()> {
        let dataset = &mut ctx.accounts.dataset;
        if let Some(price) = args.price {
            dataset.price = price;
        }
        if let Some(delegate) = args.delivery_delegate {
            dataset.delivery_delegate = delegate;
        }
        if let Some(enabled) = args.allow_list_enabled {
            dataset.allow_list_enabled = enabled;
        }
        dataset.updated_at = Clock::get()?.unix_timestamp;
        dataset.touch()?;
        emit!(DatasetUpdated {
            dataset: dataset.key(),
            price: dataset.price,
            delivery_delegate: dataset.delivery_delegate,
            allow_list_enabled: dataset.allow_list_enabled,
        });
        Ok(())
    }
}
