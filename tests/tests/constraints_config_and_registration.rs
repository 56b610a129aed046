//! Account constraints and named errors of the configuration and registration instructions:
//! initialize_marketplace, update_marketplace, propose_authority, accept_authority, register_dataset
//! and update_dataset. Each scenario fails if the check it names is removed from the program; the
//! positive checks next to them show the rejected input is the only thing wrong. Rejected
//! transactions are followed by a check that the state they targeted is unchanged.
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::error::TokenError;
use anchor_spl::token_2022::spl_token_2022::extension::metadata_pointer::MetadataPointer;
use anchor_spl::token_2022::spl_token_2022::extension::permanent_delegate::PermanentDelegate;
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use anchor_spl::token_2022_extensions::spl_token_metadata_interface::state::TokenMetadata;
use data_market::constants::{
    LICENSE_SYMBOL, MAX_CID_LEN, MAX_DELIVERY_WINDOW_SECS, MAX_DISPUTE_WINDOW_SECS, MAX_LICENSE_DURATION_SECS,
    MAX_METADATA_URI_LEN, MAX_PROTOCOL_FEE_BPS, MAX_RECIPIENTS, MAX_TAGS, MAX_TITLE_LEN, MIN_WINDOW_CAP_SECS,
    MIN_WINDOW_FLOOR_SECS, TAG_LEN,
};
use data_market::domain::lifecycle::LicenseState;
use data_market::errors::MarketError;
use data_market::events::MarketplaceUpdated;
use data_market::instructions::{
    InitializeMarketplaceArgs, RegisterDatasetArgs, UpdateDatasetArgs, UpdateMarketplaceArgs,
};
use data_market::state::{DatasetState, Recipient};
use data_market::{accounts, instruction};
use market_tests::tokens::{MintExtra, PaymentMint, TOKEN, TOKEN_2022};
use market_tests::*;
use solana_account::Account as RawAccount;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;

/// The program's hard cap on the operator's referral cap (the world's own cap is fixtures' 1,000).
const HARD_REFERRAL_CAP: u16 = data_market::constants::MAX_REFERRAL_FEE_BPS;

// ---------------------------------------------------------------------------------------------
// local helpers
// ---------------------------------------------------------------------------------------------

/// Raw account (lamports, owner, data) at `address`, for before/after comparisons.
fn snapshot(w: &Market, address: &Pubkey) -> Option<RawAccount> {
    w.svm.get_account(address)
}

fn config_snapshot(w: &Market) -> RawAccount {
    snapshot(w, &marketplace_address()).expect("marketplace exists")
}

/// The instruction with `key` still listed but no longer marked as a signer.
fn without_signature(mut ix: Instruction, key: &Pubkey) -> Instruction {
    let mut found = false;
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        meta.is_signer = false;
        found = true;
    }
    assert!(found, "{key} is not an account of the instruction");
    ix
}

/// The instruction with `key` marked as a signer (for a substitute whose key signs).
fn signed_by(mut ix: Instruction, key: &Pubkey) -> Instruction {
    ix.accounts.iter_mut().filter(|m| m.pubkey == *key).for_each(|m| m.is_signer = true);
    ix
}

/// The instruction with `key` passed read-only.
fn read_only(mut ix: Instruction, key: &Pubkey) -> Instruction {
    let mut found = false;
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        meta.is_writable = false;
        found = true;
    }
    assert!(found, "{key} is not an account of the instruction");
    ix
}

/// Nothing of the dataset exists: no dataset account, no licence mint, no escrow vault.
fn assert_not_registered(w: &Market, d: &DatasetHandle) {
    assert!(!w.exists(&d.address), "dataset account was created");
    assert!(!w.exists(&d.license_mint), "licence mint was created");
    assert!(!w.exists(&d.escrow_vault), "escrow vault was created");
}

fn owner_args(label: &str, owner: &Keypair) -> RegisterDatasetArgs {
    dataset_args(label, single_owner(&owner.pubkey()))
}

/// Registering `args` fails with `error` and leaves nothing behind.
fn register_fails_with(w: &mut World, owner: &Keypair, args: RegisterDatasetArgs, error: MarketError) {
    let (d, result) = w.try_register(owner, args);
    result.fails_with(error);
    assert_not_registered(w, &d);
}

/// Sends register_dataset built from `accounts` (one of them substituted by the caller).
fn send_register(
    w: &mut World,
    owner: &Keypair,
    accounts: accounts::RegisterDataset,
    args: RegisterDatasetArgs,
) -> TxResult {
    let ix = build(accounts, instruction::RegisterDataset { args });
    w.send(&[ix], &[owner])
}

fn handle_for(label: &str, owner: &Keypair, mint: &PaymentMint) -> DatasetHandle {
    DatasetHandle::derive(content_hash(label), owner.pubkey(), mint.mint, mint.token_program)
}

fn recipients(count: usize, first: &Pubkey) -> Vec<Recipient> {
    let each = 10_000 / count as u16;
    let mut split: Vec<Recipient> = (0..count)
        .map(|i| Recipient { wallet: if i == 0 { *first } else { Pubkey::new_unique() }, bps: each })
        .collect();
    split[0].bps += 10_000 - each * count as u16;
    split
}

fn update(w: &mut World, signer: &Keypair, args: UpdateMarketplaceArgs) -> TxResult {
    w.send(&[update_marketplace(signer.pubkey(), args)], &[signer])
}

fn pause_args(paused: bool) -> UpdateMarketplaceArgs {
    UpdateMarketplaceArgs { purchases_paused: Some(paused), ..Default::default() }
}

fn fee_args(bps: u16) -> UpdateMarketplaceArgs {
    UpdateMarketplaceArgs { protocol_fee_bps: Some(bps), ..Default::default() }
}

fn propose(w: &mut World, signer: &Keypair, new_authority: Pubkey) -> TxResult {
    w.send(&[propose_authority(signer.pubkey(), new_authority)], &[signer])
}

fn accept(w: &mut World, signer: &Keypair) -> TxResult {
    w.send(&[accept_authority(signer.pubkey())], &[signer])
}

fn update_ds(w: &mut World, signer: &Keypair, d: &DatasetHandle, args: UpdateDatasetArgs) -> TxResult {
    w.send(&[update_dataset(signer.pubkey(), d, args)], &[signer])
}

fn mint_data(w: &Market, mint: &Pubkey) -> Vec<u8> {
    w.svm.get_account(mint).expect("mint exists").data
}

fn mint_extensions(w: &Market, mint: &Pubkey) -> Vec<ExtensionType> {
    let data = mint_data(w, mint);
    StateWithExtensions::<MintState>::unpack(&data).expect("mint").get_extension_types().expect("extensions")
}

fn licence_metadata(w: &Market, mint: &Pubkey) -> TokenMetadata {
    let data = mint_data(w, mint);
    let state = StateWithExtensions::<MintState>::unpack(&data).expect("mint");
    state.get_variable_len_extension::<TokenMetadata>().expect("token metadata extension")
}

/// Moves one licence token from `from`'s account to `to`'s (created if missing).
fn transfer_licence(w: &mut World, d: &DatasetHandle, from: &Keypair, to: &Pubkey) -> TxResult {
    let destination = w.token_account(to, &d.license_mint, &TOKEN_2022);
    let ix = token_ix::transfer_checked(
        &TOKEN_2022,
        &d.license_account(&from.pubkey()),
        &d.license_mint,
        &destination,
        &from.pubkey(),
        &[],
        1,
        0,
    )
    .unwrap();
    w.send(&[ix], &[from])
}

fn init_args(protocol_fee_bps: u16, max_referral_fee_bps: u16) -> InitializeMarketplaceArgs {
    InitializeMarketplaceArgs {
        treasury: Pubkey::new_unique(),
        arbiter: Pubkey::new_unique(),
        protocol_fee_bps,
        max_referral_fee_bps,
        min_delivery_window_secs: MIN_DELIVERY_WINDOW,
        min_dispute_window_secs: MIN_DISPUTE_WINDOW,
    }
}

// ---------------------------------------------------------------------------------------------
// initialize_marketplace
// ---------------------------------------------------------------------------------------------

/// `init` on the marketplace PDA: a second initialisation fails and leaves the config untouched.
fn initialize_cannot_run_a_second_time(backend: Backend) {
    let mut w = World::new(backend);
    let before = config_snapshot(&w);
    let attacker = w.wallet();
    let ix = initialize_marketplace(attacker.pubkey(), init_args(0, 0));
    w.send(&[ix], &[&attacker]).fails();
    let operator = w.operator.insecure_clone();
    let ix = initialize_marketplace(operator.pubkey(), init_args(MAX_PROTOCOL_FEE_BPS, HARD_REFERRAL_CAP));
    w.send(&[ix], &[&operator]).fails();
    assert_eq!(config_snapshot(&w), before);
    assert_eq!(w.marketplace().authority, w.operator.pubkey());
}

