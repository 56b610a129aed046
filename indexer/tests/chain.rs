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
use std::sync::{Arc, Mutex};

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

/// Each test its own validator ports (the tests of this file may run at the same time).
const RPC_PORT: u16 = 18_899;
const FAUCET_PORT: u16 = 18_970;
const FAULT_RPC_PORT: u16 = 18_799;
const FAULT_FAUCET_PORT: u16 = 18_870;

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
    fn start(dir: &Path, rpc_port: u16, faucet_port: u16) -> Stack {
        let root = root();
        let loader = root.join("app/node_modules/tsx/dist/loader.mjs");
        assert!(loader.exists(), "app dependencies missing: run `npm ci` in app/");
        assert!(root.join("target/deploy/data_market.so").exists(), "build the program first (scripts/test.sh does)");
        let mut child = Command::new("node")
            .arg("--import")
            .arg(format!("file://{}", loader.display()))
            .arg(root.join("indexer/tests/support/stack.mts"))
            .arg(dir)
            .arg(rpc_port.to_string())
            .arg(faucet_port.to_string())
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
        self.cli_as("owner", args)
    }

    /// Runs the CLI as one of the stack's wallets (`operator`, `owner`, `buyer`).
    fn cli_as(&self, wallet: &str, args: &[&str]) -> Value {
        let output = Command::new(root().join("app/bin/data-market"))
            .arg("--url")
            .arg(&self.url)
            .arg("--keypair")
            .arg(self.dir.join(format!("{wallet}.json")))
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
    let stack = Stack::start(&dir, RPC_PORT, FAUCET_PORT);
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
    let link = Arc::new(subscribe::Link::default());
    let follower_link = link.clone();
    runtime.spawn(async move {
        let ready = move || {
            let _ = ready_tx.send(());
        };
        let result = subscribe::follow(&ws, &*follower, &follower_link, ready, |_, _| {}).await;
        eprintln!("subscription ended: {result:?}");
    });
    runtime.block_on(ready_rx).expect("subscriptions confirmed");
    let started_under = link.pass_started();
    runtime.block_on(ingest::catch_up(&rpc, &*live)).unwrap();
    link.pass_completed(started_under);
    assert!(link.live());

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
    let live_feed = runtime
        .block_on(live.activity(&indexer::activity::PageRequest {
            scope: indexer::activity::Scope::Dataset(temporary.clone()),
            name: None,
            cursor: None,
            limit: None,
        }))
        .unwrap();
    let live_names: Vec<&str> = live_feed["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    // newest first; the registration happened before the subscription
    assert_eq!(live_names[..2], ["AccountClosed", "DatasetStateChanged"], "{live_names:?}");
    // notifications moved the checkpoint past the catch-up pass
    assert!(runtime.block_on(live.indexed_slot()).unwrap().unwrap() > pass.slot);
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
    let binary = Running(Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["run", "--rpc", &stack.url, "--listen", listen, "--interval", "2", "--db"])
        .arg(dir.join("binary.sqlite"))
        .spawn()
        .expect("indexer binary"));
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
    drop(binary);
    assert_eq!(titles(&result), ["Support chats English"]);
    assert_eq!(result["facets"]["tag"]["en"], 1);
    assert!(result["indexed_slot"].as_u64().unwrap() >= pass2.slot);
    eprintln!("done at {:?}", started.elapsed());
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A loopback TCP proxy whose connections can all be cut at once (the indexer's WebSocket link
/// dropping, as a flaky network or a restarted node drops it).
struct Proxy {
    address: String,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let held = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy { address, connections }
    }

    fn open(&self) -> usize {
        self.connections.lock().unwrap().iter().filter(|c| !c.is_finished()).count()
    }

    /// Drops every open connection; returns how many there were.
    fn cut(&self) -> usize {
        let mut connections = self.connections.lock().unwrap();
        let open = connections.iter().filter(|c| !c.is_finished()).count();
        connections.drain(..).for_each(|c| c.abort());
        open
    }
}

/// A small deterministic generator: the workload's choices follow from the printed seed.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Every event of every successful transaction of the program, read from the node's history:
/// (signature, index, event name).
async fn chain_events(rpc: &Rpc) -> std::collections::BTreeSet<(String, u64, String)> {
    let program = data_market::ID.to_string();
    let mut out = std::collections::BTreeSet::new();
    let mut before: Option<String> = None;
    loop {
        let page = rpc.signatures(&program, before.as_deref(), None).await.unwrap();
        for info in page.iter().filter(|info| !info.failed) {
            let (_, logs) = rpc.transaction_logs(&info.signature).await.unwrap().expect("the node keeps its history");
            for (index, event) in indexer::events::events_in_logs(logs.iter().map(String::as_str)).into_iter().enumerate() {
                out.insert((info.signature.clone(), index as u64, event.name.to_owned()));
            }
        }
        if page.len() < indexer::rpc::SIGNATURES_PAGE {
            return out;
        }
        before = page.last().map(|info| info.signature.clone());
    }
}

/// An `indexer run` process, killed when dropped (so a failing test leaves none behind).
struct Running(Child);

impl Running {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// Fails the test if the process has exited (e.g. its address was taken).
    fn assert_running(&mut self, log: &str) {
        if let Ok(Some(status)) = self.0.try_wait() {
            panic!("the indexer exited ({status}); its log, newest first:\n{log}");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start_indexer(stack: &Stack, ws: &str, listen: &str, db: &Path, log: &Path) -> Running {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Running(
        Command::new(env!("CARGO_BIN_EXE_indexer"))
            .args(["run", "--rpc", &stack.url, "--ws", ws, "--listen", listen, "--interval", "3", "--db"])
            .arg(db)
            .stderr(log)
            .spawn()
            .expect("indexer binary"),
    )
}

#[test]
#[ignore = "slow: starts solana-test-validator; run with --ignored"]
fn converges_through_restarts_and_cut_subscriptions() {
    let seed = std::env::var("INDEXER_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    eprintln!("workload seed {seed} (INDEXER_FAULT_SEED={seed} repeats it)");
    let mut random = Seeded(seed);
    let dir = std::env::temp_dir().join(format!("indexer-fault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let started = std::time::Instant::now();
    let stack = Stack::start(&dir, FAULT_RPC_PORT, FAULT_FAUCET_PORT);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let rpc = Rpc::new(&stack.url);
    let price = |random: &mut Seeded| format!("{}", 1 + random.below(9));
    let long = ["--delivery-window", "300s", "--dispute-window", "300s"];
    let publish = |random: &mut Seeded, name: &str, title: &str| {
        let tags = ["chat", "vision", "speech", "code"];
        let tag = tags[random.below(4) as usize];
        let mut extra = vec!["--tag", tag];
        extra.extend(long);
        stack.publish(name, title, &price(random), &extra)
    };
    let buy = |dataset: &str| stack.cli_as("buyer", &["license", "buy", dataset, "--max-price", "100"]);

    // before the indexer ever runs: found by its snapshot and history backfill
    let first = publish(&mut random, "first.txt", "First corpus");

    let proxy = runtime.block_on(Proxy::start(format!("127.0.0.1:{}", FAULT_RPC_PORT + 1)));
    let ws = format!("ws://{}", proxy.address);
    let listen = "127.0.0.1:18981";
    let db = dir.join("fault.sqlite");
    // the indexer's own log, shown when an assertion fails
    let log = dir.join("indexer.log");
    let log_tail = || std::fs::read_to_string(&log).unwrap_or_default().lines().rev().take(40).collect::<Vec<_>>().join("\n");
    let mut indexer = start_indexer(&stack, &ws, listen, &db, &log);
    let http = reqwest::Client::new();
    let get = |path: &str| -> Option<(u16, Value)> {
        runtime.block_on(async {
            let response = http.get(format!("http://{listen}/v1{path}")).send().await.ok()?;
            let status = response.status().as_u16();
            Some((status, response.json::<Value>().await.ok()?))
        })
    };
    let wait_for = |what: &str, limit: u64, ok: &dyn Fn() -> bool| {
        let waiting = std::time::Instant::now();
        while !ok() {
            assert!(
                waiting.elapsed() < std::time::Duration::from_secs(limit),
                "{what}: not within {limit} s\nindexer log (newest first):\n{}",
                log_tail()
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    };
    wait_for("the API", 60, &|| get("/health").is_some());
    indexer.assert_running(&log_tail());
    eprintln!("indexer up at {:?}", started.elapsed());

    // live, through the proxy
    let second = publish(&mut random, "second.txt", "Second corpus");
    let mut bought = vec![first.clone(), second.clone()];
    if random.below(2) == 1 {
        bought.reverse();
    }
    for dataset in &bought {
        buy(dataset);
    }
    stack.cli(&["deliver"]);
    eprintln!("published, bought and delivered at {:?}", started.elapsed());

    // the link drops; writes made while it reconnects reach the store by a reconcile pass
    wait_for("the indexer's subscription through the proxy", 60, &|| proxy.open() >= 1);
    assert!(proxy.cut() >= 1, "{}", log_tail());
    let rating = format!("{}", 1 + random.below(5));
    stack.cli_as("buyer", &["review", "submit", &first, "--rating", &rating, "--text", "useful, clean labels"]);
    stack.cli(&["dataset", "update", &first, "--price", &price(&mut random)]);
    let dispute = stack.cli_as("buyer", &["dispute", "open", &second, "--reason", "other", "--evidence", "ipfs://evidence"]);
    let disputed_license = dispute["license"].as_str().unwrap().to_owned();
    eprintln!("link cut, reviewed, repriced and disputed at {:?}", started.elapsed());

    // the indexer dies; what happens meanwhile is found after the restart
    indexer.assert_running(&log_tail());
    indexer.kill();
    let model = format!("{:064x}", random.below(u64::MAX));
    stack.cli_as("buyer", &["usage", "record", &first, "--model", &model]);
    let third = publish(&mut random, "third.txt", "Third corpus");
    stack.cli(&["dataset", "state", &third, "retired"]);
    stack.cli(&["dataset", "close", &third]);
    stack.cli_as("operator", &["dispute", "rule", &disputed_license, if random.below(2) == 1 { "--refund" } else { "--release" }]);
    eprintln!("indexer down: used, published, closed and ruled at {:?}", started.elapsed());
    let mut indexer = start_indexer(&stack, &ws, listen, &db, &log);
    wait_for("the restarted API", 60, &|| get("/health").is_some());
    indexer.assert_running(&log_tail());
    stack.cli(&["dataset", "update", &second, "--price", &price(&mut random)]);
    stack.cli_as("buyer", &["review", "withdraw", &first]);
    eprintln!("restarted, repriced and withdrew at {:?}", started.elapsed());

    // the indexer reaches the chain's slot, then holds every account and every event
    let slot = runtime.block_on(rpc.slot()).unwrap();
    wait_for("min_slot", 60, &|| get(&format!("/datasets?min_slot={slot}")).is_some_and(|(status, _)| status == 200));
    let expected = runtime.block_on(chain_events(&rpc));
    let indexed = || {
        let mut out = std::collections::BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/activity?limit=100&cursor={c}"),
                None => "/activity?limit=100".to_owned(),
            };
            let Some((200, page)) = get(&path) else { return out };
            for item in page["items"].as_array().unwrap() {
                out.insert((
                    item["signature"].as_str().unwrap().to_owned(),
                    item["index"].as_u64().unwrap(),
                    item["name"].as_str().unwrap().to_owned(),
                ));
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return out,
            }
        }
    };
    let waiting = std::time::Instant::now();
    while indexed() != expected {
        if waiting.elapsed() > std::time::Duration::from_secs(60) {
            let held = indexed();
            panic!(
                "the activity feed differs from the chain: missing {:?}, extra {:?}\nindexer log (newest first):\n{}",
                expected.difference(&held).collect::<Vec<_>>(),
                held.difference(&expected).collect::<Vec<_>>(),
                log_tail()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let names: std::collections::BTreeSet<&str> = expected.iter().map(|(_, _, name)| name.as_str()).collect();
    for name in ["DatasetRegistered", "LicensePurchased", "KeyDelivered", "ReviewSubmitted", "DatasetUpdated",
        "DisputeOpened", "DisputeRuled", "UsageRecorded", "DatasetStateChanged", "AccountClosed"] {
        assert!(names.contains(name), "the workload emitted {name}: {names:?}");
    }
    eprintln!("{} events in the feed, equal to the chain's history", expected.len());

    let verify = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["verify", "--rpc", &stack.url, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "verify found differences:\n{report}\nindexer log (newest first):\n{}", log_tail());
    assert!(report.contains(" 0 changed or missing in the store, 0 in the store but gone"), "{report}");
    let (_, gone) = get(&format!("/datasets/{third}")).unwrap();
    assert_eq!(gone["error"], "not_found");
    let (_, feed) = get(&format!("/datasets/{first}/activity?name=UsageRecorded")).unwrap();
    assert_eq!(feed["items"][0]["fields"]["model_hash"], model.as_str());
    indexer.assert_running(&log_tail());
    drop(indexer);
    eprintln!("verified at {:?}", started.elapsed());
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}
