// The indexer next to a local validator: the `indexer` binary (indexer/ crate) found on PATH, or at
// target/release/indexer in the checkout (else the debug build `cargo test --workspace` leaves at
// target/debug/indexer), run against the validator with its own SQLite file, answering /v1/health
// before this resolves, stopped with its process group.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const INDEXER_BINARY = "indexer";

/** target/release/indexer of this checkout. */
export const CHECKOUT_INDEXER = fileURLToPath(new URL("../../../target/release/indexer", import.meta.url));
const CHECKOUT_DEBUG_INDEXER = fileURLToPath(new URL("../../../target/debug/indexer", import.meta.url));

export const INDEXER_BUILD_HINT =
  `the indexer is neither on PATH (${INDEXER_BINARY}) nor at ${CHECKOUT_INDEXER}; ` +
  "build it once from the checkout's root: nice -n 19 cargo build -p indexer --release";

/** The indexer binary to run: `indexer` on PATH, else the checkout's release build, else its debug build; null when none exists. */
export function findIndexerBinary(): string | null {
  const onPath = spawnSync(INDEXER_BINARY, [], { stdio: "ignore" });
  // with no arguments it prints its usage and exits 2; ENOENT when it is not there
  if (!onPath.error) return INDEXER_BINARY;
  return [CHECKOUT_INDEXER, CHECKOUT_DEBUG_INDEXER].find((path) => existsSync(path)) ?? null;
}

export interface IndexerOptions {
  binary: string;
  rpcUrl: string;
  /** Holds the SQLite file (started afresh) and the log. */
  dir: string;
  port: number;
  /** Seconds between reconcile passes: what `min_slot` waits on (default 1). */
  intervalSecs?: number;
  /** IPFS trustless gateways it fetches the datasets' metadata from (none: it stays pending). */
  ipfsGateways?: readonly string[];
  startTimeoutMs?: number;
}

export interface RunningIndexer {
  url: string;
  process: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export async function startIndexer(options: IndexerOptions): Promise<RunningIndexer> {
  const db = join(options.dir, `indexer-${options.port}.sqlite`);
  for (const suffix of ["", "-wal", "-shm"]) await rm(`${db}${suffix}`, { force: true });
  const logFile = join(options.dir, `indexer-${options.port}.log`);
  const log = await open(logFile, "w");
  const listen = `127.0.0.1:${options.port}`;
  const args = ["run", "--rpc", options.rpcUrl, "--db", db, "--listen", listen, "--interval", String(options.intervalSecs ?? 1)];
  for (const gateway of options.ipfsGateways ?? []) args.push("--ipfs-gateway", gateway);
  const child = spawn(options.binary, args, { stdio: ["ignore", log.fd, log.fd], detached: true });
  const url = `http://${listen}`;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  child.once("error", () => {
    exited = true;
  });

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killed = setTimeout(() => {
        if (!exited && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      }, 5_000);
      await exit;
      clearTimeout(killed);
    }
    await log.close().catch(() => {});
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await healthy(url))) {
    if (exited) {
      await stop();
      throw new Error(`the indexer exited during start-up; see ${logFile}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the indexer did not answer ${url}/v1/health in time; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, process: child, logFile, stop };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return false;
    const body = (await response.json()) as { indexed_slot?: number | null };
    return typeof body.indexed_slot === "number";
  } catch {
    return false;
  }
}
