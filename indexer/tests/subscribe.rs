//! Subscription messages to observations (no node).

use anchor_lang::{AnchorSerialize, Discriminator};
use base64::Engine;
use indexer::fixtures::{dataset_bytes, key, DatasetSpec};
use indexer::store::Update;
use indexer::subscribe::{parse_notification, reconnect_delay, ws_url, RECONNECT_MAX, RECONNECT_MIN};
use serde_json::json;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn websocket_address_follows_the_rpc_address() {
    assert_eq!(ws_url("http://127.0.0.1:8899"), "ws://127.0.0.1:8900");
    assert_eq!(ws_url("https://rpc.example.test/key"), "wss://rpc.example.test/key");
    assert_eq!(ws_url("https://rpc.example.test:443/x"), "wss://rpc.example.test:444/x");
}

#[test]
fn program_notifications_become_upserts_or_closes() {
    let program = data_market::ID.to_string();
    let data = dataset_bytes(&DatasetSpec::default());
    let message = |lamports: u64, owner: &str, data: &[u8]| {
        json!({ "jsonrpc": "2.0", "method": "programNotification", "params": { "subscription": 3, "result": {
            "context": { "slot": 77 },
            "value": { "pubkey": "D1", "account": {
                "lamports": lamports, "owner": owner, "data": [b64(data), "base64"], "executable": false } } } } })
    };
    let updates = |message: &serde_json::Value| parse_notification(message, &program).updates;
    assert_eq!(
        updates(&message(5, &program, &data)),
        vec![Update::Upsert { address: "D1".into(), slot: 77, data: data.clone() }]
    );
    let closed = vec![Update::Close { address: "D1".into(), slot: 77 }];
    assert_eq!(updates(&message(0, &program, &data)), closed);
    assert_eq!(updates(&message(5, "11111111111111111111111111111111", &[])), closed);
    // subscription confirmations carry nothing
    assert_eq!(
        parse_notification(&json!({ "jsonrpc": "2.0", "id": 1, "result": 3 }), &program),
        Default::default()
    );
}

#[test]
fn successful_transactions_logs_become_their_events() {
    let program = data_market::ID.to_string();
    let event = data_market::events::AccountClosed { account: key(4), rent_to: key(1), lamports: 42 };
    let mut bytes = data_market::events::AccountClosed::DISCRIMINATOR.to_vec();
    event.serialize(&mut bytes).unwrap();
    let message = |err: serde_json::Value| {
        json!({ "jsonrpc": "2.0", "method": "logsNotification", "params": { "subscription": 4, "result": {
            "context": { "slot": 90 },
            "value": { "signature": "sig", "err": err,
                       "logs": ["Program log: Instruction: CloseReview", format!("Program data: {}", b64(&bytes))] } } } })
    };
    let notification = parse_notification(&message(serde_json::Value::Null), &program);
    let transaction = notification.transaction.expect("the transaction's events");
    assert_eq!((transaction.signature.as_str(), transaction.slot), ("sig", 90));
    assert_eq!(transaction.events.len(), 1);
    assert_eq!(indexer::events::closed_account(&transaction.events[0]), Some(key(4).to_string().as_str()));
    assert_eq!(transaction.events[0].fields["lamports"], "42");
    assert_eq!(
        parse_notification(&message(json!({ "InstructionError": [0, "Custom"] })), &program),
        Default::default()
    );
}

#[test]
fn reconnects_at_once_after_a_working_link_and_backs_off_while_the_node_refuses() {
    assert_eq!(reconnect_delay(None, false), RECONNECT_MIN);
    // the node refuses: 0.5, 1, 2, 4 s ... up to the longest wait
    let mut delay = None;
    let mut waits = Vec::new();
    for _ in 0..10 {
        let wait = reconnect_delay(delay, false);
        waits.push(wait);
        delay = Some(wait);
    }
    assert_eq!(waits[..4], [RECONNECT_MIN, RECONNECT_MIN * 2, RECONNECT_MIN * 4, RECONNECT_MIN * 8]);
    assert_eq!(*waits.last().unwrap(), RECONNECT_MAX);
    // a link that came up and was cut (a node dropping a subscriber that fell behind) starts over
    assert_eq!(reconnect_delay(Some(RECONNECT_MAX), true), RECONNECT_MIN);
    assert_eq!(reconnect_delay(Some(RECONNECT_MIN), true), RECONNECT_MIN);
}
