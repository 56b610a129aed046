//! Negative tests of everything that happens around and after a sale: recorded use and its receipts,
//! metered credits, allow-lists, the dataset lifecycle and version chain, reviews, disputes and the
//! closing of licences, dispute records and datasets. Each test fails if the check it names is
//! removed; where a rejected transaction could have changed state it also asserts that nothing did.
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use data_market::constants::{MAX_CREDITS_PER_PURCHASE, MAX_EVIDENCE_URI_LEN, MAX_REVIEW_URI_LEN};
use data_market::domain::ledger::EscrowLedger;
use data_market::domain::lifecycle::LicenseState;
use data_market::domain::listing;
use data_market::errors::MarketError;
use data_market::instruction;
use data_market::instructions::{
    PurchaseLicenseArgs, RecordUsageArgs, RegisterDatasetArgs, ReviewArgs, UpdateDatasetArgs, UpdateMarketplaceArgs,
};
use data_market::state::{
    AllowListEntry, DatasetState, Dispute, DisputeReason, Review, Ruling, UsagePurpose, UsageReceipt,
};
use market_tests::tokens::{MintExtra, TOKEN, TOKEN_2022};
use market_tests::*;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// SPL Token error: the signer is not the source account's owner.
const TOKEN_OWNER_MISMATCH: u32 = 4;

const MODEL_A: [u8; 32] = [0xA1; 32];
const MODEL_B: [u8; 32] = [0xB2; 32];
const RUN: [u8; 32] = [0x3C; 32];
const EVIDENCE: &str = "ipfs://bafkreievidence";
const REVIEW_URI: &str = "ipfs://bafkreireview";

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/// A shop selling credits at PRICE each.
fn metered_shop(backend: Backend) -> Shop {
    shop_with(backend, |args| args.terms.metered = true)
}

/// A second dataset in the same world and payment mint, owned by `owner`.
fn dataset_of(
    w: &mut World,
    owner: &Keypair,
    label: &str,
    tweak: impl FnOnce(&mut RegisterDatasetArgs),
) -> DatasetHandle {
    let mut args = dataset_args(label, single_owner(&owner.pubkey()));
    tweak(&mut args);
    w.register_with(owner, args)
}

fn metered_args(credits: u32, max_price: u64) -> PurchaseLicenseArgs {
    PurchaseLicenseArgs { credits, ..purchase_args(max_price) }
}

fn buy_with(w: &mut World, d: &DatasetHandle, buyer: &Keypair, args: PurchaseLicenseArgs) -> TxResult {
    w.send(&purchase_instructions(buyer.pubkey(), d, args, None), &[buyer])
}

/// Sends a purchase built from (possibly substituted) accounts, behind the licence-account creation.
fn buy_from(
    w: &mut World,
    buyer: &Keypair,
    d: &DatasetHandle,
    accounts: data_market::accounts::PurchaseLicense,
) -> TxResult {
    let create = create_license_account(buyer.pubkey(), d, &buyer.pubkey());
    let ix = build(accounts, instruction::PurchaseLicense { args: purchase_args(u64::MAX) });
    w.send(&[create, ix], &[buyer])
}

/// A buyer who bought `credits` credits of a metered dataset (funded with exactly their price).
fn bought_credits(w: &mut World, d: &DatasetHandle, credits: u32) -> Keypair {
    let total = w.dataset(&d.address).price * u64::from(credits);
    let buyer = w.buyer(total);
    buy_with(w, d, &buyer, metered_args(credits, total)).succeeds();
    buyer
}

fn ledger(w: &World, d: &DatasetHandle) -> EscrowLedger {
    w.dataset(&d.address).ledger
}

fn fee_of(amount: u64, bps: u16) -> u64 {
    (u128::from(amount) * u128::from(bps) / 10_000) as u64
}

fn pause_marketplace(w: &mut World, paused: bool) {
    let operator = w.operator.insecure_clone();
    let args = UpdateMarketplaceArgs { purchases_paused: Some(paused), ..Default::default() };
    w.send(&[update_marketplace(operator.pubkey(), args)], &[&operator]).succeeds();
}

fn set_dataset(w: &mut World, owner: &Keypair, d: &DatasetHandle, args: UpdateDatasetArgs) {
    w.send(&[update_dataset(owner.pubkey(), d, args)], &[owner]).succeeds();
}

fn set_state(w: &mut World, owner: &Keypair, d: &DatasetHandle, state: DatasetState) -> TxResult {
    w.send(&[set_dataset_state(owner.pubkey(), d, state)], &[owner])
}

fn revoke(w: &mut World, d: &DatasetHandle) -> TxResult {
    let operator = w.operator.insecure_clone();
    w.send(&[revoke_dataset(operator.pubkey(), d, 451)], &[&operator])
}

/// Moves a dataset from Active to `state` the way its owner (or, for Revoked, the operator) does.
fn put_in_state(w: &mut World, owner: &Keypair, d: &DatasetHandle, state: DatasetState) {
    match state {
        DatasetState::Active => {}
        DatasetState::Revoked => {
            revoke(w, d).succeeds();
        }
        other => {
            set_state(w, owner, d, other).succeeds();
        }
    }
    assert_eq!(w.dataset(&d.address).state, state);
}

fn renew(w: &mut World, d: &DatasetHandle, buyer: &Keypair) -> TxResult {
    w.send(&[renew_license(buyer.pubkey(), d, u64::MAX)], &[buyer])
}

fn top_up(w: &mut World, d: &DatasetHandle, buyer: &Keypair, credits: u32, max_price: u64) -> TxResult {
    w.send(&[buy_credits(buyer.pubkey(), d, credits, max_price)], &[buyer])
}

fn top_up_with(w: &mut World, buyer: &Keypair, accounts: data_market::accounts::BuyCredits, credits: u32) -> TxResult {
    w.send(&[build(accounts, instruction::BuyCredits { credits, max_price: u64::MAX })], &[buyer])
}

fn usage(purpose: UsagePurpose, model_hash: [u8; 32]) -> RecordUsageArgs {
    RecordUsageArgs { purpose, model_hash, run_id: RUN }
}

/// The accounts of the next recorded use of `holder`'s own licence.
fn next_use(
    w: &World,
    d: &DatasetHandle,
    holder: &Pubkey,
    attestor: Option<Pubkey>,
) -> data_market::accounts::RecordUsage {
    let license = w.license(&d.license(holder));
    record_usage_accounts(*holder, d, license.serial, license.usage_count, attestor)
}

/// The next receipt of the licence at `license`.
fn next_receipt(w: &World, license: &Pubkey) -> Pubkey {
    let state = w.license(license);
    receipt_address(license, state.serial, state.usage_count)
}

fn record(w: &mut World, d: &DatasetHandle, holder: &Keypair, purpose: UsagePurpose, model: [u8; 32]) -> TxResult {
    let accounts = next_use(w, d, &holder.pubkey(), None);
    w.send(&[record_usage(accounts, usage(purpose, model))], &[holder])
}

fn record_with(w: &mut World, holder: &Keypair, accounts: data_market::accounts::RecordUsage) -> TxResult {
    w.send(&[record_usage(accounts, usage(UsagePurpose::Training, MODEL_A))], &[holder])
}

fn review_args(rating: u8, uri: &str) -> ReviewArgs {
    ReviewArgs { rating, text_hash: [0x5E; 32], uri: uri.to_string() }
}

fn review(w: &mut World, d: &DatasetHandle, reviewer: &Keypair, rating: u8) -> TxResult {
    w.send(&[submit_review(reviewer.pubkey(), d, review_args(rating, REVIEW_URI))], &[reviewer])
}

fn edit_review(w: &mut World, d: &DatasetHandle, reviewer: &Keypair, rating: u8) -> TxResult {
    w.send(&[update_review(reviewer.pubkey(), d, review_args(rating, REVIEW_URI))], &[reviewer])
}

fn submit_review_accounts(reviewer: Pubkey, d: &DatasetHandle, license: Pubkey) -> data_market::accounts::SubmitReview {
    data_market::accounts::SubmitReview {
        reviewer,
        dataset: d.address,
        license,
        review: review_address(&license),
        system_program: anchor_lang::system_program::ID,
    }
}

fn dispute(w: &mut World, d: &DatasetHandle, buyer: &Keypair) -> TxResult {
    w.send(&[open_dispute(buyer.pubkey(), d, DisputeReason::NotAsDescribed, EVIDENCE)], &[buyer])
}

fn open_dispute_accounts(buyer: Pubkey, d: &DatasetHandle, license: Pubkey) -> data_market::accounts::OpenDispute {
    data_market::accounts::OpenDispute {
        buyer,
        dataset: d.address,
        license,
        dispute: dispute_address(&license),
        system_program: anchor_lang::system_program::ID,
    }
}

fn open_dispute_with(w: &mut World, buyer: &Keypair, accounts: data_market::accounts::OpenDispute) -> TxResult {
    let data = instruction::OpenDispute { reason: DisputeReason::HashMismatch, evidence_uri: EVIDENCE.to_string() };
    w.send(&[build(accounts, data)], &[buyer])
}

fn rule(w: &mut World, d: &DatasetHandle, buyer: &Pubkey, ruling: Ruling) -> TxResult {
    let arbiter = w.arbiter.insecure_clone();
    w.send(&[rule_dispute(arbiter.pubkey(), d, buyer, ruling)], &[&arbiter])
}

fn rule_with(w: &mut World, accounts: data_market::accounts::RuleDispute, ruling: Ruling) -> TxResult {
    let arbiter = w.arbiter.insecure_clone();
    w.send(&[build(accounts, instruction::RuleDispute { ruling })], &[&arbiter])
}

fn claim_referral(w: &mut World, d: &DatasetHandle, referrer: &Keypair, buyer: &Pubkey) -> TxResult {
    w.payment_account_of(&referrer.pubkey());
    w.send(&[claim_referral_fee(referrer.pubkey(), d, buyer)], &[referrer])
}

/// Moves `amount` licence tokens of `d` from `from`'s associated account to `to`'s (created if missing).
fn move_license_tokens(w: &mut World, d: &DatasetHandle, from: &Keypair, to: &Pubkey, amount: u64) -> Pubkey {
    let destination = w.token_account(to, &d.license_mint, &TOKEN_2022);
    let ix = token_ix::transfer_checked(
        &TOKEN_2022,
        &d.license_account(&from.pubkey()),
        &d.license_mint,
        &destination,
        &from.pubkey(),
        &[],
        amount,
        0,
    )
    .unwrap();
    w.send(&[ix], &[from]).succeeds();
    destination
}

fn send_lamports(w: &mut World, to: &Pubkey, lamports: u64) {
    let griefer = w.wallet();
    w.send(&[system_instruction::transfer(&griefer.pubkey(), to, lamports)], &[&griefer]).succeeds();
}

// ---------------------------------------------------------------------------------------------
// record_usage
// ---------------------------------------------------------------------------------------------

/// require!(usage_allowed(state)) -> DatasetRevoked: a revoked dataset's licences record no more use.
fn record_usage_rejected_once_dataset_revoked(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    revoke(&mut w, &d).succeeds();
    let license = d.license(&buyer.pubkey());
    let receipt = next_receipt(&w, &license);
    let before = snapshot(&w, &[d.address, license, receipt, d.license_account(&buyer.pubkey())]);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).fails_with(MarketError::DatasetRevoked);
    assert_unchanged(&w, &before);
    assert!(!w.exists(&receipt));
}

/// check_usable -> LicenseNotDelivered: a licence waiting for its key records nothing.
fn record_usage_rejected_before_delivery(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, next_receipt(&w, &license)]);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).fails_with(MarketError::LicenseNotDelivered);
    assert_unchanged(&w, &before);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
}

/// check_usable -> LicenseVoid: a refunded licence records nothing.
fn record_usage_rejected_after_refund(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &buyer.pubkey()).succeeds();
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, next_receipt(&w, &license)]);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);
}

/// check_usable -> LicenseExpired: one second before expires_at works, exactly at it fails, and a
/// renewal makes the licence usable again.
fn record_usage_rejected_from_expiry(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let license = d.license(&buyer.pubkey());
    let expires_at = w.license(&license).expires_at;
    assert!(expires_at > w.now());
    let now = w.now();
    w.warp(expires_at - 1 - now);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    w.warp(1);
    assert_eq!(w.now(), expires_at);
    let before = snapshot(&w, &[d.address, license, next_receipt(&w, &license)]);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).fails_with(MarketError::LicenseExpired);
    assert_unchanged(&w, &before);
    // renewals wait for settlement (the dispute window closed long ago)
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.fund_payment(&buyer.pubkey(), PRICE);
    renew(&mut w, &d, &buyer).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    assert_eq!(w.license(&license).usage_count, 2);
}

/// holder_license_account.amount == 0 -> LicenseTokenNotHeld (unmetered): a buyer who gave its
/// transferable licence token away cannot record use, and the new holder cannot record on the
/// buyer's licence either (NotLicenseBuyer).
fn record_usage_requires_holding_the_license_token(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.terms.transferable = true);
    let buyer = delivered(&mut w, &d, &owner, None);
    let friend = w.wallet();
    let friend_account = move_license_tokens(&mut w, &d, &buyer, &friend.pubkey(), 1);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, next_receipt(&w, &license)]);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).fails_with(MarketError::LicenseTokenNotHeld);
    let mut accounts = next_use(&w, &d, &buyer.pubkey(), None);
    accounts.holder = friend.pubkey();
    accounts.holder_license_account = friend_account;
    record_with(&mut w, &friend, accounts).fails_with(MarketError::NotLicenseBuyer);
    assert_unchanged(&w, &before);

    let give_back = token_ix::transfer_checked(
        &TOKEN_2022,
        &friend_account,
        &d.license_mint,
        &d.license_account(&buyer.pubkey()),
        &friend.pubkey(),
        &[],
        1,
        0,
    )
    .unwrap();
    w.send(&[give_back], &[&friend]).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    // an unmetered use burns nothing
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 1);
}

/// holder_license_account.amount == 0 -> NoCreditsLeft (metered): each use burns exactly one credit
/// token; with none left the use fails, and a top-up makes it possible again.
fn metered_use_burns_one_credit_until_none_left(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 2);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let account = d.license_account(&buyer.pubkey());
    let license = d.license(&buyer.pubkey());
    assert_eq!((w.balance(&account), w.mint_supply(&d.license_mint)), (2, 2));
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    assert_eq!((w.balance(&account), w.mint_supply(&d.license_mint)), (1, 1));
    record(&mut w, &d, &buyer, UsagePurpose::FineTuning, MODEL_A).succeeds();
    assert_eq!((w.balance(&account), w.mint_supply(&d.license_mint)), (0, 0));
    let state = w.license(&license);
    assert_eq!((state.credits, state.usage_count), (2, 2));

    let before = snapshot(&w, &[d.address, license, next_receipt(&w, &license), account]);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).fails_with(MarketError::NoCreditsLeft);
    assert_unchanged(&w, &before);

    // top-ups wait for settlement
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.fund_payment(&buyer.pubkey(), PRICE);
    top_up(&mut w, &d, &buyer, 1, PRICE).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    assert_eq!((w.balance(&account), w.mint_supply(&d.license_mint)), (0, 0));
    let state = w.license(&license);
    assert_eq!((state.credits, state.usage_count), (3, 3));
}

/// non_zero(model_hash) -> InvalidModelHash.
fn record_usage_rejects_all_zero_model_hash(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, next_receipt(&w, &license), d.license_account(&buyer.pubkey())]);
    record(&mut w, &d, &buyer, UsagePurpose::Training, [0; 32]).fails_with(MarketError::InvalidModelHash);
    assert_unchanged(&w, &before);
    let mut one_bit = [0u8; 32];
    one_bit[31] = 1;
    record(&mut w, &d, &buyer, UsagePurpose::Training, one_bit).succeeds();
}

/// constraint license.buyer == holder -> NotLicenseBuyer: another licensee of the same dataset,
/// holding its own licence token, cannot record use on someone else's licence.
fn record_usage_rejects_holder_who_is_not_the_buyer(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let other = delivered(&mut w, &d, &owner, None);
    let license = d.license(&buyer.pubkey());
    let mut accounts = next_use(&w, &d, &buyer.pubkey(), None);
    accounts.holder = other.pubkey();
    accounts.holder_license_account = d.license_account(&other.pubkey());
    let before = snapshot(&w, &[d.address, license, accounts.receipt]);
    record_with(&mut w, &other, accounts).fails_with(MarketError::NotLicenseBuyer);
    assert_unchanged(&w, &before);
}

