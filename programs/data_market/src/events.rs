//! One event per state change, for indexers.
use anchor_lang::prelude::*;

#[event]
pub struct MarketplaceInitialized {
    pub authority: Pubkey,
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub max_referral_fee_bps: u16,
}

#[event]
pub struct MarketplaceUpdated {
    pub treasury: Pubkey,
    pub arbiter: Pubkey,
    pub protocol_fee_bps: u16,
    pub max_referral_fee_bps: u16,
    pub purchases_paused: bool,
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
}

#[event]
pub struct DatasetUpdated {
    pub dataset: Pubkey,
    pub price: u64,
    pub paused: bool,
    pub delivery_delegate: Pubkey,
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
    pub expires_at: i64,
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
