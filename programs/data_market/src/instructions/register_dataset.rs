use anchor_lang::prelude::*;
use anchor_spl::associated_token::{self, get_associated_token_address_with_program_id, AssociatedToken};
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::{self, state::Mint as MintState};
use anchor_spl::token_2022::{self, InitializeMint2, Token2022};
use anchor_spl::token_interface::{
    metadata_pointer_initialize, non_transferable_mint_initialize, permanent_delegate_initialize,
    token_metadata_initialize, MetadataPointerInitialize, Mint, NonTransferableMintInitialize,
    PermanentDelegateInitialize, TokenInterface, TokenMetadataInitialize,
};

use crate::constants::*;
use crate::domain::ledger::EscrowLedger;
use crate::domain::reviews::Ratings;
use crate::domain::validation::*;
use crate::errors::MarketError;
use crate::events::DatasetRegistered;
use crate::pda::{create_pda_account, create_program_account};
use crate::state::{
    seeds, ContentHashRecord, Dataset, DatasetCategory, DatasetState, LicenseTerms, Marketplace, Recipient, Revision,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterDatasetArgs {
    /// sha256 of the plaintext; no other dataset may use it.
    pub content_hash: [u8; 32],
    /// Shown on the licence token as "License: <title>" (at most MAX_TITLE_LEN bytes).
    pub title: String,
    /// URI of the metadata JSON (IPFS), at most MAX_METADATA_URI_LEN bytes.
    pub metadata_uri: String,
    /// IPFS CID of the encrypted data, at most MAX_CID_LEN bytes.
    pub ciphertext_cid: String,
    pub category: DatasetCategory,
    /// Up to MAX_TAGS tags of at most TAG_LEN bytes.
    pub tags: Vec<String>,
    /// Price in payment-mint base units; 0 = free.
    pub price: u64,
    pub terms: LicenseTerms,
    /// Share of each sale offered to referring front-ends, at most the marketplace's cap.
    pub referral_fee_bps: u16,
    /// Revenue split: 1 to MAX_RECIPIENTS distinct wallets, bps summing to 10,000. The first one
    /// receives rounding remainders (normally the owner).
    pub recipients: Vec<Recipient>,
    pub delivery_window_secs: u32,
    pub dispute_window_secs: u32,
    /// Only buyers on the allow-list may purchase (entries are added with add_to_allow_list).
    pub allow_list_enabled: bool,
}

#[derive(Accounts)]
#[instruction(args: RegisterDatasetArgs)]
pub struct RegisterDataset<'info> {
    /// The dataset owner; pays the rent of the dataset, its licence mint and its vault.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// Read for the referral fee cap and the minimum windows.
    pub marketplace: Box<Account<'info, Marketplace>>,
    /// CHECK: the content-hash record (address checked by the seeds). Created in the handler, or
    /// taken over by the claimant the operator released the hash to; otherwise a taken hash fails
    /// with ContentHashAlreadyRegistered.
    #[account(mut, seeds = [seeds::CONTENT_HASH, args.content_hash.as_ref()], bump)]
    pub content_hash_record: UncheckedAccount<'info>,
    /// CHECK: the dataset PDA for this content hash and owner (address checked by the seeds),
    /// created in the handler.
    #[account(mut, seeds = [seeds::DATASET, args.content_hash.as_ref(), owner.key().as_ref()], bump)]
    pub dataset: UncheckedAccount<'info>,
    /// CHECK: the licence mint PDA of this dataset (address checked by the seeds); created in the
    /// handler because its extensions depend on the terms.
    #[account(mut, seeds = [seeds::LICENSE_MINT, dataset.key().as_ref()], bump)]
    pub license_mint: UncheckedAccount<'info>,
    /// The mint buyers will pay with, owned by the payment token program.
    #[account(mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: the escrow vault, the dataset PDA's associated token account for the payment mint
    /// (created, or found already created, in the handler).
    #[account(mut, address = get_associated_token_address_with_program_id(
        &dataset.key(), &payment_mint.key(), &payment_token_program.key()) @ MarketError::WrongEscrowVault)]
    pub escrow_vault: UncheckedAccount<'info>,
    pub payment_token_program: Interface<'info, TokenInterface>,
    pub token_2022_program: Program<'info, Token2022>,
    pub associated_token_program: Program<'info, AssociatedToken>,
    pub system_program: Program<'info, System>,
    /// The dataset this one is a new version of (same owner, no successor yet); it gets linked to
    /// the new one.
    #[account(mut, has_one = owner @ MarketError::PreviousVersionNotOwned)]
    pub previous_version: Option<Box<Account<'info, Dataset>>>,
}

/// Token-2022 payment mint extensions the escrow can hold: none of them takes a fee, runs foreign
/// code, moves or freezes the vault's tokens. MintCloseAuthority is refused too: a closed mint can
/// be re-created at the same address with a permanent delegate that would drain the vault.
const ALLOWED_PAYMENT_MINT_EXTENSIONS: &[ExtensionType] = &[
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::InterestBearingConfig,
    ExtensionType::ScaledUiAmount,
    ExtensionType::GroupPointer,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroup,
    ExtensionType::TokenGroupMember,
];

