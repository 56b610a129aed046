//! Indexer of the data market program: decodes its accounts and events with the program crate's
//! types, keeps them in SQLite (FTS5 for text search) or PostgreSQL (tsvector) with slot-guarded
//! writes, follows the chain over JSON-RPC and serves a read-only JSON API.

pub mod activity;
pub mod decode;
pub mod events;
pub mod fixtures;
pub mod json;
pub mod query;
pub mod store;
pub mod db;
pub mod postgres;
pub mod api;
pub mod ingest;
pub mod metadata;
pub mod rpc;
pub mod subscribe;
pub mod bench;
pub mod gen_fixtures;