/// check_protocol_fee in initialize: a fee above MAX_PROTOCOL_FEE_BPS -> ProtocolFeeAboveCap.
fn initialize_rejects_a_protocol_fee_above_the_cap(backend: Backend) {
    let mut m = Market::new(backend);
    let operator = m.wallet();
    m.set_upgrade_authority(&operator.pubkey());
    let ix = initialize_marketplace(operator.pubkey(), init_args(MAX_PROTOCOL_FEE_BPS + 1, 0));
    m.send(&[ix], &[&operator]).fails_with(MarketError::ProtocolFeeAboveCap);
    assert!(!m.exists(&marketplace_address()));
    let ix = initialize_marketplace(operator.pubkey(), init_args(MAX_PROTOCOL_FEE_BPS, 0));
    m.send(&[ix], &[&operator]).succeeds();
    assert_eq!(m.marketplace().protocol_fee_bps, MAX_PROTOCOL_FEE_BPS);
}

/// check_referral_fee in initialize: a referral cap above MAX_REFERRAL_FEE_BPS -> ReferralFeeAboveCap.
fn initialize_rejects_a_referral_cap_above_the_hard_cap(backend: Backend) {
    let mut m = Market::new(backend);
    let operator = m.wallet();
    m.set_upgrade_authority(&operator.pubkey());
    let ix = initialize_marketplace(operator.pubkey(), init_args(0, HARD_REFERRAL_CAP + 1));
    m.send(&[ix], &[&operator]).fails_with(MarketError::ReferralFeeAboveCap);
    assert!(!m.exists(&marketplace_address()));
    let ix = initialize_marketplace(operator.pubkey(), init_args(0, HARD_REFERRAL_CAP));
    m.send(&[ix], &[&operator]).succeeds();
    let config = m.marketplace();
    assert_eq!(config.max_referral_fee_bps, HARD_REFERRAL_CAP);
    assert_eq!(config.authority, operator.pubkey());
    assert_eq!(config.pending_authority, Pubkey::default());
    assert!(!config.purchases_paused);
}

/// NotUpgradeAuthority: only the program's upgrade authority may create the marketplace, so the
/// deployment cannot be front-run.
fn initialize_requires_the_program_upgrade_authority(backend: Backend) {
    let mut m = Market::new(backend);
    let deployer = m.wallet();
    m.set_upgrade_authority(&deployer.pubkey());
    let stranger = m.wallet();
    let ix = initialize_marketplace(stranger.pubkey(), init_args(0, 0));
    m.send(&[ix], &[&stranger]).fails_with(MarketError::NotUpgradeAuthority);
    assert!(!m.exists(&marketplace_address()));
    // a ProgramData-shaped account at another address does not count either
    let mut accounts = accounts::InitializeMarketplace {
        authority: stranger.pubkey(),
        program_data: program_data_address(),
        marketplace: marketplace_address(),
        system_program: anchor_lang::system_program::ID,
    };
    accounts.program_data = program_data_look_alike(&mut m, &stranger.pubkey());
    let ix = build(accounts, instruction::InitializeMarketplace { args: init_args(0, 0) });
    m.send(&[ix], &[&stranger]).fails_with_anchor(AnchorError::ConstraintSeeds);
    assert!(!m.exists(&marketplace_address()));
    m.send(&[initialize_marketplace(deployer.pubkey(), init_args(0, 0))], &[&deployer]).succeeds();
    assert_eq!(m.marketplace().authority, deployer.pubkey());
}

/// A copy of the ProgramData account at an address of the attacker's choosing, naming it as authority.
fn program_data_look_alike(m: &mut Market, authority: &Pubkey) -> Pubkey {
    let mut account = m.svm.get_account(&program_data_address()).expect("program data");
    account.data[13..45].copy_from_slice(authority.as_ref());
    let address = Pubkey::new_unique();
    m.svm.set_account(address, account).expect("set look-alike");
    address
}

/// Signer on the initialising authority: it cannot be named without its signature.
fn initialize_requires_the_authority_signature(backend: Backend) {
    let mut m = Market::new(backend);
    let operator = m.wallet();
    m.set_upgrade_authority(&operator.pubkey());
    let payer = m.wallet();
    let ix = without_signature(initialize_marketplace(operator.pubkey(), init_args(0, 0)), &operator.pubkey());
    m.send(&[ix], &[&payer]).fails_with_anchor(AnchorError::AccountNotSigner);
    assert!(!m.exists(&marketplace_address()));
}

/// seeds = [MARKETPLACE] on init: a configuration cannot be created at any other address, even one
/// whose key signs.
fn initialize_rejects_a_marketplace_address_that_is_not_the_pda(backend: Backend) {
    let mut m = Market::new(backend);
    let operator = m.wallet();
    m.set_upgrade_authority(&operator.pubkey());
    let rogue = Keypair::new();
    let ix = build(
        accounts::InitializeMarketplace {
            authority: operator.pubkey(),
            program_data: program_data_address(),
            marketplace: rogue.pubkey(),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::InitializeMarketplace { args: init_args(0, 0) },
    );
    let ix = signed_by(ix, &rogue.pubkey());
    m.send(&[ix], &[&operator, &rogue]).fails_with_anchor(AnchorError::ConstraintSeeds);
    assert!(!m.exists(&rogue.pubkey()));
    assert!(!m.exists(&marketplace_address()));
}

// ---------------------------------------------------------------------------------------------
// update_marketplace
// ---------------------------------------------------------------------------------------------

/// The positive baseline: the operator's update writes the fields given and keeps the others.
fn update_marketplace_changes_only_the_fields_given(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let before = w.marketplace();
    let treasury = Pubkey::new_unique();
    let args = UpdateMarketplaceArgs {
        treasury: Some(treasury),
        protocol_fee_bps: Some(MAX_PROTOCOL_FEE_BPS),
        max_referral_fee_bps: Some(HARD_REFERRAL_CAP),
        ..Default::default()
    };
    update(&mut w, &operator, args).succeeds();
    let after = w.marketplace();
    assert_eq!(after.treasury, treasury);
    assert_eq!(after.protocol_fee_bps, MAX_PROTOCOL_FEE_BPS);
    assert_eq!(after.max_referral_fee_bps, HARD_REFERRAL_CAP);
    assert_eq!(after.arbiter, before.arbiter);
    assert_eq!(after.authority, before.authority);
    assert_eq!(after.purchases_paused, before.purchases_paused);
    assert_eq!(after.bump, before.bump);

    let arbiter = Pubkey::new_unique();
    update(&mut w, &operator, UpdateMarketplaceArgs { arbiter: Some(arbiter), ..Default::default() }).succeeds();
    let last = w.marketplace();
    assert_eq!(last.arbiter, arbiter);
    assert_eq!(last.treasury, treasury);
    assert_eq!(last.protocol_fee_bps, MAX_PROTOCOL_FEE_BPS);
}

/// has_one = authority @ NotMarketplaceAuthority: a stranger's signature does not update the config.
fn update_marketplace_rejects_a_non_authority_signer(backend: Backend) {
    let mut w = World::new(backend);
    let stranger = w.wallet();
    let before = config_snapshot(&w);
    let args = UpdateMarketplaceArgs {
        treasury: Some(stranger.pubkey()),
        protocol_fee_bps: Some(0),
        purchases_paused: Some(true),
        ..Default::default()
    };
    update(&mut w, &stranger, args).fails_with(MarketError::NotMarketplaceAuthority);
    assert_eq!(config_snapshot(&w), before);
}

/// Signer<'info> on authority: naming the operator without its signature -> AccountNotSigner.
fn update_marketplace_requires_the_authority_signature(backend: Backend) {
    let mut w = World::new(backend);
    let payer = w.wallet();
    let before = config_snapshot(&w);
    let operator = w.operator.pubkey();
    let ix = without_signature(update_marketplace(operator, pause_args(true)), &operator);
    w.send(&[ix], &[&payer]).fails_with_anchor(AnchorError::AccountNotSigner);
    assert_eq!(config_snapshot(&w), before);
}

/// mut on the marketplace: passed read-only it is refused (an update that could not be saved).
fn update_marketplace_requires_a_writable_marketplace(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let before = config_snapshot(&w);
    let ix = read_only(update_marketplace(operator.pubkey(), pause_args(true)), &marketplace_address());
    w.send(&[ix], &[&operator]).fails_with_anchor(AnchorError::ConstraintMut);
    assert_eq!(config_snapshot(&w), before);
}

/// Account<Marketplace> (owner + discriminator): another account of this program, an empty address or
/// a system wallet cannot stand in for the marketplace.
fn update_marketplace_rejects_a_substituted_marketplace(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "decoy");
    let before = config_snapshot(&w);
    let dataset_before = snapshot(&w, &d.address);
    let operator = w.operator.insecure_clone();
    for (substitute, error) in [
        (d.address, AnchorError::AccountDiscriminatorMismatch),
        (Pubkey::new_unique(), AnchorError::AccountNotInitialized),
        (owner.pubkey(), AnchorError::AccountOwnedByWrongProgram),
    ] {
        let ix = build(
            accounts::UpdateMarketplace { authority: operator.pubkey(), marketplace: substitute },
            instruction::UpdateMarketplace { args: pause_args(true) },
        );
        w.send(&[ix], &[&operator]).fails_with_anchor(error);
    }
    assert_eq!(config_snapshot(&w), before);
    assert_eq!(snapshot(&w, &d.address), dataset_before);
}

