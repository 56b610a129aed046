use anchor_lang::prelude::*;

/// What a recorded use of the data was for.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum UsagePurpose {
    Training,
    FineTuning,
    Evaluation,
    InferenceRag,
    Other,
}

impl UsagePurpose {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One recorded use of a licence. Fixed layout so clients can list receipts with memcmp filters:
/// dataset at offset 8, license at 40, model_hash at 72, holder at 104.
#[account]
#[derive(InitSpace, Debug)]
pub struct UsageReceipt {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    pub dataset: Pubkey,
    pub license: Pubkey,
    /// Hash of the model or artifact the data went into (provenance: list receipts by it).
    pub model_hash: [u8; 32],
    /// The licence holder who recorded it.
    pub holder: Pubkey,
    /// A second signer vouching for the run (e.g. the compute provider); default = none.
    pub attestor: Pubkey,
    pub purpose: UsagePurpose,
    /// Caller-chosen run identifier.
    pub run_id: [u8; 32],
    pub recorded_at: i64,
    /// Position among the licence's receipts.
    pub index: u64,
    pub bump: u8,
}
