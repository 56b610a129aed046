//! The metadata queue against a real HTTP trustless gateway served inside the test (axum): verified
//! files are indexed and searchable through the store and the API, tampered ones are refused,
//! failing or hanging gateways are retried until they recover, and a uri change racing a fetch in
//! flight keeps the newer uri's result. On SQLite and on PostgreSQL (INDEXER_TEST_POSTGRES, see
//! support/backends.rs).

#[path = "support/backends.rs"]
mod backends;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use backends::{Backend, TestStore};
use indexer::api::{self, Api};
use indexer::db::IndexStore;
use indexer::fixtures::{dataset_bytes, key, DatasetSpec};
use indexer::metadata::encode::{car, raw_cid, unixfs_file};
use indexer::metadata::{self, Cid, Completion, Fetcher, Job, QueueConfig, Status, METADATA_FORMAT};
use indexer::query::Search;
use indexer::store::Update;
use serde_json::{json, Value};

/// How the test gateway answers for a CID.
#[derive(Clone, Debug, PartialEq)]
enum Mode {
    Serve,
    /// The right bytes with one bit flipped.
    Tamper,
    Status(u16),
    /// Never answers.
    Hang,
    /// Answers once the test releases it.
    HoldUntilReleased,
}

/// A file's root CID and every block of it.
type Dag = (Cid, Vec<(Cid, Vec<u8>)>);

#[derive(Default)]
struct Gateway {
    /// Every block by CID text.
    blocks: Mutex<HashMap<String, Vec<u8>>>,
    /// Every file's blocks by its root CID (what a CAR of it holds).
    dags: Mutex<HashMap<String, Dag>>,
    modes: Mutex<HashMap<String, Mode>>,
    /// (CID, format, Accept header) of every request, and the ones answered.
    requests: Mutex<Vec<(String, String, String)>>,
    answered: Mutex<Vec<String>>,
    release: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Gateway {
    /// Adds a file as @helia/unixfs would (raw leaves of `chunk` bytes); returns its CID.
    fn add(&self, content: &[u8], chunk: usize) -> String {
        let (root, blocks) = unixfs_file(content, chunk);
        for (cid, block) in &blocks {
            self.blocks.lock().unwrap().insert(cid.to_string(), block.clone());
        }
        self.dags.lock().unwrap().insert(root.to_string(), (root.clone(), blocks));
        root.to_string()
    }

    fn set(&self, cid: &str, mode: Mode) {
        self.modes.lock().unwrap().insert(cid.to_owned(), mode);
    }

    fn requests_for(&self, cid: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|(c, ..)| c == cid).count()
    }
}

