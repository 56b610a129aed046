use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::domain::fees::breakdown;
use crate::domain::{lifecycle, listing};
use crate::errors::MarketError;
use crate::events::LicenseRenewed;
use crate::state::{Dataset, License, Marketplace, Revision};
use crate::vault;

#[derive(Accounts)]
pub struct RenewLicense<'info> {
    pub buyer: Signer<'info>,
    pub marketplace: Box<Account<'info, Marketplace>>,
    #[account(mut, has_one = payment_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    /// The buyer's own licence to this dataset.
    #[account(mut, has_one = dataset, has_one = buyer @ MarketError::NotLicenseBuyer)]
    pub license: Box<Account<'info, License>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = payment_mint, token::token_program = payment_token_program)]
    /// Absent when no money moves (a free dataset).
    pub buyer_payment_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl<'info> RenewLicense<'info> {
    fn validate(&self, max_price: u64) -> Result<()> {
        require!(!self.marketplace.purchases_paused, MarketError::PurchasesPaused);
        require!(listing::sales_open(self.dataset.state), MarketError::DatasetNotActive);
        require!(!self.dataset.terms.metered, MarketError::MeteredNotRenewable);
        require!(self.dataset.price <= max_price, MarketError::PriceAboveMax);
        Ok(())
    }

    /// Extends a settled licence by the dataset's duration at today's price. The key is already in
    /// the buyer's hands, so the payment is not escrowed: it accrues to the recipients at once (no
    /// referral fee on renewals).
    #[inline(never)]
    #[access_control(ctx.accounts.validate(max_price))]
    pub fn handler(ctx: Context<'info, Self>, max_price: u64) -> Result<()> {
        let accounts = ctx.accounts;
        let now = Clock::get()?.unix_timestamp;
        let expires_at = lifecycle::renew(
            accounts.license.state,
            &accounts.license.clock(),
            accounts.dataset.terms.duration_secs,
            now,
        )?;
        let fees = breakdown(accounts.dataset.price, accounts.marketplace.protocol_fee_bps, 0)?;
        vault::pay_in(
            accounts.buyer_payment_account.as_deref(),
            &accounts.escrow_vault,
            &accounts.payment_mint,
            &accounts.buyer,
            &accounts.payment_token_program,
            fees.gross,
        )?;
        accounts.dataset.accrue_revenue(&fees)?;
        let license = &mut accounts.license;
        license.expires_at = expires_at;
        license.renewals = license.renewals.checked_add(1).ok_or(MarketError::Overflow)?;
        license.touch()?;
        accounts.dataset.touch()?;
        emit!(LicenseRenewed {
            dataset: accounts.dataset.key(),
            license: license.key(),
            price_paid: fees.gross,
            expires_at,
        });
        Ok(())
    }
}