/// check_protocol_fee / check_referral_fee in update: fees above the caps are refused, atomically.
fn update_marketplace_rejects_fees_above_the_caps(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let before = config_snapshot(&w);
    update(&mut w, &operator, fee_args(MAX_PROTOCOL_FEE_BPS + 1)).fails_with(MarketError::ProtocolFeeAboveCap);
    update(&mut w, &operator, fee_args(u16::MAX)).fails_with(MarketError::ProtocolFeeAboveCap);
    let referral = UpdateMarketplaceArgs { max_referral_fee_bps: Some(HARD_REFERRAL_CAP + 1), ..Default::default() };
    update(&mut w, &operator, referral).fails_with(MarketError::ReferralFeeAboveCap);
    // a valid fee next to an invalid cap: the whole update is rejected, the fee included
    let mixed = UpdateMarketplaceArgs {
        protocol_fee_bps: Some(0),
        max_referral_fee_bps: Some(HARD_REFERRAL_CAP + 1),
        ..Default::default()
    };
    update(&mut w, &operator, mixed).fails_with(MarketError::ReferralFeeAboveCap);
    assert_eq!(config_snapshot(&w), before);

    update(&mut w, &operator, fee_args(MAX_PROTOCOL_FEE_BPS)).succeeds();
    assert_eq!(w.marketplace().protocol_fee_bps, MAX_PROTOCOL_FEE_BPS);
}

/// WindowPolicy::check in initialize: minimum windows below MIN_WINDOW_FLOOR_SECS or above
/// MIN_WINDOW_CAP_SECS -> WindowPolicyOutOfBounds; the bounds themselves are accepted.
fn initialize_rejects_a_window_policy_out_of_bounds(backend: Backend) {
    let mut m = Market::new(backend);
    let operator = m.wallet();
    m.set_upgrade_authority(&operator.pubkey());
    for (delivery, dispute) in [
        (0, 0),
        (MIN_WINDOW_FLOOR_SECS - 1, MIN_DISPUTE_WINDOW),
        (MIN_DELIVERY_WINDOW, MIN_WINDOW_FLOOR_SECS - 1),
        (MIN_WINDOW_CAP_SECS + 1, MIN_DISPUTE_WINDOW),
        (MIN_DELIVERY_WINDOW, MIN_WINDOW_CAP_SECS + 1),
    ] {
        let args = InitializeMarketplaceArgs {
            min_delivery_window_secs: delivery,
            min_dispute_window_secs: dispute,
            ..init_args(0, 0)
        };
        m.send(&[initialize_marketplace(operator.pubkey(), args)], &[&operator])
            .fails_with(MarketError::WindowPolicyOutOfBounds);
        assert!(!m.exists(&marketplace_address()));
    }
    let args = InitializeMarketplaceArgs {
        min_delivery_window_secs: MIN_WINDOW_FLOOR_SECS,
        min_dispute_window_secs: MIN_WINDOW_CAP_SECS,
        ..init_args(0, 0)
    };
    m.send(&[initialize_marketplace(operator.pubkey(), args)], &[&operator]).succeeds();
    let config = m.marketplace();
    assert_eq!(config.min_delivery_window_secs, MIN_WINDOW_FLOOR_SECS);
    assert_eq!(config.min_dispute_window_secs, MIN_WINDOW_CAP_SECS);
    assert_eq!(config.revision, 0);
}

/// WindowPolicy::check in update: minimums out of bounds are refused, atomically (a valid fee in the
/// same update is not applied either).
fn update_marketplace_rejects_a_window_policy_out_of_bounds(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let before = config_snapshot(&w);
    for (delivery, dispute) in [
        (Some(MIN_WINDOW_FLOOR_SECS - 1), None),
        (None, Some(MIN_WINDOW_FLOOR_SECS - 1)),
        (Some(MIN_WINDOW_CAP_SECS + 1), None),
        (None, Some(u32::MAX)),
    ] {
        let args = UpdateMarketplaceArgs {
            protocol_fee_bps: Some(0),
            min_delivery_window_secs: delivery,
            min_dispute_window_secs: dispute,
            ..Default::default()
        };
        update(&mut w, &operator, args).fails_with(MarketError::WindowPolicyOutOfBounds);
    }
    assert_eq!(config_snapshot(&w), before);
}

/// The window policy governs registrations from the moment it changes: lowered to seconds, a dataset
/// registers with windows of seconds and runs its whole lifecycle on them; raised again, the same
/// windows are refused while the dataset already registered keeps its own. Every change is evented
/// and moves the configuration's revision.
fn window_policy_applies_to_new_registrations(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let owner = w.wallet();
    let mut quick = owner_args("quick", &owner);
    quick.delivery_window_secs = 10;
    quick.dispute_window_secs = 10;
    register_fails_with(&mut w, &owner, quick.clone(), MarketError::DeliveryWindowOutOfBounds);

    let revision = w.marketplace().revision;
    let local = UpdateMarketplaceArgs {
        min_delivery_window_secs: Some(MIN_WINDOW_FLOOR_SECS),
        min_dispute_window_secs: Some(10),
        ..Default::default()
    };
    let meta = update(&mut w, &operator, local).succeeds();
    if matches!(backend, Backend::Sbf) {
        // the native backend runs the program without its log lines
        let events = events_of::<MarketplaceUpdated>(&meta);
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].min_delivery_window_secs, events[0].min_dispute_window_secs),
            (MIN_WINDOW_FLOOR_SECS, 10)
        );
    }
    assert_eq!(w.marketplace().revision, revision + 1);

    let d = w.register_with(&owner, quick.clone());
    let buyer = w.buyer(PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(9);
    w.settle(&d, &buyer.pubkey()).fails_with(MarketError::DisputeWindowOpen);
    w.warp(1);
    w.settle(&d, &buyer.pubkey()).succeeds();
    assert_eq!(w.license(&d.license(&buyer.pubkey())).state, LicenseState::Settled);

    let production = UpdateMarketplaceArgs {
        min_delivery_window_secs: Some(MIN_DELIVERY_WINDOW),
        min_dispute_window_secs: Some(MIN_DISPUTE_WINDOW),
        ..Default::default()
    };
    update(&mut w, &operator, production).succeeds();
    let other = w.wallet();
    let mut again = owner_args("quick again", &other);
    again.delivery_window_secs = 10;
    again.dispute_window_secs = 10;
    register_fails_with(&mut w, &other, again, MarketError::DeliveryWindowOutOfBounds);
    assert_eq!(w.dataset(&d.address).delivery_window_secs, 10);
}

/// purchases_paused: a paused marketplace refuses purchases with PurchasesPaused; unpausing restores
/// them, and registration keeps working meanwhile.
fn paused_marketplace_refuses_purchases_until_unpaused(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let owner = w.wallet();
    let d = w.register(&owner, "paused");
    let buyer = w.buyer(PRICE);

    update(&mut w, &operator, pause_args(true)).succeeds();
    assert!(w.marketplace().purchases_paused);
    let before = snapshot(&w, &d.address);
    w.buy(&d, &buyer, None).fails_with(MarketError::PurchasesPaused);
    assert_eq!(snapshot(&w, &d.address), before);
    assert!(!w.exists(&d.license(&buyer.pubkey())));
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    // only sales stop
    w.register(&owner, "registered-while-paused");

    update(&mut w, &operator, pause_args(false)).succeeds();
    w.buy(&d, &buyer, None).succeeds();
    assert_eq!(w.balance(&d.escrow_vault), PRICE);
    w.assert_conserved(&d);
}

// ---------------------------------------------------------------------------------------------
// propose_authority / accept_authority
// ---------------------------------------------------------------------------------------------

/// has_one = authority @ NotMarketplaceAuthority on propose: a stranger cannot nominate anyone.
fn propose_authority_rejects_a_stranger(backend: Backend) {
    let mut w = World::new(backend);
    let stranger = w.wallet();
    let before = config_snapshot(&w);
    propose(&mut w, &stranger, stranger.pubkey()).fails_with(MarketError::NotMarketplaceAuthority);
    assert_eq!(config_snapshot(&w), before);
    // and so cannot go on to accept its own nomination
    accept(&mut w, &stranger).fails_with(MarketError::NoPendingAuthority);
    assert_eq!(w.marketplace().authority, w.operator.pubkey());
}

