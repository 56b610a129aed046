//! The PostgreSQL store: the same tables, guards and query shapes as the SQLite store
//! (`store.rs`, `query.rs`), for deployments with several API processes reading one database and
//! one ingest process writing it.
//!
//! - Writes: every batch is one transaction holding a transaction-level advisory lock, so even two
//!   writer processes apply batches one after the other. Per observation, one statement reads the
//!   registry row and applies the guarded upsert (`INSERT ... ON CONFLICT DO UPDATE ... WHERE
//!   excluded.slot > accounts.slot OR ...`, the SQLite store's guard word for word); the row of its
//!   kind, its tags and its text document follow, pipelined.
//! - Reads: a connection pool; each query is sent with its parameters' types in one round trip and
//!   planned for its own values (no generic plans: the selectivity of a tag or an owner varies).
//! - Text search sits behind `PgTextIndex`; `TsVector` keeps a table `dataset_text` whose `tsvector`
//!   column is generated from title (weight A), tags (B) and metadata (C), indexed with GIN, ranked
//!   by `ts_rank`.
//! - Text columns use the "C" collation: byte order, as SQLite compares, so keyset cursors, ties and
//!   facet order are the same in both stores.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rusqlite::types::Value;
use serde_json::{json, Value as Json};
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{NoTls, Row};

use crate::activity::{self, PageRequest, Scope, TransactionEvents};
use crate::db::{BoxFuture, IndexStore, OpenAccounts, StoreError, DUMP_TABLES};
use crate::decode::{self, Account, Kind};
use crate::metadata;
use crate::query::{self, List, QueryError, Search, Sort, DEFAULT_LIMIT, MAX_LIMIT};
use crate::store::{self, Applied, Update, MAX_QUERY_TERMS, SCHEMA_VERSION};

/// A value bound to a statement; converts to the parameter's type where the two differ (an
/// integer cursor key compared with a real column).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    TextArray(Vec<String>),
}

impl Param {
    /// The type a read declares for it (reads are sent with their types, in one round trip).
    fn sql_type(&self) -> Type {
        match self {
            Param::Null | Param::Text(_) => Type::TEXT,
            Param::Int(_) => Type::INT8,
            Param::Float(_) => Type::FLOAT8,
            Param::Bytes(_) => Type::BYTEA,
            Param::TextArray(_) => Type::TEXT_ARRAY,
        }
    }

    fn from_sqlite(value: Value) -> Param {
        match value {
            Value::Null => Param::Null,
            Value::Integer(n) => Param::Int(n),
            Value::Real(r) => Param::Float(r),
            Value::Text(t) => Param::Text(t),
            Value::Blob(b) => Param::Bytes(b),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(n) => match *ty {
                Type::FLOAT8 => (*n as f64).to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                _ => n.to_sql(ty, out),
            },
            Param::Float(x) => match *ty {
                Type::INT8 => (*x as i64).to_sql(ty, out),
                _ => x.to_sql(ty, out),
            },
            Param::Text(t) => t.as_str().to_sql(ty, out),
            Param::Bytes(b) => b.as_slice().to_sql(ty, out),
            Param::TextArray(a) => a.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.to_sql(ty, out)
    }
}

/// The parameters of a statement being built: `bind` returns its `$n`.
#[derive(Clone, Default)]
struct Params(Vec<Param>);

impl Params {
    fn bind(&mut self, param: Param) -> String {
        self.0.push(param);
        format!("${}", self.0.len())
    }

    fn typed(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        self.0.iter().map(|p| (p as &(dyn ToSql + Sync), p.sql_type())).collect()
    }
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn pg_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        StoreError::Postgres(pg_message(&error))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        StoreError::Postgres(format!("pool: {error}"))
    }
}

impl From<tokio_postgres::Error> for QueryError {
    fn from(error: tokio_postgres::Error) -> Self {
        QueryError::Sql(pg_message(&error))
    }
}

impl From<deadpool_postgres::PoolError> for QueryError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        QueryError::Sql(format!("pool: {error}"))
    }
}

/// Text search over datasets inside PostgreSQL, behind a trait so another engine (a BM25
/// extension, trigram similarity) can take `TsVector`'s place. Its statements run in the store's
/// transactions.
pub trait PgTextIndex: Send + Sync {
    /// Idempotent DDL for what the engine keeps (run with the schema, after the tables).
    fn schema(&self) -> &'static str;
    /// Writes a dataset's document: `$1` address, `$2` title, `$3` tags (space-separated); the
    /// metadata text is the fetched metadata's (`dataset_metadata.indexed_text`, '' until fetched).
    fn put_sql(&self) -> &'static str;
    /// Sets a document's metadata text once it is fetched: `$1` address, `$2` text.
    fn set_metadata_sql(&self) -> &'static str;
    /// Removes it: `$1` address.
    fn remove_sql(&self) -> &'static str;
    /// A query the engine accepts, built from what a user typed (never passed through raw), or
    /// None when nothing searchable is left.
    fn sanitise(&self, user_query: &str) -> Option<String>;
    /// SQL yielding `(address, score)` for the sanitised query bound at `param` (`$n`); lower
    /// scores rank higher, as with FTS5's bm25.
    fn matches_sql(&self, param: &str) -> String;
}

/// PostgreSQL full-text search: a `tsvector` generated from the document's columns (non-letters
/// and non-digits turned to spaces first, as FTS5's unicode61 tokenizer splits; letters as the
/// database's default locale classifies them, so a UTF-8 locale, not plain "C"), the `simple`
/// dictionary behind `unaccent` (lower case, diacritics folded, no stemming, no stop words), a GIN
/// index, and `ts_rank` (title weighs most, then tags, then metadata).
pub struct TsVector;

const TEXT_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS dataset_text (
    address TEXT PRIMARY KEY, title TEXT NOT NULL, tags TEXT NOT NULL, metadata TEXT NOT NULL,
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('indexer_text', regexp_replace(title COLLATE "default", '[^[:alnum:]]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('indexer_text', regexp_replace(tags COLLATE "default", '[^[:alnum:]]+', ' ', 'g')), 'B')
        || setweight(to_tsvector('indexer_text', regexp_replace(metadata COLLATE "default", '[^[:alnum:]]+', ' ', 'g')), 'C')
    ) STORED
);
CREATE INDEX IF NOT EXISTS dataset_text_document ON dataset_text USING gin (document);
"#;

impl PgTextIndex for TsVector {
    fn schema(&self) -> &'static str {
        TEXT_SCHEMA
    }

    fn put_sql(&self) -> &'static str {
        "INSERT INTO dataset_text (address, title, tags, metadata)
         VALUES ($1, $2, $3, COALESCE((SELECT indexed_text FROM dataset_metadata WHERE address = $1), ''))
         ON CONFLICT (address) DO UPDATE SET title = excluded.title, tags = excluded.tags, metadata = excluded.metadata"
    }

    fn set_metadata_sql(&self) -> &'static str {
        "UPDATE dataset_text SET metadata = $2 WHERE address = $1"
    }

    fn remove_sql(&self) -> &'static str {
        "DELETE FROM dataset_text WHERE address = $1"
    }

    /// Keeps letters and digits only (the FTS5 sanitiser's rule): every term becomes a quoted
    /// lexeme of a `tsquery` built here (`'a' & 'b':*`), so no operator or syntax error can come
    /// from the user; all terms must match, and the last one matches as a prefix.
    fn sanitise(&self, user_query: &str) -> Option<String> {
        let terms: Vec<String> = user_query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|term| !term.is_empty())
            .take(MAX_QUERY_TERMS)
            .map(|term| term.chars().take(64).collect::<String>().to_lowercase())
            .collect();
        let (last, rest) = terms.split_last()?;
        let mut query: Vec<String> = rest.iter().map(|term| format!("'{term}'")).collect();
        query.push(format!("'{last}':*"));
        Some(query.join(" & "))
    }

    fn matches_sql(&self, param: &str) -> String {
        // the query through the same configuration as the documents (diacritics folded); quoted
        // letters and digits only, so to_tsquery cannot fail on it
        format!(
            "SELECT t.address, -ts_rank(t.document, to_tsquery('indexer_text', {param}))::float8 AS score \
             FROM dataset_text t WHERE t.document @@ to_tsquery('indexer_text', {param})"
        )
    }
}

