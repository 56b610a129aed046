//! End to end against a real validator: `solana-test-validator` with the program (the app's local
//! stack, on its own ports), datasets published, updated, retired and closed through the program
//! with the `data-market` CLI, the indexer's snapshot and reconcile passes, its subscriptions and
//! its HTTP API.
//!
//! Slow (a validator and six CLI runs: 4 minutes on a busy 2-core machine), so ignored by default:
//!   cargo test -p indexer --test chain -- --ignored
//! Needs `solana-test-validator` on PATH, `app/node_modules` and `target/deploy/data_market.so`.
//! With INDEXER_TEST_POSTGRES (see support/backends.rs) a PostgreSQL store follows the chain too.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

#[path = "support/backends.rs"]
mod backends;

use indexer::api::{self, Api};
use indexer::db::{IndexStore, SqliteStore};
use indexer::ingest;
use indexer::postgres::PgStore;
use indexer::query::Search;
use indexer::rpc::Rpc;
use indexer::subscribe;
use serde_json::Value;

const RPC_PORT: u16 = 18_899;
const FAUCET_PORT: u16 = 18_970;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

struct Stack {
    child: Child,
    dir: PathBuf,
    url: String,
    usdc: String,
}

impl Stack {
    fn start(dir: &Path) -> Stack {
        let root = root();
        let loader = root.join("app/node_modules/tsx/dist/loader.mjs");
        assert!(loader.exists(), "app dependencies missing: run `npm ci` in app/");
        assert!(root.join("target/deploy/data_market.so").exists(), "build the program first (scripts/test.sh does)");
        let mut child = Command::new("node")
            .arg("--import")
            .arg(format!("file://{}", loader.display()))
            .arg(root.join("indexer/tests/support/stack.mts"))
            .arg(dir)
            .arg(RPC_PORT.to_string())
            .arg(FAUCET_PORT.to_string())
            .current_dir(root.join("app"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let details: Value = match line.strip_prefix("ready ") {
            Some(json) => serde_json::from_str(json).unwrap(),
            None => {
                let _ = child.kill();
                panic!("the local stack did not start (is solana-test-validator on PATH?); see {}", dir.display());
            }
        };
        Stack {
            child,
            dir: dir.to_path_buf(),
            url: details["url"].as_str().unwrap().to_owned(),
            usdc: details["usdcMint"].as_str().unwrap().to_owned(),
        }
    }

    /// Runs the CLI as the stack's owner wallet and returns its `--json` result.
    fn cli(&self, args: &[&str]) -> Value {
        let output = Command::new(root().join("app/bin/data-market"))
            .arg("--url")
            .arg(&self.url)
            .arg("--keypair")
            .arg(self.dir.join("owner.json"))
            .arg("--ipfs")
            .arg(self.dir.join("ipfs"))
            .arg("--json")
            .args(args)
            .output()
            .expect("data-market");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "data-market {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("null");
        serde_json::from_str(last).unwrap_or(Value::Null)
    }

    fn publish(&self, name: &str, title: &str, price: &str, extra: &[&str]) -> String {
        let file = self.dir.join(name);
        std::fs::write(&file, format!("{title}\n{}\n", "x".repeat(1000))).unwrap();
        let file = file.to_string_lossy().into_owned();
        let mut args = vec!["dataset", "publish", &file, "--title", title, "--price", price, "--mint", &self.usdc];
        args.extend(["--delivery-window", "5s", "--dispute-window", "5s"]);
        args.extend(extra);
        let result = self.cli(&args);
        result["dataset"].as_str().unwrap_or_else(|| panic!("no dataset in {result}")).to_owned()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SIGTERM: the stack script stops the validator's process group, then exits
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn titles(result: &Value) -> Vec<String> {
    let mut titles: Vec<String> =
        result["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect();
    titles.sort();
    titles
}

#[test]
#[ignore = "slow: starts solana-test-validator; run with --ignored"]
fn indexes_the_chain_and_drops_closed_accounts() {
    let dir = std::env::temp_dir().join(format!("indexer-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let started = std::time::Instant::now();
    let stack = Stack::start(&dir);
    eprintln!("stack ready in {:?}", started.elapsed());

    let chats = stack.publish("chats.txt", "Support chats English", "1", &["--tag", "chat", "--tag", "en"]);
    let images =
        stack.publish("images.txt", "Street images Paris", "3", &["--tag", "vision", "--category", "image"]);
    let temporary = stack.publish("temp.txt", "Temporary corpus", "2", &["--tag", "chat"]);
    eprintln!("3 datasets published at {:?}", started.elapsed());

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let rpc = Rpc::new(&stack.url);
    let db = dir.join("index.sqlite");
    let store: Arc<dyn IndexStore> = Arc::new(SqliteStore::open(&db).unwrap());

    // a second store that follows the chain by subscription (subscribed before its snapshot)
    let live: Arc<dyn IndexStore> = Arc::new(SqliteStore::open(&dir.join("live.sqlite")).unwrap());
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let (ws, follower) = (subscribe::ws_url(&stack.url), live.clone());
    runtime.spawn(async move {
        let result = subscribe::follow(&ws, &*follower, move || { let _ = ready_tx.send(()); }, |_, _| {}).await;
        eprintln!("subscription ended: {result:?}");
    });
    runtime.block_on(ready_rx).expect("subscriptions confirmed");
    runtime.block_on(ingest::catch_up(&rpc, &*live)).unwrap();

    // with INDEXER_TEST_POSTGRES, a PostgreSQL store follows by snapshot and reconcile passes too
    let postgres: Option<Arc<PgStore>> = backends::postgres_url("chain (PostgreSQL store)")
        .map(|url| Arc::new(runtime.block_on(PgStore::scratch(&url, "chain")).unwrap()));
    if let Some(postgres) = &postgres {
        runtime.block_on(ingest::catch_up(&rpc, postgres.as_ref())).unwrap();
    }

    // snapshot: every account type, one getProgramAccounts each
    let pass = runtime.block_on(ingest::catch_up(&rpc, &*store)).unwrap();
    assert!(pass.slot > 0);
    // the marketplace, a front-end maybe, 3 datasets and their 3 content-hash records
    assert!(pass.applied.upserted >= 7, "{pass:?}");
    let search = |store: &Arc<dyn IndexStore>, search: Search| runtime.block_on(store.search(&search)).unwrap();
    let found = search(&store, Search { q: Some("support".into()), ..Default::default() });
    assert_eq!(titles(&found), ["Support chats English"]);
    assert_eq!(found["items"][0]["address"], chats.as_str());
    assert_eq!(found["items"][0]["price"], "1000000");
    let chat = Search { tags: vec!["chat".into()], ..Default::default() };
    assert_eq!(titles(&search(&store, chat.clone())), ["Support chats English", "Temporary corpus"]);
    let images_only = search(&store, Search { category: Some("image".into()), ..Default::default() });
    assert_eq!(titles(&images_only), ["Street images Paris"]);
    assert_eq!(runtime.block_on(store.indexed_slot()).unwrap(), Some(pass.slot));

    // the API over the same file
    let api = Arc::new(Api { store: store.clone(), rpc: Some(rpc.clone()) });
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, api::router(api)).await });
    let http = reqwest::Client::new();
    let get = |path: String| {
        let request = http.get(format!("{base}{path}")).header("origin", "http://example.test");
        runtime.block_on(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let cors = response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
            (status, cors, response.json::<Value>().await.unwrap())
        })
    };
    let (status, cors, health) = get("/health".into());
    assert_eq!((status, cors.as_deref()), (200, Some("*")));
    assert_eq!(health["indexed_slot"], pass.slot);
    assert!(health["chain_slot"].as_u64().unwrap() >= pass.slot);
    let (status, _, result) = get("/datasets?q=street&facets=true".into());
    assert_eq!(status, 200);
    assert_eq!(titles(&result), ["Street images Paris"]);
    assert_eq!(result["items"][0]["address"], images.as_str());
    assert_eq!(result["facets"]["category"]["image"], 1);
    let (status, _, detail) = get(format!("/datasets/{temporary}"));
    assert_eq!(status, 200);
    assert_eq!(detail["account"]["delivery_window_secs"], 5);
    assert!(detail["slot"].as_u64().unwrap() <= pass.slot);
    let (status, _, too_fresh) = get(format!("/datasets?min_slot={}", pass.slot + 1_000_000));
    assert_eq!((status, too_fresh["error"].as_str()), (503, Some("min_slot_not_reached")));

    // a price change and a close: the reconcile pass finds both from the 16-byte headers
    stack.cli(&["dataset", "update", &chats, "--price", "5"]);
    stack.cli(&["dataset", "state", &temporary, "retired"]);
    stack.cli(&["dataset", "close", &temporary]);
    eprintln!("updated, retired and closed at {:?}", started.elapsed());

    // the subscribed store sees both without any reconcile pass
    let repriced = || search(&live, Search { q: Some("support".into()), ..Default::default() })["items"][0]["price"] == "5000000";
    let closed = || runtime.block_on(live.dataset(&temporary)).unwrap().is_none();
    let waiting = std::time::Instant::now();
    while !(repriced() && closed()) {
        assert!(waiting.elapsed() < std::time::Duration::from_secs(30), "subscriptions missed the change");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!("subscriptions applied the changes");
    let diff = runtime.block_on(ingest::diff(&rpc, &*store)).unwrap();
    assert!(diff.changed.contains(&chats), "{diff:?}");
    assert!(diff.gone.contains(&temporary), "{diff:?}");
    let pass2 = runtime.block_on(ingest::reconcile(&rpc, &*store)).unwrap();
    assert!(pass2.slot > pass.slot);
    assert!(pass2.applied.closed >= 1, "{pass2:?}");
    assert_eq!(titles(&search(&store, chat)), ["Support chats English"]);
    let (status, _, gone) = get(format!("/datasets/{temporary}"));
    assert_eq!((status, gone["error"].as_str()), (404, Some("not_found")));
    let (_, _, repriced) = get("/datasets?q=support".into());
    assert_eq!(repriced["items"][0]["price"], "5000000");
    assert!(repriced["items"][0]["slot"].as_u64().unwrap() > pass.slot);
    // nothing left to do: the store matches the chain
    let diff = runtime.block_on(ingest::diff(&rpc, &*store)).unwrap();
    assert_eq!((diff.changed.len(), diff.gone.len()), (0, 0), "{diff:?}");
    // and both ways of following the chain hold the same accounts at the same revisions
    let subscribed = runtime.block_on(live.open_accounts()).unwrap();
    assert_eq!(subscribed, runtime.block_on(store.open_accounts()).unwrap());
    let live_diff = runtime.block_on(ingest::diff(&rpc, &*live)).unwrap();
    assert_eq!((live_diff.changed.len(), live_diff.gone.len()), (0, 0), "{live_diff:?}");
    // PostgreSQL: a reconcile pass finds the same changes, and then holds what SQLite holds
    if let Some(postgres) = &postgres {
        let pass = runtime.block_on(ingest::reconcile(&rpc, postgres.as_ref())).unwrap();
        assert!(pass.applied.closed >= 1 && pass.fetched >= 1, "{pass:?}");
        assert_eq!(runtime.block_on(postgres.open_accounts()).unwrap(), subscribed);
        let found = runtime.block_on(postgres.search(&Search { q: Some("support".into()), ..Default::default() })).unwrap();
        assert_eq!(found["items"][0]["price"], "5000000");
        assert!(runtime.block_on(postgres.dataset(&temporary)).unwrap().is_none());
        runtime.block_on(postgres.drop_schema()).unwrap();
        eprintln!("the PostgreSQL store matched");
    }

    // the binary: `run` subscribes, snapshots and serves
    let listen = "127.0.0.1:18980";
    let mut binary = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["run", "--rpc", &stack.url, "--listen", listen, "--interval", "2", "--db"])
        .arg(dir.join("binary.sqlite"))
        .spawn()
        .expect("indexer binary");
    let waiting = std::time::Instant::now();
    let result = loop {
        let response = runtime
            .block_on(reqwest::Client::new().get(format!("http://{listen}/v1/datasets?tags=chat,en&facets=true")).send());
        if let Ok(response) = response {
            break runtime.block_on(response.json::<Value>()).unwrap();
        }
        assert!(waiting.elapsed() < std::time::Duration::from_secs(30), "the binary's API did not come up");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let _ = binary.kill();
    let _ = binary.wait();
    assert_eq!(titles(&result), ["Support chats English"]);
    assert_eq!(result["facets"]["tag"]["en"], 1);
    assert!(result["indexed_slot"].as_u64().unwrap() >= pass2.slot);
    eprintln!("done at {:?}", started.elapsed());
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}
