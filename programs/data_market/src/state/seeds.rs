//! Every PDA seed prefix of the program.

/// ["marketplace"]: the one marketplace configuration.
pub const MARKETPLACE: &[u8] = b"marketplace";
/// ["dataset", content_hash, owner]: a dataset. The content-hash record keeps a hash to one dataset.
pub const DATASET: &[u8] = b"dataset";
/// ["content", content_hash]: which dataset holds a plaintext hash, so a hash is registered once.
pub const CONTENT_HASH: &[u8] = b"content";
/// ["front_end", wallet]: a front-end the operator registered; only these earn referral fees.
pub const FRONT_END: &[u8] = b"front_end";
/// ["license_mint", dataset]: the Token-2022 licence mint of a dataset.
pub const LICENSE_MINT: &[u8] = b"license_mint";
/// ["license", dataset, buyer]: a buyer's licence to a dataset.
pub const LICENSE: &[u8] = b"license";
/// ["receipt", license, serial (u64 LE), index (u64 LE)]: one recorded use of a licence.
pub const RECEIPT: &[u8] = b"receipt";
/// ["review", license]: the one review of a licence.
pub const REVIEW: &[u8] = b"review";
/// ["dispute", license]: the dispute of a licence.
pub const DISPUTE: &[u8] = b"dispute";
/// ["allow", dataset, buyer]: the buyer may purchase an allow-listed dataset.
pub const ALLOW_LIST: &[u8] = b"allow";
/// ["preview_policy", dataset]: a dataset's chunk-tree root and preview limits.
pub const PREVIEW_POLICY: &[u8] = b"preview_policy";
/// ["preview", dataset, buyer, nonce (u64 LE)]: one preview request.
pub const PREVIEW: &[u8] = b"preview";
