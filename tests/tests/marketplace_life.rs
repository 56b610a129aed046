//! A whole marketplace life on both backends: three datasets (one with three contributors, one metered
//! and paid in a Token-2022 mint, one free and allow-listed), five buyers, deliveries, usage receipts
//! for two models (one co-signed by an attestor), reviews and an edit, a protocol fee change, a
//! credit top-up and a renewal, an undelivered licence refunded, a dispute ruled Split, settlements,
//! claims by every recipient, referral claims and sweeps, then the closes: the dispute record, the
//! licences (the refunded one included), the allow-list entries, and two datasets retired and closed.
//!
//! After every step the test checks, against its own model: vault == ledger total per dataset,
//! `escrowed` == price paid of the licences still in AwaitingKey / Delivered / Disputed, licence-token
//! supply == unused credits of the licences not refunded, and the rent book of every wallet (rent it
//! paid for the accounts it created, less rent given back by closes, equals the rent still locked in
//! those accounts, and equals what left the wallet apart from transaction fees). At the end every
//! payee's total is recomputed from the sales alone and every token paid in is found paid out.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use data_market::domain::lifecycle::LicenseState;
use data_market::errors::MarketError;
use data_market::instruction;
use data_market::instructions::{PurchaseLicenseArgs, RecordUsageArgs, ReviewArgs, UpdateMarketplaceArgs};
use data_market::state::{DatasetState, DisputeReason, License, Recipient, Review, Ruling, UsagePurpose, UsageReceipt};
use litesvm::types::TransactionMetadata;
use market_tests::tokens::{MintExtra, PaymentMint, TOKEN_2022};
use market_tests::*;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

const HOUR: i64 = 60 * 60;
/// A price that does not divide evenly, so fees and splits all round.
const PRICE_C: u64 = 10_000_003;
/// Price of one credit of the metered dataset.
const CREDIT_PRICE: u64 = 1_234_567;
const RAISED_PROTOCOL_FEE_BPS: u16 = 400;
const METERED_REFERRAL_BPS: u16 = 1_000;
const SPLIT_BUYER_BPS: u16 = 4_000;
const SHARES_C: [u16; 3] = [5_000, 3_000, 2_000];
const SHARES_M: [u16; 2] = [7_000, 3_000];
const MODEL_A: [u8; 32] = [0xA1; 32];
const MODEL_B: [u8; 32] = [0xB2; 32];

/// Dataset indices in the model.
const C: usize = 0;
const M: usize = 1;
const F: usize = 2;

/// floor(amount * bps / 10_000), in 128 bits.
fn share(amount: u64, bps: u16) -> u64 {
    (u128::from(amount) * u128::from(bps) / 10_000) as u64
}

/// Each recipient its floor share, the remainder to the first.
fn split(net: u64, shares: &[u16]) -> Vec<u64> {
    let mut parts: Vec<u64> = shares.iter().map(|bps| share(net, *bps)).collect();
    parts[0] += net - parts.iter().sum::<u64>();
    parts
}

fn is_open(state: LicenseState) -> bool {
    matches!(state, LicenseState::AwaitingKey | LicenseState::Delivered | LicenseState::Disputed)
}

fn mint_copy(mint: &PaymentMint) -> PaymentMint {
    PaymentMint { authority: mint.authority.insecure_clone(), ..*mint }
}

struct Ds {
    h: DatasetHandle,
    mint: PaymentMint,
    metered: bool,
    allow_list: bool,
    closed: bool,
}

#[derive(Clone, Copy, Debug)]
struct Lic {
    ds: usize,
    buyer: Pubkey,
    price_paid: u64,
    state: LicenseState,
    credits: u64,
    usage: u64,
    /// The licence account is closed (its token stays with the buyer unless it was refunded).
    closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ReceiptRow {
    address: Pubkey,
    dataset: Pubkey,
    license: Pubkey,
    holder: Pubkey,
    attestor: Pubkey,
    index: u64,
    purpose: u8,
}

/// An account a tracked wallet paid the rent of, and what it got back when it was closed.
struct Created {
    account: Pubkey,
    payer: Pubkey,
    rent: u64,
    returned: Option<u64>,
}

/// Every lamport a tracked wallet spends: transaction fees, and rent of the accounts it creates.
#[derive(Default)]
struct RentBook {
    wallets: Vec<(&'static str, Pubkey, u64)>,
    fees: HashMap<Pubkey, u64>,
    created: Vec<Created>,
}

impl RentBook {
    fn track(&mut self, w: &World, name: &'static str, wallet: &Pubkey) {
        self.wallets.push((name, *wallet, w.lamports(wallet)));
    }

    fn check(&self, w: &World) {
        for (name, wallet, initial) in &self.wallets {
            let mine: Vec<&Created> = self.created.iter().filter(|c| c.payer == *wallet).collect();
            let spent: u64 = mine.iter().map(|c| c.rent).sum();
            let returned: u64 = mine.iter().filter_map(|c| c.returned).sum();
            let locked: u64 = mine.iter().map(|c| w.lamports(&c.account)).sum();
            assert_eq!(spent - returned, locked, "{name}: rent spent less rent returned != rent still locked");
            let fees = self.fees.get(wallet).copied().unwrap_or(0);
            let out = i128::from(*initial) - i128::from(w.lamports(wallet)) - i128::from(fees);
            assert_eq!(out, i128::from(locked), "{name}: lamports out of the wallet less fees != rent it has locked");
        }
    }
}

struct Life {
    w: World,
    ds: Vec<Ds>,
    lics: Vec<Lic>,
    receipts: Vec<(ReceiptRow, [u8; 32])>,
    rent: RentBook,
    keeper: Keypair,
    steps: usize,
}

impl Life {
    fn lic(&mut self, ds: usize, buyer: &Pubkey) -> &mut Lic {
        self.lics
            .iter_mut()
            .find(|l| l.ds == ds && l.buyer == *buyer && !l.closed)
            .expect("an open licence in the model")
    }

    fn h(&self, ds: usize) -> DatasetHandle {
        self.ds[ds].h.clone()
    }

    fn pay_account(&self, ds: usize, owner: &Pubkey) -> Pubkey {
        self.ds[ds].h.payment_account(owner)
    }

