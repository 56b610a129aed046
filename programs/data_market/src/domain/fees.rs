//! Fee math in basis points, without 128-bit arithmetic (the SBF targets cannot rely on it).
use super::DomainResult;
use crate::constants::BPS_DENOMINATOR;
use crate::errors::MarketError;

/// floor(amount * bps / 10_000), exact for every u64 amount.
///
/// With amount = q * 10_000 + r this is q * bps + floor(r * bps / 10_000): neither product can
/// overflow because bps <= 10_000 and r < 10_000.
pub fn bps_of(amount: u64, bps: u16) -> DomainResult<u64> {
    if bps > BPS_DENOMINATOR {
        return Err(MarketError::InvalidBps);
    }
    let denominator = u64::from(BPS_DENOMINATOR);
    let bps = u64::from(bps);
    let whole = (amount / denominator).checked_mul(bps).ok_or(MarketError::Overflow)?;
    let part = (amount % denominator).checked_mul(bps).ok_or(MarketError::Overflow)? / denominator;
    whole.checked_add(part).ok_or(MarketError::Overflow)
}

/// How one payment divides: the protocol's fee, the referrer's fee, and what the recipients share.
/// `protocol_fee + referral_fee + net == gross` always.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeeBreakdown {
    pub gross: u64,
    pub protocol_fee: u64,
    pub referral_fee: u64,
    pub net: u64,
}

pub fn breakdown(gross: u64, protocol_fee_bps: u16, referral_fee_bps: u16) -> DomainResult<FeeBreakdown> {
    let protocol_fee = bps_of(gross, protocol_fee_bps)?;
    let referral_fee = bps_of(gross, referral_fee_bps)?;
    let net = gross
        .checked_sub(protocol_fee)
        .and_then(|rest| rest.checked_sub(referral_fee))
        .ok_or(MarketError::InvalidBps)?;
    Ok(FeeBreakdown { gross, protocol_fee, referral_fee, net })
}

/// Splits `amount` by `shares_bps` (which sum to 10,000). Each recipient gets the floor of its share;
/// the rounding remainder (at most one unit per recipient) goes to the first recipient, the dataset
/// owner, so the parts always sum exactly to `amount`.
pub fn split<const N: usize>(amount: u64, shares_bps: &[u16]) -> DomainResult<[u64; N]> {
    if shares_bps.is_empty() || shares_bps.len() > N {
        return Err(MarketError::InvalidRecipientCount);
    }
    let mut parts = [0u64; N];
    let mut allocated = 0u64;
    for (part, bps) in parts.iter_mut().zip(shares_bps) {
        *part = bps_of(amount, *bps)?;
        allocated = allocated.checked_add(*part).ok_or(MarketError::Overflow)?;
    }
    let remainder = amount.checked_sub(allocated).ok_or(MarketError::SplitNotFullyAllocated)?;
    parts[0] = parts[0].checked_add(remainder).ok_or(MarketError::Overflow)?;
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bps_of_edges() {
        assert_eq!(bps_of(0, 10_000), Ok(0));
        assert_eq!(bps_of(u64::MAX, 10_000), Ok(u64::MAX));
        assert_eq!(bps_of(u64::MAX, 0), Ok(0));
        assert_eq!(bps_of(9_999, 1), Ok(0));
        assert_eq!(bps_of(10_000, 1), Ok(1));
        assert_eq!(bps_of(1_000_000, 250), Ok(25_000));
        assert_eq!(bps_of(1, 10_001), Err(MarketError::InvalidBps));
    }

    #[test]
    fn remainder_goes_to_the_first_recipient() {
        let parts: [u64; 8] = split(10, &[3_333, 3_333, 3_334]).unwrap();
        assert_eq!(&parts[..3], &[4, 3, 3]);
        assert_eq!(parts.iter().sum::<u64>(), 10);
    }

    #[test]
    fn breakdown_of_a_sale() {
        let b = breakdown(1_000_000, 250, 500).unwrap();
        assert_eq!(b, FeeBreakdown { gross: 1_000_000, protocol_fee: 25_000, referral_fee: 50_000, net: 925_000 });
        assert_eq!(breakdown(100, 6_000, 5_000), Err(MarketError::InvalidBps));
    }

    fn shares() -> impl Strategy<Value = Vec<u16>> {
        // random cut points of 0..=10_000 give shares that sum to 10_000
        proptest::collection::vec(1u16..10_000, 0..7).prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts.dedup();
            let mut out = Vec::new();
            let mut last = 0u16;
            for c in cuts.into_iter().chain(std::iter::once(10_000)) {
                out.push(c - last);
                last = c;
            }
            out
        })
    }

    proptest! {
        #[test]
        fn bps_of_matches_wide_arithmetic(amount in any::<u64>(), bps in 0u16..=10_000) {
            let wide = (u128::from(amount) * u128::from(bps) / 10_000) as u64;
            prop_assert_eq!(bps_of(amount, bps).unwrap(), wide);
        }

        #[test]
        fn breakdown_conserves(gross in any::<u64>(), p in 0u16..=1_000, r in 0u16..=2_000) {
            let b = breakdown(gross, p, r).unwrap();
            prop_assert_eq!(b.protocol_fee + b.referral_fee + b.net, gross);
        }

        #[test]
        fn split_has_no_rounding_leak(amount in any::<u64>(), shares in shares()) {
            let parts: [u64; 8] = split(amount, &shares).unwrap();
            let total: u128 = parts.iter().map(|p| u128::from(*p)).sum();
            prop_assert_eq!(total, u128::from(amount));
            for (i, bps) in shares.iter().enumerate() {
                let exact = u128::from(amount) * u128::from(*bps) / 10_000;
                // each recipient gets its floor share; the owner also gets the remainder (< number of recipients)
                if i == 0 {
                    prop_assert!(u128::from(parts[0]) >= exact && u128::from(parts[0]) < exact + shares.len() as u128);
                } else {
                    prop_assert_eq!(u128::from(parts[i]), exact);
                }
            }
        }
    }
}
