use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::AuthorityTransferred;
use crate::state::{Marketplace, Revision};

#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    /// Must be the proposed authority.
    pub new_authority: Signer<'info>,
    #[account(mut)]
    pub marketplace: Account<'info, Marketplace>,
}

impl AcceptAuthority<'_> {
    fn validate(&self) -> Result<()> {
        require_keys_neq!(self.marketplace.pending_authority, Pubkey::default(), MarketError::NoPendingAuthority);
        require_keys_eq!(
            self.marketplace.pending_authority,
            self.new_authority.key(),
            MarketError::NotPendingAuthority
        );
        Ok(())
    }

    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let marketplace = &mut ctx.accounts.marketplace;
        let previous = marketplace.authority;
        marketplace.authority = marketplace.pending_authority;
        marketplace.pending_authority = Pubkey::default();
        marketplace.touch()?;
        emit!(AuthorityTransferred { previous, authority: marketplace.authority });
        Ok(())
    }
}