    /// Sends a transaction that must succeed. `creates` are the (payer, account) pairs it opens,
    /// `closes` the accounts it closes (their rent must go back, in full, to whoever paid it).
    fn ok(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        creates: &[(Pubkey, Pubkey)],
        closes: &[Pubkey],
    ) -> TransactionMetadata {
        for (_, account) in creates {
            assert!(!self.w.exists(account), "{account} exists before the transaction that creates it");
        }
        let closing: Vec<(Pubkey, u64)> = closes.iter().map(|a| (*a, self.w.lamports(a))).collect();
        let payer = signers[0].pubkey();
        let meta = self.w.send(ixs, signers).succeeds();
        assert!(meta.fee > 0);
        *self.rent.fees.entry(payer).or_default() += meta.fee;
        for (payer, account) in creates {
            let rent = self.w.lamports(account);
            assert!(rent > 0, "{account} was not created");
            self.rent.created.push(Created { account: *account, payer: *payer, rent, returned: None });
        }
        for (account, lamports) in closing {
            assert!(!self.w.exists(&account), "{account} still exists after its close");
            let created = self
                .rent
                .created
                .iter_mut()
                .find(|c| c.account == account && c.returned.is_none())
                .expect("closing an account the test saw created");
            assert_eq!(created.rent, lamports, "rent of {account} changed while it was open");
            created.returned = Some(lamports);
        }
        self.steps += 1;
        meta
    }

    /// A transaction the program must refuse with `error`, leaving `watched` byte for byte (and
    /// lamport for lamport) as they were; its fee is still paid.
    fn refused(&mut self, ixs: &[Instruction], signers: &[&Keypair], error: MarketError, watched: &[Pubkey]) {
        let before: Vec<_> = watched.iter().map(|a| self.w.svm.get_account(a).map(|x| (x.lamports, x.data))).collect();
        let result = self.w.send(ixs, signers);
        let fee = result.as_ref().err().map_or(0, |f| f.meta.fee);
        result.fails_with(error);
        *self.rent.fees.entry(signers[0].pubkey()).or_default() += fee;
        for (address, was) in watched.iter().zip(before) {
            let now = self.w.svm.get_account(address).map(|x| (x.lamports, x.data));
            assert!(now == was, "{address} changed in a refused transaction ({error:?})");
        }
        self.steps += 1;
        self.check();
    }

    /// The invariants, after every step.
    fn check(&self) {
        let w = &self.w;
        for (i, ds) in self.ds.iter().enumerate() {
            let mine: Vec<&Lic> = self.lics.iter().filter(|l| l.ds == i).collect();
            let open: u64 = mine.iter().filter(|l| is_open(l.state)).map(|l| l.price_paid).sum();
            let unused: u64 = mine
                .iter()
                .filter(|l| l.state != LicenseState::Refunded && !l.closed)
                .map(|l| if ds.metered { l.credits - l.usage } else { l.credits })
                .sum();
            // closing a licence burns what it had left
            assert_eq!(w.mint_supply(&ds.h.license_mint), unused, "dataset {i}: licence supply != unused credits");
            if ds.closed {
                assert!(!w.exists(&ds.h.address) && !w.exists(&ds.h.escrow_vault), "dataset {i} is closed");
                continue;
            }
            w.assert_conserved(&ds.h);
            let state = w.dataset(&ds.h.address);
            assert_eq!(state.ledger.escrowed, open, "dataset {i}: escrowed != price paid of open licences (model)");
            let onchain = w.program_accounts_of::<License>(&[(FIELDS, ds.h.address.as_ref())]);
            let open_onchain: u64 = onchain.iter().filter(|(_, l)| is_open(l.state)).map(|(_, l)| l.price_paid).sum();
            assert_eq!(state.ledger.escrowed, open_onchain, "dataset {i}: escrowed != price paid of open licences");
            let live: Vec<&&Lic> = mine.iter().filter(|l| !l.closed).collect();
            assert_eq!(onchain.len(), live.len(), "dataset {i}: licence accounts");
            for l in &live {
                let license = w.license(&ds.h.license(&l.buyer));
                assert_eq!(
                    (license.state, license.price_paid, license.credits, license.usage_count),
                    (l.state, l.price_paid, l.credits, l.usage),
                    "dataset {i}: licence of {}",
                    l.buyer
                );
            }
            let outstanding = live.iter().filter(|l| l.state != LicenseState::Refunded).count() as u32;
            assert_eq!(state.licenses_outstanding, outstanding, "dataset {i}: licences outstanding");
            assert_eq!(state.licenses_sold, mine.len() as u64, "dataset {i}: licences sold");
        }
        self.rent.check(w);
    }

    fn register(
        &mut self,
        owner: &Keypair,
        args: data_market::instructions::RegisterDatasetArgs,
        mint: &PaymentMint,
    ) -> usize {
        let h = DatasetHandle::derive(args.content_hash, owner.pubkey(), mint.mint, mint.token_program);
        let (metered, allow_list) = (args.terms.metered, args.allow_list_enabled);
        let o = owner.pubkey();
        self.ok(
            &[register_dataset(o, &h, args)],
            &[owner],
            &[(o, h.content_hash_record), (o, h.address), (o, h.license_mint), (o, h.escrow_vault)],
            &[],
        );
        self.ds.push(Ds { h, mint: mint_copy(mint), metered, allow_list, closed: false });
        self.check();
        self.ds.len() - 1
    }

    fn allow(&mut self, ds: usize, owner: &Keypair, buyer: &Pubkey) {
        let h = self.h(ds);
        let entry = allow_list_entry_address(&h, buyer);
        self.ok(&[add_to_allow_list(owner.pubkey(), &h, *buyer)], &[owner], &[(owner.pubkey(), entry)], &[]);
        self.check();
    }

    fn unallow(&mut self, ds: usize, owner: &Keypair, buyer: &Pubkey) {
        let h = self.h(ds);
        let entry = allow_list_entry_address(&h, buyer);
        self.ok(&[remove_from_allow_list(owner.pubkey(), &h, buyer)], &[owner], &[], &[entry]);
        self.check();
    }

    fn purchase_ixs(&self, ds: usize, buyer: &Pubkey, referrer: Option<Pubkey>, credits: u32) -> Vec<Instruction> {
        let h = &self.ds[ds].h;
        let price = self.w.dataset(&h.address).price;
        let mut accounts = purchase_accounts(*buyer, h, referrer);
        if self.ds[ds].allow_list {
            accounts.allow_list_entry = Some(allow_list_entry_address(h, buyer));
        }
        let args = PurchaseLicenseArgs { credits, ..purchase_args(price * u64::from(credits)) };
        vec![create_license_account(*buyer, h, buyer), build(accounts, instruction::PurchaseLicense { args })]
    }

