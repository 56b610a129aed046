//! Negative tests of the money path: every account constraint and every named error of
//! purchase_license, renew_license, deliver_key, refund_license, settle_license, claim_revenue,
//! claim_referral_fee and sweep_protocol_fees. Each test fails if the check it names is removed, and
//! where a rejected transaction could have moved money it also asserts that nothing changed.
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::{instruction as token_ix, state};
use data_market::domain::ledger::EscrowLedger;
use data_market::domain::lifecycle::LicenseState;
use data_market::errors::MarketError;
use data_market::instruction;
use data_market::instructions::{UpdateDatasetArgs, UpdateMarketplaceArgs};
use market_tests::tokens::{MintExtra, TOKEN, TOKEN_2022};
use market_tests::*;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

// SPL Token / Token-2022 error codes (TokenError).
const TOKEN_INSUFFICIENT_FUNDS: u32 = 1;
const TOKEN_OWNER_MISMATCH: u32 = 4;

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/// A second dataset in the same world and payment mint, owned by a new wallet.
fn other_dataset(w: &mut World, label: &str) -> (Keypair, DatasetHandle) {
    let owner = w.wallet();
    let d = w.register(&owner, label);
    (owner, d)
}

fn ledger(w: &World, d: &DatasetHandle) -> EscrowLedger {
    w.dataset(&d.address).ledger
}

fn set_marketplace(w: &mut World, args: UpdateMarketplaceArgs) {
    let operator = w.operator.insecure_clone();
    w.send(&[update_marketplace(operator.pubkey(), args)], &[&operator]).succeeds();
}

fn pause_marketplace(w: &mut World, paused: bool) {
    set_marketplace(w, UpdateMarketplaceArgs { purchases_paused: Some(paused), ..Default::default() });
}

fn set_dataset(w: &mut World, owner: &Keypair, d: &DatasetHandle, args: UpdateDatasetArgs) {
    w.send(&[update_dataset(owner.pubkey(), d, args)], &[owner]).succeeds();
}

fn pause_dataset(w: &mut World, owner: &Keypair, d: &DatasetHandle, paused: bool) {
    use data_market::state::DatasetState;
    let state = if paused { DatasetState::OrderingPaused } else { DatasetState::Active };
    w.send(&[set_dataset_state(owner.pubkey(), d, state)], &[owner]).succeeds();
}

/// The accounts a sale touches: dataset, licence, vault, licence mint and the buyer's two token accounts.
fn sale_accounts(d: &DatasetHandle, buyer: &Pubkey) -> Vec<Pubkey> {
    vec![
        d.address,
        d.license(buyer),
        d.escrow_vault,
        d.license_mint,
        d.payment_account(buyer),
        d.license_account(buyer),
    ]
}

/// A token account of `mint` owned by `owner` at a fresh (non-associated) address.
fn loose_token_account(w: &mut World, owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    let account = Keypair::new();
    let mint_data = w.svm.get_account(mint).expect("mint exists").data;
    let mint_state = StateWithExtensions::<state::Mint>::unpack(&mint_data).expect("a mint");
    let required = ExtensionType::get_required_init_account_extensions(&mint_state.get_extension_types().unwrap());
    let space = ExtensionType::try_calculate_account_len::<state::Account>(&required).unwrap();
    let payer = w.wallet();
    let rent = w.svm.minimum_balance_for_rent_exemption(space);
    let instructions = [
        system_instruction::create_account(&payer.pubkey(), &account.pubkey(), rent, space as u64, token_program),
        token_ix::initialize_account3(token_program, &account.pubkey(), mint, owner).unwrap(),
    ];
    w.send(&instructions, &[&payer, &account]).succeeds();
    account.pubkey()
}

/// Sends a purchase the way a client does: the buyer's associated licence account is created
/// (idempotently) in front of it.
fn send_purchase(w: &mut World, buyer: &Keypair, d: &DatasetHandle, purchase: Instruction) -> TxResult {
    let create = create_license_account(buyer.pubkey(), d, &buyer.pubkey());
    w.send(&[create, purchase], &[buyer])
}

fn purchase_ix(accounts: data_market::accounts::PurchaseLicense, max_price: u64) -> Instruction {
    build(accounts, instruction::PurchaseLicense { args: purchase_args(max_price) })
}

fn fee_of(amount: u64, bps: u16) -> u64 {
    (u128::from(amount) * u128::from(bps) / 10_000) as u64
}

// ---------------------------------------------------------------------------------------------
// purchase_license
// ---------------------------------------------------------------------------------------------

/// require!(!purchases_paused): the operator's pause stops purchases, resuming reopens them.
fn purchase_rejected_while_marketplace_paused(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    pause_marketplace(&mut w, true);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.buy(&d, &buyer, None).fails_with(MarketError::PurchasesPaused);
    assert_unchanged(&w, &before);
    pause_marketplace(&mut w, false);
    w.buy(&d, &buyer, None).succeeds();
    w.assert_conserved(&d);
}

/// require!(dataset.state == Active): the owner's pause stops purchases of that dataset.
fn purchase_rejected_while_dataset_paused(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = w.buyer(PRICE);
    pause_dataset(&mut w, &owner, &d, true);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.buy(&d, &buyer, None).fails_with(MarketError::DatasetNotActive);
    assert_unchanged(&w, &before);
    pause_dataset(&mut w, &owner, &d, false);
    w.buy(&d, &buyer, None).succeeds();
}

/// require!(price <= max_price): one unit above the buyer's maximum fails, exactly the maximum passes,
/// and a price raised after the buyer chose its maximum is refused.
fn purchase_rejected_above_buyer_max_price(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = w.buyer(2 * PRICE);
    let too_low = purchase_license(buyer.pubkey(), &d, purchase_args(PRICE - 1), None);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    send_purchase(&mut w, &buyer, &d, too_low).fails_with(MarketError::PriceAboveMax);
    assert_unchanged(&w, &before);

    set_dataset(&mut w, &owner, &d, UpdateDatasetArgs { price: Some(PRICE + 1), ..Default::default() });
    let stale = purchase_license(buyer.pubkey(), &d, purchase_args(PRICE), None);
    send_purchase(&mut w, &buyer, &d, stale).fails_with(MarketError::PriceAboveMax);

    let exact = purchase_license(buyer.pubkey(), &d, purchase_args(PRICE + 1), None);
    send_purchase(&mut w, &buyer, &d, exact).succeeds();
    assert_eq!(w.license(&d.license(&buyer.pubkey())).price_paid, PRICE + 1);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE - 1);
}

/// require!(licenses_outstanding < max_supply): a sold-out dataset refuses buyers until a refund frees a licence.
fn purchase_rejected_when_supply_exhausted(backend: Backend) {
    let Shop { mut w, d, .. } = shop_with(backend, |args| args.terms.max_supply = 1);
    let first = bought(&mut w, &d, None);
    let second = w.buyer(PRICE);
    let before = snapshot(&w, &sale_accounts(&d, &second.pubkey()));
    w.buy(&d, &second, None).fails_with(MarketError::SupplyExhausted);
    assert_unchanged(&w, &before);

    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &first.pubkey()).succeeds();
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 0);
    w.buy(&d, &second, None).succeeds();
    let state = w.dataset(&d.address);
    assert_eq!((state.licenses_outstanding, state.licenses_sold), (1, 2));
    // sold out again
    let third = w.buyer(PRICE);
    w.buy(&d, &third, None).fails_with(MarketError::SupplyExhausted);
}

/// non_zero(buyer_encryption_key): the content key cannot be sealed to an all-zero X25519 key.
fn purchase_rejects_all_zero_encryption_key(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let mut args = purchase_args(PRICE);
    args.buyer_encryption_key = [0; 32];
    let ix = purchase_license(buyer.pubkey(), &d, args, None);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    send_purchase(&mut w, &buyer, &d, ix).fails_with(MarketError::InvalidEncryptionKey);
    assert_unchanged(&w, &before);
}

/// require_keys_neq!(referrer, buyer): a buyer cannot earn the referral fee on its own purchase.
fn purchase_rejects_self_referral(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.buy(&d, &buyer, Some(buyer.pubkey())).fails_with(MarketError::SelfReferral);
    assert_unchanged(&w, &before);
}

/// has_one = payment_mint: paying with tokens of another mint is refused.
fn purchase_rejects_substituted_payment_mint(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let fake = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_account = w.fund(&fake, &buyer.pubkey(), PRICE);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.payment_mint = fake.mint;
    accounts.buyer_payment_account = Some(fake_account);
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![fake_account]].concat());
    send_purchase(&mut w, &buyer, &d, purchase_ix(accounts, PRICE)).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
}

