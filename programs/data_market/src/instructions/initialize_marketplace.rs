use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;

use crate::constants::MAX_REFERRAL_FEE_BPS;
use crate::domain::validation::{check_protocol_fee, check_referral_fee, WindowPolicy};
use crate::errors::MarketError;
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
    /// Shortest delivery window a dataset may set (MIN_WINDOW_FLOOR_SECS to MIN_WINDOW_CAP_SECS).
    pub min_delivery_window_secs: u32,
    /// Shortest dispute window a dataset may set (same bounds).
    pub min_dispute_window_secs: u32,
}

#[derive(Accounts)]
pub struct InitializeMarketplace<'info> {
    /// Becomes the operator and pays the rent: must be the program's upgrade authority (the deployer).
    #[account(mut)]
    pub authority: Signer<'info>,
    /// CHECK: the program's ProgramData account (address checked by the seeds, owner and layout in
    /// `validate`). Checking its upgrade authority means nobody can front-run the deployment and take
    /// the operator role.
    #[account(seeds = [crate::ID.as_ref()], bump, seeds::program = bpf_loader_upgradeable::ID)]
    pub program_data: UncheckedAccount<'info>,
    /// The single configuration account; `init` makes a second initialisation fail.
    #[account(init, payer = authority, space = 8 + Marketplace::INIT_SPACE, seeds = [seeds::MARKETPLACE], bump)]
    pub marketplace: Account<'info, Marketplace>,
    pub system_program: Program<'info, System>,
}

/// UpgradeableLoaderState::ProgramData as the loader lays it out (bincode): tag 3 (u32), slot (u64),
/// Option<Pubkey> upgrade authority. Parsed by hand: the generic deserializer drags float formatting
/// (128-bit arithmetic) into the program.
const PROGRAM_DATA_TAG: [u8; 4] = 3u32.to_le_bytes();
const AUTHORITY_OFFSET: usize = 4 + 8;

fn upgrade_authority(program_data: &AccountInfo) -> Option<Pubkey> {
    if *program_data.owner != bpf_loader_upgradeable::ID {
        return None;
    }
    let data = program_data.try_borrow_data().ok()?;
    let authority = data.get(AUTHORITY_OFFSET + 1..AUTHORITY_OFFSET + 33)?;
    if data.get(..4)? != PROGRAM_DATA_TAG || data[AUTHORITY_OFFSET] != 1 {
        return None;
    }
    Pubkey::try_from(authority).ok()
}

impl InitializeMarketplace<'_> {
    fn validate(&self) -> Result<()> {
        let authority = upgrade_authority(&self.program_data.to_account_info());
        require!(authority == Some(self.authority.key()), MarketError::NotUpgradeAuthority);
        Ok(())
    }

    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>, args: InitializeMarketplaceArgs) -> Result<()> {
        check_protocol_fee(args.protocol_fee_bps)?;
        check_referral_fee(args.max_referral_fee_bps, MAX_REFERRAL_FEE_BPS)?;
        let windows = WindowPolicy {
            min_delivery_window_secs: args.min_delivery_window_secs,
            min_dispute_window_secs: args.min_dispute_window_secs,
        }
        .check()?;
        let marketplace = &mut ctx.accounts.marketplace;
        marketplace.set_inner(Marketplace {
            revision: 0,
            authority: ctx.accounts.authority.key(),
            pending_authority: Pubkey::default(),
            treasury: args.treasury,
            arbiter: args.arbiter,
            protocol_fee_bps: args.protocol_fee_bps,
            max_referral_fee_bps: args.max_referral_fee_bps,
            purchases_paused: false,
            min_delivery_window_secs: windows.min_delivery_window_secs,
            min_dispute_window_secs: windows.min_dispute_window_secs,
            bump: ctx.bumps.marketplace,
        });
        emit!(MarketplaceInitialized {
            authority: marketplace.authority,
            treasury: marketplace.treasury,
            arbiter: marketplace.arbiter,
            protocol_fee_bps: marketplace.protocol_fee_bps,
            max_referral_fee_bps: marketplace.max_referral_fee_bps,
            min_delivery_window_secs: marketplace.min_delivery_window_secs,
            min_dispute_window_secs: marketplace.min_dispute_window_secs,
        });
        Ok(())
    }
}
