//! One long marketplace story on both backends: a dataset paid in a classic SPL mint with three revenue
//! recipients, five buyers (two referred, one never delivered and refunded), a price and fee change,
//! a renewal, settlements at different times, repeated claims, referral claims and a sweep; and a
//! second dataset paid in a Token-2022 mint running alongside. The test keeps its own book of what
//! every ledger slot and every wallet should hold (floor of each bps share, the rounding remainder to
//! the first recipient) and checks the program against it after every step.
use anchor_lang::prelude::Pubkey;
use data_market::domain::lifecycle::LicenseState;
use data_market::instructions::{UpdateDatasetArgs, UpdateMarketplaceArgs};
use data_market::state::Recipient;
use market_tests::tokens::{MintExtra, PaymentMint, TOKEN, TOKEN_2022};
use market_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

const HOUR: i64 = 60 * 60;
/// Prices that do not divide evenly, so every split leaves a rounding remainder.
const PRICE_A: u64 = 10_000_003;
const PRICE_A_RAISED: u64 = 12_345_679;
const PRICE_B: u64 = 7_777_777;
const RAISED_PROTOCOL_FEE_BPS: u16 = 400;

/// floor(amount * bps / 10_000), computed in 128 bits (the program does it differently).
fn share(amount: u64, bps: u16) -> u64 {
    (u128::from(amount) * u128::from(bps) / 10_000) as u64
}

/// The expected split: each recipient its floor share, the remainder to the first.
fn split(net: u64, shares: &[u16]) -> Vec<u64> {
    let mut parts: Vec<u64> = shares.iter().map(|bps| share(net, *bps)).collect();
    let remainder = net - parts.iter().sum::<u64>();
    parts[0] += remainder;
    parts
}

#[derive(Clone, Copy, Debug)]
struct Sale {
    price: u64,
    protocol_fee: u64,
    referral_fee: u64,
    state: LicenseState,
}

/// What one dataset's ledger, vault and payees should hold, kept by the test alone.
struct Book {
    d: DatasetHandle,
    mint: PaymentMint,
    shares: Vec<u16>,
    price: u64,
    protocol_bps: u16,
    referral_bps: u16,
    sales: Vec<(Pubkey, Sale)>,
    escrowed: u64,
    claimable: Vec<u64>,
    referral_owed: u64,
    protocol_owed: u64,
    paid_in: u64,
    refunded: u64,
    paid_to_recipients: Vec<u64>,
    paid_to_referrer: u64,
    paid_to_treasury: u64,
}

impl Book {
    fn new(d: DatasetHandle, mint: PaymentMint, shares: Vec<u16>, price: u64) -> Self {
        let n = shares.len();
        Book {
            d,
            mint,
            shares,
            price,
            protocol_bps: PROTOCOL_FEE_BPS,
            referral_bps: REFERRAL_FEE_BPS,
            sales: Vec::new(),
            escrowed: 0,
            claimable: vec![0; n],
            referral_owed: 0,
            protocol_owed: 0,
            paid_in: 0,
            refunded: 0,
            paid_to_recipients: vec![0; n],
            paid_to_referrer: 0,
            paid_to_treasury: 0,
        }
    }

    fn sale(&mut self, buyer: &Pubkey) -> &mut Sale {
        &mut self.sales.iter_mut().find(|(b, _)| b == buyer).expect("a sale of this buyer").1
    }

    fn accrue(&mut self, net: u64) {
        for (owed, part) in self.claimable.iter_mut().zip(split(net, &self.shares)) {
            *owed += part;
        }
    }

    fn vault(&self) -> u64 {
        self.escrowed + self.claimable.iter().sum::<u64>() + self.referral_owed + self.protocol_owed
    }

    fn paid_out(&self) -> u64 {
        self.refunded + self.paid_to_recipients.iter().sum::<u64>() + self.paid_to_referrer + self.paid_to_treasury
    }
}

fn payment_mint_copy(mint: &PaymentMint) -> PaymentMint {
    PaymentMint { authority: mint.authority.insecure_clone(), ..*mint }
}

/// A wallet holding `amount` of the book's payment mint.
fn funded(w: &mut World, book: &Book, amount: u64) -> Keypair {
    let wallet = w.wallet();
    w.fund(&book.mint, &wallet.pubkey(), amount);
    wallet
}