/// has_one = dataset on license: a licence of another dataset cannot count use on this one.
fn record_usage_rejects_license_of_another_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();
    let mut accounts = next_use(&w, &other, &buyer.pubkey(), None);
    accounts.dataset = d.address;
    accounts.license_mint = d.license_mint;
    accounts.holder_license_account = d.license_account(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, other.address, accounts.license, accounts.receipt]);
    record_with(&mut w, &buyer, accounts).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
}

/// has_one = license_mint on dataset: the licence tokens of another dataset do not prove this
/// licence is held.
fn record_usage_rejects_license_mint_of_another_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.terms.transferable = true);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    // the buyer gave its licence token of `d` away and keeps only the one of `other`
    let friend = w.wallet();
    move_license_tokens(&mut w, &d, &buyer, &friend.pubkey(), 1);
    let mut accounts = next_use(&w, &d, &buyer.pubkey(), None);
    accounts.license_mint = other.license_mint;
    accounts.holder_license_account = other.license_account(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, accounts.license, accounts.receipt]);
    record_with(&mut w, &buyer, accounts).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
}

/// token::authority = holder and token::mint = license_mint on holder_license_account: the token
/// proving the licence must be the holder's own, of this dataset's licence mint.
fn record_usage_holder_account_must_be_the_holders_of_this_mint(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.terms.transferable = true);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = delivered(&mut w, &d, &owner, None);
    let neighbour = delivered(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    w.buy(&other, &buyer, None).succeeds();
    // the buyer's own licence token of `d` is gone
    let friend = w.wallet();
    move_license_tokens(&mut w, &d, &buyer, &friend.pubkey(), 1);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, next_receipt(&w, &license)]);

    let mut accounts = next_use(&w, &d, &buyer.pubkey(), None);
    accounts.holder_license_account = d.license_account(&neighbour.pubkey());
    record_with(&mut w, &buyer, accounts).fails_with_anchor(ErrorCode::ConstraintTokenOwner);
    let mut accounts = next_use(&w, &d, &buyer.pubkey(), None);
    accounts.holder_license_account = other.license_account(&buyer.pubkey());
    record_with(&mut w, &buyer, accounts).fails_with_anchor(ErrorCode::ConstraintTokenMint);
    assert_unchanged(&w, &before);
}

/// seeds = [RECEIPT, license, serial, usage_count] on receipt: only the licence's next receipt
/// address is accepted (not a used one, not one further on, not one of another sale number, nor
/// one derived from the purchase time).
fn record_usage_rejects_receipt_that_is_not_the_next(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    let license = d.license(&buyer.pubkey());
    let serial = w.license(&license).serial;
    let bought_at = w.license(&license).bought_at;
    let before = snapshot(&w, &[d.address, license]);
    for receipt in [
        receipt_address(&license, serial, 0),
        receipt_address(&license, serial, 2),
        receipt_address(&license, serial + 1, 1),
        receipt_address(&license, bought_at as u64, 1),
        receipt_address(&d.license(&owner.pubkey()), serial, 1),
    ] {
        let mut accounts = next_use(&w, &d, &buyer.pubkey(), None);
        accounts.receipt = receipt;
        record_with(&mut w, &buyer, accounts).fails_with_anchor(ErrorCode::ConstraintSeeds);
    }
    assert_unchanged(&w, &before);
    assert!(!w.exists(&receipt_address(&license, serial, 2)));
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    assert!(w.exists(&receipt_address(&license, serial, 1)));
}

/// create_pda_account on the receipt: lamports sent to the next receipt address beforehand (less or
/// more than its rent) do not block the use.
fn prefunded_receipt_address_does_not_block_usage(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let license = d.license(&buyer.pubkey());
    let first = next_receipt(&w, &license);
    let dust = w.svm.minimum_balance_for_rent_exemption(0);
    send_lamports(&mut w, &first, dust);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    let second = next_receipt(&w, &license);
    send_lamports(&mut w, &second, 10 * SOL);
    record(&mut w, &d, &buyer, UsagePurpose::Evaluation, MODEL_B).succeeds();
    let rent = w.svm.minimum_balance_for_rent_exemption(8 + <UsageReceipt as anchor_lang::Space>::INIT_SPACE);
    assert_eq!(w.lamports(&first), rent);
    assert_eq!(w.lamports(&second), 10 * SOL);
    let receipts = [w.account::<UsageReceipt>(&first), w.account::<UsageReceipt>(&second)];
    assert_eq!((receipts[0].index, receipts[0].model_hash), (0, MODEL_A));
    assert_eq!((receipts[1].index, receipts[1].model_hash), (1, MODEL_B));
    assert_eq!(w.license(&license).usage_count, 2);
}

/// attestor: Option<Signer>: a co-signer is recorded on the receipt; named without its signature the
/// use fails (AccountNotSigner); without one the receipt names nobody.
fn attestor_must_sign_and_is_recorded(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let attestor = w.wallet();
    let license = d.license(&buyer.pubkey());

    let accounts = next_use(&w, &d, &buyer.pubkey(), Some(attestor.pubkey()));
    let receipt = accounts.receipt;
    let ix = record_usage(accounts, usage(UsagePurpose::Evaluation, MODEL_A));
    let before = snapshot(&w, &[d.address, license, receipt]);
    w.send(&[unsigned(ix.clone(), &attestor.pubkey())], &[&buyer]).fails_with_anchor(ErrorCode::AccountNotSigner);
    assert_unchanged(&w, &before);
    w.send(&[ix], &[&buyer, &attestor]).succeeds();
    let attested = w.account::<UsageReceipt>(&receipt);
    assert_eq!((attested.holder, attested.attestor), (buyer.pubkey(), attestor.pubkey()));
    assert_eq!((attested.purpose, attested.run_id, attested.index), (UsagePurpose::Evaluation, RUN, 0));
    assert_eq!(attested.recorded_at, w.now());

    let receipt = next_receipt(&w, &license);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    assert_eq!(w.account::<UsageReceipt>(&receipt).attestor, Pubkey::default());
}

/// UsageReceipt layout (after the header: dataset, license, model_hash, holder): a
/// getProgramAccounts memcmp on the model hash lists exactly that model's receipts across datasets.
fn receipts_list_a_models_provenance_across_datasets(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |args| args.terms.metered = true);
    let buyer = delivered(&mut w, &d, &owner, None);
    let second = delivered(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), 3 * PRICE);
    buy_with(&mut w, &other, &buyer, metered_args(3, 3 * PRICE)).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();

    let on_d = d.license(&buyer.pubkey());
    let on_other = other.license(&buyer.pubkey());
    let a_on_d = next_receipt(&w, &on_d);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Evaluation, MODEL_B).succeeds();
    let a_on_other = next_receipt(&w, &on_other);
    record(&mut w, &other, &buyer, UsagePurpose::FineTuning, MODEL_A).succeeds();
    record(&mut w, &d, &second, UsagePurpose::InferenceRag, MODEL_B).succeeds();

    let raw = w.svm.get_account(&a_on_d).unwrap().data;
    assert_eq!(&raw[FIELDS..FIELDS + 32], d.address.as_ref());
    assert_eq!(&raw[FIELDS + 32..FIELDS + 64], on_d.as_ref());
    assert_eq!(&raw[FIELDS + 64..FIELDS + 96], &MODEL_A);
    assert_eq!(&raw[FIELDS + 96..FIELDS + 128], buyer.pubkey().as_ref());

    let mut expected = vec![a_on_d, a_on_other];
    expected.sort();
    let found = w.program_accounts_of::<UsageReceipt>(&[(FIELDS + 64, &MODEL_A)]);
    assert_eq!(found.iter().map(|(address, _)| *address).collect::<Vec<_>>(), expected);
    for (_, receipt) in &found {
        assert_eq!(receipt.model_hash, MODEL_A);
        assert_eq!(receipt.holder, buyer.pubkey());
    }
    let datasets: Vec<Pubkey> = found.iter().map(|(_, r)| r.dataset).collect();
    assert!(datasets.contains(&d.address) && datasets.contains(&other.address));
    // by dataset, by licence and combined
    assert_eq!(w.program_accounts_of::<UsageReceipt>(&[(FIELDS, d.address.as_ref())]).len(), 3);
    assert_eq!(w.program_accounts_of::<UsageReceipt>(&[(FIELDS + 32, on_d.as_ref())]).len(), 2);
    assert_eq!(
        w.program_accounts_of::<UsageReceipt>(&[(FIELDS, other.address.as_ref()), (FIELDS + 64, &MODEL_A)]).len(),
        1
    );
    assert_eq!(
        w.program_accounts_of::<UsageReceipt>(&[(FIELDS, other.address.as_ref()), (FIELDS + 64, &MODEL_B)]).len(),
        0
    );
}

/// dataset.usage_by_purpose[purpose] += 1: each dataset counts its own uses by purpose.
fn usage_is_counted_by_purpose(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = delivered(&mut w, &d, &owner, None);
    let second = delivered(&mut w, &other, &owner, None);
    for purpose in [UsagePurpose::Training, UsagePurpose::Training, UsagePurpose::Evaluation, UsagePurpose::Other] {
        record(&mut w, &d, &buyer, purpose, MODEL_A).succeeds();
    }
    record(&mut w, &other, &second, UsagePurpose::InferenceRag, MODEL_B).succeeds();
    // a rejected use counts nothing
    record(&mut w, &d, &buyer, UsagePurpose::FineTuning, [0; 32]).fails_with(MarketError::InvalidModelHash);
    assert_eq!(w.dataset(&d.address).usage_by_purpose, [2, 0, 1, 0, 1]);
    assert_eq!(w.dataset(&other.address).usage_by_purpose, [0, 0, 0, 1, 0]);
    assert_eq!(w.license(&d.license(&buyer.pubkey())).usage_count, 4);
}

// ---------------------------------------------------------------------------------------------
// Metered purchases and buy_credits
// ---------------------------------------------------------------------------------------------

/// purchase_total -> InvalidCreditAmount: 0 or more than MAX_CREDITS_PER_PURCHASE credits of a metered
/// dataset, or anything but 1 of an unmetered one; exactly MAX_CREDITS_PER_PURCHASE is accepted.
fn purchase_rejects_credit_amount_out_of_bounds(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let unmetered = dataset_of(&mut w, &owner, "unmetered", |_| {});
    let buyer = w.buyer(10 * PRICE);
    let before = snapshot(
        &w,
        &[d.address, d.license(&buyer.pubkey()), d.escrow_vault, d.payment_account(&buyer.pubkey()), unmetered.address],
    );
    for credits in [0, MAX_CREDITS_PER_PURCHASE + 1, u32::MAX] {
        buy_with(&mut w, &d, &buyer, metered_args(credits, u64::MAX)).fails_with(MarketError::InvalidCreditAmount);
    }
    for credits in [0, 2] {
        buy_with(&mut w, &unmetered, &buyer, metered_args(credits, u64::MAX))
            .fails_with(MarketError::InvalidCreditAmount);
    }
    assert_unchanged(&w, &before);
    buy_with(&mut w, &unmetered, &buyer, metered_args(1, PRICE)).succeeds();
    assert_eq!(w.license(&unmetered.license(&buyer.pubkey())).credits, 1);

    // the upper bound itself is accepted (at one base unit per credit)
    let cheap = dataset_of(&mut w, &owner, "cheap", |args| {
        args.terms.metered = true;
        args.price = 1;
    });
    let max = u64::from(MAX_CREDITS_PER_PURCHASE);
    let bulk = w.buyer(max);
    buy_with(&mut w, &cheap, &bulk, metered_args(MAX_CREDITS_PER_PURCHASE, max)).succeeds();
    assert_eq!(w.balance(&cheap.license_account(&bulk.pubkey())), max);
    let license = w.license(&cheap.license(&bulk.pubkey()));
    assert_eq!((license.credits, license.price_paid), (max, max));
    w.assert_conserved(&cheap);
}

/// total = price * credits <= max_price -> PriceAboveMax: the price is per credit and the buyer's
/// maximum bounds the total.
fn metered_purchase_charges_price_per_credit_up_to_max(backend: Backend) {
    let Shop { mut w, d, .. } = metered_shop(backend);
    let total = 4 * PRICE;
    let buyer = w.buyer(total);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.escrow_vault]);
    buy_with(&mut w, &d, &buyer, metered_args(4, total - 1)).fails_with(MarketError::PriceAboveMax);
    // the per-credit price alone is not what the maximum is compared with
    buy_with(&mut w, &d, &buyer, metered_args(4, PRICE)).fails_with(MarketError::PriceAboveMax);
    assert_unchanged(&w, &before);
    buy_with(&mut w, &d, &buyer, metered_args(4, total)).succeeds();
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!((license.credits, license.usage_count, license.price_paid), (4, 0, total));
    assert_eq!(license.protocol_fee, fee_of(total, PROTOCOL_FEE_BPS));
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 4);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 0);
    assert_eq!(w.balance(&d.escrow_vault), total);
    assert_eq!(ledger(&w, &d).escrowed, total);
    w.assert_conserved(&d);
}

/// price.checked_mul(credits) -> Overflow: a huge per-credit price cannot wrap the total (purchase
/// and top-up alike).
fn metered_total_overflow_is_named(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let early = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &early.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &early.pubkey()).succeeds();
    set_dataset(&mut w, &owner, &d, UpdateDatasetArgs { price: Some(u64::MAX / 2 + 1), ..Default::default() });
    let buyer = w.buyer(PRICE);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.license(&early.pubkey()), d.escrow_vault]);
    buy_with(&mut w, &d, &buyer, metered_args(2, u64::MAX)).fails_with(MarketError::Overflow);
    top_up(&mut w, &d, &early, 2, u64::MAX).fails_with(MarketError::Overflow);
    assert_unchanged(&w, &before);
}

/// require!(terms.metered) -> NotMetered: an unmetered licence cannot buy credits.
fn buy_credits_rejects_unmetered_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.escrow_vault, d.license_mint]);
    top_up(&mut w, &d, &buyer, 1, u64::MAX).fails_with(MarketError::NotMetered);
    assert_unchanged(&w, &before);
}

/// check_usable on the licence: no top-up before delivery (LicenseNotDelivered), after a refund
/// (LicenseVoid) or after expiry (LicenseExpired).
fn buy_credits_requires_a_usable_license(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let waiting = bought_credits(&mut w, &d, 1);
    let refunded = bought_credits(&mut w, &d, 1);
    w.fund_payment(&waiting.pubkey(), PRICE);
    w.fund_payment(&refunded.pubkey(), PRICE);
    let before = snapshot(&w, &[d.address, d.license(&waiting.pubkey()), d.escrow_vault, d.license_mint]);
    top_up(&mut w, &d, &waiting, 1, PRICE).fails_with(MarketError::LicenseNotDelivered);
    assert_unchanged(&w, &before);
    w.deliver(&d, &owner, &waiting.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &waiting.pubkey()).succeeds();
    top_up(&mut w, &d, &waiting, 1, PRICE).succeeds();

    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &refunded.pubkey()).succeeds();
    let before = snapshot(&w, &[d.address, d.license(&refunded.pubkey()), d.escrow_vault, d.license_mint]);
    top_up(&mut w, &d, &refunded, 1, PRICE).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);

    let expires_at = w.license(&d.license(&waiting.pubkey())).expires_at;
    let now = w.now();
    w.warp(expires_at - now);
    w.fund_payment(&waiting.pubkey(), PRICE);
    let before = snapshot(&w, &[d.address, d.license(&waiting.pubkey()), d.escrow_vault, d.license_mint]);
    top_up(&mut w, &d, &waiting, 1, PRICE).fails_with(MarketError::LicenseExpired);
    assert_unchanged(&w, &before);
}

/// require!(!purchases_paused) -> PurchasesPaused on buy_credits.
fn buy_credits_rejected_while_marketplace_paused(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.fund_payment(&buyer.pubkey(), PRICE);
    pause_marketplace(&mut w, true);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.escrow_vault, d.license_mint]);
    top_up(&mut w, &d, &buyer, 1, PRICE).fails_with(MarketError::PurchasesPaused);
    assert_unchanged(&w, &before);
    pause_marketplace(&mut w, false);
    top_up(&mut w, &d, &buyer, 1, PRICE).succeeds();
}