/// Signer<'info> on propose's authority: naming the operator without its signature -> AccountNotSigner.
fn propose_authority_requires_the_authority_signature(backend: Backend) {
    let mut w = World::new(backend);
    let stranger = w.wallet();
    let before = config_snapshot(&w);
    let operator = w.operator.pubkey();
    let ix = without_signature(propose_authority(operator, stranger.pubkey()), &operator);
    w.send(&[ix], &[&stranger]).fails_with_anchor(AnchorError::AccountNotSigner);
    assert_eq!(config_snapshot(&w), before);
}

/// Account<Marketplace> on propose: another account of this program or an empty address is refused.
fn propose_authority_rejects_a_substituted_marketplace(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "decoy");
    let operator = w.operator.insecure_clone();
    let before = config_snapshot(&w);
    for (substitute, error) in [
        (d.address, AnchorError::AccountDiscriminatorMismatch),
        (Pubkey::new_unique(), AnchorError::AccountNotInitialized),
    ] {
        let ix = build(
            accounts::ProposeAuthority { authority: operator.pubkey(), marketplace: substitute },
            instruction::ProposeAuthority { new_authority: owner.pubkey() },
        );
        w.send(&[ix], &[&operator]).fails_with_anchor(error);
    }
    assert_eq!(config_snapshot(&w), before);
}

/// NoPendingAuthority: accepting when nothing is proposed fails, and leaves the config unchanged.
fn accept_authority_fails_with_nothing_pending(backend: Backend) {
    let mut w = World::new(backend);
    let stranger = w.wallet();
    let operator = w.operator.insecure_clone();
    let before = config_snapshot(&w);
    accept(&mut w, &stranger).fails_with(MarketError::NoPendingAuthority);
    accept(&mut w, &operator).fails_with(MarketError::NoPendingAuthority);
    assert_eq!(config_snapshot(&w), before);
}

/// NotPendingAuthority: only the proposed key can accept.
fn accept_authority_rejects_a_signer_other_than_the_proposed_one(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let successor = w.wallet();
    let stranger = w.wallet();
    propose(&mut w, &operator, successor.pubkey()).succeeds();
    assert_eq!(w.marketplace().pending_authority, successor.pubkey());
    let before = config_snapshot(&w);
    accept(&mut w, &stranger).fails_with(MarketError::NotPendingAuthority);
    accept(&mut w, &operator).fails_with(MarketError::NotPendingAuthority);
    assert_eq!(config_snapshot(&w), before);
}

/// Signer<'info> on new_authority: the proposed key cannot be accepted for without its signature.
fn accept_authority_requires_the_new_authority_signature(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let successor = w.wallet();
    let stranger = w.wallet();
    propose(&mut w, &operator, successor.pubkey()).succeeds();
    let before = config_snapshot(&w);
    let ix = without_signature(accept_authority(successor.pubkey()), &successor.pubkey());
    w.send(&[ix], &[&stranger]).fails_with_anchor(AnchorError::AccountNotSigner);
    assert_eq!(config_snapshot(&w), before);
}

/// Account<Marketplace> on accept: another account of this program or an empty address is refused.
fn accept_authority_rejects_a_substituted_marketplace(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "decoy");
    let operator = w.operator.insecure_clone();
    let successor = w.wallet();
    propose(&mut w, &operator, successor.pubkey()).succeeds();
    let before = config_snapshot(&w);
    for (substitute, error) in [
        (d.address, AnchorError::AccountDiscriminatorMismatch),
        (Pubkey::new_unique(), AnchorError::AccountNotInitialized),
    ] {
        let ix = build(
            accounts::AcceptAuthority { new_authority: successor.pubkey(), marketplace: substitute },
            instruction::AcceptAuthority {},
        );
        w.send(&[ix], &[&successor]).fails_with_anchor(error);
    }
    assert_eq!(config_snapshot(&w), before);
}

/// Two-step transfer: nothing changes until acceptance; afterwards only the new authority governs.
fn authority_transfer_hands_over_control_in_two_steps(backend: Backend) {
    let mut w = World::new(backend);
    let old = w.operator.insecure_clone();
    let new = w.wallet();

    propose(&mut w, &old, new.pubkey()).succeeds();
    // proposed but not accepted: the old authority still governs, the proposed one does not
    assert_eq!(w.marketplace().authority, old.pubkey());
    update(&mut w, &new, fee_args(100)).fails_with(MarketError::NotMarketplaceAuthority);
    update(&mut w, &old, fee_args(100)).succeeds();

    accept(&mut w, &new).succeeds();
    let config = w.marketplace();
    assert_eq!(config.authority, new.pubkey());
    assert_eq!(config.pending_authority, Pubkey::default());

    update(&mut w, &old, fee_args(200)).fails_with(MarketError::NotMarketplaceAuthority);
    propose(&mut w, &old, old.pubkey()).fails_with(MarketError::NotMarketplaceAuthority);
    update(&mut w, &new, fee_args(300)).succeeds();
    assert_eq!(w.marketplace().protocol_fee_bps, 300);
    // the proposal was consumed
    accept(&mut w, &new).fails_with(MarketError::NoPendingAuthority);
}

/// Proposing Pubkey::default() cancels a pending proposal.
fn proposing_the_default_key_cancels_a_pending_transfer(backend: Backend) {
    let mut w = World::new(backend);
    let operator = w.operator.insecure_clone();
    let successor = w.wallet();
    propose(&mut w, &operator, successor.pubkey()).succeeds();
    propose(&mut w, &operator, Pubkey::default()).succeeds();
    assert_eq!(w.marketplace().pending_authority, Pubkey::default());
    accept(&mut w, &successor).fails_with(MarketError::NoPendingAuthority);
    assert_eq!(w.marketplace().authority, operator.pubkey());
}

// ---------------------------------------------------------------------------------------------
// register_dataset: inputs
// ---------------------------------------------------------------------------------------------

/// The positive baseline: every input at its upper (and lower) bound is accepted and stored.
fn register_accepts_every_input_at_its_bounds(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("upper", &owner);
    args.title = "T".repeat(MAX_TITLE_LEN);
    args.metadata_uri = "u".repeat(MAX_METADATA_URI_LEN);
    args.ciphertext_cid = "c".repeat(MAX_CID_LEN);
    args.tags = (0..MAX_TAGS).map(|i| char::from(b'a' + i as u8).to_string().repeat(TAG_LEN)).collect();
    args.terms.duration_secs = MAX_LICENSE_DURATION_SECS;
    args.delivery_window_secs = MAX_DELIVERY_WINDOW_SECS;
    args.dispute_window_secs = MIN_DISPUTE_WINDOW;
    args.referral_fee_bps = w.marketplace().max_referral_fee_bps;
    args.recipients = recipients(MAX_RECIPIENTS, &owner.pubkey());
    let d = w.register_with(&owner, args.clone());
    let state = w.dataset(&d.address);
    assert_eq!(state.title, args.title);
    assert_eq!(state.metadata_uri, args.metadata_uri);
    assert_eq!(state.ciphertext_cid, args.ciphertext_cid);
    assert_eq!(state.tags[MAX_TAGS - 1], [b'e'; TAG_LEN]);
    assert_eq!(state.recipient_count as usize, MAX_RECIPIENTS);
    assert_eq!(state.active_recipients(), &args.recipients[..]);
    assert_eq!(state.terms, args.terms);
    assert_eq!(state.state, DatasetState::Active);
    assert_eq!(state.owner, owner.pubkey());

    let mut args = owner_args("lower", &owner);
    args.title = "T".into();
    args.metadata_uri = "u".into();
    args.ciphertext_cid = "c".into();
    args.tags = vec![];
    args.price = 0;
    args.terms.duration_secs = 0;
    args.delivery_window_secs = MIN_DELIVERY_WINDOW;
    args.dispute_window_secs = MAX_DISPUTE_WINDOW_SECS;
    args.referral_fee_bps = 0;
    let d = w.register_with(&owner, args);
    assert_eq!(w.dataset(&d.address).tags, [[0; TAG_LEN]; MAX_TAGS]);
}