    fn buy(&mut self, ds: usize, buyer: &Keypair, referrer: Option<Pubkey>, credits: u32) {
        let h = self.h(ds);
        let b = buyer.pubkey();
        let price = self.w.dataset(&h.address).price * u64::from(credits);
        let ixs = self.purchase_ixs(ds, &b, referrer, credits);
        let mut creates = vec![(b, h.license(&b))];
        if !self.w.exists(&h.license_account(&b)) {
            creates.push((b, h.license_account(&b)));
        }
        let paying = self.pay_account(ds, &b);
        let before = self.w.balance(&paying);
        self.ok(&ixs, &[buyer], &creates, &[]);
        assert_eq!(before - self.w.balance(&paying), price);
        let license = self.w.license(&h.license(&b));
        assert_eq!(license.referrer, referrer.unwrap_or_default());
        self.lics.push(Lic {
            ds,
            buyer: b,
            price_paid: price,
            state: LicenseState::AwaitingKey,
            credits: u64::from(credits),
            usage: 0,
            closed: false,
        });
        self.check();
    }

    fn deliver(&mut self, ds: usize, deliverer: &Keypair, buyer: &Keypair) {
        let h = self.h(ds);
        self.ok(&[deliver_key(deliverer.pubkey(), &h, &buyer.pubkey(), SEALED_KEY)], &[deliverer], &[], &[]);
        self.lic(ds, &buyer.pubkey()).state = LicenseState::Delivered;
        self.check();
    }

    fn record(
        &mut self,
        ds: usize,
        holder: &Keypair,
        attestor: Option<&Keypair>,
        model: [u8; 32],
        purpose: UsagePurpose,
    ) {
        let h = self.h(ds);
        let b = holder.pubkey();
        let license = self.w.license(&h.license(&b));
        let index = license.usage_count;
        let accounts = record_usage_accounts(b, &h, license.serial, index, attestor.map(|a| a.pubkey()));
        let receipt = accounts.receipt;
        let run_id = [self.receipts.len() as u8 + 1; 32];
        let ix = record_usage(accounts, RecordUsageArgs { purpose, model_hash: model, run_id });
        let mut signers = vec![holder];
        signers.extend(attestor);
        self.ok(&[ix], &signers, &[(b, receipt)], &[]);
        self.lic(ds, &b).usage += 1;
        self.receipts.push((
            ReceiptRow {
                address: receipt,
                dataset: h.address,
                license: h.license(&b),
                holder: b,
                attestor: attestor.map(|a| a.pubkey()).unwrap_or_default(),
                index,
                purpose: purpose as u8,
            },
            model,
        ));
        self.check();
    }

    fn review(&mut self, ds: usize, reviewer: &Keypair, rating: u8) {
        let h = self.h(ds);
        let r = reviewer.pubkey();
        let args = ReviewArgs { rating, text_hash: [rating; 32], uri: format!("ipfs://review-{rating}") };
        let review = review_address(&h.license(&r));
        self.ok(&[submit_review(r, &h, args)], &[reviewer], &[(r, review)], &[]);
        self.check();
    }

    fn edit_review(&mut self, ds: usize, reviewer: &Keypair, rating: u8) {
        let h = self.h(ds);
        let args = ReviewArgs { rating, text_hash: [rating; 32], uri: format!("ipfs://review-edited-{rating}") };
        self.ok(&[update_review(reviewer.pubkey(), &h, args)], &[reviewer], &[], &[]);
        let review: Review = self.w.account(&review_address(&h.license(&reviewer.pubkey())));
        assert_eq!(review.rating, rating);
        self.check();
    }

    fn dispute(&mut self, ds: usize, buyer: &Keypair) {
        let h = self.h(ds);
        let b = buyer.pubkey();
        let record = dispute_address(&h.license(&b));
        let ix = open_dispute(b, &h, DisputeReason::NotAsDescribed, "ipfs://evidence");
        self.ok(&[ix], &[buyer], &[(b, record)], &[]);
        self.lic(ds, &b).state = LicenseState::Disputed;
        assert_eq!(self.w.dataset(&h.address).open_disputes, 1);
        self.check();
    }

    /// The arbiter rules; returns what the buyer got back.
    fn rule(&mut self, ds: usize, arbiter: &Keypair, buyer: &Keypair, ruling: Ruling) -> u64 {
        let h = self.h(ds);
        let b = buyer.pubkey();
        let paying = self.pay_account(ds, &b);
        let before = self.w.balance(&paying);
        self.ok(&[rule_dispute(arbiter.pubkey(), &h, &b, ruling)], &[arbiter], &[], &[]);
        let back = self.w.balance(&paying) - before;
        let lic = self.lic(ds, &b);
        lic.state = if ruling == Ruling::Refund { LicenseState::Refunded } else { LicenseState::Settled };
        assert_eq!(self.w.dataset(&h.address).open_disputes, 0);
        self.check();
        back
    }

    fn refund(&mut self, ds: usize, buyer: &Keypair) {
        let h = self.h(ds);
        let b = buyer.pubkey();
        let paying = self.pay_account(ds, &b);
        let before = self.w.balance(&paying);
        let keeper = self.keeper.insecure_clone();
        self.ok(&[refund_license(keeper.pubkey(), &h, &b)], &[&keeper], &[], &[]);
        let price = self.lic(ds, &b).price_paid;
        assert_eq!(self.w.balance(&paying) - before, price);
        assert_eq!(self.w.balance(&h.license_account(&b)), 0);
        self.lic(ds, &b).state = LicenseState::Refunded;
        self.check();
    }

    fn settle(&mut self, ds: usize, buyer: &Keypair) {
        let h = self.h(ds);
        let keeper = self.keeper.insecure_clone();
        self.ok(&[settle_license(keeper.pubkey(), &h, &buyer.pubkey())], &[&keeper], &[], &[]);
        self.lic(ds, &buyer.pubkey()).state = LicenseState::Settled;
        self.check();
    }

