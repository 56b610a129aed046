use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::{AccountClosed, AllowListChanged};
use crate::state::{AllowListEntry, Dataset, Revision};

#[derive(Accounts)]
pub struct RemoveFromAllowList<'info> {
    /// The dataset owner, who paid the entry's rent and gets it back.
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ MarketError::NotDatasetOwner)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset, close = owner)]
    pub entry: Box<Account<'info, AllowListEntry>>,
}

impl RemoveFromAllowList<'_> {
    #[inline(never)]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let entries = &mut ctx.accounts.dataset.allow_list_entries;
        *entries = entries.checked_sub(1).ok_or(MarketError::Overflow)?;
        ctx.accounts.dataset.touch()?;
        let entry = &ctx.accounts.entry;
        emit!(AllowListChanged { dataset: entry.dataset, buyer: entry.buyer, allowed: false });
        emit!(AccountClosed {
            account: entry.key(),
            rent_to: ctx.accounts.owner.key(),
            lamports: entry.get_lamports()
        });
        Ok(())
    }
}
