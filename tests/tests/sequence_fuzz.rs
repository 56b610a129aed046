//! Property tests of instruction sequences against the real program, on both backends. A small
//! deterministic generator (splitmix64, one seed per sequence) draws operations — buy, deliver,
//! refund, open dispute, rule (Refund / Release / Split), settle, claim revenue, claim referral,
//! sweep, renew, buy credits, record usage, close licence (and buy again), close dispute, forfeit an
//! unclaimed referral fee, retire and close a dataset (then close its licences), change the protocol
//! fee, warp the clock across the delivery, dispute, expiry and referral-claim windows — over a small pool of buyers and two datasets (one unmetered
//! with three recipients and a supply cap, one metered with two). Referrers are registered
//! front-ends; buyer 0 is one too, so its own referral reaches the self-referral check.
//!
//! The test keeps a reference model of the marketplace written from the program's documented rules.
//! Before each operation the model predicts its outcome: accepted, or refused with a named error.
//! The program must agree, a refused operation must leave every account it names untouched, and
//! after every operation the test checks: vault == ledger total per dataset; `escrowed` == price paid
//! of the licences in AwaitingKey / Delivered / Disputed (read from the licence accounts); every
//! ledger slot, licence, dispute record, licence-token balance and counter equals the model; every
//! buyer, recipient, referrer and the treasury holds exactly what the model says it was paid (no
//! double payment); funds in == funds out + vaults; and a refunded licence is never used, delivered,
//! settled, renewed or topped up.
//!
//! SEQUENCES=n and OPS=n change the run (default 80 x 60 per backend); SEED=0x... replays one sequence.
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use data_market::constants::REFERRAL_CLAIM_WINDOW_SECS;
use data_market::domain::lifecycle::LicenseState;
use data_market::errors::MarketError;
use data_market::instructions::{PurchaseLicenseArgs, RecordUsageArgs, UpdateMarketplaceArgs};
use data_market::state::{Dispute, DisputeReason, License, Recipient, Ruling, UsagePurpose, REVISION_OFFSET};
use market_tests::*;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;

const DEFAULT_SEQUENCES: usize = 80;
const DEFAULT_OPS: usize = 60;
const BASE_SEED: u64 = 0xDA7A_3A12_4E75_0001;

const BUYERS: usize = 3;
/// Each buyer's payment tokens: more than any sequence spends.
const FUND: u64 = 1_000_000_000_000_000;
const HOUR: i64 = 60 * 60;
/// Dataset 0: unmetered, three recipients, at most two licences outstanding.
const PRICE_0: u64 = 10_000_003;
const SHARES_0: [u16; 3] = [5_000, 3_000, 2_000];
const DURATION_0: i64 = 30 * DAY;
const MAX_SUPPLY_0: u32 = 2;
/// Dataset 1: metered (price per credit), two recipients, 10% referral offer.
const CREDIT_PRICE_1: u64 = 1_234_567;
const SHARES_1: [u16; 2] = [7_000, 3_000];
const DURATION_1: i64 = 10 * DAY;
const REFERRAL_1: u16 = 1_000;
const MODELS: [[u8; 32]; 2] = [[0xA1; 32], [0xB2; 32]];
const PURPOSES: [UsagePurpose; 5] = [
    UsagePurpose::Training,
    UsagePurpose::FineTuning,
    UsagePurpose::Evaluation,
    UsagePurpose::InferenceRag,
    UsagePurpose::Other,
];

// ---------------------------------------------------------------------------------------------
// Deterministic generator
// ---------------------------------------------------------------------------------------------

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn sequence_seed(i: usize) -> u64 {
    let mut state = BASE_SEED ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407);
    splitmix64(&mut state)
}

#[derive(Clone, Copy, Debug)]
enum Referral {
    None,
    Referrer(usize),
    /// The buyer names itself: refused (as a self-referral for buyer 0, a registered front-end; as
    /// an unregistered front-end for the others).
    OwnPurchase,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Buy {
        b: usize,
        d: usize,
        referral: Referral,
        credits: u32,
        max_price_short: bool,
    },
    Deliver {
        b: usize,
        d: usize,
        impostor: bool,
    },
    Refund {
        b: usize,
        d: usize,
    },
    OpenDispute {
        b: usize,
        d: usize,
    },
    Rule {
        b: usize,
        d: usize,
        ruling: Ruling,
        impostor: bool,
    },
    Settle {
        b: usize,
        d: usize,
    },
    /// `who`: 0 / 1 the dataset owners, 2 / 3 the contributors, 4 a buyer (never a recipient).
    Claim {
        who: usize,
        d: usize,
    },
    /// `r`: 0 / 1 the referrers, 2 the buyer itself.
    ClaimReferral {
        r: usize,
        b: usize,
        d: usize,
    },
    Sweep {
        d: usize,
    },
    Renew {
        b: usize,
        d: usize,
    },
    BuyCredits {
        b: usize,
        d: usize,
        credits: u32,
    },
    RecordUsage {
        b: usize,
        d: usize,
        model: usize,
        purpose: usize,
        attested: bool,
    },
    CloseLicense {
        b: usize,
        d: usize,
    },
    CloseDispute {
        b: usize,
        d: usize,
    },
    ForfeitReferral {
        b: usize,
        d: usize,
    },
    /// The owner retires the dataset and closes it, in one transaction.
    CloseDataset {
        d: usize,
    },
    SetProtocolFee {
        bps: u16,
    },
    Warp {
        secs: i64,
    },
}

const KINDS: [&str; 18] = [
    "buy",
    "deliver",
    "refund",
    "open_dispute",
    "rule",
    "settle",
    "claim",
    "claim_referral",
    "sweep",
    "renew",
    "buy_credits",
    "record_usage",
    "close_license",
    "close_dispute",
    "forfeit_referral",
    "close_dataset",
    "set_protocol_fee",
    "warp",
];

impl Op {
    fn kind(&self) -> usize {
        match self {
            Op::Buy { .. } => 0,
            Op::Deliver { .. } => 1,
            Op::Refund { .. } => 2,
            Op::OpenDispute { .. } => 3,
            Op::Rule { .. } => 4,
            Op::Settle { .. } => 5,
            Op::Claim { .. } => 6,
            Op::ClaimReferral { .. } => 7,
            Op::Sweep { .. } => 8,
            Op::Renew { .. } => 9,
            Op::BuyCredits { .. } => 10,
            Op::RecordUsage { .. } => 11,
            Op::CloseLicense { .. } => 12,
            Op::CloseDispute { .. } => 13,
            Op::ForfeitReferral { .. } => 14,
            Op::CloseDataset { .. } => 15,
            Op::SetProtocolFee { .. } => 16,
            Op::Warp { .. } => 17,
        }
    }

    /// The licence the operation acts on, if any.
    fn license(&self) -> Option<(usize, usize)> {
        match *self {
            Op::Deliver { b, d, .. }
            | Op::Refund { b, d }
            | Op::OpenDispute { b, d }
            | Op::Rule { b, d, .. }
            | Op::Settle { b, d }
            | Op::ClaimReferral { b, d, .. }
            | Op::Renew { b, d }
            | Op::BuyCredits { b, d, .. }
            | Op::RecordUsage { b, d, .. }
            | Op::CloseLicense { b, d }
            | Op::CloseDispute { b, d }
            | Op::ForfeitReferral { b, d } => Some((b, d)),
            _ => None,
        }
    }
}

