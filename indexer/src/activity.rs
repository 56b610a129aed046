//! The activity feed: every event of every successful transaction of the program, keyed by
//! (signature, index of the event in the transaction), so the live subscription and the backfill
//! that follows a restart or reconnection may both write an event without duplicating it.

use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::events::DecodedEvent;
use crate::query::{QueryError, DEFAULT_LIMIT, MAX_LIMIT};

pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS activity (
    signature TEXT NOT NULL, idx INTEGER NOT NULL, slot INTEGER NOT NULL, name TEXT NOT NULL,
    dataset TEXT, license TEXT, fields TEXT NOT NULL,
    PRIMARY KEY (signature, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS activity_slot ON activity (slot, signature, idx);
CREATE INDEX IF NOT EXISTS activity_dataset ON activity (dataset, slot, signature, idx);
CREATE INDEX IF NOT EXISTS activity_license ON activity (license, slot, signature, idx);
"#;

/// One transaction's events, as the feed stores them.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactionEvents {
    pub signature: String,
    pub slot: u64,
    pub events: Vec<DecodedEvent>,
}

/// Writes a transaction's events (again: a known (signature, index) is left as it is). Returns how
/// many were new.
pub fn record(conn: &Connection, tx: &TransactionEvents) -> rusqlite::Result<usize> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO activity (signature, idx, slot, name, dataset, license, fields)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (signature, idx) DO NOTHING",
    )?;
    let mut new = 0;
    for (index, event) in tx.events.iter().enumerate() {
        let (dataset, license) = match crate::events::closed_account(event) {
            Some(account) => closed_subjects(conn, account)?,
            None => (event.dataset.clone(), event.license.clone()),
        };
        new += insert.execute(params![
            tx.signature,
            index as i64,
            i64::try_from(tx.slot).unwrap_or(i64::MAX),
            event.name,
            dataset,
            license,
            event.fields.to_string(),
        ])?;
    }
    Ok(new)
}

/// The dataset and licence a closed account belonged to, from what the store knew of it (call
/// before applying the close, while its row is there), so a close shows in their feeds.
fn closed_subjects(conn: &Connection, account: &str) -> rusqlite::Result<(Option<String>, Option<String>)> {
    let kind: Option<String> = conn
        .prepare_cached("SELECT kind FROM accounts WHERE address = ?1")?
        .query_row([account], |row| row.get(0))
        .optional()?
        .flatten();
    let column = |sql: &str| -> rusqlite::Result<Option<String>> {
        conn.prepare_cached(sql)?.query_row([account], |row| row.get(0)).optional()
    };
    Ok(match kind.as_deref() {
        Some("dataset") => (Some(account.to_owned()), None),
        Some("license") => (column("SELECT dataset FROM licenses WHERE address = ?1")?, Some(account.to_owned())),
        Some("usage_receipt") => (
            column("SELECT dataset FROM usage_receipts WHERE address = ?1")?,
            column("SELECT license FROM usage_receipts WHERE address = ?1")?,
        ),
        Some("review") => (
            column("SELECT dataset FROM reviews WHERE address = ?1")?,
            column("SELECT license FROM reviews WHERE address = ?1")?,
        ),
        Some("dispute") => (
            column("SELECT dataset FROM disputes WHERE address = ?1")?,
            column("SELECT license FROM disputes WHERE address = ?1")?,
        ),
        Some("allow_list_entry") => (column("SELECT dataset FROM allow_list_entries WHERE address = ?1")?, None),
        _ => (None, None),
    })
}

/// Whether the feed holds this transaction (a backfill then skips fetching it).
pub fn has_transaction(conn: &Connection, signature: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM activity WHERE signature = ?1 LIMIT 1")?
        .query_row([signature], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

/// The newest transaction a backfill has gone through (it resumes after it).
pub fn backfilled_until(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = 'activity_until'", [], |row| row.get(0)).optional()
}

pub fn set_backfilled_until(conn: &Connection, signature: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('activity_until', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [signature],
    )?;
    Ok(())
}

/// One page request of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub scope: Scope,
    /// Only events of this name.
    pub name: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// What part of the feed a page reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Dataset(String),
    License(String),
}

pub fn encode_cursor(slot: i64, signature: &str, index: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!([slot, signature, index]).to_string())
}

pub fn decode_cursor(cursor: &str) -> Result<(i64, String, i64), QueryError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| QueryError::BadCursor)?;
    let parsed: Value = serde_json::from_slice(&bytes).map_err(|_| QueryError::BadCursor)?;
    match parsed.as_array().map(Vec::as_slice) {
        Some([Value::Number(slot), Value::String(signature), Value::Number(index)]) => Ok((
            slot.as_i64().ok_or(QueryError::BadCursor)?,
            signature.clone(),
            index.as_i64().ok_or(QueryError::BadCursor)?,
        )),
        _ => Err(QueryError::BadCursor),
    }
}

