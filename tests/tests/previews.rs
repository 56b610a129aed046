//! Verifiable random previews: an owner commits to a chunk-tree root and limits; a buyer's request
//! records its slot; the answer draws the chunks from that slot's hash in the SlotHashes sysvar
//! (nobody can pass another account), within a window after which the request is put on record as
//! expired. Each constraint has a test that fails without it.
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use data_market::constants::{MAX_CID_LEN, MAX_PREVIEW_CHUNKS, PREVIEW_ANSWER_SLOTS};
use data_market::domain::preview::draw_chunks;
use data_market::errors::MarketError;
use data_market::instruction;
use data_market::instructions::{EnablePreviewArgs, UpdateDatasetArgs};
use data_market::state::{DatasetState, PreviewPolicy, PreviewRequest, PreviewState};
use market_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

const ROOT: [u8; 32] = [0x52; 32];
const CID: &str = "bafkreipreviewbundle";

fn preview_args() -> EnablePreviewArgs {
    EnablePreviewArgs {
        chunk_tree_root: ROOT,
        chunk_size: 1 << 20,
        chunk_count: 1_024,
        chunks_per_preview: 4,
        max_per_period: 3,
        period_secs: 3_600,
    }
}

fn previewing(backend: Backend) -> Shop {
    let shop = shop(backend);
    let Shop { mut w, owner, d } = shop;
    w.send(&[enable_preview(owner.pubkey(), &d, preview_args())], &[&owner]).succeeds();
    Shop { w, owner, d }
}

fn policy(w: &World, d: &DatasetHandle) -> PreviewPolicy {
    w.account(&preview_policy_address(&d.address))
}

fn request(w: &World, address: &Pubkey) -> PreviewRequest {
    w.account(address)
}

/// A buyer's request, landed in the current slot; returns its address.
fn requested(w: &mut World, d: &DatasetHandle, buyer: &Keypair, nonce: u64) -> Pubkey {
    w.send(&[request_preview(buyer.pubkey(), d, nonce)], &[buyer]).succeeds();
    preview_request_address(&d.address, &buyer.pubkey(), nonce)
}

/// The whole flow: the request records its slot, the answer in a later slot draws the chunks from
/// that slot's hash (as the domain function computes them) and records the bundle's CID.
fn a_preview_is_drawn_from_the_request_slot_hash(backend: Backend) {
    let Shop { mut w, owner, d } = previewing(backend);
    let stored = policy(&w, &d);
    assert_eq!((stored.chunk_tree_root, stored.chunk_size, stored.chunk_count), (ROOT, 1 << 20, 1_024));
    let buyer = w.wallet();
    let slot = w.slot();
    let address = requested(&mut w, &d, &buyer, 7);
    let pending = request(&w, &address);
    assert_eq!((pending.state, pending.requested_slot, pending.chunks_requested), (PreviewState::Requested, slot, 4));
    assert_eq!(pending.answer_deadline_slot, slot + PREVIEW_ANSWER_SLOTS);
    assert_eq!((pending.buyer, pending.dataset, pending.nonce), (buyer.pubkey(), d.address, 7));

    let slot_hash = w.next_slot();
    w.next_slot();
    w.send(&[answer_preview(owner.pubkey(), &d, address, CID)], &[&owner]).succeeds();
    let answered = request(&w, &address);
    let expected = draw_chunks(&slot_hash, &address.to_bytes(), 1_024, 4).unwrap();
    assert_eq!(answered.chunks, expected);
    assert_eq!((answered.state, answered.answer_cid.as_str(), answered.answered_slot), (PreviewState::Answered, CID, slot + 2));
    assert_eq!((policy(&w, &d).requested, policy(&w, &d).answered), (1, 1));

    // the rent comes back to the buyer once the request is settled
    let before = w.lamports(&buyer.pubkey());
    let rent = w.lamports(&address);
    w.send(&[close_preview_request(buyer.pubkey(), address)], &[&buyer]).succeeds();
    assert!(!w.exists(&address));
    assert_eq!(w.lamports(&buyer.pubkey()), before + rent - 5_000);
}