/// Draws the next operation. Most draws aim at a licence, dispute or payee the model says the
/// operation can succeed on (when there is none, the kind is usually drawn again); the rest are
/// uniform, to exercise refusals. The draw depends only on the seed and the history (the model is
/// deterministic), so a seed replays exactly.
fn generate(rng: &mut Rng, model: &Model, now: i64) -> Op {
    const WEIGHTS: [u64; 18] = [9, 9, 5, 6, 6, 8, 8, 3, 3, 4, 4, 9, 6, 5, 5, 2, 2, 10];
    let delivery = i64::from(DELIVERY_WINDOW);
    let dispute = i64::from(DISPUTE_WINDOW);
    for attempt in 0.. {
        let mut pick = rng.below(WEIGHTS.iter().sum());
        let mut kind = 0;
        while pick >= WEIGHTS[kind] {
            pick -= WEIGHTS[kind];
            kind += 1;
        }
        // a licence (b, d) matching `wanted`; None: draw another kind
        let target = |rng: &mut Rng, wanted: &dyn Fn(&MDataset, &MLicense) -> bool| -> Option<(usize, usize)> {
            let candidates: Vec<(usize, usize)> = (0..2)
                .flat_map(|d| (0..BUYERS).map(move |b| (b, d)))
                .filter(|(b, d)| model.ds[*d].lics[*b].as_ref().is_some_and(|l| wanted(&model.ds[*d], l)))
                .collect();
            if !candidates.is_empty() && rng.chance(85) {
                Some(candidates[rng.index(candidates.len())])
            } else if candidates.is_empty() && attempt < 4 && rng.chance(75) {
                None
            } else {
                Some((rng.index(BUYERS), rng.index(2)))
            }
        };
        let op = match kind {
            0 => {
                let (b, d) = (rng.index(BUYERS), rng.index(2));
                let referral = match rng.below(100) {
                    0..=39 => Referral::None,
                    40..=94 => Referral::Referrer(rng.index(2)),
                    _ => Referral::OwnPurchase,
                };
                let credits = match (d, rng.chance(5)) {
                    (0, false) => 1,
                    (0, true) => 2,
                    (_, false) => 1 + rng.below(5) as u32,
                    (_, true) => 0,
                };
                Some(Op::Buy { b, d, referral, credits, max_price_short: rng.chance(5) })
            }
            1 => target(rng, &|_, l| l.state == LicenseState::AwaitingKey && now <= l.bought_at + delivery)
                .map(|(b, d)| Op::Deliver { b, d, impostor: rng.chance(5) }),
            2 => target(rng, &|_, l| l.state == LicenseState::AwaitingKey && now > l.bought_at + delivery)
                .map(|(b, d)| Op::Refund { b, d }),
            3 => target(rng, &|_, l| l.state == LicenseState::Delivered && now < l.delivered_at + dispute)
                .map(|(b, d)| Op::OpenDispute { b, d }),
            4 => target(rng, &|_, l| l.state == LicenseState::Disputed).map(|(b, d)| {
                let ruling = match rng.below(100) {
                    0..=34 => Ruling::Refund,
                    35..=64 => Ruling::Release,
                    65..=96 => Ruling::Split { buyer_bps: rng.below(10_001) as u16 },
                    _ => Ruling::Split { buyer_bps: 10_001 },
                };
                Op::Rule { b, d, ruling, impostor: rng.chance(5) }
            }),
            5 => target(rng, &|_, l| l.state == LicenseState::Delivered && now >= l.delivered_at + dispute)
                .map(|(b, d)| Op::Settle { b, d }),
            6 => {
                let owed: Vec<(usize, usize)> = (0..2)
                    .flat_map(|d| (0..5).map(move |who| (who, d)))
                    .filter(|(who, d)| {
                        let ds = &model.ds[*d];
                        let claimant = model.claimants[*who];
                        ds.recipients.iter().zip(&ds.claimable).any(|((w, _), c)| *c > 0 && *w == claimant)
                    })
                    .collect();
                if !owed.is_empty() && rng.chance(85) {
                    let (who, d) = owed[rng.index(owed.len())];
                    Some(Op::Claim { who, d })
                } else if owed.is_empty() && attempt < 4 && rng.chance(75) {
                    None
                } else {
                    Some(Op::Claim { who: rng.index(5), d: rng.index(2) })
                }
            }
            7 => target(rng, &|_, l| l.state == LicenseState::Settled && l.referral_fee > 0 && !l.referral_resolved)
                .map(|(b, d)| {
                    let referrer = model.ds[d].lics[b].as_ref().map(|l| l.referrer);
                    let r = match model.referrers.iter().position(|k| Some(*k) == referrer) {
                        Some(r) if rng.chance(85) => r,
                        _ if rng.chance(20) => 2,
                        _ => rng.index(2),
                    };
                    Op::ClaimReferral { r, b, d }
                }),
            8 => Some(Op::Sweep { d: rng.index(2) }),
            // renewals and top-ups only once settled (no ruling can repay them afterwards)
            9 => target(rng, &|ds, l| !ds.metered && l.state == LicenseState::Settled).map(|(b, d)| Op::Renew { b, d }),
            10 => target(rng, &|ds, l| ds.metered && l.usable(now).is_ok() && l.state == LicenseState::Settled).map(
                |(b, d)| Op::BuyCredits { b, d, credits: if rng.chance(5) { 0 } else { 1 + rng.below(4) as u32 } },
            ),
            11 => target(rng, &|ds, l| l.usable(now).is_ok() && (!ds.metered || l.credits > l.usage)).map(|(b, d)| {
                Op::RecordUsage { b, d, model: rng.index(2), purpose: rng.index(5), attested: rng.chance(30) }
            }),
            12 => target(rng, &|_, l| {
                !l.has_dispute
                    && (l.state == LicenseState::Refunded
                        || (l.state == LicenseState::Settled && (l.referral_fee == 0 || l.referral_resolved)))
            })
            .map(|(b, d)| Op::CloseLicense { b, d }),
            13 => target(rng, &|_, l| l.has_dispute && l.state != LicenseState::Disputed)
                .map(|(b, d)| Op::CloseDispute { b, d }),
            14 => target(rng, &|_, l| {
                l.state == LicenseState::Settled
                    && l.referral_fee > 0
                    && !l.referral_resolved
                    && now >= l.settled_at + REFERRAL_CLAIM_WINDOW_SECS
            })
            .map(|(b, d)| Op::ForfeitReferral { b, d }),
            15 => {
                // a dataset that has sold and since emptied (closing an untouched one ends the
                // sequence's interest in it)
                let closable: Vec<usize> =
                    (0..2).filter(|d| model.ds[*d].sold > 0 && model.ds[*d].closable()).collect();
                if !closable.is_empty() && rng.chance(60) {
                    Some(Op::CloseDataset { d: closable[rng.index(closable.len())] })
                } else if rng.chance(10) {
                    Some(Op::CloseDataset { d: rng.index(2) })
                } else {
                    None
                }
            }
            16 => Some(Op::SetProtocolFee { bps: if rng.chance(5) { 1_001 } else { rng.below(1_001) as u16 } }),
            _ => {
                let secs = match rng.below(100) {
                    0..=9 => 1,
                    10..=22 => HOUR,
                    23..=40 => DAY,
                    41..=48 => delivery,
                    49..=56 => delivery + 1,
                    57..=64 => dispute - 1,
                    65..=74 => dispute,
                    75..=84 => dispute + 1,
                    85..=90 => rng.below(4 * DAY as u64) as i64,
                    91..=97 => REFERRAL_CLAIM_WINDOW_SECS,
                    _ => DURATION_1 + DAY,
                };
                Some(Op::Warp { secs })
            }
        };
        // once a dataset is closed, only its licences and dispute records are left to close
        let on_closed = match op {
            Some(Op::CloseLicense { .. } | Op::CloseDispute { .. }) | None => false,
            Some(Op::Buy { d, .. } | Op::Claim { d, .. } | Op::Sweep { d } | Op::CloseDataset { d }) => {
                model.ds[d].gone
            }
            Some(other) => other.license().is_some_and(|(_, d)| model.ds[d].gone),
        };
        if on_closed {
            continue;
        }
        if let Some(op) = op {
            return op;
        }
    }
    unreachable!()
}

// ---------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------

/// How the program should refuse an operation.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    Market(MarketError),
    Anchor(ErrorCode),
}

impl Refusal {
    fn code(self) -> u32 {
        match self {
            Refusal::Market(e) => u32::from(e),
            Refusal::Anchor(e) => u32::from(e),
        }
    }
}

use MarketError as E;
use Refusal::Market as Mk;

const NOT_INITIALIZED: Refusal = Refusal::Anchor(ErrorCode::AccountNotInitialized);

fn share(amount: u64, bps: u16) -> u64 {
    (u128::from(amount) * u128::from(bps) / 10_000) as u64
}

#[derive(Clone, Copy, Debug)]
struct Fees {
    gross: u64,
    protocol: u64,
    referral: u64,
}

