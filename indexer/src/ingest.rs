//! Bringing the store up to the chain: a snapshot (getProgramAccounts per account type) and a
//! reconcile pass (a 16-byte slice of every account, discriminator + revision, then
//! getMultipleAccounts for the ones that changed and for the ones that are gone).
//!
//! The store (`db::IndexStore`, SQLite or PostgreSQL) is shared with the subscription; these passes
//! use it only to read or write, never across a request to the node.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use serde_json::json;

use crate::decode::{Header, Kind, HEADER_LEN};
use crate::rpc::{Rpc, RpcError};
use crate::activity::TransactionEvents;
use crate::db::{IndexStore, StoreError};
use crate::events::events_in_logs;
use crate::store::{Applied, Update};

#[derive(Debug)]
pub enum IngestError {
    Rpc(RpcError),
    Store(StoreError),
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IngestError::Rpc(error) => error.fmt(f),
            IngestError::Store(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for IngestError {}

impl From<RpcError> for IngestError {
    fn from(error: RpcError) -> Self {
        IngestError::Rpc(error)
    }
}

impl From<StoreError> for IngestError {
    fn from(error: StoreError) -> Self {
        IngestError::Store(error)
    }
}

pub fn program_id() -> String {
    data_market::ID.to_string()
}

fn discriminator_filter(kind: Kind) -> serde_json::Value {
    json!([{ "memcmp": {
        "offset": 0,
        "bytes": base64::engine::general_purpose::STANDARD.encode(kind.discriminator()),
        "encoding": "base64",
    } }])
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Pass {
    /// The slot the store is now complete up to (the checkpoint written).
    pub slot: u64,
    /// Accounts the pass downloaded whole.
    pub fetched: usize,
    pub applied: Applied,
}

/// Loads every account of the program, one getProgramAccounts per account type; the checkpoint
/// becomes the lowest of their context slots. Does not notice accounts closed since an earlier
/// run: `reconcile` does.
pub async fn snapshot(rpc: &Rpc, store: &dyn IndexStore) -> Result<Pass, IngestError> {
    let program = program_id();
    let mut pass = Pass { slot: u64::MAX, ..Default::default() };
    for kind in Kind::ALL {
        let (slot, accounts) = rpc.program_accounts(&program, discriminator_filter(kind), None).await?;
        pass.slot = pass.slot.min(slot);
        pass.fetched += accounts.len();
        let updates: Vec<Update> = accounts
            .into_iter()
            .map(|(address, account)| Update::Upsert { address, slot, data: account.data })
            .collect();
        add(&mut pass.applied, store.apply(&updates).await?);
    }
    store.checkpoint(pass.slot).await?;
    Ok(pass)
}

fn add(total: &mut Applied, more: Applied) {
    total.upserted += more.upserted;
    total.closed += more.closed;
    total.stale += more.stale;
    total.undecodable += more.undecodable;
}

/// How the store differs from the chain's headers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The slot of the headers.
    pub slot: u64,
    /// On chain and missing from the store, or at another revision.
    pub changed: Vec<String>,
    /// Open in the store, absent from the chain.
    pub gone: Vec<String>,
    /// Accounts the program owns.
    pub on_chain: usize,
}

/// Compares the store with a 16-byte slice (discriminator + revision) of every program account.
pub async fn diff(rpc: &Rpc, store: &dyn IndexStore) -> Result<Diff, IngestError> {
    let (slot, headers) = rpc.program_accounts(&program_id(), json!([]), Some((0, HEADER_LEN))).await?;
    let held = store.open_accounts().await?;
    Ok(diff_headers(slot, &headers.into_iter().map(|(a, acc)| (a, acc.data)).collect::<Vec<_>>(), &held))
}

pub fn diff_headers(slot: u64, headers: &[(String, Vec<u8>)], held: &HashMap<String, (Kind, u64)>) -> Diff {
    let mut diff = Diff { slot, on_chain: headers.len(), ..Default::default() };
    let mut seen = HashSet::with_capacity(headers.len());
    for (address, data) in headers {
        let Some(header) = Header::read(data) else { continue };
        let Some(kind) = header.kind else { continue };
        seen.insert(address.as_str());
        if held.get(address) != Some(&(kind, header.revision)) {
            diff.changed.push(address.clone());
        }
    }
    diff.gone = held.keys().filter(|address| !seen.contains(address.as_str())).cloned().collect();
    diff.changed.sort();
    diff.gone.sort();
    diff
}

/// Brings the store to the chain: downloads (getMultipleAccounts) the accounts whose header
/// changed and checks the ones that vanished (absent, or no longer the program's = closed).
pub async fn reconcile(rpc: &Rpc, store: &dyn IndexStore) -> Result<Pass, IngestError> {
    let diff = diff(rpc, store).await?;
    let mut pass = Pass { slot: diff.slot, ..Default::default() };
    let wanted: Vec<String> = diff.changed.iter().chain(&diff.gone).cloned().collect();
    if !wanted.is_empty() {
        let (slot, accounts) = rpc.multiple_accounts(&wanted).await?;
        let program = program_id();
        let updates: Vec<Update> = wanted
            .into_iter()
            .zip(accounts)
            .map(|(address, account)| match account {
                Some(account) if account.owner == program && !account.data.is_empty() => {
                    pass.fetched += 1;
                    Update::Upsert { address, slot, data: account.data }
                }
                _ => Update::Close { address, slot },
            })
            .collect();
        pass.applied = store.apply(&updates).await?;
    }
    store.checkpoint(pass.slot).await?;
    Ok(pass)
}

/// A snapshot on an empty store, a reconcile otherwise.
pub async fn catch_up(rpc: &Rpc, store: &dyn IndexStore) -> Result<Pass, IngestError> {
    let empty = store.indexed_slot().await?.is_none();
    if empty {
        snapshot(rpc, store).await
    } else {
        reconcile(rpc, store).await
    }
}

/// Brings the activity feed up to the chain: the program's signatures since the newest one a
/// previous backfill went through (all of them the first time), oldest first; each successful
/// transaction the feed lacks is fetched and its events recorded. Covers what the log
/// subscription missed while the indexer was stopped or disconnected. Returns the new events.
pub async fn backfill_activity(rpc: &Rpc, store: &dyn IndexStore) -> Result<usize, IngestError> {
    let program = program_id();
    let until = store.backfilled_until().await?;
    let mut signatures = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = rpc.signatures(&program, before.as_deref(), until.as_deref()).await?;
        let full = page.len() >= crate::rpc::SIGNATURES_PAGE;
        before = page.last().map(|info| info.signature.clone());
        signatures.extend(page);
        if !full {
            break;
        }
    }
    let mut new = 0;
    for info in signatures.iter().rev().filter(|info| !info.failed) {
        if store.has_transaction(&info.signature).await? {
            continue;
        }
        let Some((slot, logs)) = rpc.transaction_logs(&info.signature).await? else { continue };
        let events = events_in_logs(logs.iter().map(String::as_str));
        if events.is_empty() {
            continue;
        }
        let transaction = TransactionEvents { signature: info.signature.clone(), slot, events };
        new += store.record_events(&[transaction]).await?.0;
    }
    if let Some(newest) = signatures.first() {
        store.set_backfilled_until(&newest.signature).await?;
    }
    Ok(new)
}
