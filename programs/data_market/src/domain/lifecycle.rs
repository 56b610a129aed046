//! The licence state machine and its clock: when a key may be delivered, when a buyer may be refunded,
//! when the escrow may settle, and how long a licence is valid.
//!
//! AwaitingKey --deliver (within the delivery window)--> Delivered --settle (after the dispute window)--> Settled
//! AwaitingKey --refund (after the delivery window)--> Refunded (void for ever)
//! Delivered --open dispute (within the dispute window)--> Disputed --ruling--> Settled or Refunded
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize, InitSpace};

use super::DomainResult;
use crate::errors::MarketError;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum LicenseState {
    /// Paid into escrow, waiting for the owner to deliver the sealed key.
    AwaitingKey,
    /// Key delivered; the payment stays in escrow until the dispute window closes.
    Delivered,
    /// Escrow released to the recipients.
    Settled,
    /// The buyer disputed the delivery: the escrow is frozen until the arbiter rules.
    Disputed,
    /// Not delivered in time; the buyer was paid back and the licence token burned.
    Refunded,
}

/// The times that drive one licence (unix seconds; 0 = not yet / never).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LicenseClock {
    pub bought_at: i64,
    pub delivered_at: i64,
    /// 0 for a perpetual licence.
    pub expires_at: i64,
}

fn after(start: i64, window_secs: u32) -> DomainResult<i64> {
    start.checked_add(i64::from(window_secs)).ok_or(MarketError::Overflow)
}

/// When a licence bought at `now` for `duration_secs` (0 = perpetual) expires.
pub fn expiry(now: i64, duration_secs: u64) -> DomainResult<i64> {
    if duration_secs == 0 {
        return Ok(0);
    }
    let duration = i64::try_from(duration_secs).map_err(|_| MarketError::Overflow)?;
    now.checked_add(duration).ok_or(MarketError::Overflow)
}

/// When a licence delivered at `delivered_at` expires: its term starts with the key, so a key
/// delivered late in the delivery window still buys the whole duration.
pub fn delivered_expiry(delivered_at: i64, duration_secs: u64) -> DomainResult<i64> {
    expiry(delivered_at, duration_secs)
}

/// Whether the referrer's claim window on a licence settled at `settled_at` has closed.
pub fn referral_claim_window_closed(settled_at: i64, now: i64) -> DomainResult<bool> {
    let end = settled_at.checked_add(crate::constants::REFERRAL_CLAIM_WINDOW_SECS).ok_or(MarketError::Overflow)?;
    Ok(now >= end)
}

/// The owner delivers the key: allowed only while waiting and inside the delivery window.
pub fn deliver(
    state: LicenseState,
    clock: &LicenseClock,
    delivery_window_secs: u32,
    now: i64,
) -> DomainResult<LicenseState> {
    match state {
        LicenseState::AwaitingKey if now <= after(clock.bought_at, delivery_window_secs)? => {
            Ok(LicenseState::Delivered)
        }
        LicenseState::AwaitingKey => Err(MarketError::DeliveryWindowElapsed),
        LicenseState::Refunded => Err(MarketError::LicenseVoid),
        LicenseState::Delivered | LicenseState::Settled | LicenseState::Disputed => Err(MarketError::LicenseNotPending),
    }
}

/// Anyone refunds the buyer once the delivery window has passed without a key.
pub fn refund(
    state: LicenseState,
    clock: &LicenseClock,
    delivery_window_secs: u32,
    now: i64,
) -> DomainResult<LicenseState> {
    match state {
        LicenseState::AwaitingKey if now > after(clock.bought_at, delivery_window_secs)? => Ok(LicenseState::Refunded),
        LicenseState::AwaitingKey => Err(MarketError::DeliveryWindowOpen),
        LicenseState::Refunded => Err(MarketError::LicenseVoid),
        LicenseState::Delivered | LicenseState::Settled | LicenseState::Disputed => Err(MarketError::LicenseNotPending),
    }
}

/// Anyone settles a delivered licence once its dispute window has closed.
pub fn settle(
    state: LicenseState,
    clock: &LicenseClock,
    dispute_window_secs: u32,
    now: i64,
) -> DomainResult<LicenseState> {
    match state {
        LicenseState::Delivered if now >= after(clock.delivered_at, dispute_window_secs)? => Ok(LicenseState::Settled),
        LicenseState::Delivered => Err(MarketError::DisputeWindowOpen),
        LicenseState::AwaitingKey => Err(MarketError::LicenseNotDelivered),
        LicenseState::Refunded => Err(MarketError::LicenseVoid),
        LicenseState::Settled => Err(MarketError::LicenseNotPending),
        LicenseState::Disputed => Err(MarketError::LicenseDisputed),
    }
}