async fn ipfs(
    State(gateway): State<Arc<Gateway>>,
    Path(cid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let format = query.get("format").cloned().unwrap_or_default();
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    gateway.requests.lock().unwrap().push((cid.clone(), format.clone(), accept));
    let mode = gateway.modes.lock().unwrap().get(&cid).cloned().unwrap_or(Mode::Serve);
    match mode {
        Mode::Status(code) => return StatusCode::from_u16(code).unwrap().into_response(),
        Mode::Hang => std::future::pending::<()>().await,
        Mode::HoldUntilReleased => {
            let mut release = gateway.release.clone().expect("a release channel");
            let _ = release.wait_for(|released| *released).await;
        }
        Mode::Serve | Mode::Tamper => {}
    }
    let body = match format.as_str() {
        "raw" => gateway.blocks.lock().unwrap().get(&cid).cloned(),
        "car" => gateway.dags.lock().unwrap().get(&cid).map(|(root, blocks)| car(root, blocks)),
        _ => return StatusCode::NOT_ACCEPTABLE.into_response(),
    };
    let Some(mut body) = body else { return StatusCode::NOT_FOUND.into_response() };
    if mode == Mode::Tamper {
        let last = body.len() - 1;
        body[last] ^= 1;
    }
    gateway.answered.lock().unwrap().push(cid);
    body.into_response()
}

/// Serves `gateway` on a free loopback port; returns its base URL.
async fn serve_gateway(gateway: Arc<Gateway>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new().route("/ipfs/{cid}", get(ipfs)).with_state(gateway);
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn metadata_file(title: &str, description: &str) -> Vec<u8> {
    json!({
        "format": METADATA_FORMAT,
        "name": format!("License: {title}"),
        "symbol": "DLIC",
        "title": title,
        "description": description,
        "fileName": "records.csv",
        "plaintextBytes": 4_096,
        "sha256": "ab".repeat(32),
        "ciphertextCid": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "ciphertextBytes": 4_200,
        "chunkSize": 65_536,
        "ownerSealedKey": "AAAA",
    })
    .to_string()
    .into_bytes()
}

fn dataset(n: u8, slot: u64, revision: u64, title: &str, uri: &str) -> Update {
    Update::Upsert {
        address: key(n).to_string(),
        slot,
        data: dataset_bytes(&DatasetSpec {
            revision,
            title: title.into(),
            metadata_uri: uri.into(),
            ..Default::default()
        }),
    }
}

fn fast_queue() -> QueueConfig {
    QueueConfig {
        concurrency: 4,
        poll: Duration::from_millis(20),
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(200),
        unreachable_after: 2,
    }
}

fn start_queue(store: &Arc<dyn IndexStore>, fetcher: Fetcher, config: QueueConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(metadata::run_queue(store.clone(), Arc::new(fetcher), config, |_, _, _, _| {}))
}

async fn metadata_of(store: &dyn IndexStore, n: u8) -> Value {
    store.dataset(&key(n).to_string()).await.unwrap().expect("the dataset")["metadata"].clone()
}

/// Polls dataset `n`'s metadata until `done` holds (10 s at most).
async fn wait_for(store: &dyn IndexStore, n: u8, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metadata = metadata_of(store, n).await;
        if done(&metadata) {
            return metadata;
        }
        assert!(tokio::time::Instant::now() < deadline, "dataset {n}: {what}; metadata is {metadata}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn found(store: &dyn IndexStore, q: &str) -> Vec<String> {
    let result = store.search(&Search { q: Some(q.into()), ..Default::default() }).await.unwrap();
    result["items"].as_array().unwrap().iter().map(|item| item["address"].as_str().unwrap().to_owned()).collect()
}

macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let store = super::TestStore::new(super::Backend::Sqlite, stringify!($test)).await.unwrap();
                super::$test(&store.store).await;
                store.finish().await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let Some(store) = super::TestStore::new(super::Backend::Postgres, stringify!($test)).await else { return };
                super::$test(&store.store).await;
                store.finish().await;
            })*
        }
    };
}

on_both_stores!(
    verified_metadata_is_indexed_and_served_and_bad_files_get_their_status,
    failing_and_hanging_gateways_are_retried_until_they_recover,
    a_new_uri_wins_over_a_fetch_in_flight_for_the_old_one,
    the_job_follows_the_uri_and_a_stale_result_changes_nothing,
);

