//! The SQLite store: one table per account type, an FTS5 table over dataset text, a registry of
//! every address seen (`accounts`: kind, slot, revision, closed) that guards every write, and a
//! checkpoint.
//!
//! Updates arrive from several sources (snapshot, reconcile, subscriptions) in any order and more
//! than once. Each is an observation "at slot S the account held these bytes" or "at slot S the
//! account was closed"; the store keeps, per address, the observation with the greatest key
//! (slot, then revision, a close winning a tie), so any interleaving of the same observations
//! converges to the state the in-order stream gives (see the property test). A closed account
//! leaves a tombstone in `accounts`, so a stale update cannot bring it back; a later re-creation at
//! the same address (a higher slot) can.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::decode::{self, Account, Kind};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug)]
pub enum Error {
    Sql(rusqlite::Error),
    Decode(decode::DecodeError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Sql(error) => write!(f, "store: {error}"),
            Error::Decode(error) => write!(f, "decode: {error}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Sql(error)
    }
}

/// One observation of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// The account's data at `slot`.
    Upsert { address: String, slot: u64, data: Vec<u8> },
    /// The account did not exist (was closed) at `slot`.
    Close { address: String, slot: u64 },
}

impl Update {
    pub fn address(&self) -> &str {
        match self {
            Update::Upsert { address, .. } | Update::Close { address, .. } => address,
        }
    }

    pub fn slot(&self) -> u64 {
        match self {
            Update::Upsert { slot, .. } | Update::Close { slot, .. } => *slot,
        }
    }
}

