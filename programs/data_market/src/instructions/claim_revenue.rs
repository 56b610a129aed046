use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MarketError;
use crate::events::RevenueClaimed;
use crate::state::{Dataset, Revision};
use crate::vault;

#[derive(Accounts)]
pub struct ClaimRevenue<'info> {
    /// A recipient in the dataset's split.
    pub recipient: Signer<'info>,
    #[account(mut, has_one = payment_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Where the recipient wants the money: any account of the payment mint it owns.
    #[account(mut, token::mint = payment_mint, token::authority = recipient,
        token::token_program = payment_token_program)]
    pub recipient_account: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl<'info> ClaimRevenue<'info> {
    /// Pays the recipient everything settled for it so far: one ledger slot, whatever the number of sales.
    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let recipient = accounts.recipient.key();
        let index = accounts.dataset.recipient_index(&recipient).ok_or(MarketError::NotARecipient)?;
        let amount = accounts.dataset.ledger.claim(index)?;
        vault::pay_out(
            &accounts.dataset,
            &accounts.escrow_vault,
            Some(&accounts.recipient_account),
            &accounts.payment_mint,
            &accounts.payment_token_program,
            amount,
        )?;
        accounts.dataset.touch()?;
        emit!(RevenueClaimed { dataset: accounts.dataset.key(), recipient, amount });
        Ok(())
    }
}