impl Fees {
    fn of(gross: u64, protocol_bps: u16, referral_bps: u16) -> Self {
        Fees { gross, protocol: share(gross, protocol_bps), referral: share(gross, referral_bps) }
    }
    fn net(&self) -> u64 {
        self.gross - self.protocol - self.referral
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct MLicense {
    state: LicenseState,
    price_paid: u64,
    protocol_fee: u64,
    referral_fee: u64,
    protocol_bps: u16,
    referral_bps: u16,
    refunded: u64,
    referrer: Pubkey,
    credits: u64,
    usage: u64,
    has_dispute: bool,
    /// The dataset's sale number of the purchase (its receipts' address seed).
    serial: u64,
    referral_resolved: bool,
    bought_at: i64,
    delivered_at: i64,
    expires_at: i64,
    settled_at: i64,
    renewals: u32,
}

impl MLicense {
    fn of(l: &License) -> Self {
        MLicense {
            state: l.state,
            price_paid: l.price_paid,
            protocol_fee: l.protocol_fee,
            referral_fee: l.referral_fee,
            protocol_bps: l.protocol_fee_bps,
            referral_bps: l.referral_fee_bps,
            refunded: l.refunded_amount,
            referrer: l.referrer,
            credits: l.credits,
            usage: l.usage_count,
            has_dispute: l.has_dispute,
            serial: l.serial,
            referral_resolved: l.referral_fee_resolved,
            bought_at: l.bought_at,
            delivered_at: l.delivered_at,
            expires_at: l.expires_at,
            settled_at: l.settled_at,
            renewals: l.renewals,
        }
    }

    /// lifecycle::check_usable
    fn usable(&self, now: i64) -> Result<(), Refusal> {
        match self.state {
            LicenseState::AwaitingKey => return Err(Mk(E::LicenseNotDelivered)),
            LicenseState::Refunded => return Err(Mk(E::LicenseVoid)),
            LicenseState::Disputed => return Err(Mk(E::LicenseDisputed)),
            _ => {}
        }
        if self.expires_at != 0 && now >= self.expires_at {
            return Err(Mk(E::LicenseExpired));
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
struct MDataset {
    owner: Pubkey,
    price: u64,
    metered: bool,
    duration: i64,
    referral_bps: u16,
    max_supply: u32,
    recipients: Vec<(Pubkey, u16)>,
    escrowed: u64,
    claimable: Vec<u64>,
    referral_owed: u64,
    protocol_owed: u64,
    outstanding: u32,
    sold: u64,
    open_disputes: u32,
    usage: [u64; 5],
    lics: Vec<Option<MLicense>>,
    /// Licences closed so far (closing burned whatever tokens they still had).
    closed: Vec<MLicense>,
    /// The licence's dispute record, if it exists: whether it is ruled.
    disputes: Vec<Option<bool>>,
    /// Licence tokens each buyer holds.
    tokens: Vec<u64>,
    /// Retired and closed: its account and vault are gone, its licences may still close.
    gone: bool,
}

impl MDataset {
    /// close_dataset's conditions: nothing owed, no licence waiting for its key or its money, no
    /// unruled dispute (these sequences use no allow-list).
    fn closable(&self) -> bool {
        let pending =
            self.lics.iter().flatten().any(|l| {
                matches!(l.state, LicenseState::AwaitingKey | LicenseState::Delivered | LicenseState::Disputed)
            });
        !self.gone
            && !pending
            && self.escrowed == 0
            && self.claimable.iter().all(|c| *c == 0)
            && self.referral_owed == 0
            && self.protocol_owed == 0
            && self.open_disputes == 0
    }

    fn accrue(&mut self, fees: Fees) {
        let net = fees.net();
        let mut parts: Vec<u64> = self.recipients.iter().map(|(_, bps)| share(net, *bps)).collect();
        parts[0] += net - parts.iter().sum::<u64>();
        for (owed, part) in self.claimable.iter_mut().zip(parts) {
            *owed += part;
        }
        self.protocol_owed += fees.protocol;
        self.referral_owed += fees.referral;
    }
}

#[derive(Clone, Debug)]
struct Model {
    ds: Vec<MDataset>,
    protocol_bps: u16,
    max_referral_bps: u16,
    /// Payment-token balance every party should hold.
    balances: BTreeMap<Pubkey, u64>,
    paid_in: u64,
    paid_out: u64,
    /// The generator's view of the payees (see Actors::claimant) and referrers.
    claimants: Vec<Pubkey>,
    referrers: Vec<Pubkey>,
    /// Wallets registered as front-ends (the referrers and buyer 0).
    front_ends: Vec<Pubkey>,
}

impl Model {
    fn pay(&mut self, to: Pubkey, amount: u64) {
        *self.balances.get_mut(&to).expect("a tracked party") += amount;
        self.paid_out += amount;
    }

    fn charge(&mut self, from: Pubkey, amount: u64) {
        let balance = self.balances.get_mut(&from).expect("a tracked party");
        *balance = balance.checked_sub(amount).expect("buyer funds");
        self.paid_in += amount;
    }

    /// Applies `op` at `now` as the program should; on a refusal the model must be left unchanged
    /// (the caller applies it to a copy).
    fn apply(&mut self, op: &Op, now: i64, a: &Actors) -> Result<(), Refusal> {
        let delivery = i64::from(DELIVERY_WINDOW);
        let dispute = i64::from(DISPUTE_WINDOW);
        match *op {
            Op::Buy { b, d, referral, credits, max_price_short } => {
                let buyer = a.buyers[b].pubkey();
                let (protocol_bps, max_referral) = (self.protocol_bps, self.max_referral_bps);
                let referrer = match referral {
                    Referral::None => None,
                    Referral::Referrer(i) => Some(a.referrers[i].pubkey()),
                    Referral::OwnPurchase => Some(buyer),
                };
                // the front-end account is checked before anything else
                if referrer.is_some_and(|wallet| !self.front_ends.contains(&wallet)) {
                    return Err(NOT_INITIALIZED);
                }
                let ds = &mut self.ds[d];
                if ds.lics[b].is_some() {
                    return Err(Mk(E::LicenseAlreadyExists));
                }
                let credits_ok = if ds.metered { (1..=1_000_000).contains(&credits) } else { credits == 1 };
                if !credits_ok {
                    return Err(Mk(E::InvalidCreditAmount));
                }
                let total = ds.price * u64::from(credits);
                if max_price_short && total > 0 {
                    return Err(Mk(E::PriceAboveMax));
                }
                if ds.max_supply != 0 && ds.outstanding >= ds.max_supply {
                    return Err(Mk(E::SupplyExhausted));
                }
                if referrer == Some(buyer) {
                    return Err(Mk(E::SelfReferral));
                }
                let referral_bps = if referrer.is_some() { ds.referral_bps.min(max_referral) } else { 0 };
                let fees = Fees::of(total, protocol_bps, referral_bps);
                let serial = ds.sold;
                ds.escrowed += total;
                ds.outstanding += 1;
                ds.sold += 1;
                ds.tokens[b] += u64::from(credits);
                ds.lics[b] = Some(MLicense {
                    state: LicenseState::AwaitingKey,
                    price_paid: total,
                    protocol_fee: fees.protocol,
                    referral_fee: fees.referral,
                    protocol_bps,
                    referral_bps,
                    refunded: 0,
                    referrer: referrer.unwrap_or_default(),
                    credits: u64::from(credits),
                    usage: 0,
                    has_dispute: false,
                    serial,
                    referral_resolved: false,
                    bought_at: now,
                    delivered_at: 0,
                    // the term starts at delivery
                    expires_at: 0,
                    settled_at: 0,
                    renewals: 0,
                });
                self.charge(buyer, total);
            }
            Op::Deliver { b, d, impostor } => {
                let duration = self.ds[d].duration;
                let lic = self.ds[d].lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                if impostor {
                    return Err(Mk(E::NotDeliveryAuthority));
                }
                match lic.state {
                    LicenseState::AwaitingKey if now <= lic.bought_at + delivery => {}
                    LicenseState::AwaitingKey => return Err(Mk(E::DeliveryWindowElapsed)),
                    LicenseState::Refunded => return Err(Mk(E::LicenseVoid)),
                    _ => return Err(Mk(E::LicenseNotPending)),
                }
                lic.state = LicenseState::Delivered;
                lic.delivered_at = now;
                lic.expires_at = if duration == 0 { 0 } else { now + duration };
            }
            Op::Refund { b, d } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                match lic.state {
                    LicenseState::AwaitingKey if now > lic.bought_at + delivery => {}
                    LicenseState::AwaitingKey => return Err(Mk(E::DeliveryWindowOpen)),
                    LicenseState::Refunded => return Err(Mk(E::LicenseVoid)),
                    _ => return Err(Mk(E::LicenseNotPending)),
                }
                if ds.tokens[b] < lic.credits {
                    return Err(Mk(E::LicenseTokenNotHeld));
                }
                let price = lic.price_paid;
                lic.state = LicenseState::Refunded;
                lic.refunded = price;
                ds.tokens[b] -= lic.credits;
                ds.escrowed -= price;
                ds.outstanding -= 1;
                self.pay(a.buyers[b].pubkey(), price);
            }
            Op::Settle { b, d } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                match lic.state {
                    LicenseState::Delivered if now >= lic.delivered_at + dispute => {}
                    LicenseState::Delivered => return Err(Mk(E::DisputeWindowOpen)),
                    LicenseState::AwaitingKey => return Err(Mk(E::LicenseNotDelivered)),
                    LicenseState::Refunded => return Err(Mk(E::LicenseVoid)),
                    LicenseState::Settled => return Err(Mk(E::LicenseNotPending)),
                    LicenseState::Disputed => return Err(Mk(E::LicenseDisputed)),
                }
                lic.state = LicenseState::Settled;
                lic.settled_at = now;
                let fees = Fees { gross: lic.price_paid, protocol: lic.protocol_fee, referral: lic.referral_fee };
                ds.escrowed -= fees.gross;
                ds.accrue(fees);
            }
            Op::OpenDispute { b, d } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                match lic.state {
                    LicenseState::Delivered if now < lic.delivered_at + dispute => {}
                    LicenseState::Delivered | LicenseState::Settled => return Err(Mk(E::DisputeWindowClosed)),
                    LicenseState::Disputed => return Err(Mk(E::AlreadyDisputed)),
                    LicenseState::AwaitingKey => return Err(Mk(E::LicenseNotDelivered)),
                    LicenseState::Refunded => return Err(Mk(E::LicenseVoid)),
                }
                lic.state = LicenseState::Disputed;
                lic.has_dispute = true;
                ds.open_disputes += 1;
                ds.disputes[b] = Some(false);
            }
            Op::Rule { b, d, ruling, impostor } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                let ruled = ds.disputes[b].ok_or(NOT_INITIALIZED)?;
                if impostor {
                    return Err(Mk(E::NotArbiter));
                }
                if ruled {
                    return Err(Mk(E::DisputeAlreadyRuled));
                }
                assert_eq!(lic.state, LicenseState::Disputed, "an unruled dispute belongs to a disputed licence");
                // a refund voids every unused credit of a metered licence, the token of an unmetered one
                let void = if ds.metered { lic.credits.saturating_sub(lic.usage) } else { lic.credits };
                if ruling == Ruling::Refund && ds.tokens[b] < void {
                    return Err(Mk(E::LicenseTokenNotHeld));
                }
                let price = lic.price_paid;
                let (refund, state) = match ruling {
                    Ruling::Refund => (price, LicenseState::Refunded),
                    Ruling::Release => (0, LicenseState::Settled),
                    Ruling::Split { buyer_bps } if buyer_bps > 10_000 => return Err(Mk(E::InvalidBps)),
                    Ruling::Split { buyer_bps } => (share(price, buyer_bps), LicenseState::Settled),
                };
                let released = Fees::of(price - refund, lic.protocol_bps, lic.referral_bps);
                if state == LicenseState::Refunded {
                    ds.tokens[b] -= void;
                    ds.outstanding -= 1;
                }
                lic.state = state;
                if state == LicenseState::Settled {
                    lic.settled_at = now;
                }
                lic.refunded = refund;
                lic.protocol_fee = released.protocol;
                lic.referral_fee = released.referral;
                ds.escrowed -= refund + released.gross;
                ds.accrue(released);
                ds.open_disputes -= 1;
                ds.disputes[b] = Some(true);
                self.pay(a.buyers[b].pubkey(), refund);
            }
            Op::Claim { who, d } => {
                let claimant = a.claimant(who);
                let ds = &mut self.ds[d];
                let index = ds.recipients.iter().position(|(w, _)| *w == claimant).ok_or(Mk(E::NotARecipient))?;
                let owed = std::mem::take(&mut ds.claimable[index]);
                if owed == 0 {
                    return Err(Mk(E::NothingToClaim));
                }
                self.pay(claimant, owed);
            }
            Op::ClaimReferral { r, b, d } => {
                let referrer = if r == 2 { a.buyers[b].pubkey() } else { a.referrers[r].pubkey() };
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                if lic.referrer != referrer {
                    return Err(Mk(E::NotTheReferrer));
                }
                if lic.state != LicenseState::Settled {
                    return Err(Mk(E::LicenseNotSettled));
                }
                if lic.referral_resolved || lic.referral_fee == 0 {
                    return Err(Mk(E::NothingToClaim));
                }
                lic.referral_resolved = true;
                let fee = lic.referral_fee;
                ds.referral_owed -= fee;
                self.pay(referrer, fee);
            }
            Op::Sweep { d } => {
                let owed = std::mem::take(&mut self.ds[d].protocol_owed);
                if owed == 0 {
                    return Err(Mk(E::NothingToSweep));
                }
                self.pay(a.treasury, owed);
            }
            Op::Renew { b, d } => {
                let protocol_bps = self.protocol_bps;
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                if ds.metered {
                    return Err(Mk(E::MeteredNotRenewable));
                }
                match lic.state {
                    LicenseState::Refunded => return Err(Mk(E::LicenseVoid)),
                    LicenseState::AwaitingKey => return Err(Mk(E::LicenseNotDelivered)),
                    LicenseState::Disputed => return Err(Mk(E::LicenseDisputed)),
                    // still open to a dispute whose Refund ruling would not repay the renewal
                    LicenseState::Delivered => return Err(Mk(E::LicenseNotSettled)),
                    LicenseState::Settled => {}
                }
                if lic.expires_at == 0 || ds.duration == 0 {
                    return Err(Mk(E::LicenseIsPerpetual));
                }
                lic.expires_at = lic.expires_at.max(now) + ds.duration;
                lic.renewals += 1;
                let price = ds.price;
                ds.accrue(Fees::of(price, protocol_bps, 0));
                self.charge(a.buyers[b].pubkey(), price);
            }
            Op::BuyCredits { b, d, credits } => {
                let protocol_bps = self.protocol_bps;
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                if !ds.metered {
                    return Err(Mk(E::NotMetered));
                }
                lic.usable(now)?;
                if lic.state == LicenseState::Disputed {
                    return Err(Mk(E::LicenseDisputed));
                }
                // a Refund ruling voids every unused credit but repays only the escrowed purchase
                if lic.state != LicenseState::Settled {
                    return Err(Mk(E::LicenseNotSettled));
                }
                if credits == 0 || credits > 1_000_000 {
                    return Err(Mk(E::InvalidCreditAmount));
                }
                let total = ds.price * u64::from(credits);
                lic.credits += u64::from(credits);
                ds.tokens[b] += u64::from(credits);
                ds.accrue(Fees::of(total, protocol_bps, 0));
                self.charge(a.buyers[b].pubkey(), total);
            }
            Op::RecordUsage { b, d, purpose, .. } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                lic.usable(now)?;
                if ds.tokens[b] == 0 {
                    return Err(Mk(if ds.metered { E::NoCreditsLeft } else { E::LicenseTokenNotHeld }));
                }
                if ds.metered && lic.usage >= lic.credits {
                    return Err(Mk(E::NoCreditsLeft));
                }
                if ds.metered {
                    ds.tokens[b] -= 1;
                }
                ds.usage[purpose] += 1;
                lic.usage += 1;
            }
            Op::CloseLicense { b, d } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_ref().ok_or(NOT_INITIALIZED)?;
                let nothing_owed = match lic.state {
                    LicenseState::Refunded => true,
                    LicenseState::Settled => lic.referral_fee == 0 || lic.referral_resolved,
                    _ => false,
                };
                if !nothing_owed || lic.has_dispute {
                    return Err(Mk(E::LicenseStillOwed));
                }
                if ds.gone {
                    // the dataset is gone, and with it any use of its tokens: all are burned
                    ds.tokens[b] = 0;
                } else if lic.state != LicenseState::Refunded {
                    // the tokens this licence still carries are burned: none can serve a later one
                    let left = if ds.metered { lic.credits.saturating_sub(lic.usage) } else { lic.credits };
                    if ds.tokens[b] < left {
                        return Err(Mk(E::LicenseTokenNotHeld));
                    }
                    ds.tokens[b] -= left;
                    ds.outstanding -= 1;
                }
                ds.closed.extend(ds.lics[b].take());
            }
            Op::CloseDispute { b, d } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                let ruled = ds.disputes[b].ok_or(NOT_INITIALIZED)?;
                if !ruled {
                    return Err(Mk(E::DisputeNotRuled));
                }
                lic.has_dispute = false;
                ds.disputes[b] = None;
            }
            Op::ForfeitReferral { b, d } => {
                let ds = &mut self.ds[d];
                let lic = ds.lics[b].as_mut().ok_or(NOT_INITIALIZED)?;
                if lic.state != LicenseState::Settled {
                    return Err(Mk(E::LicenseNotSettled));
                }
                if lic.referral_fee == 0 || lic.referral_resolved {
                    return Err(Mk(E::ReferralFeeResolved));
                }
                if now < lic.settled_at + REFERRAL_CLAIM_WINDOW_SECS {
                    return Err(Mk(E::ReferralClaimWindowOpen));
                }
                lic.referral_resolved = true;
                let fee = lic.referral_fee;
                // the recipients get it, split as a sale's net is
                ds.referral_owed -= fee;
                ds.accrue(Fees { gross: fee, protocol: 0, referral: 0 });
            }
            Op::CloseDataset { d } => {
                let ds = &mut self.ds[d];
                if ds.gone {
                    return Err(NOT_INITIALIZED);
                }
                if !ds.closable() {
                    return Err(Mk(E::DatasetStillInUse));
                }
                ds.gone = true;
            }
            Op::SetProtocolFee { bps } => {
                if bps > 1_000 {
                    return Err(Mk(E::ProtocolFeeAboveCap));
                }
                self.protocol_bps = bps;
            }
            Op::Warp { .. } => {}
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The world the sequences run in
// ---------------------------------------------------------------------------------------------

struct Actors {
    /// Pays every transaction fee, so the accounts an operation names change only by its effects.
    payer: Keypair,
    buyers: Vec<Keypair>,
    owners: [Keypair; 2],
    contributors: [Keypair; 2],
    referrers: [Keypair; 2],
    attestor: Keypair,
    arbiter: Keypair,
    operator: Keypair,
    treasury: Pubkey,
}

impl Actors {
    fn claimant(&self, who: usize) -> Pubkey {
        match who {
            0 | 1 => self.owners[who].pubkey(),
            2 | 3 => self.contributors[who - 2].pubkey(),
            _ => self.buyers[0].pubkey(),
        }
    }

