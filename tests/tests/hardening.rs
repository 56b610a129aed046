//! Regression tests of the marketplace's defences against a determined user: referrals only by
//! registered front-ends and with a claim deadline, closes that give back every lamport of rent
//! and burn what a closed licence still carried, receipts and reviews that can be reclaimed only
//! when that does not erase live provenance, a term that runs from delivery, free licences that
//! need no payment account, moderation of content-hash squatting, paid and free ratings kept apart,
//! a warning about payment mints that can be frozen, and transactions that fit the packet size.
//! Each test fails if the rule it names is removed.
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use data_market::constants::{
    MAX_CID_LEN, MAX_METADATA_URI_LEN, MAX_RECIPIENTS, MAX_TAGS, MAX_TITLE_LEN, REFERRAL_CLAIM_WINDOW_SECS, TAG_LEN,
};
use data_market::errors::MarketError;
use data_market::events::DatasetRegistered;
use data_market::instruction;
use data_market::instructions::{PurchaseLicenseArgs, RecordUsageArgs, ReviewArgs, UpdateDatasetArgs};
use data_market::state::{ContentHashRecord, DatasetState, FrontEnd, Recipient, UsagePurpose};
use market_tests::tokens::{MintExtra, TOKEN};
use market_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// The largest transaction the network accepts (IPv6 MTU minus headers).
const PACKET_DATA_SIZE: usize = 1232;
const MODEL: [u8; 32] = [0x4d; 32];

fn operator(w: &World) -> Keypair {
    w.operator.insecure_clone()
}

fn referred_purchase(w: &mut World, d: &DatasetHandle, buyer: &Keypair, referrer: &Pubkey) -> TxResult {
    w.send(&purchase_instructions(buyer.pubkey(), d, purchase_args(u64::MAX), Some(*referrer)), &[buyer])
}

fn record(w: &mut World, d: &DatasetHandle, holder: &Keypair) -> (TxResult, Pubkey) {
    let license = w.license(&d.license(&holder.pubkey()));
    let accounts = record_usage_accounts(holder.pubkey(), d, license.serial, license.usage_count, None);
    let receipt = accounts.receipt;
    let args = RecordUsageArgs { purpose: UsagePurpose::Training, model_hash: MODEL, run_id: [1; 32] };
    (w.send(&[record_usage(accounts, args)], &[holder]), receipt)
}

fn review_args(rating: u8) -> ReviewArgs {
    ReviewArgs { rating, text_hash: [2; 32], uri: "ipfs://bafkreireview".into() }
}

fn retire(w: &mut World, owner: &Keypair, d: &DatasetHandle) {
    w.send(&[set_dataset_state(owner.pubkey(), d, DatasetState::Retired)], &[owner]).succeeds();
}

// ---------------------------------------------------------------------------------------------
// Referrers
// ---------------------------------------------------------------------------------------------

