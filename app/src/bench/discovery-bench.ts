/**
 * Discovery benchmark on a real catalogue: the same seeded query mix through the SDK's two
 * discovery paths against one solana-test-validator, side by side.
 *
 *   1. `indexer gen-fixtures` writes N dataset accounts (100,000 by default, BENCH_DATASETS to
 *      change it) as files the validator loads at genesis (`--account-dir`).
 *   2. The validator starts with them and the program; the indexer starts against it (cold ingest:
 *      until its snapshot sets the checkpoint).
 *   3. Each query shape, BENCH_ROUNDS times (3 by default) with parameters drawn from the catalogue
 *      by a seed: one page of 20 through `chainDiscovery` (getProgramAccounts, filtered on the
 *      client) and through `indexerDiscovery` (the indexer's API, the page checked on chain with
 *      getMultipleAccounts). Latency p50/p95/p99, response bytes per query (every HTTP response the
 *      query caused), and whether both paths gave the same page.
 *
 * Prints a table and writes target/bench/indexer.json. Needs solana-test-validator on PATH, the
 * indexer binary (`cargo build -p indexer --release`) and target/deploy/data_market.so.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { generateKeyPairSigner, type Address } from "@solana/kit";

import { RpcConnection } from "../client/rpc.js";
import { findIndexerBinary, INDEXER_BUILD_HINT, startIndexer } from "../localnet/indexer.js";
import { startValidator } from "../localnet/validator.js";
import {
  DatasetCategory,
  IndexerClient,
  chainDiscovery,
  indexerDiscovery,
  type DatasetQuery,
  type Discovery,
} from "../sdk/index.js";
import { percentile } from "./stats.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const OUTPUT = join(REPO_ROOT, "target", "bench", "indexer.json");
const PROGRAM_SO = join(REPO_ROOT, "target", "deploy", "data_market.so");
const DATASETS = Number(process.env.BENCH_DATASETS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SEED = Number(process.env.BENCH_SEED ?? 42);
// ports of their own, clear of the test suites' (18899, 28899, 38899, 48899 and the 60 above each)
const RPC_PORT = 58_899;
const FAUCET_PORT = 59_900;
const INDEXER_PORT = 58_980;
const PAGE = 20;

/** Bytes of every HTTP response since the last reset (the RPC client and the indexer client both use fetch). */
let responseBytes = 0;
const plainFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await plainFetch(input, init);
  const length = response.headers.get("content-length");
  if (length !== null) {
    responseBytes += Number(length);
    return response;
  }
  const [counted, passed] = response.body ? response.body.tee() : [null, null];
  if (counted) {
    void (async () => {
      const reader = counted.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        responseBytes += value.byteLength;
      }
    })();
  }
  return new Response(passed, { status: response.status, statusText: response.statusText, headers: response.headers });
};