/// The draw reads the SlotHashes sysvar by address: an answer that passes any other account (e.g. one
/// whose "hashes" would select chunks of the answerer's or the buyer's choice) is refused, as is an
/// answer before the request slot has a hash, or once the slot's hash is gone.
fn nobody_picks_the_chunks(backend: Backend) {
    let Shop { mut w, owner, d } = previewing(backend);
    let buyer = w.wallet();
    let address = requested(&mut w, &d, &buyer, 1);
    w.send(&[answer_preview(owner.pubkey(), &d, address, CID)], &[&owner]).fails_with(MarketError::PreviewNotDrawnYet);

    w.next_slot();
    let fake = Keypair::new().pubkey();
    let mut accounts = answer_preview_accounts(owner.pubkey(), &d, address);
    accounts.slot_hashes = fake;
    let forged = build(accounts, instruction::AnswerPreview { answer_cid: CID.into() });
    w.send(&[forged], &[&owner]).fails_with_anchor(ErrorCode::ConstraintAddress);
    assert_eq!(request(&w, &address).state, PreviewState::Requested);

    // a request whose slot was never hashed (the sysvar does not hold it) cannot be answered
    let other = w.wallet();
    w.skip_slots(3);
    let unhashed = requested(&mut w, &d, &other, 1);
    w.skip_slots(1);
    w.send(&[answer_preview(owner.pubkey(), &d, unhashed, CID)], &[&owner]).fails_with(MarketError::SlotHashUnavailable);
}

/// Only the owner or its delivery delegate answers, once, in time, for a request of its own dataset,
/// with a bounded CID.
fn only_the_owner_answers_once_in_time(backend: Backend) {
    let Shop { mut w, owner, d } = previewing(backend);
    let buyer = w.wallet();
    let address = requested(&mut w, &d, &buyer, 1);
    w.next_slot();
    w.send(&[answer_preview(buyer.pubkey(), &d, address, CID)], &[&buyer]).fails_with(MarketError::NotDeliveryAuthority);
    let long = "c".repeat(MAX_CID_LEN + 1);
    w.send(&[answer_preview(owner.pubkey(), &d, address, &long)], &[&owner]).fails_with(MarketError::InvalidCiphertextCid);
    w.send(&[answer_preview(owner.pubkey(), &d, address, "")], &[&owner]).fails_with(MarketError::InvalidCiphertextCid);

    // a delegate may answer
    let delegate = w.wallet();
    let args = UpdateDatasetArgs { delivery_delegate: Some(delegate.pubkey()), ..Default::default() };
    w.send(&[update_dataset(owner.pubkey(), &d, args)], &[&owner]).succeeds();
    w.send(&[answer_preview(delegate.pubkey(), &d, address, CID)], &[&delegate]).succeeds();
    w.send(&[answer_preview(owner.pubkey(), &d, address, "bafkreiagain")], &[&owner]).fails_with(MarketError::PreviewNotPending);

    // another dataset's owner cannot answer this request through its own dataset and policy
    let rival = w.wallet();
    let other = w.register(&rival, "rival");
    w.send(&[enable_preview(rival.pubkey(), &other, preview_args())], &[&rival]).succeeds();
    let late = requested(&mut w, &d, &buyer, 2);
    w.next_slot();
    w.send(&[answer_preview(rival.pubkey(), &other, late, CID)], &[&rival]).fails_with(MarketError::WrongDataset);
    let mut accounts = answer_preview_accounts(owner.pubkey(), &d, late);
    accounts.preview_policy = preview_policy_address(&other.address);
    w.send(&[build(accounts, instruction::AnswerPreview { answer_cid: CID.into() })], &[&owner])
        .fails_with(MarketError::WrongDataset);

    // past the window the answer is refused and the request can be put on record as expired
    w.skip_slots(PREVIEW_ANSWER_SLOTS);
    w.send(&[answer_preview(owner.pubkey(), &d, late, CID)], &[&owner]).fails_with(MarketError::PreviewAnswerLate);
}

