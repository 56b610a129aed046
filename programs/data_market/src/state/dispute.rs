use anchor_lang::prelude::*;

use crate::constants::MAX_EVIDENCE_URI_LEN;
pub use crate::domain::disputes::{DisputeReason, Ruling};

/// A buyer's dispute of a delivered licence and, once given, the arbiter's final ruling.
/// license at 8, dataset at 40.
#[account]
#[derive(InitSpace, Debug)]
pub struct Dispute {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    pub license: Pubkey,
    pub dataset: Pubkey,
    pub buyer: Pubkey,
    pub reason: DisputeReason,
    pub opened_at: i64,
    pub ruling: Option<Ruling>,
    pub ruled_at: i64,
    pub bump: u8,
    #[max_len(MAX_EVIDENCE_URI_LEN)]
    pub evidence_uri: String,
}
