//! The HTTP API over a store built from fixtures (no chain), on SQLite (a file, a read-only
//! connection per request) and on PostgreSQL (a pool; needs INDEXER_TEST_POSTGRES, see
//! support/backends.rs).

#[path = "support/backends.rs"]
mod backends;

use base64::Engine;
use std::sync::Arc;

use backends::Backend;
use indexer::api::{self, Api};
use indexer::db::{IndexStore, SqliteStore};
use indexer::fixtures::{dataset_bytes, key, license_bytes, review_bytes, DatasetSpec};
use indexer::postgres::PgStore;
use indexer::store::Update;
use serde_json::Value;

struct Served {
    base: String,
    dir: std::path::PathBuf,
    postgres: Option<Arc<PgStore>>,
}

impl Served {
    async fn finish(self) {
        if let Some(postgres) = &self.postgres {
            postgres.drop_schema().await.unwrap();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `$test(served)` over each backend: `sqlite::$test`, `postgres::$test`.
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $test() {
                let served = super::serve(stringify!($test), super::Backend::Sqlite).await.unwrap();
                super::$test(&served).await;
                served.finish().await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $test() {
                let Some(served) = super::serve(stringify!($test), super::Backend::Postgres).await else { return };
                super::$test(&served).await;
                served.finish().await;
            })*
        }
    };
}

on_both_stores!(health_and_search_over_http, errors_are_json_with_a_code, cors_allows_any_origin_to_read, related_lists_page_newest_first);

fn corpus(i: u8) -> DatasetSpec {
    DatasetSpec {
        title: format!("Corpus number {i}"),
        tags: vec!["text".into(), format!("lang{}", i % 2)],
        price: u64::from(i) * 1_000,
        created_at: 1_700_000_000 + i64::from(i),
        ..Default::default()
    }
}