/// An unanswered request becomes a public record of the owner's silence, only after the window,
/// only once, and counted on the dataset's own policy. Only its buyer closes it, once settled.
fn unanswered_requests_expire_on_record(backend: Backend) {
    let Shop { mut w, owner, d } = previewing(backend);
    let buyer = w.wallet();
    let address = requested(&mut w, &d, &buyer, 1);
    let stranger = w.wallet();
    w.send(&[close_preview_request(buyer.pubkey(), address)], &[&buyer]).fails_with(MarketError::PreviewRequestOpen);
    w.skip_slots(PREVIEW_ANSWER_SLOTS);
    w.send(&[expire_preview(stranger.pubkey(), &d, address)], &[&stranger]).fails_with(MarketError::PreviewStillOpen);
    w.skip_slots(1);

    let rival = w.wallet();
    let other = w.register(&rival, "rival");
    w.send(&[enable_preview(rival.pubkey(), &other, preview_args())], &[&rival]).succeeds();
    w.send(&[expire_preview(stranger.pubkey(), &other, address)], &[&stranger]).fails_with(MarketError::WrongDataset);

    w.send(&[expire_preview(stranger.pubkey(), &d, address)], &[&stranger]).succeeds();
    assert_eq!(request(&w, &address).state, PreviewState::Expired);
    assert_eq!(policy(&w, &d).expired, 1);
    w.send(&[expire_preview(stranger.pubkey(), &d, address)], &[&stranger]).fails_with(MarketError::PreviewNotPending);
    w.send(&[answer_preview(owner.pubkey(), &d, address, CID)], &[&owner]).fails_with(MarketError::PreviewNotPending);

    w.send(&[close_preview_request(stranger.pubkey(), address)], &[&stranger]).fails_with(MarketError::NotPreviewBuyer);
    w.send(&[close_preview_request(buyer.pubkey(), address)], &[&buyer]).succeeds();
}

/// The owner's quota holds per period; pausing (0 chunks) stops requests; requests keep the chunk
/// count they were made with; only open datasets take requests; a request sits at its seeds.
fn requests_respect_the_owner_limits(backend: Backend) {
    let Shop { mut w, owner, d } = previewing(backend);
    let buyer = w.wallet();
    for nonce in 0..3 {
        requested(&mut w, &d, &buyer, nonce);
    }
    w.send(&[request_preview(buyer.pubkey(), &d, 3)], &[&buyer]).fails_with(MarketError::PreviewLimitReached);
    w.warp(3_600);
    let fourth = requested(&mut w, &d, &buyer, 3);
    assert_eq!(policy(&w, &d).used_in_period, 1);

    w.send(&[set_preview_limits(owner.pubkey(), &d, 2, 10, 60)], &[&owner]).succeeds();
    let fifth = requested(&mut w, &d, &buyer, 4);
    assert_eq!((request(&w, &fourth).chunks_requested, request(&w, &fifth).chunks_requested), (4, 2));
    w.send(&[set_preview_limits(owner.pubkey(), &d, 0, 0, 0)], &[&owner]).succeeds();
    w.send(&[request_preview(buyer.pubkey(), &d, 5)], &[&buyer]).fails_with(MarketError::PreviewsOff);
    w.send(&[set_preview_limits(owner.pubkey(), &d, 4, 10, 60)], &[&owner]).succeeds();

    // the same nonce twice is the same account
    w.send(&[request_preview(buyer.pubkey(), &d, 4)], &[&buyer]).fails();
    // a request at an address other than its seeds
    let mut accounts = request_preview_accounts(buyer.pubkey(), &d, 6);
    accounts.preview_request = preview_request_address(&d.address, &buyer.pubkey(), 7);
    w.send(&[build(accounts, instruction::RequestPreview { nonce: 6 })], &[&buyer]).fails_with_anchor(ErrorCode::ConstraintSeeds);
    // another dataset's policy (and quota)
    let rival = w.wallet();
    let other = w.register(&rival, "rival");
    w.send(&[enable_preview(rival.pubkey(), &other, preview_args())], &[&rival]).succeeds();
    let mut accounts = request_preview_accounts(buyer.pubkey(), &d, 6);
    accounts.preview_policy = preview_policy_address(&other.address);
    w.send(&[build(accounts, instruction::RequestPreview { nonce: 6 })], &[&buyer]).fails_with(MarketError::WrongDataset);

    w.send(&[set_dataset_state(owner.pubkey(), &d, DatasetState::OrderingPaused)], &[&owner]).succeeds();
    w.send(&[request_preview(buyer.pubkey(), &d, 6)], &[&buyer]).fails_with(MarketError::DatasetNotActive);
}

