//! Every instruction of the program, built once. `*_accounts` return the Anchor accounts struct so a
//! negative test can substitute one account before building; the plain functions build the honest
//! instruction.
use anchor_lang::prelude::*;
use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use data_market::constants::SEALED_KEY_LEN;
use data_market::instructions::*;
use data_market::state::{seeds, DatasetState, DisputeReason, Ruling};
use data_market::{accounts, instruction};
use solana_instruction::Instruction;

use crate::tokens::TOKEN_2022;

pub fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: data_market::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

pub fn marketplace_address() -> Pubkey {
    Pubkey::find_program_address(&[seeds::MARKETPLACE], &data_market::ID).0
}

pub fn content_hash_record_address(content_hash: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(&[seeds::CONTENT_HASH, content_hash], &data_market::ID).0
}

pub fn front_end_address(wallet: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::FRONT_END, wallet.as_ref()], &data_market::ID).0
}

/// Addresses of one dataset, derived the way the program derives them.
#[derive(Clone, Debug)]
pub struct DatasetHandle {
    pub address: Pubkey,
    pub owner: Pubkey,
    pub content_hash: [u8; 32],
    pub content_hash_record: Pubkey,
    pub license_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub payment_token_program: Pubkey,
    pub escrow_vault: Pubkey,
}

impl DatasetHandle {
    pub fn derive(content_hash: [u8; 32], owner: Pubkey, payment_mint: Pubkey, payment_token_program: Pubkey) -> Self {
        let address =
            Pubkey::find_program_address(&[seeds::DATASET, &content_hash, owner.as_ref()], &data_market::ID).0;
        let license_mint = Pubkey::find_program_address(&[seeds::LICENSE_MINT, address.as_ref()], &data_market::ID).0;
        let escrow_vault =
            get_associated_token_address_with_program_id(&address, &payment_mint, &payment_token_program);
        DatasetHandle {
            address,
            owner,
            content_hash,
            content_hash_record: content_hash_record_address(&content_hash),
            license_mint,
            payment_mint,
            payment_token_program,
            escrow_vault,
        }
    }

    pub fn license(&self, buyer: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[seeds::LICENSE, self.address.as_ref(), buyer.as_ref()], &data_market::ID).0
    }

    /// `holder`'s licence token account (associated, Token-2022).
    pub fn license_account(&self, holder: &Pubkey) -> Pubkey {
        get_associated_token_address_with_program_id(holder, &self.license_mint, &TOKEN_2022)
    }

    /// `owner`'s associated account of the payment mint.
    pub fn payment_account(&self, owner: &Pubkey) -> Pubkey {
        get_associated_token_address_with_program_id(owner, &self.payment_mint, &self.payment_token_program)
    }
}

/// The program's ProgramData account (upgradeable loader), which names its upgrade authority.
pub fn program_data_address() -> Pubkey {
    Pubkey::find_program_address(&[data_market::ID.as_ref()], &anchor_lang::solana_program::bpf_loader_upgradeable::ID)
        .0
}