/// has_one = license_mint: the licence token must be minted from the dataset's own licence mint.
fn purchase_rejects_substituted_license_mint(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let fake = w.create_mint(TOKEN_2022, 0, MintExtra::None);
    let fake_license_account = w.token_account(&buyer.pubkey(), &fake.mint, &TOKEN_2022);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.license_mint = fake.mint;
    accounts.buyer_license_account = fake_license_account;
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![fake_license_account, fake.mint]].concat());
    w.send(&[purchase_ix(accounts, PRICE)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
}

/// has_one = escrow_vault: a buyer cannot pay into a token account of its own instead of the escrow.
fn purchase_rejects_substituted_escrow_vault(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let (mint, program) = (w.usdc.mint, w.usdc.token_program);
    let own_vault = loose_token_account(&mut w, &buyer.pubkey(), &mint, &program);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.escrow_vault = own_vault;
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![own_vault]].concat());
    send_purchase(&mut w, &buyer, &d, purchase_ix(accounts, PRICE)).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
}

/// token::mint = payment_mint on buyer_payment_account: an account of another mint is refused.
fn purchase_rejects_payment_account_of_other_mint(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let other = w.create_mint(TOKEN, 6, MintExtra::None);
    let other_account = w.fund(&other, &buyer.pubkey(), PRICE);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.buyer_payment_account = Some(other_account);
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![other_account]].concat());
    send_purchase(&mut w, &buyer, &d, purchase_ix(accounts, PRICE)).fails_with_anchor(ErrorCode::ConstraintTokenMint);
    assert_unchanged(&w, &before);
}

/// token::token_program = payment_token_program: the token program must be the one owning the payment accounts.
fn purchase_rejects_wrong_payment_token_program(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.payment_token_program = TOKEN_2022;
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    send_purchase(&mut w, &buyer, &d, purchase_ix(accounts, PRICE))
        .fails_with_anchor(ErrorCode::ConstraintTokenTokenProgram);
    assert_unchanged(&w, &before);
}

/// Anchor's duplicate mutable account check: the escrow vault cannot also be the paying account.
fn purchase_rejects_vault_as_payment_account(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let paid = bought(&mut w, &d, None); // the vault holds money
    let buyer = w.buyer(PRICE);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.buyer_payment_account = Some(d.escrow_vault);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    send_purchase(&mut w, &buyer, &d, purchase_ix(accounts, PRICE))
        .fails_with_anchor(ErrorCode::ConstraintDuplicateMutableAccount);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.escrow_vault), PRICE);
    let _ = paid;
}

/// The transfer's authority check (token program): a buyer cannot pay from someone else's account.
fn purchase_rejects_someone_elses_payment_account(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let victim = w.buyer(PRICE);
    let thief = w.buyer(0);
    let mut accounts = purchase_accounts(thief.pubkey(), &d, None);
    accounts.buyer_payment_account = Some(d.payment_account(&victim.pubkey()));
    let before =
        snapshot(&w, &[sale_accounts(&d, &thief.pubkey()), vec![d.payment_account(&victim.pubkey())]].concat());
    send_purchase(&mut w, &thief, &d, purchase_ix(accounts, PRICE)).fails_with_code(TOKEN_OWNER_MISMATCH);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.payment_account(&victim.pubkey())), PRICE);
}

/// `init` on the licence PDA: a second purchase by the same buyer fails (renew instead), and the buyer
/// pays once. This holds after a refund too: the void licence keeps its address. (The exact error
/// comes from the system program's account creation; see `prefunded_license_address_does_not_block_purchase`.)
fn second_purchase_by_same_buyer_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.buy(&d, &buyer, None).fails_with(MarketError::LicenseAlreadyExists);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 1);

    // nor once the first licence is delivered, nor after it was refunded
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.buy(&d, &buyer, None).fails_with(MarketError::LicenseAlreadyExists);
    assert_unchanged(&w, &before);
    let late = w.buyer(2 * PRICE);
    w.buy(&d, &late, None).succeeds();
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &late.pubkey()).succeeds();
    let before = snapshot(&w, &sale_accounts(&d, &late.pubkey()));
    w.buy(&d, &late, None).fails_with(MarketError::LicenseAlreadyExists);
    assert_unchanged(&w, &before);
    assert_eq!(w.license(&d.license(&late.pubkey())).state, LicenseState::Refunded);
    w.assert_conserved(&d);
}

/// Anyone can send lamports to a buyer's future licence address (it derives from public keys). The
/// purchase must still go through, as registration does for a prefunded dataset address.
fn prefunded_license_address_does_not_block_purchase(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    let griefer = w.wallet();
    let license = d.license(&buyer.pubkey());
    let rent = w.svm.minimum_balance_for_rent_exemption(0);
    w.send(&[system_instruction::transfer(&griefer.pubkey(), &license, rent)], &[&griefer]).succeeds();
    assert_eq!(w.lamports(&license), rent);
    w.buy(&d, &buyer, None).succeeds();
    assert_eq!(w.license(&license).state, LicenseState::AwaitingKey);
    w.assert_conserved(&d);
}

/// seeds = [LICENSE, dataset, buyer] on the licence: a buyer cannot write into another buyer's licence.
fn purchase_rejects_license_pda_of_another_buyer(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let victim = bought(&mut w, &d, None);
    let attacker = w.buyer(PRICE);
    let mut accounts = purchase_accounts(attacker.pubkey(), &d, None);
    accounts.license = d.license(&victim.pubkey());
    let before = snapshot(&w, &[sale_accounts(&d, &attacker.pubkey()), sale_accounts(&d, &victim.pubkey())].concat());
    send_purchase(&mut w, &attacker, &d, purchase_ix(accounts, PRICE)).fails_with_anchor(ErrorCode::ConstraintSeeds);
    assert_unchanged(&w, &before);

    // also when the target address is still empty
    let later = w.buyer(PRICE);
    let mut accounts = purchase_accounts(attacker.pubkey(), &d, None);
    accounts.license = d.license(&later.pubkey());
    send_purchase(&mut w, &attacker, &d, purchase_ix(accounts, PRICE)).fails_with_anchor(ErrorCode::ConstraintSeeds);
    assert!(!w.exists(&d.license(&later.pubkey())));
}

/// token::authority = buyer / token::mint = license_mint on buyer_license_account: the licence token
/// goes only to an existing licence-token account of the buyer (associated or not).
fn purchase_license_account_must_be_the_buyers_of_this_mint(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let other = bought(&mut w, &d, None);
    let (other_owner, other_dataset) = other_dataset(&mut w, "other");
    let _ = other_owner;
    let buyer = w.buyer(2 * PRICE);
    w.buy(&other_dataset, &buyer, None).succeeds(); // the buyer holds a licence token of another dataset
    let own_ata = w.token_account(&buyer.pubkey(), &d.license_mint, &TOKEN_2022);
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![d.license_account(&other.pubkey())]].concat());

    // another holder's licence token account
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.buyer_license_account = d.license_account(&other.pubkey());
    w.send(&[purchase_ix(accounts, PRICE)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintTokenOwner);

    // the buyer's licence account of another dataset's licence mint
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.buyer_license_account = other_dataset.license_account(&buyer.pubkey());
    w.send(&[purchase_ix(accounts, PRICE)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintTokenMint);

    // no account at all: nothing creates it implicitly
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.buyer_license_account = Keypair::new().pubkey();
    w.send(&[purchase_ix(accounts, PRICE)], &[&buyer]).fails_with_anchor(ErrorCode::AccountNotInitialized);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.license_account(&other.pubkey())), 1);

    // a non-associated licence account of the buyer is accepted, and receives the token
    let loose = loose_token_account(&mut w, &buyer.pubkey(), &d.license_mint, &TOKEN_2022);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.buyer_license_account = loose;
    w.send(&[purchase_ix(accounts, PRICE)], &[&buyer]).succeeds();
    assert_eq!(w.balance(&loose), 1);
    assert_eq!(w.balance(&own_ata), 0);
    w.assert_conserved(&d);
}

/// The payment transfer: a buyer one unit short fails and no account changes.
fn purchase_without_enough_tokens_changes_nothing(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE - 1);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    let supply = w.mint_supply(&d.license_mint);
    w.buy(&d, &buyer, None).fails_with_code(TOKEN_INSUFFICIENT_FUNDS);
    assert_unchanged(&w, &before);
    assert!(!w.exists(&d.license(&buyer.pubkey())));
    assert_eq!(w.mint_supply(&d.license_mint), supply);
    assert_eq!(ledger(&w, &d), EscrowLedger::default());
}