/// require!(sales_open(state)) -> DatasetNotActive on buy_credits: OrderingPaused, Deprecated, Retired
/// and Revoked datasets sell no credits; an Unlisted one does.
fn buy_credits_rejected_unless_dataset_sells(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    for (i, state) in [
        DatasetState::OrderingPaused,
        DatasetState::Deprecated,
        DatasetState::Retired,
        DatasetState::Revoked,
        DatasetState::Unlisted,
    ]
    .into_iter()
    .enumerate()
    {
        let d = dataset_of(&mut w, &owner, &format!("credits{i}"), |args| args.terms.metered = true);
        let buyer = bought_credits(&mut w, &d, 1);
        w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
        w.warp(i64::from(DISPUTE_WINDOW));
        w.settle(&d, &buyer.pubkey()).succeeds();
        w.fund_payment(&buyer.pubkey(), PRICE);
        put_in_state(&mut w, &owner, &d, state);
        if state == DatasetState::Unlisted {
            top_up(&mut w, &d, &buyer, 1, PRICE).succeeds();
            continue;
        }
        let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.escrow_vault, d.license_mint]);
        top_up(&mut w, &d, &buyer, 1, PRICE).fails_with(MarketError::DatasetNotActive);
        assert_unchanged(&w, &before);
    }
}

/// InvalidCreditAmount and PriceAboveMax on buy_credits: 0 or too many credits, or a total above the
/// buyer's maximum, are refused; the exact total passes.
fn buy_credits_rejects_bad_amount_and_price_above_max(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.fund_payment(&buyer.pubkey(), 3 * PRICE);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.escrow_vault, d.license_mint]);
    top_up(&mut w, &d, &buyer, 0, u64::MAX).fails_with(MarketError::InvalidCreditAmount);
    top_up(&mut w, &d, &buyer, MAX_CREDITS_PER_PURCHASE + 1, u64::MAX).fails_with(MarketError::InvalidCreditAmount);
    top_up(&mut w, &d, &buyer, 3, 3 * PRICE - 1).fails_with(MarketError::PriceAboveMax);
    assert_unchanged(&w, &before);
    top_up(&mut w, &d, &buyer, 3, 3 * PRICE).succeeds();
    assert_eq!(w.license(&d.license(&buyer.pubkey())).credits, 4);
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 4);
}

/// has_one = buyer @ NotLicenseBuyer on buy_credits: a licensee cannot top up someone else's licence
/// (minting the credits to itself).
fn buy_credits_rejects_license_of_another_buyer(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 1);
    let other = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.deliver(&d, &owner, &other.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.settle(&d, &other.pubkey()).succeeds();
    w.fund_payment(&other.pubkey(), PRICE);
    let mut accounts = buy_credits_accounts(other.pubkey(), &d);
    accounts.license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.license(&other.pubkey()), d.escrow_vault]);
    top_up_with(&mut w, &other, accounts, 1).fails_with(MarketError::NotLicenseBuyer);
    assert_unchanged(&w, &before);
}

/// has_one = dataset / payment_mint / license_mint / escrow_vault and the token constraints on
/// buy_credits: each substituted account is refused (and the payment comes from the buyer's own account).
fn buy_credits_rejects_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |args| args.terms.metered = true);
    let buyer = bought_credits(&mut w, &d, 1);
    let neighbour = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.fund_payment(&buyer.pubkey(), 2 * PRICE);
    buy_with(&mut w, &other, &buyer, metered_args(1, PRICE)).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.settle(&other, &buyer.pubkey()).succeeds();
    let fake = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_account = w.fund(&fake, &buyer.pubkey(), 10 * PRICE);
    let me = buyer.pubkey();
    let before = snapshot(
        &w,
        &[d.address, other.address, d.license(&me), other.license(&me), d.escrow_vault, other.escrow_vault],
    );

    let cases: Vec<(&str, Box<dyn Fn(&mut data_market::accounts::BuyCredits)>, ErrorCode)> = vec![
        ("licence of another dataset", Box::new(|a| a.license = other.license(&me)), ErrorCode::ConstraintHasOne),
        (
            "licence mint of another dataset",
            Box::new(|a| {
                a.license_mint = other.license_mint;
                a.buyer_license_account = other.license_account(&me);
            }),
            ErrorCode::ConstraintHasOne,
        ),
        ("vault of another dataset", Box::new(|a| a.escrow_vault = other.escrow_vault), ErrorCode::ConstraintHasOne),
        (
            "another payment mint",
            Box::new(|a| {
                a.payment_mint = fake.mint;
                a.buyer_payment_account = Some(fake_account);
            }),
            ErrorCode::ConstraintHasOne,
        ),
        (
            "payment account of another mint",
            Box::new(|a| a.buyer_payment_account = Some(fake_account)),
            ErrorCode::ConstraintTokenMint,
        ),
        (
            "licence account of another holder",
            Box::new(|a| a.buyer_license_account = d.license_account(&neighbour.pubkey())),
            ErrorCode::ConstraintTokenOwner,
        ),
        (
            "licence account of another mint",
            Box::new(|a| a.buyer_license_account = other.license_account(&me)),
            ErrorCode::ConstraintTokenMint,
        ),
    ];
    for (name, substitute, error) in cases {
        let mut accounts = buy_credits_accounts(me, &d);
        substitute(&mut accounts);
        let result = top_up_with(&mut w, &buyer, accounts, 1);
        assert!(result.is_err(), "{name} was accepted");
        result.fails_with_anchor(error);
    }
    // the payment account carries no owner constraint: the transfer's authority check (token
    // program, OwnerMismatch) keeps a buyer from paying out of someone else's funded account
    w.fund_payment(&neighbour.pubkey(), PRICE);
    let mut accounts = buy_credits_accounts(me, &d);
    accounts.buyer_payment_account = Some(d.payment_account(&neighbour.pubkey()));
    top_up_with(&mut w, &buyer, accounts, 1).fails_with_code(TOKEN_OWNER_MISMATCH);
    assert_eq!(w.balance(&d.payment_account(&neighbour.pubkey())), PRICE);
    assert_unchanged(&w, &before);
    top_up(&mut w, &d, &buyer, 1, PRICE).succeeds();
}

/// buy_credits accrues the top-up (no escrow, no referral fee): it is claimable and sweepable at
/// once, the credits are minted, and the vault stays reconciled. (Top-ups wait for the licence's
/// settlement; another buyer's purchase still in escrow shows the top-up is not added to it.)
fn top_up_is_claimable_at_once(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let referrer = w.wallet();
    let buyer = w.buyer(2 * PRICE);
    w.ensure_front_end(&referrer.pubkey());
    let args = PurchaseLicenseArgs { credits: 2, ..purchase_args(2 * PRICE) };
    w.send(&purchase_instructions(buyer.pubkey(), &d, args, Some(referrer.pubkey())), &[&buyer]).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    // the settled purchase is paid out first, so the claim and sweep below are the top-up alone
    w.claim(&d, &owner).succeeds();
    w.sweep(&d).succeeds();
    let referral_fee = fee_of(2 * PRICE, REFERRAL_FEE_BPS);
    let (owner_paid, treasury_paid) =
        (w.balance(&d.payment_account(&owner.pubkey())), w.balance(&d.payment_account(&w.treasury.pubkey())));
    // not settled: this purchase is still escrowed
    let waiting = bought_credits(&mut w, &d, 2);
    w.fund_payment(&buyer.pubkey(), 5 * PRICE);
    let before = ledger(&w, &d);
    assert_eq!((before.escrowed, before.referral_fees_owed), (2 * PRICE, referral_fee));
    top_up(&mut w, &d, &buyer, 5, 5 * PRICE).succeeds();
    let total = 5 * PRICE;
    let fee = fee_of(total, PROTOCOL_FEE_BPS);
    let after = ledger(&w, &d);
    assert_eq!(after.escrowed, before.escrowed);
    assert_eq!(after.claimable[0], before.claimable[0] + total - fee);
    assert_eq!(after.protocol_fees_owed, before.protocol_fees_owed + fee);
    assert_eq!(after.referral_fees_owed, before.referral_fees_owed);
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!((license.credits, license.price_paid), (7, 2 * PRICE));
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 7);
    w.assert_conserved(&d);

    w.claim(&d, &owner).succeeds();
    assert_eq!(w.balance(&d.payment_account(&owner.pubkey())), owner_paid + total - fee);
    w.sweep(&d).succeeds();
    assert_eq!(w.balance(&d.payment_account(&w.treasury.pubkey())), treasury_paid + fee);
    w.assert_conserved(&d);
    assert_eq!(w.balance(&d.escrow_vault), 2 * PRICE + referral_fee);
    assert_eq!(w.license(&d.license(&waiting.pubkey())).state, LicenseState::AwaitingKey);
}

/// require!(state == Settled) -> LicenseNotSettled on buy_credits: a delivered licence is still open
/// to a dispute whose Refund ruling would void every unused credit yet repay only the escrowed
/// purchase, so it buys credits only once settled; the dispute window having closed is not enough
/// while nobody has settled it.
fn buy_credits_waits_for_settlement(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 2);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.fund_payment(&buyer.pubkey(), 3 * PRICE);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(
        &w,
        &[
            d.address,
            license,
            d.escrow_vault,
            d.license_mint,
            d.license_account(&buyer.pubkey()),
            d.payment_account(&buyer.pubkey()),
        ],
    );
    top_up(&mut w, &d, &buyer, 3, 3 * PRICE).fails_with(MarketError::LicenseNotSettled);
    assert_unchanged(&w, &before);
    w.warp(i64::from(DISPUTE_WINDOW));
    assert_eq!(w.license(&license).state, LicenseState::Delivered);
    top_up(&mut w, &d, &buyer, 3, 3 * PRICE).fails_with(MarketError::LicenseNotSettled);
    assert_unchanged(&w, &before);
    w.settle(&d, &buyer.pubkey()).succeeds();
    top_up(&mut w, &d, &buyer, 3, 3 * PRICE).succeeds();
    let state = w.license(&license);
    assert_eq!((state.state, state.credits), (LicenseState::Settled, 5));
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 5);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 0);
    w.assert_conserved(&d);
}

/// refund_license of an undelivered metered licence: every credit must still be held
/// (LicenseTokenNotHeld otherwise), all are burned and the whole total is repaid.
fn refund_of_metered_license_burns_every_credit(backend: Backend) {
    let Shop { mut w, d, .. } = shop_with(backend, |args| {
        args.terms.metered = true;
        args.terms.transferable = true;
    });
    let buyer = bought_credits(&mut w, &d, 5);
    let account = d.license_account(&buyer.pubkey());
    let friend = w.wallet();
    let friend_account = move_license_tokens(&mut w, &d, &buyer, &friend.pubkey(), 1);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.escrow_vault, account, friend_account]);
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::LicenseTokenNotHeld);
    assert_unchanged(&w, &before);

    let back = token_ix::transfer_checked(
        &TOKEN_2022,
        &friend_account,
        &d.license_mint,
        &account,
        &friend.pubkey(),
        &[],
        1,
        0,
    )
    .unwrap();
    w.send(&[back], &[&friend]).succeeds();
    w.refund(&d, &buyer.pubkey()).succeeds();
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 5 * PRICE);
    assert_eq!((w.balance(&account), w.mint_supply(&d.license_mint)), (0, 0));
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!((license.state, license.refunded_amount), (LicenseState::Refunded, 5 * PRICE));
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 0);
    assert_eq!(ledger(&w, &d).total().unwrap(), 0);
    w.assert_conserved(&d);
}

// ---------------------------------------------------------------------------------------------
// Allow-list
// ---------------------------------------------------------------------------------------------

fn allow(w: &mut World, owner: &Keypair, d: &DatasetHandle, buyer: &Pubkey) -> TxResult {
    w.send(&[add_to_allow_list(owner.pubkey(), d, *buyer)], &[owner])
}

fn purchase_with_entry(w: &mut World, d: &DatasetHandle, buyer: &Keypair, entry: Option<Pubkey>) -> TxResult {
    let mut accounts = purchase_accounts(buyer.pubkey(), d, None);
    accounts.allow_list_entry = entry;
    buy_from(w, buyer, d, accounts)
}

/// require!(listed) -> NotOnAllowList: with the allow-list enabled a buyer needs its own entry for
/// this dataset; no entry, another buyer's entry or its entry for another dataset are refused.
fn allow_list_refuses_buyers_without_their_own_entry(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let other = dataset_of(&mut w, &owner, "other", |args| args.allow_list_enabled = true);
    let buyer = w.buyer(PRICE);
    let listed = w.buyer(PRICE);
    allow(&mut w, &owner, &d, &listed.pubkey()).succeeds();
    allow(&mut w, &owner, &other, &buyer.pubkey()).succeeds();
    let before =
        snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.escrow_vault, d.payment_account(&buyer.pubkey())]);

    purchase_with_entry(&mut w, &d, &buyer, None).fails_with(MarketError::NotOnAllowList);
    let someone_elses = allow_list_entry_address(&d, &listed.pubkey());
    purchase_with_entry(&mut w, &d, &buyer, Some(someone_elses)).fails_with(MarketError::NotOnAllowList);
    let other_datasets = allow_list_entry_address(&other, &buyer.pubkey());
    purchase_with_entry(&mut w, &d, &buyer, Some(other_datasets)).fails_with(MarketError::NotOnAllowList);
    // a listed buyer who does not show its entry is refused too
    purchase_with_entry(&mut w, &d, &listed, None).fails_with(MarketError::NotOnAllowList);
    assert_unchanged(&w, &before);

    purchase_with_entry(&mut w, &d, &listed, Some(someone_elses)).succeeds();
    allow(&mut w, &owner, &d, &buyer.pubkey()).succeeds();
    let entry = w.account::<AllowListEntry>(&allow_list_entry_address(&d, &buyer.pubkey()));
    assert_eq!((entry.dataset, entry.buyer), (d.address, buyer.pubkey()));
    purchase_with_entry(&mut w, &d, &buyer, Some(allow_list_entry_address(&d, &buyer.pubkey()))).succeeds();
    assert_eq!(w.dataset(&d.address).licenses_sold, 2);
    w.assert_conserved(&d);
}

/// has_one = owner @ NotDatasetOwner on add_to_allow_list and remove_from_allow_list.
fn allow_list_changes_only_by_owner(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let stranger = w.wallet();
    let buyer = w.wallet();
    let entry = allow_list_entry_address(&d, &buyer.pubkey());
    w.send(&[add_to_allow_list(stranger.pubkey(), &d, buyer.pubkey())], &[&stranger])
        .fails_with(MarketError::NotDatasetOwner);
    assert!(!w.exists(&entry));
    allow(&mut w, &owner, &d, &buyer.pubkey()).succeeds();
    let before = snapshot(&w, &[entry]);
    w.send(&[remove_from_allow_list(stranger.pubkey(), &d, &buyer.pubkey())], &[&stranger])
        .fails_with(MarketError::NotDatasetOwner);
    // the operator is no owner either
    let operator = w.operator.insecure_clone();
    w.send(&[remove_from_allow_list(operator.pubkey(), &d, &buyer.pubkey())], &[&operator])
        .fails_with(MarketError::NotDatasetOwner);
    assert_unchanged(&w, &before);
    assert!(w.exists(&entry));
}

/// init (and seeds = [ALLOW, dataset, buyer]) on the entry: adding a buyer twice fails (the system
/// program will not create the existing account again), and the entry must sit at its derived address.
fn allow_list_entry_is_added_once_at_its_address(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let buyer = w.wallet();
    let other_buyer = w.wallet();
    let entry = allow_list_entry_address(&d, &buyer.pubkey());
    allow(&mut w, &owner, &d, &buyer.pubkey()).succeeds();
    let before = snapshot(&w, &[entry, d.address]);
    let rent = w.lamports(&entry);
    // the system program refuses to create it again (the exact error depends on the runtime)
    allow(&mut w, &owner, &d, &buyer.pubkey()).fails();
    assert_unchanged(&w, &before);
    assert_eq!(w.lamports(&entry), rent);

    let mut accounts = data_market::accounts::AddToAllowList {
        owner: owner.pubkey(),
        dataset: d.address,
        entry: allow_list_entry_address(&d, &buyer.pubkey()),
        system_program: anchor_lang::system_program::ID,
    };
    accounts.entry = allow_list_entry_address(&d, &other_buyer.pubkey());
    let ix = build(accounts, instruction::AddToAllowList { buyer: buyer.pubkey() });
    w.send(&[ix], &[&owner]).fails_with_anchor(ErrorCode::ConstraintSeeds);
    assert!(!w.exists(&allow_list_entry_address(&d, &other_buyer.pubkey())));
}

