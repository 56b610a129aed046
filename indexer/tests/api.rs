//! The HTTP API over a store built from fixtures (no chain).

use std::sync::Arc;

use indexer::api::{self, Api};
use indexer::fixtures::{dataset_bytes, key, DatasetSpec};
use indexer::store::{Store, Update};
use serde_json::Value;

struct Served {
    base: String,
    dir: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn serve(name: &str) -> Served {
    let dir = std::env::temp_dir().join(format!("indexer-api-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("index.sqlite");
    let mut store = Store::open(&db).unwrap();
    let updates: Vec<Update> = (0..5u8)
        .map(|i| Update::Upsert {
            address: key(100 + i).to_string(),
            slot: 40 + u64::from(i),
            data: dataset_bytes(&DatasetSpec {
                title: format!("Corpus number {i}"),
                tags: vec!["text".into(), format!("lang{}", i % 2)],
                price: u64::from(i) * 1_000,
                created_at: 1_700_000_000 + i64::from(i),
                ..Default::default()
            }),
        })
        .collect();
    store.apply(&updates).unwrap();
    store.checkpoint(50).unwrap();
    drop(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = api::router(Arc::new(Api { db, rpc: None }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Served { base, dir }
}

async fn get(url: String) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn health_and_search_over_http() {
    let served = serve("search").await;
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
}

#[tokio::test]
async fn errors_are_json_with_a_code() {
    let served = serve("errors").await;
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

#[tokio::test]
async fn cors_allows_any_origin_to_read() {
    let served = serve("cors").await;
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