    fn claimant_key(&self, who: usize) -> &Keypair {
        match who {
            0 | 1 => &self.owners[who],
            2 | 3 => &self.contributors[who - 2],
            _ => &self.buyers[0],
        }
    }

    /// Everyone whose payment-token balance the model tracks.
    fn parties(&self) -> Vec<Pubkey> {
        let mut parties: Vec<Pubkey> = self.buyers.iter().map(|b| b.pubkey()).collect();
        parties.extend(self.owners.iter().chain(&self.contributors).chain(&self.referrers).map(|k| k.pubkey()));
        parties.push(self.treasury);
        parties
    }
}

struct Run {
    w: World,
    a: Actors,
    hs: Vec<DatasetHandle>,
    model: Model,
}

/// The world every sequence of a backend starts from (built once, then cloned).
fn setup(backend: Backend) -> Run {
    let mut w = World::new(backend);
    // Transactions are still signed and the program still sees exactly the same signer flags; only
    // LiteSVM's ed25519 verification of the signatures is skipped: in a debug build it takes ~95% of
    // the run time, and signatures are not what these sequences test.
    w.svm = w.svm.clone().with_sigverify(false);
    let payer = w.wallet();
    let buyers: Vec<Keypair> = (0..BUYERS).map(|_| w.buyer(FUND)).collect();
    let owners = [w.wallet(), w.wallet()];
    let contributors = [w.wallet(), w.wallet()];
    let referrers = [w.wallet(), w.wallet()];
    let attestor = w.keypair();
    let a = Actors {
        payer,
        buyers,
        owners,
        contributors,
        referrers,
        attestor,
        arbiter: w.arbiter.insecure_clone(),
        operator: w.operator.insecure_clone(),
        treasury: w.treasury.pubkey(),
    };

    let mut args0 = dataset_args(
        "sequence-a",
        vec![
            Recipient { wallet: a.owners[0].pubkey(), bps: SHARES_0[0] },
            Recipient { wallet: a.contributors[0].pubkey(), bps: SHARES_0[1] },
            Recipient { wallet: a.contributors[1].pubkey(), bps: SHARES_0[2] },
        ],
    );
    args0.price = PRICE_0;
    args0.terms.duration_secs = DURATION_0 as u64;
    args0.terms.max_supply = MAX_SUPPLY_0;
    let mut args1 = dataset_args(
        "sequence-b",
        vec![
            Recipient { wallet: a.owners[1].pubkey(), bps: SHARES_1[0] },
            Recipient { wallet: a.contributors[0].pubkey(), bps: SHARES_1[1] },
        ],
    );
    args1.price = CREDIT_PRICE_1;
    args1.terms.metered = true;
    args1.terms.duration_secs = DURATION_1 as u64;
    args1.referral_fee_bps = REFERRAL_1;

    let mut ds = Vec::new();
    let mut hs = Vec::new();
    for (owner, args) in [(&a.owners[0], args0), (&a.owners[1], args1)] {
        let owner = owner.insecure_clone();
        ds.push(MDataset {
            owner: owner.pubkey(),
            price: args.price,
            metered: args.terms.metered,
            duration: args.terms.duration_secs as i64,
            referral_bps: args.referral_fee_bps,
            max_supply: args.terms.max_supply,
            recipients: args.recipients.iter().map(|r| (r.wallet, r.bps)).collect(),
            escrowed: 0,
            claimable: vec![0; args.recipients.len()],
            referral_owed: 0,
            protocol_owed: 0,
            outstanding: 0,
            sold: 0,
            open_disputes: 0,
            usage: [0; 5],
            lics: vec![None; BUYERS],
            closed: Vec::new(),
            disputes: vec![None; BUYERS],
            tokens: vec![0; BUYERS],
            gone: false,
        });
        hs.push(w.register_with(&owner, args));
    }
    // the referrers and buyer 0 are registered front-ends
    let front_ends: Vec<Pubkey> = a.referrers.iter().chain(&a.buyers[..1]).map(|k| k.pubkey()).collect();
    for wallet in &front_ends {
        w.ensure_front_end(wallet);
    }
    // every party has its payment account, so claims can be refused only by the program's rules
    for party in a.parties() {
        w.payment_account_of(&party);
    }
    let mut balances = BTreeMap::new();
    for party in a.parties() {
        balances.insert(party, 0);
    }
    for buyer in &a.buyers {
        balances.insert(buyer.pubkey(), FUND);
    }
    let model = Model {
        ds,
        protocol_bps: PROTOCOL_FEE_BPS,
        max_referral_bps: MAX_REFERRAL_FEE_BPS,
        balances,
        paid_in: 0,
        paid_out: 0,
        claimants: (0..5).map(|who| a.claimant(who)).collect(),
        referrers: a.referrers.iter().map(|r| r.pubkey()).collect(),
        front_ends,
    };
    Run { w, a, hs, model }
}

impl Run {
    /// The transaction of an operation: its instructions and signers (the fee payer first).
    fn transaction(&self, op: &Op) -> (Vec<Instruction>, Vec<&Keypair>) {
        let a = &self.a;
        let mut signers = vec![&a.payer];
        let payer = a.payer.pubkey();
        let ixs = match *op {
            Op::Buy { b, d, referral, credits, max_price_short } => {
                let buyer = &a.buyers[b];
                signers.push(buyer);
                let total = self.model.ds[d].price * u64::from(credits);
                let referrer = match referral {
                    Referral::None => None,
                    Referral::Referrer(i) => Some(a.referrers[i].pubkey()),
                    Referral::OwnPurchase => Some(buyer.pubkey()),
                };
                let max_price = if max_price_short { total.saturating_sub(1) } else { u64::MAX };
                let args = PurchaseLicenseArgs { max_price, buyer_encryption_key: BUYER_KEY, credits };
                purchase_instructions(buyer.pubkey(), &self.hs[d], args, referrer)
            }
            Op::Deliver { b, d, impostor } => {
                let deliverer = if impostor { &a.owners[1 - d] } else { &a.owners[d] };
                signers.push(deliverer);
                vec![deliver_key(deliverer.pubkey(), &self.hs[d], &a.buyers[b].pubkey(), SEALED_KEY)]
            }
            Op::Refund { b, d } => vec![refund_license(payer, &self.hs[d], &a.buyers[b].pubkey())],
            Op::OpenDispute { b, d } => {
                signers.push(&a.buyers[b]);
                vec![open_dispute(a.buyers[b].pubkey(), &self.hs[d], DisputeReason::NotAsDescribed, "ipfs://evidence")]
            }
            Op::Rule { b, d, ruling, impostor } => {
                let arbiter = if impostor { &a.owners[d] } else { &a.arbiter };
                signers.push(arbiter);
                vec![rule_dispute(arbiter.pubkey(), &self.hs[d], &a.buyers[b].pubkey(), ruling)]
            }
            Op::Settle { b, d } => vec![settle_license(payer, &self.hs[d], &a.buyers[b].pubkey())],
            Op::Claim { who, d } => {
                let claimant = a.claimant_key(who);
                signers.push(claimant);
                vec![claim_revenue(claimant.pubkey(), &self.hs[d])]
            }
            Op::ClaimReferral { r, b, d } => {
                let referrer = if r == 2 { &a.buyers[b] } else { &a.referrers[r] };
                signers.push(referrer);
                vec![claim_referral_fee(referrer.pubkey(), &self.hs[d], &a.buyers[b].pubkey())]
            }
            Op::Sweep { d } => vec![sweep_protocol_fees(payer, &self.hs[d], &a.treasury)],
            Op::Renew { b, d } => {
                signers.push(&a.buyers[b]);
                vec![renew_license(a.buyers[b].pubkey(), &self.hs[d], u64::MAX)]
            }
            Op::BuyCredits { b, d, credits } => {
                signers.push(&a.buyers[b]);
                vec![buy_credits(a.buyers[b].pubkey(), &self.hs[d], credits, u64::MAX)]
            }
            Op::RecordUsage { b, d, model, purpose, attested } => {
                let holder = &a.buyers[b];
                signers.push(holder);
                let h = &self.hs[d];
                let (serial, index) = match self.w.svm.get_account(&h.license(&holder.pubkey())) {
                    Some(account) if account.lamports > 0 => {
                        let license = self.w.license(&h.license(&holder.pubkey()));
                        (license.serial, license.usage_count)
                    }
                    _ => (0, 0),
                };
                let attestor = attested.then(|| a.attestor.pubkey());
                if attested {
                    signers.push(&a.attestor);
                }
                let accounts = record_usage_accounts(holder.pubkey(), h, serial, index, attestor);
                let run_id = [purpose as u8 + 1; 32];
                vec![record_usage(
                    accounts,
                    RecordUsageArgs { purpose: PURPOSES[purpose], model_hash: MODELS[model], run_id },
                )]
            }
            Op::CloseLicense { b, d } => {
                signers.push(&a.buyers[b]);
                vec![close_license(a.buyers[b].pubkey(), &self.hs[d])]
            }
            Op::CloseDispute { b, d } => {
                signers.push(&a.buyers[b]);
                vec![close_dispute(a.buyers[b].pubkey(), &self.hs[d])]
            }
            Op::ForfeitReferral { b, d } => vec![forfeit_referral_fee(payer, &self.hs[d], &a.buyers[b].pubkey())],
            Op::CloseDataset { d } => {
                let owner = &a.owners[d];
                signers.push(owner);
                vec![
                    set_dataset_state(owner.pubkey(), &self.hs[d], data_market::state::DatasetState::Retired),
                    close_dataset(owner.pubkey(), &self.hs[d]),
                ]
            }
            Op::SetProtocolFee { bps } => {
                signers.push(&a.operator);
                let args = UpdateMarketplaceArgs { protocol_fee_bps: Some(bps), ..Default::default() };
                vec![update_marketplace(a.operator.pubkey(), args)]
            }
            Op::Warp { .. } => vec![],
        };
        (ixs, signers)
    }