async fn verified_metadata_is_indexed_and_served_and_bad_files_get_their_status(store: &Arc<dyn IndexStore>) {
    let gateway = Arc::new(Gateway::default());
    let single = gateway.add(&metadata_file("Sea telemetry", "Anonymised walrus migration tracks"), 1 << 20);
    // several blocks: a dag-pb root over raw leaves, read from a CAR
    let long = format!("Hydrophone narwhal recordings {}", "with calibrated timestamps ".repeat(40));
    let chunked = gateway.add(&metadata_file("Arctic audio", &long), 256);
    let tampered = gateway.add(&metadata_file("Forged", "Counterfeit okapi sightings"), 1 << 20);
    gateway.set(&tampered, Mode::Tamper);
    let tampered_chunked = gateway.add(&metadata_file("Forged too", &format!("Counterfeit quokka {long}")), 256);
    gateway.set(&tampered_chunked, Mode::Tamper);
    let not_json = gateway.add(b"<html>not the metadata</html>", 1 << 20);
    let too_large = gateway.add(&metadata_file("Huge", &"x ".repeat(2_000)), 1_024);
    assert!(Cid::parse(&chunked).unwrap().to_string().starts_with("bafybei"), "dag-pb root: {chunked}");
    assert!(single.starts_with("bafkrei"), "raw block: {single}");

    store
        .apply(&[
            dataset(1, 10, 1, "Sea telemetry", &format!("ipfs://{single}")),
            dataset(2, 10, 1, "Arctic audio", &format!("ipfs://{chunked}")),
            dataset(3, 10, 1, "Forged", &format!("ipfs://{tampered}")),
            dataset(4, 10, 1, "Forged too", &format!("ipfs://{tampered_chunked}")),
            dataset(5, 10, 1, "Not json", &format!("ipfs://{not_json}")),
            dataset(6, 10, 1, "Huge", &format!("ipfs://{too_large}")),
            dataset(7, 10, 1, "Elsewhere", "https://example.test/metadata.json"),
        ])
        .await
        .unwrap();
    store.checkpoint(10).await.unwrap();
    assert_eq!(metadata_of(store.as_ref(), 1).await["status"], "pending");
    assert_eq!(metadata_of(store.as_ref(), 7).await["status"], "not_ipfs");
    assert!(found(store.as_ref(), "walrus").await.is_empty(), "not indexed before the fetch");

    // the first gateway fails every request: the second one is asked next
    let broken = Arc::new(Gateway::default());
    let broken_url = serve_gateway(broken.clone()).await;
    for cid in [&single, &chunked, &tampered, &tampered_chunked, &not_json, &too_large] {
        broken.set(cid, Mode::Status(500));
    }
    let url = serve_gateway(gateway.clone()).await;
    let fetcher = Fetcher::new(vec![broken_url, format!("{url}/")], Duration::from_secs(5)).with_max_bytes(3_000);
    let queue = start_queue(store, fetcher, fast_queue());
    let expected = [(1, "ok"), (2, "ok"), (3, "mismatch"), (4, "mismatch"), (5, "mismatch"), (6, "too_large"), (7, "not_ipfs")];
    for (n, status) in expected {
        wait_for(store.as_ref(), n, status, |m| m["status"] == status).await;
    }
    queue.abort();

    let walrus = metadata_of(store.as_ref(), 1).await;
    assert_eq!(walrus["cid"], single.as_str());
    assert_eq!(walrus["description"], "Anonymised walrus migration tracks");
    assert_eq!((walrus["file_name"].as_str(), walrus["plaintext_bytes"].as_u64()), (Some("records.csv"), Some(4_096)));
    assert!(walrus["fetched_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(metadata_of(store.as_ref(), 2).await["description"].as_str(), Some(long.as_str()));
    assert!(metadata_of(store.as_ref(), 3).await["last_error"].as_str().unwrap().contains("do not hash to"));
    assert!(metadata_of(store.as_ref(), 5).await["last_error"].as_str().unwrap().contains("not JSON"));
    assert!(metadata_of(store.as_ref(), 6).await.get("description").is_none());
    // both request kinds went out with the trustless gateway's media types
    let requests = gateway.requests.lock().unwrap().clone();
    assert!(requests.iter().any(|(c, f, a)| *c == single && f == "raw" && a == "application/vnd.ipld.raw"));
    assert!(requests.iter().any(|(c, f, a)| *c == chunked && f == "car" && a.starts_with("application/vnd.ipld.car")));
    // too large: known from the verified root, the CAR was never asked for
    assert!(!requests.iter().any(|(c, f, _)| *c == too_large && f == "car"));

    // the description's words find the dataset, the refused files' words find nothing
    assert_eq!(found(store.as_ref(), "walrus migration").await, [key(1).to_string()]);
    assert_eq!(found(store.as_ref(), "narwhal").await, [key(2).to_string()]);
    assert_eq!(found(store.as_ref(), "records").await.len(), 2, "the file name is indexed too");
    assert!(found(store.as_ref(), "okapi").await.is_empty());
    assert!(found(store.as_ref(), "quokka").await.is_empty());
    // the title still ranks first
    store.apply(&[dataset(8, 11, 1, "Walrus census", "ipfs://metadata")]).await.unwrap();
    assert_eq!(found(store.as_ref(), "walrus").await, [key(8).to_string(), key(1).to_string()]);

    // the same over HTTP
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = api::router(Arc::new(Api { store: store.clone(), rpc: None }));
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let get = |path: String| {
        let url = format!("{base}{path}");
        async move {
        let response = reqwest::get(url).await.unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, page) = get("/v1/datasets?q=narwhal".into()).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["metadata"]["status"], "ok");
    assert_eq!(page["items"][0]["metadata"]["cid"], chunked.as_str());
    let (_, detail) = get(format!("/v1/datasets/{}", key(1))).await;
    assert_eq!(detail["metadata"]["description"], "Anonymised walrus migration tracks");
    let (_, mismatched) = get("/v1/datasets?metadata_status=mismatch&sort=price".into()).await;
    let mut addresses: Vec<&str> = mismatched["items"].as_array().unwrap().iter().map(|i| i["address"].as_str().unwrap()).collect();
    addresses.sort();
    let mut expected: Vec<String> = [3, 4, 5, 8].iter().map(|&n| key(n).to_string()).collect();
    expected.sort();
    assert_eq!(addresses, expected, "the fixture uri ipfs://metadata names no CID: mismatch too");
    let (status, refused) = get("/v1/datasets?metadata_status=fine".into()).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("bad_metadata_status")));
    let (_, health) = get("/v1/health".into()).await;
    let counts = &health["metadata"];
    assert_eq!(
        (counts["ok"].as_u64(), counts["mismatch"].as_u64(), counts["too_large"].as_u64(), counts["not_ipfs"].as_u64()),
        (Some(2), Some(4), Some(1), Some(1)),
        "{health}"
    );
    assert_eq!((counts["pending"].as_u64(), counts["unreachable"].as_u64()), (Some(0), Some(0)));
    assert!(counts["gateways"].is_null(), "no ingest process recorded its gateways: {counts}");
    store.set_metadata_gateways(0).await.unwrap();
    let (_, health) = get("/v1/health".into()).await;
    assert!(health["metadata"]["note"].as_str().unwrap().contains("no IPFS gateway"), "{health}");
    server.abort();
}

