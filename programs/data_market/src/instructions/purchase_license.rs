use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::domain::fees::breakdown;
use crate::domain::lifecycle::LicenseState;
use crate::domain::validation::non_zero;
use crate::domain::{listing, metering};
use crate::errors::MarketError;
use crate::events::LicensePurchased;
use crate::pda::{self, create_program_account};
use crate::state::{seeds, AllowListEntry, Dataset, FrontEnd, License, Marketplace, Revision};
use crate::{license_token, vault};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct PurchaseLicenseArgs {
    /// The most the buyer agrees to pay; a price raised above it fails with PriceAboveMax.
    pub max_price: u64,
    /// X25519 public key the owner seals the content key to.
    pub buyer_encryption_key: [u8; 32],
    /// Credits to buy from a metered dataset (price is per credit); 1 for an unmetered one.
    pub credits: u32,
}

/// Writes only accounts of this dataset and this buyer: the marketplace config is read-only, fees
/// accrue in the dataset's own ledger.
#[derive(Accounts)]
pub struct PurchaseLicense<'info> {
    /// Pays the price and the rent of the licence (and of the licence token account if new).
    #[account(mut)]
    pub buyer: Signer<'info>,
    /// Read for the fee and the pause switch.
    pub marketplace: Box<Account<'info, Marketplace>>,
    /// The dataset: its payment mint, licence mint and vault are bound to it by has_one.
    #[account(mut, has_one = payment_mint, has_one = license_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    /// CHECK: the buyer's licence PDA for this dataset (address checked against the seeds in the
    /// handler, by pda::canonical_bump). Created in the handler: lamports sent to the address
    /// beforehand cannot block the purchase, and a second purchase fails with LicenseAlreadyExists.
    #[account(mut)]
    pub license: UncheckedAccount<'info>,
    /// CHECK: the dataset's licence mint (bound by has_one on the dataset); only handed to Token-2022.
    #[account(mut)]
    pub license_mint: UncheckedAccount<'info>,
    /// A Token-2022 account of the licence mint owned by the buyer. Clients create the buyer's
    /// associated account (idempotently) in the same transaction; checking mint and owner here is
    /// cheaper than re-deriving the associated address.
    #[account(mut, token::mint = license_mint, token::authority = buyer,
        token::token_program = token_2022_program)]
    pub buyer_license_account: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The buyer's tokens of the payment mint (the token program checks the buyer's authority).
    #[account(mut, token::mint = payment_mint, token::token_program = payment_token_program)]
    /// Absent when no money moves (a free dataset).
    pub buyer_payment_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    /// The dataset's escrow vault.
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Must own the payment mint (checked by the transfer).
    pub payment_token_program: Interface<'info, TokenInterface>,
    pub token_2022_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
    /// The buyer's entry on the dataset's allow-list; needed only while the allow-list is enabled.
    pub allow_list_entry: Option<Box<Account<'info, AllowListEntry>>>,
    /// The registered front-end that referred the sale; it earns the dataset's referral fee at
    /// settlement. Only the operator registers front-ends (see FrontEnd).
    pub referrer: Option<Box<Account<'info, FrontEnd>>>,
}

