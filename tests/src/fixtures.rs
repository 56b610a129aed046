//! A marketplace with an operator, a treasury and a USDC-like payment mint, plus the common steps of
//! a sale, so scenarios read as stories.
use std::ops::{Deref, DerefMut};

use anchor_lang::prelude::*;
use data_market::constants::SEALED_KEY_LEN;
use data_market::instructions::*;
use data_market::state::{DatasetCategory, LicenseTerms, Recipient};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::backend::Backend;
pub use crate::builders::*;
use crate::market::{Market, Outcome, TxResult};
use crate::tokens::{MintExtra, PaymentMint, TOKEN};

pub const PROTOCOL_FEE_BPS: u16 = 250;
pub const MAX_REFERRAL_FEE_BPS: u16 = 1_000;
pub const REFERRAL_FEE_BPS: u16 = 500;
/// 25 "USDC" (6 decimals).
pub const PRICE: u64 = 25_000_000;
pub const DAY: i64 = 24 * 60 * 60;
pub const DELIVERY_WINDOW: u32 = 2 * 24 * 60 * 60;
pub const DISPUTE_WINDOW: u32 = 3 * 24 * 60 * 60;
/// The test marketplace's policy: the shortest windows a dataset may set (a production policy).
pub const MIN_DELIVERY_WINDOW: u32 = 60 * 60;
pub const MIN_DISPUTE_WINDOW: u32 = 60 * 60;
pub const BUYER_KEY: [u8; 32] = [7; 32];
pub const SEALED_KEY: [u8; SEALED_KEY_LEN] = [9; SEALED_KEY_LEN];

pub struct World {
    pub market: Market,
    pub operator: Keypair,
    pub treasury: Keypair,
    pub arbiter: Keypair,
    pub usdc: PaymentMint,
}

impl Deref for World {
    type Target = Market;
    fn deref(&self) -> &Market {
        &self.market
    }
}

impl DerefMut for World {
    fn deref_mut(&mut self) -> &mut Market {
        &mut self.market
    }
}

/// A deterministic, non-zero stand-in for a sha256 content hash.
pub fn content_hash(label: &str) -> [u8; 32] {
    let mut hash = [0xA5u8; 32];
    for (i, byte) in label.bytes().enumerate() {
        hash[i % 32] ^= byte.rotate_left(i as u32 / 32);
    }
    hash
}

pub fn single_owner(owner: &Pubkey) -> Vec<Recipient> {
    vec![Recipient { wallet: *owner, bps: 10_000 }]
}

pub fn dataset_args(label: &str, recipients: Vec<Recipient>) -> RegisterDatasetArgs {
    RegisterDatasetArgs {
        content_hash: content_hash(label),
        title: format!("Dataset {label}"),
        metadata_uri: format!("ipfs://bafkreimetadata{label}"),
        ciphertext_cid: format!("bafybeiciphertext{label}"),
        category: DatasetCategory::Text,
        tags: vec!["nlp".into(), "english".into()],
        price: PRICE,
        terms: LicenseTerms {
            duration_secs: 365 * DAY as u64,
            max_supply: 0,
            metered: false,
            transferable: false,
            ai_training: true,
            commercial_use: true,
            derivative_models: true,
            attribution_required: false,
        },
        referral_fee_bps: REFERRAL_FEE_BPS,
        recipients,
        delivery_window_secs: DELIVERY_WINDOW,
        dispute_window_secs: DISPUTE_WINDOW,
        allow_list_enabled: false,
    }
}

pub fn purchase_args(max_price: u64) -> PurchaseLicenseArgs {
    PurchaseLicenseArgs { max_price, buyer_encryption_key: BUYER_KEY, credits: 1 }
}

impl World {
    /// An initialised marketplace paying in a classic SPL Token mint.
    pub fn new(backend: Backend) -> Self {
        Self::with_payment_program(backend, TOKEN)
    }

    pub fn with_payment_program(backend: Backend, token_program: Pubkey) -> Self {
        let mut market = Market::new(backend);
        let operator = market.wallet();
        let treasury = market.keypair();
        let arbiter = market.wallet();
        market.set_upgrade_authority(&operator.pubkey());
        let usdc = market.create_mint(token_program, 6, MintExtra::None);
        let args = InitializeMarketplaceArgs {
            treasury: treasury.pubkey(),
            arbiter: arbiter.pubkey(),
            protocol_fee_bps: PROTOCOL_FEE_BPS,
            max_referral_fee_bps: MAX_REFERRAL_FEE_BPS,
            min_delivery_window_secs: MIN_DELIVERY_WINDOW,
            min_dispute_window_secs: MIN_DISPUTE_WINDOW,
        };
        market.send(&[initialize_marketplace(operator.pubkey(), args)], &[&operator]).succeeds();
        World { market, operator, treasury, arbiter, usdc }
    }