/// A free dataset (price 0) is bought without moving tokens and still mints the licence token.
fn free_dataset_is_bought_without_moving_tokens(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.price = 0);
    let buyer = w.buyer(0);
    let referrer = w.wallet();
    w.ensure_front_end(&referrer.pubkey());
    let ix = purchase_license(buyer.pubkey(), &d, purchase_args(0), Some(referrer.pubkey()));
    send_purchase(&mut w, &buyer, &d, ix).succeeds();
    assert_eq!(w.balance(&d.escrow_vault), 0);
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 1);
    assert_eq!(w.mint_supply(&d.license_mint), 1);
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!((license.price_paid, license.protocol_fee, license.referral_fee), (0, 0, 0));
    assert_eq!(license.state, LicenseState::AwaitingKey);
    assert_eq!(w.dataset(&d.address).licenses_outstanding, 1);
    w.assert_conserved(&d);

    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    assert_eq!(ledger(&w, &d), EscrowLedger::default());
    w.claim(&d, &owner).fails_with(MarketError::NothingToClaim);
    w.assert_conserved(&d);
}

/// The referral fee is the dataset's offer capped by the operator's cap at purchase time.
fn referral_fee_is_capped_by_operator_cap(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    set_marketplace(&mut w, UpdateMarketplaceArgs { max_referral_fee_bps: Some(200), ..Default::default() });
    let referrer = w.wallet();
    let buyer = bought(&mut w, &d, Some(referrer.pubkey()));
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!(license.referral_fee, fee_of(PRICE, 200));
    assert_eq!(license.protocol_fee, fee_of(PRICE, PROTOCOL_FEE_BPS));
    assert_eq!(license.referrer, referrer.pubkey());
}

// ---------------------------------------------------------------------------------------------
// renew_license
// ---------------------------------------------------------------------------------------------

/// lifecycle::renew: a licence still waiting for its key cannot be renewed.
fn renew_rejects_undelivered_license(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseNotDelivered);
    assert_unchanged(&w, &before);
}

/// lifecycle::renew: a perpetual licence (duration 0) cannot be renewed, even once settled.
fn renew_rejects_perpetual_license(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.terms.duration_secs = 0);
    let buyer = settled(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    assert_eq!(w.license(&d.license(&buyer.pubkey())).expires_at, 0);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseIsPerpetual);
    assert_unchanged(&w, &before);
}

/// lifecycle::renew: a refunded licence is void and cannot be renewed.
fn renew_rejects_refunded_license(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = w.buyer(PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &buyer.pubkey()).succeeds();
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);
}

/// lifecycle::renew -> LicenseNotSettled: a delivered licence is still open to a dispute whose Refund
/// ruling would repay only the escrowed purchase, so it renews only once settled; the dispute window
/// having closed is not enough while nobody has settled it.
fn renew_rejects_delivered_license_until_settled(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseNotSettled);
    assert_unchanged(&w, &before);
    w.warp(i64::from(DISPUTE_WINDOW));
    assert_eq!(w.license(&license).state, LicenseState::Delivered);
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseNotSettled);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).succeeds();
    let renewed = w.license(&license);
    assert_eq!((renewed.state, renewed.renewals), (LicenseState::Settled, 1));
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 0);
    w.assert_conserved(&d);
}

/// require!(price <= max_price) on renewal: a raised price above the buyer's maximum is refused.
fn renew_rejects_price_above_max(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = w.buyer(3 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    set_dataset(&mut w, &owner, &d, UpdateDatasetArgs { price: Some(PRICE + 1), ..Default::default() });
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::PriceAboveMax);
    assert_unchanged(&w, &before);
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE + 1)], &[&buyer]).succeeds();
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 3 * PRICE - PRICE - (PRICE + 1));
}

/// require!(dataset.state == Active) on renewal.
fn renew_rejected_while_dataset_paused(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    pause_dataset(&mut w, &owner, &d, true);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::DatasetNotActive);
    assert_unchanged(&w, &before);
    pause_dataset(&mut w, &owner, &d, false);
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).succeeds();
}

/// require!(!purchases_paused) on renewal.
fn renew_rejected_while_marketplace_paused(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    pause_marketplace(&mut w, true);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::PurchasesPaused);
    assert_unchanged(&w, &before);
    pause_marketplace(&mut w, false);
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).succeeds();
}

/// has_one = buyer @ NotLicenseBuyer and has_one = dataset on renewal: a buyer cannot renew (or touch)
/// another buyer's licence, nor pass its own licence of another dataset.
fn renew_rejects_license_of_another_buyer_or_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let victim = delivered(&mut w, &d, &owner, None);
    let buyer = w.buyer(3 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    // all settled, so only the substituted licence can be what is refused
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &victim.pubkey()).succeeds();
    w.settle(&d, &buyer.pubkey()).succeeds();

    let mut accounts = renew_accounts(buyer.pubkey(), &d);
    accounts.license = d.license(&victim.pubkey());
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), sale_accounts(&d, &victim.pubkey())].concat());
    let ix = build(accounts, instruction::RenewLicense { max_price: PRICE });
    w.send(&[ix], &[&buyer]).fails_with(MarketError::NotLicenseBuyer);
    assert_unchanged(&w, &before);

    let (other_owner, other) = other_dataset(&mut w, "other");
    w.buy(&other, &buyer, None).succeeds();
    w.deliver(&other, &other_owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&other, &buyer.pubkey()).succeeds();
    let mut accounts = renew_accounts(buyer.pubkey(), &d);
    accounts.license = other.license(&buyer.pubkey());
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), sale_accounts(&other, &buyer.pubkey())].concat());
    let ix = build(accounts, instruction::RenewLicense { max_price: PRICE });
    w.send(&[ix], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
    assert_eq!(w.license(&other.license(&buyer.pubkey())).renewals, 0);
}

/// has_one = payment_mint / escrow_vault and the payment account's token constraints on renewal.
fn renew_rejects_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    w.fund_payment(&buyer.pubkey(), PRICE);
    let fake = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_account = w.fund(&fake, &buyer.pubkey(), PRICE);
    let (mint, program) = (w.usdc.mint, w.usdc.token_program);
    let own_vault = loose_token_account(&mut w, &buyer.pubkey(), &mint, &program);
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![fake_account, own_vault]].concat());
    let renew =
        |accounts: data_market::accounts::RenewLicense| build(accounts, instruction::RenewLicense { max_price: PRICE });

    let mut accounts = renew_accounts(buyer.pubkey(), &d);
    accounts.escrow_vault = own_vault;
    w.send(&[renew(accounts)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = renew_accounts(buyer.pubkey(), &d);
    accounts.payment_mint = fake.mint;
    accounts.buyer_payment_account = Some(fake_account);
    w.send(&[renew(accounts)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = renew_accounts(buyer.pubkey(), &d);
    accounts.buyer_payment_account = Some(fake_account);
    w.send(&[renew(accounts)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintTokenMint);

    let mut accounts = renew_accounts(buyer.pubkey(), &d);
    accounts.payment_token_program = TOKEN_2022;
    w.send(&[renew(accounts)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintTokenTokenProgram);

    let mut accounts = renew_accounts(buyer.pubkey(), &d);
    accounts.buyer_payment_account = Some(d.escrow_vault);
    w.send(&[renew(accounts)], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintDuplicateMutableAccount);

    assert_unchanged(&w, &before);
}

/// lifecycle::renew: the new expiry counts from the old one while it runs and from now once lapsed.
fn renewal_extends_from_expiry_while_running_and_from_now_once_lapsed(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let duration = w.dataset(&d.address).terms.duration_secs as i64;
    let buyer = w.buyer(3 * PRICE);
    let bought_at = w.now();
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let license = d.license(&buyer.pubkey());
    assert_eq!(w.license(&license).expires_at, bought_at + duration);

    w.warp(10 * DAY);
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).succeeds();
    let renewed = w.license(&license);
    assert_eq!(renewed.expires_at, bought_at + 2 * duration);
    assert_eq!(renewed.renewals, 1);
    w.assert_conserved(&d);

    // let it lapse, then renew: counts from now
    w.warp(2 * duration);
    let now = w.now();
    assert!(now > renewed.expires_at);
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).succeeds();
    let renewed = w.license(&license);
    assert_eq!(renewed.expires_at, now + duration);
    assert_eq!(renewed.renewals, 2);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 0);
    w.assert_conserved(&d);
}

/// A renewal is not escrowed: it is claimable at once, without referral fee, and the vault stays
/// reconciled. (Renewals wait for the licence's settlement; another buyer's purchase still in escrow
/// shows the renewal is not added to it.)
fn renewal_payment_is_claimable_at_once(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, Some(referrer.pubkey())).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    // the settled purchase is paid out before the renewal, so the claim below is the renewal alone
    w.claim(&d, &owner).succeeds();
    w.sweep(&d).succeeds();
    let referral_fee = fee_of(PRICE, REFERRAL_FEE_BPS);
    let before = ledger(&w, &d);
    assert_eq!((before.escrowed, before.claimable[0], before.protocol_fees_owed), (0, 0, 0));
    assert_eq!(before.referral_fees_owed, referral_fee);
    // not settled: this purchase is still escrowed
    let waiting = delivered(&mut w, &d, &owner, None);
    let owner_paid = w.balance(&d.payment_account(&owner.pubkey()));
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).succeeds();
    w.assert_conserved(&d);
    let protocol_fee = fee_of(PRICE, PROTOCOL_FEE_BPS);
    let after = ledger(&w, &d);
    assert_eq!(after.escrowed, PRICE);
    assert_eq!(after.claimable[0], PRICE - protocol_fee);
    assert_eq!(after.protocol_fees_owed, protocol_fee);
    assert_eq!(after.referral_fees_owed, referral_fee);
    assert_eq!(w.balance(&d.escrow_vault), PRICE + PRICE + referral_fee);

    w.claim(&d, &owner).succeeds();
    assert_eq!(w.balance(&d.payment_account(&owner.pubkey())), owner_paid + PRICE - protocol_fee);
    w.assert_conserved(&d);
    assert_eq!(w.license(&d.license(&buyer.pubkey())).state, LicenseState::Settled);
    assert_eq!(w.license(&d.license(&waiting.pubkey())).state, LicenseState::Delivered);
}