/// Account<FrontEnd> on purchase_license's referrer: only a wallet the operator registered earns a
/// referral fee. A buyer cannot name a second wallet of its own (or any unregistered key, or an
/// account of another type), a registered front-end cannot refer its own purchase, and only the
/// operator registers (never the default key, never twice) and removes front-ends.
fn referrer_must_be_a_registered_front_end(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let op = operator(&w);
    let buyer = w.buyer(PRICE);
    let second_wallet = w.wallet();
    let watched = [d.address, d.license(&buyer.pubkey()), d.escrow_vault];
    let before = snapshot(&w, &watched);
    referred_purchase(&mut w, &d, &buyer, &second_wallet.pubkey()).fails_with_anchor(ErrorCode::AccountNotInitialized);
    let mut accounts = purchase_accounts(buyer.pubkey(), &d, None);
    accounts.referrer = Some(d.address);
    let disguised = build(accounts, instruction::PurchaseLicense { args: purchase_args(u64::MAX) });
    let create = create_license_account(buyer.pubkey(), &d, &buyer.pubkey());
    w.send(&[create, disguised], &[&buyer]).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    assert_unchanged(&w, &before);

    // registration is the operator's
    let stranger = w.wallet();
    w.send(&[register_front_end(stranger.pubkey(), second_wallet.pubkey())], &[&stranger])
        .fails_with(MarketError::NotMarketplaceAuthority);
    w.send(&[register_front_end(op.pubkey(), Pubkey::default())], &[&op]).fails_with(MarketError::InvalidReferrer);
    let front_end = w.wallet();
    w.send(&[register_front_end(op.pubkey(), front_end.pubkey())], &[&op]).succeeds();
    let record: FrontEnd = w.account(&front_end_address(&front_end.pubkey()));
    assert_eq!((record.wallet, record.registered_at), (front_end.pubkey(), w.now()));
    w.warp(1);
    w.send(&[register_front_end(op.pubkey(), front_end.pubkey())], &[&op]).fails_with(MarketError::InvalidReferrer);

    // a registered front-end buying through itself
    w.fund_payment(&front_end.pubkey(), PRICE);
    referred_purchase(&mut w, &d, &front_end, &front_end.pubkey()).fails_with(MarketError::SelfReferral);

    // a real referral, then the front-end is removed: no new referrals, the earned fee stays claimable
    referred_purchase(&mut w, &d, &buyer, &front_end.pubkey()).succeeds();
    w.send(&[remove_front_end(stranger.pubkey(), &front_end.pubkey())], &[&stranger])
        .fails_with(MarketError::NotMarketplaceAuthority);
    w.send(&[remove_front_end(op.pubkey(), &front_end.pubkey())], &[&op]).succeeds();
    assert!(!w.exists(&front_end_address(&front_end.pubkey())));
    let late = w.buyer(PRICE);
    referred_purchase(&mut w, &d, &late, &front_end.pubkey()).fails_with_anchor(ErrorCode::AccountNotInitialized);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.payment_account_of(&front_end.pubkey());
    let fee = w.license(&d.license(&buyer.pubkey())).referral_fee;
    assert!(fee > 0);
    let before = w.balance(&d.payment_account(&front_end.pubkey()));
    w.send(&[claim_referral_fee(front_end.pubkey(), &d, &buyer.pubkey())], &[&front_end]).succeeds();
    assert_eq!(w.balance(&d.payment_account(&front_end.pubkey())), before + fee);
}

/// forfeit_referral_fee: a referral fee its front-end never claims does not lock the licence (and
/// with it the dataset) forever. Once REFERRAL_CLAIM_WINDOW_SECS have passed since settlement anyone
/// may hand it to the dataset's recipients; before that, or on an unsettled or resolved licence, it
/// is refused by name, and a forfeited fee can no longer be claimed.
fn unclaimed_referral_fee_is_forfeited_after_the_claim_window(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let front_end = w.wallet();
    let keeper = w.wallet();
    let buyer = bought(&mut w, &d, Some(front_end.pubkey()));
    let forfeit = |w: &mut World| w.send(&[forfeit_referral_fee(keeper.pubkey(), &d, &buyer.pubkey())], &[&keeper]);
    forfeit(&mut w).fails_with(MarketError::LicenseNotSettled);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!(license.settled_at, w.now());
    let fee = license.referral_fee;
    w.send(&[close_license(buyer.pubkey(), &d)], &[&buyer]).fails_with(MarketError::LicenseStillOwed);

    w.warp(REFERRAL_CLAIM_WINDOW_SECS - 1);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey())]);
    forfeit(&mut w).fails_with(MarketError::ReferralClaimWindowOpen);
    assert_unchanged(&w, &before);
    w.warp(1);
    let claimable_before = w.dataset(&d.address).ledger.claimable[0];
    forfeit(&mut w).succeeds();
    let ledger = w.dataset(&d.address).ledger;
    assert_eq!(ledger.referral_fees_owed, 0);
    assert_eq!(ledger.claimable[0], claimable_before + fee);
    assert!(w.license(&d.license(&buyer.pubkey())).referral_fee_resolved);
    w.warp(1);
    forfeit(&mut w).fails_with(MarketError::ReferralFeeResolved);
    w.payment_account_of(&front_end.pubkey());
    w.send(&[claim_referral_fee(front_end.pubkey(), &d, &buyer.pubkey())], &[&front_end])
        .fails_with(MarketError::NothingToClaim);
    w.assert_conserved(&d);

    // nothing is owed any more: the licence closes, and the dataset empties and closes
    w.send(&[close_license(buyer.pubkey(), &d)], &[&buyer]).succeeds();
    w.claim(&d, &owner).succeeds();
    w.sweep(&d).succeeds();
    retire(&mut w, &owner, &d);
    w.payment_account_of(&owner.pubkey());
    w.send(&[close_dataset(owner.pubkey(), &d)], &[&owner]).succeeds();
}

