use anchor_lang::prelude::*;

use crate::constants::*;
use crate::domain::fees::FeeBreakdown;
use crate::domain::ledger::EscrowLedger;
pub use crate::domain::listing::DatasetState;
use crate::domain::reviews::Ratings;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum DatasetCategory {
    Text,
    Image,
    Audio,
    Video,
    Code,
    Tabular,
    Multimodal,
    Other,
}

/// What a licence allows, fixed at registration and shown to every buyer.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct LicenseTerms {
    /// Validity of a licence in seconds; 0 = perpetual.
    pub duration_secs: u64,
    /// Licences that may be outstanding at once; 0 = unlimited.
    pub max_supply: u32,
    /// Sells credits (one per recorded use) at `price` each instead of one licence at `price`.
    pub metered: bool,
    /// Whether the licence token may change hands (otherwise the mint is NonTransferable).
    pub transferable: bool,
    pub ai_training: bool,
    pub commercial_use: bool,
    pub derivative_models: bool,
    pub attribution_required: bool,
}

/// One revenue recipient and its share of every sale, in basis points.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct Recipient {
    pub wallet: Pubkey,
    pub bps: u16,
}

/// A registered dataset. Only `register_dataset` creates these, always at the PDA of their content
/// hash and owner, so Anchor's owner and discriminator checks identify a genuine dataset and other instructions
/// need not re-derive its address; relations to it are checked with `has_one`. Fixed-size fields come first so clients can filter with memcmp at fixed
/// offsets: owner at 8, content_hash at 40, category at 72, state at 73, tags at 74.
#[account]
#[derive(InitSpace, Debug)]
pub struct Dataset {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    pub owner: Pubkey,
    /// sha256 of the plaintext; unique across the marketplace (it seeds this account's address).
    pub content_hash: [u8; 32],
    pub category: DatasetCategory,
    pub state: DatasetState,
    pub tags: [[u8; TAG_LEN]; MAX_TAGS],
    /// Mint buyers pay with (SPL Token or Token-2022).
    pub payment_mint: Pubkey,
    /// Token-2022 mint of this dataset's licence tokens.
    pub license_mint: Pubkey,
    /// The dataset's associated token account for `payment_mint`: holds every payment until payout.
    pub escrow_vault: Pubkey,
    /// Price of one licence (or renewal) in `payment_mint` base units; 0 = free.
    pub price: u64,
    pub terms: LicenseTerms,
    /// Share of each sale paid to the front-end that referred it.
    pub referral_fee_bps: u16,
    pub delivery_window_secs: u32,
    pub dispute_window_secs: u32,
    /// May deliver keys for the owner (e.g. a delivery daemon's hot key); Pubkey::default() = none.
    pub delivery_delegate: Pubkey,
    pub recipient_count: u8,
    pub recipients: [Recipient; MAX_RECIPIENTS],
    pub ledger: EscrowLedger,
    /// Licences sold and not refunded (the supply cap counts these).
    pub licenses_outstanding: u32,
    pub licenses_sold: u64,
    /// Why the operator revoked the dataset (0 unless revoked).
    pub revoke_reason: u16,
    /// Only buyers with an allow-list entry may purchase.
    pub allow_list_enabled: bool,
    /// Version chain: the dataset this one supersedes and the one that supersedes it (default = none).
    pub previous_version: Pubkey,
    pub next_version: Pubkey,
    /// Recorded uses, by UsagePurpose.
    pub usage_by_purpose: [u64; USAGE_PURPOSES],
    /// Review ratings (average = sum / count), paid and free licences apart.
    pub ratings: Ratings,
    /// Disputes opened and not yet ruled.
    pub open_disputes: u32,
    /// Licences bought and not yet settled or refunded: the dataset cannot close while a buyer
    /// waits for a key, a refund or a settlement. Settled licences never block it.
    pub licenses_pending: u32,
    /// Allow-list entries still open (their rent is the owner's; they are removed before closing).
    pub allow_list_entries: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub bump: u8,
    pub license_mint_bump: u8,
    #[max_len(MAX_TITLE_LEN)]
    pub title: String,
    #[max_len(MAX_METADATA_URI_LEN)]
    pub metadata_uri: String,
    #[max_len(MAX_CID_LEN)]
    pub ciphertext_cid: String,
}