// ---------------------------------------------------------------------------------------------
// deliver_key
// ---------------------------------------------------------------------------------------------

/// dataset.may_deliver: neither a stranger nor the buyer may deliver the key.
fn deliver_rejects_stranger_and_buyer(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    let stranger = w.wallet();
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.deliver(&d, &stranger, &buyer.pubkey()).fails_with(MarketError::NotDeliveryAuthority);
    w.deliver(&d, &buyer, &buyer.pubkey()).fails_with(MarketError::NotDeliveryAuthority);
    assert_unchanged(&w, &before);
}

/// dataset.may_deliver: the owner's delivery delegate may deliver until the owner removes it.
fn delivery_delegate_may_deliver_until_removed(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let delegate = w.wallet();
    set_dataset(
        &mut w,
        &owner,
        &d,
        UpdateDatasetArgs { delivery_delegate: Some(delegate.pubkey()), ..Default::default() },
    );
    let first = bought(&mut w, &d, None);
    let second = bought(&mut w, &d, None);
    w.deliver(&d, &delegate, &first.pubkey()).succeeds();
    assert_eq!(w.license(&d.license(&first.pubkey())).state, LicenseState::Delivered);

    set_dataset(
        &mut w,
        &owner,
        &d,
        UpdateDatasetArgs { delivery_delegate: Some(Pubkey::default()), ..Default::default() },
    );
    w.deliver(&d, &delegate, &second.pubkey()).fails_with(MarketError::NotDeliveryAuthority);
    w.deliver(&d, &owner, &second.pubkey()).succeeds();
}

/// non_zero(sealed_key): an all-zero sealed key is refused.
fn deliver_rejects_all_zero_sealed_key(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    let ix = deliver_key(owner.pubkey(), &d, &buyer.pubkey(), [0; data_market::constants::SEALED_KEY_LEN]);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.send(&[ix], &[&owner]).fails_with(MarketError::InvalidSealedKey);
    assert_unchanged(&w, &before);
}

/// lifecycle::deliver: a key is delivered once; a second delivery cannot overwrite it.
fn deliver_twice_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    let other_key = deliver_key(owner.pubkey(), &d, &buyer.pubkey(), [1; data_market::constants::SEALED_KEY_LEN]);
    w.send(&[other_key], &[&owner]).fails_with(MarketError::LicenseNotPending);
    assert_unchanged(&w, &before);
    // nor after settlement
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).fails_with(MarketError::LicenseNotPending);
    assert_eq!(w.license(&d.license(&buyer.pubkey())).sealed_key, SEALED_KEY);
}

/// lifecycle::deliver: delivery is allowed up to the last second of the delivery window, not after.
fn deliver_after_window_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let on_time = bought(&mut w, &d, None);
    let late = bought(&mut w, &d, None);
    w.warp(i64::from(DELIVERY_WINDOW));
    w.deliver(&d, &owner, &on_time.pubkey()).succeeds();
    w.warp(1);
    let before = snapshot(&w, &sale_accounts(&d, &late.pubkey()));
    w.deliver(&d, &owner, &late.pubkey()).fails_with(MarketError::DeliveryWindowElapsed);
    assert_unchanged(&w, &before);
}

/// lifecycle::deliver: a refunded licence is void; no key can be delivered to it.
fn deliver_after_refund_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &buyer.pubkey()).succeeds();
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.deliver(&d, &owner, &buyer.pubkey()).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);
}

/// has_one = dataset on the licence: an owner cannot deliver to (and start the dispute clock of) a
/// licence of someone else's dataset.
fn deliver_rejects_license_of_another_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let (_, other) = other_dataset(&mut w, "other");
    let buyer = bought(&mut w, &other, None);
    let ix = build(
        data_market::accounts::DeliverKey {
            deliverer: owner.pubkey(),
            dataset: d.address,
            license: other.license(&buyer.pubkey()),
        },
        instruction::DeliverKey { sealed_key: SEALED_KEY },
    );
    let before = snapshot(&w, &sale_accounts(&other, &buyer.pubkey()));
    w.send(&[ix], &[&owner]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
}

// ---------------------------------------------------------------------------------------------
// refund_license
// ---------------------------------------------------------------------------------------------

/// lifecycle::refund: no refund until the delivery window has passed (its last second included).
fn refund_rejected_while_delivery_window_open(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::DeliveryWindowOpen);
    w.warp(i64::from(DELIVERY_WINDOW));
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::DeliveryWindowOpen);
    assert_unchanged(&w, &before);
    w.warp(1);
    w.refund(&d, &buyer.pubkey()).succeeds();
}

/// lifecycle::refund: once the key is delivered (or the licence settled) there is no refund.
fn refund_rejected_after_delivery(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::LicenseNotPending);
    assert_unchanged(&w, &before);
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::LicenseNotPending);
    w.assert_conserved(&d);
}

/// lifecycle::refund: a refund is paid once; the second attempt finds the licence void.
fn refund_twice_fails(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    let _other = bought(&mut w, &d, None); // keeps money in the vault that a second refund could take
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &buyer.pubkey()).succeeds();
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    assert_eq!(w.balance(&d.escrow_vault), PRICE);
}

/// token::authority = license.buyer on buyer_payment_account: the refund goes only to the buyer.
fn refund_to_account_not_owned_by_buyer_fails(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    let caller = w.wallet();
    let caller_account = w.payment_account_of(&caller.pubkey());
    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.buyer_payment_account = Some(caller_account);
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![caller_account]].concat());
    w.send(&[build(accounts, instruction::RefundLicense {})], &[&caller])
        .fails_with_anchor(ErrorCode::ConstraintTokenOwner);
    assert_unchanged(&w, &before);
    // a non-associated account the buyer owns is fine
    let (mint, program) = (w.usdc.mint, w.usdc.token_program);
    let loose = loose_token_account(&mut w, &buyer.pubkey(), &mint, &program);
    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.buyer_payment_account = Some(loose);
    w.send(&[build(accounts, instruction::RefundLicense {})], &[&caller]).succeeds();
    assert_eq!(w.balance(&loose), PRICE);
}

/// require!(buyer_license_account.amount >= 1): a buyer who moved its transferable licence token away
/// gets no refund (the token cannot be burned), and no one else's licence token is burned instead.
fn refund_requires_buyer_to_hold_license_token(backend: Backend) {
    let Shop { mut w, d, .. } = shop_with(backend, |args| args.terms.transferable = true);
    let buyer = bought(&mut w, &d, None);
    let friend = w.wallet();
    let friend_account = w.token_account(&friend.pubkey(), &d.license_mint, &TOKEN_2022);
    let give = token_ix::transfer_checked(
        &TOKEN_2022,
        &d.license_account(&buyer.pubkey()),
        &d.license_mint,
        &friend_account,
        &buyer.pubkey(),
        &[],
        1,
        0,
    )
    .unwrap();
    w.send(&[give], &[&buyer]).succeeds();
    w.warp(i64::from(DELIVERY_WINDOW) + 1);

    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![friend_account]].concat());
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::LicenseTokenNotHeld);
    // the holder's account cannot stand in for the buyer's (associated_token::authority = license.buyer)
    let caller = w.wallet();
    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.buyer_license_account = friend_account;
    w.send(&[build(accounts, instruction::RefundLicense {})], &[&caller])
        .fails_with_anchor(ErrorCode::ConstraintTokenOwner);
    assert_unchanged(&w, &before);

    // back in the buyer's account, the refund goes through
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
    w.refund(&d, &buyer.pubkey()).succeeds();
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    assert_eq!(w.mint_supply(&d.license_mint), 0);
}

