//! Following the chain live over the node's WebSocket: `programSubscribe` (every write to a program
//! account, base64, `confirmed`) and `logsSubscribe` mentioning the program (its `AccountClosed`
//! events, since a closed account may never show up in a program notification). Each notification
//! becomes an observation at its context slot; the store's slot guards make their order, and their
//! interleaving with snapshot and reconcile passes, irrelevant.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::activity::TransactionEvents;
use crate::events::events_in_logs;
use crate::ingest::{program_id, IngestError};
use crate::rpc::{RpcError, COMMITMENT};
use crate::db::IndexStore;
use crate::store::{Applied, Update};

/// The node's WebSocket address for its HTTP address: the same host, scheme ws(s), and (when a
/// port is given) the next port, as Solana nodes listen.
pub fn ws_url(http: &str) -> String {
    let (scheme, rest) = match http.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", http),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => match port.parse::<u16>() {
            Ok(port) => format!("{host}:{}", port.saturating_add(1)),
            Err(_) => authority.to_owned(),
        },
        _ => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

pub fn subscribe_requests(program: &str) -> [Value; 2] {
    [
        json!({ "jsonrpc": "2.0", "id": 1, "method": "programSubscribe",
                "params": [program, { "encoding": "base64", "commitment": COMMITMENT }] }),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "logsSubscribe",
                "params": [{ "mentions": [program] }, { "commitment": COMMITMENT }] }),
    ]
}

/// What one WebSocket message carries: account observations (program notifications) or one
/// successful transaction's events (logs notifications); nothing for confirmations and the rest.
#[derive(Debug, Default, PartialEq)]
pub struct Notification {
    pub updates: Vec<Update>,
    pub transaction: Option<TransactionEvents>,
}

pub fn parse_notification(message: &Value, program: &str) -> Notification {
    let result = &message["params"]["result"];
    let Some(slot) = result["context"]["slot"].as_u64() else { return Notification::default() };
    let value = &result["value"];
    match message["method"].as_str() {
        Some("programNotification") => {
            let Some(address) = value["pubkey"].as_str() else { return Notification::default() };
            let account = &value["account"];
            let data = account["data"][0]
                .as_str()
                .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok())
                .unwrap_or_default();
            let closed = account["lamports"].as_u64() == Some(0)
                || account["owner"].as_str() != Some(program)
                || data.is_empty();
            let update = if closed {
                Update::Close { address: address.to_owned(), slot }
            } else {
                Update::Upsert { address: address.to_owned(), slot, data }
            };
            Notification { updates: vec![update], transaction: None }
        }
        // a failed transaction changed nothing and its events did not happen
        Some("logsNotification") if value["err"].is_null() => {
            let Some(signature) = value["signature"].as_str() else { return Notification::default() };
            let logs = value["logs"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            let events = events_in_logs(logs.iter().filter_map(Value::as_str));
            if events.is_empty() {
                return Notification::default();
            }
            Notification {
                updates: Vec::new(),
                transaction: Some(TransactionEvents { signature: signature.to_owned(), slot, events }),
            }
        }
        _ => Notification::default(),
    }
}

/// The shortest and the longest wait before reconnecting.
pub const RECONNECT_MIN: Duration = Duration::from_millis(500);
pub const RECONNECT_MAX: Duration = Duration::from_secs(30);

/// How long to wait before the next connection. After a connection whose subscriptions were
/// confirmed, the shortest wait: the node cut a link that worked (a node drops a subscriber that
/// falls behind its notification queue, which a burst of a few hundred notifications does to
/// solana-test-validator's queue of 100), and every second away leaves the changes of that second
/// to the next reconcile pass. After a connection that never got that far, twice the previous
/// wait, up to RECONNECT_MAX, so a node that is down is not hammered.
pub fn reconnect_delay(previous: Option<Duration>, subscribed: bool) -> Duration {
    match previous {
        Some(previous) if !subscribed => (previous * 2).clamp(RECONNECT_MIN, RECONNECT_MAX),
        _ => RECONNECT_MIN,
    }
}

