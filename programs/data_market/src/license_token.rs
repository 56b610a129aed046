//! Minting and burning licence tokens (Token-2022). The dataset PDA is the mint authority and the
//! mint's permanent delegate, so it can void a licence by burning its tokens wherever they sit.
use anchor_lang::prelude::*;
use anchor_spl::token_2022::{self, Burn, MintTo, Token2022};
use anchor_spl::token_interface::TokenAccount;

use crate::state::Dataset;

pub fn mint<'info>(
    dataset: &Account<'info, Dataset>,
    license_mint: &AccountInfo<'info>,
    to: &InterfaceAccount<'info, TokenAccount>,
    token_program: &Program<'info, Token2022>,
    amount: u64,
) -> Result<()> {
    let seeds = dataset.signer_seeds();
    let signer: &[&[&[u8]]] = &[&seeds];
    let accounts =
        MintTo { mint: license_mint.clone(), to: to.to_account_info(), authority: dataset.to_account_info() };
    token_2022::mint_to(CpiContext::new_with_signer(token_program.key(), accounts, signer), amount)
}

/// Burns as the permanent delegate (refunds and rulings: the holder does not sign).
pub fn burn_as_delegate<'info>(
    dataset: &Account<'info, Dataset>,
    license_mint: &AccountInfo<'info>,
    from: &InterfaceAccount<'info, TokenAccount>,
    token_program: &Program<'info, Token2022>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let seeds = dataset.signer_seeds();
    let signer: &[&[&[u8]]] = &[&seeds];
    let accounts =
        Burn { mint: license_mint.clone(), from: from.to_account_info(), authority: dataset.to_account_info() };
    token_2022::burn(CpiContext::new_with_signer(token_program.key(), accounts, signer), amount)
}

/// Burns with the holder's own signature (a metered licence spending a credit).
pub fn burn_as_holder<'info>(
    holder: &Signer<'info>,
    license_mint: &AccountInfo<'info>,
    from: &InterfaceAccount<'info, TokenAccount>,
    token_program: &Program<'info, Token2022>,
    amount: u64,
) -> Result<()> {
    let accounts =
        Burn { mint: license_mint.clone(), from: from.to_account_info(), authority: holder.to_account_info() };
    token_2022::burn(CpiContext::new(token_program.key(), accounts), amount)
}