/// Renewal of a settled licence (its dispute window closed, so no ruling can ever have to repay the
/// renewal): the new expiry counts from the old one if it is still running, from `now` if it has lapsed.
pub fn renew(state: LicenseState, clock: &LicenseClock, duration_secs: u64, now: i64) -> DomainResult<i64> {
    match state {
        LicenseState::Refunded => return Err(MarketError::LicenseVoid),
        LicenseState::AwaitingKey => return Err(MarketError::LicenseNotDelivered),
        LicenseState::Disputed => return Err(MarketError::LicenseDisputed),
        LicenseState::Delivered => return Err(MarketError::LicenseNotSettled),
        LicenseState::Settled => {}
    }
    if clock.expires_at == 0 || duration_secs == 0 {
        return Err(MarketError::LicenseIsPerpetual);
    }
    expiry(clock.expires_at.max(now), duration_secs)
}

/// Whether the licence grants use of the data at `now` (the holder must also hold the token): the
/// key was delivered, the licence is not void and has not expired. Use is frozen while a dispute is
/// open, so a ruling never has to weigh credits spent during the dispute.
pub fn check_usable(state: LicenseState, clock: &LicenseClock, now: i64) -> DomainResult<()> {
    match state {
        LicenseState::AwaitingKey => return Err(MarketError::LicenseNotDelivered),
        LicenseState::Refunded => return Err(MarketError::LicenseVoid),
        LicenseState::Disputed => return Err(MarketError::LicenseDisputed),
        LicenseState::Delivered | LicenseState::Settled => {}
    }
    if clock.expires_at != 0 && now >= clock.expires_at {
        return Err(MarketError::LicenseExpired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn is_valid(state: LicenseState, clock: &LicenseClock, now: i64) -> bool {
        check_usable(state, clock, now).is_ok()
    }

    const HOUR: u32 = 3_600;
    fn clock(bought_at: i64) -> LicenseClock {
        LicenseClock { bought_at, delivered_at: 0, expires_at: 0 }
    }

    #[test]
    fn delivery_window_boundaries() {
        let c = clock(1_000);
        let end = 1_000 + i64::from(HOUR);
        assert_eq!(deliver(LicenseState::AwaitingKey, &c, HOUR, end), Ok(LicenseState::Delivered));
        assert_eq!(deliver(LicenseState::AwaitingKey, &c, HOUR, end + 1), Err(MarketError::DeliveryWindowElapsed));
        assert_eq!(refund(LicenseState::AwaitingKey, &c, HOUR, end), Err(MarketError::DeliveryWindowOpen));
        assert_eq!(refund(LicenseState::AwaitingKey, &c, HOUR, end + 1), Ok(LicenseState::Refunded));
        assert_eq!(refund(LicenseState::Delivered, &c, HOUR, end + 1), Err(MarketError::LicenseNotPending));
        assert_eq!(refund(LicenseState::Refunded, &c, HOUR, end + 1), Err(MarketError::LicenseVoid));
    }

    #[test]
    fn settlement_waits_for_the_dispute_window() {
        let c = LicenseClock { bought_at: 0, delivered_at: 500, expires_at: 0 };
        let end = 500 + i64::from(HOUR);
        assert_eq!(settle(LicenseState::Delivered, &c, HOUR, end - 1), Err(MarketError::DisputeWindowOpen));
        assert_eq!(settle(LicenseState::Delivered, &c, HOUR, end), Ok(LicenseState::Settled));
        assert_eq!(settle(LicenseState::AwaitingKey, &c, HOUR, end), Err(MarketError::LicenseNotDelivered));
        assert_eq!(settle(LicenseState::Settled, &c, HOUR, end), Err(MarketError::LicenseNotPending));
        assert_eq!(settle(LicenseState::Refunded, &c, HOUR, end), Err(MarketError::LicenseVoid));
    }

    #[test]
    fn renewal_extends_from_expiry_or_now() {
        let running = LicenseClock { bought_at: 0, delivered_at: 1, expires_at: 100 };
        assert_eq!(renew(LicenseState::Settled, &running, 50, 10), Ok(150));
        assert_eq!(renew(LicenseState::Delivered, &running, 50, 10), Err(MarketError::LicenseNotSettled));
        assert_eq!(renew(LicenseState::Settled, &running, 50, 400), Ok(450));
        assert_eq!(renew(LicenseState::AwaitingKey, &running, 50, 10), Err(MarketError::LicenseNotDelivered));
        assert_eq!(renew(LicenseState::Refunded, &running, 50, 10), Err(MarketError::LicenseVoid));
        let perpetual = LicenseClock { expires_at: 0, ..running };
        assert_eq!(renew(LicenseState::Settled, &perpetual, 50, 10), Err(MarketError::LicenseIsPerpetual));
        assert_eq!(expiry(i64::MAX, 1), Err(MarketError::Overflow));
        assert_eq!(expiry(5, 0), Ok(0));
    }

    #[test]
    fn use_is_frozen_during_a_dispute() {
        let c = LicenseClock { bought_at: 0, delivered_at: 1, expires_at: 0 };
        assert_eq!(check_usable(LicenseState::Disputed, &c, 5), Err(MarketError::LicenseDisputed));
        assert_eq!(check_usable(LicenseState::Delivered, &c, 5), Ok(()));
    }

    #[test]
    fn term_starts_at_delivery_and_referral_window_closes() {
        // a 10 s licence delivered at the very end of a 1 h window still lasts 10 s
        assert_eq!(delivered_expiry(3_600, 10), Ok(3_610));
        assert_eq!(delivered_expiry(3_600, 0), Ok(0));
        let window = crate::constants::REFERRAL_CLAIM_WINDOW_SECS;
        assert_eq!(referral_claim_window_closed(100, 100 + window - 1), Ok(false));
        assert_eq!(referral_claim_window_closed(100, 100 + window), Ok(true));
        assert_eq!(referral_claim_window_closed(i64::MAX, 0), Err(MarketError::Overflow));
    }

    fn any_state() -> impl Strategy<Value = LicenseState> {
        prop_oneof![
            Just(LicenseState::AwaitingKey),
            Just(LicenseState::Delivered),
            Just(LicenseState::Settled),
            Just(LicenseState::Disputed),
            Just(LicenseState::Refunded)
        ]
    }

    proptest! {
        /// At any moment exactly one of deliver / refund is possible for a waiting licence, so a
        /// buyer is never left with neither the key nor the refund; nothing leaves Refunded.
        #[test]
        fn deliver_and_refund_partition_time(bought in 0i64..1_000_000_000, window in HOUR..30 * 24 * HOUR, dt in 0i64..100_000_000) {
            let c = clock(bought);
            let now = bought + dt;
            let d = deliver(LicenseState::AwaitingKey, &c, window, now).is_ok();
            let r = refund(LicenseState::AwaitingKey, &c, window, now).is_ok();
            prop_assert!(d ^ r);
        }

        #[test]
        fn refunded_is_terminal(state in any_state(), now in 0i64..i64::MAX / 2, window in HOUR..30 * 24 * HOUR) {
            let c = LicenseClock { bought_at: 0, delivered_at: 0, expires_at: 10 };
            if state == LicenseState::Refunded {
                prop_assert_eq!(deliver(state, &c, window, now), Err(MarketError::LicenseVoid));
                prop_assert_eq!(refund(state, &c, window, now), Err(MarketError::LicenseVoid));
                prop_assert_eq!(settle(state, &c, window, now), Err(MarketError::LicenseVoid));
                prop_assert_eq!(renew(state, &c, 10, now), Err(MarketError::LicenseVoid));
                prop_assert!(!is_valid(state, &c, now));
            }
        }

        #[test]
        fn validity_follows_expiry(expires_at in 1i64..1_000_000, now in 0i64..2_000_000) {
            let c = LicenseClock { bought_at: 0, delivered_at: 0, expires_at };
            prop_assert_eq!(is_valid(LicenseState::Settled, &c, now), now < expires_at);
            prop_assert_eq!(check_usable(LicenseState::Disputed, &c, now).is_ok(), false);
            if now >= expires_at {
                prop_assert_eq!(check_usable(LicenseState::Delivered, &c, now), Err(MarketError::LicenseExpired));
            }
            prop_assert!(!is_valid(LicenseState::AwaitingKey, &c, now));
        }
    }
}