/// What applying a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub upserted: usize,
    pub closed: usize,
    /// Older than (or equal to) what the store holds: ignored.
    pub stale: usize,
    /// Data that is no account of the program: ignored.
    pub undecodable: usize,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    -- stable across VACUUM (an explicit INTEGER PRIMARY KEY): the text index's rowid
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    kind TEXT,
    slot INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS marketplaces (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    authority TEXT NOT NULL, treasury TEXT NOT NULL, arbiter TEXT NOT NULL,
    protocol_fee_bps INTEGER NOT NULL, purchases_paused INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS front_ends (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    wallet TEXT NOT NULL, registered_at INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS content_hash_records (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    content_hash TEXT NOT NULL, dataset TEXT NOT NULL, claimant TEXT NOT NULL, data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    owner TEXT NOT NULL, content_hash TEXT NOT NULL, category TEXT NOT NULL, state TEXT NOT NULL,
    payment_mint TEXT NOT NULL, license_mint TEXT NOT NULL, price INTEGER NOT NULL,
    licenses_sold INTEGER NOT NULL, licenses_outstanding INTEGER NOT NULL,
    rating_count INTEGER NOT NULL, rating_avg REAL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    title TEXT NOT NULL, metadata_uri TEXT NOT NULL, ciphertext_cid TEXT NOT NULL,
    previous_version TEXT, next_version TEXT, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_owner ON datasets (owner, created_at);
CREATE INDEX IF NOT EXISTS datasets_created ON datasets (created_at, address);
CREATE INDEX IF NOT EXISTS datasets_price ON datasets (price, address);
CREATE INDEX IF NOT EXISTS datasets_sales ON datasets (licenses_sold, address);
CREATE INDEX IF NOT EXISTS datasets_category ON datasets (category, state);
CREATE TABLE IF NOT EXISTS dataset_tags (
    address TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (address, tag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dataset_tags_tag ON dataset_tags (tag, address);
-- Facet counts of the listed catalogue (state not unlisted or revoked), kept by triggers so the
-- unfiltered browse page does not count 100,000 rows per request: count(category c) = listed
-- datasets in c, likewise state, and count(tag t) = listed datasets carrying t. Each trigger keeps
-- that true whatever order a dataset's row and its tags are written in.
CREATE TABLE IF NOT EXISTS listed_facets (
    facet TEXT NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (facet, value)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS listed_facets_dataset_in AFTER INSERT ON datasets
WHEN new.state NOT IN ('unlisted', 'revoked') BEGIN
    INSERT INTO listed_facets VALUES ('category', new.category, 1), ('state', new.state, 1)
        ON CONFLICT DO UPDATE SET count = count + 1;
    INSERT INTO listed_facets SELECT 'tag', tag, 1 FROM dataset_tags WHERE address = new.address AND true
        ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS listed_facets_dataset_out AFTER DELETE ON datasets
WHEN old.state NOT IN ('unlisted', 'revoked') BEGIN
    UPDATE listed_facets SET count = count - 1
        WHERE (facet = 'category' AND value = old.category) OR (facet = 'state' AND value = old.state)
           OR (facet = 'tag' AND value IN (SELECT tag FROM dataset_tags WHERE address = old.address));
END;
CREATE TRIGGER IF NOT EXISTS listed_facets_dataset_change AFTER UPDATE OF state, category ON datasets BEGIN
    UPDATE listed_facets SET count = count - 1
        WHERE old.state NOT IN ('unlisted', 'revoked')
          AND ((facet = 'category' AND value = old.category) OR (facet = 'state' AND value = old.state)
            OR (facet = 'tag' AND value IN (SELECT tag FROM dataset_tags WHERE address = old.address)));
    INSERT INTO listed_facets SELECT 'category', new.category, 1 WHERE new.state NOT IN ('unlisted', 'revoked')
        ON CONFLICT DO UPDATE SET count = count + 1;
    INSERT INTO listed_facets SELECT 'state', new.state, 1 WHERE new.state NOT IN ('unlisted', 'revoked')
        ON CONFLICT DO UPDATE SET count = count + 1;
    INSERT INTO listed_facets SELECT 'tag', tag, 1 FROM dataset_tags
        WHERE address = new.address AND new.state NOT IN ('unlisted', 'revoked')
        ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS listed_facets_tag_in AFTER INSERT ON dataset_tags
WHEN EXISTS (SELECT 1 FROM datasets WHERE address = new.address AND state NOT IN ('unlisted', 'revoked')) BEGIN
    INSERT INTO listed_facets VALUES ('tag', new.tag, 1) ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS listed_facets_tag_out AFTER DELETE ON dataset_tags
WHEN EXISTS (SELECT 1 FROM datasets WHERE address = old.address AND state NOT IN ('unlisted', 'revoked')) BEGIN
    UPDATE listed_facets SET count = count - 1 WHERE facet = 'tag' AND value = old.tag;
END;
CREATE VIRTUAL TABLE IF NOT EXISTS dataset_text USING fts5 (
    address UNINDEXED, title, tags, metadata, tokenize = 'unicode61 remove_diacritics 2'
);
-- The off-chain metadata of each dataset (metadata.rs): one fetch job per dataset, keyed by the
-- uri it is for; reset when the dataset names another uri, deleted with the dataset.
CREATE TABLE IF NOT EXISTS dataset_metadata (
    address TEXT PRIMARY KEY, uri TEXT NOT NULL, cid TEXT, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    fetched_at INTEGER, title TEXT, description TEXT, file_name TEXT, plaintext_bytes INTEGER, sha256 TEXT,
    indexed_text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS dataset_metadata_due ON dataset_metadata (status, next_attempt_ms);
CREATE TABLE IF NOT EXISTS allow_list_entries (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    dataset TEXT NOT NULL, buyer TEXT NOT NULL, data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS licenses (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    dataset TEXT NOT NULL, buyer TEXT NOT NULL, state TEXT NOT NULL, price_paid INTEGER NOT NULL,
    credits INTEGER NOT NULL, usage_count INTEGER NOT NULL, bought_at INTEGER NOT NULL,
    delivered_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, settled_at INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS licenses_dataset ON licenses (dataset, bought_at);
CREATE INDEX IF NOT EXISTS licenses_buyer ON licenses (buyer, bought_at);
CREATE TABLE IF NOT EXISTS usage_receipts (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    dataset TEXT NOT NULL, license TEXT NOT NULL, model_hash TEXT NOT NULL, holder TEXT NOT NULL,
    attestor TEXT NOT NULL, purpose TEXT NOT NULL, recorded_at INTEGER NOT NULL, idx INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_receipts_dataset ON usage_receipts (dataset, recorded_at);
CREATE INDEX IF NOT EXISTS usage_receipts_model ON usage_receipts (model_hash);
CREATE INDEX IF NOT EXISTS usage_receipts_license ON usage_receipts (license, recorded_at);
CREATE TABLE IF NOT EXISTS reviews (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    license TEXT NOT NULL, dataset TEXT NOT NULL, reviewer TEXT NOT NULL, rating INTEGER NOT NULL,
    paid INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, uri TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_dataset ON reviews (dataset, created_at);
CREATE TABLE IF NOT EXISTS disputes (
    address TEXT PRIMARY KEY, slot INTEGER NOT NULL, revision INTEGER NOT NULL,
    license TEXT NOT NULL, dataset TEXT NOT NULL, buyer TEXT NOT NULL, reason TEXT NOT NULL,
    ruling TEXT, opened_at INTEGER NOT NULL, ruled_at INTEGER NOT NULL, evidence_uri TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS disputes_dataset ON disputes (dataset, opened_at);
"#;

/// 2: `listed_facets`; 3: `dataset_metadata` (every dataset queued once on upgrade).
pub const SCHEMA_VERSION: i64 = 3;

/// Text search over datasets, behind a trait so another engine (PostgreSQL text search, tantivy)
/// can take FTS5's place.
pub trait TextIndex: Send + Sync {
    fn put(&self, conn: &Connection, address: &str, doc: &TextDoc) -> rusqlite::Result<()>;
    fn remove(&self, conn: &Connection, address: &str) -> rusqlite::Result<()>;
    /// A query the engine accepts, built from what a user typed (never passed through raw), or
    /// None when nothing searchable is left.
    fn sanitise(&self, user_query: &str) -> Option<String>;
    /// SQL yielding `(address, score)` for the sanitised query bound at `?1`; lower scores rank
    /// higher.
    fn matches_sql(&self) -> &'static str;
    /// SQL yielding `(address)` of every match of the sanitised query bound at `?1`, unranked
    /// (what counting needs: scoring every match costs more than finding it).
    fn match_addresses_sql(&self) -> &'static str;
    /// The score of the `depth`-th best match of the sanitised query (or of the last one, when
    /// there are fewer), and whether that covers every match; None when nothing matches.
    fn score_at_depth(&self, conn: &Connection, query: &str, depth: usize) -> rusqlite::Result<Option<(f64, bool)>>;
}

/// What a dataset is found by.
pub struct TextDoc<'a> {
    pub title: &'a str,
    pub tags: &'a [String],
    /// The off-chain metadata's text (description), once the indexer fetches it.
    pub metadata: &'a str,
}

pub struct Fts5;

/// Longest user query kept, in terms.
pub const MAX_QUERY_TERMS: usize = 16;

impl TextIndex for Fts5 {
    fn put(&self, conn: &Connection, address: &str, doc: &TextDoc) -> rusqlite::Result<()> {
        self.remove(conn, address)?;
        conn.prepare_cached(
            "INSERT INTO dataset_text (rowid, address, title, tags, metadata)
             VALUES ((SELECT id FROM accounts WHERE address = ?1), ?1, ?2, ?3, ?4)",
        )?
            .execute(params![address, doc.title, doc.tags.join(" "), doc.metadata])?;
        Ok(())
    }

    fn remove(&self, conn: &Connection, address: &str) -> rusqlite::Result<()> {
        // by rowid (the registry's id): `address` is UNINDEXED, a delete by it would scan the index
        conn.prepare_cached("DELETE FROM dataset_text WHERE rowid = (SELECT id FROM accounts WHERE address = ?1)")?
            .execute([address])?;
        Ok(())
    }

    /// Keeps letters and digits only: every term becomes a quoted FTS5 string (so no operator,
    /// column filter or syntax error can come from the user), all terms must match, and the last
    /// one matches as a prefix (search as you type).
    fn sanitise(&self, user_query: &str) -> Option<String> {
        let terms: Vec<String> = user_query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|term| !term.is_empty())
            .take(MAX_QUERY_TERMS)
            .map(|term| term.chars().take(64).collect::<String>().to_lowercase())
            .collect();
        let (last, rest) = terms.split_last()?;
        let mut query: Vec<String> = rest.iter().map(|term| format!("\"{term}\"")).collect();
        query.push(format!("\"{last}\"*"));
        Some(query.join(" "))
    }

    fn matches_sql(&self) -> &'static str {
        // title weighs most, then tags, then metadata text
        "SELECT address, bm25(dataset_text, 0.0, 10.0, 5.0, 1.0) AS score FROM dataset_text WHERE dataset_text MATCH ?1"
    }

    fn match_addresses_sql(&self) -> &'static str {
        "SELECT address FROM dataset_text WHERE dataset_text MATCH ?1"
    }

    fn score_at_depth(&self, conn: &Connection, query: &str, depth: usize) -> rusqlite::Result<Option<(f64, bool)>> {
        conn.prepare_cached(
            "SELECT max(score), count(*) FROM (SELECT bm25(dataset_text, 0.0, 10.0, 5.0, 1.0) AS score
             FROM dataset_text WHERE dataset_text MATCH ?1 ORDER BY score LIMIT ?2)",
        )?
        .query_row(params![query, depth as i64], |row| {
            let score: Option<f64> = row.get(0)?;
            let count: i64 = row.get(1)?;
            Ok(score.map(|score| (score, (count as usize) < depth)))
        })
    }
}

pub struct Store {
    pub conn: Connection,
    pub text: Box<dyn TextIndex>,
}

impl Store {
    pub fn open(path: &std::path::Path) -> Result<Store> {
        Store::init(Connection::open(path)?)
    }

    pub fn in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    /// A read-only connection to the same file, for the API (WAL lets it read while ingest writes).
    pub fn open_reader(path: &std::path::Path) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }

    fn init(conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // INSERT OR REPLACE deletes the row it replaces: its delete triggers must fire
        // (listed_facets)
        conn.pragma_update(None, "recursive_triggers", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(crate::activity::SCHEMA)?;
        let version: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |row| row.get(0)).optional()?;
        let version = version.map(|v| v.parse::<i64>().unwrap_or(0));
        if version.is_some_and(|v| v < 2) {
            // version 1 had no listed_facets: count them once, the triggers keep them from here
            rebuild_listed_facets(&conn)?;
        }
        if version.is_some_and(|v| v < 3) {
            // before version 3 no metadata was fetched: queue every dataset's uri
            let datasets: Vec<(String, String)> = conn
                .prepare("SELECT address, metadata_uri FROM datasets")?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (address, uri) in datasets {
                enqueue_metadata(&conn, &address, &uri)?;
            }
        }
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [SCHEMA_VERSION.to_string()],
        )?;
        Ok(Store { conn, text: Box::new(Fts5) })
    }

    /// Applies a batch of observations in one transaction.
    pub fn apply(&mut self, updates: &[Update]) -> Result<Applied> {
        let tx = self.conn.transaction()?;
        let mut applied = Applied::default();
        for update in updates {
            match update {
                Update::Upsert { address, slot, data } => match Account::decode(data) {
                    Ok(account) => {
                        if upsert(&tx, self.text.as_ref(), address, *slot, data, &account)? {
                            applied.upserted += 1;
                        } else {
                            applied.stale += 1;
                        }
                    }
                    Err(_) => applied.undecodable += 1,
                },
                Update::Close { address, slot } => {
                    if close(&tx, self.text.as_ref(), address, *slot)? {
                        applied.closed += 1;
                    } else {
                        applied.stale += 1;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    /// Records transactions' events in the activity feed and applies the closes they announce, in
    /// one transaction. Returns the events that were new to the feed.
    pub fn record_events(&mut self, transactions: &[crate::activity::TransactionEvents]) -> Result<(usize, Applied)> {
        let closes: Vec<Update> = transactions
            .iter()
            .flat_map(|tx| {
                tx.events.iter().filter_map(crate::events::closed_account).map(|address| Update::Close {
                    address: address.to_owned(),
                    slot: tx.slot,
                })
            })
            .collect();
        // recorded first: a close's feed entry names the dataset its row still shows
        let db = self.conn.transaction()?;
        let mut new = 0;
        for tx in transactions {
            new += crate::activity::record(&db, tx)?;
        }
        db.commit()?;
        let applied = self.apply(&closes)?;
        Ok((new, applied))
    }

    /// The slot up to which the chain has been indexed: a snapshot or reconcile pass completed at it.
    pub fn checkpoint(&self, slot: u64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('indexed_slot', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value
             WHERE CAST(excluded.value AS INTEGER) >= CAST(meta.value AS INTEGER)",
            [slot.to_string()],
        )?;
        Ok(())
    }

    pub fn indexed_slot(&self) -> Result<Option<u64>> {
        indexed_slot(&self.conn)
    }

    /// Every open account the store holds, with its kind and revision (what reconcile compares).
    pub fn open_accounts(&self) -> Result<std::collections::HashMap<String, (Kind, u64)>> {
        let mut statement = self.conn.prepare("SELECT address, kind, revision FROM accounts WHERE closed = 0")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
        })?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (address, kind, revision) = row?;
            if let Some(kind) = Kind::from_name(&kind) {
                out.insert(address, (kind, revision as u64));
            }
        }
        Ok(out)
    }
}

/// Counts `listed_facets` from the rows (what the triggers maintain incrementally).
pub fn rebuild_listed_facets(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM listed_facets;
         INSERT INTO listed_facets SELECT 'category', category, count(*) FROM datasets
             WHERE state NOT IN ('unlisted', 'revoked') GROUP BY category;
         INSERT INTO listed_facets SELECT 'state', state, count(*) FROM datasets
             WHERE state NOT IN ('unlisted', 'revoked') GROUP BY state;
         INSERT INTO listed_facets SELECT 'tag', t.tag, count(*) FROM dataset_tags t JOIN datasets d USING (address)
             WHERE d.state NOT IN ('unlisted', 'revoked') GROUP BY t.tag;",
    )
}

pub fn indexed_slot(conn: &Connection) -> Result<Option<u64>> {
    let value: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'indexed_slot'", [], |row| row.get(0)).optional()?;
    Ok(value.and_then(|v| v.parse().ok()))
}

fn sql_u64(value: u64) -> Value {
    // SQLite integers are i64; chain amounts and slots stay far below 2^63 (a larger one saturates)
    Value::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

fn text(value: impl ToString) -> Value {
    Value::Text(value.to_string())
}

fn optional_key(key: &anchor_lang::prelude::Pubkey) -> Value {
    if *key == anchor_lang::prelude::Pubkey::default() {
        Value::Null
    } else {
        text(key)
    }
}

/// The kind-specific columns of an account's row.
pub fn columns(account: &Account) -> Vec<(&'static str, Value)> {
    use decode::variant_name;
    match account {
        Account::Marketplace(m) => vec![
            ("authority", text(m.authority)),
            ("treasury", text(m.treasury)),
            ("arbiter", text(m.arbiter)),
            ("protocol_fee_bps", Value::Integer(m.protocol_fee_bps.into())),
            ("purchases_paused", Value::Integer(m.purchases_paused.into())),
        ],
        Account::FrontEnd(f) => vec![("wallet", text(f.wallet)), ("registered_at", Value::Integer(f.registered_at))],
        Account::ContentHashRecord(c) => vec![
            ("content_hash", text(decode::hex(&c.content_hash))),
            ("dataset", text(c.dataset)),
            ("claimant", text(c.claimant)),
        ],
        Account::Dataset(d) => {
            let ratings = &d.ratings;
            let count = u64::from(ratings.paid.count) + u64::from(ratings.free.count);
            let sum = ratings.paid.sum + ratings.free.sum;
            let rating_avg = if count == 0 { Value::Null } else { Value::Real(sum as f64 / count as f64) };
            vec![
                ("owner", text(d.owner)),
                ("content_hash", text(decode::hex(&d.content_hash))),
                ("category", text(variant_name(&d.category))),
                ("state", text(variant_name(&d.state))),
                ("payment_mint", text(d.payment_mint)),
                ("license_mint", text(d.license_mint)),
                ("price", sql_u64(d.price)),
                ("licenses_sold", sql_u64(d.licenses_sold)),
                ("licenses_outstanding", Value::Integer(d.licenses_outstanding.into())),
                ("rating_count", sql_u64(count)),
                ("rating_avg", rating_avg),
                ("created_at", Value::Integer(d.created_at)),
                ("updated_at", Value::Integer(d.updated_at)),
                ("title", text(&d.title)),
                ("metadata_uri", text(&d.metadata_uri)),
                ("ciphertext_cid", text(&d.ciphertext_cid)),
                ("previous_version", optional_key(&d.previous_version)),
                ("next_version", optional_key(&d.next_version)),
            ]
        }
        Account::AllowListEntry(a) => vec![("dataset", text(a.dataset)), ("buyer", text(a.buyer))],
        Account::License(l) => vec![
            ("dataset", text(l.dataset)),
            ("buyer", text(l.buyer)),
            ("state", text(variant_name(&l.state))),
            ("price_paid", sql_u64(l.price_paid)),
            ("credits", sql_u64(l.credits)),
            ("usage_count", sql_u64(l.usage_count)),
            ("bought_at", Value::Integer(l.bought_at)),
            ("delivered_at", Value::Integer(l.delivered_at)),
            ("expires_at", Value::Integer(l.expires_at)),
            ("settled_at", Value::Integer(l.settled_at)),
        ],
        Account::UsageReceipt(u) => vec![
            ("dataset", text(u.dataset)),
            ("license", text(u.license)),
            ("model_hash", text(decode::hex(&u.model_hash))),
            ("holder", text(u.holder)),
            ("attestor", text(u.attestor)),
            ("purpose", text(variant_name(&u.purpose))),
            ("recorded_at", Value::Integer(u.recorded_at)),
            ("idx", sql_u64(u.index)),
        ],
        Account::Review(r) => vec![
            ("license", text(r.license)),
            ("dataset", text(r.dataset)),
            ("reviewer", text(r.reviewer)),
            ("rating", Value::Integer(r.rating.into())),
            ("paid", Value::Integer(r.paid.into())),
            ("created_at", Value::Integer(r.created_at)),
            ("updated_at", Value::Integer(r.updated_at)),
            ("uri", text(&r.uri)),
        ],
        Account::Dispute(d) => vec![
            ("license", text(d.license)),
            ("dataset", text(d.dataset)),
            ("buyer", text(d.buyer)),
            ("reason", text(variant_name(&d.reason))),
            ("ruling", d.ruling.as_ref().map(|r| text(variant_name(r))).unwrap_or(Value::Null)),
            ("opened_at", Value::Integer(d.opened_at)),
            ("ruled_at", Value::Integer(d.ruled_at)),
            ("evidence_uri", text(&d.evidence_uri)),
        ],
    }
}

/// The registry row of an address: kind, slot, revision, closed.
fn registry(tx: &Transaction, address: &str) -> rusqlite::Result<Option<(Option<String>, u64, u64, bool)>> {
    tx.prepare_cached("SELECT kind, slot, revision, closed FROM accounts WHERE address = ?1")?
        .query_row([address], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)? as u64, row.get::<_, i64>(2)? as u64, row.get(3)?))
        })
        .optional()
}

fn remove_row(tx: &Transaction, text_index: &dyn TextIndex, kind: Kind, address: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(&format!("DELETE FROM {} WHERE address = ?1", kind.table()))?.execute([address])?;
    if kind == Kind::Dataset {
        tx.prepare_cached("DELETE FROM dataset_tags WHERE address = ?1")?.execute([address])?;
        tx.prepare_cached("DELETE FROM dataset_metadata WHERE address = ?1")?.execute([address])?;
        text_index.remove(tx, address)?;
    }
    Ok(())
}

/// The slot-guarded upsert: applies `data` unless the store holds a newer observation of the
/// address (a greater slot, the same slot with a greater revision, or a close at this slot or
/// later). Returns whether it applied.
fn upsert(
    tx: &Transaction,
    text_index: &dyn TextIndex,
    address: &str,
    slot: u64,
    data: &[u8],
    account: &Account,
) -> rusqlite::Result<bool> {
    let kind = account.kind();
    let previous = registry(tx, address)?;
    let changed = tx
        .prepare_cached(
            "INSERT INTO accounts (address, kind, slot, revision, closed) VALUES (?1, ?2, ?3, ?4, 0)
             ON CONFLICT (address) DO UPDATE SET
                 kind = excluded.kind, slot = excluded.slot, revision = excluded.revision, closed = 0
             WHERE (accounts.closed = 1 AND excluded.slot > accounts.slot)
                OR (accounts.closed = 0 AND (excluded.slot > accounts.slot
                    OR (excluded.slot = accounts.slot AND excluded.revision >= accounts.revision)))",
        )?
        .execute(params![address, kind.name(), sql_u64(slot), sql_u64(account.revision())])?;
    if changed == 0 {
        return Ok(false);
    }
    if let Some((Some(previous_kind), ..)) = previous {
        if let Some(previous_kind) = Kind::from_name(&previous_kind) {
            if previous_kind != kind {
                remove_row(tx, text_index, previous_kind, address)?;
            }
        }
    }
    let columns = columns(account);
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let placeholders: Vec<String> = (5..5 + columns.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT OR REPLACE INTO {} (address, slot, revision, data, {}) VALUES (?1, ?2, ?3, ?4, {})",
        kind.table(),
        names.join(", "),
        placeholders.join(", ")
    );
    let mut values: Vec<Value> =
        vec![text(address), sql_u64(slot), sql_u64(account.revision()), Value::Blob(data.to_vec())];
    values.extend(columns.into_iter().map(|(_, value)| value));
    tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))?;
    if let Account::Dataset(dataset) = account {
        let tags = decode::tags(dataset);
        tx.prepare_cached("DELETE FROM dataset_tags WHERE address = ?1")?.execute([address])?;
        for tag in &tags {
            tx.prepare_cached("INSERT OR IGNORE INTO dataset_tags (address, tag) VALUES (?1, ?2)")?
                .execute(params![address, tag.to_lowercase()])?;
        }
        enqueue_metadata(tx, address, &dataset.metadata_uri)?;
        // the fetched metadata's text while the uri stays the same ('' until fetched, or after a
        // new uri reset the job)
        let metadata: String = tx
            .prepare_cached("SELECT indexed_text FROM dataset_metadata WHERE address = ?1")?
            .query_row([address], |row| row.get(0))?;
        text_index.put(tx, address, &TextDoc { title: &dataset.title, tags: &tags, metadata: &metadata })?;
    }
    Ok(true)
}

/// Records a close at `slot` unless the store holds a later observation; removes the account's
/// row and leaves a tombstone. Returns whether it applied.
fn close(tx: &Transaction, text_index: &dyn TextIndex, address: &str, slot: u64) -> rusqlite::Result<bool> {
    let previous = registry(tx, address)?;
    let changed = tx
        .prepare_cached(
            "INSERT INTO accounts (address, kind, slot, revision, closed) VALUES (?1, NULL, ?2, 0, 1)
             ON CONFLICT (address) DO UPDATE SET slot = excluded.slot, closed = 1, kind = NULL, revision = 0
             WHERE excluded.slot > accounts.slot OR (accounts.closed = 0 AND excluded.slot = accounts.slot)",
        )?
        .execute(params![address, sql_u64(slot)])?;
    if changed == 0 {
        return Ok(false);
    }
    if let Some((Some(kind), _, _, false)) = previous {
        if let Some(kind) = Kind::from_name(&kind) {
            remove_row(tx, text_index, kind, address)?;
        }
    }
    Ok(true)
}

/// Queues a fetch of a dataset's metadata for `uri`, unless the job is already for that uri; a new
/// uri resets the job (status, attempts, fetched fields and text). A uri that is no `ipfs://<cid>`
/// gets its final status at once.
pub fn enqueue_metadata(conn: &Connection, address: &str, uri: &str) -> rusqlite::Result<()> {
    let (cid, status, error) = match crate::metadata::classify(uri) {
        Ok(cid) => (Some(cid.to_string()), crate::metadata::Status::Pending, None),
        Err((status, why)) => (None, status, Some(why)),
    };
    conn.prepare_cached(
        "INSERT INTO dataset_metadata (address, uri, cid, status, last_error) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (address) DO UPDATE SET uri = excluded.uri, cid = excluded.cid, status = excluded.status,
             attempts = 0, last_error = excluded.last_error, next_attempt_ms = 0, fetched_at = NULL, title = NULL,
             description = NULL, file_name = NULL, plaintext_bytes = NULL, sha256 = NULL, indexed_text = ''
         WHERE dataset_metadata.uri <> excluded.uri",
    )?
    .execute(params![address, uri, cid, status.as_str(), error])?;
    Ok(())
}

impl Store {
    /// Jobs due at `now_ms`: pending, or unreachable whose retry time came; oldest due first.
    pub fn metadata_due(&self, now_ms: i64, limit: usize) -> Result<Vec<crate::metadata::Job>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT address, uri, cid, attempts FROM dataset_metadata
             WHERE status IN ('pending', 'unreachable') AND next_attempt_ms <= ?1 AND cid IS NOT NULL
             ORDER BY next_attempt_ms, address LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now_ms, i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            Ok(crate::metadata::Job {
                address: row.get(0)?,
                uri: row.get(1)?,
                cid: row.get(2)?,
                attempts: u32::try_from(row.get::<_, i64>(3)?).unwrap_or(u32::MAX),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records an attempt's result if the dataset still names the job's uri and the job is not
    /// finished (a late result of an old uri, or of a duplicate fetch, changes nothing); an `ok`
    /// puts the text into the text index. Returns whether it applied.
    pub fn complete_metadata(&mut self, job: &crate::metadata::Job, done: &crate::metadata::Completion) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let parsed = done.parsed.clone().unwrap_or_default();
        let changed = tx
            .prepare_cached(
                "UPDATE dataset_metadata SET status = ?3, attempts = ?4, last_error = ?5, next_attempt_ms = ?6,
                     fetched_at = ?7, title = ?8, description = ?9, file_name = ?10, plaintext_bytes = ?11,
                     sha256 = ?12, indexed_text = ?13
                 WHERE address = ?1 AND uri = ?2 AND status IN ('pending', 'unreachable')",
            )?
            .execute(params![
                job.address,
                job.uri,
                done.status.as_str(),
                i64::from(done.attempts),
                done.last_error,
                done.next_attempt_ms,
                done.fetched_at,
                parsed.title,
                parsed.description,
                parsed.file_name,
                parsed.plaintext_bytes.map(sql_u64),
                parsed.sha256,
                parsed.text,
            ])?;
        if changed == 1 && done.status == crate::metadata::Status::Ok {
            let document: Option<(String, String)> = tx
                .prepare_cached("SELECT title, tags FROM dataset_text WHERE rowid = (SELECT id FROM accounts WHERE address = ?1)")?
                .query_row([&job.address], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            if let Some((title, tags)) = document {
                self.text.put(&tx, &job.address, &TextDoc { title: &title, tags: &[tags], metadata: &parsed.text })?;
            }
        }
        tx.commit()?;
        Ok(changed == 1)
    }
}

/// Jobs by status (every status, zeros included) and the gateways the writer fetches from.
pub fn metadata_health(conn: &Connection) -> Result<serde_json::Value> {
    let mut counts = serde_json::Map::new();
    for status in crate::metadata::Status::ALL {
        counts.insert(status.as_str().into(), 0.into());
    }
    let mut statement = conn.prepare_cached("SELECT status, count(*) FROM dataset_metadata GROUP BY status")?;
    for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))? {
        let (status, count) = row?;
        counts.insert(status, count.into());
    }
    let gateways: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'metadata_gateways'", [], |row| row.get(0)).optional()?;
    Ok(crate::metadata::health_json(counts, gateways.and_then(|g| g.parse().ok())))
}
