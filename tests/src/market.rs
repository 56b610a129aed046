use anchor_lang::prelude::*;
use anchor_lang::AccountDeserialize;
use data_market::errors::MarketError;
use data_market::state::{Dataset, License, Marketplace};
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_clock::Clock;
use solana_slot_hashes::SlotHashes;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use crate::backend::Backend;

pub type TxResult = std::result::Result<TransactionMetadata, FailedTransactionMetadata>;

/// 2023-11-14: tests start from a realistic clock.
pub const START_TIME: i64 = 1_700_000_000;
pub const SOL: u64 = 1_000_000_000;

/// A LiteSVM with the program loaded on one backend.
pub struct Market {
    pub svm: LiteSVM,
    pub backend: Backend,
    /// Keys come from a counter, so every run derives the same addresses and PDA bumps: compute
    /// units and failures reproduce exactly.
    keys_issued: u64,
}

impl Market {
    pub fn new(backend: Backend) -> Self {
        let mut svm = LiteSVM::new().with_log_bytes_limit(None);
        backend.load(&mut svm);
        let mut clock: Clock = svm.get_sysvar();
        clock.unix_timestamp = START_TIME;
        svm.set_sysvar(&clock);
        Market { svm, backend, keys_issued: 0 }
    }

    /// The next deterministic keypair (secret key = splitmix64 stream of a counter).
    pub fn keypair(&mut self) -> Keypair {
        self.keys_issued += 1;
        let mut state = self.keys_issued.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut secret = [0u8; 32];
        for chunk in secret.chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        Keypair::new_from_array(secret)
    }

    /// A fresh wallet with 100 SOL.
    pub fn wallet(&mut self) -> Keypair {
        let keypair = self.keypair();
        self.svm.airdrop(&keypair.pubkey(), 100 * SOL).expect("airdrop");
        keypair
    }

    /// The transaction `send` would submit (the first signer pays the fee).
    pub fn transaction(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Transaction {
        Transaction::new_signed_with_payer(
            instructions,
            Some(&signers[0].pubkey()),
            signers,
            self.svm.latest_blockhash(),
        )
    }

    pub fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let tx = self.transaction(instructions, signers);
        let result = self.svm.send_transaction(tx);
        // a new blockhash lets the same instruction be sent twice (e.g. replay tests)
        self.svm.expire_blockhash();
        result
    }

    /// Makes `authority` the program's upgrade authority, as `anchor deploy` makes the deployer: the
    /// ProgramData account keeps its program bytes (SBF) or is created with none (native builtin).
    pub fn set_upgrade_authority(&mut self, authority: &Pubkey) {
        use anchor_lang::solana_program::bpf_loader_upgradeable::{self, UpgradeableLoaderState};
        let address = crate::builders::program_data_address();
        let metadata = bincode::serialize(&UpgradeableLoaderState::ProgramData {
            slot: 0,
            upgrade_authority_address: Some(*authority),
        })
        .expect("serialize ProgramData");
        let mut account = self.svm.get_account(&address).unwrap_or_else(|| solana_account::Account {
            lamports: 0,
            data: vec![0; UpgradeableLoaderState::size_of_programdata_metadata()],
            owner: bpf_loader_upgradeable::ID,
            executable: false,
            rent_epoch: 0,
        });
        account.data[..metadata.len()].copy_from_slice(&metadata);
        account.lamports = account.lamports.max(self.svm.minimum_balance_for_rent_exemption(account.data.len()));
        self.svm.set_account(address, account).expect("set ProgramData");
    }

    pub fn now(&self) -> i64 {
        self.svm.get_sysvar::<Clock>().unix_timestamp
    }

    pub fn warp(&mut self, seconds: i64) {
        let mut clock: Clock = self.svm.get_sysvar();
        clock.unix_timestamp += seconds;
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
    }

    /// Ends the current slot as a cluster does: its hash (here derived from the slot number) joins the
    /// SlotHashes sysvar, newest first, and the clock moves to the next slot. Returns that hash.
    pub fn next_slot(&mut self) -> [u8; 32] {
        let mut clock: Clock = self.svm.get_sysvar();
        let hash = solana_sha256_hasher::hashv(&[b"slot", &clock.slot.to_le_bytes()]).to_bytes();
        let mut entries: Vec<(u64, solana_hash::Hash)> = self.svm.get_sysvar::<SlotHashes>().iter().copied().collect();
        entries.insert(0, (clock.slot, solana_hash::Hash::new_from_array(hash)));
        self.svm.set_sysvar(&SlotHashes::new(&entries));
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
        hash
    }

    pub fn slot(&self) -> u64 {
        self.svm.get_sysvar::<Clock>().slot
    }

    /// Moves the clock `slots` ahead without recording their hashes (as if they were skipped).
    pub fn skip_slots(&mut self, slots: u64) {
        let mut clock: Clock = self.svm.get_sysvar();
        clock.slot += slots;
        self.svm.set_sysvar(&clock);
    }