    /// Only a settled licence renews (a Refund ruling would not repay the renewal).
    fn renew(&mut self, ds: usize, buyer: &Keypair) {
        assert_eq!(self.lic(ds, &buyer.pubkey()).state, LicenseState::Settled);
        let h = self.h(ds);
        let price = self.w.dataset(&h.address).price;
        let paying = self.pay_account(ds, &buyer.pubkey());
        let before = self.w.balance(&paying);
        self.ok(&[renew_license(buyer.pubkey(), &h, price)], &[buyer], &[], &[]);
        assert_eq!(before - self.w.balance(&paying), price);
        self.check();
    }

    /// Only a settled licence tops up (a Refund ruling would not repay the credits).
    fn top_up(&mut self, ds: usize, buyer: &Keypair, credits: u32) {
        assert_eq!(self.lic(ds, &buyer.pubkey()).state, LicenseState::Settled);
        let h = self.h(ds);
        let total = self.w.dataset(&h.address).price * u64::from(credits);
        let paying = self.pay_account(ds, &buyer.pubkey());
        let before = self.w.balance(&paying);
        self.ok(&[buy_credits(buyer.pubkey(), &h, credits, total)], &[buyer], &[], &[]);
        assert_eq!(before - self.w.balance(&paying), total);
        self.lic(ds, &buyer.pubkey()).credits += u64::from(credits);
        self.check();
    }

    /// `recipient` claims everything the ledger holds for it; returns the amount.
    fn claim(&mut self, ds: usize, recipient: &Keypair) -> u64 {
        let h = self.h(ds);
        let r = recipient.pubkey();
        let mint = mint_copy(&self.ds[ds].mint);
        let account = self.w.token_account(&r, &mint.mint, &mint.token_program);
        let dataset = self.w.dataset(&h.address);
        let index = dataset.recipient_index(&r).expect("a recipient");
        let owed = dataset.ledger.claimable[index];
        let before = self.w.balance(&account);
        self.ok(&[claim_revenue(r, &h)], &[recipient], &[], &[]);
        assert_eq!(self.w.balance(&account) - before, owed);
        assert_eq!(self.w.dataset(&h.address).ledger.claimable[index], 0);
        self.check();
        owed
    }

    fn claim_referral(&mut self, ds: usize, referrer: &Keypair, buyer: &Keypair) -> u64 {
        let h = self.h(ds);
        let r = referrer.pubkey();
        let mint = mint_copy(&self.ds[ds].mint);
        let account = self.w.token_account(&r, &mint.mint, &mint.token_program);
        let fee = self.w.license(&h.license(&buyer.pubkey())).referral_fee;
        let before = self.w.balance(&account);
        self.ok(&[claim_referral_fee(r, &h, &buyer.pubkey())], &[referrer], &[], &[]);
        assert_eq!(self.w.balance(&account) - before, fee);
        self.check();
        fee
    }

    fn sweep(&mut self, ds: usize) -> u64 {
        let h = self.h(ds);
        let treasury = self.w.treasury.pubkey();
        let mint = mint_copy(&self.ds[ds].mint);
        let account = self.w.token_account(&treasury, &mint.mint, &mint.token_program);
        let owed = self.w.dataset(&h.address).ledger.protocol_fees_owed;
        let before = self.w.balance(&account);
        let keeper = self.keeper.insecure_clone();
        self.ok(&[sweep_protocol_fees(keeper.pubkey(), &h, &treasury)], &[&keeper], &[], &[]);
        assert_eq!(self.w.balance(&account) - before, owed);
        self.check();
        owed
    }

    fn close_dispute(&mut self, ds: usize, buyer: &Keypair) {
        let h = self.h(ds);
        let record = dispute_address(&h.license(&buyer.pubkey()));
        self.ok(&[close_dispute(buyer.pubkey(), &h)], &[buyer], &[], &[record]);
        assert!(!self.w.license(&h.license(&buyer.pubkey())).has_dispute);
        self.check();
    }

    fn close_license(&mut self, ds: usize, buyer: &Keypair) {
        let h = self.h(ds);
        let b = buyer.pubkey();
        self.ok(&[close_license(b, &h)], &[buyer], &[], &[h.license(&b)]);
        self.lic(ds, &b).closed = true;
        self.check();
    }

    fn retire_and_close(&mut self, ds: usize, owner: &Keypair) {
        let h = self.h(ds);
        self.ok(&[set_dataset_state(owner.pubkey(), &h, DatasetState::Retired)], &[owner], &[], &[]);
        self.check();
        self.ok(&[close_dataset(owner.pubkey(), &h)], &[owner], &[], &[h.address, h.escrow_vault]);
        self.ds[ds].closed = true;
        // the licence mint stays (a Token-2022 mint with supply cannot close): its rent stays locked
        assert!(self.w.exists(&h.license_mint));
        self.check();
    }

    fn set_protocol_fee(&mut self, operator: &Keypair, bps: u16) {
        let args = UpdateMarketplaceArgs { protocol_fee_bps: Some(bps), ..Default::default() };
        self.ok(&[update_marketplace(operator.pubkey(), args)], &[operator], &[], &[]);
        self.check();
    }