/// Facet counts of the listed catalogue (state neither unlisted nor revoked), kept by triggers as
/// the SQLite store's are, so the unfiltered browse page reads a few rows instead of counting the
/// whole catalogue: count(category c) = listed datasets in c, likewise state, and count(tag t) =
/// listed datasets carrying t, whatever order a dataset's row and its tags are written in.
const LISTED_FACETS_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS listed_facets (
    facet text COLLATE "C" NOT NULL, value text COLLATE "C" NOT NULL, count bigint NOT NULL,
    PRIMARY KEY (facet, value)
);
CREATE OR REPLACE FUNCTION listed_facets_add(f text, v text, delta bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO listed_facets AS l VALUES (f, v, delta)
    ON CONFLICT (facet, value) DO UPDATE SET count = l.count + excluded.count
$$;
CREATE OR REPLACE FUNCTION listed_facets_of_dataset(a text, c text, s text, delta bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF s IN ('unlisted', 'revoked') THEN RETURN; END IF;
    PERFORM listed_facets_add('category', c, delta);
    PERFORM listed_facets_add('state', s, delta);
    PERFORM listed_facets_add('tag', t.tag, delta) FROM dataset_tags t WHERE t.address = a;
END $$;
CREATE OR REPLACE FUNCTION listed_facets_datasets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = NEW.state AND OLD.category = NEW.category THEN RETURN NULL; END IF;
    IF TG_OP <> 'INSERT' THEN PERFORM listed_facets_of_dataset(OLD.address, OLD.category, OLD.state, -1); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM listed_facets_of_dataset(NEW.address, NEW.category, NEW.state, 1); END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION listed_facets_tags() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tagged dataset_tags;
BEGIN
    IF TG_OP = 'INSERT' THEN tagged := NEW; ELSE tagged := OLD; END IF;
    IF EXISTS (SELECT 1 FROM datasets d WHERE d.address = tagged.address AND d.state NOT IN ('unlisted', 'revoked')) THEN
        PERFORM listed_facets_add('tag', tagged.tag, CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER listed_facets_datasets AFTER INSERT OR DELETE OR UPDATE OF state, category ON datasets
    FOR EACH ROW EXECUTE FUNCTION listed_facets_datasets();
CREATE OR REPLACE TRIGGER listed_facets_tags AFTER INSERT OR DELETE ON dataset_tags
    FOR EACH ROW EXECUTE FUNCTION listed_facets_tags();
"#;

/// Counts the listed facets from scratch (a store created before they were kept).
const RECOUNT_LISTED_FACETS: &str = "
DELETE FROM listed_facets;
INSERT INTO listed_facets SELECT 'category', category, count(*) FROM datasets
    WHERE state NOT IN ('unlisted', 'revoked') GROUP BY category;
INSERT INTO listed_facets SELECT 'state', state, count(*) FROM datasets
    WHERE state NOT IN ('unlisted', 'revoked') GROUP BY state;
INSERT INTO listed_facets SELECT 'tag', t.tag, count(*) FROM dataset_tags t JOIN datasets d USING (address)
    WHERE d.state NOT IN ('unlisted', 'revoked') GROUP BY t.tag;
";

/// `TEXT` below becomes `text COLLATE "C"`.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    address TEXT PRIMARY KEY,
    kind TEXT,
    slot bigint NOT NULL,
    revision bigint NOT NULL,
    closed integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS marketplaces (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    authority TEXT NOT NULL, treasury TEXT NOT NULL, arbiter TEXT NOT NULL,
    protocol_fee_bps bigint NOT NULL, purchases_paused bigint NOT NULL, data bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS front_ends (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    wallet TEXT NOT NULL, registered_at bigint NOT NULL, data bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS content_hash_records (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    content_hash TEXT NOT NULL, dataset TEXT NOT NULL, claimant TEXT NOT NULL, data bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS datasets (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    owner TEXT NOT NULL, content_hash TEXT NOT NULL, category TEXT NOT NULL, state TEXT NOT NULL,
    payment_mint TEXT NOT NULL, license_mint TEXT NOT NULL, price bigint NOT NULL,
    licenses_sold bigint NOT NULL, licenses_outstanding bigint NOT NULL,
    rating_count bigint NOT NULL, rating_avg double precision,
    created_at bigint NOT NULL, updated_at bigint NOT NULL,
    title TEXT NOT NULL, metadata_uri TEXT NOT NULL, ciphertext_cid TEXT NOT NULL,
    previous_version TEXT, next_version TEXT, data bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_owner ON datasets (owner, created_at);
CREATE INDEX IF NOT EXISTS datasets_created ON datasets (created_at, address);
CREATE INDEX IF NOT EXISTS datasets_price ON datasets (price, address);
CREATE INDEX IF NOT EXISTS datasets_sales ON datasets (licenses_sold, address);
CREATE INDEX IF NOT EXISTS datasets_category ON datasets (category, state);
CREATE TABLE IF NOT EXISTS dataset_tags (
    address TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (address, tag)
);
CREATE INDEX IF NOT EXISTS dataset_tags_tag ON dataset_tags (tag, address);
CREATE TABLE IF NOT EXISTS dataset_metadata (
    address TEXT PRIMARY KEY, uri TEXT NOT NULL, cid TEXT, status TEXT NOT NULL,
    attempts bigint NOT NULL DEFAULT 0, last_error TEXT, next_attempt_ms bigint NOT NULL DEFAULT 0,
    fetched_at bigint, title TEXT, description TEXT, file_name TEXT, plaintext_bytes bigint, sha256 TEXT,
    indexed_text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS dataset_metadata_due ON dataset_metadata (status, next_attempt_ms);
CREATE TABLE IF NOT EXISTS allow_list_entries (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    dataset TEXT NOT NULL, buyer TEXT NOT NULL, data bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS licenses (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    dataset TEXT NOT NULL, buyer TEXT NOT NULL, state TEXT NOT NULL, price_paid bigint NOT NULL,
    credits bigint NOT NULL, usage_count bigint NOT NULL, bought_at bigint NOT NULL,
    delivered_at bigint NOT NULL, expires_at bigint NOT NULL, settled_at bigint NOT NULL,
    data bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS licenses_dataset ON licenses (dataset, bought_at);
CREATE INDEX IF NOT EXISTS licenses_buyer ON licenses (buyer, bought_at);
CREATE TABLE IF NOT EXISTS usage_receipts (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    dataset TEXT NOT NULL, license TEXT NOT NULL, model_hash TEXT NOT NULL, holder TEXT NOT NULL,
    attestor TEXT NOT NULL, purpose TEXT NOT NULL, recorded_at bigint NOT NULL, idx bigint NOT NULL,
    data bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_receipts_dataset ON usage_receipts (dataset, recorded_at);
CREATE INDEX IF NOT EXISTS usage_receipts_model ON usage_receipts (model_hash);
CREATE INDEX IF NOT EXISTS usage_receipts_license ON usage_receipts (license, recorded_at);
CREATE TABLE IF NOT EXISTS reviews (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    license TEXT NOT NULL, dataset TEXT NOT NULL, reviewer TEXT NOT NULL, rating bigint NOT NULL,
    paid bigint NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL, uri TEXT NOT NULL,
    data bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_dataset ON reviews (dataset, created_at);
CREATE TABLE IF NOT EXISTS disputes (
    address TEXT PRIMARY KEY, slot bigint NOT NULL, revision bigint NOT NULL,
    license TEXT NOT NULL, dataset TEXT NOT NULL, buyer TEXT NOT NULL, reason TEXT NOT NULL,
    ruling TEXT, opened_at bigint NOT NULL, ruled_at bigint NOT NULL, evidence_uri TEXT NOT NULL,
    data bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS disputes_dataset ON disputes (dataset, opened_at);
CREATE TABLE IF NOT EXISTS activity (
    signature TEXT NOT NULL, idx bigint NOT NULL, slot bigint NOT NULL, name TEXT NOT NULL,
    dataset TEXT, license TEXT, fields TEXT NOT NULL,
    PRIMARY KEY (signature, idx)
);
CREATE INDEX IF NOT EXISTS activity_slot ON activity (slot, signature, idx);
CREATE INDEX IF NOT EXISTS activity_dataset ON activity (dataset, slot, signature, idx);
CREATE INDEX IF NOT EXISTS activity_license ON activity (license, slot, signature, idx);
"#;

/// The text search configuration the documents and queries go through: `simple` (lower case, no
/// stemming, no stop words) behind `unaccent`.
const TEXT_CONFIGURATION: &str = r#"
DO $$ BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
        WHERE c.cfgname = 'indexer_text' AND n.nspname = current_schema()
    ) THEN
        CREATE TEXT SEARCH CONFIGURATION indexer_text (COPY = simple);
        ALTER TEXT SEARCH CONFIGURATION indexer_text
            ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
            WITH unaccent, simple;
    END IF;
END $$;
"#;

/// Serialises migrations (several API processes may start at once): a `pg_advisory_xact_lock` key.
/// Writes take one keyed by their schema (one writer at a time per store, whichever process).
const MIGRATE_LOCK: i64 = 0x1d_3a_7e_01;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `postgres://user@host:port/database` (tokio-postgres's URL form; `?options=`,
    /// `?application_name=` and the rest as it parses them).
    pub url: String,
    /// The schema to keep the tables in (created if missing); None: the connection's default
    /// (`public` unless the URL's options set a `search_path`).
    pub schema: Option<String>,
    /// Whether this process writes: a writer creates the schema and fails if it cannot; a reader
    /// tries and goes on without (a read-only role).
    pub writer: bool,
    /// Pooled connections (default 8).
    pub pool_size: usize,
}

pub struct PgStore {
    pool: Pool,
    text: Box<dyn PgTextIndex>,
    schema: Option<String>,
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

impl PgStore {
    pub async fn connect(options: &Options) -> Result<PgStore, StoreError> {
        let mut config: tokio_postgres::Config =
            options.url.parse().map_err(|e| StoreError::Postgres(format!("bad database URL: {e}")))?;
        if let Some(schema) = &options.schema {
            if !valid_identifier(schema) {
                return Err(StoreError::Postgres(format!("bad schema name {schema:?}")));
            }
            // public too: the unaccent dictionary lives there
            config.options(format!("-c search_path={schema},public"));
        }
        if config.get_application_name().is_none() {
            config.application_name("indexer");
        }
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let size = if options.pool_size == 0 { 8 } else { options.pool_size };
        let pool = Pool::builder(manager).max_size(size).build().map_err(|e| StoreError::Postgres(e.to_string()))?;
        let store = PgStore { pool, text: Box::new(TsVector), schema: options.schema.clone() };
        match store.migrate().await {
            Ok(()) => {}
            Err(error) if !options.writer => eprintln!("postgres schema not created ({error}); reading what is there"),
            Err(error) => return Err(error),
        }
        Ok(store)
    }

    /// Creates the tables, indexes and text search configuration that are missing (idempotent).
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        if let Some(schema) = &self.schema {
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
        }
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK]).await?;
        // the dictionary is database-wide: in public, not in a store's own schema
        tx.batch_execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public").await?;
        tx.batch_execute(TEXT_CONFIGURATION).await?;
        let text_columns = |ddl: &str| ddl.replace("TEXT", "text COLLATE \"C\"");
        let had_facets: bool = tx.query_one("SELECT to_regclass('listed_facets') IS NOT NULL", &[]).await?.get(0);
        tx.batch_execute(&text_columns(SCHEMA)).await?;
        tx.batch_execute(&text_columns(self.text.schema())).await?;
        tx.batch_execute(LISTED_FACETS_SCHEMA).await?;
        if !had_facets {
            // a store from before the counts were kept: count once, the triggers keep them from here
            tx.batch_execute(RECOUNT_LISTED_FACETS).await?;
        }
        let version: Option<String> =
            tx.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[]).await?.map(|row| row.get(0));
        if version.is_some_and(|v| v.parse::<i64>().unwrap_or(0) < 3) {
            // before version 3 no metadata was fetched: queue every dataset's uri
            let rows = tx.query("SELECT address, metadata_uri FROM datasets", &[]).await?;
            let mut columns: [Vec<Option<String>>; 5] = Default::default();
            for row in rows {
                let (address, uri): (String, String) = (row.get(0), row.get(1));
                let (cid, status, error) = metadata_job(&uri);
                for (column, value) in columns.iter_mut().zip([Some(address), Some(uri), cid, Some(status), error]) {
                    column.push(value);
                }
            }
            tx.execute(
                "INSERT INTO dataset_metadata (address, uri, cid, status, last_error)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING",
                &[&columns[0], &columns[1], &columns[2], &columns[3], &columns[4]],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE meta.value::bigint < excluded.value::bigint",
            &[&SCHEMA_VERSION.to_string()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The pool, for tools and tests that run their own SQL (EXPLAIN, counts).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A store in a new schema of its own (`indexer_<prefix>_<pid>_<n>`), for tests and bench:
    /// drop it with `drop_schema`.
    pub async fn scratch(url: &str, prefix: &str) -> Result<PgStore, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "indexer_{prefix}_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos % 1_000_000
        );
        PgStore::connect(&Options { url: url.into(), schema: Some(schema), writer: true, pool_size: 4 }).await
    }

    /// Drops the store's own schema with everything in it (a store from `scratch`).
    pub async fn drop_schema(&self) -> Result<(), StoreError> {
        if let Some(schema) = &self.schema {
            self.pool.get().await?.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
        }
        Ok(())
    }

    /// Bytes the store's tables and indexes take (its schema, or the current one).
    pub async fn size_bytes(&self) -> Result<i64, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    /// Empties every table (tests reuse one schema for many cases).
    pub async fn clear(&self) -> Result<(), StoreError> {
        let tables: Vec<&str> = Kind::ALL.iter().map(|kind| kind.table()).collect();
        self.pool
            .get()
            .await?
            .batch_execute(&format!(
                "TRUNCATE meta, accounts, dataset_tags, dataset_text, listed_facets, dataset_metadata, {}",
                tables.join(", ")
            ))
            .await?;
        Ok(())
    }

    /// After a bulk load: VACUUM (ANALYZE) of the store's tables, which updates the planner's
    /// statistics, marks pages all-visible (index-only scans) and moves the text index's pending
    /// entries into the GIN index proper (while they wait in its pending list, every text query
    /// scans them and the planner, counting that in, prefers a sequential scan).
    pub async fn vacuum_analyze(&self) -> Result<(), StoreError> {
        let mut tables = vec!["meta", "accounts", "dataset_tags", "dataset_text", "listed_facets", "dataset_metadata"];
        tables.extend(Kind::ALL.iter().map(|kind| kind.table()));
        self.pool.get().await?.batch_execute(&format!("VACUUM (ANALYZE) {}", tables.join(", "))).await?;
        Ok(())
    }

    /// The plan PostgreSQL picks for a search's page query (`EXPLAIN`, text form).
    pub async fn explain_search(&self, search: &Search) -> Result<String, QueryError> {
        let built = build_search(self.text.as_ref(), search)?;
        let client = self.pool.get().await?;
        let rows = client.query_typed(&format!("EXPLAIN {}", built.sql), &built.params.typed()).await?;
        Ok(rows.iter().map(|row| row.get::<_, String>(0)).collect::<Vec<_>>().join("\n"))
    }

    /// Applies a batch in one transaction, in two pipelined rounds: first every observation's
    /// guard (each reads the registry row as it was and applies the guarded upsert of `accounts`,
    /// in order, so a later observation of the same address sees the earlier one's effect), then
    /// the row writes of those that applied, in the same order. Guards touch only `accounts` and
    /// row writes never do, so the result is the one applying them one by one gives.
    async fn apply_batch(&self, updates: &[Update]) -> Result<Applied, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('indexer write ' || current_schema()))", &[]).await?;
        let guard_upsert = tx.prepare_cached(GUARD_UPSERT).await?;
        let guard_close = tx.prepare_cached(GUARD_CLOSE).await?;

        let mut applied = Applied::default();
        let mut guarded: Vec<(&Update, Option<Account>)> = Vec::with_capacity(updates.len());
        let mut guards: Vec<(&tokio_postgres::Statement, Vec<Param>)> = Vec::with_capacity(updates.len());
        for update in updates {
            match update {
                Update::Upsert { address, slot, data } => match Account::decode(data) {
                    Ok(account) => {
                        guards.push((
                            &guard_upsert,
                            vec![
                                Param::Text(address.clone()),
                                Param::Text(account.kind().name().to_owned()),
                                Param::from_sqlite(sql_u64(*slot)),
                                Param::from_sqlite(sql_u64(account.revision())),
                            ],
                        ));
                        guarded.push((update, Some(account)));
                    }
                    Err(_) => applied.undecodable += 1,
                },
                Update::Close { address, slot } => {
                    guards.push((&guard_close, vec![Param::Text(address.clone()), Param::from_sqlite(sql_u64(*slot))]));
                    guarded.push((update, None));
                }
            }
        }
        let tx_ref = &tx;
        let rows = in_order(
            guards
                .iter()
                .map(|(statement, params)| -> BoxFuture<'_, Result<Row, tokio_postgres::Error>> {
                    Box::pin(async move { tx_ref.query_one(*statement, &refs(params)).await })
                })
                .collect(),
        )
        .await?;

        let mut writes: Vec<(tokio_postgres::Statement, Vec<Param>)> = Vec::new();
        for ((update, account), row) in guarded.iter().zip(&rows) {
            match (update, account) {
                (Update::Upsert { address, slot, data }, Some(account)) => {
                    if row.get::<_, i64>(1) == 0 {
                        applied.stale += 1;
                        continue;
                    }
                    applied.upserted += 1;
                    let previous: Option<String> = row.get(0);
                    if let Some(previous_kind) = previous.as_deref().and_then(Kind::from_name) {
                        if previous_kind != account.kind() {
                            self.remove_row(&tx, &mut writes, previous_kind, address).await?;
                        }
                    }
                    self.write_row(&tx, &mut writes, address, *slot, data, account).await?;
                }
                (Update::Close { address, .. }, _) => {
                    if row.get::<_, i64>(2) == 0 {
                        applied.stale += 1;
                        continue;
                    }
                    applied.closed += 1;
                    let (kind, closed): (Option<String>, Option<i32>) = (row.get(0), row.get(1));
                    if let (Some(kind), Some(0)) = (kind.as_deref().and_then(Kind::from_name), closed) {
                        self.remove_row(&tx, &mut writes, kind, address).await?;
                    }
                }
                _ => unreachable!("every guarded upsert carries its account"),
            }
        }
        in_order(
            writes
                .iter()
                .map(|(statement, params)| -> BoxFuture<'_, Result<u64, tokio_postgres::Error>> {
                    Box::pin(async move { tx_ref.execute(statement, &refs(params)).await })
                })
                .collect(),
        )
        .await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// The statements removing an account's row (see `store::remove_row`).
    async fn remove_row(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        writes: &mut Vec<(tokio_postgres::Statement, Vec<Param>)>,
        kind: Kind,
        address: &str,
    ) -> Result<(), StoreError> {
        let address = vec![Param::Text(address.to_owned())];
        writes.push((
            tx.prepare_cached(&format!("DELETE FROM {} WHERE address = $1", kind.table())).await?,
            address.clone(),
        ));
        if kind == Kind::Dataset {
            writes.push((tx.prepare_cached("DELETE FROM dataset_tags WHERE address = $1").await?, address.clone()));
            writes.push((tx.prepare_cached("DELETE FROM dataset_metadata WHERE address = $1").await?, address.clone()));
            writes.push((tx.prepare_cached(self.text.remove_sql()).await?, address));
        }
        Ok(())
    }

    /// The statements writing an account's row of its kind and, for a dataset, its tags and text
    /// document (see `store::upsert`).
    async fn write_row(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        writes: &mut Vec<(tokio_postgres::Statement, Vec<Param>)>,
        address: &str,
        slot: u64,
        data: &[u8],
        account: &Account,
    ) -> Result<(), StoreError> {
        let kind = account.kind();
        let columns = store::columns(account);
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let placeholders: Vec<String> = (5..5 + columns.len()).map(|i| format!("${i}")).collect();
        let updates: Vec<String> =
            ["slot", "revision", "data"].iter().chain(&names).map(|name| format!("{name} = excluded.{name}")).collect();
        let sql = format!(
            "INSERT INTO {} (address, slot, revision, data, {}) VALUES ($1, $2, $3, $4, {})
             ON CONFLICT (address) DO UPDATE SET {}",
            kind.table(),
            names.join(", "),
            placeholders.join(", "),
            updates.join(", ")
        );
        let mut values = vec![
            Param::Text(address.to_owned()),
            Param::from_sqlite(sql_u64(slot)),
            Param::from_sqlite(sql_u64(account.revision())),
            Param::Bytes(data.to_vec()),
        ];
        values.extend(columns.into_iter().map(|(_, value)| Param::from_sqlite(value)));
        writes.push((tx.prepare_cached(&sql).await?, values));
        if let Account::Dataset(dataset) = account {
            let tags = decode::tags(dataset);
            let lowered: Vec<String> = tags.iter().map(|tag| tag.to_lowercase()).collect();
            let tag_params = vec![Param::Text(address.to_owned()), Param::TextArray(lowered)];
            writes.push((
                tx.prepare_cached("DELETE FROM dataset_tags WHERE address = $1 AND tag <> ALL ($2::text[])").await?,
                tag_params.clone(),
            ));
            writes.push((
                tx.prepare_cached(
                    "INSERT INTO dataset_tags (address, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
                )
                .await?,
                tag_params,
            ));
            // the job first: the document takes the fetched text only while the uri stays the same
            let (cid, status, error) = metadata_job(&dataset.metadata_uri);
            let text_or_null = |value: Option<String>| value.map(Param::Text).unwrap_or(Param::Null);
            writes.push((
                tx.prepare_cached(ENQUEUE_METADATA).await?,
                vec![
                    Param::Text(address.to_owned()),
                    Param::Text(dataset.metadata_uri.clone()),
                    text_or_null(cid),
                    Param::Text(status),
                    text_or_null(error),
                ],
            ));
            writes.push((
                tx.prepare_cached(self.text.put_sql()).await?,
                vec![Param::Text(address.to_owned()), Param::Text(dataset.title.clone()), Param::Text(tags.join(" "))],
            ));
        }
        Ok(())
    }

    async fn read_indexed_slot(&self) -> Result<Option<u64>, StoreError> {
        let client = self.pool.get().await?;
        let row =
            client.query_typed("SELECT value FROM meta WHERE key = 'indexed_slot'", &[]).await?.into_iter().next();
        Ok(row.and_then(|row| row.get::<_, String>(0).parse().ok()))
    }

    async fn search_datasets(&self, search: &Search) -> Result<Json, QueryError> {
        let built = build_search(self.text.as_ref(), search)?;
        let client = self.pool.get().await?;
        let (params, typed) = (built.params.typed(), built.filter_params.typed());
        let page = client.query_typed(&built.sql, &params);
        // facets (over the whole result, not the page): categories and states in one pass
        // (grouping sets), tags in another, pipelined with the page on the same connection; for
        // the whole listed catalogue, the counts the triggers keep
        let (from, filters) = (&built.from, &built.filters);
        let by_field = format!(
            "SELECT GROUPING(d.category) = 0, COALESCE(d.category, d.state), count(*) FROM {from} WHERE {filters} \
             GROUP BY GROUPING SETS ((d.category), (d.state))"
        );
        let by_tag = format!(
            "SELECT t.tag, count(*) FROM {from} JOIN dataset_tags t ON t.address = d.address \
             WHERE {filters} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50"
        );
        let whole_catalogue = search.facets && !built.text && search.is_whole_catalogue();
        let (rows, facet_rows) = if whole_catalogue {
            let listed = "SELECT facet = 'category', value, count FROM listed_facets WHERE facet <> 'tag' AND count > 0";
            let tags = "SELECT value, count FROM listed_facets WHERE facet = 'tag' AND count > 0 \
                        ORDER BY count DESC, value LIMIT 50";
            let (rows, fields, tags) =
                tokio::try_join!(page, client.query_typed(listed, &[]), client.query_typed(tags, &[]))?;
            (rows, Some((fields, tags)))
        } else if search.facets {
            let (rows, fields, tags) = tokio::try_join!(
                page,
                client.query_typed(&by_field, &typed),
                client.query_typed(&by_tag, &typed)
            )?;
            (rows, Some((fields, tags)))
        } else {
            (page.await?, None)
        };
        let mut items = Vec::new();
        let mut last = None;
        for row in rows.iter().take(built.limit) {
            let mut value = item(row);
            let key = if built.float_key {
                let score: f64 = row.get(ITEM_COLUMN_COUNT);
                if built.text {
                    value["score"] = json!(-score);
                }
                Value::Real(score)
            } else {
                Value::Integer(row.get(ITEM_COLUMN_COUNT))
            };
            last = Some((key, value["address"].as_str().unwrap_or_default().to_owned()));
            items.push(value);
        }
        let next_cursor = match (rows.len() > built.limit, last) {
            (true, Some((key, address))) => Some(query::encode_cursor(&key, &address)),
            _ => None,
        };
        let mut out =
            json!({ "items": items, "next_cursor": next_cursor, "sort": format!("{:?}", built.sort).to_lowercase() });
        if let Some((fields, tags)) = facet_rows {
            // the SQLite store's order: most frequent first, then by value
            let ordered = |mut counts: Vec<(String, i64)>| {
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Json::Object(counts.into_iter().map(|(value, count)| (value, json!(count))).collect())
            };
            let (mut categories, mut states) = (Vec::new(), Vec::new());
            for row in &fields {
                let entry = (row.get::<_, String>(1), row.get::<_, i64>(2));
                if row.get::<_, bool>(0) {
                    categories.push(entry);
                } else {
                    states.push(entry);
                }
            }
            let tags = tags.iter().map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1))).collect();
            out["facets"] = json!({ "category": ordered(categories), "state": ordered(states), "tag": ordered(tags) });
        }
        Ok(out)
    }

    async fn read_dataset(&self, address: &str) -> Result<Option<Json>, QueryError> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT {ITEM_COLUMNS}, d.data FROM datasets d WHERE d.address = $1");
        let address = Param::Text(address.to_owned());
        let rows = client.query_typed(&sql, &[(&address as &(dyn ToSql + Sync), Type::TEXT)]).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let mut summary = item(row);
        query::with_account(&mut summary, &row.get::<_, Vec<u8>>(ITEM_COLUMN_COUNT));
        Ok(Some(summary))
    }

    async fn read_list(&self, list: &List) -> Result<Json, QueryError> {
        let mut params = Params::default();
        params.bind(Param::Text(list.value.clone()));
        let mut filter = list.filter.replace("?1", "$1");
        if let Some(cursor) = &list.cursor {
            let (key, address) = query::decode_cursor(cursor)?;
            let key = params.bind(Param::Int(match key {
                Value::Integer(n) => n,
                Value::Real(r) => r as i64,
                _ => return Err(QueryError::BadCursor),
            }));
            let address = params.bind(Param::Text(address));
            filter = format!("({filter}) AND (x.{order}, x.address) < ({key}, {address})", order = list.order);
        }
        let limit = list.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let sql = format!(
            "SELECT x.*, x.{order} FROM {table} x WHERE {filter} ORDER BY x.{order} DESC, x.address DESC LIMIT {}",
            limit + 1,
            order = list.order,
            table = list.table,
        );
        let client = self.pool.get().await?;
        let rows = client.query_typed(&sql, &params.typed()).await?;
        let mut items = Vec::new();
        let mut last = None;
        for row in rows.iter().take(limit) {
            let key_index = row.len() - 1;
            let item = row_json(row, key_index);
            last = Some((Value::Integer(row.get(key_index)), item["address"].as_str().unwrap_or_default().to_owned()));
            items.push(item);
        }
        let next_cursor = match (rows.len() > limit, last) {
            (true, Some((key, address))) => Some(query::encode_cursor(&key, &address)),
            _ => None,
        };
        Ok(json!({ "items": items, "next_cursor": next_cursor }))
    }

    /// The activity feed's rows for these transactions (the dataset and licence of a closed
    /// account read from its row, before the close removes it), then the closes.
    async fn record_transactions(&self, transactions: &[TransactionEvents]) -> Result<(usize, Applied), StoreError> {
        let mut new = 0;
        {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO activity (signature, idx, slot, name, dataset, license, fields)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (signature, idx) DO NOTHING",
                )
                .await?;
            for transaction in transactions {
                for (index, event) in transaction.events.iter().enumerate() {
                    let (dataset, license) = match crate::events::closed_account(event) {
                        Some(account) => closed_subjects(&tx, account).await?,
                        None => (event.dataset.clone(), event.license.clone()),
                    };
                    let slot = i64::try_from(transaction.slot).unwrap_or(i64::MAX);
                    new += tx
                        .execute(
                            &insert,
                            &[
                                &transaction.signature,
                                &(index as i64),
                                &slot,
                                &event.name,
                                &dataset,
                                &license,
                                &event.fields.to_string(),
                            ],
                        )
                        .await? as usize;
                }
            }
            tx.commit().await?;
        }
        let closes: Vec<Update> = transactions
            .iter()
            .flat_map(|tx| {
                tx.events.iter().filter_map(crate::events::closed_account).map(|address| Update::Close {
                    address: address.to_owned(),
                    slot: tx.slot,
                })
            })
            .collect();
        let applied = if closes.is_empty() { Applied::default() } else { self.apply_batch(&closes).await? };
        Ok((new, applied))
    }

    async fn read_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let client = self.pool.get().await?;
        let row = client.query_opt("SELECT value FROM meta WHERE key = $1", &[&key]).await?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn write_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .await?;
        Ok(())
    }

    async fn read_activity(&self, page: &PageRequest) -> Result<Json, QueryError> {
        let mut params = Params::default();
        let mut filters = Vec::new();
        match &page.scope {
            Scope::All => {}
            Scope::Dataset(address) => filters.push(format!("dataset = {}", params.bind(Param::Text(address.clone())))),
            Scope::License(address) => filters.push(format!("license = {}", params.bind(Param::Text(address.clone())))),
        }
        if let Some(name) = &page.name {
            filters.push(format!("name = {}", params.bind(Param::Text(name.clone()))));
        }
        if let Some(cursor) = &page.cursor {
            let (slot, signature, index) = activity::decode_cursor(cursor)?;
            let slot = params.bind(Param::Int(slot));
            let signature = params.bind(Param::Text(signature));
            let index = params.bind(Param::Int(index));
            filters.push(format!("(slot, signature, idx) < ({slot}, {signature}, {index})"));
        }
        let limit = page.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let filter = if filters.is_empty() { "true".to_owned() } else { filters.join(" AND ") };
        let sql = format!(
            "SELECT signature, idx, slot, name, dataset, license, fields FROM activity WHERE {filter}
             ORDER BY slot DESC, signature DESC, idx DESC LIMIT {}",
            limit + 1
        );
        let client = self.pool.get().await?;
        let rows = client.query_typed(&sql, &params.typed()).await?;
        let mut items = Vec::new();
        let mut last = None;
        for row in rows.iter().take(limit) {
            let (signature, index, slot): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
            let fields: String = row.get(6);
            items.push(json!({
                "signature": signature,
                "index": index,
                "slot": slot,
                "name": row.get::<_, String>(3),
                "dataset": row.get::<_, Option<String>>(4),
                "license": row.get::<_, Option<String>>(5),
                "fields": serde_json::from_str::<Json>(&fields).unwrap_or(Json::Null),
            }));
            last = Some(activity::encode_cursor(slot, &signature, index));
        }
        let next_cursor = if rows.len() > limit { last } else { None };
        Ok(json!({ "items": items, "next_cursor": next_cursor }))
    }

    async fn read_open_accounts(&self) -> Result<OpenAccounts, StoreError> {
        let client = self.pool.get().await?;
        let rows = client.query_typed("SELECT address, kind, revision FROM accounts WHERE closed = 0", &[]).await?;
        let mut out = OpenAccounts::with_capacity(rows.len());
        for row in rows {
            let kind: Option<String> = row.get(1);
            if let Some(kind) = kind.as_deref().and_then(Kind::from_name) {
                out.insert(row.get(0), (kind, row.get::<_, i64>(2) as u64));
            }
        }
        Ok(out)
    }

    async fn read_dump(&self) -> Result<Vec<String>, StoreError> {
        let client = self.pool.get().await?;
        let mut out = Vec::new();
        for (table, columns) in DUMP_TABLES {
            for row in client.query_typed(&format!("SELECT {columns} FROM {table} ORDER BY 1, 2"), &[]).await? {
                let values: Vec<String> = (0..row.len()).map(|i| cell_text(&row, i)).collect();
                out.push(format!("{table}: {}", values.join(" | ")));
            }
        }
        Ok(out)
    }
}

/// Queues a dataset's metadata fetch for a uri (see `store::enqueue_metadata`): `$1` address, `$2`
/// uri, `$3` CID, `$4` status, `$5` error.
const ENQUEUE_METADATA: &str = "INSERT INTO dataset_metadata (address, uri, cid, status, last_error)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (address) DO UPDATE SET uri = excluded.uri, cid = excluded.cid, status = excluded.status,
        attempts = 0, last_error = excluded.last_error, next_attempt_ms = 0, fetched_at = NULL, title = NULL,
        description = NULL, file_name = NULL, plaintext_bytes = NULL, sha256 = NULL, indexed_text = ''
    WHERE dataset_metadata.uri <> excluded.uri";

/// A new job's CID, status and error for a uri (`metadata::classify`).
fn metadata_job(uri: &str) -> (Option<String>, String, Option<String>) {
    match crate::metadata::classify(uri) {
        Ok(cid) => (Some(cid.to_string()), crate::metadata::Status::Pending.as_str().to_owned(), None),
        Err((status, why)) => (None, status.as_str().to_owned(), Some(why)),
    }
}

/// The slot-guarded upsert of the registry (the SQLite store's guard word for word), returning
/// the registry row's kind as it was and whether it applied.
const GUARD_UPSERT: &str = "WITH previous AS (SELECT kind FROM accounts WHERE address = $1),
    applied AS (
        INSERT INTO accounts (address, kind, slot, revision, closed) VALUES ($1, $2, $3, $4, 0)
        ON CONFLICT (address) DO UPDATE SET
            kind = excluded.kind, slot = excluded.slot, revision = excluded.revision, closed = 0
        WHERE (accounts.closed = 1 AND excluded.slot > accounts.slot)
           OR (accounts.closed = 0 AND (excluded.slot > accounts.slot
               OR (excluded.slot = accounts.slot AND excluded.revision >= accounts.revision)))
        RETURNING 1
    )
    SELECT (SELECT kind FROM previous), (SELECT count(*) FROM applied)";

/// A close at a slot unless the store holds a later observation (a close wins a tie), leaving a
/// tombstone; returns the registry row's kind and closed flag as they were and whether it applied.
const GUARD_CLOSE: &str = "WITH previous AS (SELECT kind, closed FROM accounts WHERE address = $1),
    applied AS (
        INSERT INTO accounts (address, kind, slot, revision, closed) VALUES ($1, NULL, $2, 0, 1)
        ON CONFLICT (address) DO UPDATE SET slot = excluded.slot, closed = 1, kind = NULL, revision = 0
        WHERE excluded.slot > accounts.slot OR (accounts.closed = 0 AND excluded.slot = accounts.slot)
        RETURNING 1
    )
    SELECT (SELECT kind FROM previous), (SELECT closed FROM previous), (SELECT count(*) FROM applied)";

/// Drives statements on one connection together: each is first polled, so sent, in the order
/// given (tokio-postgres pipelines them and the server runs them in that order); their results
/// come back in the same order. The first error ends it (the transaction then rolls back).
/// The dataset and licence a closed account belonged to (see `activity::record`).
async fn closed_subjects(
    tx: &tokio_postgres::Transaction<'_>,
    account: &str,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let kind: Option<String> = tx
        .query_opt("SELECT kind FROM accounts WHERE address = $1", &[&account])
        .await?
        .and_then(|row| row.get(0));
    let pair = |table: &str| {
        format!("SELECT dataset, {} FROM {table} WHERE address = $1", if table == "allow_list_entries" { "NULL::text" } else { "license" })
    };
    Ok(match kind.as_deref() {
        Some("dataset") => (Some(account.to_owned()), None),
        Some("license") => {
            let dataset = tx.query_opt("SELECT dataset FROM licenses WHERE address = $1", &[&account]).await?;
            (dataset.map(|row| row.get(0)), Some(account.to_owned()))
        }
        Some(kind @ ("usage_receipt" | "review" | "dispute" | "allow_list_entry")) => {
            let table = Kind::from_name(kind).map(Kind::table).unwrap_or("disputes");
            match tx.query_opt(&pair(table), &[&account]).await? {
                Some(row) => (row.get(0), row.get(1)),
                None => (None, None),
            }
        }
        _ => (None, None),
    })
}

async fn in_order<T, E>(mut futures: Vec<BoxFuture<'_, Result<T, E>>>) -> Result<Vec<T>, E> {
    use std::task::Poll;
    let mut done: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let mut next = 0;
    std::future::poll_fn(|cx| {
        // everything before `next` has finished: poll from there on
        for (i, future) in futures.iter_mut().enumerate().skip(next) {
            if done[i].is_some() {
                continue;
            }
            match future.as_mut().poll(cx) {
                Poll::Ready(Ok(value)) => done[i] = Some(value),
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {}
            }
        }
        while next < done.len() && done[next].is_some() {
            next += 1;
        }
        if next == done.len() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok(done.into_iter().map(|value| value.expect("finished")).collect())
}

fn sql_u64(value: u64) -> Value {
    // BIGINT is i64, like SQLite's integers: chain amounts and slots stay far below 2^63
    Value::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

/// A cell as `IndexStore::dump` renders it (the SQLite store's rendering).
fn cell_text(row: &Row, i: usize) -> String {
    let ty = row.columns()[i].type_().clone();
    let text = match ty {
        Type::INT2 => row.get::<_, Option<i16>>(i).map(|v| v.to_string()),
        Type::INT4 => row.get::<_, Option<i32>>(i).map(|v| v.to_string()),
        Type::INT8 => row.get::<_, Option<i64>>(i).map(|v| v.to_string()),
        Type::FLOAT8 => row.get::<_, Option<f64>>(i).map(|v| v.to_string()),
        Type::BYTEA => row.get::<_, Option<Vec<u8>>>(i).map(|v| decode::hex(&v)),
        _ => row.get::<_, Option<String>>(i),
    };
    text.unwrap_or_else(|| "NULL".to_owned())
}

/// A search's page query, its parameters, and what the facet queries reuse.
struct BuiltSearch {
    sql: String,
    params: Params,
    /// The result set without the cursor: facets count over it.
    from: String,
    filters: String,
    filter_params: Params,
    limit: usize,
    sort: Sort,
    /// The sort key is a real (relevance score, rating), not an integer.
    float_key: bool,
    /// A text query is part of it.
    text: bool,
}

const ITEM_COLUMNS: &str = "d.address, d.slot, d.revision, d.owner, d.title, d.category, d.state, d.price, \
     d.payment_mint, d.licenses_sold, d.rating_avg, d.rating_count, d.created_at, d.updated_at, d.metadata_uri, \
     (SELECT string_agg(t.tag, ' ' ORDER BY t.tag) FROM dataset_tags t WHERE t.address = d.address), \
     (SELECT json_build_object('status', dm.status, 'cid', dm.cid, 'attempts', dm.attempts, 'last_error', dm.last_error, \
         'fetched_at', dm.fetched_at, 'title', dm.title, 'description', dm.description, 'file_name', dm.file_name, \
         'plaintext_bytes', dm.plaintext_bytes, 'sha256', dm.sha256)::text FROM dataset_metadata dm WHERE dm.address = d.address)";

/// Columns of `ITEM_COLUMNS`: what follows them in a row (a sort key, the account data) starts here.
const ITEM_COLUMN_COUNT: usize = 17;

/// The sort key's SQL, whether it descends, and whether it is a real (see `query::Sort::key`).
fn sort_key(sort: Sort, text: bool) -> (&'static str, bool, bool) {
    match sort {
        Sort::Relevance if text => ("m.score", false, true),
        Sort::Relevance | Sort::Newest => ("d.created_at", true, false),
        Sort::Rating => ("COALESCE(d.rating_avg, -1.0)", true, true),
        Sort::Sales => ("d.licenses_sold", true, false),
        Sort::Price => ("d.price", false, false),
        Sort::PriceDesc => ("d.price", true, false),
    }
}

/// The same query as `query::search`, in PostgreSQL's dialect.
fn build_search(text: &dyn PgTextIndex, search: &Search) -> Result<BuiltSearch, QueryError> {
    let query = search.q.as_deref().and_then(|q| text.sanitise(q));
    let mut params = Params::default();
    let mut from = String::from("datasets d");
    if let Some(query) = &query {
        let p = params.bind(Param::Text(query.clone()));
        from = format!("({}) m JOIN datasets d ON d.address = m.address", text.matches_sql(&p));
    }
    let mut filters: Vec<String> = Vec::new();
    match &search.state {
        Some(state) => {
            let p = params.bind(Param::Text(state.clone()));
            filters.push(format!("d.state = {p}"));
        }
        None => filters.push("d.state NOT IN ('unlisted', 'revoked')".into()),
    }
    if let Some(category) = &search.category {
        let p = params.bind(Param::Text(category.clone()));
        filters.push(format!("d.category = {p}"));
    }
    for tag in &search.tags {
        let p = params.bind(Param::Text(tag.to_lowercase()));
        filters.push(format!("EXISTS (SELECT 1 FROM dataset_tags t WHERE t.address = d.address AND t.tag = {p})"));
    }
    if let Some(owner) = &search.owner {
        let p = params.bind(Param::Text(owner.clone()));
        filters.push(format!("d.owner = {p}"));
    }
    if let Some(mint) = &search.payment_mint {
        let p = params.bind(Param::Text(mint.clone()));
        filters.push(format!("d.payment_mint = {p}"));
    }
    if let Some(status) = &search.metadata_status {
        let p = params.bind(Param::Text(status.clone()));
        filters.push(format!("EXISTS (SELECT 1 FROM dataset_metadata dm WHERE dm.address = d.address AND dm.status = {p})"));
    }
    if let Some(min) = search.min_price {
        let p = params.bind(Param::Int(min.min(i64::MAX as u64) as i64));
        filters.push(format!("d.price >= {p}"));
    }
    if let Some(max) = search.max_price {
        let p = params.bind(Param::Int(max.min(i64::MAX as u64) as i64));
        filters.push(format!("d.price <= {p}"));
    }
    let filter_params = params.clone();
    let filtered_where = filters.join(" AND ");

    let sort = search.sort.unwrap_or(if query.is_some() { Sort::Relevance } else { Sort::Newest });
    let (key, descending, float_key) = sort_key(sort, query.is_some());
    if let Some(cursor) = &search.cursor {
        let (after_key, after_address) = query::decode_cursor(cursor)?;
        let after_key = match (after_key, float_key) {
            (Value::Integer(n), true) => Param::Float(n as f64),
            (Value::Integer(n), false) => Param::Int(n),
            (Value::Real(r), true) => Param::Float(r),
            (Value::Real(r), false) => Param::Int(r as i64),
            _ => return Err(QueryError::BadCursor),
        };
        let k = params.bind(after_key);
        let a = params.bind(Param::Text(after_address));
        filters.push(format!("({key}, d.address) {} ({k}, {a})", if descending { "<" } else { ">" }));
    }
    let limit = search.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let direction = if descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, {key} FROM {from} WHERE {} ORDER BY {key} {direction}, d.address {direction} LIMIT {}",
        filters.join(" AND "),
        limit + 1
    );
    Ok(BuiltSearch {
        sql,
        params,
        from,
        filters: filtered_where,
        filter_params,
        limit,
        sort,
        float_key,
        text: query.is_some(),
    })
}

fn item(row: &Row) -> Json {
    let tags: Option<String> = row.get(15);
    json!({
        "address": row.get::<_, String>(0),
        "slot": row.get::<_, i64>(1),
        "revision": row.get::<_, i64>(2),
        "owner": row.get::<_, String>(3),
        "title": row.get::<_, String>(4),
        "category": row.get::<_, String>(5),
        "state": row.get::<_, String>(6),
        "price": row.get::<_, i64>(7).to_string(),
        "payment_mint": row.get::<_, String>(8),
        "licenses_sold": row.get::<_, i64>(9),
        "rating": { "average": row.get::<_, Option<f64>>(10), "count": row.get::<_, i64>(11) },
        "created_at": row.get::<_, i64>(12),
        "updated_at": row.get::<_, i64>(13),
        "metadata_uri": row.get::<_, String>(14),
        "tags": tags.map(|t| t.split(' ').map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default(),
        "metadata": crate::metadata::api_object(row.get(16)),
    })
}

/// A list row as JSON, like `query::list`'s: amounts as strings, 0/1 flags as booleans, no raw
/// account data; columns from `end` on are not the row's.
fn row_json(row: &Row, end: usize) -> Json {
    const AMOUNT_COLUMNS: [&str; 2] = ["price", "price_paid"];
    let mut out = serde_json::Map::new();
    for (i, column) in row.columns().iter().enumerate().take(end) {
        let name = column.name();
        let value = match *column.type_() {
            Type::BYTEA => continue,
            Type::INT2 | Type::INT4 | Type::INT8 => {
                let n: Option<i64> = match *column.type_() {
                    Type::INT2 => row.get::<_, Option<i16>>(i).map(i64::from),
                    Type::INT4 => row.get::<_, Option<i32>>(i).map(i64::from),
                    _ => row.get::<_, Option<i64>>(i),
                };
                match n {
                    None => Json::Null,
                    Some(n) if AMOUNT_COLUMNS.contains(&name) => json!(n.to_string()),
                    Some(n) if matches!(name, "paid" | "purchases_paused") => json!(n != 0),
                    Some(n) => json!(n),
                }
            }
            Type::FLOAT4 | Type::FLOAT8 => json!(row.get::<_, Option<f64>>(i)),
            _ => json!(row.get::<_, Option<String>>(i)),
        };
        out.insert(if name == "idx" { "index".into() } else { name.to_owned() }, value);
    }
    Json::Object(out)
}

impl IndexStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn apply<'a>(&'a self, updates: &'a [Update]) -> BoxFuture<'a, Result<Applied, StoreError>> {
        Box::pin(self.apply_batch(updates))
    }

    fn checkpoint(&self, slot: u64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('indexed_slot', $1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value
                     WHERE excluded.value::bigint >= meta.value::bigint",
                    &[&slot.to_string()],
                )
                .await?;
            Ok(())
        })
    }

    fn indexed_slot(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(self.read_indexed_slot())
    }

    fn open_accounts(&self) -> BoxFuture<'_, Result<OpenAccounts, StoreError>> {
        Box::pin(self.read_open_accounts())
    }

    fn search<'a>(&'a self, search: &'a Search) -> BoxFuture<'a, Result<Json, QueryError>> {
        Box::pin(self.search_datasets(search))
    }

    fn dataset<'a>(&'a self, address: &'a str) -> BoxFuture<'a, Result<Option<Json>, QueryError>> {
        Box::pin(self.read_dataset(address))
    }

    fn list<'a>(&'a self, list: &'a List) -> BoxFuture<'a, Result<Json, QueryError>> {
        Box::pin(self.read_list(list))
    }

    fn dump(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.read_dump())
    }

    fn after_bulk_load(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.vacuum_analyze())
    }

    fn record_events<'a>(
        &'a self,
        transactions: &'a [TransactionEvents],
    ) -> BoxFuture<'a, Result<(usize, Applied), StoreError>> {
        Box::pin(self.record_transactions(transactions))
    }

    fn has_transaction<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            Ok(client.query_opt("SELECT 1 FROM activity WHERE signature = $1 LIMIT 1", &[&signature]).await?.is_some())
        })
    }

    fn backfilled_until(&self) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        Box::pin(self.read_meta("activity_until"))
    }

    fn set_backfilled_until<'a>(&'a self, signature: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.write_meta("activity_until", signature))
    }

    fn activity<'a>(&'a self, page: &'a PageRequest) -> BoxFuture<'a, Result<Json, QueryError>> {
        Box::pin(self.read_activity(page))
    }

    fn metadata_due(&self, now_ms: i64, limit: usize) -> BoxFuture<'_, Result<Vec<metadata::Job>, StoreError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let rows = client
                .query(
                    "SELECT address, uri, cid, attempts FROM dataset_metadata
                     WHERE status IN ('pending', 'unreachable') AND next_attempt_ms <= $1 AND cid IS NOT NULL
                     ORDER BY next_attempt_ms, address LIMIT $2",
                    &[&now_ms, &i64::try_from(limit).unwrap_or(i64::MAX)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|row| metadata::Job {
                    address: row.get(0),
                    uri: row.get(1),
                    cid: row.get(2),
                    attempts: u32::try_from(row.get::<_, i64>(3)).unwrap_or(u32::MAX),
                })
                .collect())
        })
    }

    fn complete_metadata<'a>(
        &'a self,
        job: &'a metadata::Job,
        done: &'a metadata::Completion,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.write_metadata_result(job, done))
    }

    fn metadata_health(&self) -> BoxFuture<'_, Result<Json, StoreError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let mut counts = serde_json::Map::new();
            for status in metadata::Status::ALL {
                counts.insert(status.as_str().into(), 0.into());
            }
            for row in client.query("SELECT status, count(*) FROM dataset_metadata GROUP BY status", &[]).await? {
                counts.insert(row.get(0), row.get::<_, i64>(1).into());
            }
            let gateways = self.read_meta("metadata_gateways").await?.and_then(|g| g.parse().ok());
            Ok(metadata::health_json(counts, gateways))
        })
    }

    fn set_metadata_gateways(&self, count: usize) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.write_meta("metadata_gateways", &count.to_string()).await })
    }
}

