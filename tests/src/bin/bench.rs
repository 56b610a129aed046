//! Benchmark: runs every instruction once on the SBF build in LiteSVM and reports compute units
//! (total and excluding CPIs), transaction size, account counts and the rent of every account type
//! the program creates. Prints a table, writes target/bench/cu.json, and exits non-zero if an
//! instruction exceeds its compute budget target.
//!
//! cargo run -p market-tests --bin bench
#![allow(deprecated)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Space;
use data_market::instruction;
use data_market::instructions::*;
use data_market::state::{AllowListEntry, DatasetState, Dispute, DisputeReason, Recipient, Ruling, UsagePurpose};
use market_tests::tokens::TOKEN_2022;
use market_tests::*;
use serde_json::{json, Value};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Measurement {
    name: &'static str,
    cu: u64,
    own_cu: u64,
    tx_bytes: usize,
    accounts: usize,
    writable: usize,
    signers: usize,
    target: u64,
    writable_accounts: Vec<String>,
}

/// Compute units the program spent itself: its total minus what the programs it invoked consumed
/// (the CPI overhead charged to the caller stays in its own figure). Programs invoked by other
/// top-level instructions of the transaction (the licence-account creation) do not count.
fn own_compute_units(logs: &[String]) -> u64 {
    let program = data_market::ID.to_string();
    let mut depth = 0usize;
    let mut inside = false;
    let mut total = 0u64;
    let mut children = 0u64;
    for line in logs {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Program", id, "invoke", _] => {
                depth += 1;
                if depth == 1 {
                    inside = *id == program;
                }
            }
            ["Program", id, "consumed", n, "of", ..] => {
                let n: u64 = n.parse().unwrap_or(0);
                if depth == 1 && *id == program {
                    total = n;
                } else if depth == 2 && inside {
                    children += n;
                }
            }
            ["Program", _, "success"] | ["Program", _, "failed:", ..] => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    total.saturating_sub(children)
}

struct Bench {
    world: World,
    labels: BTreeMap<Pubkey, String>,
    results: Vec<Measurement>,
}

impl Bench {
    fn label(&mut self, key: Pubkey, name: impl Into<String>) {
        self.labels.insert(key, name.into());
    }

    fn measure(&mut self, name: &'static str, target: u64, instruction: Instruction, signers: &[&Keypair]) {
        self.measure_transaction(name, target, vec![instruction], signers)
    }

    /// Measures a whole transaction; `cu` is its total, `own_cu` this program's share excluding CPIs.
    fn measure_transaction(
        &mut self,
        name: &'static str,
        target: u64,
        instructions: Vec<Instruction>,
        signers: &[&Keypair],
    ) {
        let tx = self.world.transaction(&instructions, signers);
        let tx_bytes = bincode::serialize(&tx).expect("serialize").len();
        let message = &tx.message;
        let writable_accounts: Vec<String> = (0..message.account_keys.len())
            .filter(|i| message.is_maybe_writable(*i, None))
            .map(|i| {
                let key = message.account_keys[i];
                self.labels.get(&key).cloned().unwrap_or_else(|| key.to_string())
            })
            .collect();
        let signers_count = usize::from(message.header.num_required_signatures);
        let accounts = message.account_keys.len();
        let result = self.world.svm.send_transaction(tx);
        self.world.svm.expire_blockhash();
        let meta = result.unwrap_or_else(|f| panic!("{name} failed: {:?}\n{}", f.err, f.meta.pretty_logs()));
        self.results.push(Measurement {
            name,
            cu: meta.compute_units_consumed,
            own_cu: own_compute_units(&meta.logs),
            tx_bytes,
            accounts,
            writable: writable_accounts.len(),
            signers: signers_count,
            target,
            writable_accounts,
        });
    }
}

const REGISTER_TARGET: u64 = 90_000;
const NEW_BUYER_TARGET: u64 = 60_000;
const RETURNING_BUYER_TARGET: u64 = 35_000;
const OTHER_TARGET: u64 = 30_000;
const USAGE_TARGET: u64 = 25_000;
const REVIEW_TARGET: u64 = 20_000;
const DISPUTE_TARGET: u64 = 30_000;