/// init on add_to_allow_list's entry: lamports sent to the entry's address beforehand must not stop
/// the owner from allow-listing that buyer (every other PDA of the program is created so that
/// prefunding cannot block it).
fn prefunded_allow_list_entry_address_does_not_block(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let buyer = w.buyer(PRICE);
    let entry = allow_list_entry_address(&d, &buyer.pubkey());
    let dust = w.svm.minimum_balance_for_rent_exemption(0);
    send_lamports(&mut w, &entry, dust);
    allow(&mut w, &owner, &d, &buyer.pubkey()).succeeds();
    let stored = w.account::<AllowListEntry>(&entry);
    assert_eq!((stored.dataset, stored.buyer), (d.address, buyer.pubkey()));
    purchase_with_entry(&mut w, &d, &buyer, Some(entry)).succeeds();
}

/// close = owner on remove_from_allow_list: the entry's exact rent goes back to the owner and the
/// buyer can no longer purchase.
fn removing_an_entry_returns_its_rent_and_unlists_the_buyer(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let buyer = w.buyer(PRICE);
    allow(&mut w, &owner, &d, &buyer.pubkey()).succeeds();
    let entry = allow_list_entry_address(&d, &buyer.pubkey());
    let rent = w.lamports(&entry);
    assert_eq!(rent, w.svm.minimum_balance_for_rent_exemption(8 + <AllowListEntry as anchor_lang::Space>::INIT_SPACE));
    let payer = w.wallet();
    let owner_before = w.lamports(&owner.pubkey());
    w.send(&[remove_from_allow_list(owner.pubkey(), &d, &buyer.pubkey())], &[&payer, &owner]).succeeds();
    assert_eq!(w.lamports(&owner.pubkey()), owner_before + rent);
    assert!(!w.exists(&entry));
    purchase_with_entry(&mut w, &d, &buyer, None).fails_with(MarketError::NotOnAllowList);
    purchase_with_entry(&mut w, &d, &buyer, Some(entry)).fails_with_anchor(ErrorCode::AccountNotInitialized);
    // removing again finds nothing
    w.send(&[remove_from_allow_list(owner.pubkey(), &d, &buyer.pubkey())], &[&owner])
        .fails_with_anchor(ErrorCode::AccountNotInitialized);
}

/// has_one = dataset on remove_from_allow_list's entry: an owner cannot close (and pocket the rent
/// of) an entry of another owner's dataset through its own dataset.
fn removing_an_entry_of_another_dataset_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let rival = w.wallet();
    let other = dataset_of(&mut w, &rival, "other", |args| args.allow_list_enabled = true);
    let buyer = w.wallet();
    allow(&mut w, &rival, &other, &buyer.pubkey()).succeeds();
    let entry = allow_list_entry_address(&other, &buyer.pubkey());
    let before = snapshot(&w, &[entry]);
    let ix = build(
        data_market::accounts::RemoveFromAllowList { owner: owner.pubkey(), dataset: d.address, entry },
        instruction::RemoveFromAllowList {},
    );
    w.send(&[ix], &[&owner]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
    assert!(w.exists(&entry));
}

/// update_dataset allow_list_enabled: Some(false) lifts the restriction, Some(true) imposes it.
fn update_dataset_toggles_the_allow_list(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let buyer = w.buyer(PRICE);
    purchase_with_entry(&mut w, &d, &buyer, None).fails_with(MarketError::NotOnAllowList);
    set_dataset(&mut w, &owner, &d, UpdateDatasetArgs { allow_list_enabled: Some(false), ..Default::default() });
    assert!(!w.dataset(&d.address).allow_list_enabled);
    purchase_with_entry(&mut w, &d, &buyer, None).succeeds();

    let open = dataset_of(&mut w, &owner, "open", |_| {});
    set_dataset(&mut w, &owner, &open, UpdateDatasetArgs { allow_list_enabled: Some(true), ..Default::default() });
    let late = w.buyer(PRICE);
    purchase_with_entry(&mut w, &open, &late, None).fails_with(MarketError::NotOnAllowList);
    // other updates leave the flag alone
    set_dataset(&mut w, &owner, &open, UpdateDatasetArgs { price: Some(PRICE), ..Default::default() });
    assert!(w.dataset(&open.address).allow_list_enabled);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: set_dataset_state, revoke_dataset, version chain
// ---------------------------------------------------------------------------------------------

const ALL_STATES: [DatasetState; 6] = [
    DatasetState::Active,
    DatasetState::OrderingPaused,
    DatasetState::Unlisted,
    DatasetState::Deprecated,
    DatasetState::Retired,
    DatasetState::Revoked,
];

/// The owner's moves the lifecycle allows (domain/listing.rs); every other pair is refused.
const OWNER_MOVES: [(DatasetState, DatasetState); 13] = {
    use DatasetState::*;
    [
        (Active, OrderingPaused),
        (Active, Unlisted),
        (Active, Deprecated),
        (Active, Retired),
        (OrderingPaused, Active),
        (OrderingPaused, Unlisted),
        (OrderingPaused, Deprecated),
        (OrderingPaused, Retired),
        (Unlisted, Active),
        (Unlisted, OrderingPaused),
        (Unlisted, Deprecated),
        (Unlisted, Retired),
        (Deprecated, Retired),
    ]
};

fn refused_move(from: DatasetState, to: DatasetState) -> MarketError {
    match (from, to) {
        (DatasetState::Revoked, _) => MarketError::DatasetRevoked,
        (DatasetState::Retired, _) => MarketError::DatasetRetired,
        (_, DatasetState::Revoked) => MarketError::NotMarketplaceAuthority,
        _ => MarketError::InvalidStateTransition,
    }
}

/// listing::owner_transition in set_dataset_state: for all 36 (from, to) pairs the allowed moves
/// succeed and the others fail with InvalidStateTransition, DatasetRetired, DatasetRevoked or
/// NotMarketplaceAuthority (the owner cannot revoke), leaving the dataset unchanged.
fn set_dataset_state_follows_the_transition_table(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    for (i, from) in ALL_STATES.into_iter().enumerate() {
        // one dataset in `from` takes every refused move; each allowed move gets a fresh one
        let stays = w.register(&owner, &format!("from{i}"));
        put_in_state(&mut w, &owner, &stays, from);
        for (j, to) in ALL_STATES.into_iter().enumerate() {
            let allowed = OWNER_MOVES.contains(&(from, to));
            assert_eq!(listing::owner_transition(from, to).is_ok(), allowed, "{from:?} -> {to:?}");
            if allowed {
                let d = w.register(&owner, &format!("move{i}{j}"));
                put_in_state(&mut w, &owner, &d, from);
                w.warp(1);
                set_state(&mut w, &owner, &d, to).succeeds();
                let state = w.dataset(&d.address);
                assert_eq!(state.state, to, "{from:?} -> {to:?}");
                assert_eq!(state.updated_at, w.now());
            } else {
                let before = snapshot(&w, &[stays.address]);
                let result = set_state(&mut w, &owner, &stays, to);
                assert!(result.is_err(), "{from:?} -> {to:?} was accepted");
                result.fails_with(refused_move(from, to));
                assert_unchanged(&w, &before);
            }
        }
    }
}

/// has_one = owner @ NotDatasetOwner on set_dataset_state: neither a stranger nor the operator
/// moves someone's dataset.
fn set_dataset_state_only_by_owner(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let stranger = w.wallet();
    let operator = w.operator.insecure_clone();
    let before = snapshot(&w, &[d.address]);
    set_state(&mut w, &stranger, &d, DatasetState::Retired).fails_with(MarketError::NotDatasetOwner);
    set_state(&mut w, &operator, &d, DatasetState::OrderingPaused).fails_with(MarketError::NotDatasetOwner);
    assert_unchanged(&w, &before);
}

/// sales_open in purchase_license and renew_license -> DatasetNotActive: OrderingPaused, Deprecated,
/// Retired and Revoked datasets neither sell nor renew; an Unlisted one does both.
fn sales_and_renewals_stop_unless_active_or_unlisted(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    for (i, state) in [
        DatasetState::OrderingPaused,
        DatasetState::Deprecated,
        DatasetState::Retired,
        DatasetState::Revoked,
        DatasetState::Unlisted,
    ]
    .into_iter()
    .enumerate()
    {
        let d = w.register(&owner, &format!("sales{i}"));
        let holder = settled(&mut w, &d, &owner, None);
        w.fund_payment(&holder.pubkey(), PRICE);
        let newcomer = w.buyer(PRICE);
        put_in_state(&mut w, &owner, &d, state);
        if state == DatasetState::Unlisted {
            w.buy(&d, &newcomer, None).succeeds();
            renew(&mut w, &d, &holder).succeeds();
            continue;
        }
        let before =
            snapshot(&w, &[d.address, d.escrow_vault, d.license(&holder.pubkey()), d.license(&newcomer.pubkey())]);
        w.buy(&d, &newcomer, None).fails_with(MarketError::DatasetNotActive);
        renew(&mut w, &d, &holder).fails_with(MarketError::DatasetNotActive);
        assert_unchanged(&w, &before);
    }
}

/// Deprecated (and later Retired) stops sales only: existing licences still get their key, settle,
/// pay out and record use.
fn deprecated_dataset_still_serves_existing_licenses(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let waiting = bought(&mut w, &d, None);
    let served = delivered(&mut w, &d, &owner, None);
    set_state(&mut w, &owner, &d, DatasetState::Deprecated).succeeds();
    w.deliver(&d, &owner, &waiting.pubkey()).succeeds();
    record(&mut w, &d, &waiting, UsagePurpose::Training, MODEL_A).succeeds();
    record(&mut w, &d, &served, UsagePurpose::Evaluation, MODEL_B).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &waiting.pubkey()).succeeds();
    w.settle(&d, &served.pubkey()).succeeds();
    w.claim(&d, &owner).succeeds();
    set_state(&mut w, &owner, &d, DatasetState::Retired).succeeds();
    record(&mut w, &d, &served, UsagePurpose::Training, MODEL_A).succeeds();
    review(&mut w, &d, &served, 4).succeeds();
    assert_eq!(w.dataset(&d.address).usage_by_purpose, [2, 0, 1, 0, 0]);
    w.assert_conserved(&d);
}

/// has_one = authority @ NotMarketplaceAuthority on revoke_dataset, and listing::revoke: only the
/// operator revokes, once (DatasetRevoked); the reason is kept; a revoked dataset's escrow still
/// follows delivery, refund and settlement.
fn revoke_dataset_only_by_operator_once(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let waiting = bought(&mut w, &d, None);
    let served = delivered(&mut w, &d, &owner, None);
    let unpaid = bought(&mut w, &d, None);
    let stranger = w.wallet();
    let before = snapshot(&w, &[d.address]);
    for impostor in [&owner, &stranger] {
        w.send(&[revoke_dataset(impostor.pubkey(), &d, 1)], &[impostor])
            .fails_with(MarketError::NotMarketplaceAuthority);
    }
    assert_unchanged(&w, &before);
    revoke(&mut w, &d).succeeds();
    let state = w.dataset(&d.address);
    assert_eq!((state.state, state.revoke_reason), (DatasetState::Revoked, 451));
    let before = snapshot(&w, &[d.address]);
    revoke(&mut w, &d).fails_with(MarketError::DatasetRevoked);
    set_state(&mut w, &owner, &d, DatasetState::Active).fails_with(MarketError::DatasetRevoked);
    assert_unchanged(&w, &before);

    w.deliver(&d, &owner, &waiting.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &served.pubkey()).succeeds();
    w.settle(&d, &waiting.pubkey()).succeeds();
    w.refund(&d, &unpaid.pubkey()).succeeds();
    w.assert_conserved(&d);

    // a retired dataset can still be revoked
    let retired = w.register(&owner, "retired");
    set_state(&mut w, &owner, &retired, DatasetState::Retired).succeeds();
    revoke(&mut w, &retired).succeeds();
    assert_eq!(w.dataset(&retired.address).state, DatasetState::Revoked);
}

fn register_version(
    w: &mut World,
    owner: &Keypair,
    label: &str,
    previous: Option<Pubkey>,
) -> (DatasetHandle, TxResult) {
    let args = dataset_args(label, single_owner(&owner.pubkey()));
    let d = DatasetHandle::derive(args.content_hash, owner.pubkey(), w.usdc.mint, w.usdc.token_program);
    let mut accounts = register_accounts(owner.pubkey(), &d);
    accounts.previous_version = previous;
    let result = w.send(&[build(accounts, instruction::RegisterDataset { args })], &[owner]);
    (d, result)
}

/// previous_version in register_dataset: a new version links to its predecessor and the predecessor
/// to it (next_version); without one both links stay empty.
fn new_version_links_both_ways(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    assert_eq!(w.dataset(&d.address).previous_version, Pubkey::default());
    let (v2, result) = register_version(&mut w, &owner, "v2", Some(d.address));
    result.succeeds();
    let (v1_state, v2_state) = (w.dataset(&d.address), w.dataset(&v2.address));
    assert_eq!((v1_state.next_version, v1_state.previous_version), (v2.address, Pubkey::default()));
    assert_eq!((v2_state.previous_version, v2_state.next_version), (d.address, Pubkey::default()));
    let (v3, result) = register_version(&mut w, &owner, "v3", Some(v2.address));
    result.succeeds();
    assert_eq!(w.dataset(&v2.address).next_version, v3.address);
    assert_eq!(w.dataset(&v3.address).previous_version, v2.address);
    assert_eq!(w.dataset(&d.address).next_version, v2.address);
}

/// has_one = owner @ PreviousVersionNotOwned on previous_version: nobody declares a new version of
/// someone else's dataset.
fn new_version_of_another_owners_dataset_fails(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let squatter = w.wallet();
    let before = snapshot(&w, &[d.address]);
    let (v2, result) = register_version(&mut w, &squatter, "v2", Some(d.address));
    result.fails_with(MarketError::PreviousVersionNotOwned);
    assert_unchanged(&w, &before);
    assert!(!w.exists(&v2.address));
}

/// require_keys_eq!(previous.next_version, default) -> VersionAlreadySucceeded: a dataset has at
/// most one successor; the failed registration creates nothing.
fn second_successor_of_a_version_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let (v2, result) = register_version(&mut w, &owner, "v2", Some(d.address));
    result.succeeds();
    let before = snapshot(&w, &[d.address, v2.address]);
    let (fork, result) = register_version(&mut w, &owner, "fork", Some(d.address));
    result.fails_with(MarketError::VersionAlreadySucceeded);
    assert_unchanged(&w, &before);
    assert!(!w.exists(&fork.address));
    assert!(!w.exists(&fork.license_mint));
    assert_eq!(w.dataset(&d.address).next_version, v2.address);
}

// ---------------------------------------------------------------------------------------------
// Reviews
// ---------------------------------------------------------------------------------------------

/// constraint license.buyer == reviewer -> NotReviewAuthor: only the licence's buyer reviews it.
fn review_only_by_the_license_buyer(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let other = delivered(&mut w, &d, &owner, None);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, review_address(&license)]);
    for impostor in [&other, &owner] {
        let accounts = submit_review_accounts(impostor.pubkey(), &d, license);
        let ix = build(accounts, instruction::SubmitReview { args: review_args(1, REVIEW_URI) });
        w.send(&[ix], &[impostor]).fails_with(MarketError::NotReviewAuthor);
    }
    assert_unchanged(&w, &before);
    review(&mut w, &d, &buyer, 5).succeeds();
}

/// The licence state in submit_review: no review before delivery (LicenseNotDelivered) or of a
/// refunded licence (LicenseVoid); a disputed or settled licence can be reviewed.
fn review_requires_a_delivered_license(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let waiting = bought(&mut w, &d, None);
    let before = snapshot(&w, &[d.address, review_address(&d.license(&waiting.pubkey()))]);
    review(&mut w, &d, &waiting, 3).fails_with(MarketError::LicenseNotDelivered);
    assert_unchanged(&w, &before);
    let disputed = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &disputed).succeeds();
    review(&mut w, &d, &disputed, 1).succeeds();
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &waiting.pubkey()).succeeds();
    let before = snapshot(&w, &[d.address, review_address(&d.license(&waiting.pubkey()))]);
    review(&mut w, &d, &waiting, 3).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);
    let happy = settled(&mut w, &d, &owner, None);
    review(&mut w, &d, &happy, 5).succeeds();
    assert_eq!(w.dataset(&d.address).ratings.paid.count, 2);
}

