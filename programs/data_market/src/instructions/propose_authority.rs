use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::AuthorityProposed;
use crate::state::{Marketplace, Revision};

#[derive(Accounts)]
pub struct ProposeAuthority<'info> {
    pub authority: Signer<'info>,
    /// Only the current operator may propose its successor.
    #[account(mut, has_one = authority @ MarketError::NotMarketplaceAuthority)]
    pub marketplace: Account<'info, Marketplace>,
}

impl ProposeAuthority<'_> {
    /// First step of a two-step transfer: nothing changes until `new_authority` accepts, so a typo
    /// cannot lock the marketplace. Proposing Pubkey::default() cancels a pending proposal.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, new_authority: Pubkey) -> Result<()> {
        let marketplace = &mut ctx.accounts.marketplace;
        marketplace.pending_authority = new_authority;
        marketplace.touch()?;
        emit!(AuthorityProposed { authority: marketplace.authority, proposed: new_authority });
        Ok(())
    }
}