fn main() {
    let world = World::new(Backend::Sbf);
    let operator = world.operator.insecure_clone();
    let treasury = world.treasury.pubkey();
    let mut bench = Bench { world, labels: BTreeMap::new(), results: Vec::new() };
    bench.label(marketplace_address(), "marketplace (config)");

    // operator instructions
    let update = UpdateMarketplaceArgs { protocol_fee_bps: Some(PROTOCOL_FEE_BPS), ..Default::default() };
    bench.measure("update_marketplace", OTHER_TARGET, update_marketplace(operator.pubkey(), update), &[&operator]);
    let successor = bench.world.wallet();
    bench.measure(
        "propose_authority",
        OTHER_TARGET,
        propose_authority(operator.pubkey(), successor.pubkey()),
        &[&operator],
    );
    bench.measure("accept_authority", OTHER_TARGET, accept_authority(successor.pubkey()), &[&successor]);

    // registration: three recipients, non-transferable licence, SPL Token payment mint
    let owner = bench.world.wallet();
    let contributors = [bench.world.wallet(), bench.world.wallet()];
    let recipients = vec![
        Recipient { wallet: owner.pubkey(), bps: 6_000 },
        Recipient { wallet: contributors[0].pubkey(), bps: 2_500 },
        Recipient { wallet: contributors[1].pubkey(), bps: 1_500 },
    ];
    let args = dataset_args("benchmark corpus", recipients);
    let d = bench.world.handle("benchmark corpus", &owner.pubkey());
    for (key, name) in [
        (d.address, "dataset"),
        (d.license_mint, "license mint"),
        (d.escrow_vault, "escrow vault"),
        (owner.pubkey(), "owner"),
    ] {
        bench.label(key, name);
    }
    bench.measure("register_dataset", REGISTER_TARGET, register_dataset(owner.pubkey(), &d, args), &[&owner]);
    let update = UpdateDatasetArgs { price: Some(PRICE), ..Default::default() };
    bench.measure("update_dataset", OTHER_TARGET, update_dataset(owner.pubkey(), &d, update), &[&owner]);

    // purchases: a new buyer (licence token account created) and a returning one (it exists)
    let referrer = bench.world.wallet();
    let new_buyer = bench.world.buyer(PRICE * 2);
    label_buyer(&mut bench, &d, &new_buyer.pubkey(), "buyer");
    // a new buyer's transaction also creates its licence token account
    bench.measure(
        "register_front_end",
        OTHER_TARGET,
        register_front_end(successor.pubkey(), referrer.pubkey()),
        &[&successor],
    );
    let purchase = purchase_instructions(new_buyer.pubkey(), &d, purchase_args(PRICE), Some(referrer.pubkey()));
    bench.measure_transaction("purchase_license (new buyer)", NEW_BUYER_TARGET, purchase, &[&new_buyer]);

    // a returning buyer already has the account (the client checks and skips its creation)
    let returning = bench.world.buyer(PRICE);
    let create = create_license_account(returning.pubkey(), &d, &returning.pubkey());
    bench.world.send(&[create], &[&returning]).succeeds();
    label_buyer(&mut bench, &d, &returning.pubkey(), "returning buyer");
    let purchase = purchase_license(returning.pubkey(), &d, purchase_args(PRICE), None);
    bench.measure("purchase_license (returning buyer)", RETURNING_BUYER_TARGET, purchase, &[&returning]);

    bench.measure(
        "deliver_key",
        OTHER_TARGET,
        deliver_key(owner.pubkey(), &d, &new_buyer.pubkey(), SEALED_KEY),
        &[&owner],
    );

    measure_previews(&mut bench, &owner, &d);

    bench.world.warp(DISPUTE_WINDOW as i64);
    let caller = bench.world.wallet();
    bench.measure("settle_license", OTHER_TARGET, settle_license(caller.pubkey(), &d, &new_buyer.pubkey()), &[&caller]);
    // renewals and top-ups are paid once the licence is settled
    bench.measure("renew_license", OTHER_TARGET, renew_license(new_buyer.pubkey(), &d, PRICE), &[&new_buyer]);

    bench.world.payment_account_of(&contributors[0].pubkey());
    bench.measure("claim_revenue", OTHER_TARGET, claim_revenue(contributors[0].pubkey(), &d), &[&contributors[0]]);
    bench.world.payment_account_of(&referrer.pubkey());
    let claim = claim_referral_fee(referrer.pubkey(), &d, &new_buyer.pubkey());
    bench.measure("claim_referral_fee", OTHER_TARGET, claim, &[&referrer]);
    bench.world.payment_account_of(&treasury);
    bench.measure("sweep_protocol_fees", OTHER_TARGET, sweep_protocol_fees(caller.pubkey(), &d, &treasury), &[&caller]);

    // the returning buyer's key never comes: refund after the delivery window
    bench.world.warp(DELIVERY_WINDOW as i64);
    let refund = refund_license(caller.pubkey(), &d, &returning.pubkey());
    bench.measure("refund_license", OTHER_TARGET, refund, &[&caller]);
    bench.world.assert_conserved(&d);
    assert_eq!(bench.world.dataset(&d.address).state, DatasetState::Active);
    let close = close_license(returning.pubkey(), &d);
    bench.measure("close_license", OTHER_TARGET, close, &[&returning]);

    after_sale(&mut bench, &d, &owner, &new_buyer, &successor);
    bench.world.assert_conserved(&d);
    closes(&mut bench, &successor);

    let spread = purchase_spread(&mut bench, &d);
    let rent = rent_table(&mut bench, &d, &new_buyer.pubkey());
    let sizes = max_sizes(&mut bench.world);
    report(&bench.results, &spread, &rent, &sizes);
}