/// token::mint = license_mint / token::authority = license.buyer on buyer_license_account: the token
/// burned must be this dataset's licence token held by the buyer (in any account of the buyer).
fn refund_license_account_must_be_the_buyers_of_this_mint(backend: Backend) {
    let Shop { mut w, d, .. } = shop_with(backend, |args| args.terms.transferable = true);
    let (_, other) = other_dataset(&mut w, "other");
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.buy(&other, &buyer, None).succeeds();
    let loose = loose_token_account(&mut w, &buyer.pubkey(), &d.license_mint, &TOKEN_2022);
    let moved = token_ix::transfer_checked(
        &TOKEN_2022,
        &d.license_account(&buyer.pubkey()),
        &d.license_mint,
        &loose,
        &buyer.pubkey(),
        &[],
        1,
        0,
    )
    .unwrap();
    w.send(&[moved], &[&buyer]).succeeds();
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    let caller = w.wallet();
    let before = snapshot(
        &w,
        &[sale_accounts(&d, &buyer.pubkey()), sale_accounts(&other, &buyer.pubkey()), vec![loose]].concat(),
    );

    // the buyer's licence token of another dataset cannot be burned for this refund
    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.buyer_license_account = other.license_account(&buyer.pubkey());
    w.send(&[build(accounts, instruction::RefundLicense {})], &[&caller])
        .fails_with_anchor(ErrorCode::ConstraintTokenMint);
    // the emptied associated account holds no token
    w.refund(&d, &buyer.pubkey()).fails_with(MarketError::LicenseTokenNotHeld);
    assert_unchanged(&w, &before);

    // the buyer's non-associated account holding the token is accepted
    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.buyer_license_account = loose;
    w.send(&[build(accounts, instruction::RefundLicense {})], &[&caller]).succeeds();
    assert_eq!(w.balance(&loose), 0);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    assert_eq!(w.balance(&other.license_account(&buyer.pubkey())), 1);
    w.assert_conserved(&d);
    w.assert_conserved(&other);
}

