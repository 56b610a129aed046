use anchor_lang::prelude::*;

use crate::constants::SEALED_KEY_LEN;
use crate::domain::lifecycle::{LicenseClock, LicenseState};

/// A buyer's licence to one dataset, and the escrow record of what it paid. dataset at offset 8 and
/// buyer at 40, for memcmp listing.
#[account]
#[derive(InitSpace, Debug)]
pub struct License {
    pub dataset: Pubkey,
    pub buyer: Pubkey,
    /// X25519 public key the content key is sealed to.
    pub buyer_encryption_key: [u8; 32],
    /// Front-end owed `referral_fee` at settlement; Pubkey::default() = none.
    pub referrer: Pubkey,
    pub state: LicenseState,
    /// Escrowed gross price and the fees fixed at purchase time (amounts, and the rates that a split
    /// ruling applies to the released part).
    pub price_paid: u64,
    pub protocol_fee: u64,
    pub referral_fee: u64,
    pub protocol_fee_bps: u16,
    pub referral_fee_bps: u16,
    /// Paid back to the buyer by a refund or a ruling.
    pub refunded_amount: u64,
    /// Credits bought in all (1 for an unmetered licence) and uses recorded; the receipt of the next
    /// use has index `usage_count`.
    pub credits: u64,
    pub usage_count: u64,
    /// A dispute account exists for this licence (it must be closed before the licence).
    pub has_dispute: bool,
    /// The dataset's sale number of this purchase: unique even when a buyer buys a dataset again
    /// after closing a licence at the same address, so receipt addresses never repeat.
    pub serial: u64,
    pub referral_fee_claimed: bool,
    pub bought_at: i64,
    pub delivered_at: i64,
    /// 0 = perpetual.
    pub expires_at: i64,
    pub renewals: u32,
    /// Content key sealed to `buyer_encryption_key` (all zeros until delivered).
    pub sealed_key: [u8; SEALED_KEY_LEN],
    pub bump: u8,
}

impl License {
    pub fn clock(&self) -> LicenseClock {
        LicenseClock { bought_at: self.bought_at, delivered_at: self.delivered_at, expires_at: self.expires_at }
    }
}
