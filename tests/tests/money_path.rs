//! The paid path end to end: register, buy, deliver, settle, claim, sweep, with the vault reconciled
//! against the ledger after every step.
use data_market::domain::lifecycle::LicenseState;
use data_market::state::Recipient;
use market_tests::tokens::TOKEN_2022;
use market_tests::*;
use solana_signer::Signer;

fn full_sale_pays_everyone_exactly(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let contributor = w.wallet();
    let args = dataset_args(
        "corpus",
        vec![Recipient { wallet: owner.pubkey(), bps: 7_000 }, Recipient { wallet: contributor.pubkey(), bps: 3_000 }],
    );
    let d = w.register_with(&owner, args);
    w.assert_conserved(&d);

    let buyer = w.buyer(PRICE);
    let referrer = w.wallet();
    w.buy(&d, &buyer, Some(referrer.pubkey())).succeeds();
    w.assert_conserved(&d);
    assert_eq!(w.balance(&d.escrow_vault), PRICE);
    assert_eq!(w.balance(&d.payment_account(&buyer.pubkey())), 0);
    assert_eq!(w.balance(&d.license_account(&buyer.pubkey())), 1);
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!(license.state, LicenseState::AwaitingKey);
    assert_eq!(license.price_paid, PRICE);
    assert_eq!(license.buyer_encryption_key, BUYER_KEY);

    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let license = w.license(&d.license(&buyer.pubkey()));
    assert_eq!(license.state, LicenseState::Delivered);
    assert_eq!(license.sealed_key, SEALED_KEY);
    w.assert_conserved(&d);

    w.warp(DISPUTE_WINDOW as i64);
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.assert_conserved(&d);

    let protocol_fee = PRICE * PROTOCOL_FEE_BPS as u64 / 10_000;
    let referral_fee = PRICE * REFERRAL_FEE_BPS as u64 / 10_000;
    let net = PRICE - protocol_fee - referral_fee;
    w.claim(&d, &owner).succeeds();
    w.claim(&d, &contributor).succeeds();
    w.assert_conserved(&d);
    assert_eq!(w.balance(&d.payment_account(&owner.pubkey())), net * 7 / 10);
    assert_eq!(w.balance(&d.payment_account(&contributor.pubkey())), net * 3 / 10);

    w.payment_account_of(&referrer.pubkey());
    let ix = claim_referral_fee(referrer.pubkey(), &d, &buyer.pubkey());
    w.send(&[ix], &[&referrer]).succeeds();
    assert_eq!(w.balance(&d.payment_account(&referrer.pubkey())), referral_fee);
    w.assert_conserved(&d);

    w.sweep(&d).succeeds();
    assert_eq!(w.balance(&d.payment_account(&w.treasury.pubkey())), protocol_fee);
    assert_eq!(w.balance(&d.escrow_vault), 0);
    w.assert_conserved(&d);
}

fn token_2022_payment_mint_works(backend: Backend) {
    let mut w = World::with_payment_program(backend, TOKEN_2022);
    assert_eq!(w.usdc.token_program, TOKEN_2022);
    let owner = w.wallet();
    let d = w.register(&owner, "t22");
    let buyer = w.buyer(PRICE);
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    w.warp(DISPUTE_WINDOW as i64);
    w.settle(&d, &buyer.pubkey()).succeeds();
    w.claim(&d, &owner).succeeds();
    let fee = PRICE * PROTOCOL_FEE_BPS as u64 / 10_000;
    assert_eq!(w.balance(&d.payment_account(&owner.pubkey())), PRICE - fee);
    w.assert_conserved(&d);
}

on_both_backends!(full_sale_pays_everyone_exactly, token_2022_payment_mint_works);