impl<'info> PurchaseLicense<'info> {
    /// Checks the purchase and returns the licence address's canonical bump.
    fn validate(&self, args: &PurchaseLicenseArgs) -> Result<u8> {
        let bump = pda::canonical_bump(
            &self.license.key(),
            &[seeds::LICENSE, self.dataset.key().as_ref(), self.buyer.key().as_ref()],
        )?;
        require_keys_neq!(*self.license.owner, crate::ID, MarketError::LicenseAlreadyExists);
        require!(!self.marketplace.purchases_paused, MarketError::PurchasesPaused);
        let dataset = &self.dataset;
        require!(listing::sales_open(dataset.state), MarketError::DatasetNotActive);
        if dataset.allow_list_enabled {
            let listed = self
                .allow_list_entry
                .as_ref()
                .is_some_and(|entry| entry.dataset == dataset.key() && entry.buyer == self.buyer.key());
            require!(listed, MarketError::NotOnAllowList);
        }
        let total = metering::purchase_total(dataset.price, dataset.terms.metered, args.credits)?;
        require!(total <= args.max_price, MarketError::PriceAboveMax);
        let max_supply = dataset.terms.max_supply;
        require!(max_supply == 0 || dataset.licenses_outstanding < max_supply, MarketError::SupplyExhausted);
        non_zero(&args.buyer_encryption_key, MarketError::InvalidEncryptionKey)?;
        if let Some(front_end) = &self.referrer {
            require_keys_neq!(front_end.wallet, self.buyer.key(), MarketError::SelfReferral);
        }
        Ok(bump)
    }

    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>, args: PurchaseLicenseArgs) -> Result<()> {
        let accounts = ctx.accounts;
        let bump = accounts.validate(&args)?;
        let now = Clock::get()?.unix_timestamp;
        let dataset = &accounts.dataset;
        let referrer = accounts.referrer.as_ref().map(|front_end| front_end.wallet).unwrap_or_default();
        // the dataset's referral offer, capped by the operator's current cap
        let referral_bps = match accounts.referrer {
            Some(_) => dataset.referral_fee_bps.min(accounts.marketplace.max_referral_fee_bps),
            None => 0,
        };
        let protocol_bps = accounts.marketplace.protocol_fee_bps;
        let total = metering::purchase_total(dataset.price, dataset.terms.metered, args.credits)?;
        let fees = breakdown(total, protocol_bps, referral_bps)?;

        vault::pay_in(
            accounts.buyer_payment_account.as_deref(),
            &accounts.escrow_vault,
            &accounts.payment_mint,
            &accounts.buyer,
            &accounts.payment_token_program,
            fees.gross,
        )?;
        let credits = u64::from(args.credits);
        license_token::mint(
            &accounts.dataset,
            &accounts.license_mint.to_account_info(),
            &accounts.buyer_license_account,
            &accounts.token_2022_program,
            credits,
        )?;

        let license_key = accounts.license.key();
        let (dataset_key, buyer_key) = (accounts.dataset.key(), accounts.buyer.key());
        let license_seeds: [&[u8]; 4] = [seeds::LICENSE, dataset_key.as_ref(), buyer_key.as_ref(), &[bump]];
        let license = License {
            revision: 0,
            dataset: dataset_key,
            buyer: buyer_key,
            buyer_encryption_key: args.buyer_encryption_key,
            referrer,
            state: LicenseState::AwaitingKey,
            price_paid: fees.gross,
            protocol_fee: fees.protocol_fee,
            referral_fee: fees.referral_fee,
            protocol_fee_bps: protocol_bps,
            referral_fee_bps: referral_bps,
            refunded_amount: 0,
            credits,
            usage_count: 0,
            has_dispute: false,
            serial: accounts.dataset.licenses_sold,
            referral_fee_resolved: false,
            bought_at: now,
            delivered_at: 0,
            // the term starts when the key is delivered
            expires_at: 0,
            settled_at: 0,
            renewals: 0,
            sealed_key: [0; crate::constants::SEALED_KEY_LEN],
            bump,
        };
        create_program_account(
            &accounts.buyer.to_account_info(),
            &accounts.license.to_account_info(),
            &accounts.system_program.to_account_info(),
            &license_seeds,
            &license,
        )?;

        let dataset = &mut accounts.dataset;
        dataset.ledger.deposit(fees.gross)?;
        dataset.licenses_outstanding = dataset.licenses_outstanding.checked_add(1).ok_or(MarketError::Overflow)?;
        dataset.licenses_sold = dataset.licenses_sold.checked_add(1).ok_or(MarketError::Overflow)?;
        dataset.licenses_pending = dataset.licenses_pending.checked_add(1).ok_or(MarketError::Overflow)?;
        dataset.touch()?;

        emit!(LicensePurchased {
            dataset: dataset.key(),
            license: license_key,
            buyer: buyer_key,
            price_paid: fees.gross,
            protocol_fee: fees.protocol_fee,
            referral_fee: fees.referral_fee,
            referrer,
            credits,
            duration_secs: dataset.terms.duration_secs,
        });
        Ok(())
    }
}