/// has_one = escrow_vault / payment_mint / license_mint on refund, and the payment account's token program.
fn refund_rejects_substituted_vault_and_mints(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    let (other_owner, other) = other_dataset(&mut w, "other");
    let _ = other_owner;
    let _rich = bought(&mut w, &other, None); // the other vault holds PRICE
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    let caller = w.wallet();
    let fake_payment = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_payment_account = w.fund(&fake_payment, &buyer.pubkey(), 0);
    let fake_license = w.create_mint(TOKEN_2022, 0, MintExtra::None);
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), vec![other.escrow_vault, other.address]].concat());
    let refund = |accounts: data_market::accounts::RefundLicense| build(accounts, instruction::RefundLicense {});

    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.escrow_vault = other.escrow_vault;
    w.send(&[refund(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.payment_mint = fake_payment.mint;
    accounts.buyer_payment_account = Some(fake_payment_account);
    w.send(&[refund(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.license_mint = fake_license.mint;
    w.send(&[refund(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.buyer_payment_account = Some(fake_payment_account);
    w.send(&[refund(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintTokenMint);

    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.payment_token_program = TOKEN_2022;
    w.send(&[refund(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintTokenTokenProgram);

    assert_unchanged(&w, &before);
    w.refund(&d, &buyer.pubkey()).succeeds();
    w.assert_conserved(&d);
    w.assert_conserved(&other);
}

/// has_one = dataset on the licence: a licence of another dataset cannot be refunded out of this vault.
fn refund_rejects_license_of_another_dataset(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let (_, other) = other_dataset(&mut w, "other");
    let buyer = w.buyer(2 * PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.buy(&other, &buyer, None).succeeds();
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    let caller = w.wallet();
    let mut accounts = refund_accounts(caller.pubkey(), &d, &buyer.pubkey());
    accounts.license = other.license(&buyer.pubkey());
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), sale_accounts(&other, &buyer.pubkey())].concat());
    w.send(&[build(accounts, instruction::RefundLicense {})], &[&caller])
        .fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
}

/// A due refund repays the buyer in full, burns the licence token, frees the licence and voids it.
fn refund_repays_buyer_and_burns_license_token(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let referrer = w.wallet();
    let buyer = bought(&mut w, &d, Some(referrer.pubkey()));
    let _other = bought(&mut w, &d, None);
    assert_eq!(w.mint_supply(&d.license_mint), 2);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &buyer.pubkey()).succeeds();
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), PRICE);
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 0);
    assert_eq!(w.mint_supply(&d.license_mint), 1);
    let state = w.dataset(&d.address);
    assert_eq!((state.licenses_outstanding, state.licenses_sold), (1, 2));
    assert_eq!(state.ledger, EscrowLedger { escrowed: PRICE, ..Default::default() });
    assert_eq!(w.license(&d.license(&buyer.pubkey())).state, LicenseState::Refunded);
    assert_eq!(w.balance(&d.escrow_vault), PRICE);
    w.assert_conserved(&d);
}

// ---------------------------------------------------------------------------------------------
// settle_license
// ---------------------------------------------------------------------------------------------

/// lifecycle::settle: one second before delivered_at + dispute window fails, exactly then it settles.
fn settle_waits_for_dispute_window(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    w.warp(DAY);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let delivered_at = w.license(&d.license(&buyer.pubkey())).delivered_at;
    assert_eq!(delivered_at, w.now());
    w.warp(i64::from(DISPUTE_WINDOW) - 1);
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.settle(&d, &buyer.pubkey()).fails_with(MarketError::DisputeWindowOpen);
    assert_unchanged(&w, &before);
    w.warp(1);
    assert_eq!(w.now(), delivered_at + i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    assert_eq!(w.license(&d.license(&buyer.pubkey())).state, LicenseState::Settled);
    let state = ledger(&w, &d);
    assert_eq!(state.escrowed, 0);
    assert_eq!(state.claimable[0], PRICE - fee_of(PRICE, PROTOCOL_FEE_BPS));
    w.assert_conserved(&d);
}

/// lifecycle::settle: an undelivered licence cannot settle, however long it waits.
fn settle_rejects_undelivered_license(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    w.warp(i64::from(DISPUTE_WINDOW) + i64::from(DELIVERY_WINDOW));
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.settle(&d, &buyer.pubkey()).fails_with(MarketError::LicenseNotDelivered);
    assert_unchanged(&w, &before);
}

/// lifecycle::settle: a licence settles once; the second settlement would pay the recipients twice.
fn settle_twice_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    let _pending = delivered(&mut w, &d, &owner, None); // escrow a second settlement could take
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.settle(&d, &buyer.pubkey()).fails_with(MarketError::LicenseNotPending);
    assert_unchanged(&w, &before);
    assert_eq!(ledger(&w, &d).escrowed, PRICE);
}

/// lifecycle::settle: a refunded licence is void and cannot settle.
fn settle_rejects_refunded_license(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let buyer = bought(&mut w, &d, None);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    let before = snapshot(&w, &sale_accounts(&d, &buyer.pubkey()));
    w.settle(&d, &buyer.pubkey()).fails_with(MarketError::LicenseVoid);
    assert_unchanged(&w, &before);
}

/// has_one = dataset on the licence: another dataset's licence cannot settle into this ledger.
fn settle_rejects_license_of_another_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let _escrowed = delivered(&mut w, &d, &owner, None);
    let (other_owner, other) = other_dataset(&mut w, "other");
    let buyer = delivered(&mut w, &other, &other_owner, None);
    w.warp(i64::from(DISPUTE_WINDOW));
    let caller = w.wallet();
    let ix = build(
        data_market::accounts::SettleLicense {
            caller: caller.pubkey(),
            dataset: d.address,
            license: other.license(&buyer.pubkey()),
        },
        instruction::SettleLicense {},
    );
    let before = snapshot(&w, &[sale_accounts(&d, &buyer.pubkey()), sale_accounts(&other, &buyer.pubkey())].concat());
    w.send(&[ix], &[&caller]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
}

// ---------------------------------------------------------------------------------------------
// claim_revenue
// ---------------------------------------------------------------------------------------------

/// recipient_index: a wallet outside the split (the buyer, a stranger) claims nothing.
fn claim_rejects_non_recipient(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = settled(&mut w, &d, &owner, None);
    let stranger = w.wallet();
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    w.claim(&d, &stranger).fails_with(MarketError::NotARecipient);
    w.claim(&d, &buyer).fails_with(MarketError::NotARecipient);
    assert_unchanged(&w, &before);
}

/// ledger.claim: nothing before settlement, and nothing on a second claim.
fn claim_with_nothing_owed_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    w.claim(&d, &owner).fails_with(MarketError::NothingToClaim);
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.claim(&d, &owner).succeeds();
    let paid = w.balance(&d.payment_account(&owner.pubkey()));
    assert_eq!(paid, PRICE - fee_of(PRICE, PROTOCOL_FEE_BPS));
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    w.claim(&d, &owner).fails_with(MarketError::NothingToClaim);
    assert_unchanged(&w, &before);
    assert_eq!(w.balance(&d.payment_account(&owner.pubkey())), paid);
}

/// token::authority = recipient: a recipient's revenue cannot be sent to someone else's account.
fn claim_to_account_owned_by_someone_else_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    settled(&mut w, &d, &owner, None);
    let stranger = w.wallet();
    let stranger_account = w.payment_account_of(&stranger.pubkey());
    w.payment_account_of(&owner.pubkey());
    let mut accounts = claim_accounts(owner.pubkey(), &d);
    accounts.recipient_account = stranger_account;
    let before = snapshot(&w, &[d.address, d.escrow_vault, stranger_account]);
    w.send(&[build(accounts, instruction::ClaimRevenue {})], &[&owner])
        .fails_with_anchor(ErrorCode::ConstraintTokenOwner);
    assert_unchanged(&w, &before);
}

/// has_one = escrow_vault / payment_mint on claim, and the recipient account's mint and token program.
fn claim_rejects_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    settled(&mut w, &d, &owner, None);
    let (_, other) = other_dataset(&mut w, "other");
    let _rich = bought(&mut w, &other, None);
    w.payment_account_of(&owner.pubkey());
    let fake = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_account = w.fund(&fake, &owner.pubkey(), 0);
    let before = snapshot(
        &w,
        &[d.address, d.escrow_vault, other.address, other.escrow_vault, d.payment_account(&owner.pubkey())],
    );
    let claim = |accounts: data_market::accounts::ClaimRevenue| build(accounts, instruction::ClaimRevenue {});

    let mut accounts = claim_accounts(owner.pubkey(), &d);
    accounts.escrow_vault = other.escrow_vault;
    w.send(&[claim(accounts)], &[&owner]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = claim_accounts(owner.pubkey(), &d);
    accounts.payment_mint = fake.mint;
    accounts.recipient_account = fake_account;
    w.send(&[claim(accounts)], &[&owner]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = claim_accounts(owner.pubkey(), &d);
    accounts.recipient_account = fake_account;
    w.send(&[claim(accounts)], &[&owner]).fails_with_anchor(ErrorCode::ConstraintTokenMint);

    let mut accounts = claim_accounts(owner.pubkey(), &d);
    accounts.payment_token_program = TOKEN_2022;
    w.send(&[claim(accounts)], &[&owner]).fails_with_anchor(ErrorCode::ConstraintTokenTokenProgram);

    assert_unchanged(&w, &before);
    w.claim(&d, &owner).succeeds();
    w.assert_conserved(&d);
    w.assert_conserved(&other);
}

// ---------------------------------------------------------------------------------------------
// claim_referral_fee
// ---------------------------------------------------------------------------------------------

fn claim_referral(w: &mut World, d: &DatasetHandle, referrer: &Keypair, buyer: &Pubkey) -> TxResult {
    w.payment_account_of(&referrer.pubkey());
    w.send(&[claim_referral_fee(referrer.pubkey(), d, buyer)], &[referrer])
}

/// has_one = referrer @ NotTheReferrer: only the named referrer is paid; a licence bought without a
/// referrer (referrer = Pubkey::default()) can be claimed by nobody.
fn referral_claim_rejects_stranger(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let referred = settled(&mut w, &d, &owner, Some(referrer.pubkey()));
    let unreferred = settled(&mut w, &d, &owner, None);
    let stranger = w.wallet();
    let before = snapshot(&w, &[d.address, d.escrow_vault, d.license(&referred.pubkey())]);
    claim_referral(&mut w, &d, &stranger, &referred.pubkey()).fails_with(MarketError::NotTheReferrer);
    claim_referral(&mut w, &d, &referred, &referred.pubkey()).fails_with(MarketError::NotTheReferrer);
    claim_referral(&mut w, &d, &referrer, &unreferred.pubkey()).fails_with(MarketError::NotTheReferrer);
    claim_referral(&mut w, &d, &stranger, &unreferred.pubkey()).fails_with(MarketError::NotTheReferrer);
    assert_unchanged(&w, &before);
    claim_referral(&mut w, &d, &referrer, &referred.pubkey()).succeeds();
}

/// require!(state == Settled): no referral fee while the licence waits, is in dispute, or after a refund.
fn referral_claim_waits_for_settlement(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let waiting = bought(&mut w, &d, Some(referrer.pubkey()));
    let refunded = bought(&mut w, &d, Some(referrer.pubkey()));
    let before = snapshot(&w, &[d.address, d.escrow_vault, d.license(&waiting.pubkey())]);
    claim_referral(&mut w, &d, &referrer, &waiting.pubkey()).fails_with(MarketError::LicenseNotSettled);
    assert_unchanged(&w, &before);
    w.deliver(&d, &owner, &waiting.pubkey()).succeeds();
    claim_referral(&mut w, &d, &referrer, &waiting.pubkey()).fails_with(MarketError::LicenseNotSettled);
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    w.refund(&d, &refunded.pubkey()).succeeds();
    claim_referral(&mut w, &d, &referrer, &refunded.pubkey()).fails_with(MarketError::LicenseNotSettled);
    assert_eq!(w.balance(&d.payment_account(&referrer.pubkey())), 0);
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &waiting.pubkey()).succeeds();
    claim_referral(&mut w, &d, &referrer, &waiting.pubkey()).succeeds();
    assert_eq!(w.balance(&d.payment_account(&referrer.pubkey())), fee_of(PRICE, REFERRAL_FEE_BPS));
    w.assert_conserved(&d);
}

/// require!(!referral_fee_claimed && referral_fee > 0): a fee is paid once, and a zero fee not at all.
fn referral_claim_pays_once(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let first = settled(&mut w, &d, &owner, Some(referrer.pubkey()));
    let _second = settled(&mut w, &d, &owner, Some(referrer.pubkey())); // another fee owed in the same ledger
    claim_referral(&mut w, &d, &referrer, &first.pubkey()).succeeds();
    let fee = fee_of(PRICE, REFERRAL_FEE_BPS);
    assert_eq!(w.balance(&d.payment_account(&referrer.pubkey())), fee);
    assert!(w.license(&d.license(&first.pubkey())).referral_fee_resolved);
    let before = snapshot(&w, &[d.address, d.escrow_vault, d.license(&first.pubkey())]);
    claim_referral(&mut w, &d, &referrer, &first.pubkey()).fails_with(MarketError::NothingToClaim);
    assert_unchanged(&w, &before);
    assert_eq!(ledger(&w, &d).referral_fees_owed, fee);
    w.assert_conserved(&d);
}

/// require!(referral_fee > 0): a named referrer of a dataset offering no referral fee has nothing to claim.
fn referral_claim_with_zero_fee_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.referral_fee_bps = 0);
    let referrer = w.wallet();
    let buyer = settled(&mut w, &d, &owner, Some(referrer.pubkey()));
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!((license.referrer, license.referral_fee), (referrer.pubkey(), 0));
    let before = snapshot(&w, &[d.address, d.escrow_vault, d.license(&buyer.pubkey())]);
    claim_referral(&mut w, &d, &referrer, &buyer.pubkey()).fails_with(MarketError::NothingToClaim);
    assert_unchanged(&w, &before);
}

/// has_one = dataset on the licence: a referral fee owed by another dataset cannot be paid from this vault.
fn referral_claim_rejects_license_of_another_dataset(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let _ = settled(&mut w, &d, &owner, None); // this vault holds money
    let (other_owner, other) = other_dataset(&mut w, "other");
    let buyer = settled(&mut w, &other, &other_owner, Some(referrer.pubkey()));
    w.payment_account_of(&referrer.pubkey());
    let mut accounts = claim_referral_accounts(referrer.pubkey(), &d, &buyer.pubkey());
    accounts.license = other.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, d.escrow_vault, other.address, other.license(&buyer.pubkey())]);
    w.send(&[build(accounts, instruction::ClaimReferralFee {})], &[&referrer])
        .fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
    claim_referral(&mut w, &other, &referrer, &buyer.pubkey()).succeeds();
}

