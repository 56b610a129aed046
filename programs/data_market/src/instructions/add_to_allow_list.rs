use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::AllowListChanged;
use crate::state::{seeds, AllowListEntry, Dataset};

#[derive(Accounts)]
#[instruction(buyer: Pubkey)]
pub struct AddToAllowList<'info> {
    /// The dataset owner; pays the entry's rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(has_one = owner @ MarketError::NotDatasetOwner)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(init, payer = owner, space = 8 + AllowListEntry::INIT_SPACE,
        seeds = [seeds::ALLOW_LIST, dataset.key().as_ref(), buyer.as_ref()], bump)]
    pub entry: Box<Account<'info, AllowListEntry>>,
    pub system_program: Program<'info, System>,
}

impl AddToAllowList<'_> {
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, buyer: Pubkey) -> Result<()> {
        let dataset = ctx.accounts.dataset.key();
        ctx.accounts.entry.set_inner(AllowListEntry { dataset, buyer, bump: ctx.bumps.entry });
        emit!(AllowListChanged { dataset, buyer, allowed: true });
        Ok(())
    }
}
