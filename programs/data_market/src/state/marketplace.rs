use anchor_lang::prelude::*;

/// The marketplace configuration, written only by its operator. Purchases read it, never write it.
/// There is exactly one (created at its PDA by `initialize_marketplace`), so owner and discriminator
/// checks identify it.
#[account]
#[derive(InitSpace, Debug)]
pub struct Marketplace {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    /// The operator: changes fees, treasury, arbiter, pause.
    pub authority: Pubkey,
    /// Proposed next operator; becomes `authority` when it accepts (Pubkey::default() = none).
    pub pending_authority: Pubkey,
    /// Wallet whose token accounts receive swept protocol fees.
    pub treasury: Pubkey,
    /// Resolves disputes.
    pub arbiter: Pubkey,
    /// Protocol fee on every sale, at most MAX_PROTOCOL_FEE_BPS.
    pub protocol_fee_bps: u16,
    /// Highest referral fee a dataset may offer, at most MAX_REFERRAL_FEE_BPS.
    pub max_referral_fee_bps: u16,
    /// Emergency stop for new purchases and renewals; everything else keeps working.
    pub purchases_paused: bool,
    /// Shortest delivery and dispute windows a dataset may set: marketplace policy, between
    /// MIN_WINDOW_FLOOR_SECS and MIN_WINDOW_CAP_SECS (seconds on a test marketplace, hours on a
    /// production one). Applies to registrations; a dataset keeps the windows it registered with.
    pub min_delivery_window_secs: u32,
    pub min_dispute_window_secs: u32,
    pub bump: u8,
}