// ---------------------------------------------------------------------------------------------
// Closing and rent
// ---------------------------------------------------------------------------------------------

/// allow_list_entries == 0 in close_dataset: the entries' rent belongs to the owner, so a dataset
/// cannot close (and strand them) while any is left; removing them lets it close.
fn allow_list_entries_must_be_removed_before_the_dataset_closes(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.allow_list_enabled = true);
    let listed = [w.wallet(), w.wallet()];
    for buyer in &listed {
        w.send(&[add_to_allow_list(owner.pubkey(), &d, buyer.pubkey())], &[&owner]).succeeds();
    }
    assert_eq!(w.dataset(&d.address).allow_list_entries, 2);
    retire(&mut w, &owner, &d);
    w.payment_account_of(&owner.pubkey());
    let before = snapshot(&w, &[d.address, d.escrow_vault]);
    w.send(&[close_dataset(owner.pubkey(), &d)], &[&owner]).fails_with(MarketError::DatasetStillInUse);
    assert_unchanged(&w, &before);
    w.send(&[remove_from_allow_list(owner.pubkey(), &d, &listed[0].pubkey())], &[&owner]).succeeds();
    w.send(&[close_dataset(owner.pubkey(), &d)], &[&owner]).fails_with(MarketError::DatasetStillInUse);
    w.send(&[remove_from_allow_list(owner.pubkey(), &d, &listed[1].pubkey())], &[&owner]).succeeds();
    assert_eq!(w.dataset(&d.address).allow_list_entries, 0);
    w.send(&[close_dataset(owner.pubkey(), &d)], &[&owner]).succeeds();
}

/// close_license burns what the licence still carries: closing a metered licence with unused
/// credits and buying one credit again does not revive the old credits (the new licence records
/// exactly one use), and the mint's supply is only the new licence's credit.
fn closing_a_metered_licence_burns_its_unused_credits(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.terms.metered = true);
    let buyer = w.buyer(4 * PRICE);
    let three = PurchaseLicenseArgs { credits: 3, ..purchase_args(u64::MAX) };
    w.send(&purchase_instructions(buyer.pubkey(), &d, three, None), &[&buyer]).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    record(&mut w, &d, &buyer).0.succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &buyer.pubkey()).succeeds();
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 2);
    w.send(&[close_license(buyer.pubkey(), &d)], &[&buyer]).succeeds();
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 0);
    assert_eq!(w.mint_supply(&d.license_mint), 0);

    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    record(&mut w, &d, &buyer).0.succeeds();
    let (second, receipt) = record(&mut w, &d, &buyer);
    second.fails_with(MarketError::NoCreditsLeft);
    assert!(!w.exists(&receipt));
    assert_eq!(w.license(&d.license(&buyer.pubkey())).usage_count, 1);
    assert_eq!(w.mint_supply(&d.license_mint), 0);
}

/// close_usage_receipt: receipts are provenance of a licence in force, so their holder reclaims
/// their rent only once the licence has expired, been refunded or closed; a stranger cannot, and
/// the licence shown must be the receipt's own.
fn receipts_close_only_once_their_licence_ends(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.terms.duration_secs = 10 * DAY as u64);
    let holder = delivered(&mut w, &d, &owner, None);
    let (result, receipt) = record(&mut w, &d, &holder);
    result.succeeds();
    let other = delivered(&mut w, &d, &owner, None);
    let license = d.license(&holder.pubkey());
    let close = |license: Pubkey| close_usage_receipt(holder.pubkey(), license, receipt);
    w.send(&[close(license)], &[&holder]).fails_with(MarketError::LicenseStillValid);
    let stranger = w.wallet();
    w.send(&[close_usage_receipt(stranger.pubkey(), license, receipt)], &[&stranger])
        .fails_with(MarketError::NotLicenseBuyer);
    w.send(&[close(d.license(&other.pubkey()))], &[&holder]).fails_with(MarketError::WrongLicense);
    assert!(w.exists(&receipt));

    // expired: the rent goes back to the holder
    w.warp(10 * DAY);
    let rent = w.lamports(&receipt);
    let payer = w.wallet();
    let before = w.lamports(&holder.pubkey());
    w.send(&[close(license)], &[&payer, &holder]).succeeds();
    assert_eq!(w.lamports(&holder.pubkey()), before + rent);
    assert!(!w.exists(&receipt));
}