impl<'info> RegisterDataset<'info> {
    fn validate(&self, args: &RegisterDatasetArgs) -> Result<()> {
        non_zero(&args.content_hash, MarketError::EmptyContentHash)?;
        bounded_text(&args.title, MAX_TITLE_LEN, MarketError::InvalidTitle)?;
        bounded_text(&args.metadata_uri, MAX_METADATA_URI_LEN, MarketError::InvalidMetadataUri)?;
        bounded_text(&args.ciphertext_cid, MAX_CID_LEN, MarketError::InvalidCiphertextCid)?;
        check_duration(args.terms.duration_secs)?;
        let policy = WindowPolicy {
            min_delivery_window_secs: self.marketplace.min_delivery_window_secs,
            min_dispute_window_secs: self.marketplace.min_dispute_window_secs,
        };
        check_windows(args.delivery_window_secs, args.dispute_window_secs, policy)?;
        check_referral_fee(args.referral_fee_bps, self.marketplace.max_referral_fee_bps)?;
        let split: Vec<(Pubkey, u16)> = args.recipients.iter().map(|r| (r.wallet, r.bps)).collect();
        check_split(&split)?;
        self.check_payment_mint()
    }

    fn check_payment_mint(&self) -> Result<()> {
        if self.payment_token_program.key() != spl_token_2022::ID {
            return Ok(());
        }
        let info = self.payment_mint.to_account_info();
        let data = info.try_borrow_data()?;
        let mint = StateWithExtensions::<MintState>::unpack(&data)?;
        for extension in mint.get_extension_types()? {
            require!(ALLOWED_PAYMENT_MINT_EXTENSIONS.contains(&extension), MarketError::UnsupportedPaymentMint);
        }
        Ok(())
    }

    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>, args: RegisterDatasetArgs) -> Result<()> {
        ctx.accounts.validate(&args)?;
        let tags = encode_tags(&args.tags)?;
        let accounts = &mut *ctx.accounts;
        // the owner's own earlier dataset with this hash (a revoked one) stays where it is
        require_keys_neq!(*accounts.dataset.owner, crate::ID, MarketError::ContentHashAlreadyRegistered);

        let dataset_key = accounts.dataset.key();
        let owner_key = accounts.owner.key();
        let dataset_bump = ctx.bumps.dataset;
        let dataset_seeds: [&[u8]; 4] = [seeds::DATASET, &args.content_hash, owner_key.as_ref(), &[dataset_bump]];
        let rent = Rent::get()?;
        accounts.record_content_hash(&args.content_hash, ctx.bumps.content_hash_record)?;

        accounts.create_license_mint(&args, &dataset_seeds, ctx.bumps.license_mint, &rent)?;

        associated_token::create_idempotent(CpiContext::new(
            accounts.associated_token_program.key(),
            associated_token::Create {
                payer: accounts.owner.to_account_info(),
                associated_token: accounts.escrow_vault.to_account_info(),
                authority: accounts.dataset.to_account_info(),
                mint: accounts.payment_mint.to_account_info(),
                system_program: accounts.system_program.to_account_info(),
                token_program: accounts.payment_token_program.to_account_info(),
            },
        ))?;

        let previous_version = match accounts.previous_version.as_mut() {
            Some(previous) => {
                require_keys_eq!(previous.next_version, Pubkey::default(), MarketError::VersionAlreadySucceeded);
                previous.next_version = dataset_key;
                previous.touch()?;
                previous.key()
            }
            None => Pubkey::default(),
        };
        let mut recipients = [Recipient::default(); MAX_RECIPIENTS];
        recipients[..args.recipients.len()].copy_from_slice(&args.recipients);
        let now = Clock::get()?.unix_timestamp;
        let dataset = Box::new(Dataset {
            revision: 0,
            owner: accounts.owner.key(),
            content_hash: args.content_hash,
            category: args.category,
            state: DatasetState::Active,
            tags,
            payment_mint: accounts.payment_mint.key(),
            license_mint: accounts.license_mint.key(),
            escrow_vault: accounts.escrow_vault.key(),
            price: args.price,
            terms: args.terms,
            referral_fee_bps: args.referral_fee_bps,
            delivery_window_secs: args.delivery_window_secs,
            dispute_window_secs: args.dispute_window_secs,
            delivery_delegate: Pubkey::default(),
            recipient_count: args.recipients.len() as u8, // <= MAX_RECIPIENTS, checked above
            recipients,
            ledger: EscrowLedger::default(),
            licenses_outstanding: 0,
            licenses_sold: 0,
            revoke_reason: 0,
            allow_list_enabled: args.allow_list_enabled,
            previous_version,
            next_version: Pubkey::default(),
            usage_by_purpose: [0; USAGE_PURPOSES],
            ratings: Ratings::default(),
            open_disputes: 0,
            licenses_pending: 0,
            allow_list_entries: 0,
            created_at: now,
            updated_at: now,
            bump: dataset_bump,
            license_mint_bump: ctx.bumps.license_mint,
            title: args.title,
            metadata_uri: args.metadata_uri,
            ciphertext_cid: args.ciphertext_cid,
        });
        create_program_account(
            &accounts.owner.to_account_info(),
            &accounts.dataset.to_account_info(),
            &accounts.system_program.to_account_info(),
            &dataset_seeds,
            &*dataset,
        )?;

        emit!(DatasetRegistered {
            dataset: dataset_key,
            owner: dataset.owner,
            content_hash: dataset.content_hash,
            license_mint: dataset.license_mint,
            payment_mint: dataset.payment_mint,
            price: dataset.price,
            previous_version,
            payment_mint_freezable: accounts.payment_mint.freeze_authority.is_some(),
        });
        Ok(())
    }

    /// Points the hash's record at the new dataset: a new record, or one the operator released to
    /// this owner after revoking the dataset that held the hash.
    fn record_content_hash(&self, content_hash: &[u8; 32], bump: u8) -> Result<()> {
        let info = self.content_hash_record.to_account_info();
        if *info.owner == crate::ID {
            let mut record = ContentHashRecord::try_deserialize(&mut &info.try_borrow_data()?[..])?;
            require_keys_eq!(record.claimant, self.owner.key(), MarketError::ContentHashAlreadyRegistered);
            record.dataset = self.dataset.key();
            record.claimant = Pubkey::default();
            record.touch()?;
            return record.try_serialize(&mut &mut info.try_borrow_mut_data()?[..]);
        }
        let record = ContentHashRecord {
            revision: 0,
            content_hash: *content_hash,
            dataset: self.dataset.key(),
            claimant: Pubkey::default(),
            bump,
        };
        let record_seeds: [&[u8]; 3] = [seeds::CONTENT_HASH, content_hash, &[bump]];
        create_program_account(
            &self.owner.to_account_info(),
            &info,
            &self.system_program.to_account_info(),
            &record_seeds,
            &record,
        )
    }

    /// The licence mint: Token-2022, 0 decimals, the dataset PDA as mint authority and permanent
    /// delegate (so a refund can burn the voided licence token), on-mint metadata so wallets show
    /// "License: <title>", and NonTransferable unless the terms allow transfers.
    fn create_license_mint(
        &self,
        args: &RegisterDatasetArgs,
        dataset_seeds: &[&[u8]],
        mint_bump: u8,
        rent: &Rent,
    ) -> Result<()> {
        let dataset_key = self.dataset.key();
        let mint_key = self.license_mint.key();
        let mint_seeds: [&[u8]; 3] = [seeds::LICENSE_MINT, dataset_key.as_ref(), &[mint_bump]];
        let mut extensions = vec![ExtensionType::MetadataPointer, ExtensionType::PermanentDelegate];
        if !args.terms.transferable {
            extensions.push(ExtensionType::NonTransferable);
        }
        let space = ExtensionType::try_calculate_account_len::<MintState>(&extensions)?;
        let name = license_token_name(&args.title);
        // fund the metadata the token program appends on initialisation, so the mint stays rent-exempt
        let funded = space
            .checked_add(token_metadata_len(&name, LICENSE_SYMBOL, &args.metadata_uri))
            .ok_or(MarketError::Overflow)?;
        create_pda_account(
            &self.owner.to_account_info(),
            &self.license_mint.to_account_info(),
            &self.system_program.to_account_info(),
            space,
            rent.minimum_balance(funded),
            &spl_token_2022::ID,
            &mint_seeds,
        )?;
        let token_program = self.token_2022_program.to_account_info();
        let mint = self.license_mint.to_account_info();
        let program = self.token_2022_program.key();
        metadata_pointer_initialize(
            CpiContext::new(
                program,
                MetadataPointerInitialize { token_program_id: token_program.clone(), mint: mint.clone() },
            ),
            Some(dataset_key),
            Some(mint_key),
        )?;
        permanent_delegate_initialize(
            CpiContext::new(
                program,
                PermanentDelegateInitialize { token_program_id: token_program.clone(), mint: mint.clone() },
            ),
            &dataset_key,
        )?;
        if !args.terms.transferable {
            non_transferable_mint_initialize(CpiContext::new(
                program,
                NonTransferableMintInitialize { token_program_id: token_program.clone(), mint: mint.clone() },
            ))?;
        }
        token_2022::initialize_mint2(
            CpiContext::new(program, InitializeMint2 { mint: mint.clone() }),
            0,
            &dataset_key,
            None,
        )?;
        let signer: &[&[&[u8]]] = &[dataset_seeds];
        token_metadata_initialize(
            CpiContext::new_with_signer(
                program,
                TokenMetadataInitialize {
                    program_id: token_program,
                    metadata: mint.clone(),
                    update_authority: self.dataset.to_account_info(),
                    mint_authority: self.dataset.to_account_info(),
                    mint,
                },
                signer,
            ),
            name,
            LICENSE_SYMBOL.to_string(),
            args.metadata_uri.clone(),
        )
    }
}
