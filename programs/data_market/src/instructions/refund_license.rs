use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::domain::lifecycle;
use crate::errors::MarketError;
use crate::events::LicenseRefunded;
use crate::state::{Dataset, License, Revision};
use crate::{license_token, vault};

#[derive(Accounts)]
pub struct RefundLicense<'info> {
    /// Anyone may trigger a due refund; the money only goes to the buyer.
    pub caller: Signer<'info>,
    #[account(mut, has_one = payment_mint, has_one = license_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset)]
    pub license: Box<Account<'info, License>>,
    /// CHECK: the dataset's licence mint (bound by has_one on the dataset); only handed to Token-2022.
    #[account(mut)]
    pub license_mint: UncheckedAccount<'info>,
    /// A licence token account of the buyer: one token is burned from it.
    #[account(mut, token::mint = license_mint, token::authority = license.buyer,
        token::token_program = token_2022_program)]
    pub buyer_license_account: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Receives the refund: must belong to the buyer.
    #[account(mut, token::mint = payment_mint, token::authority = license.buyer,
        token::token_program = payment_token_program)]
    /// Absent when no money moves (a free dataset).
    pub buyer_payment_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
    pub token_2022_program: Program<'info, Token2022>,
}

impl<'info> RefundLicense<'info> {
    /// The key was not delivered within the delivery window: the buyer gets the full price back and
    /// the licence is void for ever (state Refunded, licence token burned by the dataset PDA, the
    /// mint's permanent delegate).
    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let now = Clock::get()?.unix_timestamp;
        let state = lifecycle::refund(
            accounts.license.state,
            &accounts.license.clock(),
            accounts.dataset.delivery_window_secs,
            now,
        )?;
        // every credit bought is still unused before delivery (an unmetered licence has one)
        let credits = accounts.license.credits;
        require!(accounts.buyer_license_account.amount >= credits, MarketError::LicenseTokenNotHeld);

        let amount = accounts.license.price_paid;
        vault::pay_out(
            &accounts.dataset,
            &accounts.escrow_vault,
            accounts.buyer_payment_account.as_deref(),
            &accounts.payment_mint,
            &accounts.payment_token_program,
            amount,
        )?;
        license_token::burn_as_delegate(
            &accounts.dataset,
            &accounts.license_mint.to_account_info(),
            &accounts.buyer_license_account,
            &accounts.token_2022_program,
            credits,
        )?;
        let dataset = &mut accounts.dataset;
        dataset.ledger.refund(amount)?;
        dataset.licenses_outstanding = dataset.licenses_outstanding.checked_sub(1).ok_or(MarketError::Overflow)?;
        dataset.finish_pending()?;
        let license = &mut accounts.license;
        license.state = state;
        license.refunded_amount = amount;
        license.touch()?;
        dataset.touch()?;
        emit!(LicenseRefunded { dataset: dataset.key(), license: license.key(), buyer: license.buyer, amount });
        Ok(())
    }
}