/// close_usage_receipt on a closed licence: once the licence account is gone (nothing owed, rent
/// back) its receipts close; when the buyer has bought again, the licence at that address is a newer
/// one, and the earlier licence's receipts still close while the new licence's stay.
fn receipts_of_a_closed_licence_close(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let holder = delivered(&mut w, &d, &owner, None);
    let (result, first) = record(&mut w, &d, &holder);
    result.succeeds();
    let (result, second) = record(&mut w, &d, &holder);
    result.succeeds();
    let license = d.license(&holder.pubkey());
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &holder.pubkey()).succeeds();
    let close = |receipt: Pubkey| close_usage_receipt(holder.pubkey(), license, receipt);
    w.send(&[close(first)], &[&holder]).fails_with(MarketError::LicenseStillValid);
    w.send(&[close_license(holder.pubkey(), &d)], &[&holder]).succeeds();
    w.send(&[close(first)], &[&holder]).succeeds();
    assert!(!w.exists(&first));

    w.fund_payment(&holder.pubkey(), PRICE);
    w.buy(&d, &holder, None).succeeds();
    w.deliver(&d, &owner, &holder.pubkey()).succeeds();
    let (result, current) = record(&mut w, &d, &holder);
    result.succeeds();
    w.send(&[close(second)], &[&holder]).succeeds();
    assert!(!w.exists(&second));
    w.send(&[close(current)], &[&holder]).fails_with(MarketError::LicenseStillValid);
}

/// close_review: the author withdraws its review (rent back) and its rating leaves the dataset's
/// aggregate; nobody else can, the dataset shown must be the review's, and a review of a dataset
/// that has since closed still closes.
fn reviews_close_and_leave_the_rating(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let reviewer = delivered(&mut w, &d, &owner, None);
    let other = dataset_of(&mut w, &owner, "other");
    w.send(&[submit_review(reviewer.pubkey(), &d, review_args(2))], &[&reviewer]).succeeds();
    assert_eq!(w.dataset(&d.address).ratings.paid.count, 1);
    let stranger = w.wallet();
    let review = review_address(&d.license(&reviewer.pubkey()));
    let stolen = build(
        data_market::accounts::CloseReview { reviewer: stranger.pubkey(), review, dataset: d.address },
        instruction::CloseReview {},
    );
    w.send(&[stolen], &[&stranger]).fails_with(MarketError::NotReviewAuthor);
    let elsewhere = build(
        data_market::accounts::CloseReview { reviewer: reviewer.pubkey(), review, dataset: other.address },
        instruction::CloseReview {},
    );
    w.send(&[elsewhere], &[&reviewer]).fails_with(MarketError::WrongDataset);
    let rent = w.lamports(&review);
    let payer = w.wallet();
    let before = w.lamports(&reviewer.pubkey());
    w.send(&[close_review(reviewer.pubkey(), &d)], &[&payer, &reviewer]).succeeds();
    assert_eq!(w.lamports(&reviewer.pubkey()), before + rent);
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (0, 0));

    // reviewed again, then the dataset closes: the review still closes
    w.send(&[submit_review(reviewer.pubkey(), &d, review_args(4))], &[&reviewer]).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(&d, &reviewer.pubkey()).succeeds();
    w.claim(&d, &owner).succeeds();
    w.sweep(&d).succeeds();
    retire(&mut w, &owner, &d);
    w.payment_account_of(&owner.pubkey());
    w.send(&[close_dataset(owner.pubkey(), &d)], &[&owner]).succeeds();
    w.send(&[close_review(reviewer.pubkey(), &d)], &[&reviewer]).succeeds();
    assert!(!w.exists(&review));
}

