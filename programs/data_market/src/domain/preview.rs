//! Verifiable random previews: an owner publishes the root of a Merkle tree over the plaintext's
//! chunks and lets buyers see `k` chunks per request. Which chunks is fixed by the hash of the slot the
//! request landed in: the buyer cannot know it when sending the request, the owner cannot change it
//! afterwards. A per-period quota keeps previews from being farmed into the whole dataset.
use super::DomainResult;
use crate::constants::*;
use crate::errors::MarketError;

/// What the owner allows: `chunks_per_preview` chunks per request, at most `max_per_period` requests
/// in each period of `period_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviewLimits {
    pub chunks_per_preview: u8,
    pub max_per_period: u16,
    pub period_secs: u32,
}

/// The chunk layout of the plaintext the root commits to.
pub fn check_chunking(chunk_size: u32, chunk_count: u32) -> DomainResult<()> {
    if !(MIN_PREVIEW_CHUNK_SIZE..=MAX_PREVIEW_CHUNK_SIZE).contains(&chunk_size) || chunk_count == 0 {
        return Err(MarketError::InvalidChunking);
    }
    Ok(())
}

/// Limits are bounded, and one preview shows at most 1 / MIN_CHUNKS_PER_REVEALED of the chunks.
/// `chunks_per_preview == 0` pauses previews.
pub fn check_limits(limits: &PreviewLimits, chunk_count: u32) -> DomainResult<()> {
    if limits.chunks_per_preview == 0 {
        return Ok(());
    }
    let revealed = u32::from(limits.chunks_per_preview);
    let share_ok = revealed.checked_mul(MIN_CHUNKS_PER_REVEALED).is_some_and(|needed| needed <= chunk_count);
    if usize::from(limits.chunks_per_preview) > MAX_PREVIEW_CHUNKS || !share_ok {
        return Err(MarketError::PreviewTooLarge);
    }
    if limits.max_per_period == 0 || !(MIN_PREVIEW_PERIOD_SECS..=MAX_PREVIEW_PERIOD_SECS).contains(&limits.period_secs) {
        return Err(MarketError::InvalidPreviewLimits);
    }
    Ok(())
}

/// Requests counted in the current period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviewQuota {
    pub period_start: i64,
    pub used: u16,
}

/// Counts one request at `now`: a new period starts once the last one is over.
pub fn admit(quota: PreviewQuota, limits: &PreviewLimits, now: i64) -> DomainResult<PreviewQuota> {
    if limits.chunks_per_preview == 0 {
        return Err(MarketError::PreviewsOff);
    }
    let period_end = quota.period_start.checked_add(i64::from(limits.period_secs)).ok_or(MarketError::Overflow)?;
    let quota = if now >= period_end { PreviewQuota { period_start: now, used: 0 } } else { quota };
    if quota.used >= limits.max_per_period {
        return Err(MarketError::PreviewLimitReached);
    }
    let used = quota.used.checked_add(1).ok_or(MarketError::Overflow)?;
    Ok(PreviewQuota { used, ..quota })
}

/// The slot after which an unanswered request may be marked expired. SlotHashes keeps the last 512
/// slots, so an answer within the window can always still read the request slot's hash.
pub fn answer_deadline(requested_slot: u64) -> DomainResult<u64> {
    requested_slot.checked_add(PREVIEW_ANSWER_SLOTS).ok_or(MarketError::Overflow)
}

/// Where a request stands at `slot`, for answering: not before the request slot's hash exists, not
/// after the deadline.
pub fn check_answer_slot(requested_slot: u64, slot: u64) -> DomainResult<()> {
    if slot <= requested_slot {
        return Err(MarketError::PreviewNotDrawnYet);
    }
    if slot > answer_deadline(requested_slot)? {
        return Err(MarketError::PreviewAnswerLate);
    }
    Ok(())
}

pub fn check_expirable(requested_slot: u64, slot: u64) -> DomainResult<()> {
    if slot <= answer_deadline(requested_slot)? {
        return Err(MarketError::PreviewStillOpen);
    }
    Ok(())
}

