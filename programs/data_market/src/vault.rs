//! Token movements in and out of a dataset's escrow vault. Every call is paired, in its handler,
//! with the ledger update of the same amount.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::MarketError;
use crate::state::Dataset;

/// The buyer pays `amount` into the vault. `from` may be absent when nothing is paid (a free
/// dataset), so a buyer needs no account of the payment mint to license it.
pub fn pay_in<'info>(
    from: Option<&InterfaceAccount<'info, TokenAccount>>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    authority: &Signer<'info>,
    token_program: &Interface<'info, TokenInterface>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let from = from.ok_or(MarketError::PaymentAccountRequired)?;
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: vault.to_account_info(),
        authority: authority.to_account_info(),
    };
    token_interface::transfer_checked(CpiContext::new(token_program.key(), accounts), amount, mint.decimals)
}

/// The vault (owned by the dataset PDA) pays `amount` out. `to` may be absent when `amount` is 0
/// (e.g. refunding a free licence).
pub fn pay_out<'info>(
    dataset: &Account<'info, Dataset>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    to: Option<&InterfaceAccount<'info, TokenAccount>>,
    mint: &InterfaceAccount<'info, Mint>,
    token_program: &Interface<'info, TokenInterface>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let to = to.ok_or(MarketError::PaymentAccountRequired)?;
    let accounts = TransferChecked {
        from: vault.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority: dataset.to_account_info(),
    };
    let seeds = dataset.signer_seeds();
    let signer: &[&[&[u8]]] = &[&seeds];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(token_program.key(), accounts, signer),
        amount,
        mint.decimals,
    )
}