fn dataset_of(w: &mut World, owner: &Keypair, label: &str) -> DatasetHandle {
    w.register_with(owner, dataset_args(label, single_owner(&owner.pubkey())))
}

/// has_one = dataset on forfeit_referral_fee; seeds = [LICENSE_MINT, license.dataset], token::mint
/// and token::authority = buyer on close_license: a licence cannot be forfeited through another
/// dataset's ledger, nor closed by burning another dataset's or another holder's tokens.
fn forfeit_and_close_reject_substituted_accounts(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let other = dataset_of(&mut w, &owner, "other");
    let front_end = w.wallet();
    let buyer = w.buyer(2 * PRICE);
    let neighbour = settled(&mut w, &d, &owner, None);
    for dataset in [&d, &other] {
        w.buy(dataset, &buyer, Some(front_end.pubkey())).succeeds();
        w.deliver(dataset, &owner, &buyer.pubkey()).succeeds();
    }
    w.warp(i64::from(DISPUTE_WINDOW));
    for dataset in [&d, &other] {
        w.settle(dataset, &buyer.pubkey()).succeeds();
    }
    w.warp(REFERRAL_CLAIM_WINDOW_SECS);
    let keeper = w.wallet();
    let before = snapshot(&w, &[d.address, other.address, d.license(&buyer.pubkey())]);
    let crossed = build(
        data_market::accounts::ForfeitReferralFee {
            caller: keeper.pubkey(),
            dataset: other.address,
            license: d.license(&buyer.pubkey()),
        },
        instruction::ForfeitReferralFee {},
    );
    w.send(&[crossed], &[&keeper]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    assert_unchanged(&w, &before);
    w.send(&[forfeit_referral_fee(keeper.pubkey(), &d, &buyer.pubkey())], &[&keeper]).succeeds();

    let close_with = |accounts: data_market::accounts::CloseLicense| build(accounts, instruction::CloseLicense {});
    let base = || close_license_accounts(buyer.pubkey(), &d);
    let before = snapshot(&w, &[d.address, d.license(&buyer.pubkey()), d.license_account(&buyer.pubkey())]);
    let cases = [
        (
            data_market::accounts::CloseLicense { license_mint: other.license_mint, ..base() },
            ErrorCode::ConstraintSeeds,
        ),
        (
            data_market::accounts::CloseLicense {
                buyer_license_account: other.license_account(&buyer.pubkey()),
                ..base()
            },
            ErrorCode::ConstraintTokenMint,
        ),
        (
            data_market::accounts::CloseLicense {
                buyer_license_account: d.license_account(&neighbour.pubkey()),
                ..base()
            },
            ErrorCode::ConstraintTokenOwner,
        ),
    ];
    for (accounts, error) in cases {
        w.send(&[close_with(accounts)], &[&buyer]).fails_with_anchor(error);
    }
    assert_unchanged(&w, &before);
    w.send(&[close_license(buyer.pubkey(), &d)], &[&buyer]).succeeds();
    assert_eq!(w.balance(&d.license_account(&neighbour.pubkey())), 1);
    assert_eq!(w.balance(&other.license_account(&buyer.pubkey())), 1);
}

/// seeds = [FRONT_END, wallet] on register_front_end and Account<FrontEnd> on remove_front_end: a
/// registration sits at its wallet's address, and only a front-end record can be removed.
fn front_end_records_sit_at_their_wallet_address(backend: Backend) {
    let Shop { mut w, d, .. } = shop(backend);
    let op = operator(&w);
    let wallet = w.wallet();
    let mut accounts = data_market::accounts::RegisterFrontEnd {
        authority: op.pubkey(),
        marketplace: marketplace_address(),
        front_end: front_end_address(&Pubkey::new_unique()),
        system_program: anchor_lang::system_program::ID,
    };
    let ix = build(accounts.clone(), instruction::RegisterFrontEnd { wallet: wallet.pubkey() });
    w.send(&[ix], &[&op]).fails_with_anchor(ErrorCode::ConstraintSeeds);
    accounts.front_end = front_end_address(&wallet.pubkey());
    w.send(&[build(accounts, instruction::RegisterFrontEnd { wallet: wallet.pubkey() })], &[&op]).succeeds();
    let not_a_front_end = build(
        data_market::accounts::RemoveFrontEnd {
            authority: op.pubkey(),
            marketplace: marketplace_address(),
            front_end: d.address,
        },
        instruction::RemoveFrontEnd {},
    );
    w.send(&[not_a_front_end], &[&op]).fails_with_anchor(ErrorCode::AccountDiscriminatorMismatch);
    assert!(w.exists(&d.address));
}

// ---------------------------------------------------------------------------------------------
// Terms and payments
// ---------------------------------------------------------------------------------------------

/// deliver_key sets expires_at: the term runs from delivery, so a one-day licence delivered late in
/// its delivery window still lasts a whole day (before, it could expire before its key arrived).
fn a_short_licence_delivered_late_lasts_its_whole_term(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.terms.duration_secs = DAY as u64);
    let buyer = bought(&mut w, &d, None);
    assert_eq!(w.license(&d.license(&buyer.pubkey())).expires_at, 0);
    w.warp(DAY + DAY / 2);
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!(license.expires_at, license.delivered_at + DAY);
    w.warp(DAY - 1);
    record(&mut w, &d, &buyer).0.succeeds();
    w.warp(1);
    record(&mut w, &d, &buyer).0.fails_with(MarketError::LicenseExpired);
}

