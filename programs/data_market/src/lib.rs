//! On-chain marketplace for AI training data: owners register datasets (content hash, encrypted
//! data on IPFS, price and terms), buyers pay into a per-dataset escrow and receive a licence token,
//! owners deliver the content key sealed to the buyer, and the escrow pays owners, co-contributors,
//! referrers and the protocol once the dispute window has passed.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

// The offline SBF build links the SVM's memcpy/memset/soft-float builtins from this crate.
#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

pub mod constants;
pub mod domain;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod license_token;
pub mod pda;
pub mod state;
pub mod vault;

use constants::SEALED_KEY_LEN;
use instructions::*;
use state::{DatasetState, DisputeReason, Ruling};

declare_id!("CNUCrKX4YXbfzpMRd9T2y78sx7LJrsdqbV5DUBYCo7Vo");

#[program]
pub mod data_market {
    use super::*;

    pub fn initialize_marketplace(ctx: Context<InitializeMarketplace>, args: InitializeMarketplaceArgs) -> Result<()> {
        InitializeMarketplace::handler(ctx, args)
    }

    pub fn update_marketplace(ctx: Context<UpdateMarketplace>, args: UpdateMarketplaceArgs) -> Result<()> {
        UpdateMarketplace::handler(ctx, args)
    }

    pub fn propose_authority(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
        ProposeAuthority::handler(ctx, new_authority)
    }