async fn serve(name: &str, backend: Backend) -> Option<Served> {
    let dir = std::env::temp_dir().join(format!("indexer-api-{name}-{backend:?}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (store, postgres): (Arc<dyn IndexStore>, _) = match backend {
        Backend::Sqlite => (Arc::new(SqliteStore::open(&dir.join("index.sqlite")).unwrap()), None),
        Backend::Postgres => {
            let url = backends::postgres_url(name)?;
            let postgres = Arc::new(PgStore::scratch(&url, "api").await.unwrap());
            (postgres.clone(), Some(postgres))
        }
    };
    let updates: Vec<Update> = (0..5u8)
        .map(|i| Update::Upsert {
            address: key(100 + i).to_string(),
            slot: 40 + u64::from(i),
            data: dataset_bytes(&corpus(i)),
        })
        .collect();
    store.apply(&updates).await.unwrap();
    // three licences of the first dataset (two buyers) and a review
    let licenses: Vec<Update> = (0..3u8)
        .map(|i| Update::Upsert {
            address: key(200 + i).to_string(),
            slot: 48,
            data: license_bytes(1 + u64::from(i), key(100), key(60 + i % 2)),
        })
        .chain([Update::Upsert { address: key(210).to_string(), slot: 49, data: review_bytes(1, key(200), key(100), 5) }])
        .collect();
    store.apply(&licenses).await.unwrap();
    store.checkpoint(50).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = api::router(Arc::new(Api { store, rpc: None }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Some(Served { base, dir, postgres })
}

async fn get(url: String) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap_or(Value::Null))
}

async fn health_and_search_over_http(served: &Served) {
    let (status, _, health) = get(format!("{}/v1/health", served.base)).await;
    assert_eq!(status, 200);
    assert_eq!((health["indexed_slot"].as_u64(), health["chain_slot"].as_u64()), (Some(50), None));

    let (status, _, page) = get(format!("{}/v1/datasets?q=corpus&tags=lang1&sort=price_desc&limit=1", served.base)).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["title"], "Corpus number 3");
    assert_eq!(page["items"][0]["slot"], 43);
    assert_eq!(page["indexed_slot"], 50);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, _, next) =
        get(format!("{}/v1/datasets?q=corpus&tags=lang1&sort=price_desc&limit=1&cursor={cursor}", served.base)).await;
    assert_eq!(next["items"][0]["title"], "Corpus number 1");
    assert!(next["next_cursor"].is_null());

    let (status, _, detail) = get(format!("{}/v1/datasets/{}", served.base, key(102))).await;
    assert_eq!(status, 200);
    assert_eq!(detail["account"]["price"], "2000");
    assert!(detail.get("raw").is_none(), "bytes only on request");
    let (_, _, with_bytes) = get(format!("{}/v1/datasets/{}?raw=true", served.base, key(102))).await;
    let raw = base64::engine::general_purpose::STANDARD.decode(with_bytes["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw, dataset_bytes(&corpus(2)), "the account's bytes as indexed at slot {}", with_bytes["slot"]);
}

async fn errors_are_json_with_a_code(served: &Served) {
    for (path, status, code) in [
        ("/v1/datasets?sort=cheapest", 400, "bad_sort"),
        ("/v1/datasets?cursor=not-a-cursor", 400, "bad_cursor"),
        ("/v1/datasets/nothing-here", 404, "not_found"),
        ("/v2/datasets", 404, "not_found"),
        ("/v1/datasets?min_slot=51", 503, "min_slot_not_reached"),
    ] {
        let (got, headers, body) = get(format!("{}{path}", served.base)).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(code)), "{path}");
        if status == 503 {
            assert_eq!(headers["retry-after"], "1");
        }
    }
    let (status, _, _) = get(format!("{}/v1/datasets?min_slot=50", served.base)).await;
    assert_eq!(status, 200);
    // read-only
    let response = reqwest::Client::new().post(format!("{}/v1/datasets", served.base)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

async fn cors_allows_any_origin_to_read(served: &Served) {
    let response = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/v1/datasets", served.base))
        .header("origin", "https://app.example.test")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(response.headers()["access-control-allow-methods"].to_str().unwrap().contains("GET"));
}

async fn related_lists_page_newest_first(served: &Served) {
    let (status, _, page) = get(format!("{}/v1/datasets/{}/licenses?limit=2", served.base, key(100))).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["price_paid"], "1000000");
    assert_eq!(page["items"][0]["state"], "awaiting_key");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, _, rest) = get(format!("{}/v1/datasets/{}/licenses?limit=2&cursor={cursor}", served.base, key(100))).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());

    let (_, _, reviews) = get(format!("{}/v1/datasets/{}/reviews", served.base, key(100))).await;
    assert_eq!((reviews["items"][0]["rating"].as_u64(), reviews["items"][0]["paid"].as_bool()), (Some(5), Some(true)));
    let (_, _, mine) = get(format!("{}/v1/licensees/{}/licenses", served.base, key(61))).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // every fixture dataset has owner key(1); all three licences wait for their key
    let (_, _, pending) = get(format!("{}/v1/owners/{}/pending-deliveries", served.base, key(1))).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 3);
    let (_, _, owned) = get(format!("{}/v1/owners/{}/datasets", served.base, key(1))).await;
    assert_eq!(owned["items"].as_array().unwrap().len(), 5);
    let (status, _, _) = get(format!("{}/v1/datasets/{}/everything", served.base, key(100))).await;
    assert_eq!(status, 404);
    let license = mine["items"][0]["address"].as_str().unwrap();
    let (status, _, receipts) = get(format!("{}/v1/licenses/{license}/receipts", served.base)).await;
    assert_eq!((status, receipts["items"].as_array().map(Vec::len)), (200, Some(0)));
    let (status, _, activity) = get(format!("{}/v1/licenses/{license}/activity", served.base)).await;
    assert_eq!((status, activity["items"].is_array()), (200, true));
    let (status, _, _) = get(format!("{}/v1/licenses/{license}/everything", served.base)).await;
    assert_eq!(status, 404);
}
