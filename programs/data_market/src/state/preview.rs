use anchor_lang::prelude::*;

use crate::constants::*;
use crate::domain::preview::{PreviewLimits, PreviewQuota};

/// A dataset's previews: the root of the Merkle tree over its plaintext chunks (fixed once set), and
/// the owner's limits. Lives at ["preview_policy", dataset]; `enable_preview` creates it.
#[account]
#[derive(InitSpace, Debug)]
pub struct PreviewPolicy {
    pub revision: u64,
    pub dataset: Pubkey,
    /// Merkle root over the plaintext chunks (leaf = sha256(0x00 || chunk), node = sha256(0x01 || l || r)).
    pub chunk_tree_root: [u8; 32],
    pub chunk_size: u32,
    pub chunk_count: u32,
    /// Chunks one preview reveals; 0 = previews paused.
    pub chunks_per_preview: u8,
    pub max_per_period: u16,
    pub period_secs: u32,
    pub period_start: i64,
    /// Requests counted in the current period.
    pub used_in_period: u16,
    pub requested: u64,
    pub answered: u64,
    pub expired: u64,
    pub bump: u8,
}

impl PreviewPolicy {
    pub fn limits(&self) -> PreviewLimits {
        PreviewLimits {
            chunks_per_preview: self.chunks_per_preview,
            max_per_period: self.max_per_period,
            period_secs: self.period_secs,
        }
    }

    pub fn set_limits(&mut self, limits: &PreviewLimits) {
        self.chunks_per_preview = limits.chunks_per_preview;
        self.max_per_period = limits.max_per_period;
        self.period_secs = limits.period_secs;
    }

    pub fn quota(&self) -> PreviewQuota {
        PreviewQuota { period_start: self.period_start, used: self.used_in_period }
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum PreviewState {
    /// Waiting for the owner's answer.
    Requested,
    /// The owner answered in time; `chunks` are the drawn indices, `answer_cid` the bundle.
    Answered,
    /// The owner let the answer window pass: on record for every buyer to see.
    Expired,
}

/// One buyer's request for a preview, at ["preview", dataset, buyer, nonce (u64 LE)].
#[account]
#[derive(InitSpace, Debug)]
pub struct PreviewRequest {
    pub revision: u64,
    pub dataset: Pubkey,
    pub buyer: Pubkey,
    pub nonce: u64,
    pub state: PreviewState,
    /// The slot the request landed in: its hash decides the chunks.
    pub requested_slot: u64,
    pub requested_at: i64,
    /// After this slot an unanswered request may be marked expired.
    pub answer_deadline_slot: u64,
    pub answered_slot: u64,
    /// Chunks to reveal (the policy's setting when the request was made).
    pub chunks_requested: u8,
    /// The drawn chunk indices (the first `chunks_requested`), written by the answer.
    pub chunks: [u32; MAX_PREVIEW_CHUNKS],
    pub bump: u8,
    /// IPFS CID of the preview bundle (chunks and their Merkle proofs).
    #[max_len(MAX_CID_LEN)]
    pub answer_cid: String,
}