    /// Runs one operation; returns whether the program accepted it. Panics on any disagreement
    /// with the model or any broken invariant.
    fn step(&mut self, op: &Op) -> bool {
        if let Op::Warp { secs } = *op {
            self.w.warp(secs);
            self.check();
            return true;
        }
        let now = self.w.now();
        let mut next = self.model.clone();
        let expected = next.apply(op, now, &self.a);
        let void_target = op
            .license()
            .and_then(|(b, d)| self.model.ds[d].lics[b].as_ref())
            .is_some_and(|l| l.state == LicenseState::Refunded);

        let (ixs, signers) = self.transaction(op);
        let signers: Vec<Keypair> = signers.into_iter().map(|k| k.insecure_clone()).collect();
        let signers: Vec<&Keypair> = signers.iter().collect();
        let payer = self.a.payer.pubkey();
        let mut touched: Vec<Pubkey> = ixs.iter().flat_map(|ix| ix.accounts.iter().map(|m| m.pubkey)).collect();
        touched.sort();
        touched.dedup();
        touched.retain(|k| *k != payer);
        let before: Vec<_> =
            touched.iter().map(|k| self.w.svm.get_account(k).map(|x| (x.lamports, x.owner, x.data))).collect();
        let result = self.w.send(&ixs, &signers);

        let accepted = match (&result, expected) {
            (Ok(_), Ok(())) => {
                self.model = next;
                for (key, was) in touched.iter().zip(&before) {
                    let now = self.w.svm.get_account(key).map(|x| (x.lamports, x.owner, x.data));
                    check_revision(key, was.as_ref(), now.as_ref());
                }
                true
            }
            (Err(failure), Err(refusal)) => {
                let actual = match &failure.err {
                    TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
                    _ => None,
                };
                assert_eq!(
                    actual,
                    Some(refusal.code()),
                    "expected refusal {refusal:?} ({}), got {:?}\n{}",
                    refusal.code(),
                    failure.err,
                    failure.meta.pretty_logs()
                );
                for (key, was) in touched.iter().zip(before) {
                    let now = self.w.svm.get_account(key).map(|x| (x.lamports, x.owner, x.data));
                    assert!(now == was, "account {key} changed in a refused operation");
                }
                false
            }
            (Ok(meta), Err(refusal)) => {
                panic!("the program accepted an operation the model refuses with {refusal:?}\n{}", meta.pretty_logs())
            }
            (Err(failure), Ok(())) => panic!(
                "the program refused an operation the model accepts: {:?}\n{}",
                failure.err,
                failure.meta.pretty_logs()
            ),
        };
        if void_target
            && matches!(
                op,
                Op::RecordUsage { .. }
                    | Op::Deliver { .. }
                    | Op::Settle { .. }
                    | Op::Renew { .. }
                    | Op::BuyCredits { .. }
            )
        {
            assert!(!accepted, "a refunded (void) licence was used, delivered, settled, renewed or topped up");
        }
        self.check();
        accepted
    }