/// check_rating -> InvalidRating on submit and on update: 0 and 6 are refused, 1 and 5 accepted.
fn review_rating_must_be_one_to_five(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let address = review_address(&d.license(&buyer.pubkey()));
    let before = snapshot(&w, &[d.address, address]);
    for rating in [0, 6, u8::MAX] {
        review(&mut w, &d, &buyer, rating).fails_with(MarketError::InvalidRating);
    }
    assert_unchanged(&w, &before);
    review(&mut w, &d, &buyer, 1).succeeds();
    let before = snapshot(&w, &[d.address, address]);
    for rating in [0, 6] {
        edit_review(&mut w, &d, &buyer, rating).fails_with(MarketError::InvalidRating);
    }
    assert_unchanged(&w, &before);
    edit_review(&mut w, &d, &buyer, 5).succeeds();
    assert_eq!(w.account::<Review>(&address).rating, 5);
}

/// bounded_text(uri, MAX_REVIEW_URI_LEN) -> InvalidReviewUri on submit and on update: empty or
/// longer than the maximum is refused, exactly the maximum accepted.
fn review_uri_must_be_bounded(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let address = review_address(&d.license(&buyer.pubkey()));
    let longest = "r".repeat(MAX_REVIEW_URI_LEN);
    let too_long = "r".repeat(MAX_REVIEW_URI_LEN + 1);
    let before = snapshot(&w, &[d.address, address]);
    for uri in ["", too_long.as_str()] {
        w.send(&[submit_review(buyer.pubkey(), &d, review_args(4, uri))], &[&buyer])
            .fails_with(MarketError::InvalidReviewUri);
    }
    assert_unchanged(&w, &before);
    w.send(&[submit_review(buyer.pubkey(), &d, review_args(4, &longest))], &[&buyer]).succeeds();
    assert_eq!(w.account::<Review>(&address).uri, longest);
    let before = snapshot(&w, &[d.address, address]);
    for uri in ["", too_long.as_str()] {
        w.send(&[update_review(buyer.pubkey(), &d, review_args(2, uri))], &[&buyer])
            .fails_with(MarketError::InvalidReviewUri);
    }
    assert_unchanged(&w, &before);
}

/// require_keys_neq!(review.owner, program) -> ReviewAlreadyExists: one review per licence (edit it
/// instead); the rating counts once.
fn second_review_of_a_license_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    review(&mut w, &d, &buyer, 4).succeeds();
    let address = review_address(&d.license(&buyer.pubkey()));
    let before = snapshot(&w, &[d.address, address]);
    review(&mut w, &d, &buyer, 1).fails_with(MarketError::ReviewAlreadyExists);
    assert_unchanged(&w, &before);
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (1, 4));
}

/// create_pda_account on the review: lamports sent to the review address beforehand do not block it.
fn prefunded_review_address_does_not_block(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let address = review_address(&d.license(&buyer.pubkey()));
    let dust = w.svm.minimum_balance_for_rent_exemption(0);
    send_lamports(&mut w, &address, dust);
    review(&mut w, &d, &buyer, 3).succeeds();
    let stored = w.account::<Review>(&address);
    assert_eq!((stored.reviewer, stored.rating, stored.dataset), (buyer.pubkey(), 3, d.address));
    assert_eq!(
        w.lamports(&address),
        w.svm.minimum_balance_for_rent_exemption(8 + <Review as anchor_lang::Space>::INIT_SPACE)
    );
}

/// has_one = reviewer @ NotReviewAuthor on update_review: only the author edits a review.
fn review_edited_only_by_its_author(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let other = delivered(&mut w, &d, &owner, None);
    review(&mut w, &d, &buyer, 5).succeeds();
    let address = review_address(&d.license(&buyer.pubkey()));
    let before = snapshot(&w, &[d.address, address]);
    for impostor in [&other, &owner] {
        // the review's own licence, so only its author is wrong
        let accounts = data_market::accounts::UpdateReview {
            reviewer: impostor.pubkey(),
            dataset: d.address,
            license: d.license(&buyer.pubkey()),
            review: address,
        };
        let ix = build(accounts, instruction::UpdateReview { args: review_args(1, REVIEW_URI) });
        w.send(&[ix], &[impostor]).fails_with(MarketError::NotReviewAuthor);
    }
    assert_unchanged(&w, &before);
}

/// RatingAggregate add/replace: the dataset's rating count and sum follow every submission and edit
/// exactly (and a refused one changes neither).
fn ratings_follow_submissions_and_edits(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let reviewers: Vec<Keypair> = (0..3).map(|_| delivered(&mut w, &d, &owner, None)).collect();
    let ratings = |w: &World| {
        let r = w.dataset(&d.address).ratings;
        (r.paid.count, r.paid.sum)
    };
    assert_eq!(ratings(&w), (0, 0));
    review(&mut w, &d, &reviewers[0], 5).succeeds();
    assert_eq!(ratings(&w), (1, 5));
    review(&mut w, &d, &reviewers[1], 3).succeeds();
    review(&mut w, &d, &reviewers[2], 1).succeeds();
    assert_eq!(ratings(&w), (3, 9));
    edit_review(&mut w, &d, &reviewers[1], 4).succeeds();
    assert_eq!(ratings(&w), (3, 10));
    edit_review(&mut w, &d, &reviewers[0], 5).succeeds();
    assert_eq!(ratings(&w), (3, 10));
    edit_review(&mut w, &d, &reviewers[2], 2).succeeds();
    edit_review(&mut w, &d, &reviewers[2], 0).fails_with(MarketError::InvalidRating);
    assert_eq!(ratings(&w), (3, 11));
    let review = w.account::<Review>(&review_address(&d.license(&reviewers[2].pubkey())));
    assert_eq!(review.rating, 2);
    assert!(review.updated_at >= review.created_at);
}

/// has_one = dataset on submit_review's licence and update_review's review: a review cannot be
/// counted in (or edited through) another dataset's ratings.
fn review_rejects_license_or_review_of_another_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();
    let foreign = other.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, other.address, review_address(&foreign)]);
    let ix = build(
        submit_review_accounts(buyer.pubkey(), &d, foreign),
        instruction::SubmitReview { args: review_args(5, REVIEW_URI) },
    );
    w.send(&[ix], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);

    review(&mut w, &d, &buyer, 2).succeeds();
    let address = review_address(&d.license(&buyer.pubkey()));
    let before = snapshot(&w, &[d.address, other.address, address]);
    // the review of `d` edited through `other`, with the licence of either dataset
    for license in [foreign, d.license(&buyer.pubkey())] {
        let accounts = data_market::accounts::UpdateReview {
            reviewer: buyer.pubkey(),
            dataset: other.address,
            license,
            review: address,
        };
        let ix = build(accounts, instruction::UpdateReview { args: review_args(5, REVIEW_URI) });
        w.send(&[ix], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    }
    assert_unchanged(&w, &before);
}

/// require!(license.state != Refunded) -> LicenseVoid on update_review: once a Refund ruling has
/// voided the licence (the buyer got its money back), its review can no longer change the dataset's
/// ratings; the review and the ratings stay exactly as they were.
fn review_of_a_license_refunded_by_ruling_cannot_be_edited(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let kept = delivered(&mut w, &d, &owner, None);
    review(&mut w, &d, &buyer, 1).succeeds();
    review(&mut w, &d, &kept, 4).succeeds();
    // edits are possible while the licence is disputed
    dispute(&mut w, &d, &buyer).succeeds();
    edit_review(&mut w, &d, &buyer, 2).succeeds();
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Refund).succeeds();
    assert_eq!(w.license(&d.license(&buyer.pubkey())).state, LicenseState::Refunded);
    let address = review_address(&d.license(&buyer.pubkey()));
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (2, 2 + 4));
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), address]);
    for rating in [5, 2, 1] {
        edit_review(&mut w, &d, &buyer, rating).fails_with(MarketError::LicenseVoid);
    }
    assert_unchanged(&w, &before);
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (2, 2 + 4));
    assert_eq!(w.account::<Review>(&address).rating, 2);
    // the other licence's review still edits
    edit_review(&mut w, &d, &kept, 5).succeeds();
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (2, 2 + 5));
}

/// The review of a licence refunded by a ruling stays frozen when the buyer closes that licence and
/// buys the dataset again: the new purchase takes the same licence address (so has_one = license
/// still matches the old review) but has no key yet, and a licence waiting for its key may not
/// review (submit_review refuses it with LicenseNotDelivered). Editing the void purchase's review
/// through it must be refused, and the ratings must not change.
fn review_of_a_refunded_license_stays_frozen_after_buying_again(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    review(&mut w, &d, &buyer, 1).succeeds();
    dispute(&mut w, &d, &buyer).succeeds();
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Refund).succeeds();
    edit_review(&mut w, &d, &buyer, 5).fails_with(MarketError::LicenseVoid);
    w.send(&[close_dispute(buyer.pubkey(), &d)], &[&buyer]).succeeds();
    close_own_license(&mut w, &d, &buyer).succeeds();
    w.buy(&d, &buyer, None).succeeds();
    let license = d.license(&buyer.pubkey());
    assert_eq!(w.license(&license).state, LicenseState::AwaitingKey);
    let address = review_address(&license);
    assert_eq!(w.account::<Review>(&address).license, license);
    let before = snapshot(&w, &[d.address, license, address]);
    let result = edit_review(&mut w, &d, &buyer, 5);
    assert!(
        result.is_err(),
        "the review of a purchase voided by a Refund ruling was edited through a new purchase still waiting \
         for its key (ratings now {:?})",
        w.dataset(&d.address).ratings
    );
    assert_unchanged(&w, &before);
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (1, 1));
}

/// has_one = license on update_review's review (and has_one = dataset on the licence): the licence
/// shown must be the review's own, so the author of a review whose licence was refunded cannot pass
/// another buyer's live licence (or a licence of another dataset) to edit it anyway.
fn review_edit_rejects_another_license(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = delivered(&mut w, &d, &owner, None);
    let neighbour = delivered(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();
    review(&mut w, &d, &buyer, 1).succeeds();
    review(&mut w, &d, &neighbour, 4).succeeds();
    dispute(&mut w, &d, &buyer).succeeds();
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Refund).succeeds();
    let address = review_address(&d.license(&buyer.pubkey()));
    let before = snapshot(&w, &[d.address, other.address, address, review_address(&d.license(&neighbour.pubkey()))]);
    // another buyer's licence of the same dataset: the review names its own licence
    // the buyer's own licence of another dataset: it is not a licence of this dataset
    for license in [d.license(&neighbour.pubkey()), other.license(&buyer.pubkey())] {
        let accounts = data_market::accounts::UpdateReview {
            reviewer: buyer.pubkey(),
            dataset: d.address,
            license,
            review: address,
        };
        let ix = build(accounts, instruction::UpdateReview { args: review_args(5, REVIEW_URI) });
        w.send(&[ix], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    }
    assert_unchanged(&w, &before);
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (2, 1 + 4));
    // through its own (void) licence the edit is refused by name
    edit_review(&mut w, &d, &buyer, 5).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);
}

/// seeds = [REVIEW, license] on submit_review: the review must sit at its licence's address.
fn review_must_sit_at_its_license_address(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let other = delivered(&mut w, &d, &owner, None);
    let mut accounts = submit_review_accounts(buyer.pubkey(), &d, d.license(&buyer.pubkey()));
    accounts.review = review_address(&d.license(&other.pubkey()));
    let before = snapshot(&w, &[d.address, accounts.review]);
    let ix = build(accounts, instruction::SubmitReview { args: review_args(5, REVIEW_URI) });
    w.send(&[ix], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintSeeds);
    assert_unchanged(&w, &before);
    review(&mut w, &d, &other, 2).succeeds();
}

// ---------------------------------------------------------------------------------------------
// Disputes
// ---------------------------------------------------------------------------------------------

/// disputes::open: no dispute before delivery (LicenseNotDelivered), of a refunded licence
/// (LicenseVoid) or of a settled one (DisputeWindowClosed).
fn dispute_requires_a_delivered_unsettled_license(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let waiting = bought(&mut w, &d, None);
    let address = dispute_address(&d.license(&waiting.pubkey()));
    let before = snapshot(&w, &[d.address, d.license(&waiting.pubkey()), address]);
    dispute(&mut w, &d, &waiting).fails_with(MarketError::LicenseNotDelivered);
    assert_unchanged(&w, &before);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &waiting.pubkey()).succeeds();
    dispute(&mut w, &d, &waiting).fails_with(MarketError::LicenseVoid);
    let done = settled(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &done).fails_with(MarketError::DisputeWindowClosed);
    assert!(!w.exists(&address));
    assert!(!w.exists(&dispute_address(&d.license(&done.pubkey()))));
    assert_eq!(w.dataset(&d.address).open_disputes, 0);
}

/// now >= delivered_at + dispute_window -> DisputeWindowClosed: one second before the window closes
/// a dispute opens, exactly at it none does.
fn dispute_window_closes_on_time(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let early = delivered(&mut w, &d, &owner, None);
    let late = delivered(&mut w, &d, &owner, None);
    let delivered_at = w.license(&d.license(&late.pubkey())).delivered_at;
    w.warp(i64::from(DISPUTE_WINDOW) - 1);
    dispute(&mut w, &d, &early).succeeds();
    w.warp(1);
    assert_eq!(w.now(), delivered_at + i64::from(DISPUTE_WINDOW));
    let license = d.license(&late.pubkey());
    let before = snapshot(&w, &[d.address, license, dispute_address(&license)]);
    dispute(&mut w, &d, &late).fails_with(MarketError::DisputeWindowClosed);
    assert_unchanged(&w, &before);
    w.settle(&d, &late.pubkey()).succeeds();
}

/// disputes::open on a Disputed licence -> AlreadyDisputed.
fn dispute_twice_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &buyer).succeeds();
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, dispute_address(&license)]);
    dispute(&mut w, &d, &buyer).fails_with(MarketError::AlreadyDisputed);
    assert_unchanged(&w, &before);
    assert_eq!(w.dataset(&d.address).open_disputes, 1);
}

/// has_one = buyer @ NotLicenseBuyer on open_dispute: nobody else freezes a buyer's escrow.
fn dispute_only_by_the_buyer(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let other = delivered(&mut w, &d, &owner, None);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, dispute_address(&license)]);
    for impostor in [&other, &owner] {
        let accounts = open_dispute_accounts(impostor.pubkey(), &d, license);
        open_dispute_with(&mut w, impostor, accounts).fails_with(MarketError::NotLicenseBuyer);
    }
    assert_unchanged(&w, &before);
}

/// bounded_text(evidence_uri, MAX_EVIDENCE_URI_LEN) -> InvalidEvidenceUri.
fn dispute_evidence_uri_must_be_bounded(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, dispute_address(&license)]);
    let too_long = "e".repeat(MAX_EVIDENCE_URI_LEN + 1);
    for uri in ["", too_long.as_str()] {
        w.send(&[open_dispute(buyer.pubkey(), &d, DisputeReason::KeyInvalid, uri)], &[&buyer])
            .fails_with(MarketError::InvalidEvidenceUri);
    }
    assert_unchanged(&w, &before);
    let longest = "e".repeat(MAX_EVIDENCE_URI_LEN);
    w.send(&[open_dispute(buyer.pubkey(), &d, DisputeReason::KeyInvalid, &longest)], &[&buyer]).succeeds();
    let stored = w.account::<Dispute>(&dispute_address(&license));
    assert_eq!((stored.evidence_uri, stored.reason, stored.ruling), (longest, DisputeReason::KeyInvalid, None));
    assert_eq!((stored.license, stored.dataset, stored.buyer), (license, d.address, buyer.pubkey()));
}

/// has_one = dataset and seeds = [DISPUTE, license] on open_dispute: a licence of another dataset
/// cannot flag this one, and the dispute must sit at its licence's address.
fn dispute_rejects_license_of_another_dataset_and_foreign_address(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();
    let mine = d.license(&buyer.pubkey());
    let foreign = other.license(&buyer.pubkey());
    let before =
        snapshot(&w, &[d.address, other.address, mine, foreign, dispute_address(&mine), dispute_address(&foreign)]);
    let accounts = open_dispute_accounts(buyer.pubkey(), &d, foreign);
    open_dispute_with(&mut w, &buyer, accounts).fails_with_anchor(ErrorCode::ConstraintHasOne);
    let mut accounts = open_dispute_accounts(buyer.pubkey(), &d, mine);
    accounts.dispute = dispute_address(&foreign);
    open_dispute_with(&mut w, &buyer, accounts).fails_with_anchor(ErrorCode::ConstraintSeeds);
    assert_unchanged(&w, &before);
}

