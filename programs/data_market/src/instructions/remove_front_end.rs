use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::{AccountClosed, FrontEndChanged};
use crate::state::{FrontEnd, Marketplace};

#[derive(Accounts)]
pub struct RemoveFrontEnd<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(has_one = authority @ MarketError::NotMarketplaceAuthority)]
    pub marketplace: Box<Account<'info, Marketplace>>,
    #[account(mut, close = authority)]
    pub front_end: Box<Account<'info, FrontEnd>>,
}

impl RemoveFrontEnd<'_> {
    /// The front-end earns no referral fee on new purchases; fees of licences it already referred
    /// stay its own to claim.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let front_end = &ctx.accounts.front_end;
        emit!(FrontEndChanged { wallet: front_end.wallet, registered: false });
        emit!(AccountClosed {
            account: front_end.key(),
            rent_to: ctx.accounts.authority.key(),
            lamports: front_end.get_lamports()
        });
        Ok(())
    }
}
