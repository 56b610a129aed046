//! One event per state change, for indexers.
use anchor_lang::prelude::*;

use crate::constants::MAX_PREVIEW_CHUNKS;
use crate::state::{DatasetState, DisputeReason, Ruling, UsagePurpose};

#[event]
pub struct MarketplaceInitialized {
    pub authority: Pubkey,
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub max_referral_fee_bps: u16,
    pub min_delivery_window_secs: u32,
    pub min_dispute_window_secs: u32,
}

#[event]
pub struct MarketplaceUpdated {
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub max_referral_fee_bps: u16,
    pub purchases_paused: bool,
    pub min_delivery_window_secs: u32,
    pub min_dispute_window_secs: u32,
}

#[event]
pub struct AuthorityProposed {
    pub authority: Pubkey,
    pub proposed: Pubkey,
}

#[event]
pub struct AuthorityTransferred {
    pub previous: Pubkey,
    pub authority: Pubkey,
}

#[event]
pub struct DatasetRegistered {
    pub dataset: Pubkey,
    pub owner: Pubkey,
    pub content_hash: [u8; 32],
    pub license_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub price: u64,
    pub previous_version: Pubkey,
    /// The payment mint has a freeze authority (USDC has one): its issuer could freeze the escrow
    /// vault and block payouts and refunds. Clients warn buyers and owners about it.
    pub payment_mint_freezable: bool,
}

#[event]
pub struct DatasetUpdated {
    pub dataset: Pubkey,
    pub price: u64,
    pub delivery_delegate: Pubkey,
    pub allow_list_enabled: bool,
}

#[event]
pub struct DatasetStateChanged {
    pub dataset: Pubkey,
    pub state: DatasetState,
    /// The operator's reason code when revoked, else 0.
    pub reason: u16,
}

#[event]
pub struct AllowListChanged {
    pub dataset: Pubkey,
    pub buyer: Pubkey,
    pub allowed: bool,
}

#[event]
pub struct UsageRecorded {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub receipt: Pubkey,
    pub holder: Pubkey,
    pub attestor: Pubkey,
    pub purpose: UsagePurpose,
    pub model_hash: [u8; 32],
    pub run_id: [u8; 32],
    pub index: u64,
}

#[event]
pub struct CreditsPurchased {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub credits: u64,
    pub price_paid: u64,
}

#[event]
pub struct ReviewSubmitted {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub review: Pubkey,
    pub rating: u8,
    /// The licence was paid for (free licences' ratings are counted apart).
    pub paid: bool,
    /// False for a first review, true for an edit.
    pub edited: bool,
}

#[event]
pub struct DisputeOpened {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub dispute: Pubkey,
    pub reason: DisputeReason,
}

#[event]
pub struct DisputeRuled {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub ruling: Ruling,
    pub buyer_refund: u64,
    pub released: u64,
}

#[event]
pub struct AccountClosed {
    /// The closed account (licence, dispute record, allow-list entry, receipt, review, front-end,
    /// vault or dataset).
    pub account: Pubkey,
    pub rent_to: Pubkey,
    pub lamports: u64,
}

#[event]
pub struct LicensePurchased {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub buyer: Pubkey,
    pub price_paid: u64,
    pub protocol_fee: u64,
    pub referral_fee: u64,
    pub referrer: Pubkey,
    pub credits: u64,
    /// The licence's term, which starts when the key is delivered (0 = perpetual).
    pub duration_secs: u64,
}

#[event]
pub struct LicenseRenewed {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub price_paid: u64,
    pub expires_at: i64,
}

#[event]
pub struct KeyDelivered {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub delivered_by: Pubkey,
    pub delivered_at: i64,
    /// 0 = perpetual.
    pub expires_at: i64,
}

#[event]
pub struct LicenseRefunded {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub buyer: Pubkey,
    pub amount: u64,
}

#[event]
pub struct LicenseSettled {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub gross: u64,
    pub protocol_fee: u64,
    pub referral_fee: u64,
    pub net: u64,
}

#[event]
pub struct RevenueClaimed {
    pub dataset: Pubkey,
    pub recipient: Pubkey,
    pub amount: u64,
}

#[event]
pub struct ReferralFeeClaimed {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub referrer: Pubkey,
    pub amount: u64,
}

#[event]
pub struct ProtocolFeesSwept {
    pub dataset: Pubkey,
    pub treasury_account: Pubkey,
    pub amount: u64,
}

#[event]
pub struct ReferralFeeForfeited {
    pub dataset: Pubkey,
    pub license: Pubkey,
    pub referrer: Pubkey,
    /// Handed to the dataset's recipients, split by their shares.
    pub amount: u64,
}

#[event]
pub struct FrontEndChanged {
    pub wallet: Pubkey,
    pub registered: bool,
}

#[event]
pub struct ContentHashReleased {
    pub content_hash: [u8; 32],
    /// The revoked dataset that held the hash.
    pub revoked_dataset: Pubkey,
    /// The owner who may now register the hash.
    pub claimant: Pubkey,
}

#[event]
pub struct PreviewPolicySet {
    pub dataset: Pubkey,
    pub chunk_tree_root: [u8; 32],
    pub chunk_size: u32,
    pub chunk_count: u32,
    pub chunks_per_preview: u8,
    pub max_per_period: u16,
    pub period_secs: u32,
}

#[event]
pub struct PreviewRequested {
    pub dataset: Pubkey,
    pub request: Pubkey,
    pub buyer: Pubkey,
    pub requested_slot: u64,
    pub answer_deadline_slot: u64,
    pub chunks_requested: u8,
}

#[event]
pub struct PreviewAnswered {
    pub dataset: Pubkey,
    pub request: Pubkey,
    pub chunks: [u32; MAX_PREVIEW_CHUNKS],
    pub chunks_requested: u8,
    pub answer_cid: String,
}

#[event]
pub struct PreviewExpired {
    pub dataset: Pubkey,
    pub request: Pubkey,
    pub buyer: Pubkey,
}