/// Dataset PDA seeded by the hash + ContentHashAlreadyRegistered: a hash registers once, whoever
/// tries again and whatever they pay with.
fn register_rejects_a_content_hash_already_registered(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "dup");
    let dataset_before = snapshot(&w, &d.address);
    let mint_before = snapshot(&w, &d.license_mint);

    let mut again = owner_args("dup", &owner);
    again.title = "Another title".into();
    again.price = 1;
    w.try_register(&owner, again).1.fails_with(MarketError::ContentHashAlreadyRegistered);

    let rival = w.wallet();
    let rival_args = owner_args("dup", &rival);
    w.try_register(&rival, rival_args.clone()).1.fails_with(MarketError::ContentHashAlreadyRegistered);

    // same hash, other payment mint (so another escrow vault address)
    let other_mint = w.create_mint(TOKEN_2022, 6, MintExtra::None);
    let other = DatasetHandle::derive(content_hash("dup"), rival.pubkey(), other_mint.mint, TOKEN_2022);
    w.send(&[register_dataset(rival.pubkey(), &other, rival_args)], &[&rival])
        .fails_with(MarketError::ContentHashAlreadyRegistered);
    assert!(!w.exists(&other.escrow_vault));

    assert_eq!(snapshot(&w, &d.address), dataset_before);
    assert_eq!(snapshot(&w, &d.license_mint), mint_before);
    assert_eq!(w.dataset(&d.address).owner, owner.pubkey());
}

/// EmptyContentHash: an all-zero content hash is refused.
fn register_rejects_an_all_zero_content_hash(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("zero", &owner);
    args.content_hash = [0; 32];
    register_fails_with(&mut w, &owner, args, MarketError::EmptyContentHash);
}

/// InvalidTitle: an empty title or one above MAX_TITLE_LEN bytes is refused.
fn register_rejects_an_empty_or_overlong_title(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("title", &owner);
    args.title = String::new();
    register_fails_with(&mut w, &owner, args.clone(), MarketError::InvalidTitle);
    args.title = "T".repeat(MAX_TITLE_LEN + 1);
    register_fails_with(&mut w, &owner, args.clone(), MarketError::InvalidTitle);
    // bytes, not characters
    args.title = "é".repeat(MAX_TITLE_LEN / 2 + 1);
    register_fails_with(&mut w, &owner, args, MarketError::InvalidTitle);
}

/// InvalidMetadataUri: an empty URI or one above MAX_METADATA_URI_LEN bytes is refused.
fn register_rejects_an_empty_or_overlong_metadata_uri(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("uri", &owner);
    args.metadata_uri = String::new();
    register_fails_with(&mut w, &owner, args.clone(), MarketError::InvalidMetadataUri);
    args.metadata_uri = "u".repeat(MAX_METADATA_URI_LEN + 1);
    register_fails_with(&mut w, &owner, args, MarketError::InvalidMetadataUri);
}

/// InvalidCiphertextCid: an empty CID or one above MAX_CID_LEN bytes is refused.
fn register_rejects_an_empty_or_overlong_ciphertext_cid(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("cid", &owner);
    args.ciphertext_cid = String::new();
    register_fails_with(&mut w, &owner, args.clone(), MarketError::InvalidCiphertextCid);
    args.ciphertext_cid = "c".repeat(MAX_CID_LEN + 1);
    register_fails_with(&mut w, &owner, args, MarketError::InvalidCiphertextCid);
}

/// TooManyTags: more than MAX_TAGS tags are refused.
fn register_rejects_more_than_the_maximum_tags(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("tags", &owner);
    args.tags = (0..=MAX_TAGS).map(|i| format!("tag{i}")).collect();
    register_fails_with(&mut w, &owner, args, MarketError::TooManyTags);
}

/// InvalidTag: an empty tag, one above TAG_LEN bytes, or one containing a NUL byte is refused.
fn register_rejects_an_empty_overlong_or_nul_tag(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("tag", &owner);
    for bad in [String::new(), "x".repeat(TAG_LEN + 1), "nl\0p".to_string()] {
        args.tags = vec!["nlp".into(), bad];
        register_fails_with(&mut w, &owner, args.clone(), MarketError::InvalidTag);
    }
}

/// DurationTooLong: a licence duration above MAX_LICENSE_DURATION_SECS is refused.
fn register_rejects_a_duration_above_the_maximum(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("duration", &owner);
    args.terms.duration_secs = MAX_LICENSE_DURATION_SECS + 1;
    register_fails_with(&mut w, &owner, args.clone(), MarketError::DurationTooLong);
    args.terms.duration_secs = u64::MAX;
    register_fails_with(&mut w, &owner, args, MarketError::DurationTooLong);
}

/// DeliveryWindowOutOfBounds: a delivery window below the marketplace's minimum or above the maximum is refused.
fn register_rejects_a_delivery_window_out_of_bounds(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("delivery", &owner);
    for bad in [0, MIN_DELIVERY_WINDOW - 1, MAX_DELIVERY_WINDOW_SECS + 1] {
        args.delivery_window_secs = bad;
        register_fails_with(&mut w, &owner, args.clone(), MarketError::DeliveryWindowOutOfBounds);
    }
}

/// DisputeWindowOutOfBounds: a dispute window below the marketplace's minimum or above the maximum is refused.
fn register_rejects_a_dispute_window_out_of_bounds(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("dispute", &owner);
    for bad in [0, MIN_DISPUTE_WINDOW - 1, MAX_DISPUTE_WINDOW_SECS + 1] {
        args.dispute_window_secs = bad;
        register_fails_with(&mut w, &owner, args.clone(), MarketError::DisputeWindowOutOfBounds);
    }
}

/// check_referral_fee against the marketplace's cap: an offer above the operator's current cap is
/// refused; raising the cap lets it through.
fn register_rejects_a_referral_fee_above_the_marketplace_cap(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let operator = w.operator.insecure_clone();
    let cap = w.marketplace().max_referral_fee_bps;
    let mut args = owner_args("referral", &owner);
    args.referral_fee_bps = cap + 1;
    register_fails_with(&mut w, &owner, args.clone(), MarketError::ReferralFeeAboveCap);

    let raise = UpdateMarketplaceArgs { max_referral_fee_bps: Some(cap + 1), ..Default::default() };
    update(&mut w, &operator, raise).succeeds();
    let d = w.register_with(&owner, args);
    assert_eq!(w.dataset(&d.address).referral_fee_bps, cap + 1);
}

/// InvalidRecipientCount: a split with no recipient or more than MAX_RECIPIENTS is refused.
fn register_rejects_a_split_with_zero_or_nine_recipients(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("count", &owner);
    args.recipients = vec![];
    register_fails_with(&mut w, &owner, args.clone(), MarketError::InvalidRecipientCount);
    // nine distinct, non-zero shares summing to exactly 10,000: only the count is wrong
    args.recipients = recipients(MAX_RECIPIENTS + 1, &owner.pubkey());
    assert_eq!(args.recipients.iter().map(|r| r.bps).sum::<u16>(), 10_000);
    register_fails_with(&mut w, &owner, args, MarketError::InvalidRecipientCount);
}

/// SplitNotFullyAllocated: shares summing to 9,999 or 10,001 (or to 10,000 only modulo 2^16) are refused.
fn register_rejects_a_split_not_summing_to_10000(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let other = Pubkey::new_unique();
    let mut args = owner_args("sum", &owner);
    for split in [
        vec![(owner.pubkey(), 9_999)],
        vec![(owner.pubkey(), 10_001)],
        vec![(owner.pubkey(), 6_000), (other, 3_999)],
        vec![(owner.pubkey(), 6_000), (other, 4_001)],
        // 65,535 + 10,001 wraps to exactly 10,000 in u16 arithmetic
        vec![(owner.pubkey(), u16::MAX), (other, 10_001)],
    ] {
        args.recipients = split.into_iter().map(|(wallet, bps)| Recipient { wallet, bps }).collect();
        register_fails_with(&mut w, &owner, args.clone(), MarketError::SplitNotFullyAllocated);
    }
}

/// ZeroShareRecipient: a recipient with a zero share is refused even when the sum is right.
fn register_rejects_a_zero_share_recipient(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("zero-share", &owner);
    args.recipients =
        vec![Recipient { wallet: owner.pubkey(), bps: 10_000 }, Recipient { wallet: Pubkey::new_unique(), bps: 0 }];
    register_fails_with(&mut w, &owner, args, MarketError::ZeroShareRecipient);
}

/// DuplicateRecipient: the same wallet twice in the split is refused even when the sum is right.
fn register_rejects_a_duplicate_recipient(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let other = Pubkey::new_unique();
    let mut args = owner_args("duplicate", &owner);
    args.recipients =
        vec![Recipient { wallet: owner.pubkey(), bps: 5_000 }, Recipient { wallet: owner.pubkey(), bps: 5_000 }];
    register_fails_with(&mut w, &owner, args.clone(), MarketError::DuplicateRecipient);
    args.recipients = vec![
        Recipient { wallet: other, bps: 3_000 },
        Recipient { wallet: owner.pubkey(), bps: 4_000 },
        Recipient { wallet: other, bps: 3_000 },
    ];
    register_fails_with(&mut w, &owner, args, MarketError::DuplicateRecipient);
}

