use anchor_lang::prelude::*;

#[error_code]
#[derive(PartialEq, Eq)]
pub enum MarketError {
    #[msg("Arithmetic overflow")]
    Overflow,
    #[msg("Protocol fee is above the hard cap")]
    ProtocolFeeAboveCap,
    #[msg("Referral fee is above the cap")]
    ReferralFeeAboveCap,
    #[msg("Basis points must be at most 10,000")]
    InvalidBps,
    #[msg("Only the marketplace authority may do this")]
    NotMarketplaceAuthority,
    #[msg("Signer is not the proposed authority")]
    NotPendingAuthority,
    #[msg("No authority transfer is pending")]
    NoPendingAuthority,
    #[msg("New purchases are paused by the operator")]
    PurchasesPaused,
    #[msg("A dataset with this content hash is already registered")]
    ContentHashAlreadyRegistered,
    #[msg("Content hash must not be all zeros")]
    EmptyContentHash,
    #[msg("Title is empty or too long")]
    InvalidTitle,
    #[msg("Metadata URI is empty or too long")]
    InvalidMetadataUri,
    #[msg("Ciphertext CID is empty or too long")]
    InvalidCiphertextCid,
    #[msg("Too many tags")]
    TooManyTags,
    #[msg("A tag is empty or too long")]
    InvalidTag,
    #[msg("Licence duration is above the maximum")]
    DurationTooLong,
    #[msg("Delivery window is shorter than the marketplace minimum or longer than 30 days")]
    DeliveryWindowOutOfBounds,
    #[msg("Dispute window is shorter than the marketplace minimum or longer than 30 days")]
    DisputeWindowOutOfBounds,
    #[msg("The split needs between 1 and 5 recipients")]
    InvalidRecipientCount,
    #[msg("Split basis points must sum to 10,000")]
    SplitNotFullyAllocated,
    #[msg("Every recipient needs a non-zero share")]
    ZeroShareRecipient,
    #[msg("A recipient appears twice in the split")]
    DuplicateRecipient,
    #[msg("The payment mint uses a Token-2022 extension the escrow cannot hold safely")]
    UnsupportedPaymentMint,
    #[msg("Only the dataset owner may do this")]
    NotDatasetOwner,
    #[msg("The dataset is not open for sales")]
    DatasetNotActive,
    #[msg("Every licence of this dataset is sold")]
    SupplyExhausted,
    #[msg("The price is above the buyer's maximum")]
    PriceAboveMax,
    #[msg("The buyer's encryption key must not be all zeros")]
    InvalidEncryptionKey,
    #[msg("A buyer cannot refer their own purchase")]
    SelfReferral,
    #[msg("Only the dataset owner or its delivery delegate may deliver keys")]
    NotDeliveryAuthority,
    #[msg("The sealed key must not be all zeros")]
    InvalidSealedKey,
    #[msg("The licence is not waiting for its key")]
    LicenseNotPending,
    #[msg("The delivery window has elapsed; the buyer is owed a refund")]
    DeliveryWindowElapsed,
    #[msg("The delivery window is still open")]
    DeliveryWindowOpen,
    #[msg("The licence key has not been delivered")]
    LicenseNotDelivered,
    #[msg("The dispute window is still open")]
    DisputeWindowOpen,
    #[msg("The licence is void (refunded)")]
    LicenseVoid,
    #[msg("Signer is not the buyer of this licence")]
    NotLicenseBuyer,
    #[msg("A perpetual licence cannot be renewed")]
    LicenseIsPerpetual,
    #[msg("The licence token is no longer in the buyer's account")]
    LicenseTokenNotHeld,
    #[msg("Signer is not a revenue recipient of this dataset")]
    NotARecipient,
    #[msg("Nothing to claim")]
    NothingToClaim,
    #[msg("Signer is not this licence's referrer")]
    NotTheReferrer,
    #[msg("The licence is not settled yet")]
    LicenseNotSettled,
    #[msg("The destination is not a token account of the treasury")]
    WrongTreasury,
    #[msg("No protocol fees to sweep")]
    NothingToSweep,
    #[msg("Escrow ledger does not cover this amount")]
    EscrowShortfall,
    #[msg("Only the program's upgrade authority may create the marketplace")]
    NotUpgradeAuthority,
    #[msg("The escrow vault must be the dataset's associated token account for the payment mint")]
    WrongEscrowVault,
    #[msg("This buyer already holds a licence to this dataset (renew it instead)")]
    LicenseAlreadyExists,
    #[msg("The dataset was revoked by the operator")]
    DatasetRevoked,
    #[msg("The dataset is retired")]
    DatasetRetired,
    #[msg("The dataset cannot move to that state")]
    InvalidStateTransition,
    #[msg("The dispute window has closed")]
    DisputeWindowClosed,
    #[msg("The licence is already disputed")]
    AlreadyDisputed,
    #[msg("The licence is under dispute: its escrow is frozen until the arbiter rules")]
    LicenseDisputed,
    #[msg("Only the marketplace arbiter may rule")]
    NotArbiter,
    #[msg("The dispute has already been ruled")]
    DisputeAlreadyRuled,
    #[msg("The dispute has not been ruled yet")]
    DisputeNotRuled,
    #[msg("Evidence URI is empty or too long")]
    InvalidEvidenceUri,
    #[msg("Credit amount is out of bounds (unmetered licences are bought one at a time)")]
    InvalidCreditAmount,
    #[msg("The dataset does not sell credits")]
    NotMetered,
    #[msg("No credits left on this licence")]
    NoCreditsLeft,
    #[msg("The licence has expired")]
    LicenseExpired,
    #[msg("The model hash must not be all zeros")]
    InvalidModelHash,
    #[msg("Rating must be between 1 and 5")]
    InvalidRating,
    #[msg("Review URI is empty or too long")]
    InvalidReviewUri,
    #[msg("Only the buyer of a delivered licence may review it")]
    NotReviewAuthor,
    #[msg("The buyer is not on this dataset's allow-list")]
    NotOnAllowList,
    #[msg("The previous version must belong to the same owner")]
    PreviousVersionNotOwned,
    #[msg("The previous version already has a successor")]
    VersionAlreadySucceeded,
    #[msg("The licence still holds money owed (escrow or referral fee) or an open dispute record")]
    LicenseStillOwed,
    #[msg("The dataset still owes money, has licences or open disputes, or is not retired")]
    DatasetStillInUse,
    #[msg("This licence already has a review (edit it instead)")]
    ReviewAlreadyExists,
    #[msg("A metered licence is not renewed: its credits last until it expires")]
    MeteredNotRenewable,
    #[msg("The buyer is already on this dataset's allow-list")]
    AlreadyAllowListed,
    #[msg("A referrer must be a front-end registered by the operator, and not the default key")]
    InvalidReferrer,
    #[msg("The referral fee is already paid or handed to the recipients")]
    ReferralFeeResolved,
    #[msg("The referrer's claim window is still open")]
    ReferralClaimWindowOpen,
    #[msg("A payment token account is needed when money moves")]
    PaymentAccountRequired,
    #[msg(
        "The licence still grants use of the data: its receipts stay as provenance until it expires, is void or closed"
    )]
    LicenseStillValid,
    #[msg("Only an operator-released content hash can be claimed, and only by its claimant")]
    NotHashClaimant,
    #[msg("Only a revoked dataset's content hash can be released")]
    DatasetNotRevoked,
    #[msg("The account is not the dataset the licence or review belongs to")]
    WrongDataset,
    #[msg("The account is not the licence the receipt belongs to")]
    WrongLicense,
    #[msg("The marketplace's minimum windows must lie between 5 seconds and 7 days")]
    WindowPolicyOutOfBounds,
    #[msg("A chunk tree needs 64 B to 16 MiB chunks and at least one chunk")]
    InvalidChunking,
    #[msg("A preview reveals at most 8 chunks and at most one chunk in 8")]
    PreviewTooLarge,
    #[msg("Preview limits need at least one preview per period and a period of 1 minute to 30 days")]
    InvalidPreviewLimits,
    #[msg("The owner does not offer previews of this dataset now")]
    PreviewsOff,
    #[msg("This dataset's previews for the current period are used up; try again later")]
    PreviewLimitReached,
    #[msg("The request's slot has no hash yet: answer from the next slot on")]
    PreviewNotDrawnYet,
    #[msg("The answer window of this preview request has passed")]
    PreviewAnswerLate,
    #[msg("The owner may still answer this preview request")]
    PreviewStillOpen,
    #[msg("This preview request was already answered or expired")]
    PreviewNotPending,
    #[msg("The request slot's hash is not in the SlotHashes sysvar")]
    SlotHashUnavailable,
    #[msg("A preview request stays on record until it is answered or expired")]
    PreviewRequestOpen,
    #[msg("Only the buyer who made a preview request may close it")]
    NotPreviewBuyer,
}
