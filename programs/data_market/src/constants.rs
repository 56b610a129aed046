//! Limits every input is checked against. Changing one changes account sizes: keep them in one place.

/// Basis points in 100%.
pub const BPS_DENOMINATOR: u16 = 10_000;
/// Hard cap on the protocol fee; the operator cannot configure more than 10%.
pub const MAX_PROTOCOL_FEE_BPS: u16 = 1_000;
/// Hard cap on the referral fee a dataset may offer front-ends (and on the operator's cap).
pub const MAX_REFERRAL_FEE_BPS: u16 = 2_000;

/// Revenue recipients of one dataset (the owner and co-contributors); bounded with the text fields
/// below so a registration with every field at its maximum fits one legacy transaction.
pub const MAX_RECIPIENTS: usize = 5;
/// Tags per dataset and bytes per tag (UTF-8, stored zero-padded at a fixed offset for memcmp filters).
pub const MAX_TAGS: usize = 5;
pub const TAG_LEN: usize = 24;
pub const MAX_TITLE_LEN: usize = 64;
/// Long enough for `ipfs://<CIDv1>/<file name>` (a CIDv1 is 59 characters); bounded so a registration
/// with every field at its maximum still fits one legacy transaction (1,232 bytes).
pub const MAX_METADATA_URI_LEN: usize = 96;
/// A CIDv1 in base32 is 59 characters, a CIDv0 46.
pub const MAX_CID_LEN: usize = 64;

/// The buyer waits for the key at most 30 days, then claims a refund; after delivery the buyer has at
/// most 30 days to dispute before the escrow can settle. The shortest windows are marketplace policy
/// (`Marketplace::min_delivery_window_secs`, `min_dispute_window_secs`).
pub const MAX_DELIVERY_WINDOW_SECS: u32 = 30 * 24 * 60 * 60;
pub const MAX_DISPUTE_WINDOW_SECS: u32 = 30 * 24 * 60 * 60;
/// Bounds of the operator's minimum windows: a few seconds lets a local or test marketplace run a
/// whole licence lifecycle on a real clock; no operator can demand more than a week.
pub const MIN_WINDOW_FLOOR_SECS: u32 = 5;
pub const MIN_WINDOW_CAP_SECS: u32 = 7 * 24 * 60 * 60;
/// A licence lasts at most 10 years; 0 means perpetual.
pub const MAX_LICENSE_DURATION_SECS: u64 = 10 * 365 * 24 * 60 * 60;

/// Sealed content key written to a licence: version (1) | ephemeral X25519 public key (32) |
/// nonce (12) | AES-256-GCM(content key) (32 + 16 tag) | reserved (3).
pub const SEALED_KEY_LEN: usize = 96;

/// Credits one purchase or top-up of a metered licence may buy.
pub const MAX_CREDITS_PER_PURCHASE: u32 = 1_000_000;
/// Kinds of use a receipt can record (see UsagePurpose).
pub const USAGE_PURPOSES: usize = 5;
pub const MAX_REVIEW_URI_LEN: usize = 100;
pub const MAX_EVIDENCE_URI_LEN: usize = 200;

/// A referrer has this long after settlement to claim its fee; after that anyone may hand the fee to
/// the dataset's recipients, so an absent referrer never blocks a licence or its dataset.
pub const REFERRAL_CLAIM_WINDOW_SECS: i64 = 90 * 24 * 60 * 60;

/// License token metadata shown by wallets: "License: <title>", the whole title.
pub const LICENSE_NAME_PREFIX: &str = "License: ";
pub const LICENSE_SYMBOL: &str = "DLIC";

/// Previews: the plaintext chunk sizes a chunk tree may use (the DMC1 chunk sizes clients write).
pub const MIN_PREVIEW_CHUNK_SIZE: u32 = 64;
pub const MAX_PREVIEW_CHUNK_SIZE: u32 = 16 * 1024 * 1024;
/// Chunks one preview may reveal at most.
pub const MAX_PREVIEW_CHUNKS: usize = 8;
/// A preview reveals at most one chunk in this many.
pub const MIN_CHUNKS_PER_REVEALED: u32 = 8;
/// Bounds of the period a preview quota counts over.
pub const MIN_PREVIEW_PERIOD_SECS: u32 = 60;
pub const MAX_PREVIEW_PERIOD_SECS: u32 = 30 * 24 * 60 * 60;
/// Slots the owner has to answer a preview request (about a minute at 400 ms slots); must stay below
/// the 512 slots the SlotHashes sysvar keeps.
pub const PREVIEW_ANSWER_SLOTS: u64 = 150;
/// Domain separation of the preview draw's seed.
pub const PREVIEW_DRAW_DOMAIN: &[u8] = b"data-market preview v1";
