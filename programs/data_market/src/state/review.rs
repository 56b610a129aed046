use anchor_lang::prelude::*;

use crate::constants::MAX_REVIEW_URI_LEN;

/// The one review of a licence, editable by its author. license at 8, dataset at 40, reviewer at 72.
#[account]
#[derive(InitSpace, Debug)]
pub struct Review {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    pub license: Pubkey,
    pub dataset: Pubkey,
    pub reviewer: Pubkey,
    /// 1 to 5.
    pub rating: u8,
    /// The licence was paid for: its rating counts with paid reviews (see Ratings).
    pub paid: bool,
    /// sha256 of the review text kept at `uri`.
    pub text_hash: [u8; 32],
    pub created_at: i64,
    pub updated_at: i64,
    pub bump: u8,
    #[max_len(MAX_REVIEW_URI_LEN)]
    pub uri: String,
}