/// Everything the program holds for this dataset agrees with the book: the vault equals the ledger,
/// the ledger equals the book slot by slot, `escrowed` equals the price paid of every licence still
/// waiting for its key or in its dispute window, and every licence is in its expected state.
fn check(w: &World, book: &Book) {
    w.assert_conserved(&book.d);
    let dataset = w.dataset(&book.d.address);
    let ledger = dataset.ledger;
    let mut open = 0u64;
    let mut outstanding = 0u32;
    for (buyer, sale) in &book.sales {
        let license = w.license(&book.d.license(buyer));
        assert_eq!(license.state, sale.state, "state of the licence of {buyer}");
        assert_eq!(
            (license.price_paid, license.protocol_fee, license.referral_fee),
            (sale.price, sale.protocol_fee, sale.referral_fee)
        );
        if matches!(license.state, LicenseState::AwaitingKey | LicenseState::Delivered) {
            open += license.price_paid;
        }
        if license.state != LicenseState::Refunded {
            outstanding += 1;
        }
    }
    assert_eq!(ledger.escrowed, open, "escrowed != price paid of open licences");
    assert_eq!(ledger.escrowed, book.escrowed);
    let n = book.shares.len();
    assert_eq!(&ledger.claimable[..n], book.claimable.as_slice(), "claimable");
    assert!(ledger.claimable[n..].iter().all(|owed| *owed == 0));
    assert_eq!(ledger.referral_fees_owed, book.referral_owed, "referral fees owed");
    assert_eq!(ledger.protocol_fees_owed, book.protocol_owed, "protocol fees owed");
    assert_eq!(w.balance(&book.d.escrow_vault), book.vault());
    assert_eq!(book.paid_in - book.paid_out(), book.vault());
    assert_eq!(dataset.licenses_outstanding, outstanding);
    assert_eq!(dataset.licenses_sold, book.sales.len() as u64);
    assert_eq!(w.mint_supply(&book.d.license_mint), u64::from(outstanding));
}

fn check_all(w: &World, books: &[&Book]) {
    for book in books {
        check(w, book);
    }
}

fn buy(w: &mut World, book: &mut Book, buyer: &Keypair, referrer: Option<Pubkey>) {
    let price = book.price;
    let protocol_fee = share(price, book.protocol_bps);
    let referral_fee = if referrer.is_some() { share(price, book.referral_bps) } else { 0 };
    let paying = book.d.payment_account(&buyer.pubkey());
    let before = w.balance(&paying);
    w.buy(&book.d, buyer, referrer).succeeds();
    assert_eq!(before - w.balance(&paying), price);
    assert_eq!(w.balance(&book.d.license_account(&buyer.pubkey())), 1);
    assert_eq!(w.license(&book.d.license(&buyer.pubkey())).referrer, referrer.unwrap_or_default());
    book.sales.push((buyer.pubkey(), Sale { price, protocol_fee, referral_fee, state: LicenseState::AwaitingKey }));
    book.escrowed += price;
    book.paid_in += price;
}

fn deliver(w: &mut World, book: &mut Book, owner: &Keypair, buyer: &Keypair) {
    w.deliver(&book.d, owner, &buyer.pubkey()).succeeds();
    book.sale(&buyer.pubkey()).state = LicenseState::Delivered;
}

fn settle(w: &mut World, book: &mut Book, buyer: &Keypair) {
    w.settle(&book.d, &buyer.pubkey()).succeeds();
    let sale = *book.sale(&buyer.pubkey());
    book.sale(&buyer.pubkey()).state = LicenseState::Settled;
    book.escrowed -= sale.price;
    book.protocol_owed += sale.protocol_fee;
    book.referral_owed += sale.referral_fee;
    book.accrue(sale.price - sale.protocol_fee - sale.referral_fee);
}

fn refund(w: &mut World, book: &mut Book, buyer: &Keypair) {
    let paying = book.d.payment_account(&buyer.pubkey());
    let before = w.balance(&paying);
    w.refund(&book.d, &buyer.pubkey()).succeeds();
    let sale = *book.sale(&buyer.pubkey());
    assert_eq!(w.balance(&paying) - before, sale.price);
    assert_eq!(w.balance(&book.d.license_account(&buyer.pubkey())), 0);
    book.sale(&buyer.pubkey()).state = LicenseState::Refunded;
    book.escrowed -= sale.price;
    book.refunded += sale.price;
}

/// Only a settled licence renews (a Refund ruling would not repay the renewal).
fn renew(w: &mut World, book: &mut Book, buyer: &Keypair) {
    assert_eq!(book.sale(&buyer.pubkey()).state, LicenseState::Settled);
    let price = book.price;
    let paying = book.d.payment_account(&buyer.pubkey());
    let before = w.balance(&paying);
    w.send(&[renew_license(buyer.pubkey(), &book.d, price)], &[buyer]).succeeds();
    assert_eq!(before - w.balance(&paying), price);
    let protocol_fee = share(price, book.protocol_bps);
    book.paid_in += price;
    book.protocol_owed += protocol_fee;
    book.accrue(price - protocol_fee);
}

