//! Disputes: when a buyer may open one, and what each ruling of the arbiter pays.
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize, InitSpace};

use super::fees::{bps_of, breakdown, FeeBreakdown};
use super::lifecycle::{LicenseClock, LicenseState};
use super::DomainResult;
use crate::constants::BPS_DENOMINATOR;
use crate::errors::MarketError;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum DisputeReason {
    /// The decrypted data does not match the registered content hash.
    HashMismatch,
    /// The sealed key does not open or does not decrypt the data.
    KeyInvalid,
    /// The ciphertext cannot be fetched.
    DataUnavailable,
    /// The data is not what the metadata describes.
    NotAsDescribed,
    Other,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Ruling {
    /// The buyer gets the whole price back; the licence is void.
    Refund,
    /// The seller is right: the escrow settles as if undisputed.
    Release,
    /// The buyer gets `buyer_bps` of the price back and keeps the licence; the rest settles.
    Split { buyer_bps: u16 },
}

/// What a ruling pays out of the escrowed price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RulingOutcome {
    /// Back to the buyer.
    pub buyer_refund: u64,
    /// Settled to fees and recipients.
    pub released: FeeBreakdown,
    pub license_state: LicenseState,
}

/// The buyer may dispute a delivered licence until its dispute window closes.
pub fn open(
    state: LicenseState,
    clock: &LicenseClock,
    dispute_window_secs: u32,
    now: i64,
) -> DomainResult<LicenseState> {
    match state {
        LicenseState::Delivered => {
            let closes = clock.delivered_at.checked_add(i64::from(dispute_window_secs)).ok_or(MarketError::Overflow)?;
            if now >= closes {
                return Err(MarketError::DisputeWindowClosed);
            }
            Ok(LicenseState::Disputed)
        }
        LicenseState::Disputed => Err(MarketError::AlreadyDisputed),
        LicenseState::AwaitingKey => Err(MarketError::LicenseNotDelivered),
        LicenseState::Refunded => Err(MarketError::LicenseVoid),
        LicenseState::Settled => Err(MarketError::DisputeWindowClosed),
    }
}

/// Splits the escrowed `price` by the ruling; fees apply (at the rates fixed at purchase) only to the
/// part that is released.
pub fn rule(price: u64, protocol_fee_bps: u16, referral_fee_bps: u16, ruling: Ruling) -> DomainResult<RulingOutcome> {
    let (buyer_refund, license_state) = match ruling {
        Ruling::Refund => (price, LicenseState::Refunded),
        Ruling::Release => (0, LicenseState::Settled),
        Ruling::Split { buyer_bps } => {
            if buyer_bps > BPS_DENOMINATOR {
                return Err(MarketError::InvalidBps);
            }
            (bps_of(price, buyer_bps)?, LicenseState::Settled)
        }
    };
    let released = price.checked_sub(buyer_refund).ok_or(MarketError::Overflow)?;
    Ok(RulingOutcome {
        buyer_refund,
        released: breakdown(released, protocol_fee_bps, referral_fee_bps)?,
        license_state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dispute_window() {
        let clock = LicenseClock { bought_at: 0, delivered_at: 100, expires_at: 0 };
        assert_eq!(open(LicenseState::Delivered, &clock, 50, 149), Ok(LicenseState::Disputed));
        assert_eq!(open(LicenseState::Delivered, &clock, 50, 150), Err(MarketError::DisputeWindowClosed));
        assert_eq!(open(LicenseState::Disputed, &clock, 50, 120), Err(MarketError::AlreadyDisputed));
        assert_eq!(open(LicenseState::AwaitingKey, &clock, 50, 120), Err(MarketError::LicenseNotDelivered));
        assert_eq!(open(LicenseState::Refunded, &clock, 50, 120), Err(MarketError::LicenseVoid));
        assert_eq!(open(LicenseState::Settled, &clock, 50, 120), Err(MarketError::DisputeWindowClosed));
    }

    #[test]
    fn rulings() {
        let refund = rule(1_000, 250, 500, Ruling::Refund).unwrap();
        assert_eq!((refund.buyer_refund, refund.released.gross), (1_000, 0));
        let release = rule(1_000, 250, 500, Ruling::Release).unwrap();
        assert_eq!((release.buyer_refund, release.released.protocol_fee, release.released.net), (0, 25, 925));
        let split = rule(1_000, 250, 0, Ruling::Split { buyer_bps: 4_000 }).unwrap();
        assert_eq!((split.buyer_refund, split.released.gross, split.released.protocol_fee), (400, 600, 15));
        assert_eq!(rule(1, 0, 0, Ruling::Split { buyer_bps: 10_001 }), Err(MarketError::InvalidBps));
    }

    proptest! {
        #[test]
        fn a_ruling_pays_out_exactly_the_escrow(price in any::<u64>(), p in 0u16..=1_000, r in 0u16..=2_000, b in 0u16..=10_000, kind in 0u8..3) {
            let ruling = match kind { 0 => Ruling::Refund, 1 => Ruling::Release, _ => Ruling::Split { buyer_bps: b } };
            let o = rule(price, p, r, ruling).unwrap();
            let paid = u128::from(o.buyer_refund) + u128::from(o.released.protocol_fee)
                + u128::from(o.released.referral_fee) + u128::from(o.released.net);
            prop_assert_eq!(paid, u128::from(price));
        }
    }
}