/// Option<payment account> in purchase_license and refund_license: a free licence needs no payment
/// token account at all (a new wallet can take it); a paid purchase without one is refused by name.
fn a_free_licence_needs_no_payment_account(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.price = 0);
    let newcomer = w.wallet();
    assert!(!w.exists(&d.payment_account(&newcomer.pubkey())));
    let mut accounts = purchase_accounts(newcomer.pubkey(), &d, None);
    accounts.buyer_payment_account = None;
    let purchase = build(accounts, instruction::PurchaseLicense { args: purchase_args(0) });
    let create = create_license_account(newcomer.pubkey(), &d, &newcomer.pubkey());
    w.send(&[create, purchase], &[&newcomer]).succeeds();
    assert_eq!(w.balance(&d.license_account(&newcomer.pubkey())), 1);
    assert!(!w.exists(&d.payment_account(&newcomer.pubkey())));
    // never delivered: the refund of nothing needs no account either
    w.warp(i64::from(DELIVERY_WINDOW) + 1);
    let mut accounts = refund_accounts(newcomer.pubkey(), &d, &newcomer.pubkey());
    accounts.buyer_payment_account = None;
    w.send(&[build(accounts, instruction::RefundLicense {})], &[&newcomer]).succeeds();

    // a paid dataset
    let paid = dataset_of(&mut w, &owner, "paid");
    let buyer = w.buyer(PRICE);
    let mut accounts = purchase_accounts(buyer.pubkey(), &paid, None);
    accounts.buyer_payment_account = None;
    let purchase = build(accounts, instruction::PurchaseLicense { args: purchase_args(PRICE) });
    let create = create_license_account(buyer.pubkey(), &paid, &buyer.pubkey());
    w.send(&[create, purchase], &[&buyer]).fails_with(MarketError::PaymentAccountRequired);
}

/// Review.paid: ratings from free licences are kept apart from paid ones, so free copies cannot
/// flood a paid dataset's score.
fn paid_and_free_ratings_are_kept_apart(backend: Backend) {
    let Shop { mut w, owner, d } = shop_with(backend, |args| args.price = 0);
    let free = delivered(&mut w, &d, &owner, None);
    w.send(&[submit_review(free.pubkey(), &d, review_args(5))], &[&free]).succeeds();
    let args = UpdateDatasetArgs { price: Some(PRICE), ..Default::default() };
    w.send(&[update_dataset(owner.pubkey(), &d, args)], &[&owner]).succeeds();
    let paying = delivered(&mut w, &d, &owner, None);
    w.send(&[submit_review(paying.pubkey(), &d, review_args(1))], &[&paying]).succeeds();
    w.send(&[update_review(paying.pubkey(), &d, review_args(2))], &[&paying]).succeeds();
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.paid.sum), (1, 2));
    assert_eq!((ratings.free.count, ratings.free.sum), (1, 5));
    w.send(&[close_review(free.pubkey(), &d)], &[&free]).succeeds();
    let ratings = w.dataset(&d.address).ratings;
    assert_eq!((ratings.paid.count, ratings.free.count), (1, 0));
}