/// `recipient` (index `index` in the split) claims; it receives exactly what the book owes it.
fn claim(w: &mut World, book: &mut Book, recipient: &Keypair, index: usize) {
    let account = w.token_account(&recipient.pubkey(), &book.mint.mint, &book.mint.token_program);
    let before = w.balance(&account);
    w.send(&[claim_revenue(recipient.pubkey(), &book.d)], &[recipient]).succeeds();
    let owed = std::mem::take(&mut book.claimable[index]);
    assert!(owed > 0);
    assert_eq!(w.balance(&account) - before, owed);
    book.paid_to_recipients[index] += owed;
}

fn claim_referral(w: &mut World, book: &mut Book, referrer: &Keypair, buyer: &Keypair) {
    let account = w.token_account(&referrer.pubkey(), &book.mint.mint, &book.mint.token_program);
    let before = w.balance(&account);
    w.send(&[claim_referral_fee(referrer.pubkey(), &book.d, &buyer.pubkey())], &[referrer]).succeeds();
    let fee = book.sale(&buyer.pubkey()).referral_fee;
    assert!(fee > 0);
    assert_eq!(w.balance(&account) - before, fee);
    assert!(w.license(&book.d.license(&buyer.pubkey())).referral_fee_resolved);
    book.referral_owed -= fee;
    book.paid_to_referrer += fee;
}

fn sweep(w: &mut World, book: &mut Book) {
    let treasury = w.treasury.pubkey();
    let account = w.token_account(&treasury, &book.mint.mint, &book.mint.token_program);
    let before = w.balance(&account);
    let caller = w.wallet();
    w.send(&[sweep_protocol_fees(caller.pubkey(), &book.d, &treasury)], &[&caller]).succeeds();
    let owed = std::mem::take(&mut book.protocol_owed);
    assert!(owed > 0);
    assert_eq!(w.balance(&account) - before, owed);
    book.paid_to_treasury += owed;
}

/// Every token paid in is accounted for: what the buyers are out of pocket equals purchases and
/// renewals less refunds, and purchases plus renewals equal what recipients, referrer and treasury
/// received, plus refunds, plus what is still in the vault; each payee holds exactly its book amount.
fn assert_paid_out_exactly(
    w: &World,
    book: &Book,
    buyers: &[(&Keypair, u64)],
    recipients: &[&Keypair],
    referrer: &Keypair,
) {
    let mint = &book.mint;
    let balance_of = |owner: &Pubkey| {
        let account = anchor_spl::associated_token::get_associated_token_address_with_program_id(
            owner,
            &mint.mint,
            &mint.token_program,
        );
        w.balance(&account)
    };
    let out_of_pocket: u64 = buyers.iter().map(|(buyer, funded)| funded - balance_of(&buyer.pubkey())).sum();
    assert_eq!(out_of_pocket, book.paid_in - book.refunded, "buyers' payments less refunds");
    let received: Vec<u64> = recipients.iter().map(|r| balance_of(&r.pubkey())).collect();
    assert_eq!(received, book.paid_to_recipients, "per-recipient payouts");
    let referral = balance_of(&referrer.pubkey());
    assert_eq!(referral, book.paid_to_referrer);
    let treasury = balance_of(&w.treasury.pubkey());
    assert_eq!(treasury, book.paid_to_treasury);
    let vault = w.balance(&book.d.escrow_vault);
    assert_eq!(vault, book.vault());
    assert_eq!(
        book.paid_in,
        received.iter().sum::<u64>() + referral + treasury + book.refunded + vault,
        "tokens paid in != tokens paid out + vault"
    );
}

