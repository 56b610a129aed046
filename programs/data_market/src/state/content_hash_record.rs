use anchor_lang::prelude::*;

/// Keeps a plaintext hash to one dataset: registering a hash that has a record fails, unless the
/// operator released the hash (after revoking a dataset that squatted it) to the registering owner.
#[account]
#[derive(InitSpace, Debug)]
pub struct ContentHashRecord {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    pub content_hash: [u8; 32],
    /// The dataset registered with this hash.
    pub dataset: Pubkey,
    /// Set by the operator's `release_content_hash`: the only owner who may register this hash again
    /// (Pubkey::default() = not released).
    pub claimant: Pubkey,
    pub bump: u8,
}
