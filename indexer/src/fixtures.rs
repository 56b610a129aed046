//! Account bytes built with the program's own types and Anchor's serializer: what the tests feed
//! the store (and, later, `gen-fixtures` writes for a validator's `--account-dir`).

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountSerialize;
use data_market::constants::{MAX_RECIPIENTS, MAX_TAGS, SEALED_KEY_LEN, TAG_LEN, USAGE_PURPOSES};
use data_market::domain::ledger::EscrowLedger;
use data_market::domain::lifecycle::LicenseState;
use data_market::domain::reviews::{RatingAggregate, Ratings};
use data_market::state::{
    Dataset, DatasetCategory, DatasetState, License, LicenseTerms, Recipient, Review, UsagePurpose, UsageReceipt,
};

pub fn key(n: u8) -> Pubkey {
    Pubkey::new_from_array([n; 32])
}

pub fn serialize(account: &impl AccountSerialize) -> Vec<u8> {
    let mut data = Vec::new();
    account.try_serialize(&mut data).expect("serialize");
    data
}

/// The fields a test varies on a dataset; the rest take plain values.
#[derive(Clone, Debug)]
pub struct DatasetSpec {
    pub revision: u64,
    pub owner: Pubkey,
    pub title: String,
    pub tags: Vec<String>,
    pub category: DatasetCategory,
    pub state: DatasetState,
    pub price: u64,
    pub payment_mint: Pubkey,
    pub licenses_sold: u64,
    /// (count, sum) of paid ratings.
    pub ratings: (u32, u64),
    pub created_at: i64,
    /// Where the off-chain metadata is (`ipfs://<cid>`).
    pub metadata_uri: String,
}

impl Default for DatasetSpec {
    fn default() -> Self {
        DatasetSpec {
            revision: 1,
            owner: key(1),
            title: "A dataset".into(),
            tags: vec![],
            category: DatasetCategory::Text,
            state: DatasetState::Active,
            price: 1_000_000,
            payment_mint: key(9),
            licenses_sold: 0,
            ratings: (0, 0),
            created_at: 1_700_000_000,
            metadata_uri: "ipfs://metadata".into(),
        }
    }
}

pub fn dataset(spec: &DatasetSpec) -> Dataset {
    let mut tags = [[0u8; TAG_LEN]; MAX_TAGS];
    for (slot, tag) in tags.iter_mut().zip(&spec.tags) {
        let bytes = tag.as_bytes();
        slot[..bytes.len().min(TAG_LEN)].copy_from_slice(&bytes[..bytes.len().min(TAG_LEN)]);
    }
    let mut recipients = [Recipient::default(); MAX_RECIPIENTS];
    recipients[0] = Recipient { wallet: spec.owner, bps: 10_000 };
    Dataset {
        revision: spec.revision,
        owner: spec.owner,
        content_hash: [spec.revision as u8; 32],
        category: spec.category,
        state: spec.state,
        tags,
        payment_mint: spec.payment_mint,
        license_mint: key(10),
        escrow_vault: key(11),
        price: spec.price,
        terms: LicenseTerms {
            duration_secs: 0,
            max_supply: 0,
            metered: false,
            transferable: false,
            ai_training: true,
            commercial_use: true,
            derivative_models: true,
            attribution_required: false,
        },
        referral_fee_bps: 0,
        delivery_window_secs: 86_400,
        dispute_window_secs: 86_400,
        delivery_delegate: Pubkey::default(),
        recipient_count: 1,
        recipients,
        ledger: EscrowLedger::default(),
        licenses_outstanding: spec.licenses_sold as u32,
        licenses_sold: spec.licenses_sold,
        revoke_reason: 0,
        allow_list_enabled: false,
        previous_version: Pubkey::default(),
        next_version: Pubkey::default(),
        usage_by_purpose: [0; USAGE_PURPOSES],
        ratings: Ratings {
            paid: RatingAggregate { count: spec.ratings.0, sum: spec.ratings.1 },
            free: RatingAggregate::default(),
        },
        open_disputes: 0,
        licenses_pending: 0,
        allow_list_entries: 0,
        created_at: spec.created_at,
        updated_at: spec.created_at,
        bump: 255,
        license_mint_bump: 254,
        title: spec.title.clone(),
        metadata_uri: spec.metadata_uri.clone(),
        ciphertext_cid: "bafy".into(),
    }
}

pub fn dataset_bytes(spec: &DatasetSpec) -> Vec<u8> {
    serialize(&dataset(spec))
}

pub fn license_bytes(revision: u64, dataset: Pubkey, buyer: Pubkey) -> Vec<u8> {
    serialize(&License {
        revision,
        dataset,
        buyer,
        buyer_encryption_key: [7; 32],
        referrer: Pubkey::default(),
        state: LicenseState::AwaitingKey,
        price_paid: 1_000_000,
        protocol_fee: 0,
        referral_fee: 0,
        protocol_fee_bps: 0,
        referral_fee_bps: 0,
        refunded_amount: 0,
        credits: 1,
        usage_count: 0,
        has_dispute: false,
        serial: revision,
        referral_fee_resolved: false,
        bought_at: 1_700_000_100,
        delivered_at: 0,
        expires_at: 0,
        settled_at: 0,
        renewals: 0,
        sealed_key: [0; SEALED_KEY_LEN],
        bump: 253,
    })
}

pub fn review_bytes(revision: u64, license: Pubkey, dataset: Pubkey, rating: u8) -> Vec<u8> {
    serialize(&Review {
        revision,
        license,
        dataset,
        reviewer: key(3),
        rating,
        paid: true,
        text_hash: [0; 32],
        created_at: 1_700_000_200,
        updated_at: 1_700_000_200,
        bump: 252,
        uri: "ipfs://review".into(),
    })
}

/// A training-run receipt of `license` for the model with this hash, recorded at `recorded_at`.
pub fn receipt_bytes(license: Pubkey, dataset: Pubkey, model_hash: [u8; 32], index: u64, recorded_at: i64) -> Vec<u8> {
    serialize(&UsageReceipt {
        revision: 1,
        dataset,
        license,
        model_hash,
        holder: key(3),
        attestor: Pubkey::default(),
        purpose: UsagePurpose::Training,
        run_id: [0; 32],
        recorded_at,
        index,
        bump: 251,
    })
}