    pub fn handle(&self, label: &str, owner: &Pubkey) -> DatasetHandle {
        DatasetHandle::derive(content_hash(label), *owner, self.usdc.mint, self.usdc.token_program)
    }

    pub fn try_register(&mut self, owner: &Keypair, args: RegisterDatasetArgs) -> (DatasetHandle, TxResult) {
        let dataset = DatasetHandle::derive(args.content_hash, owner.pubkey(), self.usdc.mint, self.usdc.token_program);
        let result = self.send(&[register_dataset(owner.pubkey(), &dataset, args)], &[owner]);
        (dataset, result)
    }

    /// Registers a dataset paid in the world's mint, owned (and fully paid to) `owner`.
    pub fn register(&mut self, owner: &Keypair, label: &str) -> DatasetHandle {
        let args = dataset_args(label, single_owner(&owner.pubkey()));
        self.register_with(owner, args)
    }

    pub fn register_with(&mut self, owner: &Keypair, args: RegisterDatasetArgs) -> DatasetHandle {
        let (dataset, result) = self.try_register(owner, args);
        result.succeeds();
        dataset
    }

    /// A wallet holding `amount` of the payment mint.
    pub fn buyer(&mut self, amount: u64) -> Keypair {
        let buyer = self.market.wallet();
        self.fund_payment(&buyer.pubkey(), amount);
        buyer
    }

    /// Mints `amount` of the payment mint to `owner`'s associated account (created if needed).
    pub fn fund_payment(&mut self, owner: &Pubkey, amount: u64) -> Pubkey {
        let mint = PaymentMint { authority: self.usdc.authority.insecure_clone(), ..self.usdc };
        self.market.fund(&mint, owner, amount)
    }

    /// Buys at any price; a `referrer` is registered as a front-end first if it is not yet.
    pub fn buy(&mut self, dataset: &DatasetHandle, buyer: &Keypair, referrer: Option<Pubkey>) -> TxResult {
        if let Some(wallet) = referrer {
            self.ensure_front_end(&wallet);
        }
        let instructions = purchase_instructions(buyer.pubkey(), dataset, purchase_args(u64::MAX), referrer);
        self.send(&instructions, &[buyer])
    }

    /// The operator registers `wallet` as a front-end (once).
    pub fn ensure_front_end(&mut self, wallet: &Pubkey) {
        if !self.exists(&front_end_address(wallet)) {
            let operator = self.operator.insecure_clone();
            self.send(&[register_front_end(operator.pubkey(), *wallet)], &[&operator]).succeeds();
        }
    }

    pub fn deliver(&mut self, dataset: &DatasetHandle, deliverer: &Keypair, buyer: &Pubkey) -> TxResult {
        self.send(&[deliver_key(deliverer.pubkey(), dataset, buyer, SEALED_KEY)], &[deliverer])
    }

    pub fn settle(&mut self, dataset: &DatasetHandle, buyer: &Pubkey) -> TxResult {
        let caller = self.market.wallet();
        self.send(&[settle_license(caller.pubkey(), dataset, buyer)], &[&caller])
    }

    pub fn refund(&mut self, dataset: &DatasetHandle, buyer: &Pubkey) -> TxResult {
        let caller = self.market.wallet();
        self.send(&[refund_license(caller.pubkey(), dataset, buyer)], &[&caller])
    }

    /// Claims `recipient`'s revenue into its associated account (created if missing).
    pub fn claim(&mut self, dataset: &DatasetHandle, recipient: &Keypair) -> TxResult {
        self.payment_account_of(&recipient.pubkey());
        self.send(&[claim_revenue(recipient.pubkey(), dataset)], &[recipient])
    }

    pub fn sweep(&mut self, dataset: &DatasetHandle) -> TxResult {
        let treasury = self.treasury.pubkey();
        self.payment_account_of(&treasury);
        let caller = self.market.wallet();
        self.send(&[sweep_protocol_fees(caller.pubkey(), dataset, &treasury)], &[&caller])
    }

    /// `owner`'s associated account of the payment mint, created if missing.
    pub fn payment_account_of(&mut self, owner: &Pubkey) -> Pubkey {
        let (mint, program) = (self.usdc.mint, self.usdc.token_program);
        self.market.token_account(owner, &mint, &program)
    }

    /// Funds are conserved: the vault holds exactly what the dataset's ledger says it owes.
    pub fn assert_conserved(&self, dataset: &DatasetHandle) {
        let state = self.dataset(&dataset.address);
        let vault = self.balance(&dataset.escrow_vault);
        assert_eq!(vault, state.ledger.total().unwrap(), "vault balance != ledger total: {:?}", state.ledger);
    }
}
