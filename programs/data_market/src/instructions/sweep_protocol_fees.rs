use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MarketError;
use crate::events::ProtocolFeesSwept;
use crate::state::{Dataset, Marketplace, Revision};
use crate::vault;

#[derive(Accounts)]
pub struct SweepProtocolFees<'info> {
    /// Anyone may sweep: the fees can only go to the treasury.
    pub caller: Signer<'info>,
    pub marketplace: Box<Account<'info, Marketplace>>,
    #[account(mut, has_one = payment_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// A token account of the payment mint owned by the marketplace treasury.
    #[account(mut, token::mint = payment_mint, token::token_program = payment_token_program,
        constraint = treasury_account.owner == marketplace.treasury @ MarketError::WrongTreasury)]
    pub treasury_account: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl<'info> SweepProtocolFees<'info> {
    /// Moves the protocol fees this dataset's sales have accrued to the treasury.
    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let amount = accounts.dataset.ledger.sweep()?;
        vault::pay_out(
            &accounts.dataset,
            &accounts.escrow_vault,
            Some(&accounts.treasury_account),
            &accounts.payment_mint,
            &accounts.payment_token_program,
            amount,
        )?;
        accounts.dataset.touch()?;
        emit!(ProtocolFeesSwept {
            dataset: accounts.dataset.key(),
            treasury_account: accounts.treasury_account.key(),
            amount,
        });
        Ok(())
    }
}