/// A Disputed licence is frozen: settle, renew and recording a use fail with LicenseDisputed (the
/// buyer cannot keep using data whose purchase it asks to have refunded), deliver and refund with
/// LicenseNotPending; reviewing remains possible.
fn disputed_license_is_frozen(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    dispute(&mut w, &d, &buyer).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW) + i64::from(DELIVERY_WINDOW));
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, d.escrow_vault, d.payment_account(&buyer.pubkey())]);
    w.settle(&d, &buyer.pubkey()).fails_with(MarketError::LicenseDisputed);
    renew(&mut w, &d, &buyer).fails_with(MarketError::LicenseDisputed);
    w.deliver(&d, &owner, &buyer.pubkey()).fails_with(MarketError::LicenseNotPending);
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::LicenseNotPending);
    record(&mut w, &d, &buyer, UsagePurpose::Evaluation, MODEL_A).fails_with(MarketError::LicenseDisputed);
    assert_unchanged(&w, &before);
    review(&mut w, &d, &buyer, 1).succeeds();
    assert_eq!(w.license(&license).state, LicenseState::Disputed);
    // a Release ruling lifts the freeze
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Release).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Evaluation, MODEL_A).succeeds();
}

/// dataset.open_disputes counts disputes opened and not yet ruled.
fn open_disputes_are_counted(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let first = delivered(&mut w, &d, &owner, None);
    let second = delivered(&mut w, &d, &owner, None);
    let open = |w: &World| w.dataset(&d.address).open_disputes;
    assert_eq!(open(&w), 0);
    dispute(&mut w, &d, &first).succeeds();
    assert_eq!(open(&w), 1);
    dispute(&mut w, &d, &second).succeeds();
    assert_eq!(open(&w), 2);
    rule(&mut w, &d, &first.pubkey(), Ruling::Release).succeeds();
    assert_eq!(open(&w), 1);
    rule(&mut w, &d, &second.pubkey(), Ruling::Refund).succeeds();
    assert_eq!(open(&w), 0);
    w.send(&[close_dispute(first.pubkey(), &d)], &[&first]).succeeds();
    assert_eq!(open(&w), 0);
}

/// has_one = arbiter @ NotArbiter on rule_dispute: neither the operator, the owner nor the buyer rules.
fn rule_only_by_the_arbiter(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &buyer).succeeds();
    let license = d.license(&buyer.pubkey());
    let operator = w.operator.insecure_clone();
    let before = snapshot(&w, &[d.address, license, dispute_address(&license), d.escrow_vault]);
    for impostor in [&operator, &owner, &buyer] {
        w.send(&[rule_dispute(impostor.pubkey(), &d, &buyer.pubkey(), Ruling::Refund)], &[impostor])
            .fails_with(MarketError::NotArbiter);
    }
    assert_unchanged(&w, &before);
}

/// require!(dispute.ruling.is_none()) -> DisputeAlreadyRuled: a ruling is final (whatever the second
/// ruling would be).
fn rule_twice_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &buyer).succeeds();
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Split { buyer_bps: 5_000 }).succeeds();
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, dispute_address(&license), d.escrow_vault]);
    for ruling in [Ruling::Refund, Ruling::Release, Ruling::Split { buyer_bps: 5_000 }] {
        rule(&mut w, &d, &buyer.pubkey(), ruling).fails_with(MarketError::DisputeAlreadyRuled);
    }
    assert_unchanged(&w, &before);
    w.assert_conserved(&d);
}

/// disputes::rule -> InvalidBps: a split above 10,000 bps is refused; exactly 10,000 repays all.
fn split_above_all_bps_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &buyer).succeeds();
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, dispute_address(&license), d.escrow_vault]);
    for buyer_bps in [10_001, u16::MAX] {
        rule(&mut w, &d, &buyer.pubkey(), Ruling::Split { buyer_bps }).fails_with(MarketError::InvalidBps);
    }
    assert_unchanged(&w, &before);
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Split { buyer_bps: 10_000 }).succeeds();
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    w.assert_conserved(&d);
}

/// Ruling::Refund: the buyer is repaid in full, the licence token burned, the licence Refunded and
/// no longer outstanding, no fee is earned, and the vault stays reconciled.
fn refund_ruling_repays_and_voids_the_license(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let buyer = delivered(&mut w, &d, &owner, Some(referrer.pubkey()));
    dispute(&mut w, &d, &buyer).succeeds();
    let outstanding = w.dataset(&d.address).licenses_outstanding;
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Refund).succeeds();
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!((license.state, license.refunded_amount), (LicenseState::Refunded, PRICE));
    assert_eq!((license.protocol_fee, license.referral_fee), (0, 0));
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    assert_eq!((w.balance(&d.license_account(&buyer.pubkey())), w.mint_supply(&d.license_mint)), (0, 0));
    let state = w.dataset(&d.address);
    assert_eq!(state.licenses_outstanding, outstanding - 1);
    assert_eq!(state.ledger, EscrowLedger::default());
    let dispute_state = w.account::<Dispute>(&dispute_address(&d.license(&buyer.pubkey())));
    assert_eq!((dispute_state.ruling, dispute_state.ruled_at), (Some(Ruling::Refund), w.now()));
    claim_referral(&mut w, &d, &referrer, &buyer.pubkey()).fails_with(MarketError::LicenseNotSettled);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).fails_with(MarketError::LicenseVoid);
    w.assert_conserved(&d);
}

/// Ruling::Refund voids the licence token even when the licence was used before the dispute (an
/// unmetered use burns no token, so the token is still in the buyer's account).
fn refund_ruling_burns_the_token_of_a_used_license(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    record(&mut w, &d, &buyer, UsagePurpose::Evaluation, MODEL_A).succeeds();
    dispute(&mut w, &d, &buyer).succeeds();
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Refund).succeeds();
    assert_eq!(w.license(&d.license(&buyer.pubkey())).state, LicenseState::Refunded);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    assert_eq!(
        (w.balance(&d.license_account(&buyer.pubkey())), w.mint_supply(&d.license_mint)),
        (0, 0),
        "the refunded licence's token was not burned"
    );
}

/// Ruling::Refund of a metered licence burns its unused credits: none of them survives the refund
/// (credits moved out of the buyer's account would otherwise stay spendable for free).
fn refund_ruling_leaves_no_unused_credit(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| {
        args.terms.metered = true;
        args.terms.transferable = true;
    });
    let buyer = bought_credits(&mut w, &d, 4);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    // a friend with a licence of its own receives two of the three unused credits
    let friend = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &friend.pubkey()).succeeds();
    move_license_tokens(&mut w, &d, &buyer, &friend.pubkey(), 2);
    dispute(&mut w, &d, &buyer).succeeds();
    let supply = w.mint_supply(&d.license_mint);
    let unused = 3;
    let result = rule(&mut w, &d, &buyer.pubkey(), Ruling::Refund);
    if result.is_ok() {
        assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 4 * PRICE);
        assert_eq!(
            w.mint_supply(&d.license_mint),
            supply - unused,
            "a refund ruling repaid every credit but left some of them spendable"
        );
    } else {
        assert_eq!(w.license(&d.license(&buyer.pubkey())).state, LicenseState::Disputed);
    }
}

/// require!(state != Disputed) -> LicenseDisputed on buy_credits: credits bought during a dispute
/// would be paid out at once yet voided by a refund ruling, so no top-up while disputed; once
/// ruled (and kept) the licence can buy credits again.
fn buy_credits_rejected_while_disputed(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 2);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    dispute(&mut w, &d, &buyer).succeeds();
    w.fund_payment(&buyer.pubkey(), 3 * PRICE);
    let license = d.license(&buyer.pubkey());
    let before =
        snapshot(&w, &[d.address, license, d.escrow_vault, d.license_mint, d.payment_account(&buyer.pubkey())]);
    top_up(&mut w, &d, &buyer, 3, 3 * PRICE).fails_with(MarketError::LicenseDisputed);
    assert_unchanged(&w, &before);
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Split { buyer_bps: 2_000 }).succeeds();
    top_up(&mut w, &d, &buyer, 3, 3 * PRICE).succeeds();
    assert_eq!(w.license(&license).credits, 5);
    w.assert_conserved(&d);
}

/// require!(!terms.metered) -> MeteredNotRenewable on renew_license: the dataset price of a metered
/// dataset is per credit, so its licences are not renewed.
fn renew_rejects_metered_license(backend: Backend) {
    let Shop { mut w, owner, d } = metered_shop(backend);
    let buyer = bought_credits(&mut w, &d, 1);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.fund_payment(&buyer.pubkey(), PRICE);
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license, d.escrow_vault, d.payment_account(&buyer.pubkey())]);
    renew(&mut w, &d, &buyer).fails_with(MarketError::MeteredNotRenewable);
    assert_unchanged(&w, &before);
}

/// Ruling::Release settles the escrow exactly as an undisputed settlement would (fees included) and
/// the buyer keeps the licence.
fn release_ruling_settles_like_an_undisputed_sale(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let disputed = delivered(&mut w, &d, &owner, Some(referrer.pubkey()));
    dispute(&mut w, &d, &disputed).succeeds();
    rule(&mut w, &d, &disputed.pubkey(), Ruling::Release).succeeds();
    let after_ruling = ledger(&w, &d);
    let (protocol, referral) = (fee_of(PRICE, PROTOCOL_FEE_BPS), fee_of(PRICE, REFERRAL_FEE_BPS));
    assert_eq!(after_ruling.escrowed, 0);
    assert_eq!(after_ruling.claimable[0], PRICE - protocol - referral);
    assert_eq!((after_ruling.protocol_fees_owed, after_ruling.referral_fees_owed), (protocol, referral));
    let license = w.license(&d.license(&disputed.pubkey()));
    assert_eq!((license.state, license.refunded_amount), (LicenseState::Settled, 0));
    assert_eq!((license.protocol_fee, license.referral_fee), (protocol, referral));
    assert_eq!(w.balance(&d.license_account(&disputed.pubkey())), 1);
    assert_eq!(w.balance(&d.payment_account(&disputed.pubkey())), 0);
    w.settle(&d, &disputed.pubkey()).fails_with(MarketError::LicenseNotPending);

    // the same sale undisputed adds exactly the same amounts
    let plain = delivered(&mut w, &d, &owner, Some(referrer.pubkey()));
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &plain.pubkey()).succeeds();
    let after_plain = ledger(&w, &d);
    assert_eq!(after_plain.claimable[0], 2 * after_ruling.claimable[0]);
    assert_eq!(after_plain.protocol_fees_owed, 2 * protocol);
    assert_eq!(after_plain.referral_fees_owed, 2 * referral);
    claim_referral(&mut w, &d, &referrer, &disputed.pubkey()).succeeds();
    w.assert_conserved(&d);
}

/// Ruling::Split: the buyer gets exactly buyer_bps of the price, fees (protocol and the recomputed
/// referral fee) apply only to the released part, the licence is kept, and every party can withdraw
/// its part until the vault is empty.
fn split_ruling_pays_exact_parts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let buyer = delivered(&mut w, &d, &owner, Some(referrer.pubkey()));
    dispute(&mut w, &d, &buyer).succeeds();
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Split { buyer_bps: 4_000 }).succeeds();
    let (refund, released) = (10_000_000, 15_000_000);
    let (protocol, referral) = (375_000, 750_000);
    assert_eq!(refund + released, PRICE);
    assert_eq!((protocol, referral), (fee_of(released, PROTOCOL_FEE_BPS), fee_of(released, REFERRAL_FEE_BPS)));
    let net = released - protocol - referral;
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!((license.state, license.refunded_amount, license.price_paid), (LicenseState::Settled, refund, PRICE));
    assert_eq!((license.protocol_fee, license.referral_fee), (protocol, referral));
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), refund);
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 1);
    let state = w.dataset(&d.address);
    assert_eq!(state.licenses_outstanding, 1);
    assert_eq!(state.ledger.escrowed, 0);
    assert_eq!(state.ledger.claimable[0], net);
    assert_eq!((state.ledger.protocol_fees_owed, state.ledger.referral_fees_owed), (protocol, referral));
    w.assert_conserved(&d);

    claim_referral(&mut w, &d, &referrer, &buyer.pubkey()).succeeds();
    assert_eq!(w.balance(&d.payment_account(&referrer.pubkey())), referral);
    w.claim(&d, &owner).succeeds();
    assert_eq!(w.balance(&d.payment_account(&owner.pubkey())), net);
    w.sweep(&d).succeeds();
    assert_eq!(w.balance(&d.payment_account(&w.treasury.pubkey())), protocol);
    assert_eq!(w.balance(&d.escrow_vault), 0);
    w.assert_conserved(&d);
}

/// token::authority = license.buyer on rule_dispute's buyer_payment_account (ConstraintTokenOwner)
/// and buyer_license_account, has_one = license on the dispute, has_one = dataset on the licence and
/// has_one = escrow_vault / license_mint on the dataset: a ruling pays and burns only where it must.
fn rule_rejects_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = delivered(&mut w, &d, &owner, None);
    let second = delivered(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();
    dispute(&mut w, &d, &buyer).succeeds();
    dispute(&mut w, &d, &second).succeeds();
    dispute(&mut w, &other, &buyer).succeeds();
    let arbiter = w.arbiter.pubkey();
    let arbiter_account = w.payment_account_of(&arbiter);
    let me = buyer.pubkey();
    let before = snapshot(
        &w,
        &[
            d.address,
            other.address,
            d.license(&me),
            d.license(&second.pubkey()),
            other.license(&me),
            d.escrow_vault,
            other.escrow_vault,
            arbiter_account,
            d.payment_account(&second.pubkey()),
        ],
    );
    let cases: Vec<(&str, Box<dyn Fn(&mut data_market::accounts::RuleDispute)>, ErrorCode)> = vec![
        (
            "refund to the arbiter",
            Box::new(|a| a.buyer_payment_account = Some(arbiter_account)),
            ErrorCode::ConstraintTokenOwner,
        ),
        (
            "refund to another buyer",
            Box::new(|a| a.buyer_payment_account = Some(d.payment_account(&second.pubkey()))),
            ErrorCode::ConstraintTokenOwner,
        ),
        (
            "burn from another buyer",
            Box::new(|a| a.buyer_license_account = d.license_account(&second.pubkey())),
            ErrorCode::ConstraintTokenOwner,
        ),
        (
            "burn another mint",
            Box::new(|a| a.buyer_license_account = other.license_account(&me)),
            ErrorCode::ConstraintTokenMint,
        ),
        (
            "dispute of another licence",
            Box::new(|a| a.dispute = dispute_address(&d.license(&second.pubkey()))),
            ErrorCode::ConstraintHasOne,
        ),
        (
            "licence of another dataset",
            Box::new(|a| {
                a.license = other.license(&me);
                a.dispute = dispute_address(&other.license(&me));
            }),
            ErrorCode::ConstraintHasOne,
        ),
        ("vault of another dataset", Box::new(|a| a.escrow_vault = other.escrow_vault), ErrorCode::ConstraintHasOne),
        (
            "licence mint of another dataset",
            Box::new(|a| {
                a.license_mint = other.license_mint;
                a.buyer_license_account = other.license_account(&me);
            }),
            ErrorCode::ConstraintHasOne,
        ),
    ];
    for (name, substitute, error) in cases {
        let mut accounts = rule_dispute_accounts(arbiter, &d, &me);
        substitute(&mut accounts);
        let result = rule_with(&mut w, accounts, Ruling::Refund);
        assert!(result.is_err(), "{name} was accepted");
        result.fails_with_anchor(error);
    }
    assert_unchanged(&w, &before);
    rule(&mut w, &d, &me, Ruling::Refund).succeeds();
    assert_eq!(w.balance(&d.payment_account(&me)), PRICE);
    w.assert_conserved(&d);
    w.assert_conserved(&other);
}

/// close_dispute: require!(ruling.is_some()) -> DisputeNotRuled, has_one = buyer @ NotLicenseBuyer,
/// has_one = license on the dispute; once ruled its exact rent goes back to the buyer.
fn close_dispute_after_ruling_returns_rent_to_buyer(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let second = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &buyer).succeeds();
    dispute(&mut w, &d, &second).succeeds();
    let license = d.license(&buyer.pubkey());
    let address = dispute_address(&license);
    let before = snapshot(&w, &[license, address]);
    w.send(&[close_dispute(buyer.pubkey(), &d)], &[&buyer]).fails_with(MarketError::DisputeNotRuled);
    assert_unchanged(&w, &before);

    rule(&mut w, &d, &buyer.pubkey(), Ruling::Release).succeeds();
    rule(&mut w, &d, &second.pubkey(), Ruling::Release).succeeds();
    let before =
        snapshot(&w, &[license, address, d.license(&second.pubkey()), dispute_address(&d.license(&second.pubkey()))]);
    // another wallet closing the buyer's dispute
    let ix = build(
        data_market::accounts::CloseDispute { buyer: second.pubkey(), license, dispute: address },
        instruction::CloseDispute {},
    );
    w.send(&[ix], &[&second]).fails_with(MarketError::NotLicenseBuyer);
    // the buyer's licence with someone else's dispute record
    let ix = build(
        data_market::accounts::CloseDispute {
            buyer: buyer.pubkey(),
            license,
            dispute: dispute_address(&d.license(&second.pubkey())),
        },
        instruction::CloseDispute {},
    );
    w.send(&[ix], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);

    let rent = w.lamports(&address);
    assert_eq!(rent, w.svm.minimum_balance_for_rent_exemption(8 + <Dispute as anchor_lang::Space>::INIT_SPACE));
    let payer = w.wallet();
    let buyer_before = w.lamports(&buyer.pubkey());
    w.send(&[close_dispute(buyer.pubkey(), &d)], &[&payer, &buyer]).succeeds();
    assert_eq!(w.lamports(&buyer.pubkey()), buyer_before + rent);
    assert!(!w.exists(&address));
    assert!(!w.license(&license).has_dispute);
}

