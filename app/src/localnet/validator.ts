// A local Solana validator with the data market program deployed as an upgradeable program:
// `solana-test-validator` (crate agave-validator) found on PATH, started on a ledger directory,
// healthy before this resolves, stopped with its process group.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";

import type { Address } from "@solana/kit";

import { DATA_MARKET_PROGRAM_ADDRESS } from "../sdk/index.js";

export const VALIDATOR_BINARY = "solana-test-validator";

export const VALIDATOR_INSTALL_HINT =
  `${VALIDATOR_BINARY} is not on PATH. Build it once from the crate registry (about 40 minutes on 2 cores, ` +
  "needs apt libclang-dev): cargo install agave-validator --version 3.1.12 --bin solana-test-validator --locked";

export interface ValidatorOptions {
  ledgerDir: string;
  programSo: string;
  /** The program's upgrade authority (only it may initialize the marketplace). */
  upgradeAuthority: Address;
  rpcPort?: number;
  faucetPort?: number;
  /** Keep an existing ledger instead of starting from genesis. */
  keepLedger?: boolean;
  /** Accounts to load at genesis: a directory of account files (`indexer gen-fixtures` writes them). */
  accountDir?: string;
  startTimeoutMs?: number;
  /**
   * Notifications the node's WebSocket service queues across all connections before it drops a
   * subscriber that fell behind. solana-test-validator's default is 100 (a full node's 10,000,000):
   * a burst of more than that in one slot, e.g. 50 updates a second with their log notifications,
   * cuts every subscription that was not read in time.
   */
  pubsubQueueCapacityItems?: number;
}

/** A full node's WebSocket notification queue (solana-test-validator's own default is 100). */
export const FULL_NODE_PUBSUB_QUEUE_ITEMS = 10_000_000;

export interface RunningValidator {
  url: string;
  process: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export function validatorOnPath(): boolean {
  const found = spawnSync(VALIDATOR_BINARY, ["--version"], { stdio: "ignore" });
  return found.status === 0;
}

export async function startValidator(options: ValidatorOptions): Promise<RunningValidator> {
  if (!validatorOnPath()) throw new Error(VALIDATOR_INSTALL_HINT);
  const rpcPort = options.rpcPort ?? 8899;
  const faucetPort = options.faucetPort ?? 9900;
  await mkdir(options.ledgerDir, { recursive: true });
  const logFile = join(options.ledgerDir, "..", `validator-${rpcPort}.log`);
  const log = await open(logFile, "w");
  const args = [
    "--ledger", options.ledgerDir,
    "--rpc-port", String(rpcPort),
    "--faucet-port", String(faucetPort),
    "--bind-address", "127.0.0.1",
    // gossip and the validator's other sockets next to the RPC port rather than at the defaults
    // (8000 and up), so validators on different RPC ports never collide
    "--gossip-port", String(rpcPort + 2),
    "--dynamic-port-range", `${rpcPort + 3}-${rpcPort + 60}`,
    "--upgradeable-program", DATA_MARKET_PROGRAM_ADDRESS, options.programSo, options.upgradeAuthority,
    "--quiet",
  ];
  if (!options.keepLedger) args.push("--reset");
  if (options.accountDir !== undefined) args.push("--account-dir", options.accountDir);
  if (options.pubsubQueueCapacityItems !== undefined) {
    args.push("--rpc-pubsub-queue-capacity-items", String(options.pubsubQueueCapacityItems));
  }
  // Its own process group, so stopping it also stops anything it spawned.
  const child = spawn(VALIDATOR_BINARY, args, { stdio: ["ignore", log.fd, log.fd], detached: true });
  const url = `http://127.0.0.1:${rpcPort}`;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killed = setTimeout(() => {
        if (!exited && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      }, 10_000);
      await exit;
      clearTimeout(killed);
    }
    await log.close().catch(() => {});
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await healthy(url))) {
    if (exited) {
      await stop();
      throw new Error(`${VALIDATOR_BINARY} exited during start-up; see ${logFile}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${VALIDATOR_BINARY} did not become healthy in time; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, process: child, logFile, stop };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getHealth" }),
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as { result?: string };
    return body.result === "ok";
  } catch {
    return false;
  }
}
