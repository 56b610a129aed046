//! The stores the shared tests run against: SQLite always; PostgreSQL when INDEXER_TEST_POSTGRES
//! holds a connection URL (`scripts/postgres.sh start` prints one). Without it the PostgreSQL
//! variants print that they were skipped and pass, unless INDEXER_REQUIRE_POSTGRES=1 (CI), which
//! makes them fail.

#![allow(dead_code)]

use std::io::Write;
use std::sync::Arc;

use indexer::db::{IndexStore, SqliteStore};
use indexer::postgres::PgStore;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL URL to test against, None (after saying so) when the tests should skip it.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("INDEXER_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            if std::env::var("INDEXER_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!(
                    "{test}: INDEXER_REQUIRE_POSTGRES=1 but INDEXER_TEST_POSTGRES is unset: run \
                     `export INDEXER_TEST_POSTGRES=$(scripts/postgres.sh start)` first"
                );
            }
            // straight to stderr: the test harness does not capture it, so the skip shows
            let _ = writeln!(std::io::stderr(), "{test}: skipped on PostgreSQL (INDEXER_TEST_POSTGRES is unset)");
            None
        }
    }
}

/// A store under test; `finish` removes what it left (a PostgreSQL schema of its own).
pub struct TestStore {
    pub store: Arc<dyn IndexStore>,
    pub postgres: Option<Arc<PgStore>>,
    pub sqlite: Option<Arc<SqliteStore>>,
}

impl TestStore {
    /// An empty store of this backend (SQLite in memory, PostgreSQL in a new schema), or None when
    /// PostgreSQL is not configured.
    pub async fn new(backend: Backend, test: &str) -> Option<TestStore> {
        match backend {
            Backend::Sqlite => {
                let sqlite = Arc::new(SqliteStore::in_memory().unwrap());
                Some(TestStore { store: sqlite.clone(), postgres: None, sqlite: Some(sqlite) })
            }
            Backend::Postgres => {
                let url = postgres_url(test)?;
                let postgres = Arc::new(PgStore::scratch(&url, "test").await.unwrap());
                Some(TestStore { store: postgres.clone(), postgres: Some(postgres), sqlite: None })
            }
        }
    }

    pub async fn finish(self) {
        if let Some(postgres) = &self.postgres {
            postgres.drop_schema().await.unwrap();
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}
