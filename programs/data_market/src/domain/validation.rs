//! Bounds on every user-supplied input, each with its own named error.
use anchor_lang::prelude::Pubkey;

use super::DomainResult;
use crate::constants::*;
use crate::errors::MarketError;

/// Non-empty and at most `max_len` bytes.
pub fn bounded_text(text: &str, max_len: usize, error: MarketError) -> DomainResult<()> {
    if text.is_empty() || text.len() > max_len {
        return Err(error);
    }
    Ok(())
}

/// Tags are stored zero-padded in fixed slots so clients can filter datasets by tag with memcmp.
pub fn encode_tags(tags: &[String]) -> DomainResult<[[u8; TAG_LEN]; MAX_TAGS]> {
    if tags.len() > MAX_TAGS {
        return Err(MarketError::TooManyTags);
    }
    let mut slots = [[0u8; TAG_LEN]; MAX_TAGS];
    for (slot, tag) in slots.iter_mut().zip(tags) {
        if tag.is_empty() || tag.len() > TAG_LEN || tag.as_bytes().contains(&0) {
            return Err(MarketError::InvalidTag);
        }
        slot[..tag.len()].copy_from_slice(tag.as_bytes());
    }
    Ok(slots)
}

/// 1 to MAX_RECIPIENTS distinct recipients, each with a non-zero share, together exactly 10,000 bps.
pub fn check_split(recipients: &[(Pubkey, u16)]) -> DomainResult<()> {
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(MarketError::InvalidRecipientCount);
    }
    let mut total: u16 = 0;
    for (i, (wallet, bps)) in recipients.iter().enumerate() {
        if *bps == 0 {
            return Err(MarketError::ZeroShareRecipient);
        }
        if recipients[..i].iter().any(|(other, _)| other == wallet) {
            return Err(MarketError::DuplicateRecipient);
        }
        total = total.checked_add(*bps).ok_or(MarketError::SplitNotFullyAllocated)?;
    }
    if total != BPS_DENOMINATOR {
        return Err(MarketError::SplitNotFullyAllocated);
    }
    Ok(())
}

/// The operator's shortest delivery and dispute windows (marketplace policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowPolicy {
    pub min_delivery_window_secs: u32,
    pub min_dispute_window_secs: u32,
}

impl WindowPolicy {
    pub fn check(self) -> DomainResult<Self> {
        let bounds = MIN_WINDOW_FLOOR_SECS..=MIN_WINDOW_CAP_SECS;
        if !bounds.contains(&self.min_delivery_window_secs) || !bounds.contains(&self.min_dispute_window_secs) {
            return Err(MarketError::WindowPolicyOutOfBounds);
        }
        Ok(self)
    }
}

/// A dataset's windows: at least the marketplace's minimums, at most 30 days.
pub fn check_windows(delivery_window_secs: u32, dispute_window_secs: u32, policy: WindowPolicy) -> DomainResult<()> {
    if !(policy.min_delivery_window_secs..=MAX_DELIVERY_WINDOW_SECS).contains(&delivery_window_secs) {
        return Err(MarketError::DeliveryWindowOutOfBounds);
    }
    if !(policy.min_dispute_window_secs..=MAX_DISPUTE_WINDOW_SECS).contains(&dispute_window_secs) {
        return Err(MarketError::DisputeWindowOutOfBounds);
    }
    Ok(())
}

pub fn check_duration(duration_secs: u64) -> DomainResult<()> {
    if duration_secs > MAX_LICENSE_DURATION_SECS {
        return Err(MarketError::DurationTooLong);
    }
    Ok(())
}

pub fn check_protocol_fee(bps: u16) -> DomainResult<()> {
    if bps > MAX_PROTOCOL_FEE_BPS {
        return Err(MarketError::ProtocolFeeAboveCap);
    }
    Ok(())
}

/// `cap` is the operator's current cap, itself bounded by MAX_REFERRAL_FEE_BPS.
pub fn check_referral_fee(bps: u16, cap: u16) -> DomainResult<()> {
    if bps > cap || bps > MAX_REFERRAL_FEE_BPS {
        return Err(MarketError::ReferralFeeAboveCap);
    }
    Ok(())
}

pub fn non_zero<const N: usize>(bytes: &[u8; N], error: MarketError) -> DomainResult<()> {
    if bytes.iter().all(|b| *b == 0) {
        return Err(error);
    }
    Ok(())
}

/// "License: <title>": the whole title, so a wallet shows which dataset the licence is for.
pub fn license_token_name(title: &str) -> String {
    let mut name = String::with_capacity(LICENSE_NAME_PREFIX.len() + title.len());
    name.push_str(LICENSE_NAME_PREFIX);
    name.push_str(title);
    name
}

