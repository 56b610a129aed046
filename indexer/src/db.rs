//! The store as ingest, reconcile, verify, the API and bench see it: the `IndexStore` trait, with
//! SQLite (`store::Store`, one file, FTS5) and PostgreSQL (`postgres::PgStore`, several API
//! processes over one database) behind it. `--db` picks one: a `postgres://` (or `postgresql://`)
//! URL, otherwise a file path.
//!
//! Both keep the same semantics: per address the observation with the greatest (slot, revision),
//! a close winning a tie, tombstones for closed accounts, a checkpoint that only moves forward, and
//! the same answers to every query shape of the API.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value as Json;

use crate::activity::{self, PageRequest, TransactionEvents};
use crate::decode::Kind;
use crate::metadata;
use crate::query::{self, List, QueryError, Search};
use crate::store::{self, Applied, Store, Update};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug)]
pub enum StoreError {
    Sqlite(store::Error),
    Postgres(String),
    /// A read on its own connection failed (opening it, or the query).
    Read(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Sqlite(error) => error.fmt(f),
            StoreError::Postgres(error) => write!(f, "postgres: {error}"),
            StoreError::Read(error) => write!(f, "store read: {error}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<store::Error> for StoreError {
    fn from(error: store::Error) -> Self {
        StoreError::Sqlite(error)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(store::Error::Sql(error))
    }
}

/// Every account the store holds open, with its kind and revision (what reconcile compares).
pub type OpenAccounts = HashMap<String, (Kind, u64)>;

/// What ingest writes to and the API reads from.
pub trait IndexStore: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies a batch of observations in one transaction, each guarded by its (slot, revision).
    fn apply<'a>(&'a self, updates: &'a [Update]) -> BoxFuture<'a, Result<Applied, StoreError>>;
    /// The slot up to which the chain has been indexed; never moves back.
    fn checkpoint(&self, slot: u64) -> BoxFuture<'_, Result<(), StoreError>>;
    fn indexed_slot(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>>;
    fn open_accounts(&self) -> BoxFuture<'_, Result<OpenAccounts, StoreError>>;
    /// Dataset search: `{ items, next_cursor, sort, facets? }`.
    fn search<'a>(&'a self, search: &'a Search) -> BoxFuture<'a, Result<Json, QueryError>>;
    /// Records transactions' events in the activity feed (a known (signature, index) is kept as
    /// it is) and applies the closes they announce. Returns the new events and what the closes did.
    fn record_events<'a>(
        &'a self,
        transactions: &'a [TransactionEvents],
    ) -> BoxFuture<'a, Result<(usize, Applied), StoreError>>;
    /// Whether the feed holds this transaction (a backfill then skips fetching it).
    fn has_transaction<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// The newest transaction a history backfill went through.
    fn backfilled_until(&self) -> BoxFuture<'_, Result<Option<String>, StoreError>>;
    fn set_backfilled_until<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// A page of the activity feed: `{ items, next_cursor }`, newest first.
    fn activity<'a>(&'a self, page: &'a PageRequest) -> BoxFuture<'a, Result<Json, QueryError>>;
    /// A dataset's summary and its decoded account, None if absent or closed.
    fn dataset<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<Option<Json>, QueryError>>;
    /// One of the related lists (`query::list_kind`): `{ items, next_cursor }`.
    fn list<'a>(&'a self, list: &'a List) -> BoxFuture<'a, Result<Json, QueryError>>;
    /// The registry, dataset, tag and text rows in one canonical text form (ordered, values
    /// rendered alike by both stores), so tests can compare two stores row for row.
    fn dump(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// Metadata fetch jobs due at `now_ms` (unix milliseconds), oldest due first.
    fn metadata_due(&self, now_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<metadata::Job>, StoreError>>;
    /// Records a fetch attempt's result, unless the dataset names another uri by now or the job
    /// is already finished; an `ok` puts the metadata's text into the text index. Whether it applied.
    fn complete_metadata<'a>(
        &'a self,
        job: &'a metadata::Job,
        done: &'a metadata::Completion,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Metadata jobs by status and the gateway count the ingest process recorded.
    fn metadata_health(&self) -> BoxFuture<'_, Result<Json, StoreError>>;
    /// Recorded by the ingest process at start: how many IPFS gateways it fetches from.
    fn set_metadata_gateways(&self, count: usize) -> BoxFuture<'_, Result<(), StoreError>>;
    /// After a bulk load, before timing queries: refreshes what the query planner knows (VACUUM
    /// (ANALYZE) in PostgreSQL, which autovacuum otherwise does a while later). SQLite: nothing.
    fn after_bulk_load(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Whether `--db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// Opens the store `--db` names. `writer`: the process that ingests (creates the schema and fails
/// if it cannot); API-only processes may run with a role that can only read.
pub async fn open(db: &str, writer: bool) -> Result<Arc<dyn IndexStore>, StoreError> {
    if is_postgres_url(db) {
        let options = crate::postgres::Options { url: db.to_owned(), schema: None, writer, ..Default::default() };
        Ok(Arc::new(crate::postgres::PgStore::connect(&options).await?))
    } else {
        Ok(Arc::new(SqliteStore::open(Path::new(db))?))
    }
}

/// The SQLite store behind the trait: one writer connection (under a mutex, as before) and, for a
/// file, a read-only connection per read on a blocking thread (WAL: readers never wait for the
/// writer). An in-memory store reads through its writer connection.
pub struct SqliteStore {
    writer: Mutex<Store>,
    path: Option<PathBuf>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Ok(SqliteStore { writer: Mutex::new(Store::open(path)?), path: Some(path.to_path_buf()) })
    }

    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Ok(SqliteStore { writer: Mutex::new(Store::in_memory()?), path: None })
    }

    /// The underlying store (its connection), for SQLite-only tools and tests.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        // a panic while holding the lock left a transaction rolled back, not a torn store
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a read: on its own read-only connection off the async threads for a file, on the
    /// writer's connection for an in-memory store.
    fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn store::TextIndex, &rusqlite::Connection) -> Result<T, QueryError> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, QueryError>> {
        Box::pin(async move {
            match &self.path {
                Some(path) => {
                    let path = path.clone();
                    tokio::task::spawn_blocking(move || {
                        let conn = Store::open_reader(&path).map_err(|e| QueryError::Sql(e.to_string()))?;
                        work(&store::Fts5, &conn)
                    })
                    .await
                    .map_err(|e| QueryError::Sql(format!("reader failed: {e}")))?
                }
                None => {
                    let store = self.lock();
                    work(store.text.as_ref(), &store.conn)
                }
            }
        })
    }
}

fn copy_list(list: &List) -> List {
    List {
        table: list.table,
        filter: list.filter,
        value: list.value.clone(),
        order: list.order,
        cursor: list.cursor.clone(),
        limit: list.limit,
    }
}

impl IndexStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn apply<'a>(&'a self, updates: &'a [Update]) -> BoxFuture<'a, Result<Applied, StoreError>> {
        Box::pin(async move { Ok(self.lock().apply(updates)?) })
    }

    fn checkpoint(&self, slot: u64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { Ok(self.lock().checkpoint(slot)?) })
    }

    fn indexed_slot(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move {
            match &self.path {
                // the API's reads: on a reader connection, like every other read
                Some(_) => self
                    .read(|_, conn| store::indexed_slot(conn).map_err(|e| QueryError::Sql(e.to_string())))
                    .await
                    .map_err(|e| StoreError::Read(format!("{e:?}"))),
                None => Ok(self.lock().indexed_slot()?),
            }
        })
    }

    fn open_accounts(&self) -> BoxFuture<'_, Result<OpenAccounts, StoreError>> {
        Box::pin(async move { Ok(self.lock().open_accounts()?) })
    }

    fn search<'a>(&'a self, search: &'a Search) -> BoxFuture<'a, Result<Json, QueryError>> {
        let search = search.clone();
        self.read(move |text, conn| query::search(conn, text, &search))
    }

    fn dataset<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<Option<Json>, QueryError>> {
        let address = address.to_owned();
        self.read(move |_, conn| query::dataset(conn, &address))
    }

    fn list<'a>(&'a self, list: &'a List) -> BoxFuture<'a, Result<Json, QueryError>> {
        let list = copy_list(list);
        self.read(move |_, conn| query::list(conn, &list))
    }

    fn dump(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move { Ok(sqlite_dump(&self.lock().conn)?) })
    }

    fn record_events<'a>(
        &'a self,
        transactions: &'a [TransactionEvents],
    ) -> BoxFuture<'a, Result<(usize, Applied), StoreError>> {
        Box::pin(async move { Ok(self.lock().record_events(transactions)?) })
    }

    fn has_transaction<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(activity::has_transaction(&self.lock().conn, signature)?) })
    }

    fn backfilled_until(&self) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        Box::pin(async move { Ok(activity::backfilled_until(&self.lock().conn)?) })
    }

    fn set_backfilled_until<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { Ok(activity::set_backfilled_until(&self.lock().conn, signature)?) })
    }

    fn activity<'a>(&'a self, page: &'a PageRequest) -> BoxFuture<'a, Result<Json, QueryError>> {
        let page = page.clone();
        self.read(move |_, conn| {
            activity::page(conn, &page.scope, page.name.as_deref(), page.cursor.as_deref(), page.limit)
        })
    }

    fn metadata_due(&self, now_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<metadata::Job>, StoreError>> {
        Box::pin(async move { Ok(self.lock().metadata_due(now_ms, limit)?) })
    }

    fn complete_metadata<'a>(
        &'a self,
        job: &'a metadata::Job,
        done: &'a metadata::Completion,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.lock().complete_metadata(job, done)?) })
    }

    fn metadata_health(&self) -> BoxFuture<'_, Result<Json, StoreError>> {
        Box::pin(async move {
            self.read(|_, conn| store::metadata_health(conn).map_err(|e| QueryError::Sql(e.to_string())))
                .await
                .map_err(|e| StoreError::Read(format!("{e:?}")))
        })
    }

    fn set_metadata_gateways(&self, count: usize) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.lock().conn.execute(
                "INSERT INTO meta (key, value) VALUES ('metadata_gateways', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [count.to_string()],
            )?;
            Ok(())
        })
    }
}

/// The rows `IndexStore::dump` lists, rendered as text: NULL, integers and reals as Rust prints
/// them, bytes in hex.
pub const DUMP_TABLES: [(&str, &str); 5] = [
    ("accounts", "address, kind, slot, revision, closed"),
    ("datasets", "address, slot, revision, title, price, rating_avg, data"),
    ("dataset_tags", "address, tag"),
    ("dataset_text", "address, title, tags, metadata"),
    ("dataset_metadata", "address, uri, cid, status, attempts, indexed_text"),
];

fn sqlite_dump(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    use rusqlite::types::Value;
    let mut out = Vec::new();
    for (table, columns) in DUMP_TABLES {
        let mut statement = conn.prepare(&format!("SELECT {columns} FROM {table} ORDER BY 1, 2"))?;
        let count = statement.column_count();
        let rows = statement.query_map([], |row| {
            let mut values = Vec::with_capacity(count);
            for i in 0..count {
                values.push(match row.get::<_, Value>(i)? {
                    Value::Null => "NULL".to_owned(),
                    Value::Integer(n) => n.to_string(),
                    Value::Real(r) => r.to_string(),
                    Value::Text(t) => t,
                    Value::Blob(b) => crate::decode::hex(&b),
                });
            }
            Ok(format!("{table}: {}", values.join(" | ")))
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}