// ---------------------------------------------------------------------------------------------
// register_dataset: payment mint
// ---------------------------------------------------------------------------------------------

/// UnsupportedPaymentMint: a Token-2022 payment mint with the TransferFee extension is refused.
fn register_rejects_a_payment_mint_with_a_transfer_fee(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mint = w.create_mint(TOKEN_2022, 6, MintExtra::TransferFee);
    let d = handle_for("fee-mint", &owner, &mint);
    let ix = register_dataset(owner.pubkey(), &d, owner_args("fee-mint", &owner));
    w.send(&[ix], &[&owner]).fails_with(MarketError::UnsupportedPaymentMint);
    assert_not_registered(&w, &d);
}

/// UnsupportedPaymentMint: a Token-2022 mint with MintCloseAuthority is refused, because once closed
/// it could be re-created at the same address with a permanent delegate able to drain the vault.
fn register_rejects_a_payment_mint_with_a_close_authority(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mint = w.create_mint(TOKEN_2022, 6, MintExtra::MintCloseAuthority);
    let d = handle_for("close-mint", &owner, &mint);
    let ix = register_dataset(owner.pubkey(), &d, owner_args("close-mint", &owner));
    w.send(&[ix], &[&owner]).fails_with(MarketError::UnsupportedPaymentMint);
    assert_not_registered(&w, &d);
}

/// UnsupportedPaymentMint: another dataset's licence mint (PermanentDelegate, NonTransferable) cannot
/// be used as a payment mint.
fn register_rejects_a_licence_mint_as_payment_mint(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let first = w.register(&owner, "first");
    let d = DatasetHandle::derive(content_hash("second"), owner.pubkey(), first.license_mint, TOKEN_2022);
    let ix = register_dataset(owner.pubkey(), &d, owner_args("second", &owner));
    w.send(&[ix], &[&owner]).fails_with(MarketError::UnsupportedPaymentMint);
    assert_not_registered(&w, &d);
}

/// mint::token_program = payment_token_program: a payment mint owned by the other token program is
/// refused, including a TransferFee mint declared as SPL Token to skip the extension check.
fn register_rejects_a_payment_mint_of_another_token_program(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    // SPL Token mint passed with Token-2022 as its program
    let d = DatasetHandle::derive(content_hash("wrong-program"), owner.pubkey(), w.usdc.mint, TOKEN_2022);
    let ix = register_dataset(owner.pubkey(), &d, owner_args("wrong-program", &owner));
    w.send(&[ix], &[&owner]).fails_with_anchor(AnchorError::ConstraintMintTokenProgram);
    assert_not_registered(&w, &d);
    // Token-2022 TransferFee mint passed with SPL Token as its program
    let fee_mint = w.create_mint(TOKEN_2022, 6, MintExtra::TransferFee);
    let d = DatasetHandle::derive(content_hash("disguised"), owner.pubkey(), fee_mint.mint, TOKEN);
    let ix = register_dataset(owner.pubkey(), &d, owner_args("disguised", &owner));
    w.send(&[ix], &[&owner]).fails_with_anchor(AnchorError::ConstraintMintTokenProgram);
    assert_not_registered(&w, &d);
}

// ---------------------------------------------------------------------------------------------
// register_dataset: accounts
// ---------------------------------------------------------------------------------------------

/// Signer<'info> on the owner: a dataset cannot be registered in someone's name without their signature.
fn register_requires_the_owner_signature(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let payer = w.wallet();
    let d = w.handle("unsigned", &owner.pubkey());
    let ix = without_signature(register_dataset(owner.pubkey(), &d, owner_args("unsigned", &owner)), &owner.pubkey());
    w.send(&[ix], &[&payer]).fails_with_anchor(AnchorError::AccountNotSigner);
    assert_not_registered(&w, &d);
}

/// seeds = [DATASET, content_hash]: a dataset address other than the hash's PDA -> ConstraintSeeds.
fn register_rejects_a_substituted_dataset_address(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.handle("real", &owner.pubkey());
    let other = w.handle("other", &owner.pubkey());
    for substitute in [Pubkey::new_unique(), other.address] {
        let mut accounts = register_accounts(owner.pubkey(), &d);
        accounts.dataset = substitute;
        accounts.license_mint =
            Pubkey::find_program_address(&[b"license_mint", substitute.as_ref()], &data_market::ID).0;
        send_register(&mut w, &owner, accounts, owner_args("real", &owner))
            .fails_with_anchor(AnchorError::ConstraintSeeds);
        assert!(!w.exists(&substitute));
    }
    assert_not_registered(&w, &d);
    assert_not_registered(&w, &other);
}

/// seeds = [LICENSE_MINT, dataset]: a licence mint address other than the dataset's PDA -> ConstraintSeeds.
fn register_rejects_a_substituted_licence_mint_address(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.handle("real-mint", &owner.pubkey());
    let other = w.handle("other-mint", &owner.pubkey());
    let keyed = Keypair::new();
    for substitute in [Pubkey::new_unique(), other.license_mint, keyed.pubkey()] {
        let mut accounts = register_accounts(owner.pubkey(), &d);
        accounts.license_mint = substitute;
        let ix = build(accounts, instruction::RegisterDataset { args: owner_args("real-mint", &owner) });
        let result = if substitute == keyed.pubkey() {
            w.send(&[signed_by(ix, &keyed.pubkey())], &[&owner, &keyed])
        } else {
            w.send(&[ix], &[&owner])
        };
        result.fails_with_anchor(AnchorError::ConstraintSeeds);
        assert!(!w.exists(&substitute));
    }
    assert_not_registered(&w, &d);
}

/// Account<Marketplace> on register: another account of this program or an empty address cannot
/// stand in for the marketplace.
fn register_rejects_a_substituted_marketplace(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let decoy = w.register(&owner, "decoy");
    let d = w.handle("substituted-config", &owner.pubkey());
    for (substitute, error) in [
        (decoy.address, AnchorError::AccountDiscriminatorMismatch),
        (Pubkey::new_unique(), AnchorError::AccountNotInitialized),
    ] {
        let mut accounts = register_accounts(owner.pubkey(), &d);
        accounts.marketplace = substitute;
        send_register(&mut w, &owner, accounts, owner_args("substituted-config", &owner)).fails_with_anchor(error);
    }
    assert_not_registered(&w, &d);
}

/// address = the dataset PDA's associated account for the payment mint: any other address (an
/// unrelated key, the owner's own account, the dataset's account of another mint) -> WrongEscrowVault.
fn register_rejects_a_wrong_escrow_vault(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.handle("vault", &owner.pubkey());
    let owners_account = w.payment_account_of(&owner.pubkey());
    let owners_before = snapshot(&w, &owners_account);
    let other_mint_vault = DatasetHandle::derive(
        content_hash("vault"),
        owner.pubkey(),
        w.create_mint(TOKEN, 6, MintExtra::None).mint,
        TOKEN,
    )
    .escrow_vault;
    for substitute in [Pubkey::new_unique(), owners_account, d.payment_account(&owner.pubkey()), other_mint_vault] {
        let mut accounts = register_accounts(owner.pubkey(), &d);
        accounts.escrow_vault = substitute;
        send_register(&mut w, &owner, accounts, owner_args("vault", &owner)).fails_with(MarketError::WrongEscrowVault);
    }
    assert_eq!(snapshot(&w, &owners_account), owners_before);
    assert!(!w.exists(&other_mint_vault));
    assert_not_registered(&w, &d);
}

/// Program<'info, _> / Interface<'info, _> on the program accounts: a substituted program -> InvalidProgramId.
fn register_rejects_substituted_programs(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.handle("programs", &owner.pubkey());
    let substitutions: [(&str, fn(&mut accounts::RegisterDataset)); 4] = [
        ("payment_token_program", |a| a.payment_token_program = anchor_lang::system_program::ID),
        ("token_2022_program", |a| a.token_2022_program = TOKEN),
        ("associated_token_program", |a| a.associated_token_program = TOKEN_2022),
        ("system_program", |a| a.system_program = TOKEN),
    ];
    for (name, substitute) in substitutions {
        let mut accounts = register_accounts(owner.pubkey(), &d);
        substitute(&mut accounts);
        let result = send_register(&mut w, &owner, accounts, owner_args("programs", &owner));
        let failure = result.fails();
        match &failure.err {
            TransactionError::InstructionError(_, InstructionError::Custom(code))
                if *code == u32::from(AnchorError::InvalidProgramId) => {}
            other => panic!("{name}: expected InvalidProgramId, got {other:?}\n{}", failure.meta.pretty_logs()),
        }
    }
    assert_not_registered(&w, &d);
}

