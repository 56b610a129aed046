use anchor_lang::prelude::*;

use crate::constants::MAX_REFERRAL_FEE_BPS;
use crate::domain::validation::{check_protocol_fee, check_referral_fee, WindowPolicy};
use crate::errors::MarketError;
use crate::events::MarketplaceUpdated;
use crate::state::{Marketplace, Revision};

/// Each field left `None` keeps its value.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateMarketplaceArgs {
    pub treasury: Option<Pubkey>,
    pub arbiter: Option<Pubkey>,
    /// At most MAX_PROTOCOL_FEE_BPS; applies to purchases from now on, not to escrowed ones.
    pub protocol_fee_bps: Option<u16>,
    pub max_referral_fee_bps: Option<u16>,
    /// Stops (or resumes) new purchases and renewals across the marketplace.
    pub purchases_paused: Option<bool>,
    /// Shortest windows new registrations may set (MIN_WINDOW_FLOOR_SECS to MIN_WINDOW_CAP_SECS);
    /// datasets already registered keep theirs.
    pub min_delivery_window_secs: Option<u32>,
    pub min_dispute_window_secs: Option<u32>,
}

#[derive(Accounts)]
pub struct UpdateMarketplace<'info> {
    pub authority: Signer<'info>,
    /// Only its operator may change it.
    #[account(mut, has_one = authority @ MarketError::NotMarketplaceAuthority)]
    pub marketplace: Account<'info, Marketplace>,
}

impl UpdateMarketplace<'_> {
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, args: UpdateMarketplaceArgs) -> Result<()> {
        let marketplace = &mut ctx.accounts.marketplace;
        if let Some(bps) = args.protocol_fee_bps {
            check_protocol_fee(bps)?;
            marketplace.protocol_fee_bps = bps;
        }
        if let Some(bps) = args.max_referral_fee_bps {
            check_referral_fee(bps, MAX_REFERRAL_FEE_BPS)?;
            marketplace.max_referral_fee_bps = bps;
        }
        if let Some(treasury) = args.treasury {
            marketplace.treasury = treasury;
        }
        if let Some(arbiter) = args.arbiter {
            marketplace.arbiter = arbiter;
        }
        if let Some(paused) = args.purchases_paused {
            marketplace.purchases_paused = paused;
        }
        let windows = WindowPolicy {
            min_delivery_window_secs: args.min_delivery_window_secs.unwrap_or(marketplace.min_delivery_window_secs),
            min_dispute_window_secs: args.min_dispute_window_secs.unwrap_or(marketplace.min_dispute_window_secs),
        }
        .check()?;
        marketplace.min_delivery_window_secs = windows.min_delivery_window_secs;
        marketplace.min_dispute_window_secs = windows.min_dispute_window_secs;
        marketplace.touch()?;
        emit!(MarketplaceUpdated {
            treasury: marketplace.treasury,
            arbiter: marketplace.arbiter,
            protocol_fee_bps: marketplace.protocol_fee_bps,
            max_referral_fee_bps: marketplace.max_referral_fee_bps,
            purchases_paused: marketplace.purchases_paused,
            min_delivery_window_secs: marketplace.min_delivery_window_secs,
            min_dispute_window_secs: marketplace.min_dispute_window_secs,
        });
        Ok(())
    }
}