impl PgStore {
    /// See `IndexStore::complete_metadata`; under the write lock, so it orders with ingest batches.
    async fn write_metadata_result(&self, job: &metadata::Job, done: &metadata::Completion) -> Result<bool, StoreError> {
        let parsed = done.parsed.clone().unwrap_or_default();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('indexer write ' || current_schema()))", &[]).await?;
        let plaintext_bytes = parsed.plaintext_bytes.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let changed = tx
            .execute(
                "UPDATE dataset_metadata SET status = $3, attempts = $4, last_error = $5, next_attempt_ms = $6,
                     fetched_at = $7, title = $8, description = $9, file_name = $10, plaintext_bytes = $11,
                     sha256 = $12, indexed_text = $13
                 WHERE address = $1 AND uri = $2 AND status IN ('pending', 'unreachable')",
                &[
                    &job.address,
                    &job.uri,
                    &done.status.as_str(),
                    &i64::from(done.attempts),
                    &done.last_error,
                    &done.next_attempt_ms,
                    &done.fetched_at,
                    &parsed.title,
                    &parsed.description,
                    &parsed.file_name,
                    &plaintext_bytes,
                    &parsed.sha256,
                    &parsed.text,
                ],
            )
            .await?;
        if changed == 1 && done.status == metadata::Status::Ok {
            tx.execute(self.text.set_metadata_sql(), &[&job.address, &parsed.text]).await?;
        }
        tx.commit().await?;
        Ok(changed == 1)
    }
}