fn marketplace_story(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let alice = w.wallet(); // contributor, 30%
    let bob = w.wallet(); // contributor, 20%
    let referrer = w.wallet();
    let t0 = w.now();

    // Dataset A: classic SPL mint, split 50 / 30 / 20, 30-day licences.
    let shares_a = vec![5_000u16, 3_000, 2_000];
    let mut args = dataset_args(
        "story-a",
        vec![
            Recipient { wallet: owner.pubkey(), bps: shares_a[0] },
            Recipient { wallet: alice.pubkey(), bps: shares_a[1] },
            Recipient { wallet: bob.pubkey(), bps: shares_a[2] },
        ],
    );
    args.price = PRICE_A;
    args.terms.duration_secs = 30 * DAY as u64;
    let d = w.register_with(&owner, args);
    assert_eq!(w.usdc.token_program, TOKEN);
    let usdc = payment_mint_copy(&w.usdc);
    let mut a = Book::new(d, usdc, shares_a, PRICE_A);
    check(&w, &a);

    // Dataset B: a Token-2022 payment mint, split 60 / 40 between the owner and Alice.
    let t22 = w.create_mint(TOKEN_2022, 6, MintExtra::None);
    let shares_b = vec![6_000u16, 4_000];
    let mut args = dataset_args(
        "story-b",
        vec![
            Recipient { wallet: owner.pubkey(), bps: shares_b[0] },
            Recipient { wallet: alice.pubkey(), bps: shares_b[1] },
        ],
    );
    args.price = PRICE_B;
    let db = DatasetHandle::derive(args.content_hash, owner.pubkey(), t22.mint, TOKEN_2022);
    w.send(&[register_dataset(owner.pubkey(), &db, args)], &[&owner]).succeeds();
    assert_eq!(w.dataset(&db.address).payment_mint, t22.mint);
    let mut b = Book::new(db, t22, shares_b, PRICE_B);
    check_all(&w, &[&a, &b]);

    // t0: three buyers of A (two referred), one referred buyer of B.
    let funding_b1 = PRICE_A + PRICE_A_RAISED;
    let b1 = funded(&mut w, &a, funding_b1);
    buy(&mut w, &mut a, &b1, Some(referrer.pubkey()));
    check_all(&w, &[&a, &b]);
    let b2 = funded(&mut w, &a, PRICE_A);
    buy(&mut w, &mut a, &b2, Some(referrer.pubkey()));
    check_all(&w, &[&a, &b]);
    let b3 = funded(&mut w, &a, PRICE_A);
    buy(&mut w, &mut a, &b3, None);
    check_all(&w, &[&a, &b]);
    let b6 = funded(&mut w, &b, PRICE_B);
    buy(&mut w, &mut b, &b6, Some(referrer.pubkey()));
    check_all(&w, &[&a, &b]);

    // t0 + 1h: keys for b1, b2 (A) and b6 (B); b3 never gets one.
    w.warp(HOUR);
    deliver(&mut w, &mut a, &owner, &b1);
    check_all(&w, &[&a, &b]);
    deliver(&mut w, &mut a, &owner, &b2);
    check_all(&w, &[&a, &b]);
    deliver(&mut w, &mut b, &owner, &b6);
    check_all(&w, &[&a, &b]);

    // The operator raises the protocol fee and the owner raises A's price: escrowed sales keep their
    // terms, new sales and renewals use the new ones.
    let operator = w.operator.insecure_clone();
    let args = UpdateMarketplaceArgs { protocol_fee_bps: Some(RAISED_PROTOCOL_FEE_BPS), ..Default::default() };
    w.send(&[update_marketplace(operator.pubkey(), args)], &[&operator]).succeeds();
    a.protocol_bps = RAISED_PROTOCOL_FEE_BPS;
    b.protocol_bps = RAISED_PROTOCOL_FEE_BPS;
    let args = UpdateDatasetArgs { price: Some(PRICE_A_RAISED), ..Default::default() };
    w.send(&[update_dataset(owner.pubkey(), &a.d, args)], &[&owner]).succeeds();
    a.price = PRICE_A_RAISED;
    check_all(&w, &[&a, &b]);

    let b4 = funded(&mut w, &a, PRICE_A_RAISED);
    buy(&mut w, &mut a, &b4, None);
    check_all(&w, &[&a, &b]);
    let b7 = funded(&mut w, &b, PRICE_B);
    buy(&mut w, &mut b, &b7, None);
    check_all(&w, &[&a, &b]);

    // t0 + 1d: keys for b4 (A) and b7 (B).
    w.warp(DAY - HOUR);
    deliver(&mut w, &mut a, &owner, &b4);
    check_all(&w, &[&a, &b]);
    deliver(&mut w, &mut b, &owner, &b7);
    check_all(&w, &[&a, &b]);

    // t0 + 1h + 3d: b1's dispute window closes this very second.
    w.warp(HOUR + i64::from(DISPUTE_WINDOW) - DAY);
    assert_eq!(w.now(), t0 + HOUR + i64::from(DISPUTE_WINDOW));
    settle(&mut w, &mut a, &b1);
    check_all(&w, &[&a, &b]);
    // the first settlement, by hand: fees at purchase time (2.5% protocol, 5% referral), then 50/30/20
    // of the net with the 2-unit rounding remainder to the owner
    assert_eq!(share(PRICE_A, PROTOCOL_FEE_BPS), 250_000);
    assert_eq!(share(PRICE_A, REFERRAL_FEE_BPS), 500_000);
    assert_eq!(a.claimable, vec![4_625_003, 2_775_000, 1_850_000]);
    claim(&mut w, &mut a, &owner, 0); // the owner's first claim
    check_all(&w, &[&a, &b]);
    let b5 = funded(&mut w, &a, PRICE_A_RAISED); // a sale between the owner's claims
    buy(&mut w, &mut a, &b5, None);
    check_all(&w, &[&a, &b]);
    settle(&mut w, &mut b, &b6);
    check_all(&w, &[&a, &b]);

    // t0 + 3d + 2h: b2 settles; b3's delivery window (2 days) is long over: refunded.
    w.warp(HOUR);
    settle(&mut w, &mut a, &b2);
    check_all(&w, &[&a, &b]);
    refund(&mut w, &mut a, &b3);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut b, &owner, 0);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut b, &alice, 1);
    check_all(&w, &[&a, &b]);
    claim_referral(&mut w, &mut b, &referrer, &b6);
    check_all(&w, &[&a, &b]);

    // t0 + 3d + 3h: b5's key.
    w.warp(HOUR);
    deliver(&mut w, &mut a, &owner, &b5);
    check_all(&w, &[&a, &b]);

    // t0 + 4d: b4 and b7 settle; b1 renews its settled licence at the new price and fee.
    w.warp(DAY - 3 * HOUR);
    assert_eq!(w.now(), t0 + 4 * DAY);
    settle(&mut w, &mut a, &b4);
    check_all(&w, &[&a, &b]);
    settle(&mut w, &mut b, &b7);
    check_all(&w, &[&a, &b]);
    let expires = w.license(&a.d.license(&b1.pubkey())).expires_at;
    assert_eq!(expires, t0 + HOUR + 30 * DAY); // the term runs from delivery
    renew(&mut w, &mut a, &b1);
    assert_eq!(w.license(&a.d.license(&b1.pubkey())).expires_at, t0 + HOUR + 60 * DAY);
    check_all(&w, &[&a, &b]);

    // Everyone claims: the owner for the second time, Alice and Bob, the referrer for both referred
    // sales; then both datasets' protocol fees are swept.
    claim(&mut w, &mut a, &owner, 0);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut a, &alice, 1);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut a, &bob, 2);
    check_all(&w, &[&a, &b]);
    claim_referral(&mut w, &mut a, &referrer, &b1);
    check_all(&w, &[&a, &b]);
    claim_referral(&mut w, &mut a, &referrer, &b2);
    check_all(&w, &[&a, &b]);
    sweep(&mut w, &mut a);
    check_all(&w, &[&a, &b]);
    sweep(&mut w, &mut b);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut b, &owner, 0);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut b, &alice, 1);
    check_all(&w, &[&a, &b]);
    assert_eq!(w.balance(&b.d.escrow_vault), 0);

    // t0 + 3d + 3h + 3d: b5 settles last. The owner claims a third time and Alice again; Bob's share
    // and the new protocol fee stay in the vault.
    w.warp(3 * HOUR + i64::from(DISPUTE_WINDOW) - DAY);
    settle(&mut w, &mut a, &b5);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut a, &owner, 0);
    check_all(&w, &[&a, &b]);
    claim(&mut w, &mut a, &alice, 1);
    check_all(&w, &[&a, &b]);
    assert!(a.claimable[2] > 0 && a.protocol_owed > 0);
    assert_eq!(w.balance(&a.d.escrow_vault), a.claimable[2] + a.protocol_owed);

    // Every token paid in was paid out exactly, per mint.
    let buyers_a = [(&b1, funding_b1), (&b2, PRICE_A), (&b3, PRICE_A), (&b4, PRICE_A_RAISED), (&b5, PRICE_A_RAISED)];
    assert_paid_out_exactly(&w, &a, &buyers_a, &[&owner, &alice, &bob], &referrer);
    assert_paid_out_exactly(&w, &b, &[(&b6, PRICE_B), (&b7, PRICE_B)], &[&owner, &alice], &referrer);
    assert_eq!(a.paid_in, 2 * PRICE_A + PRICE_A + 3 * PRICE_A_RAISED);
    assert_eq!(a.refunded, PRICE_A);
    assert_eq!(b.paid_in, 2 * PRICE_B);
    // b3 is whole again, every other buyer paid exactly its price (b1 also its renewal)
    assert_eq!(w.balance(&a.d.payment_account(&b3.pubkey())), PRICE_A);
    for buyer in [&b1, &b2, &b4, &b5] {
        assert_eq!(w.balance(&a.d.payment_account(&buyer.pubkey())), 0);
    }
}

on_both_backends!(marketplace_story);