/// Bytes the Token-2022 metadata extension adds to the mint: TLV header (4), update authority (32),
/// mint (32), three length-prefixed strings and an empty additional-metadata vector (4).
pub fn token_metadata_len(name: &str, symbol: &str, uri: &str) -> usize {
    4 + 32 + 32 + (4 + name.len()) + (4 + symbol.len()) + (4 + uri.len()) + 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(n: u8) -> Pubkey {
        Pubkey::new_from_array([n; 32])
    }

    #[test]
    fn split_rules() {
        assert_eq!(check_split(&[(key(1), 10_000)]), Ok(()));
        assert_eq!(check_split(&[(key(1), 6_000), (key(2), 4_000)]), Ok(()));
        assert_eq!(check_split(&[]), Err(MarketError::InvalidRecipientCount));
        assert_eq!(check_split(&vec![(key(1), 1_000); 9]), Err(MarketError::InvalidRecipientCount));
        assert_eq!(check_split(&[(key(1), 6_000), (key(2), 3_999)]), Err(MarketError::SplitNotFullyAllocated));
        assert_eq!(check_split(&[(key(1), 6_000), (key(2), 4_001)]), Err(MarketError::SplitNotFullyAllocated));
        assert_eq!(check_split(&[(key(1), 10_000), (key(2), 0)]), Err(MarketError::ZeroShareRecipient));
        assert_eq!(check_split(&[(key(1), 5_000), (key(1), 5_000)]), Err(MarketError::DuplicateRecipient));
        assert_eq!(check_split(&[(key(1), u16::MAX), (key(2), 2)]), Err(MarketError::SplitNotFullyAllocated));
    }

    #[test]
    fn tags_and_text() {
        let slots = encode_tags(&["nlp".into(), "x".repeat(TAG_LEN)]).unwrap();
        assert_eq!(&slots[0][..4], b"nlp\0");
        assert_eq!(slots[1], [b'x'; TAG_LEN]);
        assert_eq!(slots[2], [0; TAG_LEN]);
        assert_eq!(encode_tags(&["x".repeat(TAG_LEN + 1)]), Err(MarketError::InvalidTag));
        assert_eq!(encode_tags(&["".into()]), Err(MarketError::InvalidTag));
        assert_eq!(encode_tags(&vec!["a".into(); MAX_TAGS + 1]), Err(MarketError::TooManyTags));
        assert_eq!(bounded_text("", 5, MarketError::InvalidTitle), Err(MarketError::InvalidTitle));
        assert_eq!(bounded_text("abcdef", 5, MarketError::InvalidTitle), Err(MarketError::InvalidTitle));
    }

    #[test]
    fn fee_caps() {
        assert_eq!(check_protocol_fee(MAX_PROTOCOL_FEE_BPS), Ok(()));
        assert_eq!(check_protocol_fee(MAX_PROTOCOL_FEE_BPS + 1), Err(MarketError::ProtocolFeeAboveCap));
        assert_eq!(check_referral_fee(500, 500), Ok(()));
        assert_eq!(check_referral_fee(501, 500), Err(MarketError::ReferralFeeAboveCap));
        assert_eq!(check_referral_fee(MAX_REFERRAL_FEE_BPS + 1, u16::MAX), Err(MarketError::ReferralFeeAboveCap));
    }

    const HOUR: u32 = 60 * 60;
    const PRODUCTION: WindowPolicy = WindowPolicy { min_delivery_window_secs: HOUR, min_dispute_window_secs: 2 * HOUR };

    #[test]
    fn windows_respect_the_marketplace_policy() {
        assert_eq!(check_windows(HOUR, MAX_DISPUTE_WINDOW_SECS, PRODUCTION), Ok(()));
        assert_eq!(check_windows(HOUR - 1, 2 * HOUR, PRODUCTION), Err(MarketError::DeliveryWindowOutOfBounds));
        assert_eq!(
            check_windows(MAX_DELIVERY_WINDOW_SECS + 1, 2 * HOUR, PRODUCTION),
            Err(MarketError::DeliveryWindowOutOfBounds)
        );
        assert_eq!(check_windows(HOUR, 2 * HOUR - 1, PRODUCTION), Err(MarketError::DisputeWindowOutOfBounds));
        assert_eq!(
            check_windows(HOUR, MAX_DISPUTE_WINDOW_SECS + 1, PRODUCTION),
            Err(MarketError::DisputeWindowOutOfBounds)
        );
        let local = WindowPolicy { min_delivery_window_secs: 5, min_dispute_window_secs: 5 };
        assert_eq!(check_windows(5, 5, local), Ok(()));
        assert_eq!(check_windows(4, 5, local), Err(MarketError::DeliveryWindowOutOfBounds));
    }

    #[test]
    fn window_policy_has_a_floor_and_a_cap() {
        let policy =
            |delivery, dispute| WindowPolicy { min_delivery_window_secs: delivery, min_dispute_window_secs: dispute };
        assert!(policy(MIN_WINDOW_FLOOR_SECS, MIN_WINDOW_CAP_SECS).check().is_ok());
        assert_eq!(policy(MIN_WINDOW_FLOOR_SECS - 1, HOUR).check(), Err(MarketError::WindowPolicyOutOfBounds));
        assert_eq!(policy(HOUR, MIN_WINDOW_FLOOR_SECS - 1).check(), Err(MarketError::WindowPolicyOutOfBounds));
        assert_eq!(policy(MIN_WINDOW_CAP_SECS + 1, HOUR).check(), Err(MarketError::WindowPolicyOutOfBounds));
        assert_eq!(policy(HOUR, MIN_WINDOW_CAP_SECS + 1).check(), Err(MarketError::WindowPolicyOutOfBounds));
        // a policy at its cap still leaves datasets room: the cap is below the 30-day maximum
        const { assert!(MIN_WINDOW_CAP_SECS <= MAX_DELIVERY_WINDOW_SECS && MIN_WINDOW_CAP_SECS <= MAX_DISPUTE_WINDOW_SECS) };
    }

    proptest! {
        #[test]
        fn license_name_carries_the_whole_title(title in "\\PC{0,64}") {
            let name = license_token_name(&title);
            prop_assert_eq!(name.len(), LICENSE_NAME_PREFIX.len() + title.len());
            prop_assert!(name.starts_with(LICENSE_NAME_PREFIX));
            prop_assert!(name.ends_with(&title));
        }
    }
}