/// DatasetRegistered.payment_mint_freezable: a payment mint with a freeze authority is accepted
/// (USDC has one) but flagged, so clients can warn that its issuer could freeze the escrow.
fn registration_flags_a_freezable_payment_mint(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let args = dataset_args("plain", single_owner(&owner.pubkey()));
    let (_, result) = w.try_register(&owner, args);
    let events = events_of::<DatasetRegistered>(&result.succeeds());
    assert_eq!(events.len(), 1);
    assert!(!events[0].payment_mint_freezable);

    let freezable = w.create_mint(TOKEN, 6, MintExtra::FreezeAuthority);
    let d = DatasetHandle::derive(content_hash("freezable"), owner.pubkey(), freezable.mint, TOKEN);
    let ix = register_dataset(owner.pubkey(), &d, dataset_args("freezable", single_owner(&owner.pubkey())));
    let events = events_of::<DatasetRegistered>(&w.send(&[ix], &[&owner]).succeeds());
    assert!(events[0].payment_mint_freezable);
}

// ---------------------------------------------------------------------------------------------
// Content-hash squatting
// ---------------------------------------------------------------------------------------------

/// ContentHashRecord + release_content_hash: a hash registers once; when someone registers data that
/// is not theirs, the operator revokes that dataset and releases the hash to the rightful owner, who
/// then registers it (only they, only after the revocation, only by the operator's hand).
fn a_squatted_content_hash_is_released_to_its_owner(backend: Backend) {
    let mut w = World::new(backend);
    let op = operator(&w);
    let squatter = w.wallet();
    let rightful = w.wallet();
    let bystander = w.wallet();
    let squatted = w.register(&squatter, "corpus");
    let record: ContentHashRecord = w.account(&squatted.content_hash_record);
    assert_eq!((record.dataset, record.claimant), (squatted.address, Pubkey::default()));
    let claim = |w: &mut World, who: &Keypair| w.try_register(who, dataset_args("corpus", single_owner(&who.pubkey())));
    claim(&mut w, &rightful).1.fails_with(MarketError::ContentHashAlreadyRegistered);

    let release = |authority: &Keypair| release_content_hash(authority.pubkey(), &squatted, rightful.pubkey());
    w.send(&[release(&op)], &[&op]).fails_with(MarketError::DatasetNotRevoked);
    w.send(&[revoke_dataset(op.pubkey(), &squatted, 451)], &[&op]).succeeds();
    w.send(&[release(&squatter)], &[&squatter]).fails_with(MarketError::NotMarketplaceAuthority);
    let unrelated = w.register(&bystander, "unrelated");
    let mut accounts = data_market::accounts::ReleaseContentHash {
        authority: op.pubkey(),
        marketplace: marketplace_address(),
        content_hash_record: squatted.content_hash_record,
        dataset: unrelated.address,
    };
    let mismatched = build(accounts.clone(), instruction::ReleaseContentHash { claimant: rightful.pubkey() });
    w.send(&[mismatched], &[&op]).fails_with_anchor(ErrorCode::ConstraintHasOne);
    accounts.dataset = squatted.address;
    let to_nobody = build(accounts, instruction::ReleaseContentHash { claimant: Pubkey::default() });
    w.send(&[to_nobody], &[&op]).fails_with(MarketError::NotHashClaimant);
    w.send(&[release(&op)], &[&op]).succeeds();
    assert_eq!(w.account::<ContentHashRecord>(&squatted.content_hash_record).claimant, rightful.pubkey());

    claim(&mut w, &bystander).1.fails_with(MarketError::ContentHashAlreadyRegistered);
    claim(&mut w, &squatter).1.fails_with(MarketError::ContentHashAlreadyRegistered);
    let (owned, result) = claim(&mut w, &rightful);
    result.succeeds();
    assert_eq!(w.dataset(&owned.address).owner, rightful.pubkey());
    let record: ContentHashRecord = w.account(&owned.content_hash_record);
    assert_eq!((record.dataset, record.claimant), (owned.address, Pubkey::default()));
    // the squatter's revoked dataset stays until it is closed, with its buyers' escrow
    assert_eq!(w.dataset(&squatted.address).state, DatasetState::Revoked);
}