pub fn initialize_marketplace(authority: Pubkey, args: InitializeMarketplaceArgs) -> Instruction {
    build(
        accounts::InitializeMarketplace {
            authority,
            program_data: program_data_address(),
            marketplace: marketplace_address(),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::InitializeMarketplace { args },
    )
}

pub fn update_marketplace(authority: Pubkey, args: UpdateMarketplaceArgs) -> Instruction {
    build(
        accounts::UpdateMarketplace { authority, marketplace: marketplace_address() },
        instruction::UpdateMarketplace { args },
    )
}

pub fn propose_authority(authority: Pubkey, new_authority: Pubkey) -> Instruction {
    build(
        accounts::ProposeAuthority { authority, marketplace: marketplace_address() },
        instruction::ProposeAuthority { new_authority },
    )
}

pub fn accept_authority(new_authority: Pubkey) -> Instruction {
    build(
        accounts::AcceptAuthority { new_authority, marketplace: marketplace_address() },
        instruction::AcceptAuthority {},
    )
}

pub fn register_accounts(owner: Pubkey, dataset: &DatasetHandle) -> accounts::RegisterDataset {
    accounts::RegisterDataset {
        owner,
        marketplace: marketplace_address(),
        content_hash_record: dataset.content_hash_record,
        dataset: dataset.address,
        license_mint: dataset.license_mint,
        payment_mint: dataset.payment_mint,
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
        token_2022_program: TOKEN_2022,
        associated_token_program: anchor_spl::associated_token::ID,
        system_program: anchor_lang::system_program::ID,
        previous_version: None,
    }
}

pub fn register_dataset(owner: Pubkey, dataset: &DatasetHandle, args: RegisterDatasetArgs) -> Instruction {
    build(register_accounts(owner, dataset), instruction::RegisterDataset { args })
}

pub fn update_dataset(owner: Pubkey, dataset: &DatasetHandle, args: UpdateDatasetArgs) -> Instruction {
    build(accounts::UpdateDataset { owner, dataset: dataset.address }, instruction::UpdateDataset { args })
}

/// `referrer` is the wallet of a registered front-end.
pub fn purchase_accounts(
    buyer: Pubkey,
    dataset: &DatasetHandle,
    referrer: Option<Pubkey>,
) -> accounts::PurchaseLicense {
    accounts::PurchaseLicense {
        buyer,
        marketplace: marketplace_address(),
        dataset: dataset.address,
        license: dataset.license(&buyer),
        license_mint: dataset.license_mint,
        buyer_license_account: dataset.license_account(&buyer),
        payment_mint: dataset.payment_mint,
        buyer_payment_account: Some(dataset.payment_account(&buyer)),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
        token_2022_program: TOKEN_2022,
        system_program: anchor_lang::system_program::ID,
        allow_list_entry: None,
        referrer: referrer.map(|wallet| front_end_address(&wallet)),
    }
}

/// Creates `holder`'s licence token account if it does not exist yet; clients put it in front of a
/// purchase.
pub fn create_license_account(payer: Pubkey, dataset: &DatasetHandle, holder: &Pubkey) -> Instruction {
    create_associated_token_account_idempotent(&payer, holder, &dataset.license_mint, &TOKEN_2022)
}

/// What a client sends to buy: the idempotent licence-account creation, then the purchase.
pub fn purchase_instructions(
    buyer: Pubkey,
    dataset: &DatasetHandle,
    args: PurchaseLicenseArgs,
    referrer: Option<Pubkey>,
) -> Vec<Instruction> {
    vec![create_license_account(buyer, dataset, &buyer), purchase_license(buyer, dataset, args, referrer)]
}

pub fn purchase_license(
    buyer: Pubkey,
    dataset: &DatasetHandle,
    args: PurchaseLicenseArgs,
    referrer: Option<Pubkey>,
) -> Instruction {
    build(purchase_accounts(buyer, dataset, referrer), instruction::PurchaseLicense { args })
}

pub fn renew_accounts(buyer: Pubkey, dataset: &DatasetHandle) -> accounts::RenewLicense {
    accounts::RenewLicense {
        buyer,
        marketplace: marketplace_address(),
        dataset: dataset.address,
        license: dataset.license(&buyer),
        payment_mint: dataset.payment_mint,
        buyer_payment_account: Some(dataset.payment_account(&buyer)),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
    }
}

pub fn renew_license(buyer: Pubkey, dataset: &DatasetHandle, max_price: u64) -> Instruction {
    build(renew_accounts(buyer, dataset), instruction::RenewLicense { max_price })
}

pub fn deliver_key(
    deliverer: Pubkey,
    dataset: &DatasetHandle,
    buyer: &Pubkey,
    sealed_key: [u8; SEALED_KEY_LEN],
) -> Instruction {
    build(
        accounts::DeliverKey { deliverer, dataset: dataset.address, license: dataset.license(buyer) },
        instruction::DeliverKey { sealed_key },
    )
}

pub fn refund_accounts(caller: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey) -> accounts::RefundLicense {
    accounts::RefundLicense {
        caller,
        dataset: dataset.address,
        license: dataset.license(buyer),
        license_mint: dataset.license_mint,
        buyer_license_account: dataset.license_account(buyer),
        payment_mint: dataset.payment_mint,
        buyer_payment_account: Some(dataset.payment_account(buyer)),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
        token_2022_program: TOKEN_2022,
    }
}

pub fn refund_license(caller: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey) -> Instruction {
    build(refund_accounts(caller, dataset, buyer), instruction::RefundLicense {})
}

pub fn settle_license(caller: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey) -> Instruction {
    build(
        accounts::SettleLicense { caller, dataset: dataset.address, license: dataset.license(buyer) },
        instruction::SettleLicense {},
    )
}

pub fn claim_accounts(recipient: Pubkey, dataset: &DatasetHandle) -> accounts::ClaimRevenue {
    accounts::ClaimRevenue {
        recipient,
        dataset: dataset.address,
        payment_mint: dataset.payment_mint,
        recipient_account: dataset.payment_account(&recipient),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
    }
}

pub fn claim_revenue(recipient: Pubkey, dataset: &DatasetHandle) -> Instruction {
    build(claim_accounts(recipient, dataset), instruction::ClaimRevenue {})
}

pub fn claim_referral_accounts(
    referrer: Pubkey,
    dataset: &DatasetHandle,
    buyer: &Pubkey,
) -> accounts::ClaimReferralFee {
    accounts::ClaimReferralFee {
        referrer,
        dataset: dataset.address,
        license: dataset.license(buyer),
        payment_mint: dataset.payment_mint,
        referrer_account: dataset.payment_account(&referrer),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
    }
}

pub fn claim_referral_fee(referrer: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey) -> Instruction {
    build(claim_referral_accounts(referrer, dataset, buyer), instruction::ClaimReferralFee {})
}

pub fn sweep_accounts(caller: Pubkey, dataset: &DatasetHandle, treasury: &Pubkey) -> accounts::SweepProtocolFees {
    accounts::SweepProtocolFees {
        caller,
        marketplace: marketplace_address(),
        dataset: dataset.address,
        payment_mint: dataset.payment_mint,
        treasury_account: dataset.payment_account(treasury),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
    }
}

pub fn sweep_protocol_fees(caller: Pubkey, dataset: &DatasetHandle, treasury: &Pubkey) -> Instruction {
    build(sweep_accounts(caller, dataset, treasury), instruction::SweepProtocolFees {})
}

pub fn allow_list_entry_address(dataset: &DatasetHandle, buyer: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::ALLOW_LIST, dataset.address.as_ref(), buyer.as_ref()], &data_market::ID).0
}