    /// Every licence, dispute record and licence-token balance of dataset `d` against the model,
    /// and the licence mint's supply (the mint outlives a closed dataset).
    fn check_licences(&self, d: usize, h: &DatasetHandle) {
        let w = &self.w;
        let ds = &self.model.ds[d];
        for b in 0..BUYERS {
            let buyer = self.a.buyers[b].pubkey();
            let address = h.license(&buyer);
            match &ds.lics[b] {
                Some(expected) => {
                    let license = w.license(&address);
                    assert_eq!(&MLicense::of(&license), expected, "dataset {d}: licence of buyer {b}");
                }
                None => assert!(!w.exists(&address), "dataset {d}: buyer {b}'s licence should not exist"),
            }
            let record = dispute_address(&address);
            match ds.disputes[b] {
                Some(ruled) => {
                    let dispute: Dispute = w.account(&record);
                    assert_eq!(dispute.ruling.is_some(), ruled, "dataset {d}: dispute of buyer {b}");
                }
                None => assert!(!w.exists(&record), "dataset {d}: buyer {b}'s dispute should not exist"),
            }
            assert_eq!(w.balance(&h.license_account(&buyer)), ds.tokens[b], "dataset {d}: licence tokens of buyer {b}");
        }
        let supply = w.mint_supply(&h.license_mint);
        assert_eq!(supply, ds.tokens.iter().sum::<u64>(), "dataset {d}: licence supply");
        // independently of how tokens move: the supply is the unused credits of every open
        // licence not refunded; a refunded or closed licence keeps none of its own
        let unused: i128 = ds
            .lics
            .iter()
            .flatten()
            .map(|l| {
                let left = i128::from(l.credits) - if ds.metered { i128::from(l.usage) } else { 0 };
                if l.state == LicenseState::Refunded {
                    left.min(0)
                } else {
                    left
                }
            })
            .sum();
        assert_eq!(
            i128::from(supply),
            unused,
            "dataset {d}: licence supply != unused credits of licences not refunded"
        );
        // a refund repays only the purchase: no licence refunded (by timeout or by a ruling) was
        // ever renewed or topped up (the dataset prices do not change in these sequences)
        for l in ds.lics.iter().flatten().chain(&ds.closed).filter(|l| l.state == LicenseState::Refunded) {
            assert_eq!(l.renewals, 0, "dataset {d}: a refunded licence had been renewed");
            assert_eq!(l.credits * ds.price, l.price_paid, "dataset {d}: a refunded licence had been topped up");
        }
    }

    /// The invariants, after every operation.
    fn check(&self) {
        let w = &self.w;
        let mut vaults = 0u64;
        for (d, h) in self.hs.iter().enumerate() {
            let ds = &self.model.ds[d];
            let onchain = w.program_accounts_of::<License>(&[(FIELDS, h.address.as_ref())]);
            assert_eq!(onchain.len(), ds.lics.iter().flatten().count(), "dataset {d}: licence accounts");
            self.check_licences(d, h);
            if ds.gone {
                assert!(!w.exists(&h.address) && !w.exists(&h.escrow_vault), "dataset {d} is closed");
                continue;
            }
            w.assert_conserved(h);
            let state = w.dataset(&h.address);
            let ledger = state.ledger;
            let open: u64 = onchain
                .iter()
                .filter(|(_, l)| {
                    matches!(l.state, LicenseState::AwaitingKey | LicenseState::Delivered | LicenseState::Disputed)
                })
                .map(|(_, l)| l.price_paid)
                .sum();
            assert_eq!(ledger.escrowed, open, "dataset {d}: escrowed != price paid of open licences");
            assert_eq!(ledger.escrowed, ds.escrowed, "dataset {d}: escrowed");
            let n = ds.claimable.len();
            assert_eq!(&ledger.claimable[..n], ds.claimable.as_slice(), "dataset {d}: claimable");
            assert!(ledger.claimable[n..].iter().all(|c| *c == 0));
            assert_eq!(ledger.referral_fees_owed, ds.referral_owed, "dataset {d}: referral fees owed");
            assert_eq!(ledger.protocol_fees_owed, ds.protocol_owed, "dataset {d}: protocol fees owed");
            assert_eq!(
                (state.licenses_outstanding, state.licenses_sold, state.open_disputes, state.usage_by_purpose),
                (ds.outstanding, ds.sold, ds.open_disputes, ds.usage),
                "dataset {d}: outstanding, sold, open disputes, usage by purpose"
            );
            assert_eq!(ds.owner, state.owner);
            vaults += w.balance(&h.escrow_vault);
        }
        let mut held = 0u64;
        for (party, expected) in &self.model.balances {
            let actual = w.balance(&self.hs[0].payment_account(party));
            assert_eq!(actual, *expected, "{party} holds {actual}, the model says it was paid to {expected}");
            held += actual;
        }
        assert_eq!(self.model.paid_in, self.model.paid_out + vaults, "funds in != funds out + vaults");
        assert_eq!(held + vaults, FUND * BUYERS as u64, "payment tokens appeared or vanished");
    }
}

// ---------------------------------------------------------------------------------------------
// Running sequences
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Stats {
    sequences: usize,
    ops: usize,
    accepted: [usize; 18],
    rejected: [usize; 18],
}

impl Stats {
    fn summary(&self, backend: Backend, seconds: f64) -> String {
        let accepted: usize = self.accepted.iter().sum();
        let rejected: usize = self.rejected.iter().sum();
        let mut text = format!(
            "{backend:?}: {} sequences, {} ops ({accepted} accepted, {rejected} rejected) in {seconds:.1} s\n",
            self.sequences, self.ops
        );
        for (i, kind) in KINDS.iter().enumerate() {
            text.push_str(&format!("  {kind:<17} {:>5} accepted {:>5} rejected\n", self.accepted[i], self.rejected[i]));
        }
        text
    }
}

/// A backend's starting world, and a run that each sequence resets to it.
struct Bench {
    run: Run,
    svm: litesvm::LiteSVM,
    model: Model,
}

impl Bench {
    fn new(backend: Backend) -> Self {
        let run = setup(backend);
        run.check();
        let (svm, model) = (run.w.svm.clone(), run.model.clone());
        Bench { run, svm, model }
    }

    /// Runs a sequence from the starting world: `length` generated operations, or the `fixed` ones.
    /// On failure, prints the seed and the operations so far and panics with the seed.
    fn sequence(&mut self, seed: u64, length: usize, fixed: &[Op], stats: &mut Stats) {
        let backend = self.run.w.backend;
        self.run.w.svm = self.svm.clone();
        self.run.model = self.model.clone();
        let mut log: Vec<String> = Vec::new();
        let run = &mut self.run;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut rng = Rng(seed);
            let count = if fixed.is_empty() { length } else { fixed.len() };
            for i in 0..count {
                let now = run.w.now();
                let op = if fixed.is_empty() { generate(&mut rng, &run.model, now) } else { fixed[i] };
                log.push(format!("#{i:<3} t={:<8} {op:?}", now - START_TIME));
                let accepted = run.step(&op);
                let kind = op.kind();
                if accepted {
                    stats.accepted[kind] += 1;
                } else {
                    stats.rejected[kind] += 1;
                }
                stats.ops += 1;
                if let Some(last) = log.last_mut() {
                    last.push_str(if accepted { "  -> accepted" } else { "  -> rejected" });
                }
            }
        }));
        stats.sequences += 1;
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let at = log.len().saturating_sub(1);
            let name = if fixed.is_empty() { format!("seed {seed:#018x}") } else { "fixed sequence".to_string() };
            eprintln!("\n{name} failed on {backend:?} at op {at}:");
            for line in &log {
                eprintln!("  {line}");
            }
            let replay = if fixed.is_empty() {
                format!("\nreplay: SEED={seed:#x} OPS={length} cargo test -p market-tests --test sequence_fuzz -- --nocapture random")
            } else {
                String::new()
            };
            panic!(
                "{name} failed on {backend:?} at op {at} ({}): {message}{replay}",
                log.last().cloned().unwrap_or_default()
            );
        }
    }
}

