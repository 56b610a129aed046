/**
 * Live lag of the indexer: how long after a transaction is confirmed its change shows in the API,
 * at fixed rates of real program transactions.
 *
 *   1. solana-test-validator with the program, the marketplace and a USDC-like mint (provision.ts);
 *      the indexer against it (subscriptions, reconcile every BENCH_LAG_INTERVAL seconds, 10 by
 *      default like `indexer run`).
 *   2. A pool of datasets (BENCH_LAG_DATASETS, 300 by default) registered by BENCH_LAG_OWNERS
 *      owners (30), so no single owner account is written by every transaction.
 *   3. Per rate of BENCH_LAG_RATES (10,50,100 a second), BENCH_LAG_SECONDS (25) of `update_dataset`
 *      price changes, each on a dataset with no other transaction in flight, a new price every time,
 *      signed with a blockhash at most one refresh (400 ms) old, sent without preflight. One loop
 *      polls getSignatureStatuses (confirmed) for every pending signature; another reads the whole
 *      pool from the API (`/v1/datasets`, pages of 100) and marks a transaction visible once its
 *      dataset shows the revision the transaction made (and checks the price there).
 *   4. Per rate: lag (visible - confirmed) and visible - sent, confirmation time (confirmed - sent),
 *      p50/p95/p99/max; the achieved send rate; failed, dropped (not confirmed in 30 s) and never
 *      visible (30 s after confirmation); the 1-minute load average; CPU of the indexer, the
 *      validator and this process from /proc. A change counts as visible when the answer of the
 *      page showing it arrives, so the lag includes that one API request (`api_request_ms`).
 *
 * The validator's WebSocket queue is a full node's (BENCH_LAG_PUBSUB_QUEUE; solana-test-validator's
 * own 100 cuts subscriptions under bursts). BENCH_LAG_NODE_NOTIFICATIONS=1 subscribes here too and
 * splits the lag at the node's notification; BENCH_LAG_KEEP=1 keeps the logs and the store.
 *
 * Prints a table and writes target/bench/lag.json. Needs solana-test-validator on PATH, the indexer
 * binary (`cargo build -p indexer --release`) and target/deploy/data_market.so.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import {
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  signTransactionMessageWithSigners,
  type Address,
  type Blockhash,
  type Instruction,
  type KeyPairSigner,
  type Signature,
} from "@solana/kit";

import { licenseTerms, RpcConnection, withComputeBudget } from "../client/index.js";
import { findIndexerBinary, INDEXER_BUILD_HINT, startIndexer } from "../localnet/indexer.js";
import { provisionMarket, SOL, USDC } from "../localnet/provision.js";
import { FULL_NODE_PUBSUB_QUEUE_ITEMS, startValidator } from "../localnet/validator.js";
import {
  buildTransactionMessage,
  DATA_MARKET_PROGRAM_ADDRESS,
  DatasetCategory,
  findDatasetAddress,
  IndexerClient,
  registerDatasetInstruction,
  updateDatasetInstruction,
} from "../sdk/index.js";
import { distribution, type Distribution } from "./stats.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const OUTPUT = join(REPO_ROOT, "target", "bench", "lag.json");
const PROGRAM_SO = join(REPO_ROOT, "target", "deploy", "data_market.so");
const RATES = (process.env.BENCH_LAG_RATES ?? "10,50,100").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 25);
const DATASETS = Number(process.env.BENCH_LAG_DATASETS ?? 300);
const OWNERS = Number(process.env.BENCH_LAG_OWNERS ?? 30);
const RECONCILE_INTERVAL_SECS = Number(process.env.BENCH_LAG_INTERVAL ?? 10);
/** How often the pool is read from the API, and signature statuses asked for. */
const API_POLL_MS = Number(process.env.BENCH_LAG_API_POLL_MS ?? 100);
const STATUS_POLL_MS = Number(process.env.BENCH_LAG_STATUS_POLL_MS ?? 50);
const BLOCKHASH_REFRESH_MS = 400;
/** The node's WebSocket queue (see ValidatorOptions): a full node's default unless told otherwise. */
const PUBSUB_QUEUE_ITEMS = Number(process.env.BENCH_LAG_PUBSUB_QUEUE ?? FULL_NODE_PUBSUB_QUEUE_ITEMS);
/**
 * Also subscribe to the program here, as the indexer does, and note when the node's notification of
 * each update arrives: splits the lag into the node's part and the indexer's. Off by default (a
 * second program subscription is more work for the node).
 */
