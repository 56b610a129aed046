//! Following the chain live over the node's WebSocket: `programSubscribe` (every write to a program
//! account, base64, `confirmed`) and `logsSubscribe` mentioning the program (its `AccountClosed`
//! events, since a closed account may never show up in a program notification). Each notification
//! becomes an observation at its context slot; the store's slot guards make their order, and their
//! interleaving with snapshot and reconcile passes, irrelevant.

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::decode::{events_in_logs, Event};
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

/// The observations one WebSocket message carries (none for confirmations and other messages).
pub fn updates_from_message(message: &Value, program: &str) -> Vec<Update> {
    let result = &message["params"]["result"];
    let Some(slot) = result["context"]["slot"].as_u64() else { return Vec::new() };
    let value = &result["value"];
    match message["method"].as_str() {
        Some("programNotification") => {
            let Some(address) = value["pubkey"].as_str() else { return Vec::new() };
            let account = &value["account"];
            let data = account["data"][0]
                .as_str()
                .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok())
                .unwrap_or_default();
            let closed = account["lamports"].as_u64() == Some(0)
                || account["owner"].as_str() != Some(program)
                || data.is_empty();
            vec![if closed {
                Update::Close { address: address.to_owned(), slot }
            } else {
                Update::Upsert { address: address.to_owned(), slot, data }
            }]
        }
        Some("logsNotification") if value["err"].is_null() => {
            let logs = value["logs"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            events_in_logs(logs.iter().filter_map(Value::as_str))
                .into_iter()
                .map(|event| match event {
                    Event::AccountClosed { account, .. } => Update::Close { address: account, slot },
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

fn transport(error: impl std::fmt::Display) -> IngestError {
    IngestError::Rpc(RpcError::Transport(error.to_string()))
}

/// Subscribes, calls `on_ready` once both subscriptions are confirmed, then applies notifications
/// until the connection ends (an error: the caller reconnects and reconciles what it missed).
pub async fn follow(
    ws_url: &str,
    store: &dyn IndexStore,
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
                if let Some(ready) = on_ready.take() {
                    ready();
                }
            }
            continue;
        }
        let updates = updates_from_message(&message, &program);
        if let Some(slot) = updates.iter().map(Update::slot).max() {
            let applied = store.apply(&updates).await?;
            on_applied(slot, applied);
        }
    }
    Err(transport("the node closed the subscription"))
}
