use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::domain::disputes::{self, Ruling};
use crate::domain::lifecycle::LicenseState;
use crate::errors::MarketError;
use crate::events::DisputeRuled;
use crate::state::{Dataset, Dispute, License, Marketplace, Revision};
use crate::{license_token, vault};

#[derive(Accounts)]
pub struct RuleDispute<'info> {
    pub arbiter: Signer<'info>,
    /// Names the arbiter.
    #[account(has_one = arbiter @ MarketError::NotArbiter)]
    pub marketplace: Box<Account<'info, Marketplace>>,
    #[account(mut, has_one = payment_mint, has_one = license_mint, has_one = escrow_vault)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset)]
    pub license: Box<Account<'info, License>>,
    #[account(mut, has_one = license)]
    pub dispute: Box<Account<'info, Dispute>>,
    /// CHECK: the dataset's licence mint (bound by has_one on the dataset); only handed to Token-2022.
    #[account(mut)]
    pub license_mint: UncheckedAccount<'info>,
    /// The buyer's licence tokens, burned on a refund ruling.
    #[account(mut, token::mint = license_mint, token::authority = license.buyer,
        token::token_program = token_2022_program)]
    pub buyer_license_account: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Receives the buyer's share: must belong to the buyer.
    #[account(mut, token::mint = payment_mint, token::authority = license.buyer,
        token::token_program = payment_token_program)]
    /// Absent when no money moves (a free dataset).
    pub buyer_payment_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
    pub token_2022_program: Program<'info, Token2022>,
}

impl<'info> RuleDispute<'info> {
    fn validate(&self, ruling: &Ruling) -> Result<()> {
        require!(self.dispute.ruling.is_none(), MarketError::DisputeAlreadyRuled);
        if *ruling == Ruling::Refund {
            // a void licence must leave no usable token behind, as with refund_license
            require!(self.buyer_license_account.amount >= self.tokens_to_void(), MarketError::LicenseTokenNotHeld);
        }
        Ok(())
    }

    /// Licence tokens a refund voids: every unused credit of a metered licence, the one token of
    /// an unmetered one (its uses burn nothing).
    fn tokens_to_void(&self) -> u64 {
        self.license.tokens_outstanding(self.dataset.terms.metered)
    }

    /// Final ruling: refund (licence void), release (settles as if undisputed) or a split of the
    /// escrowed price in bps (the buyer keeps the licence; fees apply to the released part).
    #[inline(never)]
    #[access_control(ctx.accounts.validate(&ruling))]
    pub fn handler(ctx: Context<'info, Self>, ruling: Ruling) -> Result<()> {
        let accounts = ctx.accounts;
        let license = &accounts.license;
        let outcome = disputes::rule(license.price_paid, license.protocol_fee_bps, license.referral_fee_bps, ruling)?;
        vault::pay_out(
            &accounts.dataset,
            &accounts.escrow_vault,
            accounts.buyer_payment_account.as_deref(),
            &accounts.payment_mint,
            &accounts.payment_token_program,
            outcome.buyer_refund,
        )?;
        if outcome.license_state == LicenseState::Refunded {
            license_token::burn_as_delegate(
                &accounts.dataset,
                &accounts.license_mint.to_account_info(),
                &accounts.buyer_license_account,
                &accounts.token_2022_program,
                accounts.tokens_to_void(),
            )?;
        }

        let dataset = &mut accounts.dataset;
        dataset.ledger.refund(outcome.buyer_refund)?;
        dataset.settle_escrow(&outcome.released)?;
        dataset.open_disputes = dataset.open_disputes.checked_sub(1).ok_or(MarketError::Overflow)?;
        dataset.finish_pending()?;
        if outcome.license_state == LicenseState::Refunded {
            dataset.licenses_outstanding = dataset.licenses_outstanding.checked_sub(1).ok_or(MarketError::Overflow)?;
        }
        let license = &mut accounts.license;
        license.state = outcome.license_state;
        license.refunded_amount = outcome.buyer_refund;
        license.protocol_fee = outcome.released.protocol_fee;
        license.referral_fee = outcome.released.referral_fee;
        let now = Clock::get()?.unix_timestamp;
        if outcome.license_state == LicenseState::Settled {
            license.settled_at = now;
        }
        let dispute = &mut accounts.dispute;
        dispute.ruling = Some(ruling);
        dispute.ruled_at = now;
        dispute.touch()?;
        license.touch()?;
        dataset.touch()?;
        emit!(DisputeRuled {
            dataset: dataset.key(),
            license: license.key(),
            ruling,
            buyer_refund: outcome.buyer_refund,
            released: outcome.released.gross,
        });
        Ok(())
    }
}