fn transport(error: impl std::fmt::Display) -> IngestError {
    IngestError::Rpc(RpcError::Transport(error.to_string()))
}

/// The state of the subscription as the checkpoint sees it. Notifications may move the checkpoint
/// only while the connection they arrive on has been up since before the last completed catch-up
/// pass: a connection opened later may follow a gap that only a pass fills.
#[derive(Debug, Default)]
pub struct Link {
    /// Counts connections whose subscriptions were confirmed.
    generation: AtomicU64,
    connected: AtomicBool,
    /// The generation the last completed pass started under.
    caught_up: AtomicU64,
}

impl Link {
    fn connected(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.connected.store(true, Ordering::SeqCst);
    }

    fn disconnected(&self) {
        self.connected.store(false, Ordering::SeqCst);
    }

    /// Call before a catch-up pass; pass the result to `pass_completed` after it.
    pub fn pass_started(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn pass_completed(&self, started: u64) {
        if self.connected.load(Ordering::SeqCst) && self.generation.load(Ordering::SeqCst) == started {
            self.caught_up.store(started, Ordering::SeqCst);
        }
    }

    /// Whether notifications now complete the store up to their slot.
    pub fn live(&self) -> bool {
        let generation = self.generation.load(Ordering::SeqCst);
        generation > 0 && self.connected.load(Ordering::SeqCst) && self.caught_up.load(Ordering::SeqCst) == generation
    }
}

/// Subscribes, calls `on_ready` once both subscriptions are confirmed, then applies notifications
/// until the connection ends (an error: the caller reconnects and reconciles what it missed).
/// While the link is live, each notification moves the checkpoint to its slot (the node sends a
/// slot's notifications once the slot is confirmed, in slot order), so a reader waiting for its
/// own transaction's slot (`min_slot`) gets it within the notification's latency.
pub async fn follow(
    ws_url: &str,
    store: &dyn IndexStore,
    link: &Link,
    on_ready: impl FnOnce(),
    on_applied: impl FnMut(u64, Applied),
) -> Result<(), IngestError> {
    let result = follow_connection(ws_url, store, link, on_ready, on_applied).await;
    link.disconnected();
    result
}

async fn follow_connection(
    ws_url: &str,
    store: &dyn IndexStore,
    link: &Link,
    on_ready: impl FnOnce(),
    mut on_applied: impl FnMut(u64, Applied),
) -> Result<(), IngestError> {
    let program = program_id();
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.map_err(transport)?;
    for request in subscribe_requests(&program) {
        socket.send(Message::Text(request.to_string().into())).await.map_err(transport)?;
    }
    let mut confirmed = 0;
    let mut on_ready = Some(on_ready);
    while let Some(message) = socket.next().await {
        let text = match message.map_err(transport)? {
            Message::Text(text) => text,
            Message::Ping(payload) => {
                socket.send(Message::Pong(payload)).await.map_err(transport)?;
                continue;
            }
            Message::Close(_) => break,
            _ => continue,
        };
        let Ok(message) = serde_json::from_str::<Value>(&text) else { continue };
        if let Some(error) = message.get("error") {
            return Err(IngestError::Rpc(RpcError::Node {
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or("").to_owned(),
            }));
        }
        if message["id"].is_u64() && message["result"].is_u64() {
            confirmed += 1;
            if confirmed == 2 {
                link.connected();
                if let Some(ready) = on_ready.take() {
                    ready();
                }
            }
            continue;
        }
        let notification = parse_notification(&message, &program);
        if let Some(slot) = notification.updates.iter().map(Update::slot).max() {
            let applied = store.apply(&notification.updates).await?;
            on_applied(slot, applied);
        }
        if let Some(transaction) = notification.transaction {
            let (_, applied) = store.record_events(std::slice::from_ref(&transaction)).await?;
            on_applied(transaction.slot, applied);
        }
        if let Some(slot) = message["params"]["result"]["context"]["slot"].as_u64() {
            if link.live() {
                store.checkpoint(slot).await?;
            }
        }
    }
    Err(transport("the node closed the subscription"))
}