/// The instructions that give rent back or resolve what nobody claims: a forfeited referral fee, a
/// receipt and a review reclaimed, a front-end removed, a squatted hash released.
fn closes(bench: &mut Bench, operator: &Keypair) {
    let owner = bench.world.wallet();
    let mut args = dataset_args("closing corpus", single_owner(&owner.pubkey()));
    args.terms.duration_secs = DAY as u64;
    let d = bench.world.register_with(&owner, args);
    let front_end = bench.world.wallet();
    let buyer = bench.world.buyer(PRICE);
    // the marketplace authority moved to `operator` above
    bench.world.send(&[register_front_end(operator.pubkey(), front_end.pubkey())], &[operator]).succeeds();
    bench.world.buy(&d, &buyer, Some(front_end.pubkey())).succeeds();
    bench.world.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let license = bench.world.license(&d.license(&buyer.pubkey()));
    let accounts = record_usage_accounts(buyer.pubkey(), &d, license.serial, license.usage_count, None);
    let receipt = accounts.receipt;
    let usage = RecordUsageArgs { purpose: UsagePurpose::Evaluation, model_hash: [0x5e; 32], run_id: [5; 32] };
    bench.world.send(&[record_usage(accounts, usage)], &[&buyer]).succeeds();
    let review = ReviewArgs { rating: 3, text_hash: [2; 32], uri: "ipfs://bafkreireview".into() };
    bench.world.send(&[submit_review(buyer.pubkey(), &d, review)], &[&buyer]).succeeds();
    bench.world.warp(DISPUTE_WINDOW as i64);
    bench.world.settle(&d, &buyer.pubkey()).succeeds();
    bench.world.warp(data_market::constants::REFERRAL_CLAIM_WINDOW_SECS);
    let keeper = bench.world.wallet();
    let forfeit = forfeit_referral_fee(keeper.pubkey(), &d, &buyer.pubkey());
    bench.measure("forfeit_referral_fee", OTHER_TARGET, forfeit, &[&keeper]);
    let close = close_usage_receipt(buyer.pubkey(), d.license(&buyer.pubkey()), receipt);
    bench.measure("close_usage_receipt", OTHER_TARGET, close, &[&buyer]);
    bench.measure("close_review", OTHER_TARGET, close_review(buyer.pubkey(), &d), &[&buyer]);
    let remove = remove_front_end(operator.pubkey(), &front_end.pubkey());
    bench.measure("remove_front_end", OTHER_TARGET, remove, &[operator]);
    bench.world.send(&[revoke_dataset(operator.pubkey(), &d, 451)], &[operator]).succeeds();
    let release = release_content_hash(operator.pubkey(), &d, bench.world.wallet().pubkey());
    bench.measure("release_content_hash", OTHER_TARGET, release, &[operator]);
}