async fn failing_and_hanging_gateways_are_retried_until_they_recover(store: &Arc<dyn IndexStore>) {
    let gateway = Arc::new(Gateway::default());
    let cid = gateway.add(&metadata_file("Wind", "Offshore anemometer readings"), 1 << 20);
    gateway.set(&cid, Mode::Status(404));
    let url = serve_gateway(gateway.clone()).await;
    store.apply(&[dataset(1, 10, 1, "Wind", &format!("ipfs://{cid}"))]).await.unwrap();
    let queue = start_queue(store, Fetcher::new(vec![url], Duration::from_millis(300)), fast_queue());

    // pending after the first failure, unreachable after the second (unreachable_after = 2)
    let first = wait_for(store.as_ref(), 1, "a failed attempt", |m| m["attempts"].as_u64() >= Some(1)).await;
    assert!(first["last_error"].as_str().unwrap().contains("HTTP 404"), "{first}");
    let unreachable = wait_for(store.as_ref(), 1, "unreachable", |m| m["status"] == "unreachable").await;
    assert!(unreachable["attempts"].as_u64().unwrap() >= 2);
    assert!(found(store.as_ref(), "anemometer").await.is_empty());

    // still retried: a server error, then a gateway that never answers (the request times out)
    gateway.set(&cid, Mode::Status(500));
    wait_for(store.as_ref(), 1, "an HTTP 500", |m| m["last_error"].as_str().is_some_and(|e| e.contains("HTTP 500"))).await;
    gateway.set(&cid, Mode::Hang);
    let hung = wait_for(store.as_ref(), 1, "a timeout", |m| {
        m["last_error"].as_str().is_some_and(|e| e.contains("timed out") || e.contains("timeout"))
    })
    .await;
    assert_eq!(hung["status"], "unreachable");
    let attempts_while_failing = hung["attempts"].as_u64().unwrap();
    assert!(attempts_while_failing >= 4, "{hung}");

    // the gateway recovers: the next retry succeeds
    gateway.set(&cid, Mode::Serve);
    let ok = wait_for(store.as_ref(), 1, "ok after recovery", |m| m["status"] == "ok").await;
    assert!(ok["last_error"].is_null());
    assert!(ok["attempts"].as_u64().unwrap() > attempts_while_failing);
    assert_eq!(found(store.as_ref(), "anemometer").await, [key(1).to_string()]);
    // an ok job is finished: no further requests
    let asked = gateway.requests_for(&cid);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gateway.requests_for(&cid), asked);
    queue.abort();
}

