//! `indexer run | serve | verify`: see README.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indexer::api::{self, Api};
use indexer::ingest;
use indexer::rpc::Rpc;
use indexer::store::Store;

const USAGE: &str = "usage:
  indexer run    [--rpc URL] [--db PATH] [--listen ADDR] [--interval SECS] [--once]
  indexer serve  [--db PATH] [--listen ADDR] [--rpc URL]
  indexer verify [--rpc URL] [--db PATH]

  --rpc       JSON-RPC endpoint (default http://127.0.0.1:8899)
  --db        SQLite file (default indexer.sqlite)
  --listen    API address (default 127.0.0.1:8080)
  --interval  seconds between reconcile passes (default 10)
  --once      catch up once (snapshot on an empty store, reconcile otherwise) and exit";

struct Options {
    rpc: String,
    db: PathBuf,
    listen: String,
    interval: u64,
    once: bool,
    rpc_given: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        rpc: "http://127.0.0.1:8899".into(),
        db: "indexer.sqlite".into(),
        listen: "127.0.0.1:8080".into(),
        interval: 10,
        once: false,
        rpc_given: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rpc" => {
                options.rpc = value()?;
                options.rpc_given = true;
            }
            "--db" => options.db = value()?.into(),
            "--listen" => options.listen = value()?,
            "--interval" => options.interval = value()?.parse().map_err(|_| "--interval takes seconds".to_string())?,
            "--once" => options.once = true,
            other => return Err(format!("unknown option {other}")),
        }
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

async fn serve_api(options: &Options, rpc: Option<Rpc>) -> Result<(), String> {
    let api = Arc::new(Api { db: options.db.clone(), rpc });
    let listener = tokio::net::TcpListener::bind(&options.listen).await.map_err(|e| format!("{}: {e}", options.listen))?;
    eprintln!("api on http://{}/v1", listener.local_addr().map_err(|e| e.to_string())?);
    axum::serve(listener, api::router(api)).await.map_err(|e| e.to_string())
}

async fn run(options: Options) -> Result<ExitCode, String> {
    let rpc = Rpc::new(&options.rpc);
    let mut store = Store::open(&options.db).map_err(|e| e.to_string())?;
    let pass = ingest::catch_up(&rpc, &mut store).await.map_err(|e| e.to_string())?;
    eprintln!("caught up to slot {}: {} fetched, {:?}", pass.slot, pass.fetched, pass.applied);
    if options.once {
        return Ok(ExitCode::SUCCESS);
    }
    let server = serve_api(&options, Some(rpc.clone()));
    let interval = Duration::from_secs(options.interval.max(1));
    let ingest = async move {
        loop {
            tokio::time::sleep(interval).await;
            match ingest::reconcile(&rpc, &mut store).await {
                Ok(pass) if pass.fetched + pass.applied.closed > 0 => {
                    eprintln!("slot {}: {} fetched, {:?}", pass.slot, pass.fetched, pass.applied)
                }
                Ok(_) => {}
                // a node that is briefly away must not stop the API; the next pass retries
                Err(error) => eprintln!("reconcile: {error}"),
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
    // creates the schema if the file is new, so the API answers (empty) before any ingest
    drop(Store::open(&options.db).map_err(|e| e.to_string())?);
    let rpc = options.rpc_given.then(|| Rpc::new(&options.rpc));
    tokio::select! {
        result = serve_api(&options, rpc) => result.map(|_| ExitCode::SUCCESS),
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
}

/// Compares the store with the chain's account headers; exit status 1 when they differ.
async fn verify(options: Options) -> Result<ExitCode, String> {
    let rpc = Rpc::new(&options.rpc);
    let store = Store::open(&options.db).map_err(|e| e.to_string())?;
    let diff = ingest::diff(&rpc, &store).await.map_err(|e| e.to_string())?;
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
