use anchor_lang::prelude::*;

use crate::domain::fees::FeeBreakdown;
use crate::domain::lifecycle;
use crate::errors::MarketError;
use crate::events::LicenseSettled;
use crate::state::{Dataset, License, Revision};

#[derive(Accounts)]
pub struct SettleLicense<'info> {
    /// Anyone may settle once it is due; no tokens move, only the ledger.
    pub caller: Signer<'info>,
    #[account(mut)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset)]
    pub license: Box<Account<'info, License>>,
}

impl SettleLicense<'_> {
    /// After delivery plus the dispute window, the escrowed price becomes the protocol fee, the
    /// referral fee and the recipients' claimable revenue (split by bps, remainder to the first).
    #[inline(never)]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let dataset = &mut ctx.accounts.dataset;
        let license = &mut ctx.accounts.license;
        license.state = lifecycle::settle(license.state, &license.clock(), dataset.dispute_window_secs, now)?;
        let net = license
            .price_paid
            .checked_sub(license.protocol_fee)
            .and_then(|rest| rest.checked_sub(license.referral_fee))
            .ok_or(MarketError::Overflow)?;
        let fees = FeeBreakdown {
            gross: license.price_paid,
            protocol_fee: license.protocol_fee,
            referral_fee: license.referral_fee,
            net,
        };
        dataset.settle_escrow(&fees)?;
        dataset.finish_pending()?;
        license.settled_at = now;
        license.touch()?;
        dataset.touch()?;
        emit!(LicenseSettled {
            dataset: dataset.key(),
            license: license.key(),
            gross: fees.gross,
            protocol_fee: fees.protocol_fee,
            referral_fee: fees.referral_fee,
            net,
        });
        Ok(())
    }
}