/// create_pda_account's top-up path: lamports sent to the dataset PDA beforehand do not block registration.
fn registration_is_not_blocked_by_a_pre_funded_dataset_address(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.handle("prefunded-dataset", &owner.pubkey());
    // less than the dataset's rent: the handler tops the balance up
    let dust = w.svm.minimum_balance_for_rent_exemption(0);
    w.svm.airdrop(&d.address, dust).unwrap();
    w.register(&owner, "prefunded-dataset");
    let account = w.svm.get_account(&d.address).unwrap();
    assert_eq!(account.owner, data_market::ID);
    assert!(account.lamports >= w.svm.minimum_balance_for_rent_exemption(account.data.len()));
    assert_eq!(w.dataset(&d.address).owner, owner.pubkey());
    // and it sells
    let buyer = w.buyer(PRICE);
    w.buy(&d, &buyer, None).succeeds();
}

/// create_pda_account's top-up path: lamports sent to the licence mint PDA beforehand (more than its
/// rent) do not block registration, and the mint still works.
fn registration_is_not_blocked_by_a_pre_funded_licence_mint_address(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.handle("prefunded-mint", &owner.pubkey());
    w.svm.airdrop(&d.license_mint, 10 * SOL).unwrap();
    w.register(&owner, "prefunded-mint");
    let account = w.svm.get_account(&d.license_mint).unwrap();
    assert_eq!(account.owner, TOKEN_2022);
    assert!(account.lamports >= w.svm.minimum_balance_for_rent_exemption(account.data.len()));
    assert_eq!(licence_metadata(&w, &d.license_mint).name, "License: Dataset prefunded-mint");
    let buyer = w.buyer(PRICE);
    w.buy(&d, &buyer, None).succeeds();
    assert_eq!(w.mint_supply(&d.license_mint), 1);
}

/// create_idempotent on the escrow vault: a vault address pre-funded, or already created by someone
/// else, does not block registration.
fn registration_is_not_blocked_by_a_pre_funded_or_pre_created_escrow_vault(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let funded = w.handle("prefunded-vault", &owner.pubkey());
    let dust = w.svm.minimum_balance_for_rent_exemption(0);
    w.svm.airdrop(&funded.escrow_vault, dust).unwrap();
    w.register(&owner, "prefunded-vault");
    assert_eq!(w.token_account_state(&funded.escrow_vault).owner, funded.address);

    let created = w.handle("precreated-vault", &owner.pubkey());
    let (mint, program) = (w.usdc.mint, w.usdc.token_program);
    assert_eq!(w.token_account(&created.address, &mint, &program), created.escrow_vault);
    w.register(&owner, "precreated-vault");
    assert_eq!(w.dataset(&created.address).escrow_vault, created.escrow_vault);
    let buyer = w.buyer(PRICE);
    w.buy(&created, &buyer, None).succeeds();
    w.assert_conserved(&created);
}

// ---------------------------------------------------------------------------------------------
// register_dataset: the licence mint
// ---------------------------------------------------------------------------------------------

/// The licence mint: Token-2022, 0 decimals, the dataset as mint authority, permanent delegate and
/// metadata authority, metadata on the mint itself, no freeze authority.
fn register_builds_the_licence_mint_as_documented(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "mint");
    let account = w.svm.get_account(&d.license_mint).unwrap();
    assert_eq!(account.owner, TOKEN_2022);
    assert!(account.lamports >= w.svm.minimum_balance_for_rent_exemption(account.data.len()));
    let state = StateWithExtensions::<MintState>::unpack(&account.data).unwrap();
    assert_eq!(state.base.decimals, 0);
    assert_eq!(state.base.supply, 0);
    assert_eq!(Option::<Pubkey>::from(state.base.mint_authority), Some(d.address));
    assert_eq!(Option::<Pubkey>::from(state.base.freeze_authority), None);
    let delegate = state.get_extension::<PermanentDelegate>().unwrap();
    assert_eq!(Option::<Pubkey>::from(delegate.delegate), Some(d.address));
    let pointer = state.get_extension::<MetadataPointer>().unwrap();
    assert_eq!(Option::<Pubkey>::from(pointer.metadata_address), Some(d.license_mint));
    assert_eq!(Option::<Pubkey>::from(pointer.authority), Some(d.address));
    let metadata = licence_metadata(&w, &d.license_mint);
    assert_eq!(metadata.name, "License: Dataset mint");
    assert_eq!(metadata.symbol, LICENSE_SYMBOL);
    assert_eq!(metadata.uri, "ipfs://bafkreimetadatamint");
    assert_eq!(metadata.mint, d.license_mint);
    assert_eq!(Option::<Pubkey>::from(metadata.update_authority), Some(d.address));
    assert_eq!(w.dataset(&d.address).license_mint, d.license_mint);
}

/// license_token_name: the on-mint name is "License: " and the whole title, whatever its length
/// (up to MAX_TITLE_LEN bytes), so two datasets whose titles share a long prefix stay told apart.
fn licence_token_name_carries_the_whole_title(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("long-title", &owner);
    args.title = "A very long dataset title that does not fit".into();
    let d = w.register_with(&owner, args);
    let name = licence_metadata(&w, &d.license_mint).name;
    assert_eq!(name, "License: A very long dataset title that does not fit");
    let data = mint_data(&w, &d.license_mint);
    assert!(data.windows(name.len()).any(|window| window == name.as_bytes()));

    // same 32-byte prefix, different tail: different names
    let mut args = owner_args("long-title-2", &owner);
    args.title = "A very long dataset title that does not fit either".into();
    let other = w.register_with(&owner, args);
    assert_ne!(licence_metadata(&w, &other.license_mint).name, name);

    // the longest title (multi-byte characters) still fits the funded mint
    let mut args = owner_args("max-title", &owner);
    args.title = "é".repeat(MAX_TITLE_LEN / 2);
    let d = w.register_with(&owner, args);
    assert_eq!(licence_metadata(&w, &d.license_mint).name, format!("License: {}", "é".repeat(MAX_TITLE_LEN / 2)));
}

/// terms.transferable == false -> NonTransferable licence mint: the licence token cannot change hands.
fn non_transferable_terms_make_the_licence_token_non_transferable(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let args = owner_args("locked", &owner);
    assert!(!args.terms.transferable);
    let d = w.register_with(&owner, args);
    assert!(mint_extensions(&w, &d.license_mint).contains(&ExtensionType::NonTransferable));
    let buyer = w.buyer(PRICE);
    w.buy(&d, &buyer, None).succeeds();
    let other = w.wallet();
    transfer_licence(&mut w, &d, &buyer, &other.pubkey()).fails_with_code(TokenError::NonTransferable as u32);
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 1);
    assert_eq!(w.balance(&d.license_account(&other.pubkey())), 0);
}

/// terms.transferable == true -> no NonTransferable extension: the licence token can change hands.
fn transferable_terms_let_the_licence_token_change_hands(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = owner_args("free", &owner);
    args.terms.transferable = true;
    let d = w.register_with(&owner, args);
    let extensions = mint_extensions(&w, &d.license_mint);
    assert!(!extensions.contains(&ExtensionType::NonTransferable));
    assert!(extensions.contains(&ExtensionType::PermanentDelegate));
    let buyer = w.buyer(PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let other = w.wallet();
    transfer_licence(&mut w, &d, &buyer, &other.pubkey()).succeeds();
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 0);
    assert_eq!(w.balance(&d.license_account(&other.pubkey())), 1);
}

// ---------------------------------------------------------------------------------------------
// update_dataset
// ---------------------------------------------------------------------------------------------

/// has_one = owner @ NotDatasetOwner: a stranger (even another dataset's owner) cannot update it.
fn update_dataset_rejects_a_stranger(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let stranger = w.wallet();
    let d = w.register(&owner, "owned");
    w.register(&stranger, "strangers-own");
    let before = snapshot(&w, &d.address);
    let args = UpdateDatasetArgs {
        price: Some(1),
        delivery_delegate: Some(stranger.pubkey()),
        allow_list_enabled: Some(true),
    };
    update_ds(&mut w, &stranger, &d, args).fails_with(MarketError::NotDatasetOwner);
    assert_eq!(snapshot(&w, &d.address), before);
}

/// Signer<'info> on the owner: naming the owner without its signature -> AccountNotSigner.
fn update_dataset_requires_the_owner_signature(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let payer = w.wallet();
    let d = w.register(&owner, "unsigned-update");
    let before = snapshot(&w, &d.address);
    let ix = without_signature(
        update_dataset(owner.pubkey(), &d, UpdateDatasetArgs { price: Some(1), ..Default::default() }),
        &owner.pubkey(),
    );
    w.send(&[ix], &[&payer]).fails_with_anchor(AnchorError::AccountNotSigner);
    assert_eq!(snapshot(&w, &d.address), before);
}