/// Compute units of one purchase across many buyer keys (each key needs a different number of
/// bump candidates for its licence address): (label, own CU per buyer, total CU per buyer, target).
type Spread = Vec<(&'static str, Vec<u64>, Vec<u64>, u64)>;

const SPREAD_BUYERS: usize = 48;

fn purchase_spread(bench: &mut Bench, d: &DatasetHandle) -> Spread {
    let mut new = (Vec::new(), Vec::new());
    let mut returning = (Vec::new(), Vec::new());
    for i in 0..SPREAD_BUYERS {
        let buyer = bench.world.buyer(PRICE);
        let returning_buyer = i % 2 == 1;
        let instructions = if returning_buyer {
            let create = create_license_account(buyer.pubkey(), d, &buyer.pubkey());
            bench.world.send(&[create], &[&buyer]).succeeds();
            vec![purchase_license(buyer.pubkey(), d, purchase_args(PRICE), None)]
        } else {
            purchase_instructions(buyer.pubkey(), d, purchase_args(PRICE), None)
        };
        let meta = bench.world.send(&instructions, &[&buyer]).succeeds();
        let into = if returning_buyer { &mut returning } else { &mut new };
        into.0.push(own_compute_units(&meta.logs));
        into.1.push(meta.compute_units_consumed);
    }
    vec![
        ("purchase_license, new buyers", new.0, new.1, NEW_BUYER_TARGET),
        ("purchase_license, returning buyers", returning.0, returning.1, RETURNING_BUYER_TARGET),
    ]
}

/// The largest transaction a client sends for every instruction: every optional account present,
/// every bounded input at its maximum, and the two compute-budget instructions the client adds.
fn max_sizes(w: &mut World) -> Vec<(&'static str, usize)> {
    use data_market::constants::*;
    let budget = compute_budget_instructions();
    let [a, b, c] = [Keypair::new(), Keypair::new(), Keypair::new()];
    let (pa, pb) = (a.pubkey(), b.pubkey());
    let owner = pa;
    let d = DatasetHandle::derive([7; 32], owner, Pubkey::new_unique(), anchor_spl::token::ID);
    let previous = DatasetHandle::derive([8; 32], owner, d.payment_mint, anchor_spl::token::ID);
    let text = |n: usize| "x".repeat(n);

    let mut recipients = vec![Recipient { wallet: owner, bps: 10_000 - (MAX_RECIPIENTS as u16 - 1) }];
    recipients.extend((1..MAX_RECIPIENTS).map(|_| Recipient { wallet: Pubkey::new_unique(), bps: 1 }));
    let mut register_args = dataset_args("largest", recipients);
    register_args.title = text(MAX_TITLE_LEN);
    register_args.metadata_uri = text(MAX_METADATA_URI_LEN);
    register_args.ciphertext_cid = text(MAX_CID_LEN);
    register_args.tags = (0..MAX_TAGS).map(|_| text(TAG_LEN)).collect();
    let mut register = register_accounts(owner, &d);
    register.previous_version = Some(previous.address);

    let mut purchase = purchase_accounts(pb, &d, Some(c.pubkey()));
    purchase.allow_list_entry = Some(allow_list_entry_address(&d, &pb));
    let review = ReviewArgs { rating: 5, text_hash: [1; 32], uri: text(MAX_REVIEW_URI_LEN) };
    let usage = RecordUsageArgs { purpose: UsagePurpose::Training, model_hash: [1; 32], run_id: [1; 32] };
    let marketplace_update = UpdateMarketplaceArgs {
        treasury: Some(pa),
        arbiter: Some(pa),
        protocol_fee_bps: Some(1),
        max_referral_fee_bps: Some(1),
        purchases_paused: Some(true),
        min_delivery_window_secs: Some(60),
        min_dispute_window_secs: Some(60),
    };
    let dataset_update =
        UpdateDatasetArgs { price: Some(1), delivery_delegate: Some(pb), allow_list_enabled: Some(true) };
    let initialize = InitializeMarketplaceArgs {
        treasury: pa,
        arbiter: pa,
        protocol_fee_bps: 1,
        max_referral_fee_bps: 1,
        min_delivery_window_secs: 60,
        min_dispute_window_secs: 60,
    };
    let license = d.license(&pb);
    let cases: Vec<(&'static str, Vec<Instruction>, Vec<&Keypair>)> = vec![
        ("initialize_marketplace", vec![initialize_marketplace(pa, initialize)], vec![&a]),
        ("update_marketplace", vec![update_marketplace(pa, marketplace_update)], vec![&a]),
        ("propose_authority", vec![propose_authority(pa, pb)], vec![&a]),
        ("accept_authority", vec![accept_authority(pb)], vec![&b]),
        ("register_dataset", vec![build(register, instruction::RegisterDataset { args: register_args })], vec![&a]),
        ("update_dataset", vec![update_dataset(owner, &d, dataset_update)], vec![&a]),
        ("set_dataset_state", vec![set_dataset_state(owner, &d, DatasetState::Retired)], vec![&a]),
        ("revoke_dataset", vec![revoke_dataset(pa, &d, u16::MAX)], vec![&a]),
        ("add_to_allow_list", vec![add_to_allow_list(owner, &d, pb)], vec![&a]),
        ("remove_from_allow_list", vec![remove_from_allow_list(owner, &d, &pb)], vec![&a]),
        ("register_front_end", vec![register_front_end(pa, pb)], vec![&a]),
        ("remove_front_end", vec![remove_front_end(pa, &pb)], vec![&a]),
        (
            "purchase_license (+ licence account)",
            vec![
                create_license_account(pb, &d, &pb),
                build(purchase, instruction::PurchaseLicense { args: purchase_args(u64::MAX) }),
            ],
            vec![&b],
        ),
        ("renew_license", vec![renew_license(pb, &d, u64::MAX)], vec![&b]),
        ("buy_credits", vec![buy_credits(pb, &d, MAX_CREDITS_PER_PURCHASE, u64::MAX)], vec![&b]),
        ("deliver_key", vec![deliver_key(owner, &d, &pb, [9; SEALED_KEY_LEN])], vec![&a]),
        ("refund_license", vec![refund_license(pa, &d, &pb)], vec![&a]),
        ("settle_license", vec![settle_license(pa, &d, &pb)], vec![&a]),
        ("claim_revenue", vec![claim_revenue(owner, &d)], vec![&a]),
        ("claim_referral_fee", vec![claim_referral_fee(pa, &d, &pb)], vec![&a]),
        ("forfeit_referral_fee", vec![forfeit_referral_fee(pa, &d, &pb)], vec![&a]),
        ("sweep_protocol_fees", vec![sweep_protocol_fees(pa, &d, &pa)], vec![&a]),
        (
            "record_usage (attested)",
            vec![record_usage(record_usage_accounts(pb, &d, u64::MAX, u64::MAX, Some(pa)), usage)],
            vec![&b, &a],
        ),
        ("close_usage_receipt", vec![close_usage_receipt(pb, license, receipt_address(&license, 0, 0))], vec![&b]),
        ("submit_review", vec![submit_review(pb, &d, review.clone())], vec![&b]),
        ("update_review", vec![update_review(pb, &d, review)], vec![&b]),
        ("close_review", vec![close_review(pb, &d)], vec![&b]),
        ("open_dispute", vec![open_dispute(pb, &d, DisputeReason::Other, &text(MAX_EVIDENCE_URI_LEN))], vec![&b]),
        ("rule_dispute", vec![rule_dispute(pa, &d, &pb, Ruling::Split { buyer_bps: 1 })], vec![&a]),
        ("close_dispute", vec![close_dispute(pb, &d)], vec![&b]),
        ("close_license", vec![close_license(pb, &d)], vec![&b]),
        ("close_dataset", vec![close_dataset(owner, &d)], vec![&a]),
        ("release_content_hash", vec![release_content_hash(pa, &d, pb)], vec![&a]),
    ];
    cases
        .into_iter()
        .map(|(name, instructions, signers)| {
            let all: Vec<Instruction> = budget.iter().cloned().chain(instructions).collect();
            let tx = w.transaction(&all, &signers);
            (name, bincode::serialize(&tx).expect("serialize").len())
        })
        .collect()
}

/// Usage, reviews, allow-lists, disputes, credits and the dataset lifecycle.
fn after_sale(bench: &mut Bench, d: &DatasetHandle, owner: &Keypair, buyer: &Keypair, operator: &Keypair) {
    let attestor = bench.world.wallet();
    let license = bench.world.license(&d.license(&buyer.pubkey()));
    let accounts =
        record_usage_accounts(buyer.pubkey(), d, license.serial, license.usage_count, Some(attestor.pubkey()));
    let usage = RecordUsageArgs { purpose: UsagePurpose::Training, model_hash: [0x4d; 32], run_id: [1; 32] };
    bench.measure("record_usage (attested)", USAGE_TARGET, record_usage(accounts, usage), &[buyer, &attestor]);

    let review = ReviewArgs { rating: 4, text_hash: [2; 32], uri: "ipfs://bafkreireview".into() };
    bench.measure("submit_review", REVIEW_TARGET, submit_review(buyer.pubkey(), d, review.clone()), &[buyer]);
    let edit = ReviewArgs { rating: 5, ..review };
    bench.measure("update_review", REVIEW_TARGET, update_review(buyer.pubkey(), d, edit), &[buyer]);

    let listed = bench.world.wallet();
    bench.measure("add_to_allow_list", OTHER_TARGET, add_to_allow_list(owner.pubkey(), d, listed.pubkey()), &[owner]);
    let remove = remove_from_allow_list(owner.pubkey(), d, &listed.pubkey());
    bench.measure("remove_from_allow_list", OTHER_TARGET, remove, &[owner]);

    // a delivered buyer disputes; the arbiter splits the escrow
    let disputer = bench.world.buyer(PRICE);
    bench.world.buy(d, &disputer, None).succeeds();
    bench.world.deliver(d, owner, &disputer.pubkey()).succeeds();
    let open = open_dispute(disputer.pubkey(), d, DisputeReason::HashMismatch, "ipfs://bafkreievidence");
    bench.measure("open_dispute", DISPUTE_TARGET, open, &[&disputer]);
    let arbiter = bench.world.arbiter.insecure_clone();
    let rule = rule_dispute(arbiter.pubkey(), d, &disputer.pubkey(), Ruling::Split { buyer_bps: 4_000 });
    bench.measure("rule_dispute (split)", DISPUTE_TARGET, rule, &[&arbiter]);
    bench.measure("close_dispute", OTHER_TARGET, close_dispute(disputer.pubkey(), d), &[&disputer]);

    // a metered dataset: credits, a metered use, a top-up
    let mut args = dataset_args("metered corpus", single_owner(&owner.pubkey()));
    args.terms.metered = true;
    args.price = 1_000_000;
    let m = bench.world.register_with(owner, args);
    let metered_buyer = bench.world.buyer(50_000_000);
    label_buyer(bench, &m, &metered_buyer.pubkey(), "metered buyer");
    for (key, name) in [
        (m.address, "metered dataset"),
        (m.license_mint, "metered license mint"),
        (m.escrow_vault, "metered escrow vault"),
    ] {
        bench.label(key, name);
    }
    let mut purchase = purchase_args(u64::MAX);
    purchase.credits = 10;
    let ixs = purchase_instructions(metered_buyer.pubkey(), &m, purchase, None);
    bench.measure_transaction("purchase_license (10 credits, new buyer)", NEW_BUYER_TARGET, ixs, &[&metered_buyer]);
    bench.world.deliver(&m, owner, &metered_buyer.pubkey()).succeeds();
    let license = bench.world.license(&m.license(&metered_buyer.pubkey()));
    let accounts = record_usage_accounts(metered_buyer.pubkey(), &m, license.serial, license.usage_count, None);
    let usage = RecordUsageArgs { purpose: UsagePurpose::FineTuning, model_hash: [0x6d; 32], run_id: [3; 32] };
    bench.measure("record_usage (metered)", USAGE_TARGET, record_usage(accounts, usage), &[&metered_buyer]);
    bench.world.warp(DISPUTE_WINDOW as i64);
    bench.world.settle(&m, &metered_buyer.pubkey()).succeeds();
    let top_up = buy_credits(metered_buyer.pubkey(), &m, 5, u64::MAX);
    bench.measure("buy_credits", OTHER_TARGET, top_up, &[&metered_buyer]);
    bench.world.assert_conserved(&m);

    // lifecycle: unlist, revoke; an empty dataset retires and closes
    let unlist = set_dataset_state(owner.pubkey(), &m, DatasetState::Unlisted);
    bench.measure("set_dataset_state", OTHER_TARGET, unlist, &[owner]);
    bench.measure("revoke_dataset", OTHER_TARGET, revoke_dataset(operator.pubkey(), &m, 7), &[operator]);

    let empty = bench.world.register(owner, "retired corpus");
    let retire = set_dataset_state(owner.pubkey(), &empty, DatasetState::Retired);
    bench.world.send(&[retire], &[owner]).succeeds();
    bench.world.payment_account_of(&owner.pubkey());
    bench.measure("close_dataset", OTHER_TARGET, close_dataset(owner.pubkey(), &empty), &[owner]);
}

fn label_buyer(bench: &mut Bench, d: &DatasetHandle, buyer: &Pubkey, name: &str) {
    bench.label(*buyer, name.to_string());
    bench.label(d.license(buyer), format!("license ({name})"));
    bench.label(d.license_account(buyer), format!("license token account ({name})"));
    bench.label(d.payment_account(buyer), format!("payment account ({name})"));
}

/// Previews: the owner commits a 1 GiB dataset's chunk tree (1 MiB chunks), a buyer asks, the owner
/// answers late in the window (the slot hash is found among 100 newer ones), a second request expires.
fn measure_previews(bench: &mut Bench, owner: &Keypair, d: &DatasetHandle) {
    const PREVIEW_TARGET: u64 = 30_000;
    let args = data_market::instructions::EnablePreviewArgs {
        chunk_tree_root: [5; 32],
        chunk_size: 1 << 20,
        chunk_count: 1_024,
        chunks_per_preview: 8,
        max_per_period: 10,
        period_secs: 3_600,
    };
    bench.label(preview_policy_address(&d.address), "preview policy");
    bench.measure("enable_preview", PREVIEW_TARGET, enable_preview(owner.pubkey(), d, args), &[owner]);
    bench.measure("set_preview_limits", PREVIEW_TARGET, set_preview_limits(owner.pubkey(), d, 8, 20, 3_600), &[owner]);
    let buyer = bench.world.wallet();
    bench.label(buyer.pubkey(), "preview buyer");
    for nonce in [1, 2] {
        bench.label(preview_request_address(&d.address, &buyer.pubkey(), nonce), format!("preview request {nonce}"));
    }
    bench.measure("request_preview", PREVIEW_TARGET, request_preview(buyer.pubkey(), d, 1), &[&buyer]);
    bench.world.send(&[request_preview(buyer.pubkey(), d, 2)], &[&buyer]).succeeds();
    for _ in 0..100 {
        bench.world.next_slot();
    }
    let answered = preview_request_address(&d.address, &buyer.pubkey(), 1);
    let cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    bench.measure("answer_preview (8 chunks)", PREVIEW_TARGET, answer_preview(owner.pubkey(), d, answered, cid), &[owner]);
    for _ in 0..60 {
        bench.world.next_slot();
    }
    let expired = preview_request_address(&d.address, &buyer.pubkey(), 2);
    bench.measure("expire_preview", PREVIEW_TARGET, expire_preview(buyer.pubkey(), d, expired), &[&buyer]);
    bench.measure("close_preview_request", PREVIEW_TARGET, close_preview_request(buyer.pubkey(), answered), &[&buyer]);
}

/// Rent-exempt deposit (lamports) and size of every account type the program creates or pays for.
fn rent_table(bench: &mut Bench, d: &DatasetHandle, buyer: &Pubkey) -> Vec<(String, usize, u64)> {
    let w = &mut bench.world;
    let mut rows = Vec::new();
    let mut row = |w: &World, name: &str, key: &Pubkey| {
        let account = w.svm.get_account(key).expect("account exists");
        rows.push((name.to_string(), account.data.len(), account.lamports));
    };
    row(w, "marketplace", &marketplace_address());
    row(w, "dataset", &d.address);
    row(w, "license", &d.license(buyer));
    row(w, "license mint (non-transferable, metadata)", &d.license_mint);
    row(w, "escrow vault (SPL Token)", &d.escrow_vault);
    row(w, "buyer license token account", &d.license_account(buyer));
    let license = d.license(buyer);
    row(w, "usage receipt (per use, reclaimable)", &receipt_address(&license, w.license(&license).serial, 0));
    row(w, "review", &review_address(&license));
    // a transferable licence and a Token-2022 payment mint create different account sizes
    let owner = w.wallet();
    let mut args = dataset_args("transferable", single_owner(&owner.pubkey()));
    args.terms.transferable = true;
    let transferable = w.register_with(&owner, args);
    row(w, "license mint (transferable, metadata)", &transferable.license_mint);
    // the whole title is on the mint: the longest one costs this much
    let mut args = dataset_args("longest title", single_owner(&owner.pubkey()));
    args.title = "t".repeat(data_market::constants::MAX_TITLE_LEN);
    let longest = w.register_with(&owner, args);
    row(w, "license mint (64-byte title, metadata)", &longest.license_mint);
    row(w, "content-hash record", &longest.content_hash_record);
    let mint22 = w.create_mint(TOKEN_2022, 6, market_tests::tokens::MintExtra::None);
    let d22 = DatasetHandle::derive(content_hash("token-2022"), owner.pubkey(), mint22.mint, TOKEN_2022);
    let ix = register_dataset(owner.pubkey(), &d22, dataset_args("token-2022", single_owner(&owner.pubkey())));
    w.send(&[ix], &[&owner]).succeeds();
    row(w, "escrow vault (Token-2022)", &d22.escrow_vault);
    // accounts the bench closed again: sized by their fixed allocation
    for (name, bytes) in [
        ("dispute record", 8 + Dispute::INIT_SPACE),
        ("allow-list entry", 8 + AllowListEntry::INIT_SPACE),
        ("front-end registration", 8 + data_market::state::FrontEnd::INIT_SPACE),
        ("preview policy", 8 + data_market::state::PreviewPolicy::INIT_SPACE),
        ("preview request (reclaimable)", 8 + data_market::state::PreviewRequest::INIT_SPACE),
    ] {
        rows.push((name.to_string(), bytes, w.svm.minimum_balance_for_rent_exemption(bytes)));
    }
    rows
}

/// The largest transaction the network accepts.
const PACKET_DATA_SIZE: usize = 1232;

fn stats(values: &[u64]) -> (u64, u64, u64) {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    (sorted[0], sorted[sorted.len() / 2], sorted[sorted.len() - 1])
}

fn report(results: &[Measurement], spread: &Spread, rent: &[(String, usize, u64)], sizes: &[(&'static str, usize)]) {
    println!(
        "{:<42} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8}  ",
        "instruction", "cu", "own_cu", "target", "tx_bytes", "accounts", "writable", "signers"
    );
    let mut over: Vec<&str> = Vec::new();
    for m in results {
        let flag = if m.cu > m.target { "  OVER TARGET" } else { "" };
        if m.cu > m.target {
            over.push(m.name);
        }
        println!(
            "{:<42} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8}{flag}",
            m.name, m.cu, m.own_cu, m.target, m.tx_bytes, m.accounts, m.writable, m.signers
        );
    }
    for m in results.iter().filter(|m| m.name.starts_with("purchase_license")) {
        println!("writable in {}: {}", m.name, m.writable_accounts.join(", "));
    }
    println!();
    println!(
        "{:<42} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>8}",
        "purchase over buyer keys", "buyers", "own_min", "own_med", "own_max", "total_min", "total_max", "target"
    );
    for (name, own, total, target) in spread {
        let ((own_min, own_med, own_max), (total_min, _, total_max)) = (stats(own), stats(total));
        let flag = if total_max > *target { "  OVER TARGET" } else { "" };
        if total_max > *target {
            over.push(name);
        }
        println!(
            "{name:<42} {:>8} {own_min:>8} {own_med:>8} {own_max:>10} {total_min:>10} {total_max:>10} {target:>8}{flag}",
            own.len()
        );
    }
    println!();
    println!("{:<42} {:>9} {:>8}", "largest transaction (with compute budget)", "tx_bytes", "limit");
    let mut oversized = Vec::new();
    for (name, bytes) in sizes {
        let flag = if *bytes > PACKET_DATA_SIZE { "  TOO LARGE" } else { "" };
        if *bytes > PACKET_DATA_SIZE {
            oversized.push(*name);
        }
        println!("{name:<42} {bytes:>9} {PACKET_DATA_SIZE:>8}{flag}");
    }
    println!();
    println!("{:<44} {:>7} {:>14}", "account", "bytes", "rent_lamports");
    for (name, bytes, lamports) in rent {
        println!("{name:<44} {bytes:>7} {lamports:>14}");
    }

    let instructions: serde_json::Map<String, Value> = results
        .iter()
        .map(|m| {
            (
                m.name.to_string(),
                json!({
                    "cu": m.cu, "own_cu": m.own_cu, "target_cu": m.target, "tx_bytes": m.tx_bytes,
                    "accounts": m.accounts, "writable": m.writable, "signers": m.signers,
                    "writable_accounts": m.writable_accounts,
                }),
            )
        })
        .collect();
    let rent: serde_json::Map<String, Value> = rent
        .iter()
        .map(|(name, bytes, lamports)| (name.clone(), json!({ "bytes": bytes, "lamports": lamports })))
        .collect();
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).expect("create target/bench");
    let spread: serde_json::Map<String, Value> = spread
        .iter()
        .map(|(name, own, total, target)| {
            let ((own_min, own_median, own_max), (total_min, total_median, total_max)) = (stats(own), stats(total));
            (
                name.to_string(),
                json!({ "buyers": own.len(), "own_cu": { "min": own_min, "median": own_median, "max": own_max },
                        "cu": { "min": total_min, "median": total_median, "max": total_max }, "target_cu": target }),
            )
        })
        .collect();
    let sizes: serde_json::Map<String, Value> =
        sizes.iter().map(|(name, bytes)| (name.to_string(), json!(bytes))).collect();
    let report = json!({
        "backend": "sbf", "program": sbf_program_path_string(), "instructions": instructions,
        "purchase_over_buyer_keys": spread, "largest_tx_bytes": sizes, "rent": rent,
    });
    std::fs::write(out.join("cu.json"), serde_json::to_string_pretty(&report).unwrap()).expect("write cu.json");
    println!("\nwrote target/bench/cu.json");
    if !over.is_empty() {
        eprintln!("over compute-unit target: {}", over.join(", "));
    }
    if !oversized.is_empty() {
        eprintln!("larger than a packet: {}", oversized.join(", "));
    }
    if !over.is_empty() || !oversized.is_empty() {
        std::process::exit(1);
    }
}

fn sbf_program_path_string() -> String {
    market_tests::backend::sbf_program_path().display().to_string()
}