    pub fn exists(&self, address: &Pubkey) -> bool {
        self.svm.get_account(address).is_some_and(|a| a.lamports > 0)
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.svm.get_account(address).map_or(0, |a| a.lamports)
    }

    pub fn account<T: AccountDeserialize>(&self, address: &Pubkey) -> T {
        let account = self.svm.get_account(address).unwrap_or_else(|| panic!("no account at {address}"));
        T::try_deserialize(&mut account.data.as_slice()).expect("deserialize account")
    }

    /// What an RPC node's getProgramAccounts returns for the program with these memcmp filters
    /// (offset, bytes), sorted by address: how clients list receipts, licences and datasets.
    pub fn program_accounts(&self, filters: &[(usize, &[u8])]) -> Vec<(Pubkey, Vec<u8>)> {
        use solana_account::ReadableAccount;
        let mut found: Vec<(Pubkey, Vec<u8>)> = self
            .svm
            .accounts_db()
            .inner
            .iter()
            .filter(|(_, account)| *account.owner() == data_market::ID && account.lamports() > 0)
            .filter(|(_, account)| {
                filters.iter().all(|(offset, bytes)| account.data().get(*offset..offset + bytes.len()) == Some(*bytes))
            })
            .map(|(address, account)| (*address, account.data().to_vec()))
            .collect();
        found.sort_by_key(|(address, _)| *address);
        found
    }

    /// Accounts of one type (by discriminator) matching the memcmp filters, decoded.
    pub fn program_accounts_of<T: anchor_lang::AccountDeserialize + anchor_lang::Discriminator>(
        &self,
        filters: &[(usize, &[u8])],
    ) -> Vec<(Pubkey, T)> {
        let mut all: Vec<(usize, &[u8])> = vec![(0, T::DISCRIMINATOR)];
        all.extend_from_slice(filters);
        self.program_accounts(&all)
            .into_iter()
            .map(|(address, data)| (address, T::try_deserialize(&mut data.as_slice()).expect("decode")))
            .collect()
    }

    pub fn marketplace(&self) -> Marketplace {
        self.account(&crate::fixtures::marketplace_address())
    }

    pub fn dataset(&self, address: &Pubkey) -> Dataset {
        self.account(address)
    }

    pub fn license(&self, address: &Pubkey) -> License {
        self.account(address)
    }
}

/// Assertions on a transaction's outcome that print the program logs when they fail.
pub trait Outcome {
    fn succeeds(self) -> TransactionMetadata;
    fn fails(self) -> FailedTransactionMetadata;
    /// Fails with this program error (any instruction of the transaction).
    fn fails_with(self, error: MarketError);
    /// Fails with this Anchor framework error (account constraints).
    fn fails_with_anchor(self, error: anchor_lang::error::ErrorCode);
    /// Fails with this custom error code (e.g. one raised by the token program in a CPI).
    fn fails_with_code(self, code: u32);
}

impl Outcome for TxResult {
    fn succeeds(self) -> TransactionMetadata {
        match self {
            Ok(meta) => meta,
            Err(failure) => panic!("transaction failed: {:?}\n{}", failure.err, failure.meta.pretty_logs()),
        }
    }

    fn fails(self) -> FailedTransactionMetadata {
        match self {
            Ok(meta) => panic!("transaction unexpectedly succeeded\n{}", meta.pretty_logs()),
            Err(failure) => failure,
        }
    }

    fn fails_with(self, error: MarketError) {
        let name = format!("{error:?}");
        self.fails_with_named_code(u32::from(error), &name)
    }

    fn fails_with_anchor(self, error: anchor_lang::error::ErrorCode) {
        let name = format!("{error:?}");
        self.fails_with_named_code(u32::from(error), &name)
    }

    fn fails_with_code(self, code: u32) {
        self.fails_with_named_code(code, &code.to_string())
    }
}

trait NamedCode {
    fn fails_with_named_code(self, code: u32, name: &str);
}

impl NamedCode for TxResult {
    fn fails_with_named_code(self, code: u32, name: &str) {
        let failure = self.fails();
        match &failure.err {
            TransactionError::InstructionError(_, InstructionError::Custom(actual)) if *actual == code => {}
            other => panic!("expected error {name} ({code}), got {other:?}\n{}", failure.meta.pretty_logs()),
        }
    }
}

/// The events of type `T` a successful transaction emitted (Anchor's `Program data:` log lines).
pub fn events_of<T: anchor_lang::Event + AnchorDeserialize>(meta: &TransactionMetadata) -> Vec<T> {
    use base64::Engine;
    meta.logs
        .iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .filter_map(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
        .filter(|bytes| bytes.starts_with(T::DISCRIMINATOR))
        .map(|bytes| T::try_from_slice(&bytes[T::DISCRIMINATOR.len()..]).expect("event decodes"))
        .collect()
}