/// Account<Dataset> + mut on update: another account type, an empty address or a read-only dataset
/// is refused.
fn update_dataset_rejects_a_substituted_dataset(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "original");
    let before = snapshot(&w, &d.address);
    let config_before = config_snapshot(&w);
    let args = UpdateDatasetArgs { price: Some(1), ..Default::default() };
    for (substitute, error) in [
        (marketplace_address(), AnchorError::AccountDiscriminatorMismatch),
        (d.license_mint, AnchorError::AccountOwnedByWrongProgram),
        (Pubkey::new_unique(), AnchorError::AccountNotInitialized),
    ] {
        let ix = build(
            accounts::UpdateDataset { owner: owner.pubkey(), dataset: substitute },
            instruction::UpdateDataset { args: args.clone() },
        );
        w.send(&[ix], &[&owner]).fails_with_anchor(error);
    }
    let ix = read_only(update_dataset(owner.pubkey(), &d, args), &d.address);
    w.send(&[ix], &[&owner]).fails_with_anchor(AnchorError::ConstraintMut);
    assert_eq!(snapshot(&w, &d.address), before);
    assert_eq!(config_snapshot(&w), config_before);
}

/// set_dataset_state(OrderingPaused): purchases fail with DatasetNotActive; Active reopens sales.
fn paused_dataset_refuses_purchases_until_resumed(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "pausable");
    let buyer = w.buyer(PRICE);
    w.send(&[set_dataset_state(owner.pubkey(), &d, DatasetState::OrderingPaused)], &[&owner]).succeeds();
    assert_eq!(w.dataset(&d.address).state, DatasetState::OrderingPaused);
    let before = snapshot(&w, &d.address);
    w.buy(&d, &buyer, None).fails_with(MarketError::DatasetNotActive);
    assert_eq!(snapshot(&w, &d.address), before);
    assert!(!w.exists(&d.license(&buyer.pubkey())));
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);

    // a price update leaves the state alone
    update_ds(&mut w, &owner, &d, UpdateDatasetArgs { price: Some(PRICE), ..Default::default() }).succeeds();
    w.buy(&d, &buyer, None).fails_with(MarketError::DatasetNotActive);

    w.send(&[set_dataset_state(owner.pubkey(), &d, DatasetState::Active)], &[&owner]).succeeds();
    assert_eq!(w.dataset(&d.address).state, DatasetState::Active);
    w.buy(&d, &buyer, None).succeeds();
    w.assert_conserved(&d);
}

/// price update + the buyer's max_price: a raise above a buyer's maximum fails with PriceAboveMax.
fn raised_price_above_a_buyers_maximum_fails_the_purchase(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "repriced");
    let buyer = w.buyer(2 * PRICE);
    update_ds(&mut w, &owner, &d, UpdateDatasetArgs { price: Some(PRICE + 1), ..Default::default() }).succeeds();
    let state = w.dataset(&d.address);
    assert_eq!(state.price, PRICE + 1);
    assert_eq!(state.state, DatasetState::Active);
    assert_eq!(state.delivery_delegate, Pubkey::default());

    let ixs = purchase_instructions(buyer.pubkey(), &d, purchase_args(PRICE), None);
    w.send(&ixs, &[&buyer]).fails_with(MarketError::PriceAboveMax);
    assert!(!w.exists(&d.license(&buyer.pubkey())));
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 2 * PRICE);

    let ixs = purchase_instructions(buyer.pubkey(), &d, purchase_args(PRICE + 1), None);
    w.send(&ixs, &[&buyer]).succeeds();
    assert_eq!(w.balance(&d.escrow_vault), PRICE + 1);
    assert_eq!(w.license(&d.license(&buyer.pubkey())).price_paid, PRICE + 1);
}

/// delivery_delegate: once set the delegate can deliver; set back to Pubkey::default() it cannot
/// (NotDeliveryAuthority) while the owner still can.
fn delivery_delegate_can_deliver_until_removed(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let delegate = w.wallet();
    let d = w.register(&owner, "delegated");
    let first = w.buyer(PRICE);
    w.buy(&d, &first, None).succeeds();
    w.deliver(&d, &delegate, &first.pubkey()).fails_with(MarketError::NotDeliveryAuthority);

    let set = UpdateDatasetArgs { delivery_delegate: Some(delegate.pubkey()), ..Default::default() };
    update_ds(&mut w, &owner, &d, set).succeeds();
    assert_eq!(w.dataset(&d.address).delivery_delegate, delegate.pubkey());
    w.deliver(&d, &delegate, &first.pubkey()).succeeds();
    assert_eq!(w.license(&d.license(&first.pubkey())).state, LicenseState::Delivered);

    let second = w.buyer(PRICE);
    w.buy(&d, &second, None).succeeds();
    let remove = UpdateDatasetArgs { delivery_delegate: Some(Pubkey::default()), ..Default::default() };
    update_ds(&mut w, &owner, &d, remove).succeeds();
    assert_eq!(w.dataset(&d.address).delivery_delegate, Pubkey::default());
    w.deliver(&d, &delegate, &second.pubkey()).fails_with(MarketError::NotDeliveryAuthority);
    assert_eq!(w.license(&d.license(&second.pubkey())).state, LicenseState::AwaitingKey);
    w.deliver(&d, &owner, &second.pubkey()).succeeds();
}

on_both_backends!(
    initialize_requires_the_program_upgrade_authority,
    initialize_rejects_a_window_policy_out_of_bounds,
    update_marketplace_rejects_a_window_policy_out_of_bounds,
    window_policy_applies_to_new_registrations,
    initialize_cannot_run_a_second_time,
    initialize_rejects_a_protocol_fee_above_the_cap,
    initialize_rejects_a_referral_cap_above_the_hard_cap,
    initialize_requires_the_authority_signature,
    initialize_rejects_a_marketplace_address_that_is_not_the_pda,
    update_marketplace_changes_only_the_fields_given,
    update_marketplace_rejects_a_non_authority_signer,
    update_marketplace_requires_the_authority_signature,
    update_marketplace_requires_a_writable_marketplace,
    update_marketplace_rejects_a_substituted_marketplace,
    update_marketplace_rejects_fees_above_the_caps,
    paused_marketplace_refuses_purchases_until_unpaused,
    propose_authority_rejects_a_stranger,
    propose_authority_requires_the_authority_signature,
    propose_authority_rejects_a_substituted_marketplace,
    accept_authority_fails_with_nothing_pending,
    accept_authority_rejects_a_signer_other_than_the_proposed_one,
    accept_authority_requires_the_new_authority_signature,
    accept_authority_rejects_a_substituted_marketplace,
    authority_transfer_hands_over_control_in_two_steps,
    proposing_the_default_key_cancels_a_pending_transfer,
    register_accepts_every_input_at_its_bounds,
    register_rejects_a_content_hash_already_registered,
    register_rejects_an_all_zero_content_hash,
    register_rejects_an_empty_or_overlong_title,
    register_rejects_an_empty_or_overlong_metadata_uri,
    register_rejects_an_empty_or_overlong_ciphertext_cid,
    register_rejects_more_than_the_maximum_tags,
    register_rejects_an_empty_overlong_or_nul_tag,
    register_rejects_a_duration_above_the_maximum,
    register_rejects_a_delivery_window_out_of_bounds,
    register_rejects_a_dispute_window_out_of_bounds,
    register_rejects_a_referral_fee_above_the_marketplace_cap,
    register_rejects_a_split_with_zero_or_nine_recipients,
    register_rejects_a_split_not_summing_to_10000,
    register_rejects_a_zero_share_recipient,
    register_rejects_a_duplicate_recipient,
    register_rejects_a_payment_mint_with_a_transfer_fee,
    register_rejects_a_payment_mint_with_a_close_authority,
    register_rejects_a_licence_mint_as_payment_mint,
    register_rejects_a_payment_mint_of_another_token_program,
    register_requires_the_owner_signature,
    register_rejects_a_substituted_dataset_address,
    register_rejects_a_substituted_licence_mint_address,
    register_rejects_a_substituted_marketplace,
    register_rejects_a_wrong_escrow_vault,
    register_rejects_substituted_programs,
    registration_is_not_blocked_by_a_pre_funded_dataset_address,
    registration_is_not_blocked_by_a_pre_funded_licence_mint_address,
    registration_is_not_blocked_by_a_pre_funded_or_pre_created_escrow_vault,
    register_builds_the_licence_mint_as_documented,
    licence_token_name_carries_the_whole_title,
    non_transferable_terms_make_the_licence_token_non_transferable,
    transferable_terms_let_the_licence_token_change_hands,
    update_dataset_rejects_a_stranger,
    update_dataset_requires_the_owner_signature,
    update_dataset_rejects_a_substituted_dataset,
    paused_dataset_refuses_purchases_until_resumed,
    raised_price_above_a_buyers_maximum_fails_the_purchase,
    delivery_delegate_can_deliver_until_removed,
);