// ---------------------------------------------------------------------------------------------
// Closing licences and datasets
// ---------------------------------------------------------------------------------------------

fn close_own_license(w: &mut World, d: &DatasetHandle, buyer: &Keypair) -> TxResult {
    w.send(&[close_license(buyer.pubkey(), d)], &[buyer])
}

/// CloseLicense::validate -> LicenseStillOwed: AwaitingKey, Delivered and Disputed licences, a Settled
/// one with its referral fee unclaimed and a ruled one whose dispute record is still open stay.
fn close_license_refused_while_anything_is_owed(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let waiting = bought(&mut w, &d, None);
    let delivered_one = delivered(&mut w, &d, &owner, None);
    let disputed = delivered(&mut w, &d, &owner, None);
    let referred = delivered(&mut w, &d, &owner, Some(referrer.pubkey()));
    let ruled = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &disputed).succeeds();
    dispute(&mut w, &d, &ruled).succeeds();
    rule(&mut w, &d, &ruled.pubkey(), Ruling::Refund).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &referred.pubkey()).succeeds();
    let all = [&waiting, &delivered_one, &disputed, &referred, &ruled];
    let addresses: Vec<Pubkey> = all.iter().map(|b| d.license(&b.pubkey())).chain([d.address]).collect();
    let before = snapshot(&w, &addresses);
    for buyer in all {
        close_own_license(&mut w, &d, buyer).fails_with(MarketError::LicenseStillOwed);
    }
    assert_unchanged(&w, &before);

    claim_referral(&mut w, &d, &referrer, &referred.pubkey()).succeeds();
    close_own_license(&mut w, &d, &referred).succeeds();
    w.send(&[close_dispute(ruled.pubkey(), &d)], &[&ruled]).succeeds();
    close_own_license(&mut w, &d, &ruled).succeeds();
    assert!(!w.exists(&d.license(&referred.pubkey())));
    assert!(!w.exists(&d.license(&ruled.pubkey())));
}

/// has_one = buyer @ NotLicenseBuyer and address = license.dataset @ WrongDataset on close_license:
/// nobody else takes a licence's rent, and a licence of another dataset cannot lower this dataset's
/// outstanding count.
fn close_license_only_by_its_buyer_through_its_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.deliver(&other, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.settle(&other, &buyer.pubkey()).succeeds();
    let stranger = w.wallet();
    let license = d.license(&buyer.pubkey());
    let foreign = other.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, other.address, license, foreign]);
    for impostor in [&stranger, &owner] {
        let ix = build(
            data_market::accounts::CloseLicense {
                buyer: impostor.pubkey(),
                ..close_license_accounts(buyer.pubkey(), &d)
            },
            instruction::CloseLicense {},
        );
        w.send(&[ix], &[impostor]).fails_with(MarketError::NotLicenseBuyer);
    }
    let ix = build(
        data_market::accounts::CloseLicense { license: foreign, ..close_license_accounts(buyer.pubkey(), &d) },
        instruction::CloseLicense {},
    );
    w.send(&[ix], &[&buyer]).fails_with(MarketError::WrongDataset);
    assert_unchanged(&w, &before);
    close_own_license(&mut w, &d, &buyer).succeeds();
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 0);
    assert_eq!(w.dataset(&other.address).licenses_outstanding, 1);
}

/// close = buyer on close_license: a settled licence's exact rent goes back to its buyer, the
/// dataset counts one licence less, and the buyer can buy the dataset again; a refunded licence is
/// not counted twice.
fn closed_license_returns_rent_and_can_be_bought_again(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    let refunded = bought(&mut w, &d, None);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &refunded.pubkey()).succeeds();
    let license = d.license(&buyer.pubkey());
    let rent = w.lamports(&license);
    assert_eq!(
        rent,
        w.svm.minimum_balance_for_rent_exemption(8 + <data_market::state::License as anchor_lang::Space>::INIT_SPACE)
    );
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 1);
    let payer = w.wallet();
    let buyer_before = w.lamports(&buyer.pubkey());
    w.send(&[close_license(buyer.pubkey(), &d)], &[&payer, &buyer]).succeeds();
    assert_eq!(w.lamports(&buyer.pubkey()), buyer_before + rent);
    assert!(!w.exists(&license));
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 0);

    let refunded_before = w.lamports(&refunded.pubkey());
    let refunded_rent = w.lamports(&d.license(&refunded.pubkey()));
    w.send(&[close_license(refunded.pubkey(), &d)], &[&payer, &refunded]).succeeds();
    assert_eq!(w.lamports(&refunded.pubkey()), refunded_before + refunded_rent);
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 0);

    w.fund_payment(&buyer.pubkey(), PRICE);
    w.buy(&d, &buyer, None).succeeds();
    let again = w.license(&license);
    assert_eq!((again.state, again.usage_count, again.bought_at), (LicenseState::AwaitingKey, 0, w.now()));
    let state = w.dataset(&d.address);
    assert_eq!((state.licenses_outstanding, state.licenses_sold), (1, 3));
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    w.assert_conserved(&d);
}

/// seeds = [RECEIPT, license, serial, index]: the receipts of a licence bought again at the same
/// address must not collide with those of the closed licence before it, even within the same second
/// (a refund ruling lets use, refund, close and a new purchase happen without the clock moving): the
/// new licence has the same address and `bought_at` but a new sale number.
fn license_bought_again_in_the_same_second_can_record_use(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let license = d.license(&buyer.pubkey());
    let first = w.license(&license);
    let old_address = next_receipt(&w, &license);
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_A).succeeds();
    dispute(&mut w, &d, &buyer).succeeds();
    rule(&mut w, &d, &buyer.pubkey(), Ruling::Refund).succeeds();
    w.send(&[close_dispute(buyer.pubkey(), &d)], &[&buyer]).succeeds();
    close_own_license(&mut w, &d, &buyer).succeeds();
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let again = w.license(&license);
    assert_eq!(again.bought_at, first.bought_at, "bought again within the same second");
    assert_ne!(again.serial, first.serial);
    assert_eq!((first.serial, again.serial), (0, w.dataset(&d.address).licenses_sold - 1));
    let old_receipt = w.account::<UsageReceipt>(&old_address);
    assert_eq!((old_receipt.license, old_receipt.index), (license, 0), "the old licence's first receipt");
    let old_bytes = w.svm.get_account(&old_address).map(|account| account.data);
    let new_address = next_receipt(&w, &license);
    assert_ne!(new_address, old_address);
    assert!(!w.exists(&new_address));
    record(&mut w, &d, &buyer, UsagePurpose::Training, MODEL_B).succeeds();
    assert_eq!(w.license(&license).usage_count, 1);
    let new_receipt = w.account::<UsageReceipt>(&new_address);
    assert_eq!((new_receipt.license, new_receipt.index, new_receipt.model_hash), (license, 0, MODEL_B));
    // the old receipt is kept as it was
    assert_eq!(w.svm.get_account(&old_address).map(|account| account.data), old_bytes);
}

/// Anchor's close (zeroed, handed to the system program): a licence closed and refunded with
/// lamports in the same transaction is not revived; the later instruction fails and nothing happens.
fn closed_license_cannot_be_revived_in_one_transaction(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    let license = d.license(&buyer.pubkey());
    let rent = w.lamports(&license);
    let use_accounts = next_use(&w, &d, &buyer.pubkey(), None);
    let revive = system_instruction::transfer(&buyer.pubkey(), &license, rent);
    let before = snapshot(&w, &[d.address, license, d.escrow_vault, use_accounts.receipt]);
    let attempts = [
        ("record usage", record_usage(use_accounts.clone(), usage(UsagePurpose::Training, MODEL_A))),
        ("renew", renew_license(buyer.pubkey(), &d, PRICE)),
        ("dispute", open_dispute(buyer.pubkey(), &d, DisputeReason::Other, EVIDENCE)),
        ("review", submit_review(buyer.pubkey(), &d, review_args(5, REVIEW_URI))),
        ("close again", close_license(buyer.pubkey(), &d)),
    ];
    for (name, ix) in attempts {
        let result = w.send(&[close_license(buyer.pubkey(), &d), revive.clone(), ix], &[&buyer]);
        assert!(result.is_err(), "{name} used a closed licence");
        result.fails_with_anchor(ErrorCode::AccountOwnedByWrongProgram);
        assert_unchanged(&w, &before);
    }

    // closed and refilled in one transaction, the address is a plain system account afterwards
    w.send(&[close_license(buyer.pubkey(), &d), revive], &[&buyer]).succeeds();
    let account = w.svm.get_account(&license).unwrap();
    assert_eq!((account.owner, account.data.len(), account.lamports), (anchor_lang::system_program::ID, 0, rent));
    record_with(&mut w, &buyer, use_accounts).fails_with_anchor(ErrorCode::AccountOwnedByWrongProgram);
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 0);
    // and a new purchase takes the address over
    w.buy(&d, &buyer, None).succeeds();
    assert_eq!(w.license(&license).state, LicenseState::AwaitingKey);
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 1);
}

fn close_ds(w: &mut World, owner: &Keypair, d: &DatasetHandle) -> TxResult {
    w.payment_account_of(&owner.pubkey());
    w.send(&[close_dataset(owner.pubkey(), d)], &[owner])
}

/// CloseDataset::validate -> DatasetStillInUse until the dataset is Retired (or Revoked): Active,
/// paused, unlisted or deprecated datasets stay even when idle.
fn close_dataset_requires_retirement(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    for state in [DatasetState::Active, DatasetState::OrderingPaused, DatasetState::Unlisted, DatasetState::Deprecated]
    {
        if state != DatasetState::Active {
            set_state(&mut w, &owner, &d, state).succeeds();
        }
        let before = snapshot(&w, &[d.address, d.escrow_vault]);
        close_ds(&mut w, &owner, &d).fails_with(MarketError::DatasetStillInUse);
        assert_unchanged(&w, &before);
    }
    assert!(w.exists(&d.address) && w.exists(&d.escrow_vault));
    set_state(&mut w, &owner, &d, DatasetState::Retired).succeeds();
    close_ds(&mut w, &owner, &d).succeeds();
    assert!(!w.exists(&d.address) && !w.exists(&d.escrow_vault));

    let revoked = w.register(&owner, "revoked");
    revoke(&mut w, &revoked).succeeds();
    close_ds(&mut w, &owner, &revoked).succeeds();
    assert!(!w.exists(&revoked.address));
}

/// licenses_pending == 0 in close_dataset: a retired dataset whose money is all paid out stays while
/// a licence still waits for its key (or a refund); a settled licence that owes nothing does not hold
/// it: the dataset closes, and the buyer still closes its licence afterwards, burning its token and
/// getting the licence's rent back.
fn close_dataset_waits_for_pending_licenses_only(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let kept = settled(&mut w, &d, &owner, None);
    let waiting = w.buyer(PRICE);
    w.buy(&d, &waiting, None).succeeds();
    w.claim(&d, &owner).succeeds();
    w.sweep(&d).succeeds();
    set_state(&mut w, &owner, &d, DatasetState::Retired).succeeds();
    assert_eq!(w.dataset(&d.address).licenses_pending, 1);
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    close_ds(&mut w, &owner, &d).fails_with(MarketError::DatasetStillInUse);
    assert_unchanged(&w, &before);
    // the key never comes: refunded, the waiting licence no longer holds the dataset
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &waiting.pubkey()).succeeds();
    assert_eq!(w.dataset(&d.address).licenses_pending, 0);
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 1);
    close_ds(&mut w, &owner, &d).succeeds();
    assert!(!w.exists(&d.address));

    // the settled licence outlives its dataset and still closes: rent back, token burned
    let license = d.license(&kept.pubkey());
    let rent = w.lamports(&license);
    let lamports_before = w.lamports(&kept.pubkey());
    let payer = w.wallet();
    w.send(&[close_license(kept.pubkey(), &d)], &[&payer, &kept]).succeeds();
    assert!(!w.exists(&license));
    assert_eq!(w.lamports(&kept.pubkey()), lamports_before + rent);
    assert_eq!(w.balance(&d.license_account(&kept.pubkey())), 0);
    assert_eq!(w.mint_supply(&d.license_mint), 0);
    close_own_license(&mut w, &d, &waiting).succeeds();
}

/// ledger.total() == 0 in close_dataset: unclaimed revenue or unswept protocol fees keep a retired
/// dataset without licences open.
fn close_dataset_waits_for_every_payout(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    close_own_license(&mut w, &d, &buyer).succeeds();
    set_state(&mut w, &owner, &d, DatasetState::Retired).succeeds();
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 0);
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    close_ds(&mut w, &owner, &d).fails_with(MarketError::DatasetStillInUse);
    assert_unchanged(&w, &before);
    // revenue claimed, protocol fees still owed
    w.claim(&d, &owner).succeeds();
    assert_eq!(ledger(&w, &d).total().unwrap(), fee_of(PRICE, PROTOCOL_FEE_BPS));
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    close_ds(&mut w, &owner, &d).fails_with(MarketError::DatasetStillInUse);
    assert_unchanged(&w, &before);
    w.sweep(&d).succeeds();
    close_ds(&mut w, &owner, &d).succeeds();
}

/// has_one = owner @ NotDatasetOwner, has_one = payment_mint / escrow_vault and token::authority =
/// owner on close_dataset: only the owner closes, with its own dataset's vault, into its own account.
fn close_dataset_rejects_stranger_and_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other", |_| {});
    set_state(&mut w, &owner, &d, DatasetState::Retired).succeeds();
    let stranger = w.wallet();
    let stranger_account = w.payment_account_of(&stranger.pubkey());
    let owner_account = w.payment_account_of(&owner.pubkey());
    let fake = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_account = w.fund(&fake, &owner.pubkey(), 1);
    // stray tokens in the vault, which a substituted destination would receive
    let donor = w.buyer(777);
    let donate = anchor_spl::token::spl_token::instruction::transfer(
        &TOKEN,
        &d.payment_account(&donor.pubkey()),
        &d.escrow_vault,
        &donor.pubkey(),
        &[],
        777,
    )
    .unwrap();
    w.send(&[donate], &[&donor]).succeeds();
    let before = snapshot(&w, &[d.address, d.escrow_vault, other.address, other.escrow_vault, stranger_account]);
    let base = || data_market::accounts::CloseDataset {
        owner: owner.pubkey(),
        dataset: d.address,
        payment_mint: d.payment_mint,
        escrow_vault: d.escrow_vault,
        owner_payment_account: owner_account,
        payment_token_program: TOKEN,
    };
    let mut accounts = base();
    accounts.owner = stranger.pubkey();
    accounts.owner_payment_account = stranger_account;
    w.send(&[build(accounts, instruction::CloseDataset {})], &[&stranger]).fails_with(MarketError::NotDatasetOwner);
    let cases: Vec<(&str, data_market::accounts::CloseDataset, ErrorCode)> = vec![
        (
            "stray tokens to a stranger",
            {
                let mut a = base();
                a.owner_payment_account = stranger_account;
                a
            },
            ErrorCode::ConstraintTokenOwner,
        ),
        (
            "vault of another dataset",
            {
                let mut a = base();
                a.escrow_vault = other.escrow_vault;
                a
            },
            ErrorCode::ConstraintHasOne,
        ),
        (
            "another payment mint",
            {
                let mut a = base();
                a.payment_mint = fake.mint;
                a.owner_payment_account = fake_account;
                a
            },
            ErrorCode::ConstraintHasOne,
        ),
    ];
    for (name, accounts, error) in cases {
        let result = w.send(&[build(accounts, instruction::CloseDataset {})], &[&owner]);
        assert!(result.is_err(), "{name} was accepted");
        result.fails_with_anchor(error);
    }
    assert_unchanged(&w, &before);
    close_ds(&mut w, &owner, &d).succeeds();
    assert_eq!(w.balance(&owner_account), 777);
}