class Seeded {
  constructor(private state: bigint) {}
  below(n: number): number {
    this.state = (this.state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number((this.state >> 33n) % BigInt(n));
  }
}

interface Shape {
  name: string;
  /** A query with parameters drawn from the catalogue, and how many pages to walk before timing one. */
  draw(random: Seeded): { query: DatasetQuery; skipPages: number };
}

async function timedPage(discovery: Discovery, query: DatasetQuery, skipPages: number) {
  let cursor: string | undefined;
  for (let i = 0; i < skipPages; i++) {
    const page = await discovery.searchDatasets(query, { limit: PAGE, cursor });
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  responseBytes = 0;
  const started = performance.now();
  const page = await discovery.searchDatasets(query, { limit: PAGE, cursor });
  const ms = performance.now() - started;
  // let a counting stream finish
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { ms, bytes: responseBytes, addresses: page.datasets.map((d) => d.address), dropped: page.dropped.length };
}

async function main() {
  const binary = findIndexerBinary();
  if (!binary) throw new Error(`no indexer binary: ${INDEXER_BUILD_HINT}`);
  if (!existsSync(PROGRAM_SO)) throw new Error(`${PROGRAM_SO} is missing: build the program first (scripts/build-program.sh)`);
  const dir = await mkdtemp(join(tmpdir(), "discovery-bench-"));
  const stops: Array<() => Promise<void>> = [];
  try {
    const fixtures = join(dir, "fixtures");
    let started = performance.now();
    const generated = spawnSync(binary, ["gen-fixtures", "--out", fixtures, "--datasets", String(DATASETS), "--seed", String(SEED)], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (generated.status !== 0) throw new Error("indexer gen-fixtures failed");
    const generateSecs = (performance.now() - started) / 1000;

    console.error(`starting solana-test-validator with ${DATASETS} dataset accounts`);
    started = performance.now();
    const authority = await generateKeyPairSigner();
    const validator = await startValidator({
      ledgerDir: join(dir, "ledger"),
      programSo: PROGRAM_SO,
      upgradeAuthority: authority.address,
      rpcPort: RPC_PORT,
      faucetPort: FAUCET_PORT,
      accountDir: fixtures,
      startTimeoutMs: 600_000,
    });
    stops.push(() => validator.stop());
    const validatorSecs = (performance.now() - started) / 1000;
    await rm(fixtures, { recursive: true, force: true });

    console.error("starting the indexer (cold ingest)");
    const loadBefore = loadavg()[0]!;
    started = performance.now();
    const indexer = await startIndexer({ binary, rpcUrl: validator.url, dir, port: INDEXER_PORT, intervalSecs: 10, startTimeoutMs: 600_000 });
    stops.push(() => indexer.stop());
    const client = new IndexerClient(indexer.url, { minSlotTimeoutMs: 600_000 });
    while ((await client.health()).indexedSlot === null) await new Promise((resolve) => setTimeout(resolve, 250));
    const ingestSecs = (performance.now() - started) / 1000;
    const ingestLoad = [loadBefore, loadavg()[0]!];

    const connection = new RpcConnection(validator.url);
    const paths: Discovery[] = [chainDiscovery(connection), indexerDiscovery(client, { reader: connection })];

    // the parameters come from the catalogue itself: a sample of datasets (owners, title words, tags)
    const sample = (await client.searchDatasets({ sort: "sales" }, { limit: 100 })).items;
    const words = [...new Set(sample.flatMap((d) => d.title.split(" ")))];
    const tags = [...new Set(sample.flatMap((d) => d.tags))];
    const owners = [...new Set(sample.map((d) => d.owner))] as Address[];
    const categories = [DatasetCategory.Text, DatasetCategory.Image, DatasetCategory.Audio, DatasetCategory.Code];
    const pick = <T>(random: Seeded, list: readonly T[]) => list[random.below(list.length)]!;
    const shapes: Shape[] = [
      { name: "text", draw: (r) => ({ query: { text: pick(r, words), sort: "newest" }, skipPages: 0 }) },
      {
        name: "text + category",
        draw: (r) => ({ query: { text: pick(r, words), category: pick(r, categories), sort: "sales" }, skipPages: 0 }),
      },
      { name: "category by rating", draw: (r) => ({ query: { category: pick(r, categories), sort: "rating" }, skipPages: 0 }) },
      {
        name: "tag + price by sales",
        draw: (r) => {
          const low = BigInt(r.below(50_000)) * 1_000n;
          return { query: { tags: [pick(r, tags)], minPrice: low, maxPrice: low + 40_000_000n, sort: "sales" }, skipPages: 0 };
        },
      },
      { name: "owner", draw: (r) => ({ query: { owner: pick(r, owners), sort: "newest" }, skipPages: 0 }) },
      { name: "newest, page 5 by cursor", draw: () => ({ query: { sort: "newest" }, skipPages: 4 }) },
    ];

    const random = new Seeded(BigInt(SEED));
    const results = [];
    for (const shape of shapes) {
      const samples = { chain: [] as number[], indexer: [] as number[] };
      const bytes = { chain: [] as number[], indexer: [] as number[] };
      let equal = 0;
      let dropped = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const { query, skipPages } = shape.draw(random);
        const load = loadavg()[0]!;
        const chain = await timedPage(paths[0]!, query, skipPages);
        const indexed = await timedPage(paths[1]!, query, skipPages);
        samples.chain.push(chain.ms);
        samples.indexer.push(indexed.ms);
        bytes.chain.push(chain.bytes);
        bytes.indexer.push(indexed.bytes);
        dropped += indexed.dropped;
        if (JSON.stringify(chain.addresses) === JSON.stringify(indexed.addresses)) equal += 1;
        console.error(
          `${shape.name} #${round + 1}: chain ${chain.ms.toFixed(0)} ms ${chain.addresses.length} items, ` +
            `indexer ${indexed.ms.toFixed(1)} ms ${indexed.addresses.length} items (load ${load.toFixed(1)})`,
        );
      }
      const stats = (list: number[]) => ({ p50: percentile(list, 0.5), p95: percentile(list, 0.95), p99: percentile(list, 0.99) });
      results.push({
        shape: shape.name,
        chain_ms: stats(samples.chain),
        indexer_ms: stats(samples.indexer),
        chain_bytes: percentile(bytes.chain, 0.5),
        indexer_bytes: percentile(bytes.indexer, 0.5),
        same_page: `${equal}/${ROUNDS}`,
        dropped_by_verification: dropped,
        load_average: loadavg()[0],
      });
    }

    const report = {
      datasets: DATASETS,
      rounds: ROUNDS,
      seed: SEED,
      gen_fixtures_s: generateSecs,
      validator_start_s: validatorSecs,
      cold_ingest_s: ingestSecs,
      cold_ingest_load_average: ingestLoad,
      queries: results,
    };
    await mkdir(dirname(OUTPUT), { recursive: true });
    await writeFile(OUTPUT, JSON.stringify(report, null, 2) + "\n");
    const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(26) : c.padStart(16))).join(""));
    console.log(`\n${DATASETS} datasets; cold ingest ${ingestSecs.toFixed(1)} s; ${ROUNDS} rounds; ms p50 / p95, bytes p50`);
    row(["shape", "chain ms", "indexer ms", "chain bytes", "indexer bytes", "same page"]);
    for (const r of results) {
      row([
        r.shape,
        `${r.chain_ms.p50.toFixed(0)} / ${r.chain_ms.p95.toFixed(0)}`,
        `${r.indexer_ms.p50.toFixed(1)} / ${r.indexer_ms.p95.toFixed(1)}`,
        String(r.chain_bytes),
        String(r.indexer_bytes),
        r.same_page,
      ]);
    }
    console.log(`\nwritten to ${OUTPUT}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