impl Dataset {
    pub fn active_recipients(&self) -> &[Recipient] {
        &self.recipients[..usize::from(self.recipient_count)]
    }

    fn shares_bps(&self) -> ([u16; MAX_RECIPIENTS], usize) {
        let mut shares = [0u16; MAX_RECIPIENTS];
        for (share, recipient) in shares.iter_mut().zip(self.active_recipients()) {
            *share = recipient.bps;
        }
        (shares, usize::from(self.recipient_count))
    }

    /// An escrowed payment becomes fees and the recipients' revenue, split by this dataset's shares.
    pub fn settle_escrow(&mut self, fees: &FeeBreakdown) -> Result<()> {
        let (shares, count) = self.shares_bps();
        Ok(self.ledger.settle(fees, &shares[..count])?)
    }

    /// A payment that needs no escrow goes straight to fees and the recipients' revenue.
    pub fn accrue_revenue(&mut self, fees: &FeeBreakdown) -> Result<()> {
        let (shares, count) = self.shares_bps();
        Ok(self.ledger.accrue(fees, &shares[..count])?)
    }

    /// An unclaimed referral fee goes to the recipients, split by this dataset's shares.
    pub fn forfeit_referral(&mut self, amount: u64) -> Result<()> {
        let (shares, count) = self.shares_bps();
        Ok(self.ledger.forfeit_referral(amount, &shares[..count])?)
    }

    pub fn recipient_index(&self, wallet: &Pubkey) -> Option<usize> {
        self.active_recipients().iter().position(|r| r.wallet == *wallet)
    }

    pub fn may_deliver(&self, signer: &Pubkey) -> bool {
        *signer == self.owner || (self.delivery_delegate != Pubkey::default() && *signer == self.delivery_delegate)
    }

    /// Seeds that sign for the dataset PDA (mint authority, permanent delegate, vault owner).
    pub fn signer_seeds(&self) -> [&[u8]; 4] {
        [crate::state::seeds::DATASET, &self.content_hash, self.owner.as_ref(), std::slice::from_ref(&self.bump)]
    }

    /// The licence moves out of escrow (settled, refunded or ruled).
    pub fn finish_pending(&mut self) -> Result<()> {
        self.licenses_pending = self.licenses_pending.checked_sub(1).ok_or(crate::errors::MarketError::Overflow)?;
        Ok(())
    }
}

/// Byte offsets (discriminator included) of the fixed-size fields the usage path touches. Every
/// field before them has a fixed size, so `record_usage`, the most frequent instruction, reads and
/// bumps them in place instead of decoding and re-encoding the whole dataset. The unit test below
/// checks them against the borsh layout.
pub mod layout {
    use super::*;

    pub const STATE: usize = crate::state::REVISION_OFFSET + 8 + 32 + 32 + DatasetCategory::INIT_SPACE;
    pub const LICENSE_MINT: usize = STATE + DatasetState::INIT_SPACE + TAG_LEN * MAX_TAGS + 32;
    /// `terms.metered`: after duration_secs (u64) and max_supply (u32).
    pub const METERED: usize = LICENSE_MINT + 32 + 32 + 8 + 8 + 4;
    pub const USAGE_BY_PURPOSE: usize = METERED - 12
        + LicenseTerms::INIT_SPACE
        + 2
        + 4
        + 4
        + 32
        + 1
        + Recipient::INIT_SPACE * MAX_RECIPIENTS
        + EscrowLedger::INIT_SPACE
        + 4
        + 8
        + 2
        + 1
        + 32
        + 32;
}

/// What `record_usage` needs of a dataset, read at fixed offsets after checking the account's owner
/// (by the caller's constraint) and discriminator.
pub struct UsageView {
    pub state: DatasetState,
    pub license_mint: Pubkey,
    pub metered: bool,
}

