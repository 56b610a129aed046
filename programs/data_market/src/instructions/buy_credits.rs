use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::domain::fees::breakdown;
use crate::domain::lifecycle::LicenseState;
use crate::domain::{lifecycle, listing, metering};
use crate::errors::MarketError;
use crate::events::CreditsPurchased;
use crate::state::{Dataset, License, Marketplace, Revision};
use crate::{license_token, vault};

#[derive(Accounts)]
pub struct BuyCredits<'info> {
    pub buyer: Signer<'info>,
    /// Read for the fee and the pause switch.
    pub marketplace: Box<Account<'info, Marketplace>>,
    #[account(mut, has_one = payment_mint, has_one = license_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    /// The buyer's own licence to this dataset.
    #[account(mut, has_one = dataset, has_one = buyer @ MarketError::NotLicenseBuyer)]
    pub license: Box<Account<'info, License>>,
    /// CHECK: the dataset's licence mint (bound by has_one on the dataset); only handed to Token-2022.
    #[account(mut)]
    pub license_mint: UncheckedAccount<'info>,
    #[account(mut, token::mint = license_mint, token::authority = buyer, token::token_program = token_2022_program)]
    pub buyer_license_account: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = payment_mint, token::token_program = payment_token_program)]
    /// Absent when no money moves (a free dataset).
    pub buyer_payment_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
    pub token_2022_program: Program<'info, Token2022>,
}

impl<'info> BuyCredits<'info> {
    fn validate(&self, credits: u32, max_price: u64) -> Result<()> {
        require!(!self.marketplace.purchases_paused, MarketError::PurchasesPaused);
        require!(self.dataset.terms.metered, MarketError::NotMetered);
        require!(listing::sales_open(self.dataset.state), MarketError::DatasetNotActive);
        lifecycle::check_usable(self.license.state, &self.license.clock(), Clock::get()?.unix_timestamp)?;
        // only once settled: a refund ruling voids every unused credit but repays only the escrowed
        // purchase, so no top-up may happen while a dispute is still possible
        require!(self.license.state != LicenseState::Disputed, MarketError::LicenseDisputed);
        require!(self.license.state == LicenseState::Settled, MarketError::LicenseNotSettled);
        let total = metering::purchase_total(self.dataset.price, true, credits)?;
        require!(total <= max_price, MarketError::PriceAboveMax);
        Ok(())
    }

    /// Tops up a settled metered licence. The key is already delivered, so like a renewal the
    /// payment accrues to the recipients at once (no referral fee).
    #[inline(never)]
    #[access_control(ctx.accounts.validate(credits, max_price))]
    pub fn handler(ctx: Context<'info, Self>, credits: u32, max_price: u64) -> Result<()> {
        let accounts = ctx.accounts;
        let total = metering::purchase_total(accounts.dataset.price, true, credits)?;
        let fees = breakdown(total, accounts.marketplace.protocol_fee_bps, 0)?;
        vault::pay_in(
            accounts.buyer_payment_account.as_deref(),
            &accounts.escrow_vault,
            &accounts.payment_mint,
            &accounts.buyer,
            &accounts.payment_token_program,
            fees.gross,
        )?;
        accounts.dataset.accrue_revenue(&fees)?;
        let credits = u64::from(credits);
        license_token::mint(
            &accounts.dataset,
            &accounts.license_mint.to_account_info(),
            &accounts.buyer_license_account,
            &accounts.token_2022_program,
            credits,
        )?;
        let license = &mut accounts.license;
        license.credits = license.credits.checked_add(credits).ok_or(MarketError::Overflow)?;
        license.touch()?;
        accounts.dataset.touch()?;
        emit!(CreditsPurchased { dataset: license.dataset, license: license.key(), credits, price_paid: fees.gross });
        Ok(())
    }
}