    pub fn accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
        AcceptAuthority::handler(ctx)
    }

    pub fn register_dataset<'info>(
        ctx: Context<'info, RegisterDataset<'info>>,
        args: RegisterDatasetArgs,
    ) -> Result<()> {
        RegisterDataset::handler(ctx, args)
    }

    pub fn update_dataset(ctx: Context<UpdateDataset>, args: UpdateDatasetArgs) -> Result<()> {
        UpdateDataset::handler(ctx, args)
    }

    pub fn purchase_license<'info>(
        ctx: Context<'info, PurchaseLicense<'info>>,
        args: PurchaseLicenseArgs,
    ) -> Result<()> {
        PurchaseLicense::handler(ctx, args)
    }

    pub fn renew_license<'info>(ctx: Context<'info, RenewLicense<'info>>, max_price: u64) -> Result<()> {
        RenewLicense::handler(ctx, max_price)
    }

    pub fn deliver_key(ctx: Context<DeliverKey>, sealed_key: [u8; SEALED_KEY_LEN]) -> Result<()> {
        DeliverKey::handler(ctx, sealed_key)
    }

    pub fn refund_license<'info>(ctx: Context<'info, RefundLicense<'info>>) -> Result<()> {
        RefundLicense::handler(ctx)
    }

    pub fn settle_license(ctx: Context<SettleLicense>) -> Result<()> {
        SettleLicense::handler(ctx)
    }

    pub fn claim_revenue<'info>(ctx: Context<'info, ClaimRevenue<'info>>) -> Result<()> {
        ClaimRevenue::handler(ctx)
    }

    pub fn claim_referral_fee<'info>(ctx: Context<'info, ClaimReferralFee<'info>>) -> Result<()> {
        ClaimReferralFee::handler(ctx)
    }

    pub fn sweep_protocol_fees<'info>(ctx: Context<'info, SweepProtocolFees<'info>>) -> Result<()> {
        SweepProtocolFees::handler(ctx)
    }

    pub fn set_dataset_state(ctx: Context<SetDatasetState>, state: DatasetState) -> Result<()> {
        SetDatasetState::handler(ctx, state)
    }

    pub fn revoke_dataset(ctx: Context<RevokeDataset>, reason: u16) -> Result<()> {
        RevokeDataset::handler(ctx, reason)
    }

    pub fn add_to_allow_list<'info>(ctx: Context<'info, AddToAllowList<'info>>, buyer: Pubkey) -> Result<()> {
        AddToAllowList::handler(ctx, buyer)
    }

    pub fn remove_from_allow_list(ctx: Context<RemoveFromAllowList>) -> Result<()> {
        RemoveFromAllowList::handler(ctx)
    }

    pub fn buy_credits<'info>(ctx: Context<'info, BuyCredits<'info>>, credits: u32, max_price: u64) -> Result<()> {
        BuyCredits::handler(ctx, credits, max_price)
    }

    pub fn record_usage<'info>(ctx: Context<'info, RecordUsage<'info>>, args: RecordUsageArgs) -> Result<()> {
        RecordUsage::handler(ctx, args)
    }

    pub fn submit_review<'info>(ctx: Context<'info, SubmitReview<'info>>, args: ReviewArgs) -> Result<()> {
        SubmitReview::handler(ctx, args)
    }

    pub fn update_review(ctx: Context<UpdateReview>, args: ReviewArgs) -> Result<()> {
        UpdateReview::handler(ctx, args)
    }

    pub fn open_dispute<'info>(
        ctx: Context<'info, OpenDispute<'info>>,
        reason: DisputeReason,
        evidence_uri: String,
    ) -> Result<()> {
        OpenDispute::handler(ctx, reason, evidence_uri)
    }

    pub fn rule_dispute<'info>(ctx: Context<'info, RuleDispute<'info>>, ruling: Ruling) -> Result<()> {
        RuleDispute::handler(ctx, ruling)
    }

    pub fn close_dispute(ctx: Context<CloseDispute>) -> Result<()> {
        CloseDispute::handler(ctx)
    }

    pub fn close_license(ctx: Context<CloseLicense>) -> Result<()> {
        CloseLicense::handler(ctx)
    }

    pub fn close_dataset<'info>(ctx: Context<'info, CloseDataset<'info>>) -> Result<()> {
        CloseDataset::handler(ctx)
    }

    pub fn close_usage_receipt(ctx: Context<CloseUsageReceipt>) -> Result<()> {
        CloseUsageReceipt::handler(ctx)
    }

    pub fn close_review(ctx: Context<CloseReview>) -> Result<()> {
        CloseReview::handler(ctx)
    }

    pub fn forfeit_referral_fee(ctx: Context<ForfeitReferralFee>) -> Result<()> {
        ForfeitReferralFee::handler(ctx)
    }

    pub fn register_front_end<'info>(ctx: Context<'info, RegisterFrontEnd<'info>>, wallet: Pubkey) -> Result<()> {
        RegisterFrontEnd::handler(ctx, wallet)
    }

    pub fn remove_front_end(ctx: Context<RemoveFrontEnd>) -> Result<()> {
        RemoveFrontEnd::handler(ctx)
    }

    pub fn release_content_hash(ctx: Context<ReleaseContentHash>, claimant: Pubkey) -> Result<()> {
        ReleaseContentHash::handler(ctx, claimant)
    }

    pub fn enable_preview(ctx: Context<EnablePreview>, args: EnablePreviewArgs) -> Result<()> {
        EnablePreview::handler(ctx, args)
    }

    pub fn set_preview_limits(
        ctx: Context<SetPreviewLimits>,
        chunks_per_preview: u8,
        max_per_period: u16,
        period_secs: u32,
    ) -> Result<()> {
        SetPreviewLimits::handler(ctx, chunks_per_preview, max_per_period, period_secs)
    }

    pub fn request_preview(ctx: Context<RequestPreview>, nonce: u64) -> Result<()> {
        RequestPreview::handler(ctx, nonce)
    }

    pub fn answer_preview(ctx: Context<AnswerPreview>, answer_cid: String) -> Result<()> {
        AnswerPreview::handler(ctx, answer_cid)
    }

    pub fn expire_preview(ctx: Context<ExpirePreview>) -> Result<()> {
        ExpirePreview::handler(ctx)
    }

    pub fn close_preview_request(ctx: Context<ClosePreviewRequest>) -> Result<()> {
        ClosePreviewRequest::handler(ctx)
    }
}