impl UsageView {
    pub fn read(data: &[u8]) -> Result<Self> {
        require!(data.len() >= 8 + Dataset::INIT_SPACE, ErrorCode::AccountDidNotDeserialize);
        require!(data[..8] == *Dataset::DISCRIMINATOR, ErrorCode::AccountDiscriminatorMismatch);
        let state = DatasetState::try_from_slice(&data[layout::STATE..layout::STATE + 1])?;
        let license_mint = Pubkey::try_from(&data[layout::LICENSE_MINT..layout::LICENSE_MINT + 32])
            .map_err(|_| error!(ErrorCode::AccountDidNotDeserialize))?;
        Ok(UsageView { state, license_mint, metered: data[layout::METERED] != 0 })
    }

    /// Adds one use of `purpose_index` to the dataset's counters, in place (a write: the revision
    /// moves too).
    pub fn count_use(data: &mut [u8], purpose_index: usize) -> Result<()> {
        crate::state::touch_in_place(data)?;
        let at = layout::USAGE_BY_PURPOSE + 8 * purpose_index;
        let slot: &mut [u8; 8] =
            (&mut data[at..at + 8]).try_into().map_err(|_| error!(crate::errors::MarketError::Overflow))?;
        let count = u64::from_le_bytes(*slot).checked_add(1).ok_or(crate::errors::MarketError::Overflow)?;
        *slot = count.to_le_bytes();
        Ok(())
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn fixed_offsets_match_the_encoding() {
        let dataset = Dataset {
            revision: 41,
            owner: Pubkey::new_from_array([1; 32]),
            content_hash: [2; 32],
            category: DatasetCategory::Code,
            state: DatasetState::Deprecated,
            tags: [[3; TAG_LEN]; MAX_TAGS],
            payment_mint: Pubkey::new_from_array([4; 32]),
            license_mint: Pubkey::new_from_array([5; 32]),
            escrow_vault: Pubkey::new_from_array([6; 32]),
            price: 7,
            terms: LicenseTerms {
                duration_secs: 8,
                max_supply: 9,
                metered: true,
                transferable: false,
                ai_training: false,
                commercial_use: false,
                derivative_models: false,
                attribution_required: false,
            },
            referral_fee_bps: 10,
            delivery_window_secs: 11,
            dispute_window_secs: 12,
            delivery_delegate: Pubkey::new_from_array([13; 32]),
            recipient_count: 1,
            recipients: [Recipient::default(); MAX_RECIPIENTS],
            ledger: EscrowLedger::default(),
            licenses_outstanding: 14,
            licenses_sold: 15,
            revoke_reason: 16,
            allow_list_enabled: true,
            previous_version: Pubkey::new_from_array([17; 32]),
            next_version: Pubkey::new_from_array([18; 32]),
            usage_by_purpose: [21, 22, 23, 24, 25],
            ratings: Ratings::default(),
            open_disputes: 0,
            licenses_pending: 0,
            allow_list_entries: 0,
            created_at: 0,
            updated_at: 0,
            bump: 0,
            license_mint_bump: 0,
            title: "t".into(),
            metadata_uri: "u".into(),
            ciphertext_cid: "c".into(),
        };
        let mut data = Vec::new();
        dataset.try_serialize(&mut data).unwrap();
        data.resize(8 + Dataset::INIT_SPACE, 0);
        let view = UsageView::read(&data).unwrap();
        assert_eq!(view.state, DatasetState::Deprecated);
        assert_eq!(view.license_mint, dataset.license_mint);
        assert!(view.metered);
        UsageView::count_use(&mut data, 4).unwrap();
        let decoded = Dataset::try_deserialize(&mut data.as_slice()).unwrap();
        assert_eq!(decoded.usage_by_purpose, [21, 22, 23, 24, 26]);
        assert_eq!(decoded.revision, 42);
        assert_eq!(decoded.next_version, dataset.next_version);
        assert_eq!(decoded.ratings, dataset.ratings);
    }
}