/// has_one = escrow_vault / payment_mint and token::mint / authority / token program on the referral claim.
fn referral_claim_rejects_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let buyer = settled(&mut w, &d, &owner, Some(referrer.pubkey()));
    let (_, other) = other_dataset(&mut w, "other");
    let _rich = bought(&mut w, &other, None);
    w.payment_account_of(&referrer.pubkey());
    let stranger = w.wallet();
    let stranger_account = w.payment_account_of(&stranger.pubkey());
    let fake = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_account = w.fund(&fake, &referrer.pubkey(), 0);
    let before =
        snapshot(&w, &[d.address, d.escrow_vault, other.escrow_vault, d.license(&buyer.pubkey()), stranger_account]);
    let claim = |accounts: data_market::accounts::ClaimReferralFee| build(accounts, instruction::ClaimReferralFee {});
    let base = || claim_referral_accounts(referrer.pubkey(), &d, &buyer.pubkey());

    let mut accounts = base();
    accounts.escrow_vault = other.escrow_vault;
    w.send(&[claim(accounts)], &[&referrer]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = base();
    accounts.payment_mint = fake.mint;
    accounts.referrer_account = fake_account;
    w.send(&[claim(accounts)], &[&referrer]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = base();
    accounts.referrer_account = stranger_account;
    w.send(&[claim(accounts)], &[&referrer]).fails_with_anchor(ErrorCode::ConstraintTokenOwner);

    let mut accounts = base();
    accounts.referrer_account = fake_account;
    w.send(&[claim(accounts)], &[&referrer]).fails_with_anchor(ErrorCode::ConstraintTokenMint);

    let mut accounts = base();
    accounts.payment_token_program = TOKEN_2022;
    w.send(&[claim(accounts)], &[&referrer]).fails_with_anchor(ErrorCode::ConstraintTokenTokenProgram);

    assert_unchanged(&w, &before);
    claim_referral(&mut w, &d, &referrer, &buyer.pubkey()).succeeds();
    w.assert_conserved(&d);
}

// ---------------------------------------------------------------------------------------------
// sweep_protocol_fees
// ---------------------------------------------------------------------------------------------

/// constraint treasury_account.owner == marketplace.treasury @ WrongTreasury: fees go only to the
/// treasury (not the caller, not another vault); the vault itself is caught as a duplicate account.
fn sweep_rejects_account_not_owned_by_treasury(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    settled(&mut w, &d, &owner, None);
    let (_, other) = other_dataset(&mut w, "other");
    let caller = w.wallet();
    let caller_account = w.payment_account_of(&caller.pubkey());
    let treasury = w.treasury.pubkey();
    w.payment_account_of(&treasury);
    let before = snapshot(&w, &[d.address, d.escrow_vault, caller_account, other.escrow_vault]);
    let sweep = |accounts: data_market::accounts::SweepProtocolFees| build(accounts, instruction::SweepProtocolFees {});

    let mut accounts = sweep_accounts(caller.pubkey(), &d, &treasury);
    accounts.treasury_account = caller_account;
    w.send(&[sweep(accounts)], &[&caller]).fails_with(MarketError::WrongTreasury);

    let mut accounts = sweep_accounts(caller.pubkey(), &d, &treasury);
    accounts.treasury_account = other.escrow_vault;
    w.send(&[sweep(accounts)], &[&caller]).fails_with(MarketError::WrongTreasury);

    let mut accounts = sweep_accounts(caller.pubkey(), &d, &treasury);
    accounts.treasury_account = d.escrow_vault;
    w.send(&[sweep(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintDuplicateMutableAccount);

    assert_unchanged(&w, &before);
    w.sweep(&d).succeeds();
    assert_eq!(w.balance(&d.payment_account(&treasury)), fee_of(PRICE, PROTOCOL_FEE_BPS));
}

/// WrongTreasury follows the operator: after a treasury change the old treasury's account is refused.
fn sweep_follows_treasury_change(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    settled(&mut w, &d, &owner, None);
    let old = w.treasury.pubkey();
    w.payment_account_of(&old);
    let new = w.wallet();
    set_marketplace(&mut w, UpdateMarketplaceArgs { treasury: Some(new.pubkey()), ..Default::default() });
    let caller = w.wallet();
    w.send(&[sweep_protocol_fees(caller.pubkey(), &d, &old)], &[&caller]).fails_with(MarketError::WrongTreasury);
    w.payment_account_of(&new.pubkey());
    w.send(&[sweep_protocol_fees(caller.pubkey(), &d, &new.pubkey())], &[&caller]).succeeds();
    assert_eq!(w.balance(&d.payment_account(&new.pubkey())), fee_of(PRICE, PROTOCOL_FEE_BPS));
    assert_eq!(w.balance(&d.payment_account(&old)), 0);
}

/// ledger.sweep: nothing to sweep before any settlement and right after a sweep.
fn sweep_with_nothing_owed_fails(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    w.sweep(&d).fails_with(MarketError::NothingToSweep);
    assert_unchanged(&w, &before);
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.sweep(&d).succeeds();
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    w.sweep(&d).fails_with(MarketError::NothingToSweep);
    assert_unchanged(&w, &before);
    w.assert_conserved(&d);
}

/// has_one = escrow_vault / payment_mint on the sweep, and the treasury account's mint and token program.
fn sweep_rejects_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    settled(&mut w, &d, &owner, None);
    let (_, other) = other_dataset(&mut w, "other");
    let _rich = bought(&mut w, &other, None);
    let treasury = w.treasury.pubkey();
    w.payment_account_of(&treasury);
    let fake = w.create_mint(TOKEN, 6, MintExtra::None);
    let fake_account = w.fund(&fake, &treasury, 0);
    let caller = w.wallet();
    let before = snapshot(&w, &[d.address, d.escrow_vault, other.address, other.escrow_vault]);
    let sweep = |accounts: data_market::accounts::SweepProtocolFees| build(accounts, instruction::SweepProtocolFees {});

    let mut accounts = sweep_accounts(caller.pubkey(), &d, &treasury);
    accounts.escrow_vault = other.escrow_vault;
    w.send(&[sweep(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = sweep_accounts(caller.pubkey(), &d, &treasury);
    accounts.payment_mint = fake.mint;
    accounts.treasury_account = fake_account;
    w.send(&[sweep(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintHasOne);

    let mut accounts = sweep_accounts(caller.pubkey(), &d, &treasury);
    accounts.treasury_account = fake_account;
    w.send(&[sweep(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintTokenMint);

    let mut accounts = sweep_accounts(caller.pubkey(), &d, &treasury);
    accounts.payment_token_program = TOKEN_2022;
    w.send(&[sweep(accounts)], &[&caller]).fails_with_anchor(ErrorCode::ConstraintTokenTokenProgram);

    assert_unchanged(&w, &before);
    w.sweep(&d).succeeds();
    w.assert_conserved(&d);
    w.assert_conserved(&other);
}

/// Account<Dataset> / Account<Marketplace> owner and discriminator checks: with no PDA re-derivation,
/// these alone identify a genuine dataset and marketplace, so an account of another type is refused.
fn accounts_of_another_type_are_refused(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let buyer = delivered(&mut w, &d, &owner, None);
    w.warp(i64::from(DISPUTE_WINDOW));
    let caller = w.wallet();
    let license = d.license(&buyer.pubkey());
    let before = snapshot(&w, &[d.address, license]);

    // a licence (owned by the program, another discriminator) as the dataset
    let ix = build(
        data_market::accounts::SettleLicense { caller: caller.pubkey(), dataset: license, license },
        instruction::SettleLicense {},
    );
    w.send(&[ix], &[&caller]).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    // the vault (a token account) as the dataset
    let ix = build(
        data_market::accounts::SettleLicense { caller: caller.pubkey(), dataset: d.escrow_vault, license },
        instruction::SettleLicense {},
    );
    w.send(&[ix], &[&caller]).fails_with_anchor(ErrorCode::AccountOwnedByWrongProgram);
    // a dataset as the marketplace
    let newcomer = w.buyer(PRICE);
    let mut accounts = purchase_accounts(newcomer.pubkey(), &d, None);
    accounts.marketplace = d.address;
    send_purchase(&mut w, &newcomer, &d, purchase_ix(accounts, PRICE))
        .fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    // a dataset as the licence
    let ix = build(
        data_market::accounts::SettleLicense { caller: caller.pubkey(), dataset: d.address, license: d.address },
        instruction::SettleLicense {},
    );
    w.send(&[ix], &[&caller]).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    assert_unchanged(&w, &before);
    w.settle(&d, &buyer.pubkey()).succeeds();
}

// ---------------------------------------------------------------------------------------------
// Signatures and writability, across the money path
// ---------------------------------------------------------------------------------------------

/// Every instruction of the money path at a moment where each would succeed: a fresh purchase, a
/// renewal, a delivery, a due refund, a due settlement, a revenue claim, a referral claim and a sweep,
/// with the key that must sign each.
struct Due {
    w: World,
    d: DatasetHandle,
    cases: Vec<(&'static str, Instruction, Keypair)>,
}

fn everything_due(backend: Backend) -> Due {
    let Shop { mut w, owner, d } = shop(backend);
    let referrer = w.wallet();
    let referred = w.buyer(2 * PRICE);
    w.buy(&d, &referred, Some(referrer.pubkey())).succeeds();
    let unpaid = bought(&mut w, &d, None);
    w.deliver(&d, &owner, &referred.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW)); // past the delivery window of `unpaid` as well
    let to_settle = bought(&mut w, &d, None);
    w.deliver(&d, &owner, &to_settle.pubkey()).succeeds();
    w.settle(&d, &referred.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    let to_deliver = bought(&mut w, &d, None);
    let newcomer = w.buyer(PRICE);
    w.token_account(&newcomer.pubkey(), &d.license_mint, &TOKEN_2022);
    let caller = w.wallet();
    let treasury = w.treasury.pubkey();
    w.payment_account_of(&treasury);
    w.payment_account_of(&owner.pubkey());
    w.payment_account_of(&referrer.pubkey());
    let cases = vec![
        ("purchase", purchase_license(newcomer.pubkey(), &d, purchase_args(PRICE), None), newcomer),
        ("renew", renew_license(referred.pubkey(), &d, PRICE), referred.insecure_clone()),
        ("deliver", deliver_key(owner.pubkey(), &d, &to_deliver.pubkey(), SEALED_KEY), owner.insecure_clone()),
        ("refund", refund_license(caller.pubkey(), &d, &unpaid.pubkey()), caller.insecure_clone()),
        ("settle", settle_license(caller.pubkey(), &d, &to_settle.pubkey()), caller.insecure_clone()),
        ("claim", claim_revenue(owner.pubkey(), &d), owner.insecure_clone()),
        ("claim_referral", claim_referral_fee(referrer.pubkey(), &d, &referred.pubkey()), referrer),
        ("sweep", sweep_protocol_fees(caller.pubkey(), &d, &treasury), caller),
    ];
    Due { w, d, cases }
}

/// Signer<'info> on buyer, deliverer, recipient, referrer and caller: an account meta that does not sign
/// (the transaction paid and signed by someone else) fails with AccountNotSigner.
fn every_signer_must_sign(backend: Backend) {
    let Due { mut w, d, cases } = everything_due(backend);
    let payer = w.wallet();
    for (name, ix, signer) in &cases {
        let before = snapshot(&w, &[d.address, d.escrow_vault]);
        let result = w.send(&[unsigned(ix.clone(), &signer.pubkey())], &[&payer]);
        assert!(result.is_err(), "{name} succeeded without its signer's signature");
        result.fails_with_anchor(ErrorCode::AccountNotSigner);
        assert_unchanged(&w, &before);
    }
    // and signed, each goes through
    for (name, ix, signer) in &cases {
        let result = w.send(&[ix.clone()], &[&payer, signer]);
        assert!(result.is_ok(), "{name} failed when signed: {:?}", result.err().map(|f| f.meta.pretty_logs()));
        w.assert_conserved(&d);
    }
}

/// `mut` on every account the money path writes: the same account passed read-only is refused with
/// ConstraintMut (for the licence a purchase creates and its payer, the creation itself fails).
fn every_mut_account_must_be_writable(backend: Backend) {
    let Due { mut w, d, cases } = everything_due(backend);
    let payer = w.wallet();
    for (name, ix, signer) in &cases {
        // a purchase creates the licence, paid by the buyer: read-only, the creation itself fails
        // (PrivilegeEscalation in the SBF runtime; the native CPI stub reports it as a panic)
        let created = if *name == "purchase" { vec![d.license(&signer.pubkey()), signer.pubkey()] } else { vec![] };
        for index in 0..ix.accounts.len() {
            if !ix.accounts[index].is_writable {
                continue;
            }
            let mut read_only = ix.clone();
            read_only.accounts[index].is_writable = false;
            let key = read_only.accounts[index].pubkey;
            let before = snapshot(&w, &[d.address, d.escrow_vault]);
            let result = w.send(&[read_only], &[&payer, signer]);
            assert!(result.is_err(), "{name} succeeded with account {index} ({key}) read-only");
            if !created.contains(&key) {
                result.fails_with_anchor(ErrorCode::ConstraintMut);
            }
            assert_unchanged(&w, &before);
        }
        w.send(&[ix.clone()], &[&payer, signer]).succeeds();
        w.assert_conserved(&d);
    }
}

on_both_backends!(
    purchase_rejected_while_marketplace_paused,
    purchase_rejected_while_dataset_paused,
    purchase_rejected_above_buyer_max_price,
    purchase_rejected_when_supply_exhausted,
    purchase_rejects_all_zero_encryption_key,
    purchase_rejects_self_referral,
    purchase_rejects_substituted_payment_mint,
    purchase_rejects_substituted_license_mint,
    purchase_rejects_substituted_escrow_vault,
    purchase_rejects_payment_account_of_other_mint,
    purchase_rejects_wrong_payment_token_program,
    purchase_rejects_vault_as_payment_account,
    purchase_rejects_someone_elses_payment_account,
    second_purchase_by_same_buyer_fails,
    prefunded_license_address_does_not_block_purchase,
    purchase_rejects_license_pda_of_another_buyer,
    purchase_license_account_must_be_the_buyers_of_this_mint,
    purchase_without_enough_tokens_changes_nothing,
    free_dataset_is_bought_without_moving_tokens,
    referral_fee_is_capped_by_operator_cap,
    renew_rejects_undelivered_license,
    renew_rejects_perpetual_license,
    renew_rejects_refunded_license,
    renew_rejects_delivered_license_until_settled,
    renew_rejects_price_above_max,
    renew_rejected_while_dataset_paused,
    renew_rejected_while_marketplace_paused,
    renew_rejects_license_of_another_buyer_or_dataset,
    renew_rejects_substituted_accounts,
    renewal_extends_from_expiry_while_running_and_from_now_once_lapsed,
    renewal_payment_is_claimable_at_once,
    deliver_rejects_stranger_and_buyer,
    delivery_delegate_may_deliver_until_removed,
    deliver_rejects_all_zero_sealed_key,
    deliver_twice_fails,
    deliver_after_window_fails,
    deliver_after_refund_fails,
    deliver_rejects_license_of_another_dataset,
    refund_rejected_while_delivery_window_open,
    refund_rejected_after_delivery,
    refund_twice_fails,
    refund_to_account_not_owned_by_buyer_fails,
    refund_requires_buyer_to_hold_license_token,
    refund_license_account_must_be_the_buyers_of_this_mint,
    refund_rejects_substituted_vault_and_mints,
    refund_rejects_license_of_another_dataset,
    refund_repays_buyer_and_burns_license_token,
    settle_waits_for_dispute_window,
    settle_rejects_undelivered_license,
    settle_twice_fails,
    settle_rejects_refunded_license,
    settle_rejects_license_of_another_dataset,
    claim_rejects_non_recipient,
    claim_with_nothing_owed_fails,
    claim_to_account_owned_by_someone_else_fails,
    claim_rejects_substituted_accounts,
    referral_claim_rejects_stranger,
    referral_claim_waits_for_settlement,
    referral_claim_pays_once,
    referral_claim_with_zero_fee_fails,
    referral_claim_rejects_license_of_another_dataset,
    referral_claim_rejects_substituted_accounts,
    sweep_rejects_account_not_owned_by_treasury,
    sweep_follows_treasury_change,
    sweep_with_nothing_owed_fails,
    sweep_rejects_substituted_accounts,
    accounts_of_another_type_are_refused,
    every_signer_must_sign,
    every_mut_account_must_be_writable,
);