/// A page of the feed, newest first (slot, then signature and index, descending), optionally only
/// events of one name.
pub fn page(
    conn: &Connection,
    scope: &Scope,
    name: Option<&str>,
    cursor: Option<&str>,
    limit: Option<usize>,
) -> Result<Value, QueryError> {
    let mut filters = Vec::new();
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    let bind = |values: &mut Vec<rusqlite::types::Value>, value: rusqlite::types::Value| {
        values.push(value);
        format!("?{}", values.len())
    };
    match scope {
        Scope::All => {}
        Scope::Dataset(address) => filters.push(format!("dataset = {}", bind(&mut values, address.clone().into()))),
        Scope::License(address) => filters.push(format!("license = {}", bind(&mut values, address.clone().into()))),
    }
    if let Some(name) = name {
        filters.push(format!("name = {}", bind(&mut values, name.to_owned().into())));
    }
    if let Some(cursor) = cursor {
        let (slot, signature, index) = decode_cursor(cursor)?;
        let slot = bind(&mut values, slot.into());
        let signature = bind(&mut values, signature.into());
        let index = bind(&mut values, index.into());
        filters.push(format!("(slot, signature, idx) < ({slot}, {signature}, {index})"));
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let filter = if filters.is_empty() { "1".to_owned() } else { filters.join(" AND ") };
    let sql = format!(
        "SELECT signature, idx, slot, name, dataset, license, fields FROM activity WHERE {filter}
         ORDER BY slot DESC, signature DESC, idx DESC LIMIT {}",
        limit + 1
    );
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
    let mut items = Vec::new();
    let mut next_cursor = None;
    let mut last = None;
    while let Some(row) = rows.next()? {
        if items.len() == limit {
            next_cursor = last.take();
            break;
        }
        let (signature, index, slot): (String, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let fields: String = row.get(6)?;
        items.push(json!({
            "signature": signature,
            "index": index,
            "slot": slot,
            "name": row.get::<_, String>(3)?,
            "dataset": row.get::<_, Option<String>>(4)?,
            "license": row.get::<_, Option<String>>(5)?,
            "fields": serde_json::from_str::<Value>(&fields).unwrap_or(Value::Null),
        }));
        last = Some(encode_cursor(slot, &signature, index));
    }
    Ok(json!({ "items": items, "next_cursor": next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &'static str, dataset: Option<&str>) -> DecodedEvent {
        DecodedEvent { name, dataset: dataset.map(str::to_owned), license: None, fields: json!({ "n": name }) }
    }

    fn store() -> Connection {
        let store = crate::store::Store::in_memory().expect("memory");
        store.conn
    }

    #[test]
    fn recording_twice_keeps_one_row_per_event() {
        let conn = store();
        let tx = TransactionEvents {
            signature: "s1".into(),
            slot: 5,
            events: vec![event("LicensePurchased", Some("d")), event("AccountClosed", None)],
        };
        assert_eq!(record(&conn, &tx).expect("record"), 2);
        assert_eq!(record(&conn, &tx).expect("record"), 0);
        assert!(has_transaction(&conn, "s1").expect("query"));
        assert!(!has_transaction(&conn, "s2").expect("query"));
    }

    #[test]
    fn pages_newest_first_by_scope_and_name_with_a_cursor() {
        let conn = store();
        for slot in 1..=5u64 {
            let tx = TransactionEvents {
                signature: format!("sig{slot}"),
                slot,
                events: vec![event("KeyDelivered", Some("d")), event("RevenueClaimed", Some(if slot % 2 == 0 { "e" } else { "d" }))],
            };
            record(&conn, &tx).expect("record");
        }
        let first = page(&conn, &Scope::Dataset("d".into()), None, None, Some(4)).expect("page");
        let slots: Vec<i64> = first["items"].as_array().unwrap().iter().map(|i| i["slot"].as_i64().unwrap()).collect();
        assert_eq!(slots, [5, 5, 4, 3]);
        let cursor = first["next_cursor"].as_str().expect("more").to_owned();
        let second = page(&conn, &Scope::Dataset("d".into()), None, Some(&cursor), Some(4)).expect("page");
        let rest: Vec<(i64, i64)> = second["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["slot"].as_i64().unwrap(), i["index"].as_i64().unwrap()))
            .collect();
        assert_eq!(rest, [(3, 0), (2, 0), (1, 1), (1, 0)]);
        assert!(second["next_cursor"].is_null());
        let claimed = page(&conn, &Scope::All, Some("RevenueClaimed"), None, None).expect("page");
        assert_eq!(claimed["items"].as_array().unwrap().len(), 5);
        assert_eq!(page(&conn, &Scope::All, None, Some("nonsense"), None), Err(QueryError::BadCursor));
    }
}