/// Only the owner sets up previews, once (the root cannot be swapped later), within bounds; only the
/// owner changes the limits, of its own dataset's policy.
fn only_the_owner_commits_to_a_root_once(backend: Backend) {
    let Shop { mut w, owner, d } = shop(backend);
    let stranger = w.wallet();
    w.send(&[enable_preview(stranger.pubkey(), &d, preview_args())], &[&stranger]).fails_with(MarketError::NotDatasetOwner);
    let mut args = preview_args();
    args.chunk_size = 63;
    w.send(&[enable_preview(owner.pubkey(), &d, args)], &[&owner]).fails_with(MarketError::InvalidChunking);
    let mut args = preview_args();
    args.chunk_count = 31;
    w.send(&[enable_preview(owner.pubkey(), &d, args)], &[&owner]).fails_with(MarketError::PreviewTooLarge);
    let mut args = preview_args();
    args.chunks_per_preview = MAX_PREVIEW_CHUNKS as u8 + 1;
    w.send(&[enable_preview(owner.pubkey(), &d, args)], &[&owner]).fails_with(MarketError::PreviewTooLarge);
    let mut args = preview_args();
    args.max_per_period = 0;
    w.send(&[enable_preview(owner.pubkey(), &d, args)], &[&owner]).fails_with(MarketError::InvalidPreviewLimits);
    let mut accounts = enable_preview_accounts(owner.pubkey(), &d);
    accounts.preview_policy = preview_request_address(&d.address, &owner.pubkey(), 0);
    w.send(&[build(accounts, instruction::EnablePreview { args: preview_args() })], &[&owner])
        .fails_with_anchor(ErrorCode::ConstraintSeeds);

    w.send(&[enable_preview(owner.pubkey(), &d, preview_args())], &[&owner]).succeeds();
    let mut swapped = preview_args();
    swapped.chunk_tree_root = [0x53; 32];
    w.send(&[enable_preview(owner.pubkey(), &d, swapped)], &[&owner]).fails();
    assert_eq!(policy(&w, &d).chunk_tree_root, ROOT);

    w.send(&[set_preview_limits(stranger.pubkey(), &d, 1, 1, 60)], &[&stranger]).fails_with(MarketError::NotDatasetOwner);
    w.send(&[set_preview_limits(owner.pubkey(), &d, 200, 1, 60)], &[&owner]).fails_with(MarketError::PreviewTooLarge);
    w.send(&[set_preview_limits(owner.pubkey(), &d, 1, 1, 59)], &[&owner]).fails_with(MarketError::InvalidPreviewLimits);
    let rival = w.wallet();
    let other = w.register(&rival, "rival");
    w.send(&[enable_preview(rival.pubkey(), &other, preview_args())], &[&rival]).succeeds();
    let mut accounts = set_preview_limits_accounts(owner.pubkey(), &d);
    accounts.preview_policy = preview_policy_address(&other.address);
    let ix = build(accounts, instruction::SetPreviewLimits { chunks_per_preview: 0, max_per_period: 0, period_secs: 0 });
    w.send(&[ix], &[&owner]).fails_with(MarketError::WrongDataset);
    assert_eq!(policy(&w, &other).chunks_per_preview, 4);

    // a retired dataset takes no preview policy
    let late = w.register(&owner, "late");
    w.send(&[set_dataset_state(owner.pubkey(), &late, DatasetState::Retired)], &[&owner]).succeeds();
    w.send(&[enable_preview(owner.pubkey(), &late, preview_args())], &[&owner]).fails_with(MarketError::DatasetNotActive);
}

on_both_backends!(
    a_preview_is_drawn_from_the_request_slot_hash,
    nobody_picks_the_chunks,
    only_the_owner_answers_once_in_time,
    unanswered_requests_expire_on_record,
    requests_respect_the_owner_limits,
    only_the_owner_commits_to_a_root_once,
);

/// The preview bars: a request and an answer (the draw of 8 chunks included) stay within 30,000
/// compute units on the SBF build.
#[test]
fn sbf_preview_instructions_stay_within_30k_compute_units() {
    let Shop { mut w, owner, d } = shop(Backend::Sbf);
    let mut args = preview_args();
    args.chunks_per_preview = 8;
    w.send(&[enable_preview(owner.pubkey(), &d, args)], &[&owner]).succeeds();
    let buyer = w.wallet();
    let meta = w.send(&[request_preview(buyer.pubkey(), &d, 1)], &[&buyer]).succeeds();
    assert!(meta.compute_units_consumed <= 30_000, "request_preview used {}", meta.compute_units_consumed);
    // late in the window: the slot hash is searched among 100 newer ones
    for _ in 0..100 {
        w.next_slot();
    }
    let address = preview_request_address(&d.address, &buyer.pubkey(), 1);
    let meta = w.send(&[answer_preview(owner.pubkey(), &d, address, CID)], &[&owner]).succeeds();
    assert!(meta.compute_units_consumed <= 30_000, "answer_preview used {}", meta.compute_units_consumed);
}