/// The hash of `slot` in the SlotHashes sysvar's data (u64 count, then (slot u64, hash [u8; 32])
/// entries, newest first), found by binary search.
pub fn find_slot_hash(sysvar_data: &[u8], slot: u64) -> Option<[u8; 32]> {
    const ENTRY: usize = 40;
    let count = usize::try_from(u64::from_le_bytes(sysvar_data.get(..8)?.try_into().ok()?)).ok()?;
    let entries = sysvar_data.get(8..)?;
    if entries.len() / ENTRY < count {
        return None;
    }
    let slot_at = |i: usize| -> Option<u64> { Some(u64::from_le_bytes(entries.get(i * ENTRY..i * ENTRY + 8)?.try_into().ok()?)) };
    let (mut low, mut high) = (0usize, count);
    while low < high {
        let mid = low + (high - low) / 2;
        let found = slot_at(mid)?;
        if found == slot {
            return entries.get(mid * ENTRY + 8..mid * ENTRY + ENTRY)?.try_into().ok();
        }
        // newest first: larger slots come earlier
        if found > slot {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    None
}

/// The `k` distinct chunk indices a request reveals, from the request slot's hash and the request's
/// address: index_i = u64(sha256(seed || i)[..8]) mod chunk_count, moving to the next free index on a
/// repeat, with seed = sha256("data-market preview v1" || slot_hash || request). Clients compute the
/// same (see the SDK's drawPreviewChunks).
pub fn draw_chunks(slot_hash: &[u8; 32], request: &[u8; 32], chunk_count: u32, k: u8) -> DomainResult<[u32; MAX_PREVIEW_CHUNKS]> {
    let k = usize::from(k);
    if k == 0 || k > MAX_PREVIEW_CHUNKS || u32::try_from(k).map_or(true, |k| k > chunk_count) {
        return Err(MarketError::PreviewTooLarge);
    }
    let seed = solana_sha256_hasher::hashv(&[PREVIEW_DRAW_DOMAIN, slot_hash, request]).to_bytes();
    let mut drawn = [0u32; MAX_PREVIEW_CHUNKS];
    for i in 0..k {
        let counter = u32::try_from(i).map_err(|_| MarketError::Overflow)?.to_le_bytes();
        let hash = solana_sha256_hasher::hashv(&[&seed, &counter]).to_bytes();
        let mut word = [0u8; 8];
        word.copy_from_slice(&hash[..8]);
        let mut index = u32::try_from(u64::from_le_bytes(word) % u64::from(chunk_count)).map_err(|_| MarketError::Overflow)?;
        // k <= chunk_count, so a free index exists within k steps
        while drawn[..i].contains(&index) {
            index = index.checked_add(1).ok_or(MarketError::Overflow)? % chunk_count;
        }
        drawn[i] = index;
    }
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: PreviewLimits = PreviewLimits { chunks_per_preview: 2, max_per_period: 3, period_secs: 3_600 };

    fn slot_hashes(entries: &[(u64, [u8; 32])]) -> Vec<u8> {
        let mut data = (entries.len() as u64).to_le_bytes().to_vec();
        for (slot, hash) in entries {
            data.extend_from_slice(&slot.to_le_bytes());
            data.extend_from_slice(hash);
        }
        data
    }

    #[test]
    fn chunking_is_bounded() {
        assert_eq!(check_chunking(MIN_PREVIEW_CHUNK_SIZE, 1), Ok(()));
        assert_eq!(check_chunking(MAX_PREVIEW_CHUNK_SIZE, u32::MAX), Ok(()));
        assert_eq!(check_chunking(MIN_PREVIEW_CHUNK_SIZE - 1, 1), Err(MarketError::InvalidChunking));
        assert_eq!(check_chunking(MAX_PREVIEW_CHUNK_SIZE + 1, 1), Err(MarketError::InvalidChunking));
        assert_eq!(check_chunking(MIN_PREVIEW_CHUNK_SIZE, 0), Err(MarketError::InvalidChunking));
    }

    #[test]
    fn one_preview_shows_a_small_share() {
        let per = MIN_CHUNKS_PER_REVEALED;
        assert_eq!(check_limits(&LIMITS, 2 * per), Ok(()));
        assert_eq!(check_limits(&LIMITS, 2 * per - 1), Err(MarketError::PreviewTooLarge));
        let too_many = PreviewLimits { chunks_per_preview: MAX_PREVIEW_CHUNKS as u8 + 1, ..LIMITS };
        assert_eq!(check_limits(&too_many, u32::MAX), Err(MarketError::PreviewTooLarge));
        let paused = PreviewLimits { chunks_per_preview: 0, max_per_period: 0, period_secs: 0 };
        assert_eq!(check_limits(&paused, 1), Ok(()));
        let no_quota = PreviewLimits { max_per_period: 0, ..LIMITS };
        assert_eq!(check_limits(&no_quota, 1_000), Err(MarketError::InvalidPreviewLimits));
        let short = PreviewLimits { period_secs: MIN_PREVIEW_PERIOD_SECS - 1, ..LIMITS };
        assert_eq!(check_limits(&short, 1_000), Err(MarketError::InvalidPreviewLimits));
        let long = PreviewLimits { period_secs: MAX_PREVIEW_PERIOD_SECS + 1, ..LIMITS };
        assert_eq!(check_limits(&long, 1_000), Err(MarketError::InvalidPreviewLimits));
    }

    #[test]
    fn quota_counts_requests_per_period() {
        let mut quota = PreviewQuota { period_start: 0, used: 0 };
        let now = 10_000;
        for used in 1..=3 {
            quota = admit(quota, &LIMITS, now).unwrap();
            assert_eq!(quota, PreviewQuota { period_start: now, used });
        }
        assert_eq!(admit(quota, &LIMITS, now + 3_599), Err(MarketError::PreviewLimitReached));
        assert_eq!(admit(quota, &LIMITS, now + 3_600), Ok(PreviewQuota { period_start: now + 3_600, used: 1 }));
        let paused = PreviewLimits { chunks_per_preview: 0, ..LIMITS };
        assert_eq!(admit(quota, &paused, now + 9_999), Err(MarketError::PreviewsOff));
    }

    #[test]
    fn answers_fit_the_window() {
        assert_eq!(check_answer_slot(100, 100), Err(MarketError::PreviewNotDrawnYet));
        assert_eq!(check_answer_slot(100, 101), Ok(()));
        assert_eq!(check_answer_slot(100, 100 + PREVIEW_ANSWER_SLOTS), Ok(()));
        assert_eq!(check_answer_slot(100, 101 + PREVIEW_ANSWER_SLOTS), Err(MarketError::PreviewAnswerLate));
        assert_eq!(check_expirable(100, 100 + PREVIEW_ANSWER_SLOTS), Err(MarketError::PreviewStillOpen));
        assert_eq!(check_expirable(100, 101 + PREVIEW_ANSWER_SLOTS), Ok(()));
        assert_eq!(check_answer_slot(u64::MAX, u64::MAX), Err(MarketError::PreviewNotDrawnYet));
        assert_eq!(check_expirable(u64::MAX, 0), Err(MarketError::Overflow));
        // the hash of the request slot is still in SlotHashes when the window closes
        assert!(PREVIEW_ANSWER_SLOTS < 512);
    }

    #[test]
    fn slot_hashes_are_found_newest_first() {
        let entries: Vec<(u64, [u8; 32])> = (0..300u64).rev().filter(|s| s % 3 != 0).map(|s| (s, [s as u8; 32])).collect();
        let data = slot_hashes(&entries);
        for (slot, hash) in &entries {
            assert_eq!(find_slot_hash(&data, *slot), Some(*hash));
        }
        assert_eq!(find_slot_hash(&data, 3), None, "a skipped slot has no hash");
        assert_eq!(find_slot_hash(&data, 300), None);
        assert_eq!(find_slot_hash(&data[..data.len() - 1], 1), None, "a short account is refused");
        assert_eq!(find_slot_hash(&[], 1), None);
    }

    #[test]
    fn known_draw() {
        // the SDK's drawPreviewChunks test uses this same vector
        let drawn = draw_chunks(&[7; 32], &[9; 32], 1_024, 4).unwrap();
        assert_eq!(drawn[4..], [0; MAX_PREVIEW_CHUNKS - 4]);
        let again = draw_chunks(&[7; 32], &[9; 32], 1_024, 4).unwrap();
        assert_eq!(drawn, again);
        let other_slot = draw_chunks(&[8; 32], &[9; 32], 1_024, 4).unwrap();
        assert_ne!(drawn, other_slot);
        assert_eq!(drawn[..4], [346, 205, 797, 263]);
    }

    #[test]
    fn draw_refuses_more_than_there_is() {
        assert_eq!(draw_chunks(&[1; 32], &[2; 32], 3, 4), Err(MarketError::PreviewTooLarge));
        assert_eq!(draw_chunks(&[1; 32], &[2; 32], 3, 0), Err(MarketError::PreviewTooLarge));
    }

    proptest! {
        #[test]
        fn draws_are_distinct_and_in_range(hash in any::<[u8; 32]>(), request in any::<[u8; 32]>(), count in 1u32..40, k in 1u8..=8) {
            prop_assume!(u32::from(k) <= count);
            let drawn = draw_chunks(&hash, &request, count, k).unwrap();
            let drawn = &drawn[..usize::from(k)];
            for (i, index) in drawn.iter().enumerate() {
                prop_assert!(*index < count);
                prop_assert!(!drawn[..i].contains(index));
            }
        }

        #[test]
        fn quota_never_exceeds_the_limit(steps in proptest::collection::vec(0i64..2_000, 1..60)) {
            let limits = PreviewLimits { chunks_per_preview: 1, max_per_period: 4, period_secs: 3_600 };
            let mut quota = PreviewQuota { period_start: 0, used: 0 };
            let mut per_period = std::collections::BTreeMap::<i64, u16>::new();
            let mut now = 1_000_000;
            for step in steps {
                now += step;
                match admit(quota, &limits, now) {
                    Ok(next) => {
                        quota = next;
                        let count = per_period.entry(quota.period_start).or_default();
                        *count += 1;
                        prop_assert!(*count <= 4);
                        prop_assert_eq!(*count, quota.used);
                    }
                    Err(error) => {
                        // refused only while the current period is full
                        prop_assert_eq!(error, MarketError::PreviewLimitReached);
                        prop_assert_eq!(quota.used, 4);
                        prop_assert!(now < quota.period_start + 3_600);
                    }
                }
            }
        }
    }
}