    /// Every receipt of `model` that getProgramAccounts lists, against the receipts the test recorded.
    fn assert_provenance(&self, model: &[u8; 32]) {
        let listed: Vec<ReceiptRow> = {
            let mut rows: Vec<ReceiptRow> = self
                .w
                .program_accounts_of::<UsageReceipt>(&[(FIELDS + 64, model.as_slice())])
                .into_iter()
                .map(|(address, r)| {
                    assert_eq!(&r.model_hash, model);
                    ReceiptRow {
                        address,
                        dataset: r.dataset,
                        license: r.license,
                        holder: r.holder,
                        attestor: r.attestor,
                        index: r.index,
                        purpose: r.purpose as u8,
                    }
                })
                .collect();
            rows.sort();
            rows
        };
        let mut expected: Vec<ReceiptRow> =
            self.receipts.iter().filter(|(_, m)| m == model).map(|(row, _)| row.clone()).collect();
        expected.sort();
        assert_eq!(listed, expected, "receipts listed for model {:02x}", model[0]);
    }
}

/// One sale or payment that turns into fees and recipient revenue: gross, the protocol and referral
/// rates in force when it was paid.
struct Revenue {
    gross: u64,
    protocol_bps: u16,
    referral_bps: u16,
}

/// (per-recipient totals, protocol fees, referral fees) of a list of revenues, from scratch.
fn expected_totals(revenues: &[Revenue], shares: &[u16]) -> (Vec<u64>, u64, u64) {
    let mut recipients = vec![0u64; shares.len()];
    let (mut protocol, mut referral) = (0, 0);
    for r in revenues {
        let p = share(r.gross, r.protocol_bps);
        let f = share(r.gross, r.referral_bps);
        protocol += p;
        referral += f;
        for (total, part) in recipients.iter_mut().zip(split(r.gross - p - f, shares)) {
            *total += part;
        }
    }
    (recipients, protocol, referral)
}

fn balance_of(w: &World, owner: &Pubkey, mint: &PaymentMint) -> u64 {
    w.balance(&get_associated_token_address_with_program_id(owner, &mint.mint, &mint.token_program))
}

fn marketplace_life(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet(); // owns C (with Alice and Bob) and F
    let meter_owner = w.wallet(); // owns M (with Alice)
    let alice = w.wallet();
    let bob = w.wallet();
    let referrer = w.wallet();
    let keeper = w.wallet(); // settles, refunds and sweeps: anyone may
    let attestor = w.keypair(); // co-signs a usage receipt, pays nothing
    let operator = w.operator.insecure_clone();
    let arbiter = w.arbiter.insecure_clone();
    w.svm.airdrop(&arbiter.pubkey(), SOL).unwrap();
    let usdc = mint_copy(&w.usdc);
    let t22 = w.create_mint(TOKEN_2022, 6, MintExtra::None);
    let t0 = w.now();

    // Five buyers, each funded with exactly what it will pay.
    let buyers: Vec<Keypair> = (0..5).map(|_| w.wallet()).collect();
    let (b1, b2, b3, b4, b5) = (&buyers[0], &buyers[1], &buyers[2], &buyers[3], &buyers[4]);
    let usdc_funding = [2 * PRICE_C, PRICE_C, PRICE_C, PRICE_C, PRICE_C];
    let t22_funding = [13 * CREDIT_PRICE, 0, 0, 0, 4 * CREDIT_PRICE];
    for ((buyer, usdc_amount), t22_amount) in buyers.iter().zip(usdc_funding).zip(t22_funding) {
        w.fund(&usdc, &buyer.pubkey(), usdc_amount);
        if t22_amount > 0 {
            w.fund(&t22, &buyer.pubkey(), t22_amount);
        }
    }

    let mut rent = RentBook::default();
    for (name, wallet) in [
        ("owner", owner.pubkey()),
        ("meter owner", meter_owner.pubkey()),
        ("alice", alice.pubkey()),
        ("bob", bob.pubkey()),
        ("referrer", referrer.pubkey()),
        ("keeper", keeper.pubkey()),
        ("attestor", attestor.pubkey()),
        ("operator", operator.pubkey()),
        ("arbiter", arbiter.pubkey()),
        ("b1", b1.pubkey()),
        ("b2", b2.pubkey()),
        ("b3", b3.pubkey()),
        ("b4", b4.pubkey()),
        ("b5", b5.pubkey()),
    ] {
        rent.track(&w, name, &wallet);
    }
    let mut life = Life { w, ds: vec![], lics: vec![], receipts: vec![], rent, keeper, steps: 0 };
    life.check();

    // --- Registration -------------------------------------------------------------------------
    // C: three contributors 50 / 30 / 20, 30-day licences, 5% referral.
    let mut args = dataset_args(
        "life-contributors",
        vec![
            Recipient { wallet: owner.pubkey(), bps: SHARES_C[0] },
            Recipient { wallet: alice.pubkey(), bps: SHARES_C[1] },
            Recipient { wallet: bob.pubkey(), bps: SHARES_C[2] },
        ],
    );
    args.price = PRICE_C;
    args.terms.duration_secs = 30 * DAY as u64;
    assert_eq!(life.register(&owner, args, &usdc), C);

    // M: metered, a price per credit, paid in a Token-2022 mint, 70 / 30, 10% referral.
    let mut args = dataset_args(
        "life-metered",
        vec![
            Recipient { wallet: meter_owner.pubkey(), bps: SHARES_M[0] },
            Recipient { wallet: alice.pubkey(), bps: SHARES_M[1] },
        ],
    );
    args.price = CREDIT_PRICE;
    args.terms.metered = true;
    args.referral_fee_bps = METERED_REFERRAL_BPS;
    assert_eq!(life.register(&meter_owner, args, &t22), M);

    // F: free, perpetual, only for allow-listed buyers.
    let mut args = dataset_args("life-free", single_owner(&owner.pubkey()));
    args.price = 0;
    args.terms.duration_secs = 0;
    args.allow_list_enabled = true;
    assert_eq!(life.register(&owner, args, &usdc), F);
    life.allow(F, &owner, &b2.pubkey());
    life.allow(F, &owner, &b5.pubkey());

    // --- t0: purchases ------------------------------------------------------------------------
    // the referrer is a front-end the operator registered
    let front_end = front_end_address(&referrer.pubkey());
    let register_referrer = register_front_end(operator.pubkey(), referrer.pubkey());
    life.ok(&[register_referrer], &[&operator], &[(operator.pubkey(), front_end)], &[]);
    let r = Some(referrer.pubkey());
    life.buy(C, b1, r, 1);
    life.buy(C, b2, r, 1);
    life.buy(C, b3, None, 1); // never delivered: refunded later
    life.buy(C, b4, None, 1); // disputed later
    life.buy(M, b1, r, 10);
    life.buy(M, b5, None, 4);
    life.buy(F, b2, None, 1);
    life.buy(F, b5, None, 1);
    let fh = life.h(F);
    // without an entry to show, a buyer not on the allow-list is refused
    let mut ixs = life.purchase_ixs(F, &b3.pubkey(), None, 1);
    ixs[1] = purchase_license(b3.pubkey(), &fh, purchase_args(0), None);
    let watched = [fh.address, fh.license(&b3.pubkey()), fh.license_mint, fh.license_account(&b3.pubkey())];
    life.refused(&ixs, &[b3], MarketError::NotOnAllowList, &watched);

    // --- t0 + 1h: deliveries, usage, reviews; the protocol fee goes up ------------------------
    life.w.warp(HOUR);
    life.deliver(C, &owner, b1);
    life.deliver(C, &owner, b2);
    life.deliver(C, &owner, b4);
    life.deliver(M, &meter_owner, b1);
    life.deliver(M, &meter_owner, b5);
    life.deliver(F, &owner, b2);
    life.deliver(F, &owner, b5);
    life.record(C, b1, Some(&attestor), MODEL_A, UsagePurpose::Training);
    life.record(M, b1, None, MODEL_A, UsagePurpose::FineTuning);
    life.record(M, b1, None, MODEL_A, UsagePurpose::FineTuning);
    life.record(M, b5, None, MODEL_B, UsagePurpose::Evaluation);
    life.record(F, b2, None, MODEL_B, UsagePurpose::InferenceRag);
    life.review(C, b1, 5);
    life.review(C, b4, 2);
    life.review(M, b5, 4);
    life.review(M, b1, 5);
    life.review(F, b2, 3);
    life.set_protocol_fee(&operator, RAISED_PROTOCOL_FEE_BPS);
    life.buy(C, b5, None, 1); // at the raised fee

    // --- t0 + 1d: a dispute freezing usage, a late delivery, a top-up refused before settlement --
    life.w.warp(DAY - HOUR);
    life.dispute(C, b4);
    let ch = life.h(C);
    let l4 = life.w.license(&ch.license(&b4.pubkey()));
    let frozen_use = record_usage(
        record_usage_accounts(b4.pubkey(), &ch, l4.serial, l4.usage_count, None),
        RecordUsageArgs { purpose: UsagePurpose::Training, model_hash: MODEL_B, run_id: [4; 32] },
    );
    let frozen_receipt = receipt_address(&ch.license(&b4.pubkey()), l4.serial, l4.usage_count);
    let b4_watch = [ch.address, ch.license(&b4.pubkey()), ch.license_account(&b4.pubkey()), frozen_receipt];
    life.refused(&[frozen_use], &[b4], MarketError::LicenseDisputed, &b4_watch);
    life.deliver(C, &owner, b5);
    // b1's metered licence is still open to a dispute: no credits before it settles
    let mh = life.h(M);
    let b1_watch = [
        mh.address,
        mh.license(&b1.pubkey()),
        mh.escrow_vault,
        mh.license_mint,
        mh.license_account(&b1.pubkey()),
        mh.payment_account(&b1.pubkey()),
    ];
    let total = 3 * CREDIT_PRICE;
    life.refused(&[buy_credits(b1.pubkey(), &mh, 3, total)], &[b1], MarketError::LicenseNotSettled, &b1_watch);

    // --- t0 + 2d: b3's delivery window ends; one second later its refund is due ----------------
    life.w.warp(DAY);
    let ch = life.h(C);
    let b3_watch = [ch.address, ch.license(&b3.pubkey()), ch.escrow_vault, ch.license_account(&b3.pubkey())];
    let keeper = life.keeper.insecure_clone();
    life.refused(
        &[refund_license(keeper.pubkey(), &ch, &b3.pubkey())],
        &[&keeper],
        MarketError::DeliveryWindowOpen,
        &b3_watch,
    );
    life.w.warp(1);
    life.refund(C, b3);
    // the void licence can never be used, delivered, settled, renewed, disputed or reviewed again
    let l3 = life.w.license(&ch.license(&b3.pubkey()));
    let usage = record_usage(
        record_usage_accounts(b3.pubkey(), &ch, l3.serial, l3.usage_count, None),
        RecordUsageArgs { purpose: UsagePurpose::Training, model_hash: MODEL_A, run_id: [3; 32] },
    );
    let receipt = receipt_address(&ch.license(&b3.pubkey()), l3.serial, 0);
    let b3_pay = ch.payment_account(&b3.pubkey());
    let watch: Vec<Pubkey> = b3_watch.iter().copied().chain([receipt, b3_pay, ch.license_mint]).collect();
    life.refused(&[usage], &[b3], MarketError::LicenseVoid, &watch);
    life.refused(
        &[deliver_key(owner.pubkey(), &ch, &b3.pubkey(), SEALED_KEY)],
        &[&owner],
        MarketError::LicenseVoid,
        &watch,
    );
    life.refused(&[settle_license(keeper.pubkey(), &ch, &b3.pubkey())], &[&keeper], MarketError::LicenseVoid, &watch);
    life.refused(&[renew_license(b3.pubkey(), &ch, PRICE_C)], &[b3], MarketError::LicenseVoid, &watch);
    life.refused(&[refund_license(keeper.pubkey(), &ch, &b3.pubkey())], &[&keeper], MarketError::LicenseVoid, &watch);
    let dispute3 = dispute_address(&ch.license(&b3.pubkey()));
    let watch_d: Vec<Pubkey> = watch.iter().copied().chain([dispute3]).collect();
    life.refused(
        &[open_dispute(b3.pubkey(), &ch, DisputeReason::Other, "ipfs://x")],
        &[b3],
        MarketError::LicenseVoid,
        &watch_d,
    );
    let review3 = ReviewArgs { rating: 1, text_hash: [1; 32], uri: "ipfs://r".into() };
    let watch_r: Vec<Pubkey> = watch.iter().copied().chain([review_address(&ch.license(&b3.pubkey()))]).collect();
    life.refused(&[submit_review(b3.pubkey(), &ch, review3)], &[b3], MarketError::LicenseVoid, &watch_r);

    // The arbiter splits b4's dispute: 40% back to the buyer, who keeps the licence.
    let back = life.rule(C, &arbiter, b4, Ruling::Split { buyer_bps: SPLIT_BUYER_BPS });
    assert_eq!(back, share(PRICE_C, SPLIT_BUYER_BPS));
    let released = PRICE_C - back;
    let l4 = life.w.license(&ch.license(&b4.pubkey()));
    assert_eq!((l4.refunded_amount, l4.protocol_fee, l4.referral_fee), (back, share(released, PROTOCOL_FEE_BPS), 0));
    let record4: data_market::state::Dispute = life.w.account(&dispute_address(&ch.license(&b4.pubkey())));
    assert_eq!(record4.ruling, Some(Ruling::Split { buyer_bps: SPLIT_BUYER_BPS }));
    life.record(C, b4, None, MODEL_B, UsagePurpose::Training); // ruled: the licence is usable again

    // --- t0 + 1h + 3d: the first deliveries' dispute windows close -----------------------------
    life.w.warp(HOUR + 3 * DAY - (2 * DAY + 1));
    assert_eq!(life.w.now(), t0 + HOUR + 3 * DAY);
    life.settle(C, b1);
    life.settle(C, b2);
    life.settle(M, b1);
    life.top_up(M, b1, 3); // settled now: at the raised fee, no referral fee
    life.settle(M, b5);
    life.settle(F, b2);
    life.settle(F, b5);
    let wh = life.h(C);
    life.refused(
        &[settle_license(keeper.pubkey(), &wh, &b5.pubkey())],
        &[&keeper],
        MarketError::DisputeWindowOpen,
        &[wh.address, wh.license(&b5.pubkey())],
    );
    let expires = life.w.license(&ch.license(&b1.pubkey())).expires_at;
    assert_eq!(expires, t0 + HOUR + 30 * DAY); // the term runs from delivery
    life.renew(C, b1); // at the raised fee
    assert_eq!(life.w.license(&ch.license(&b1.pubkey())).expires_at, t0 + HOUR + 60 * DAY);

    // every recipient claims
    let mut got: HashMap<(usize, Pubkey), u64> = HashMap::new();
    for (ds, who) in [(C, &owner), (C, &alice), (C, &bob), (M, &meter_owner), (M, &alice)] {
        *got.entry((ds, who.pubkey())).or_default() += life.claim(ds, who);
    }
    // a free dataset owes nothing
    let fh = life.h(F);
    life.w.payment_account_of(&owner.pubkey());
    life.refused(
        &[claim_revenue(owner.pubkey(), &fh)],
        &[&owner],
        MarketError::NothingToClaim,
        &[fh.address, fh.escrow_vault],
    );
    let mut referral_paid = HashMap::<usize, u64>::new();
    *referral_paid.entry(C).or_default() += life.claim_referral(C, &referrer, b1);
    *referral_paid.entry(C).or_default() += life.claim_referral(C, &referrer, b2);
    *referral_paid.entry(M).or_default() += life.claim_referral(M, &referrer, b1);
    // a referral fee is paid once
    life.refused(
        &[claim_referral_fee(referrer.pubkey(), &ch, &b1.pubkey())],
        &[&referrer],
        MarketError::NothingToClaim,
        &[ch.address, ch.escrow_vault, ch.license(&b1.pubkey())],
    );
    let mut swept = HashMap::<usize, u64>::new();
    *swept.entry(C).or_default() += life.sweep(C);
    *swept.entry(M).or_default() += life.sweep(M);
    life.w.payment_account_of(&life.w.treasury.pubkey());
    life.refused(
        &[sweep_protocol_fees(keeper.pubkey(), &fh, &life.w.treasury.pubkey())],
        &[&keeper],
        MarketError::NothingToSweep,
        &[fh.address, fh.escrow_vault],
    );
    assert_eq!(life.w.balance(&life.h(M).escrow_vault), 0);
    life.close_dispute(C, b4);
    life.edit_review(C, b4, 1);

    // --- t0 + 4d: the last settlement ----------------------------------------------------------
    life.w.warp(DAY - HOUR);
    assert_eq!(life.w.now(), t0 + 4 * DAY);
    life.settle(C, b5);
    life.record(C, b5, None, MODEL_A, UsagePurpose::Other);
    for who in [&owner, &alice, &bob] {
        *got.entry((C, who.pubkey())).or_default() += life.claim(C, who);
    }
    *swept.entry(C).or_default() += life.sweep(C);
    assert_eq!(life.w.balance(&ch.escrow_vault), 0);

    // --- Provenance, usage counters and ratings ------------------------------------------------
    life.assert_provenance(&MODEL_A);
    life.assert_provenance(&MODEL_B);
    assert_eq!(life.receipts.iter().filter(|(_, m)| *m == MODEL_A).count(), 4);
    assert_eq!(life.receipts.iter().filter(|(_, m)| *m == MODEL_B).count(), 3);
    let attested: Vec<_> = life.receipts.iter().filter(|(r, _)| r.attestor != Pubkey::default()).collect();
    assert_eq!(attested.len(), 1);
    assert_eq!(attested[0].0.attestor, attestor.pubkey());
    // receipts of one model in one dataset: two filters at once
    let a_in_m = life.w.program_accounts_of::<UsageReceipt>(&[
        (FIELDS, life.h(M).address.as_ref()),
        (FIELDS + 64, MODEL_A.as_slice()),
    ]);
    assert_eq!(a_in_m.len(), 2);
    assert!(a_in_m.iter().all(|(_, r)| r.license == life.h(M).license(&b1.pubkey())));
    let c = life.w.dataset(&ch.address);
    let m = life.w.dataset(&life.h(M).address);
    let f = life.w.dataset(&fh.address);
    assert_eq!(c.usage_by_purpose, [2, 0, 0, 0, 1]);
    assert_eq!(m.usage_by_purpose, [0, 2, 1, 0, 0]);
    assert_eq!(f.usage_by_purpose, [0, 0, 0, 1, 0]);
    // reviews of paid licences and of free ones are kept apart
    assert_eq!((c.ratings.paid.count, c.ratings.paid.sum, c.ratings.free.count), (2, 5 + 1, 0));
    assert_eq!((m.ratings.paid.count, m.ratings.paid.sum, m.ratings.free.count), (2, 4 + 5, 0));
    assert_eq!((f.ratings.free.count, f.ratings.free.sum, f.ratings.paid.count), (1, 3, 0));
    assert_eq!(c.licenses_sold, 5);

    // --- Closes --------------------------------------------------------------------------------
    for buyer in [b1, b2, b3, b4, b5] {
        life.close_license(C, buyer); // b3's refunded licence too
    }
    life.close_license(F, b2);
    life.close_license(F, b5);
    life.unallow(F, &owner, &b2.pubkey());
    life.unallow(F, &owner, &b5.pubkey());
    // M's licences stay open: M cannot close
    let mh = life.h(M);
    life.refused(
        &[close_dataset(meter_owner.pubkey(), &mh)],
        &[&meter_owner],
        MarketError::DatasetStillInUse,
        &[mh.address, mh.escrow_vault],
    );
    life.retire_and_close(C, &owner);
    life.retire_and_close(F, &owner);

    // Receipts outlive their licences and datasets: provenance still lists them.
    life.assert_provenance(&MODEL_A);
    life.assert_provenance(&MODEL_B);

    // --- Every token paid in was paid out, exactly, per mint -----------------------------------
    let c_revenue = [
        Revenue { gross: PRICE_C, protocol_bps: PROTOCOL_FEE_BPS, referral_bps: REFERRAL_FEE_BPS }, // b1
        Revenue { gross: PRICE_C, protocol_bps: PROTOCOL_FEE_BPS, referral_bps: REFERRAL_FEE_BPS }, // b2
        Revenue { gross: released, protocol_bps: PROTOCOL_FEE_BPS, referral_bps: 0 },               // b4, split
        Revenue { gross: PRICE_C, protocol_bps: RAISED_PROTOCOL_FEE_BPS, referral_bps: 0 },         // b5
        Revenue { gross: PRICE_C, protocol_bps: RAISED_PROTOCOL_FEE_BPS, referral_bps: 0 },         // b1 renewal
    ];
    let m_revenue = [
        Revenue { gross: 10 * CREDIT_PRICE, protocol_bps: PROTOCOL_FEE_BPS, referral_bps: METERED_REFERRAL_BPS },
        Revenue { gross: 4 * CREDIT_PRICE, protocol_bps: PROTOCOL_FEE_BPS, referral_bps: 0 },
        Revenue { gross: 3 * CREDIT_PRICE, protocol_bps: RAISED_PROTOCOL_FEE_BPS, referral_bps: 0 }, // top-up
    ];
    let (c_parts, c_protocol, c_referral) = expected_totals(&c_revenue, &SHARES_C);
    let (m_parts, m_protocol, m_referral) = expected_totals(&m_revenue, &SHARES_M);
    let w = &life.w;
    // per recipient, per dataset (what each claim paid) and per wallet (its token balances)
    assert_eq!(
        [got[&(C, owner.pubkey())], got[&(C, alice.pubkey())], got[&(C, bob.pubkey())]].to_vec(),
        c_parts,
        "C's recipients"
    );
    assert_eq!([got[&(M, meter_owner.pubkey())], got[&(M, alice.pubkey())]].to_vec(), m_parts, "M's recipients");
    assert_eq!(balance_of(w, &owner.pubkey(), &usdc), c_parts[0]);
    assert_eq!(balance_of(w, &alice.pubkey(), &usdc), c_parts[1]);
    assert_eq!(balance_of(w, &bob.pubkey(), &usdc), c_parts[2]);
    assert_eq!(balance_of(w, &meter_owner.pubkey(), &t22), m_parts[0]);
    assert_eq!(balance_of(w, &alice.pubkey(), &t22), m_parts[1]);
    assert_eq!((swept[&C], swept[&M]), (c_protocol, m_protocol));
    assert_eq!((referral_paid[&C], referral_paid[&M]), (c_referral, m_referral));
    let treasury = w.treasury.pubkey();
    assert_eq!(balance_of(w, &treasury, &usdc), c_protocol);
    assert_eq!(balance_of(w, &treasury, &t22), m_protocol);
    assert_eq!(balance_of(w, &referrer.pubkey(), &usdc), c_referral);
    assert_eq!(balance_of(w, &referrer.pubkey(), &t22), m_referral);
    // buyers: b3 whole again, b4 holds its 40%, everyone else spent exactly what it was funded with
    let usdc_left: Vec<u64> = buyers.iter().map(|b| balance_of(w, &b.pubkey(), &usdc)).collect();
    assert_eq!(usdc_left, vec![0, 0, PRICE_C, back, 0]);
    let t22_left: Vec<u64> = buyers.iter().map(|b| balance_of(w, &b.pubkey(), &t22)).collect();
    assert_eq!(t22_left, vec![0; 5]);
    for (mint, funding, parts, protocol, referral, vaults) in [
        (&usdc, usdc_funding.to_vec(), &c_parts, c_protocol, c_referral, 0),
        (&t22, t22_funding.to_vec(), &m_parts, m_protocol, m_referral, w.balance(&life.h(M).escrow_vault)),
    ] {
        let paid_in: u64 =
            buyers.iter().zip(&funding).map(|(b, funded)| funded - balance_of(w, &b.pubkey(), mint)).sum();
        let paid_out = parts.iter().sum::<u64>() + protocol + referral;
        assert_eq!(paid_in, paid_out + vaults, "tokens paid in != tokens paid out + vault ({})", mint.mint);
    }
    assert_eq!(c_revenue.iter().map(|r| r.gross).sum::<u64>(), c_parts.iter().sum::<u64>() + c_protocol + c_referral);

    // --- Rent: every lamport accounted for ------------------------------------------------------
    life.check();
    let locked: Vec<(&str, u64)> = life
        .rent
        .wallets
        .iter()
        .map(|(name, wallet, _)| {
            (*name, life.rent.created.iter().filter(|c| c.payer == *wallet).map(|c| w.lamports(&c.account)).sum())
        })
        .collect();
    // what stays locked: M, the licence mints and the content-hash records (a hash stays taken) for
    // their owners; the front-end record for the operator; licence token accounts, receipts, reviews
    // and M's licences for the buyers; nothing for payees and the keeper
    let rent_of = |a: &Pubkey| w.lamports(a);
    let owner_locked = rent_of(&ch.license_mint)
        + rent_of(&fh.license_mint)
        + rent_of(&ch.content_hash_record)
        + rent_of(&fh.content_hash_record);
    assert_eq!(locked[0], ("owner", owner_locked));
    assert_eq!(
        locked[1].1,
        rent_of(&mh.address) + rent_of(&mh.license_mint) + rent_of(&mh.escrow_vault) + rent_of(&mh.content_hash_record)
    );
    assert_eq!(locked[7], ("operator", rent_of(&front_end)));
    for (name, amount) in locked[2..7].iter().chain(&locked[8..9]) {
        assert_eq!(*amount, 0, "{name} has rent locked");
    }
    let b4_locked = rent_of(&ch.license_account(&b4.pubkey())) + rent_of(&review_address(&ch.license(&b4.pubkey())));
    assert_eq!(
        locked[12],
        (
            "b4",
            b4_locked
                + life
                    .receipts
                    .iter()
                    .filter(|(r, _)| r.holder == b4.pubkey())
                    .map(|(r, _)| rent_of(&r.address))
                    .sum::<u64>()
        )
    );
    let created = life.rent.created.len();
    let closed = life.rent.created.iter().filter(|c| c.returned.is_some()).count();
    println!(
        "{backend:?}: {} steps, {created} accounts created, {closed} closed, rent reconciled for {} wallets",
        life.steps,
        life.rent.wallets.len()
    );
}

on_both_backends!(marketplace_life);
