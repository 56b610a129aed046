use anchor_lang::prelude::*;

/// Lets `buyer` purchase `dataset` while the dataset's allow-list is enabled.
#[account]
#[derive(InitSpace, Debug)]
pub struct AllowListEntry {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    pub dataset: Pubkey,
    pub buyer: Pubkey,
    pub bump: u8,
}
