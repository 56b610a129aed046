//! `indexer run | serve | verify | bench | gen-fixtures`: see README.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indexer::api::{self, Api};
use indexer::db::{self, IndexStore, SqliteStore};
use indexer::ingest;
use indexer::metadata;
use indexer::postgres::PgStore;
use indexer::rpc::Rpc;
use indexer::subscribe;

const USAGE: &str = "usage:
  indexer run    [--rpc URL] [--ws URL] [--db PATH|URL] [--listen ADDR] [--interval SECS] [--once] [--no-subscribe] [--no-http]
                 [--ipfs-gateway URL]... [--ipfs-timeout SECS]
  indexer serve  [--db PATH|URL] [--listen ADDR] [--rpc URL]
  indexer verify [--rpc URL] [--db PATH|URL]
  indexer bench  [--datasets N] [--rounds N] [--store sqlite|postgres] [--db PATH|URL]
  indexer gen-fixtures --out DIR [--datasets N] [--seed N]

  --rpc       JSON-RPC endpoint (default http://127.0.0.1:8899)
  --ws        its WebSocket endpoint (default: the RPC's host, port + 1)
  --no-subscribe  no programSubscribe/logsSubscribe: changes arrive by reconcile passes only
  --db        SQLite file (default indexer.sqlite), or a PostgreSQL database: postgres://user@host:port/db
  --no-http   run: ingest only, no API (the writer beside `serve` processes over one PostgreSQL database)
  --listen    API address (default 127.0.0.1:8080)
  --interval  seconds between reconcile passes (default 10)
  --ipfs-gateway  an IPFS trustless gateway to fetch datasets' metadata from (repeatable, tried in
              order; also INDEXER_IPFS_GATEWAY, several separated by commas); without one the
              metadata stays pending
  --ipfs-timeout  seconds a gateway request may take, body included (default 30)
  --once      catch up once (snapshot on an empty store, reconcile otherwise) and exit
  --datasets  bench: synthetic datasets to index (default 10000)
  --rounds    bench: runs of each query shape (default 50)
  --out       gen-fixtures: where to write the account files (for solana-test-validator --account-dir)
  --seed      gen-fixtures: the catalogue's seed (default 42)
  --store     bench: sqlite (default; a fresh file, temporary unless --db names one) or postgres
              (--db URL; the tables go into a schema of their own, dropped afterwards)";

struct Options {
    rpc: String,
    db: String,
    listen: String,
    interval: u64,
    once: bool,
    rpc_given: bool,
    ws: Option<String>,
    subscribe: bool,
    db_given: bool,
    datasets: u64,
    rounds: usize,
    out: Option<PathBuf>,
    seed: u64,
    http: bool,
    bench_store: String,
    ipfs_gateways: Vec<String>,
    ipfs_timeout: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        rpc: "http://127.0.0.1:8899".into(),
        db: "indexer.sqlite".into(),
        listen: "127.0.0.1:8080".into(),
        interval: 10,
        once: false,
        rpc_given: false,
        ws: None,
        subscribe: true,
        db_given: false,
        datasets: 10_000,
        rounds: 50,
        out: None,
        seed: 42,
        http: true,
        bench_store: "sqlite".into(),
        ipfs_gateways: std::env::var("INDEXER_IPFS_GATEWAY")
            .map(|list| list.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default(),
        ipfs_timeout: 30,
    };
    let mut gateways_given = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rpc" => {
                options.rpc = value()?;
                options.rpc_given = true;
            }
            "--db" => {
                options.db = value()?;
                options.db_given = true;
            }
            "--datasets" => options.datasets = value()?.parse().map_err(|_| "--datasets takes a count".to_string())?,
            "--rounds" => options.rounds = value()?.parse().map_err(|_| "--rounds takes a count".to_string())?,
            "--out" => options.out = Some(value()?.into()),
            "--seed" => options.seed = value()?.parse().map_err(|_| "--seed takes a number".to_string())?,
            "--listen" => options.listen = value()?,
            "--interval" => options.interval = value()?.parse().map_err(|_| "--interval takes seconds".to_string())?,
            "--once" => options.once = true,
            "--ws" => options.ws = Some(value()?),
            "--no-subscribe" => options.subscribe = false,
            "--no-http" => options.http = false,
            "--store" => options.bench_store = value()?,
            "--ipfs-gateway" => {
                let gateway = value()?;
                // flags replace the environment's list
                if !gateways_given {
                    options.ipfs_gateways.clear();
                    gateways_given = true;
                }
                options.ipfs_gateways.push(gateway);
            }
            "--ipfs-timeout" => {
                options.ipfs_timeout = value()?.parse().map_err(|_| "--ipfs-timeout takes seconds".to_string())?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if let Some(bad) = options.ipfs_gateways.iter().find(|g| !g.starts_with("http://") && !g.starts_with("https://")) {
        return Err(format!("an IPFS gateway is an http(s) URL, not {bad}"));
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let options = match parse(rest) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("{why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let result = runtime.block_on(async {
        match command.as_str() {
            "run" => run(options).await,
            "serve" => serve(options).await,
            "verify" => verify(options).await,
            "bench" => bench(options).await,
            "gen-fixtures" => gen_fixtures(options),
            _ => Err(format!("unknown command {command}\n{USAGE}")),
        }
    });
    match result {
        Ok(code) => code,
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

async fn open_store(options: &Options, writer: bool) -> Result<Arc<dyn IndexStore>, String> {
    let store = db::open(&options.db, writer).await.map_err(|e| format!("{}: {e}", options.db))?;
    eprintln!("store: {}", store.backend());
    Ok(store)
}

async fn serve_api(options: &Options, store: Arc<dyn IndexStore>, rpc: Option<Rpc>) -> Result<(), String> {
    let api = Arc::new(Api { store, rpc });
    let listener = tokio::net::TcpListener::bind(&options.listen).await.map_err(|e| format!("{}: {e}", options.listen))?;
    eprintln!("api on http://{}/v1", listener.local_addr().map_err(|e| e.to_string())?);
    axum::serve(listener, api::router(api)).await.map_err(|e| e.to_string())
}

async fn run(options: Options) -> Result<ExitCode, String> {
    let rpc = Rpc::new(&options.rpc);
    let store = open_store(&options, true).await?;
    // a reconnected subscription asks for a reconcile pass (it may have missed notifications)
    let missed = Arc::new(tokio::sync::Notify::new());
    let link = Arc::new(subscribe::Link::default());
    if options.subscribe && !options.once {
        // subscribe first, then snapshot: nothing written in between is lost (the slot guards
        // order the two streams)
        let ws = options.ws.clone().unwrap_or_else(|| subscribe::ws_url(&options.rpc));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        let (store, missed, link) = (store.clone(), missed.clone(), link.clone());
        tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            let mut delay = None;
            loop {
                let mut subscribed = false;
                let result = subscribe::follow(
                    &ws,
                    &*store,
                    &link,
                    || {
                        subscribed = true;
                        match ready_tx.take() {
                            Some(ready) => {
                                let _ = ready.send(());
                            }
                            None => missed.notify_one(),
                        }
                        eprintln!("subscribed to {ws}");
                    },
                    |slot, applied| eprintln!("slot {slot}: {applied:?}"),
                )
                .await;
                let wait = subscribe::reconnect_delay(delay, subscribed);
                delay = Some(wait);
                if let Err(error) = result {
                    eprintln!("subscription: {error}; reconnecting in {wait:?}");
                }
                tokio::time::sleep(wait).await;
            }
        });
        if tokio::time::timeout(Duration::from_secs(10), ready_rx).await.is_err() {
            eprintln!("subscriptions not confirmed within 10 s; indexing by reconcile passes meanwhile");
        }
    }
    store.set_metadata_gateways(options.ipfs_gateways.len()).await.map_err(|e| e.to_string())?;
    if options.ipfs_gateways.is_empty() {
        eprintln!("no --ipfs-gateway: datasets' metadata stays pending");
    } else if !options.once {
        let fetcher = metadata::Fetcher::new(options.ipfs_gateways.clone(), Duration::from_secs(options.ipfs_timeout.max(1)));
        eprintln!("metadata from {}", fetcher.gateways().join(", "));
        tokio::spawn(metadata::run_queue(
            store.clone(),
            Arc::new(fetcher),
            metadata::QueueConfig::default(),
            |job, done, took, applied| {
                let stale = if applied { "" } else { " (stale: the dataset names another uri now)" };
                let error = done.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
                eprintln!("metadata {} {}: {} in {} ms{error}{stale}", job.address, job.cid, done.status.as_str(), took.as_millis());
            },
        ));
    }
    let started = link.pass_started();
    let pass = ingest::catch_up(&rpc, &*store).await.map_err(|e| e.to_string())?;
    link.pass_completed(started);
    eprintln!("caught up to slot {}: {} fetched, {:?}", pass.slot, pass.fetched, pass.applied);
    let events = ingest::backfill_activity(&rpc, &*store).await.map_err(|e| e.to_string())?;
    eprintln!("activity: {events} events recorded from the transaction history");
    if options.once {
        return Ok(ExitCode::SUCCESS);
    }
    let (api_store, api_rpc) = (store.clone(), rpc.clone());
    let server = async {
        if options.http {
            serve_api(&options, api_store, Some(api_rpc)).await
        } else {
            // ingest only: the API runs elsewhere (`serve` over the same database)
            std::future::pending().await
        }
    };
    let interval = Duration::from_secs(options.interval.max(1));
    let ingest = async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = missed.notified() => {}
            }
            let started = link.pass_started();
            match ingest::reconcile(&rpc, &*store).await {
                Ok(pass) => {
                    link.pass_completed(started);
                    if pass.fetched + pass.applied.closed > 0 {
                        eprintln!("reconcile at slot {}: {} fetched, {:?}", pass.slot, pass.fetched, pass.applied)
                    }
                }
                // a node that is briefly away must not stop the API; the next pass retries
                Err(error) => eprintln!("reconcile: {error}"),
            }
            match ingest::backfill_activity(&rpc, &*store).await {
                Ok(0) => {}
                Ok(events) => eprintln!("activity: {events} events recorded from the transaction history"),
                Err(error) => eprintln!("activity backfill: {error}"),
            }
        }
    };
    tokio::select! {
        result = server => result.map(|_| ExitCode::SUCCESS),
        _ = ingest => Ok(ExitCode::SUCCESS),
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
}