/// close = owner and the vault's close_account in close_dataset: a retired, settled, fully claimed
/// and swept dataset closes; the vault's and the dataset's rent go to the owner, stray tokens to the
/// owner's account, and the content hash stays taken.
fn closed_dataset_pays_rent_and_stray_tokens_to_owner(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    w.claim(&d, &owner).succeeds();
    w.sweep(&d).succeeds();
    close_own_license(&mut w, &d, &buyer).succeeds();
    set_state(&mut w, &owner, &d, DatasetState::Retired).succeeds();
    let donor = w.buyer(1_234);
    let donate = anchor_spl::token::spl_token::instruction::transfer(
        &TOKEN,
        &d.payment_account(&donor.pubkey()),
        &d.escrow_vault,
        &donor.pubkey(),
        &[],
        1_234,
    )
    .unwrap();
    w.send(&[donate], &[&donor]).succeeds();
    let owner_account = w.payment_account_of(&owner.pubkey());
    let owner_tokens = w.balance(&owner_account);
    let rent = w.lamports(&d.address) + w.lamports(&d.escrow_vault);
    let payer = w.wallet();
    let owner_before = w.lamports(&owner.pubkey());
    w.send(&[close_dataset(owner.pubkey(), &d)], &[&payer, &owner]).succeeds();
    assert_eq!(w.lamports(&owner.pubkey()), owner_before + rent);
    assert_eq!(w.balance(&owner_account), owner_tokens + 1_234);
    assert!(!w.exists(&d.address) && !w.exists(&d.escrow_vault));
    // the licence mint stays, and with it the content hash
    assert!(w.exists(&d.license_mint));
    let (_, result) = w.try_register(&owner, dataset_args("shop", single_owner(&owner.pubkey())));
    result.fails();
    assert!(!w.exists(&d.address));
}

// ---------------------------------------------------------------------------------------------
// Account types, signatures and writability across these instructions
// ---------------------------------------------------------------------------------------------

/// Account<T> discriminator checks where another account type has the same fields at the same
/// offsets: a licence as an allow-list entry (dataset at 8), a review as a dispute (license at 8),
/// a dispute as a review (dataset at 40, buyer/reviewer at 72), a licence as a previous version.
fn look_alike_accounts_of_another_type_are_refused(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let holder = w.buyer(PRICE);
    allow(&mut w, &owner, &d, &holder.pubkey()).succeeds();
    purchase_with_entry(&mut w, &d, &holder, Some(allow_list_entry_address(&d, &holder.pubkey()))).succeeds();
    w.deliver(&d, &owner, &holder.pubkey()).succeeds();
    dispute(&mut w, &d, &holder).succeeds();
    review(&mut w, &d, &holder, 2).succeeds();
    let license = d.license(&holder.pubkey());
    let (review_at, dispute_at) = (review_address(&license), dispute_address(&license));
    let newcomer = w.buyer(PRICE);
    let before = snapshot(&w, &[d.address, license, review_at, dispute_at]);

    // remove_from_allow_list would close the licence and pay its rent to the owner
    let ix = build(
        data_market::accounts::RemoveFromAllowList { owner: owner.pubkey(), dataset: d.address, entry: license },
        instruction::RemoveFromAllowList {},
    );
    w.send(&[ix], &[&owner]).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    // a licence shown as an allow-list entry
    purchase_with_entry(&mut w, &d, &newcomer, Some(license))
        .fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    // update_review on the dispute record would overwrite it
    let ix = build(
        data_market::accounts::UpdateReview {
            reviewer: holder.pubkey(),
            dataset: d.address,
            license,
            review: dispute_at,
        },
        instruction::UpdateReview { args: review_args(5, REVIEW_URI) },
    );
    w.send(&[ix], &[&holder]).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    // close_dispute on the review would hand out its rent and keep its rating
    let ix = build(
        data_market::accounts::CloseDispute { buyer: holder.pubkey(), license, dispute: review_at },
        instruction::CloseDispute {},
    );
    w.send(&[ix], &[&holder]).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    // rule_dispute on the review
    let mut accounts = rule_dispute_accounts(w.arbiter.pubkey(), &d, &holder.pubkey());
    accounts.dispute = review_at;
    rule_with(&mut w, accounts, Ruling::Refund).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    // a review as the licence of a recorded use
    let mut accounts = next_use(&w, &d, &holder.pubkey(), None);
    accounts.license = review_at;
    record_with(&mut w, &holder, accounts).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    assert_unchanged(&w, &before);

    // a licence or a token account as the previous version
    let (v2, result) = register_version(&mut w, &owner, "v2", Some(license));
    result.fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    let (_, result) = register_version(&mut w, &owner, "v2", Some(d.escrow_vault));
    result.fails_with_anchor(ErrorCode::AccountOwnedByWrongProgram);
    assert!(!w.exists(&v2.address));
    assert_unchanged(&w, &before);
}

/// Every instruction covered here at a moment where each would succeed, with the keys that sign it.
struct Due {
    w: World,
    d: DatasetHandle,
    cases: Vec<(&'static str, Instruction, Vec<Keypair>)>,
}

fn everything_due(backend: Backend) -> Due {
    let Shop { mut w, owner, d } = shop(backend);
    let metered = dataset_of(&mut w, &owner, "metered", |args| args.terms.metered = true);
    // a metered licence delivered before the warp below, so it can settle and buy credits
    let credit_buyer = bought_credits(&mut w, &metered, 1);
    w.deliver(&metered, &owner, &credit_buyer.pubkey()).succeeds();
    // a licence settled long ago, now only waiting to be closed
    let closer = settled(&mut w, &d, &owner, None);
    w.settle(&metered, &credit_buyer.pubkey()).succeeds();
    let recorder = delivered(&mut w, &d, &owner, None);
    let attestor = w.wallet();
    let reviewer = delivered(&mut w, &d, &owner, None);
    let editor = delivered(&mut w, &d, &owner, None);
    review(&mut w, &d, &editor, 3).succeeds();
    let disputer = delivered(&mut w, &d, &owner, None);
    let ruled = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &ruled).succeeds();
    let ruled_closer = delivered(&mut w, &d, &owner, None);
    dispute(&mut w, &d, &ruled_closer).succeeds();
    rule(&mut w, &d, &ruled_closer.pubkey(), Ruling::Release).succeeds();
    w.fund_payment(&credit_buyer.pubkey(), PRICE);
    let listed = w.wallet();
    let delisted = w.wallet();
    allow(&mut w, &owner, &d, &delisted.pubkey()).succeeds();
    let to_pause = w.register(&owner, "to-pause");
    let to_revoke = w.register(&owner, "to-revoke");
    let to_close = w.register(&owner, "to-close");
    set_state(&mut w, &owner, &to_close, DatasetState::Retired).succeeds();
    w.payment_account_of(&owner.pubkey());
    let previous = w.register(&owner, "v1");
    let successor = DatasetHandle::derive(content_hash("v2"), owner.pubkey(), w.usdc.mint, w.usdc.token_program);
    let mut register = register_accounts(owner.pubkey(), &successor);
    register.previous_version = Some(previous.address);
    let arbiter = w.arbiter.insecure_clone();
    let operator = w.operator.insecure_clone();
    let o = || owner.insecure_clone();

    let cases = vec![
        (
            "record_usage",
            record_usage(
                next_use(&w, &d, &recorder.pubkey(), Some(attestor.pubkey())),
                usage(UsagePurpose::Training, MODEL_A),
            ),
            vec![recorder.insecure_clone(), attestor],
        ),
        ("buy_credits", buy_credits(credit_buyer.pubkey(), &metered, 1, PRICE), vec![credit_buyer]),
        ("submit_review", submit_review(reviewer.pubkey(), &d, review_args(4, REVIEW_URI)), vec![reviewer]),
        ("update_review", update_review(editor.pubkey(), &d, review_args(5, REVIEW_URI)), vec![editor]),
        ("open_dispute", open_dispute(disputer.pubkey(), &d, DisputeReason::DataUnavailable, EVIDENCE), vec![disputer]),
        (
            "rule_dispute",
            rule_dispute(arbiter.pubkey(), &d, &ruled.pubkey(), Ruling::Split { buyer_bps: 2_500 }),
            vec![arbiter],
        ),
        ("close_dispute", close_dispute(ruled_closer.pubkey(), &d), vec![ruled_closer]),
        ("close_license", close_license(closer.pubkey(), &d), vec![closer]),
        ("add_to_allow_list", add_to_allow_list(owner.pubkey(), &d, listed.pubkey()), vec![o()]),
        ("remove_from_allow_list", remove_from_allow_list(owner.pubkey(), &d, &delisted.pubkey()), vec![o()]),
        ("set_dataset_state", set_dataset_state(owner.pubkey(), &to_pause, DatasetState::OrderingPaused), vec![o()]),
        ("revoke_dataset", revoke_dataset(operator.pubkey(), &to_revoke, 3), vec![operator]),
        ("close_dataset", close_dataset(owner.pubkey(), &to_close), vec![o()]),
        (
            "register_dataset (new version)",
            build(register, instruction::RegisterDataset { args: dataset_args("v2", single_owner(&owner.pubkey())) }),
            vec![o()],
        ),
    ];
    Due { w, d, cases }
}

/// Signer<'info> on holder, attestor (when named), buyer, reviewer, arbiter, owner and authority: an
/// account meta that does not sign fails with AccountNotSigner; signed, each goes through.
fn every_signer_must_sign(backend: Backend) {
    let Due { mut w, d, cases } = everything_due(backend);
    let payer = w.wallet();
    for (name, ix, signers) in &cases {
        for signer in signers {
            let before = snapshot(&w, &[d.address, d.escrow_vault]);
            let others: Vec<&Keypair> =
                std::iter::once(&payer).chain(signers.iter().filter(|s| s.pubkey() != signer.pubkey())).collect();
            let result = w.send(&[unsigned(ix.clone(), &signer.pubkey())], &others);
            assert!(result.is_err(), "{name} succeeded without the signature of {}", signer.pubkey());
            result.fails_with_anchor(ErrorCode::AccountNotSigner);
            assert_unchanged(&w, &before);
        }
    }
    for (name, ix, signers) in &cases {
        let all: Vec<&Keypair> = std::iter::once(&payer).chain(signers.iter()).collect();
        let result = w.send(&[ix.clone()], &all);
        assert!(result.is_ok(), "{name} failed when signed: {:?}", result.err().map(|f| f.meta.pretty_logs()));
        w.assert_conserved(&d);
    }
}

/// `mut` on every account these instructions write: the same account passed read-only is refused
/// with ConstraintMut (the allow-list entry that `init` creates, and its payer, fail in the creation).
fn every_mut_account_must_be_writable(backend: Backend) {
    let Due { mut w, d, cases } = everything_due(backend);
    let payer = w.wallet();
    // add_to_allow_list's entry is created by Anchor's `init`, paid by the owner: read-only, the
    // creation itself fails (PrivilegeEscalation in the SBF runtime; the native CPI stub panics)
    let created = [("add_to_allow_list", 0), ("add_to_allow_list", 2)];
    for (name, ix, signers) in &cases {
        let all: Vec<&Keypair> = std::iter::once(&payer).chain(signers.iter()).collect();
        for index in 0..ix.accounts.len() {
            if !ix.accounts[index].is_writable {
                continue;
            }
            let mut read_only = ix.clone();
            read_only.accounts[index].is_writable = false;
            let key = read_only.accounts[index].pubkey;
            let before = snapshot(&w, &[d.address, d.escrow_vault, key]);
            let result = w.send(&[read_only], &all);
            assert!(result.is_err(), "{name} succeeded with account {index} ({key}) read-only");
            if !created.contains(&(*name, index)) {
                result.fails_with_anchor(ErrorCode::ConstraintMut);
            }
            assert_unchanged(&w, &before);
        }
        w.send(&[ix.clone()], &all).succeeds();
        w.assert_conserved(&d);
    }
}

on_both_backends!(
    record_usage_rejected_once_dataset_revoked,
    record_usage_rejected_before_delivery,
    record_usage_rejected_after_refund,
    record_usage_rejected_from_expiry,
    record_usage_requires_holding_the_license_token,
    metered_use_burns_one_credit_until_none_left,
    record_usage_rejects_all_zero_model_hash,
    record_usage_rejects_holder_who_is_not_the_buyer,
    record_usage_rejects_license_of_another_dataset,
    record_usage_rejects_license_mint_of_another_dataset,
    record_usage_holder_account_must_be_the_holders_of_this_mint,
    record_usage_rejects_receipt_that_is_not_the_next,
    prefunded_receipt_address_does_not_block_usage,
    attestor_must_sign_and_is_recorded,
    receipts_list_a_models_provenance_across_datasets,
    usage_is_counted_by_purpose,
    purchase_rejects_credit_amount_out_of_bounds,
    metered_purchase_charges_price_per_credit_up_to_max,
    metered_total_overflow_is_named,
    buy_credits_rejects_unmetered_dataset,
    buy_credits_requires_a_usable_license,
    buy_credits_rejected_while_marketplace_paused,
    buy_credits_rejected_unless_dataset_sells,
    buy_credits_rejects_bad_amount_and_price_above_max,
    buy_credits_rejects_license_of_another_buyer,
    buy_credits_rejects_substituted_accounts,
    top_up_is_claimable_at_once,
    buy_credits_waits_for_settlement,
    refund_of_metered_license_burns_every_credit,
    allow_list_refuses_buyers_without_their_own_entry,
    allow_list_changes_only_by_owner,
    allow_list_entry_is_added_once_at_its_address,
    prefunded_allow_list_entry_address_does_not_block,
    removing_an_entry_returns_its_rent_and_unlists_the_buyer,
    removing_an_entry_of_another_dataset_fails,
    update_dataset_toggles_the_allow_list,
    set_dataset_state_follows_the_transition_table,
    set_dataset_state_only_by_owner,
    sales_and_renewals_stop_unless_active_or_unlisted,
    deprecated_dataset_still_serves_existing_licenses,
    revoke_dataset_only_by_operator_once,
    new_version_links_both_ways,
    new_version_of_another_owners_dataset_fails,
    second_successor_of_a_version_fails,
    review_only_by_the_license_buyer,
    review_requires_a_delivered_license,
    review_rating_must_be_one_to_five,
    review_uri_must_be_bounded,
    second_review_of_a_license_fails,
    prefunded_review_address_does_not_block,
    review_edited_only_by_its_author,
    ratings_follow_submissions_and_edits,
    review_rejects_license_or_review_of_another_dataset,
    review_of_a_license_refunded_by_ruling_cannot_be_edited,
    review_of_a_refunded_license_stays_frozen_after_buying_again,
    review_edit_rejects_another_license,
    review_must_sit_at_its_license_address,
    dispute_requires_a_delivered_unsettled_license,
    dispute_window_closes_on_time,
    dispute_twice_fails,
    dispute_only_by_the_buyer,
    dispute_evidence_uri_must_be_bounded,
    dispute_rejects_license_of_another_dataset_and_foreign_address,
    disputed_license_is_frozen,
    open_disputes_are_counted,
    rule_only_by_the_arbiter,
    rule_twice_fails,
    split_above_all_bps_fails,
    refund_ruling_repays_and_voids_the_license,
    refund_ruling_burns_the_token_of_a_used_license,
    refund_ruling_leaves_no_unused_credit,
    buy_credits_rejected_while_disputed,
    renew_rejects_metered_license,
    release_ruling_settles_like_an_undisputed_sale,
    split_ruling_pays_exact_parts,
    rule_rejects_substituted_accounts,
    close_dispute_after_ruling_returns_rent_to_buyer,
    close_license_refused_while_anything_is_owed,
    close_license_only_by_its_buyer_through_its_dataset,
    closed_license_returns_rent_and_can_be_bought_again,
    license_bought_again_in_the_same_second_can_record_use,
    closed_license_cannot_be_revived_in_one_transaction,
    close_dataset_requires_retirement,
    close_dataset_waits_for_pending_licenses_only,
    close_dataset_waits_for_every_payout,
    close_dataset_rejects_stranger_and_substituted_accounts,
    closed_dataset_pays_rent_and_stray_tokens_to_owner,
    look_alike_accounts_of_another_type_are_refused,
    every_signer_must_sign,
    every_mut_account_must_be_writable,
);
