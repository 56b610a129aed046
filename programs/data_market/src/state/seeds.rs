//! Every PDA seed prefix of the program.

/// ["marketplace"]: the one marketplace configuration.
pub const MARKETPLACE: &[u8] = b"marketplace";
/// ["dataset", content_hash]: one dataset per plaintext hash, so a hash cannot be registered twice.
pub const DATASET: &[u8] = b"dataset";
/// ["license_mint", dataset]: the Token-2022 licence mint of a dataset.
pub const LICENSE_MINT: &[u8] = b"license_mint";
/// ["license", dataset, buyer]: a buyer's licence to a dataset.
pub const LICENSE: &[u8] = b"license";
