use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::FrontEndChanged;
use crate::pda::create_program_account;
use crate::state::{seeds, FrontEnd, Marketplace};

#[derive(Accounts)]
#[instruction(wallet: Pubkey)]
pub struct RegisterFrontEnd<'info> {
    /// The operator; pays the registration's rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(has_one = authority @ MarketError::NotMarketplaceAuthority)]
    pub marketplace: Box<Account<'info, Marketplace>>,
    /// CHECK: the front-end's registration PDA (address checked by the seeds), created in the handler.
    #[account(mut, seeds = [seeds::FRONT_END, wallet.as_ref()], bump)]
    pub front_end: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> RegisterFrontEnd<'info> {
    /// Registers `wallet` as a front-end that may be named as referrer of purchases.
    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>, wallet: Pubkey) -> Result<()> {
        require_keys_neq!(wallet, Pubkey::default(), MarketError::InvalidReferrer);
        let accounts = ctx.accounts;
        require_keys_neq!(*accounts.front_end.owner, crate::ID, MarketError::InvalidReferrer);
        let bump = ctx.bumps.front_end;
        let front_end = FrontEnd { revision: 0, wallet, registered_at: Clock::get()?.unix_timestamp, bump };
        let front_end_seeds: [&[u8]; 3] = [seeds::FRONT_END, wallet.as_ref(), &[bump]];
        create_program_account(
            &accounts.authority.to_account_info(),
            &accounts.front_end.to_account_info(),
            &accounts.system_program.to_account_info(),
            &front_end_seeds,
            &front_end,
        )?;
        emit!(FrontEndChanged { wallet, registered: true });
        Ok(())
    }
}