// ---------------------------------------------------------------------------------------------
// Transaction size
// ---------------------------------------------------------------------------------------------

/// Every bound on register_dataset's inputs together still fits one packet: the longest title,
/// metadata URI and CID, every tag at full length, the most recipients and a previous version,
/// behind the compute-budget instructions clients add.
fn the_largest_registration_fits_a_packet(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let previous = w.register(&owner, "v1");
    let mut recipients = vec![Recipient { wallet: owner.pubkey(), bps: 10_000 - (MAX_RECIPIENTS as u16 - 1) }];
    recipients.extend((1..MAX_RECIPIENTS).map(|_| Recipient { wallet: Pubkey::new_unique(), bps: 1 }));
    let mut args = dataset_args("largest", recipients);
    args.title = "t".repeat(MAX_TITLE_LEN);
    args.metadata_uri = "u".repeat(MAX_METADATA_URI_LEN);
    args.ciphertext_cid = "c".repeat(MAX_CID_LEN);
    args.tags = (0..MAX_TAGS).map(|i| format!("{i}").repeat(TAG_LEN)).collect();
    let d = w.handle("largest", &owner.pubkey());
    let mut accounts = register_accounts(owner.pubkey(), &d);
    accounts.previous_version = Some(previous.address);
    let ix = build(accounts, instruction::RegisterDataset { args });
    let [limit, price] = compute_budget_instructions();
    let tx = w.transaction(&[limit, price, ix.clone()], &[&owner]);
    let size = bincode::serialize(&tx).unwrap().len();
    assert!(size <= PACKET_DATA_SIZE, "the largest registration is {size} bytes (limit {PACKET_DATA_SIZE})");
    w.send(&[ix], &[&owner]).succeeds();
}

on_both_backends!(
    referrer_must_be_a_registered_front_end,
    unclaimed_referral_fee_is_forfeited_after_the_claim_window,
    allow_list_entries_must_be_removed_before_the_dataset_closes,
    closing_a_metered_licence_burns_its_unused_credits,
    receipts_close_only_once_their_licence_ends,
    receipts_of_a_closed_licence_close,
    reviews_close_and_leave_the_rating,
    forfeit_and_close_reject_substituted_accounts,
    front_end_records_sit_at_their_wallet_address,
    a_short_licence_delivered_late_lasts_its_whole_term,
    a_free_licence_needs_no_payment_account,
    paid_and_free_ratings_are_kept_apart,
    a_squatted_content_hash_is_released_to_its_owner,
    the_largest_registration_fits_a_packet,
);

/// Events are read from the `Program data:` log lines, which only the SBF VM records (the native
/// builtin's logging stub prints them instead), so this one runs on the SBF build alone.
#[test]
fn sbf_registration_flags_a_freezable_payment_mint() {
    registration_flags_a_freezable_payment_mint(Backend::Sbf)
}

/// pda::canonical_bump: a purchase costs about the same whatever the buyer's key (each key needs a
/// different number of bump candidates for its licence address; a candidate used to cost 1,500
/// compute units). Compute units are those of the SBF VM, so this one runs on the SBF build alone.
#[test]
fn sbf_purchase_costs_about_the_same_for_every_buyer_key() {
    let Shop { mut w, d, .. } = shop(Backend::Sbf);
    let mut units = Vec::new();
    for _ in 0..24 {
        let buyer = w.buyer(PRICE);
        w.send(&[create_license_account(buyer.pubkey(), &d, &buyer.pubkey())], &[&buyer]).succeeds();
        let meta = w.send(&[purchase_license(buyer.pubkey(), &d, purchase_args(PRICE), None)], &[&buyer]).succeeds();
        units.push(meta.compute_units_consumed);
    }
    let (min, max) = (*units.iter().min().unwrap(), *units.iter().max().unwrap());
    assert!(max - min <= 2_000, "purchase compute units range from {min} to {max}");
    assert!(max <= 35_000, "a returning buyer's purchase costs up to {max} compute units");
}
