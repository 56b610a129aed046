use anchor_lang::prelude::*;

use crate::constants::SEALED_KEY_LEN;
use crate::domain::lifecycle::{LicenseClock, LicenseState};

/// A buyer's licence to one dataset, and the escrow record of what it paid. dataset at offset 8 and
/// buyer at 40, for memcmp listing.
#[account]
#[derive(InitSpace, Debug)]
pub struct License {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
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
    /// The referral fee was paid to the referrer, or handed to the recipients after its claim window.
    pub referral_fee_resolved: bool,
    pub bought_at: i64,
    pub delivered_at: i64,
    /// Set when the key is delivered (the term starts then); 0 = perpetual or not delivered yet.
    pub expires_at: i64,
    /// When the escrow was settled (by time or by a ruling); starts the referrer's claim window.
    pub settled_at: i64,
    pub renewals: u32,
    /// Content key sealed to `buyer_encryption_key` (all zeros until delivered).
    pub sealed_key: [u8; SEALED_KEY_LEN],
    pub bump: u8,
}

impl License {
    /// Licence tokens minted for this licence and not yet burned: the credits bought, less the uses
    /// that spent one (metered), or the single token of an unmetered licence.
    pub fn tokens_outstanding(&self, metered: bool) -> u64 {
        if self.state == LicenseState::Refunded {
            // a refund or a refund ruling burned them
            0
        } else if metered {
            self.credits.saturating_sub(self.usage_count)
        } else {
            self.credits
        }
    }

    /// Nothing is owed on the licence any more: refunded, or settled with its referral fee resolved.
    pub fn owes_nothing(&self) -> bool {
        let referral_settled = self.referral_fee == 0 || self.referral_fee_resolved;
        match self.state {
            LicenseState::Refunded => true,
            LicenseState::Settled => referral_settled,
            LicenseState::AwaitingKey | LicenseState::Delivered | LicenseState::Disputed => false,
        }
    }

    pub fn clock(&self) -> LicenseClock {
        LicenseClock { bought_at: self.bought_at, delivered_at: self.delivered_at, expires_at: self.expires_at }
    }
}