/// The indexer's change detection: a program account written by an operation shows a higher
/// revision (at a fixed offset after the discriminator), one left alone the same, a new one 0.
fn check_revision(key: &Pubkey, was: Option<&(u64, Pubkey, Vec<u8>)>, now: Option<&(u64, Pubkey, Vec<u8>)>) {
    let revision = |data: &[u8]| u64::from_le_bytes(data[REVISION_OFFSET..REVISION_OFFSET + 8].try_into().unwrap());
    fn ours(account: Option<&(u64, Pubkey, Vec<u8>)>) -> Option<&(u64, Pubkey, Vec<u8>)> {
        account.filter(|(_, owner, data)| *owner == data_market::ID && !data.is_empty())
    }
    match (ours(was), ours(now)) {
        (Some((_, _, before)), Some((_, _, after))) if before == after => {}
        (Some((_, _, before)), Some((_, _, after))) => {
            assert!(revision(after) > revision(before), "account {key} changed without a new revision")
        }
        (None, Some((_, _, after))) => assert_eq!(revision(after), 0, "new account {key} starts at revision 0"),
        _ => {}
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn random_sequences(backend: Backend) {
    let length = env_usize("OPS", DEFAULT_OPS);
    let seeds: Vec<u64> = match std::env::var("SEED") {
        Ok(seed) => {
            let seed = seed.trim_start_matches("0x");
            vec![u64::from_str_radix(seed, 16).expect("SEED in hex")]
        }
        Err(_) => (0..env_usize("SEQUENCES", DEFAULT_SEQUENCES)).map(sequence_seed).collect(),
    };
    let started = Instant::now();
    let mut stats = Stats::default();
    let mut bench = Bench::new(backend);
    for seed in &seeds {
        bench.sequence(*seed, length, &[], &mut stats);
    }
    let summary = stats.summary(backend, started.elapsed().as_secs_f64());
    println!("{summary}");
    eprintln!("{summary}");
    let accepted: usize = stats.accepted.iter().sum();
    let rejected: usize = stats.rejected.iter().sum();
    assert!(accepted > 0 && rejected > 0, "{summary}");
    // a full default run must reach every operation's accepted path
    if seeds.len() >= DEFAULT_SEQUENCES && length >= DEFAULT_OPS {
        for (i, kind) in KINDS.iter().enumerate() {
            assert!(stats.accepted[i] > 0, "no {kind} was ever accepted: the generator misses it\n{summary}");
        }
    }
}

/// The void-licence paths on purpose: refunded by timeout, and refunded by a ruling after use
/// (metered and unmetered); then every use of those licences is refused, and they close and can be
/// bought again.
fn void_licences_stay_void(backend: Backend) {
    let ops = [
        Op::Buy { b: 0, d: 0, referral: Referral::Referrer(0), credits: 1, max_price_short: false },
        Op::Buy { b: 1, d: 1, referral: Referral::Referrer(1), credits: 3, max_price_short: false },
        Op::Deliver { b: 1, d: 1, impostor: false },
        Op::RecordUsage { b: 1, d: 1, model: 0, purpose: 0, attested: true },
        // refused: a top-up waits for settlement, so the Refund ruling below cannot void paid credits
        Op::BuyCredits { b: 1, d: 1, credits: 2 },
        Op::OpenDispute { b: 1, d: 1 },
        Op::RecordUsage { b: 1, d: 1, model: 1, purpose: 2, attested: false },
        Op::Rule { b: 1, d: 1, ruling: Ruling::Refund, impostor: false },
        // an unmetered licence used, then refunded by a ruling: its token goes too
        Op::Buy { b: 2, d: 0, referral: Referral::None, credits: 1, max_price_short: false },
        Op::Deliver { b: 2, d: 0, impostor: false },
        Op::RecordUsage { b: 2, d: 0, model: 1, purpose: 3, attested: false },
        Op::OpenDispute { b: 2, d: 0 },
        Op::Rule { b: 2, d: 0, ruling: Ruling::Refund, impostor: false },
        Op::RecordUsage { b: 2, d: 0, model: 1, purpose: 3, attested: false },
        Op::Renew { b: 2, d: 0 },
        Op::Warp { secs: i64::from(DELIVERY_WINDOW) + 1 },
        Op::Refund { b: 0, d: 0 },
        Op::RecordUsage { b: 0, d: 0, model: 0, purpose: 0, attested: false },
        Op::RecordUsage { b: 1, d: 1, model: 0, purpose: 0, attested: false },
        Op::Deliver { b: 0, d: 0, impostor: false },
        Op::Deliver { b: 1, d: 1, impostor: false },
        Op::Settle { b: 0, d: 0 },
        Op::Settle { b: 1, d: 1 },
        Op::Renew { b: 0, d: 0 },
        Op::Renew { b: 1, d: 1 },
        Op::BuyCredits { b: 1, d: 1, credits: 1 },
        Op::OpenDispute { b: 0, d: 0 },
        Op::ClaimReferral { r: 1, b: 1, d: 1 },
        Op::Refund { b: 0, d: 0 },
        Op::CloseLicense { b: 1, d: 1 },
        Op::CloseDispute { b: 1, d: 1 },
        Op::CloseLicense { b: 1, d: 1 },
        Op::CloseLicense { b: 0, d: 0 },
        Op::Claim { who: 1, d: 1 },
        Op::Claim { who: 2, d: 1 },
        Op::Sweep { d: 1 },
        Op::Warp { secs: DAY },
        Op::Buy { b: 0, d: 0, referral: Referral::None, credits: 1, max_price_short: false },
        Op::Buy { b: 1, d: 1, referral: Referral::None, credits: 1, max_price_short: false },
        Op::Deliver { b: 1, d: 1, impostor: false },
        Op::RecordUsage { b: 1, d: 1, model: 1, purpose: 1, attested: false },
    ];
    let mut stats = Stats::default();
    Bench::new(backend).sequence(0, 0, &ops, &mut stats);
    assert_eq!(stats.ops, ops.len());
}

/// A licence refunded by a ruling, closed and bought again within the same second gets the same
/// licence address and the same `bought_at`, but a new `serial` (the dataset's sale number): its
/// first usage receipt, derived from the serial, must not collide with the receipt of the licence
/// before it.
fn rebought_licence_records_usage(backend: Backend) {
    let ops = [
        Op::Buy { b: 0, d: 0, referral: Referral::None, credits: 1, max_price_short: false },
        Op::Deliver { b: 0, d: 0, impostor: false },
        Op::RecordUsage { b: 0, d: 0, model: 0, purpose: 0, attested: false },
        Op::OpenDispute { b: 0, d: 0 },
        Op::Rule { b: 0, d: 0, ruling: Ruling::Refund, impostor: false },
        Op::CloseDispute { b: 0, d: 0 },
        Op::CloseLicense { b: 0, d: 0 },
        Op::Buy { b: 0, d: 0, referral: Referral::None, credits: 1, max_price_short: false },
        Op::Deliver { b: 0, d: 0, impostor: false },
        Op::RecordUsage { b: 0, d: 0, model: 1, purpose: 0, attested: false },
    ];
    let mut stats = Stats::default();
    Bench::new(backend).sequence(0, 0, &ops, &mut stats);
}

fn dispute_evidence(w: &mut World, d: &DatasetHandle, buyer: &Keypair) -> TxResult {
    w.send(&[open_dispute(buyer.pubkey(), d, DisputeReason::KeyInvalid, "ipfs://evidence")], &[buyer])
}

fn ruling(w: &mut World, d: &DatasetHandle, buyer: &Keypair, ruling: Ruling) -> TxResult {
    let arbiter = w.arbiter.insecure_clone();
    w.send(&[rule_dispute(arbiter.pubkey(), d, &buyer.pubkey(), ruling)], &[&arbiter])
}

/// A Refund ruling repays only the escrowed purchase, so a renewal must never be paid while a dispute
/// is still possible: it is refused while the licence is Delivered (even once the dispute window has
/// closed, until the licence is settled) and while it is Disputed. The buyer ruled Refund gets back
/// everything it paid; the buyer who renews once settled can no longer open a dispute
/// (DisputeWindowClosed), so no ruling can ever void the renewal it paid.
fn refund_ruling_repays_a_renewal(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let d = w.register(&owner, "renewed-then-disputed");
    let arbiter = w.arbiter.insecure_clone();
    w.svm.airdrop(&arbiter.pubkey(), SOL).unwrap();
    let buyer = w.buyer(2 * PRICE);
    let license = d.license(&buyer.pubkey());
    let paying = d.payment_account(&buyer.pubkey());
    w.buy(&d, &buyer, None).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let watched = [d.address, license, d.escrow_vault, paying];
    let before: Vec<_> = watched.iter().map(|a| w.svm.get_account(a)).collect();
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseNotSettled);
    assert_eq!(watched.iter().map(|a| w.svm.get_account(a)).collect::<Vec<_>>(), before);
    dispute_evidence(&mut w, &d, &buyer).succeeds();
    let disputed: Vec<_> = watched.iter().map(|a| w.svm.get_account(a)).collect();
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseDisputed);
    assert_eq!(watched.iter().map(|a| w.svm.get_account(a)).collect::<Vec<_>>(), disputed);
    assert_eq!((w.license(&license).renewals, w.balance(&paying)), (0, PRICE));
    ruling(&mut w, &d, &buyer, Ruling::Refund).succeeds();
    w.assert_conserved(&d);
    let voided = w.license(&license);
    assert_eq!((voided.state, voided.renewals), (LicenseState::Refunded, 0));
    let back = w.balance(&paying);
    let kept = w.dataset(&d.address).ledger.claimable[0] + w.dataset(&d.address).ledger.protocol_fees_owed;
    assert_eq!(
        back,
        2 * PRICE,
        "the licence is void, yet the buyer holds {back} of the {} it was funded with ({kept} owed to the \
         recipients and the protocol)",
        2 * PRICE
    );
    assert_eq!(kept, 0);
    w.send(&[renew_license(buyer.pubkey(), &d, PRICE)], &[&buyer]).fails_with(MarketError::LicenseVoid);

    // settled first: the renewal goes through, and no dispute (hence no ruling) can follow it
    let renewer = w.buyer(2 * PRICE);
    let renewed = d.license(&renewer.pubkey());
    w.buy(&d, &renewer, None).succeeds();
    w.deliver(&d, &owner, &renewer.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    // the window has closed but nobody settled yet: still Delivered, still refused
    assert_eq!(w.license(&renewed).state, LicenseState::Delivered);
    w.send(&[renew_license(renewer.pubkey(), &d, PRICE)], &[&renewer]).fails_with(MarketError::LicenseNotSettled);
    w.settle(&d, &renewer.pubkey()).succeeds();
    let settled = w.dataset(&d.address).ledger;
    let (expires_at, duration) = (w.license(&renewed).expires_at, w.dataset(&d.address).terms.duration_secs as i64);
    assert!(expires_at > w.now());
    w.send(&[renew_license(renewer.pubkey(), &d, PRICE)], &[&renewer]).succeeds();
    let fee = share(PRICE, PROTOCOL_FEE_BPS);
    let after = w.dataset(&d.address).ledger;
    assert_eq!(after.escrowed, settled.escrowed);
    assert_eq!(after.claimable[0], settled.claimable[0] + PRICE - fee);
    assert_eq!(after.protocol_fees_owed, settled.protocol_fees_owed + fee);
    assert_eq!(w.balance(&d.payment_account(&renewer.pubkey())), 0);
    let state = w.license(&renewed);
    assert_eq!((state.state, state.renewals, state.expires_at), (LicenseState::Settled, 1, expires_at + duration));
    dispute_evidence(&mut w, &d, &renewer).fails_with(MarketError::DisputeWindowClosed);
    assert!(!w.exists(&dispute_address(&renewed)));
    ruling(&mut w, &d, &renewer, Ruling::Refund).fails_with_anchor(ErrorCode::AccountNotInitialized);
    assert_eq!(w.license(&renewed).state, LicenseState::Settled);
    assert_eq!(w.dataset(&d.address).ledger, after);
    w.assert_conserved(&d);
}

/// A Refund ruling burns every unused credit but repays only the escrowed purchase, so credits must
/// never be topped up while a dispute is still possible: the top-up is refused while the licence is
/// Delivered (even once the dispute window has closed, until the licence is settled) and while it is
/// Disputed. The buyer ruled Refund keeps or gets back everything it paid for; the buyer who tops up
/// once settled can no longer open a dispute (DisputeWindowClosed), so its credits are never voided.
fn refund_ruling_repays_topped_up_credits(backend: Backend) {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = dataset_args("topped-up-then-disputed", single_owner(&owner.pubkey()));
    args.price = CREDIT_PRICE_1;
    args.terms.metered = true;
    let d = w.register_with(&owner, args);
    let arbiter = w.arbiter.insecure_clone();
    w.svm.airdrop(&arbiter.pubkey(), SOL).unwrap();
    let buyer = w.buyer(5 * CREDIT_PRICE_1);
    let license = d.license(&buyer.pubkey());
    let paying = d.payment_account(&buyer.pubkey());
    let purchase = PurchaseLicenseArgs { credits: 3, ..purchase_args(3 * CREDIT_PRICE_1) };
    w.send(&purchase_instructions(buyer.pubkey(), &d, purchase, None), &[&buyer]).succeeds();
    w.deliver(&d, &owner, &buyer.pubkey()).succeeds();
    let top_up = buy_credits(buyer.pubkey(), &d, 2, 2 * CREDIT_PRICE_1);
    let watched = [d.address, license, d.escrow_vault, d.license_mint, paying];
    let before: Vec<_> = watched.iter().map(|a| w.svm.get_account(a)).collect();
    w.send(&[top_up.clone()], &[&buyer]).fails_with(MarketError::LicenseNotSettled);
    assert_eq!(watched.iter().map(|a| w.svm.get_account(a)).collect::<Vec<_>>(), before);
    dispute_evidence(&mut w, &d, &buyer).succeeds();
    let disputed: Vec<_> = watched.iter().map(|a| w.svm.get_account(a)).collect();
    w.send(&[top_up], &[&buyer]).fails_with(MarketError::LicenseDisputed);
    assert_eq!(watched.iter().map(|a| w.svm.get_account(a)).collect::<Vec<_>>(), disputed);
    assert_eq!((w.license(&license).credits, w.balance(&paying)), (3, 2 * CREDIT_PRICE_1));
    ruling(&mut w, &d, &buyer, Ruling::Refund).succeeds();
    w.assert_conserved(&d);
    let back = w.balance(&paying);
    let credits_left = w.balance(&d.license_account(&buyer.pubkey()));
    assert_eq!(
        back + credits_left * CREDIT_PRICE_1,
        5 * CREDIT_PRICE_1,
        "the buyer was funded with 5 credits' price and used none; after the refund ruling it holds {back} \
         back and {credits_left} credits"
    );
    assert_eq!((back, credits_left), (5 * CREDIT_PRICE_1, 0));
    w.send(&[buy_credits(buyer.pubkey(), &d, 2, 2 * CREDIT_PRICE_1)], &[&buyer]).fails_with(MarketError::LicenseVoid);

    // settled first: the top-up goes through, and no dispute (hence no ruling) can follow it
    let topper = w.buyer(5 * CREDIT_PRICE_1);
    let topped = d.license(&topper.pubkey());
    let purchase = PurchaseLicenseArgs { credits: 3, ..purchase_args(3 * CREDIT_PRICE_1) };
    w.send(&purchase_instructions(topper.pubkey(), &d, purchase, None), &[&topper]).succeeds();
    w.deliver(&d, &owner, &topper.pubkey()).succeeds();
    w.warp(i64::from(DISPUTE_WINDOW));
    // the window has closed but nobody settled yet: still Delivered, still refused
    assert_eq!(w.license(&topped).state, LicenseState::Delivered);
    w.send(&[buy_credits(topper.pubkey(), &d, 2, 2 * CREDIT_PRICE_1)], &[&topper])
        .fails_with(MarketError::LicenseNotSettled);
    w.settle(&d, &topper.pubkey()).succeeds();
    let settled = w.dataset(&d.address).ledger;
    w.send(&[buy_credits(topper.pubkey(), &d, 2, 2 * CREDIT_PRICE_1)], &[&topper]).succeeds();
    let fee = share(2 * CREDIT_PRICE_1, PROTOCOL_FEE_BPS);
    let after = w.dataset(&d.address).ledger;
    assert_eq!(after.escrowed, settled.escrowed);
    assert_eq!(after.claimable[0], settled.claimable[0] + 2 * CREDIT_PRICE_1 - fee);
    assert_eq!(after.protocol_fees_owed, settled.protocol_fees_owed + fee);
    assert_eq!(w.balance(&d.payment_account(&topper.pubkey())), 0);
    assert_eq!((w.license(&topped).credits, w.balance(&d.license_account(&topper.pubkey()))), (5, 5));
    dispute_evidence(&mut w, &d, &topper).fails_with(MarketError::DisputeWindowClosed);
    assert!(!w.exists(&dispute_address(&topped)));
    ruling(&mut w, &d, &topper, Ruling::Refund).fails_with_anchor(ErrorCode::AccountNotInitialized);
    assert_eq!((w.license(&topped).state, w.balance(&d.license_account(&topper.pubkey()))), (LicenseState::Settled, 5));
    assert_eq!(w.dataset(&d.address).ledger, after);
    w.assert_conserved(&d);
}

on_both_backends!(
    random_sequences,
    void_licences_stay_void,
    rebought_licence_records_usage,
    refund_ruling_repays_a_renewal,
    refund_ruling_repays_topped_up_credits,
);