const NODE_NOTIFICATIONS = process.env.BENCH_LAG_NODE_NOTIFICATIONS === "1";
/** Keep the ledger, the indexer's store and both logs (the directory is printed). */
const KEEP = process.env.BENCH_LAG_KEEP === "1";
/** Not confirmed this long after sending: dropped. Confirmed and not in the API this long after: never visible. */
const GIVE_UP_MS = 30_000;
// ports of their own, clear of the test suites' and the other benchmarks' (and the 60 above each)
const RPC_PORT = 47_899;
const FAUCET_PORT = 47_960;
const INDEXER_PORT = 47_980;

interface PoolDataset {
  address: Address;
  owner: KeyPairSigner;
  /** The revision the chain has after the last confirmed update (the API's once the pool is indexed). */
  revision: bigint;
  /** A transaction on it is in flight (sent, not yet confirmed, failed or given up). */
  busy: boolean;
}

interface Sent {
  rate: number;
  signature: Signature;
  dataset: PoolDataset;
  price: bigint;
  sentAt: number;
  confirmedAt?: number;
  /** The revision the update made: the API shows the change once it has this revision (or a later one). */
  revision?: bigint;
  visibleAt?: number;
  /** When the node's program notification of this revision reached this process (BENCH_LAG_NODE_NOTIFICATIONS). */
  notifiedAt?: number;
  outcome: "pending" | "confirmed" | "visible" | "failed" | "dropped" | "invisible";
  priceMismatch?: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** utime + stime of a process in seconds (Linux /proc), null when it cannot be read. */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

async function main() {
  const binary = findIndexerBinary();
  if (!binary) throw new Error(`no indexer binary: ${INDEXER_BUILD_HINT}`);
  if (!existsSync(PROGRAM_SO)) throw new Error(`${PROGRAM_SO} is missing: build the program first (scripts/build-program.sh)`);
  if (RATES.some((r) => !(r > 0))) throw new Error(`BENCH_LAG_RATES must be positive numbers: ${RATES.join(",")}`);
  const loadAtStart = loadavg();
  const dir = await mkdtemp(join(tmpdir(), "lag-bench-"));
  const stops: Array<() => Promise<void>> = [];
  try {
    console.error(`load average before starting: ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}`);
    const operator = await generateKeyPairSigner();
    const validator = await startValidator({
      ledgerDir: join(dir, "ledger"),
      programSo: PROGRAM_SO,
      upgradeAuthority: operator.address,
      rpcPort: RPC_PORT,
      faucetPort: FAUCET_PORT,
      pubsubQueueCapacityItems: PUBSUB_QUEUE_ITEMS,
    });
    stops.push(() => validator.stop());
    const connection = new RpcConnection(validator.url);
    const rpc = createSolanaRpc(validator.url);
    const market = await provisionMarket(connection, {
      operator,
      wallets: [],
      minDeliveryWindowSecs: 10,
      minDisputeWindowSecs: 10,
    });
    const indexer = await startIndexer({ binary, rpcUrl: validator.url, dir, port: INDEXER_PORT, intervalSecs: RECONCILE_INTERVAL_SECS });
    stops.push(() => indexer.stop());
    const client = new IndexerClient(indexer.url);

    /** `address:revision` -> when the node's notification of it arrived. */
    const notified = new Map<string, number>();
    const notifications = new AbortController();
    if (NODE_NOTIFICATIONS) {
      const subscriptions = createSolanaRpcSubscriptions(`ws://127.0.0.1:${RPC_PORT + 1}`);
      const stream = await subscriptions
        .programNotifications(DATA_MARKET_PROGRAM_ADDRESS, { encoding: "base64", commitment: "confirmed" })
        .subscribe({ abortSignal: notifications.signal });
      void (async () => {
        try {
          for await (const { value } of stream) {
            const data = Buffer.from(value.account.data[0], "base64");
            // every program account carries its revision at offset 8
            if (data.length >= 16) notified.set(`${value.pubkey}:${data.readBigUInt64LE(8)}`, performance.now());
          }
        } catch {
          // aborted at the end
        }
      })();
      stops.push(async () => notifications.abort());
    }

    // A blockhash refreshed every slot or so: each transaction is signed with one at most that old.
    let blockhash = (await rpc.getLatestBlockhash({ commitment: "confirmed" }).send()).value;
    let refreshing = true;
    const refresher = (async () => {
      while (refreshing) {
        await sleep(BLOCKHASH_REFRESH_MS);
        try {
          blockhash = (await rpc.getLatestBlockhash({ commitment: "confirmed" }).send()).value;
        } catch {
          // keep the previous one; it stays valid for about a minute
        }
      }
    })();

    const sign = async (feePayer: KeyPairSigner, instructions: readonly Instruction[]) => {
      const lifetime: { blockhash: Blockhash; lastValidBlockHeight: bigint } = blockhash;
      const transaction = await signTransactionMessageWithSigners(buildTransactionMessage({ feePayer, instructions, lifetime }));
      return { signature: getSignatureFromTransaction(transaction), wire: getBase64EncodedWireTransaction(transaction) };
    };
    const send = (wire: ReturnType<typeof getBase64EncodedWireTransaction>) =>
      rpc.sendTransaction(wire, { encoding: "base64", skipPreflight: true, preflightCommitment: "confirmed" }).send();

    // ---- the pool: owners funded, datasets registered, all of them indexed
    console.error(`registering ${DATASETS} datasets for ${OWNERS} owners`);
    const owners = await Promise.all(Array.from({ length: OWNERS }, () => generateKeyPairSigner()));
    await Promise.all(owners.map((owner) => connection.airdrop(owner.address, 10n * SOL)));
    const pool: PoolDataset[] = [];
    const registrations: Signature[] = [];
    for (let i = 0; i < DATASETS; i++) {
      const owner = owners[i % OWNERS]!;
      const contentHash = new Uint8Array(32);
      new DataView(contentHash.buffer).setUint32(0, i + 1);
      crypto.getRandomValues(contentHash.subarray(4));
      const instruction = await registerDatasetInstruction({
        owner,
        paymentMint: market.usdc.address,
        paymentTokenProgram: market.usdc.tokenProgram,
        contentHash,
        title: `Lag pool ${i}`,
        metadataUri: `ipfs://lag-pool-${i}`,
        ciphertextCid: `lag-pool-${i}`,
        category: DatasetCategory.Text,
        tags: ["lag"],
        price: USDC,
        terms: licenseTerms(),
        referralFeeBps: 0,
        recipients: [{ wallet: owner.address, bps: 10_000 }],
        deliveryWindowSecs: 3_600,
        disputeWindowSecs: 3_600,
      });
      // registration creates two mints and a vault: more than the default 200,000 compute units
      const { signature, wire } = await sign(owner, withComputeBudget([instruction], 600_000, 0n));
      await send(wire);
      registrations.push(signature);
      pool.push({ address: await findDatasetAddress(contentHash, owner.address), owner, revision: 0n, busy: false });
      if (i % 50 === 49) await sleep(500);
    }
    const registered = new Set<Signature>();
    const registerDeadline = Date.now() + 60_000;
    while (registered.size < registrations.length && Date.now() < registerDeadline) {
      await sleep(500);
      const waiting = registrations.filter((s) => !registered.has(s));
      for (let at = 0; at < waiting.length; at += 256) {
        const { value } = await rpc.getSignatureStatuses(waiting.slice(at, at + 256)).send();
        value.forEach((status, j) => {
          if (status?.err) throw new Error(`registering a dataset failed: ${JSON.stringify(status.err, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`);
          if (status?.confirmationStatus === "confirmed" || status?.confirmationStatus === "finalized") registered.add(waiting[at + j]!);
        });
      }
    }
    if (registered.size < registrations.length) throw new Error(`${registrations.length - registered.size} registrations not confirmed in a minute`);

    /** Every pool dataset's (revision, price) as the API has it now. */
    const readPool = async () => {
      const seen = new Map<string, { revision: bigint; price: bigint }>();
      let cursor: string | undefined;
      do {
        const page = await client.searchDatasets({ sort: "newest" }, { limit: 100, cursor });
        for (const item of page.items) seen.set(item.address, { revision: item.revision, price: item.price });
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return seen;
    };
    const indexedDeadline = Date.now() + 60_000;
    for (;;) {
      const seen = await readPool();
      if (pool.every((d) => seen.has(d.address))) {
        for (const d of pool) d.revision = seen.get(d.address)!.revision;
        break;
      }
      if (Date.now() > indexedDeadline) throw new Error(`the indexer shows ${seen.size} of ${DATASETS} registered datasets after a minute`);
      await sleep(500);
    }
    console.error(`pool of ${pool.length} datasets indexed`);

    // ---- the two watchers: signature statuses, and the pool in the API
    const all: Sent[] = [];
    const unconfirmed = new Set<Sent>();
    const unseen = new Set<Sent>();
    let watching = true;
    const statusWatcher = (async () => {
      while (watching) {
        await sleep(STATUS_POLL_MS);
        const waiting = [...unconfirmed];
        for (let at = 0; at < waiting.length; at += 256) {
          const batch = waiting.slice(at, at + 256);
          let value;
          try {
            ({ value } = await rpc.getSignatureStatuses(batch.map((s) => s.signature)).send());
          } catch {
            continue;
          }
          const now = performance.now();
          value.forEach((status, j) => {
            const sent = batch[j]!;
            if (status?.err) {
              sent.outcome = "failed";
              sent.dataset.busy = false;
              unconfirmed.delete(sent);
            } else if (status?.confirmationStatus === "confirmed" || status?.confirmationStatus === "finalized") {
              sent.confirmedAt = now;
              sent.outcome = "confirmed";
              sent.dataset.revision += 1n;
              sent.revision = sent.dataset.revision;
              sent.dataset.busy = false;
              unconfirmed.delete(sent);
              unseen.add(sent);
            } else if (now - sent.sentAt > GIVE_UP_MS) {
              // its fate is unknown: the dataset stays out of the pool
              sent.outcome = "dropped";
              unconfirmed.delete(sent);
            }
          });
        }
      }
    })();
    // each page's items count as visible when that page's answer arrived
    const apiRequestMs: number[] = [];
    const apiWatcher = (async () => {
      while (watching) {
        await sleep(API_POLL_MS);
        if (unseen.size === 0) continue;
        const waiting = new Map<string, Sent[]>();
        for (const sent of unseen) waiting.set(sent.dataset.address, [...(waiting.get(sent.dataset.address) ?? []), sent]);
        let cursor: string | undefined;
        try {
          do {
            const requested = performance.now();
            const page = await client.searchDatasets({ sort: "newest" }, { limit: 100, cursor });
            const answered = performance.now();
            apiRequestMs.push(answered - requested);
            for (const item of page.items) {
              for (const sent of waiting.get(item.address) ?? []) {
                if (item.revision < sent.revision!) continue;
                sent.visibleAt = answered;
                sent.outcome = "visible";
                if (item.revision === sent.revision && item.price !== sent.price) sent.priceMismatch = true;
                unseen.delete(sent);
              }
            }
            cursor = page.nextCursor ?? undefined;
          } while (cursor !== undefined);
        } catch {
          continue;
        }
        const now = performance.now();
        for (const sent of unseen) {
          if (now - sent.confirmedAt! > GIVE_UP_MS) {
            sent.outcome = "invisible";
            unseen.delete(sent);
          }
        }
      }
    })();

    // ---- the rates
    let nextPrice = 2n * USDC;
    let cursor = 0;
    const phases = [];
    for (const rate of RATES) {
      console.error(`${rate} updates a second for ${SECONDS} s`);
      const loads: number[] = [loadavg()[0]!];
      const cpuBefore = {
        indexer: cpuSeconds(indexer.process.pid),
        validator: cpuSeconds(validator.process.pid),
        bench: cpuSeconds(process.pid),
      };
      const sends: Promise<unknown>[] = [];
      const phase: Sent[] = [];
      let noFreeDataset = 0;
      let sendErrors = 0;
      const target = Math.round(rate * SECONDS);
      const started = performance.now();
      let lastLoadSample = started;
      let scheduled = 0;
      while (scheduled < target) {
        const now = performance.now();
        const due = Math.min(target, Math.floor(((now - started) * rate) / 1000) + 1);
        for (; scheduled < due; scheduled++) {
          let dataset: PoolDataset | undefined;
          for (let tried = 0; tried < pool.length && !dataset; tried++) {
            const candidate = pool[cursor++ % pool.length]!;
            // a dropped transaction's dataset stays busy: its revision is unknown
            if (!candidate.busy) dataset = candidate;
          }
          if (!dataset) {
            noFreeDataset += 1;
            continue;
          }
          dataset.busy = true;
          const price = nextPrice++;
          const { signature, wire } = await sign(dataset.owner, [
            await updateDatasetInstruction({ owner: dataset.owner, dataset: dataset.address, price }),
          ]);
          const sent: Sent = { rate, signature, dataset, price, sentAt: performance.now(), outcome: "pending" };
          phase.push(sent);
          all.push(sent);
          unconfirmed.add(sent);
          sends.push(
            send(wire).catch(() => {
              sendErrors += 1;
              sent.outcome = "failed";
              sent.dataset.busy = false;
              unconfirmed.delete(sent);
            }),
          );
        }
        if (now - lastLoadSample >= 1_000) {
          loads.push(loadavg()[0]!);
          lastLoadSample = now;
        }
        await sleep(2);
      }
      await Promise.all(sends);
      const sendSecs = (performance.now() - started) / 1000;
      // drain: every transaction of the rate confirmed and visible, failed or given up
      while (phase.some((s) => s.outcome === "pending" || s.outcome === "confirmed")) {
        await sleep(100);
        if (performance.now() - lastLoadSample >= 1_000) {
          loads.push(loadavg()[0]!);
          lastLoadSample = performance.now();
        }
      }
      const wallSecs = (performance.now() - started) / 1000;
      loads.push(loadavg()[0]!);
      const cpuAfter = {
        indexer: cpuSeconds(indexer.process.pid),
        validator: cpuSeconds(validator.process.pid),
        bench: cpuSeconds(process.pid),
      };
      const cpuShare = (before: number | null, after: number | null) =>
        before === null || after === null ? null : Math.round(((after - before) / wallSecs) * 1000) / 10;
      const visible = phase.filter((s) => s.outcome === "visible");
      for (const s of visible) s.notifiedAt = notified.get(`${s.dataset.address}:${s.revision}`);
      const split = visible.filter((s) => s.notifiedAt !== undefined);
      const confirmed = phase.filter((s) => s.confirmedAt !== undefined);
      const result = {
        rate,
        seconds: SECONDS,
        sent: phase.length,
        achieved_rate: Math.round((phase.length / sendSecs) * 10) / 10,
        not_sent_no_free_dataset: noFreeDataset,
        send_errors: sendErrors,
        failed: phase.filter((s) => s.outcome === "failed").length - sendErrors,
        dropped: phase.filter((s) => s.outcome === "dropped").length,
        confirmed: confirmed.length,
        visible: visible.length,
        never_visible: phase.filter((s) => s.outcome === "invisible").length,
        price_mismatches: phase.filter((s) => s.priceMismatch).length,
        lag_ms: distribution(visible.map((s) => s.visibleAt! - s.confirmedAt!)),
        sent_to_visible_ms: distribution(visible.map((s) => s.visibleAt! - s.sentAt)),
        confirmation_ms: distribution(confirmed.map((s) => s.confirmedAt! - s.sentAt)),
        ...(NODE_NOTIFICATIONS
          ? {
              node_notification_after_confirmed_ms: distribution(split.map((s) => s.notifiedAt! - s.confirmedAt!)),
              visible_after_node_notification_ms: distribution(split.map((s) => s.visibleAt! - s.notifiedAt!)),
            }
          : {}),
        load_average: { start: loads[0]!, max: Math.max(...loads), end: loads[loads.length - 1]! },
        cpu_percent: {
          indexer: cpuShare(cpuBefore.indexer, cpuAfter.indexer),
          validator: cpuShare(cpuBefore.validator, cpuAfter.validator),
          bench: cpuShare(cpuBefore.bench, cpuAfter.bench),
        },
      };
      phases.push(result);
      console.error(JSON.stringify(result));
    }
    watching = false;
    refreshing = false;
    await Promise.all([statusWatcher, apiWatcher, refresher]);

    const report = {
      datasets: pool.length,
      owners: OWNERS,
      reconcile_interval_s: RECONCILE_INTERVAL_SECS,
      node_pubsub_queue_capacity_items: PUBSUB_QUEUE_ITEMS,
      api_poll_interval_ms: API_POLL_MS,
      status_poll_interval_ms: STATUS_POLL_MS,
      api_request_ms: distribution(apiRequestMs),
      node_notifications_watched: NODE_NOTIFICATIONS,
      load_average_before: loadAtStart,
      rates: phases,
    };
    await mkdir(dirname(OUTPUT), { recursive: true });
    await writeFile(OUTPUT, JSON.stringify(report, null, 2) + "\n");

    const ms = (d: Distribution | null) => (d ? `${d.p50.toFixed(0)} / ${d.p95.toFixed(0)} / ${d.p99.toFixed(0)}` : "-");
    const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(6) : c.padStart(22))).join(""));
    console.log(
      `\n${pool.length} datasets, ${OWNERS} owners; ms p50 / p95 / p99; API read every ${API_POLL_MS} ms, ` +
        `statuses every ${STATUS_POLL_MS} ms; reconcile every ${RECONCILE_INTERVAL_SECS} s`,
    );
    row(["rate", "achieved /s", "lag (conf→API)", "sent→API", "sent→confirmed", "failed/dropped/inv", "load start→max", "CPU idx/val/bench %"]);
    for (const r of phases) {
      row([
        String(r.rate),
        String(r.achieved_rate),
        ms(r.lag_ms),
        ms(r.sent_to_visible_ms),
        ms(r.confirmation_ms),
        `${r.failed + r.send_errors} / ${r.dropped} / ${r.never_visible}`,
        `${r.load_average.start.toFixed(1)} → ${r.load_average.max.toFixed(1)}`,
        `${r.cpu_percent.indexer ?? "-"} / ${r.cpu_percent.validator ?? "-"} / ${r.cpu_percent.bench ?? "-"}`,
      ]);
    }
    console.log(`\nwritten to ${OUTPUT}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    if (KEEP) console.error(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