async fn serve(options: Options) -> Result<ExitCode, String> {
    // creates the schema if the store is new (and, for PostgreSQL, the role may), so the API
    // answers (empty) before any ingest
    let store = open_store(&options, false).await?;
    let rpc = options.rpc_given.then(|| Rpc::new(&options.rpc));
    tokio::select! {
        result = serve_api(&options, store, rpc) => result.map(|_| ExitCode::SUCCESS),
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
}

/// Compares the store with the chain's account headers; exit status 1 when they differ.
async fn verify(options: Options) -> Result<ExitCode, String> {
    let rpc = Rpc::new(&options.rpc);
    let store = open_store(&options, false).await?;
    let diff = ingest::diff(&rpc, &*store).await.map_err(|e| e.to_string())?;
    println!(
        "slot {}: {} program accounts on chain, {} changed or missing in the store, {} in the store but gone",
        diff.slot,
        diff.on_chain,
        diff.changed.len(),
        diff.gone.len()
    );
    for address in diff.changed.iter().take(20) {
        println!("  changed {address}");
    }
    for address in diff.gone.iter().take(20) {
        println!("  gone    {address}");
    }
    Ok(if diff.changed.is_empty() && diff.gone.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Times ingest and the query shapes on a store of synthetic datasets and prints the figures as
/// JSON: a fresh SQLite file (a temporary one unless --db names it), or with `--store postgres` a
/// schema of its own in the database --db names (dropped afterwards).
async fn bench(options: Options) -> Result<ExitCode, String> {
    let rounds = options.rounds.max(1);
    let mut result = match options.bench_store.as_str() {
        "sqlite" => {
            if db::is_postgres_url(&options.db) {
                return Err("--db is a PostgreSQL URL: add --store postgres".into());
            }
            let path = if options.db_given {
                PathBuf::from(&options.db)
            } else {
                std::env::temp_dir().join(format!("indexer-bench-{}.sqlite", std::process::id()))
            };
            if path.exists() {
                return Err(format!("{} exists: bench wants a fresh file", path.display()));
            }
            let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
            let mut result = indexer::bench::run(&store, options.datasets, rounds).await;
            drop(store);
            result["db_bytes"] = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0).into();
            if !options.db_given {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            result
        }
        "postgres" => {
            if !db::is_postgres_url(&options.db) {
                return Err("--store postgres needs --db postgres://...".into());
            }
            let store = PgStore::scratch(&options.db, "bench").await.map_err(|e| e.to_string())?;
            let mut result = indexer::bench::run(&store, options.datasets, rounds).await;
            result["db_bytes"] = store.size_bytes().await.map_err(|e| e.to_string())?.into();
            store.drop_schema().await.map_err(|e| e.to_string())?;
            result
        }
        other => return Err(format!("--store is sqlite or postgres, not {other}")),
    };
    result["store"] = options.bench_store.clone().into();
    println!("{}", serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?);
    Ok(ExitCode::SUCCESS)
}

/// Writes synthetic datasets as account files a validator loads with `--account-dir`.
fn gen_fixtures(options: Options) -> Result<ExitCode, String> {
    let out = options.out.ok_or("gen-fixtures needs --out DIR")?;
    let started = std::time::Instant::now();
    let bytes = indexer::gen_fixtures::write(&out, options.datasets, options.seed, |done| {
        eprintln!("{done} of {} written", options.datasets)
    })
    .map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "{} dataset accounts ({} bytes of account data) in {} in {:.1} s; load them with \
         solana-test-validator --account-dir {}",
        options.datasets,
        bytes,
        out.display(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