async fn a_new_uri_wins_over_a_fetch_in_flight_for_the_old_one(store: &Arc<dyn IndexStore>) {
    let (release, released) = tokio::sync::watch::channel(false);
    let gateway = Arc::new(Gateway { release: Some(released), ..Default::default() });
    let old = gateway.add(&metadata_file("Birds", "Obsolete pelican counts"), 1 << 20);
    let new = gateway.add(&metadata_file("Birds", "Corrected flamingo counts"), 1 << 20);
    gateway.set(&old, Mode::HoldUntilReleased);
    let url = serve_gateway(gateway.clone()).await;
    store.apply(&[dataset(1, 10, 1, "Birds", &format!("ipfs://{old}"))]).await.unwrap();
    let queue = start_queue(store, Fetcher::new(vec![url], Duration::from_secs(10)), fast_queue());

    // the old uri's fetch is in flight when the dataset changes its uri
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while gateway.requests_for(&old) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the old uri was never fetched");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // the new uri's gateway fails at first, so its job is still open when the old result lands
    gateway.set(&new, Mode::Status(502));
    store.apply(&[dataset(1, 11, 2, "Birds", &format!("ipfs://{new}"))]).await.unwrap();
    let failing = wait_for(store.as_ref(), 1, "the new uri tried", |m| m["attempts"].as_u64() >= Some(1)).await;
    assert_eq!(failing["cid"], new.as_str());

    // the old fetch now completes with correct bytes for the old uri: it must not apply
    release.send(true).unwrap();
    while !gateway.answered.lock().unwrap().contains(&old) {
        assert!(tokio::time::Instant::now() < deadline, "the old fetch never finished");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // its result reaches the store within the queue's next turn
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = metadata_of(store.as_ref(), 1).await;
    assert_eq!(after["cid"], new.as_str());
    assert!(after["status"] == "pending" || after["status"] == "unreachable", "{after}");
    assert!(after.get("description").is_none(), "{after}");
    assert!(found(store.as_ref(), "pelican").await.is_empty());

    // the new uri's gateway recovers
    gateway.set(&new, Mode::Serve);
    let fresh = wait_for(store.as_ref(), 1, "the new uri fetched", |m| m["status"] == "ok").await;
    queue.abort();
    assert_eq!((fresh["cid"].as_str(), fresh["description"].as_str()), (Some(new.as_str()), Some("Corrected flamingo counts")));
    assert!(found(store.as_ref(), "pelican").await.is_empty());
    assert_eq!(found(store.as_ref(), "flamingo").await, [key(1).to_string()]);
}

async fn the_job_follows_the_uri_and_a_stale_result_changes_nothing(store: &Arc<dyn IndexStore>) {
    let first = raw_cid(&metadata_file("Maps", "Old tundra survey"));
    let second = raw_cid(&metadata_file("Maps", "New taiga survey"));
    let job = |cid: &Cid| Job { address: key(1).to_string(), uri: format!("ipfs://{cid}"), cid: cid.to_string(), attempts: 0 };
    let ok = |description: &str| Completion {
        status: Status::Ok,
        attempts: 1,
        last_error: None,
        next_attempt_ms: 0,
        fetched_at: Some(1_800_000_000),
        parsed: Some(metadata::parse_metadata(&metadata_file("Maps", description)).unwrap()),
    };
    store.apply(&[dataset(1, 10, 1, "Maps", &format!("ipfs://{first}"))]).await.unwrap();
    let due = store.metadata_due(metadata::now_ms(), 10).await.unwrap();
    assert_eq!(due, [job(&first)]);
    assert!(store.complete_metadata(&job(&first), &ok("Old tundra survey")).await.unwrap());
    assert_eq!(found(store.as_ref(), "tundra").await, [key(1).to_string()]);
    assert!(store.metadata_due(metadata::now_ms(), 10).await.unwrap().is_empty(), "an ok job is done");
    // a second result for a finished job changes nothing
    assert!(!store.complete_metadata(&job(&first), &ok("Something else")).await.unwrap());

    // a later write with the same uri keeps the fetched text (a price change, say)
    store.apply(&[dataset(1, 11, 2, "Maps", &format!("ipfs://{first}"))]).await.unwrap();
    assert_eq!(metadata_of(store.as_ref(), 1).await["status"], "ok");
    assert_eq!(found(store.as_ref(), "tundra").await, [key(1).to_string()]);

    // a new uri resets the job and drops the old text; the old uri's result no longer applies
    store.apply(&[dataset(1, 12, 3, "Maps", &format!("ipfs://{second}"))]).await.unwrap();
    let reset = metadata_of(store.as_ref(), 1).await;
    assert_eq!((reset["status"].as_str(), reset["attempts"].as_u64()), (Some("pending"), Some(0)));
    assert!(reset.get("description").is_none());
    assert!(found(store.as_ref(), "tundra").await.is_empty());
    assert!(!store.complete_metadata(&job(&first), &ok("Old tundra survey")).await.unwrap());
    assert!(found(store.as_ref(), "tundra").await.is_empty());
    // a stale observation of the account (older slot) does not bring the old uri back
    store.apply(&[dataset(1, 10, 1, "Maps", &format!("ipfs://{first}"))]).await.unwrap();
    assert_eq!(metadata_of(store.as_ref(), 1).await["cid"], second.to_string());
    assert!(store.complete_metadata(&job(&second), &ok("New taiga survey")).await.unwrap());
    assert_eq!(found(store.as_ref(), "taiga").await, [key(1).to_string()]);

    // a failed attempt schedules the next one; a close removes the job
    store.apply(&[dataset(2, 12, 1, "Charts", &format!("ipfs://{first}"))]).await.unwrap();
    let failed = Completion {
        status: Status::Pending,
        attempts: 1,
        last_error: Some("unreachable: HTTP 502".into()),
        next_attempt_ms: metadata::now_ms() + 60_000,
        fetched_at: None,
        parsed: None,
    };
    let charts = Job { address: key(2).to_string(), ..job(&first) };
    assert!(store.complete_metadata(&charts, &failed).await.unwrap());
    assert!(store.metadata_due(metadata::now_ms(), 10).await.unwrap().is_empty(), "not due for a minute");
    assert_eq!(store.metadata_due(metadata::now_ms() + 61_000, 10).await.unwrap()[0].attempts, 1);
    store.apply(&[Update::Close { address: key(2).to_string(), slot: 13 }]).await.unwrap();
    assert!(store.metadata_due(metadata::now_ms() + 61_000, 10).await.unwrap().is_empty());
    assert!(!store.complete_metadata(&charts, &failed).await.unwrap());
}

/// A PostgreSQL store from before the metadata queue (schema version 2) queues every dataset's uri
/// once when a writer opens it (the SQLite upgrade is in store.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_upgrade_to_schema_3_queues_every_dataset() {
    let Some(test) = TestStore::new(Backend::Postgres, "postgres_upgrade_to_schema_3_queues_every_dataset").await else { return };
    let postgres = test.postgres.clone().unwrap();
    let cid = raw_cid(b"{}").to_string();
    postgres
        .apply(&[dataset(1, 10, 1, "A", &format!("ipfs://{cid}")), dataset(2, 10, 1, "B", "ar://elsewhere")])
        .await
        .unwrap();
    let client = postgres.pool().get().await.unwrap();
    client
        .batch_execute("DELETE FROM dataset_metadata; UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        .await
        .unwrap();
    let schema: String = client.query_one("SELECT current_schema()", &[]).await.unwrap().get(0);
    drop(client);
    let url = backends::postgres_url("postgres_upgrade_to_schema_3_queues_every_dataset").unwrap();
    let options = indexer::postgres::Options { url, schema: Some(schema), writer: true, pool_size: 2 };
    let reopened = indexer::postgres::PgStore::connect(&options).await.unwrap();
    let (a, b) = (metadata_of(&reopened, 1).await, metadata_of(&reopened, 2).await);
    assert_eq!((a["status"].as_str(), a["cid"].as_str()), (Some("pending"), Some(cid.as_str())));
    assert_eq!(b["status"], "not_ipfs");
    let client = reopened.pool().get().await.unwrap();
    let version: String =
        client.query_one("SELECT value FROM meta WHERE key = 'schema_version'", &[]).await.unwrap().get(0);
    assert_eq!(version, "3");
    drop(client);
    test.finish().await;
}

/// Fetch + verify + index figures over loopback (not a check: `cargo test -p indexer --test metadata
/// -- --ignored --nocapture measure`): 400 single-block files of about 1 KB and 20 files of 900 KB
/// in 256 KiB raw leaves (a CAR each), 4 fetches at once, SQLite in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_queue_throughput() {
    let store = TestStore::new(Backend::Sqlite, "measure_queue_throughput").await.unwrap().store;
    let gateway = Arc::new(Gateway::default());
    let mut updates = Vec::new();
    let mut kinds = HashMap::new();
    for i in 0..420u32 {
        let (description, chunk) = if i < 400 {
            (format!("Small file {i} {}", "about telemetry ".repeat(50)), 1 << 20)
        } else {
            (format!("Large file {i} {}", "calibrated hydrophone samples ".repeat(30_000)), 256 << 10)
        };
        let cid = gateway.add(&metadata_file(&format!("Set {i}"), &description), chunk);
        let address = format!("{i:08}");
        kinds.insert(address.clone(), i < 400);
        updates.push(Update::Upsert {
            address,
            slot: 1,
            data: dataset_bytes(&DatasetSpec { metadata_uri: format!("ipfs://{cid}"), ..Default::default() }),
        });
    }
    store.apply(&updates).await.unwrap();
    let url = serve_gateway(gateway).await;
    let times: Arc<Mutex<Vec<(bool, Duration)>>> = Arc::default();
    let sink = times.clone();
    let started = std::time::Instant::now();
    let queue = tokio::spawn(metadata::run_queue(
        store.clone(),
        Arc::new(Fetcher::new(vec![url], Duration::from_secs(30))),
        QueueConfig { poll: Duration::from_millis(5), ..fast_queue() },
        move |job, done, took, _| {
            assert_eq!(done.status, Status::Ok, "{:?}", done.last_error);
            sink.lock().unwrap().push((kinds[&job.address], took));
        },
    ));
    while times.lock().unwrap().len() < 420 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    queue.abort();
    let times = times.lock().unwrap().clone();
    for (small, name) in [(true, "1 KB raw block"), (false, "900 KB, 4 leaves, CAR")] {
        let mut of_kind: Vec<f64> = times.iter().filter(|(s, _)| *s == small).map(|(_, t)| t.as_secs_f64() * 1e3).collect();
        of_kind.sort_by(f64::total_cmp);
        let at = |p: f64| of_kind[((of_kind.len() - 1) as f64 * p).round() as usize];
        println!("{name}: {} files, fetch+verify+parse p50 {:.2} ms, p95 {:.2} ms", of_kind.len(), at(0.5), at(0.95));
    }
    println!("420 jobs through the queue (4 at once, results written) in {:.2} s: {:.0} files/s", elapsed.as_secs_f64(), 420.0 / elapsed.as_secs_f64());
}
