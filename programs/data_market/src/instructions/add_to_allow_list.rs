use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::AllowListChanged;
use crate::pda::{self, create_program_account};
use crate::state::{seeds, AllowListEntry, Dataset, Revision};

#[derive(Accounts)]
#[instruction(buyer: Pubkey)]
pub struct AddToAllowList<'info> {
    /// The dataset owner; pays the entry's rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ MarketError::NotDatasetOwner)]
    pub dataset: Box<Account<'info, Dataset>>,
    /// CHECK: the buyer's entry PDA (address checked against its seeds by pda::canonical_bump). Created in the handler, so
    /// lamports sent to the address beforehand cannot block it.
    #[account(mut)]
    pub entry: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> AddToAllowList<'info> {
    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>, buyer: Pubkey) -> Result<()> {
        let accounts = ctx.accounts;
        require_keys_neq!(*accounts.entry.owner, crate::ID, MarketError::AlreadyAllowListed);
        let dataset = accounts.dataset.key();
        let bump = pda::canonical_bump(&accounts.entry.key(), &[seeds::ALLOW_LIST, dataset.as_ref(), buyer.as_ref()])?;
        let entry_seeds: [&[u8]; 4] = [seeds::ALLOW_LIST, dataset.as_ref(), buyer.as_ref(), &[bump]];
        let entry = AllowListEntry { revision: 0, dataset, buyer, bump };
        create_program_account(
            &accounts.owner.to_account_info(),
            &accounts.entry.to_account_info(),
            &accounts.system_program.to_account_info(),
            &entry_seeds,
            &entry,
        )?;
        let entries = &mut accounts.dataset.allow_list_entries;
        *entries = entries.checked_add(1).ok_or(MarketError::Overflow)?;
        accounts.dataset.touch()?;
        emit!(AllowListChanged { dataset, buyer, allowed: true });
        Ok(())
    }
}