pub fn review_address(license: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::REVIEW, license.as_ref()], &data_market::ID).0
}

pub fn dispute_address(license: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::DISPUTE, license.as_ref()], &data_market::ID).0
}

/// The receipt of use number `index` of the licence with sale number `serial`.
pub fn receipt_address(license: &Pubkey, serial: u64, index: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[seeds::RECEIPT, license.as_ref(), &serial.to_le_bytes(), &index.to_le_bytes()],
        &data_market::ID,
    )
    .0
}

pub fn set_dataset_state(owner: Pubkey, dataset: &DatasetHandle, state: DatasetState) -> Instruction {
    build(accounts::SetDatasetState { owner, dataset: dataset.address }, instruction::SetDatasetState { state })
}

pub fn revoke_dataset(authority: Pubkey, dataset: &DatasetHandle, reason: u16) -> Instruction {
    build(
        accounts::RevokeDataset { authority, marketplace: marketplace_address(), dataset: dataset.address },
        instruction::RevokeDataset { reason },
    )
}

pub fn add_to_allow_list(owner: Pubkey, dataset: &DatasetHandle, buyer: Pubkey) -> Instruction {
    build(
        accounts::AddToAllowList {
            owner,
            dataset: dataset.address,
            entry: allow_list_entry_address(dataset, &buyer),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::AddToAllowList { buyer },
    )
}

pub fn remove_from_allow_list(owner: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey) -> Instruction {
    build(
        accounts::RemoveFromAllowList {
            owner,
            dataset: dataset.address,
            entry: allow_list_entry_address(dataset, buyer),
        },
        instruction::RemoveFromAllowList {},
    )
}

pub fn buy_credits_accounts(buyer: Pubkey, dataset: &DatasetHandle) -> accounts::BuyCredits {
    accounts::BuyCredits {
        buyer,
        marketplace: marketplace_address(),
        dataset: dataset.address,
        license: dataset.license(&buyer),
        license_mint: dataset.license_mint,
        buyer_license_account: dataset.license_account(&buyer),
        payment_mint: dataset.payment_mint,
        buyer_payment_account: Some(dataset.payment_account(&buyer)),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
        token_2022_program: TOKEN_2022,
    }
}

pub fn buy_credits(buyer: Pubkey, dataset: &DatasetHandle, credits: u32, max_price: u64) -> Instruction {
    build(buy_credits_accounts(buyer, dataset), instruction::BuyCredits { credits, max_price })
}

/// `serial` and `index` come from the licence account (its sale number and usage count).
pub fn record_usage_accounts(
    holder: Pubkey,
    dataset: &DatasetHandle,
    serial: u64,
    index: u64,
    attestor: Option<Pubkey>,
) -> accounts::RecordUsage {
    let license = dataset.license(&holder);
    accounts::RecordUsage {
        holder,
        attestor,
        dataset: dataset.address,
        license,
        license_mint: dataset.license_mint,
        holder_license_account: dataset.license_account(&holder),
        receipt: receipt_address(&license, serial, index),
        token_2022_program: TOKEN_2022,
        system_program: anchor_lang::system_program::ID,
    }
}

pub fn record_usage(accounts: accounts::RecordUsage, args: RecordUsageArgs) -> Instruction {
    build(accounts, instruction::RecordUsage { args })
}

pub fn submit_review(reviewer: Pubkey, dataset: &DatasetHandle, args: ReviewArgs) -> Instruction {
    let license = dataset.license(&reviewer);
    build(
        accounts::SubmitReview {
            reviewer,
            dataset: dataset.address,
            license,
            review: review_address(&license),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::SubmitReview { args },
    )
}

pub fn update_review(reviewer: Pubkey, dataset: &DatasetHandle, args: ReviewArgs) -> Instruction {
    let license = dataset.license(&reviewer);
    build(
        accounts::UpdateReview { reviewer, dataset: dataset.address, license, review: review_address(&license) },
        instruction::UpdateReview { args },
    )
}

pub fn open_dispute(buyer: Pubkey, dataset: &DatasetHandle, reason: DisputeReason, evidence_uri: &str) -> Instruction {
    let license = dataset.license(&buyer);
    build(
        accounts::OpenDispute {
            buyer,
            dataset: dataset.address,
            license,
            dispute: dispute_address(&license),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::OpenDispute { reason, evidence_uri: evidence_uri.to_string() },
    )
}

pub fn rule_dispute_accounts(arbiter: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey) -> accounts::RuleDispute {
    let license = dataset.license(buyer);
    accounts::RuleDispute {
        arbiter,
        marketplace: marketplace_address(),
        dataset: dataset.address,
        license,
        dispute: dispute_address(&license),
        license_mint: dataset.license_mint,
        buyer_license_account: dataset.license_account(buyer),
        payment_mint: dataset.payment_mint,
        buyer_payment_account: Some(dataset.payment_account(buyer)),
        escrow_vault: dataset.escrow_vault,
        payment_token_program: dataset.payment_token_program,
        token_2022_program: TOKEN_2022,
    }
}

pub fn rule_dispute(arbiter: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey, ruling: Ruling) -> Instruction {
    build(rule_dispute_accounts(arbiter, dataset, buyer), instruction::RuleDispute { ruling })
}

pub fn close_dispute(buyer: Pubkey, dataset: &DatasetHandle) -> Instruction {
    let license = dataset.license(&buyer);
    build(accounts::CloseDispute { buyer, license, dispute: dispute_address(&license) }, instruction::CloseDispute {})
}

pub fn close_license_accounts(buyer: Pubkey, dataset: &DatasetHandle) -> accounts::CloseLicense {
    accounts::CloseLicense {
        buyer,
        dataset: dataset.address,
        license: dataset.license(&buyer),
        license_mint: dataset.license_mint,
        buyer_license_account: dataset.license_account(&buyer),
        token_2022_program: TOKEN_2022,
    }
}

pub fn close_license(buyer: Pubkey, dataset: &DatasetHandle) -> Instruction {
    build(close_license_accounts(buyer, dataset), instruction::CloseLicense {})
}

pub fn close_dataset(owner: Pubkey, dataset: &DatasetHandle) -> Instruction {
    build(
        accounts::CloseDataset {
            owner,
            dataset: dataset.address,
            payment_mint: dataset.payment_mint,
            escrow_vault: dataset.escrow_vault,
            owner_payment_account: dataset.payment_account(&owner),
            payment_token_program: dataset.payment_token_program,
        },
        instruction::CloseDataset {},
    )
}

pub fn register_front_end(authority: Pubkey, wallet: Pubkey) -> Instruction {
    build(
        accounts::RegisterFrontEnd {
            authority,
            marketplace: marketplace_address(),
            front_end: front_end_address(&wallet),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::RegisterFrontEnd { wallet },
    )
}

pub fn remove_front_end(authority: Pubkey, wallet: &Pubkey) -> Instruction {
    build(
        accounts::RemoveFrontEnd {
            authority,
            marketplace: marketplace_address(),
            front_end: front_end_address(wallet),
        },
        instruction::RemoveFrontEnd {},
    )
}

pub fn forfeit_referral_fee(caller: Pubkey, dataset: &DatasetHandle, buyer: &Pubkey) -> Instruction {
    build(
        accounts::ForfeitReferralFee { caller, dataset: dataset.address, license: dataset.license(buyer) },
        instruction::ForfeitReferralFee {},
    )
}

pub fn close_usage_receipt(holder: Pubkey, license: Pubkey, receipt: Pubkey) -> Instruction {
    build(accounts::CloseUsageReceipt { holder, receipt, license }, instruction::CloseUsageReceipt {})
}

pub fn close_review(reviewer: Pubkey, dataset: &DatasetHandle) -> Instruction {
    let license = dataset.license(&reviewer);
    build(
        accounts::CloseReview { reviewer, review: review_address(&license), dataset: dataset.address },
        instruction::CloseReview {},
    )
}

pub fn release_content_hash(authority: Pubkey, dataset: &DatasetHandle, claimant: Pubkey) -> Instruction {
    build(
        accounts::ReleaseContentHash {
            authority,
            marketplace: marketplace_address(),
            content_hash_record: dataset.content_hash_record,
            dataset: dataset.address,
        },
        instruction::ReleaseContentHash { claimant },
    )
}

/// The compute-unit limit and price instructions a client puts in front of every transaction, at
/// their largest encodings.
pub fn compute_budget_instructions() -> [Instruction; 2] {
    let program = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
    let mut limit = vec![2u8];
    limit.extend(1_400_000u32.to_le_bytes());
    let mut price = vec![3u8];
    price.extend(u64::MAX.to_le_bytes());
    [Instruction::new_with_bytes(program, &limit, vec![]), Instruction::new_with_bytes(program, &price, vec![])]
}

pub fn preview_policy_address(dataset: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::PREVIEW_POLICY, dataset.as_ref()], &data_market::ID).0
}

pub fn preview_request_address(dataset: &Pubkey, buyer: &Pubkey, nonce: u64) -> Pubkey {
    Pubkey::find_program_address(&[seeds::PREVIEW, dataset.as_ref(), buyer.as_ref(), &nonce.to_le_bytes()], &data_market::ID)
        .0
}

pub fn enable_preview_accounts(owner: Pubkey, dataset: &DatasetHandle) -> accounts::EnablePreview {
    accounts::EnablePreview {
        owner,
        dataset: dataset.address,
        preview_policy: preview_policy_address(&dataset.address),
        system_program: anchor_lang::system_program::ID,
    }
}

pub fn enable_preview(owner: Pubkey, dataset: &DatasetHandle, args: EnablePreviewArgs) -> Instruction {
    build(enable_preview_accounts(owner, dataset), instruction::EnablePreview { args })
}

pub fn set_preview_limits_accounts(owner: Pubkey, dataset: &DatasetHandle) -> accounts::SetPreviewLimits {
    accounts::SetPreviewLimits { owner, dataset: dataset.address, preview_policy: preview_policy_address(&dataset.address) }
}

pub fn set_preview_limits(owner: Pubkey, dataset: &DatasetHandle, chunks_per_preview: u8, max_per_period: u16, period_secs: u32) -> Instruction {
    build(
        set_preview_limits_accounts(owner, dataset),
        instruction::SetPreviewLimits { chunks_per_preview, max_per_period, period_secs },
    )
}

pub fn request_preview_accounts(buyer: Pubkey, dataset: &DatasetHandle, nonce: u64) -> accounts::RequestPreview {
    accounts::RequestPreview {
        buyer,
        dataset: dataset.address,
        preview_policy: preview_policy_address(&dataset.address),
        preview_request: preview_request_address(&dataset.address, &buyer, nonce),
        system_program: anchor_lang::system_program::ID,
    }
}

pub fn request_preview(buyer: Pubkey, dataset: &DatasetHandle, nonce: u64) -> Instruction {
    build(request_preview_accounts(buyer, dataset, nonce), instruction::RequestPreview { nonce })
}

pub fn answer_preview_accounts(deliverer: Pubkey, dataset: &DatasetHandle, request: Pubkey) -> accounts::AnswerPreview {
    accounts::AnswerPreview {
        deliverer,
        dataset: dataset.address,
        preview_policy: preview_policy_address(&dataset.address),
        preview_request: request,
        slot_hashes: anchor_lang::compat::solana_sysvar::slot_hashes::ID,
    }
}

pub fn answer_preview(deliverer: Pubkey, dataset: &DatasetHandle, request: Pubkey, answer_cid: &str) -> Instruction {
    build(answer_preview_accounts(deliverer, dataset, request), instruction::AnswerPreview { answer_cid: answer_cid.into() })
}

pub fn expire_preview(caller: Pubkey, dataset: &DatasetHandle, request: Pubkey) -> Instruction {
    build(
        accounts::ExpirePreview { caller, preview_policy: preview_policy_address(&dataset.address), preview_request: request },
        instruction::ExpirePreview {},
    )
}

pub fn close_preview_request(buyer: Pubkey, request: Pubkey) -> Instruction {
    build(accounts::ClosePreviewRequest { buyer, preview_request: request }, instruction::ClosePreviewRequest {})
}
