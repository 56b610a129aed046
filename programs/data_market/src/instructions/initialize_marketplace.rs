use anchor_lang::prelude::*;

use crate::domain::validation::{check_protocol_fee, check_referral_fee};
use crate::constants::MAX_REFERRAL_FEE_BPS;
use crate::events::MarketplaceInitialized;
use crate::state::{seeds, Marketplace};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeMarketplaceArgs {
    /// Wallet that receives swept protocol fees.
    pub treasury: Pubkey,
    /// Resolves disputes.
    pub arbiter: Pubkey,
    /// Protocol fee on every sale, at most MAX_PROTOCOL_FEE_BPS.
    pub protocol_fee_bps: u16,
    /// Highest referral fee a dataset may offer, at most MAX_REFERRAL_FEE_BPS.
    pub max_referral_fee_bps: u16,
}

#[derive(Accounts)]
pub struct InitializeMarketplace<'info> {
    /// Becomes the operator and pays the rent. The deploy script runs this right after deployment.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The single configuration account; `init` makes a second initialisation fail.
    #[account(init, payer = authority, space = 8 + Marketplace::INIT_SPACE, seeds = [seeds::MARKETPLACE], bump)]
    pub marketplace: Account<'info, Marketplace>,
    pub system_program: Program<'info, System>,
}

impl InitializeMarketplace<'_> {
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, args: InitializeMarketplaceArgs) -> Result<()> {
        check_protocol_fee(args.protocol_fee_bps)?;
        check_referral_fee(args.max_referral_fee_bps, MAX_REFERRAL_FEE_BPS)?;
        let marketplace = &mut ctx.accounts.marketplace;
        marketplace.set_inner(Marketplace {
            authority: ctx.accounts.authority.key(),
            pending_authority: Pubkey::default(),
            treasury: args.treasury,
            arbiter: args.arbiter,
            protocol_fee_bps: args.protocol_fee_bps,
            max_referral_fee_bps: args.max_referral_fee_bps,
            purchases_paused: false,
            bump: ctx.bumps.marketplace,
        });
        emit!(MarketplaceInitialized {
            authority: marketplace.authority,
            treasury: marketplace.treasury,
            arbiter: marketplace.arbiter,
            protocol_fee_bps: marketplace.protocol_fee_bps,
            max_referral_fee_bps: marketplace.max_referral_fee_bps,
        });
        Ok(())
    }
}
