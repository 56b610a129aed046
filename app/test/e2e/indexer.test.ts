// Discovery through the real indexer against a real solana-test-validator: a seeded catalogue of
// datasets published with the SDK (three owners, four categories, tags, prices with ties, states
// moved), then for a set of filter and sort queries the indexer path (every page by cursor, each
// checked on chain) must give exactly what the getProgramAccounts path gives; the CLI agrees; and
// the delivery daemon, asking the indexer for pending deliveries, answers a new purchase in seconds.
//
// Needs the indexer binary: `nice -n 19 cargo build -p indexer --release` (target/release/indexer,
// or `indexer` on PATH); without it this suite fails (scripts/test.sh builds it).
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import type { Address } from "@solana/kit";

import { buyLicense, keypairWallet, licenseTerms, publishDataset, type MarketWallet } from "../../src/client/index.js";
import { USDC, provisionMarket } from "../../src/localnet/provision.js";
import { startLocalStack, type LocalStack } from "../../src/localnet/stack.js";
import {
  DatasetCategory,
  DatasetState,
  IndexerClient,
  LicenseState,
  buildSetDatasetState,
  chainDiscovery,
  fetchLicense,
  indexerDiscovery,
  searchAllDatasets,
  type DatasetQuery,
} from "../../src/sdk/index.js";
import { KuboContentStore } from "../../src/storage/index.js";
import { MemoryStore } from "../memory-store.js";
import { party, runCliAt, waitFor } from "./helpers.js";

// Ports of their own (the other suites use 18899, 28899 and 38899, each with the 60 ports above it).
const RPC_PORT = 48_899;
const FAUCET_PORT = 49_900;
const INDEXER_PORT = 48_980;
const IPFS_PORT = 48_981;

/** A small deterministic generator, so a failure replays with the same catalogue. */
function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  return { pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!, next };
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map((item, j) => work(item, i + j)));
  }
}

async function confirmedSlot(url: string): Promise<bigint> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getSlot", params: [{ commitment: "confirmed" }] }),
  });
  return BigInt(((await response.json()) as { result: number }).result);
}

describe("discovery through the indexer on a local validator", () => {
  const started = Date.now();
  let dir: string;
  let stack: LocalStack;
  const store = new MemoryStore();
  const datasets: { address: Address; owner: Address; title: string }[] = [];
  let owners: { wallet: MarketWallet; keypair: string }[];
  let seededSlot: bigint;
  let client: IndexerClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "data-market-indexer-"));
    await mkdir(join(dir, "people"));
    stack = await startLocalStack({
      dir,
      rpcPort: RPC_PORT,
      faucetPort: FAUCET_PORT,
      indexer: { port: INDEXER_PORT, required: true, intervalSecs: 1 },
      ipfs: { port: IPFS_PORT },
    });
    assert.ok(stack.indexer, "the stack runs the indexer");
    client = new IndexerClient(stack.indexer.url, { minSlotTimeoutMs: 60_000 });
    const others = [await party(join(dir, "people"), "owner-b"), await party(join(dir, "people"), "owner-c")];
    await provisionMarket(stack.connection, {
      operator: stack.wallets.operator.wallet.signer,
      usdcMint: stack.market.usdc.address,
      wallets: others.map((o) => ({ address: o.signer.address, usdc: 0n })),
    });
    owners = [
      { wallet: keypairWallet(stack.wallets.owner.wallet), keypair: stack.wallets.owner.keypairPath },
      { wallet: keypairWallet(others[0]!), keypair: join(dir, "people", "owner-b.json") },
      { wallet: keypairWallet(others[1]!), keypair: join(dir, "people", "owner-c.json") },
    ];

    // The seeded catalogue: 20 datasets.
    const random = seeded(20_261_203);
    const adjectives = ["Clinical", "Street", "Support", "Financial", "Source", "Café"];
    const nouns = ["chats corpus", "images", "notes", "ledgers", "code samples"];
    const tagPool = ["chat", "en", "vision", "medical", "code", "finance", "de"];
    const categories = [DatasetCategory.Text, DatasetCategory.Image, DatasetCategory.Code, DatasetCategory.Tabular];
    const prices = [0n, 1_000_000n, 2_500_000n, 3_000_000n, 5_000_000n];
    const specs = Array.from({ length: 20 }, (_, i) => {
      const tags = [...new Set([random.pick(tagPool), random.pick(tagPool), random.pick(tagPool)])].slice(0, 1 + (i % 3));
      return {
        owner: owners[i % 3]!,
        title: `${random.pick(adjectives)} ${random.pick(nouns)} ${i}`,
        tags,
        category: random.pick(categories),
        price: random.pick(prices),
      };
    });
    await inBatches(specs, 5, async (spec, i) => {
      const file = join(dir, `data-${i}.bin`);
      await writeFile(file, `dataset ${i} ${spec.title}\n`.repeat(50));
      const published = await publishDataset(stack.connection, store, spec.owner.wallet, {
        file,
        title: spec.title,
        category: spec.category,
        tags: spec.tags,
        price: spec.price,
        paymentMint: stack.market.usdc.address,
        terms: licenseTerms(),
        deliveryWindowSecs: 3_600,
        disputeWindowSecs: 3_600,
      });
      datasets[i] = { address: published.dataset, owner: spec.owner.wallet.signer.address, title: spec.title };
    });
    // States moved, and a few sales (of the other owners' datasets, which nobody delivers here).
    const moves: [number, DatasetState][] = [
      [4, DatasetState.OrderingPaused],
      [7, DatasetState.Unlisted],
      [11, DatasetState.Retired],
      [14, DatasetState.Deprecated],
    ];
    await Promise.all(
      moves.map(async ([i, state]) => {
        const owner = owners[i % 3]!.wallet.signer;
        await stack.connection.send(owner, await buildSetDatasetState({ owner, dataset: datasets[i]!.address, state }));
      }),
    );
    const buyer = keypairWallet(stack.wallets.buyer.wallet);
    for (const i of [1, 2, 5, 10]) {
      await buyLicense(stack.connection, buyer, { dataset: datasets[i]!.address, maxPrice: 10n * USDC });
    }
    seededSlot = await confirmedSlot(stack.url);
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    process.stderr.write(`# indexer suite: ${((Date.now() - started) / 1000).toFixed(1)} s in all\n`);
  });

  test("for seeded queries, the indexer's pages (by cursor, checked on chain) equal the getProgramAccounts result", async () => {
    const indexed = indexerDiscovery(client, { reader: stack.connection });
    const chain = chainDiscovery(stack.connection);
    const mint = stack.market.usdc.address;
    const [ownerA, ownerB] = owners.map((o) => o.wallet.signer.address);
    const queries: { name: string; query: DatasetQuery; ordered: boolean }[] = [
      { name: "everything listed, newest", query: {}, ordered: true },
      { name: "text category by price", query: { category: DatasetCategory.Text, sort: "price" }, ordered: true },
      { name: "tag chat, dearest first", query: { tags: ["chat"], sort: "price_desc" }, ordered: true },
      { name: "two tags", query: { tags: ["chat", "en"] }, ordered: true },
      { name: "owner in every state", query: { owner: ownerB, state: "any" }, ordered: true },
      { name: "owner, listed, by price", query: { owner: ownerA, sort: "price" }, ordered: true },
      { name: "paused only", query: { state: DatasetState.OrderingPaused }, ordered: true },
      { name: "retired only", query: { state: DatasetState.Retired }, ordered: true },
      { name: "price range by sales", query: { minPrice: 1_000_000n, maxPrice: 3_000_000n, paymentMint: mint, sort: "sales" }, ordered: true },
      { name: "by rating (all unrated: address order)", query: { sort: "rating" }, ordered: true },
      { name: "image with tag vision", query: { category: DatasetCategory.Image, tags: ["vision"] }, ordered: true },
      { name: "words by relevance", query: { text: "support" }, ordered: false },
      { name: "prefix words by price", query: { text: "cafe no", sort: "price" }, ordered: true },
      { name: "words, accents folded, every state", query: { text: "café", state: "any" }, ordered: false },
    ];
    let first = true;
    const counts: string[] = [];
    for (const { name, query, ordered } of queries) {
      const viaIndexer = await searchAllDatasets(indexed, query, { limit: 3, minSlot: first ? seededSlot : undefined });
      first = false;
      const viaChain = await searchAllDatasets(chain, query, { limit: 4 });
      assert.deepEqual(viaIndexer.dropped, [], `${name}: nothing the indexer gave is contradicted by the chain`);
      const a = viaIndexer.datasets.map((d) => d.address);
      const b = viaChain.datasets.map((d) => d.address);
      if (ordered) assert.deepEqual(a, b, name);
      else assert.deepEqual([...a].sort(), [...b].sort(), name);
      counts.push(`${name}: ${a.length}`);
    }
    process.stderr.write(`# results: ${counts.join("; ")}\n`);
    const nonEmpty = counts.filter((c) => !c.endsWith(": 0")).length;
    assert.ok(nonEmpty >= queries.length - 2, `most queries find something: ${counts.join("; ")}`);
    assert.equal((await searchAllDatasets(chain, {}, {})).datasets.length, 19, "20 published, one of them unlisted");
  });

  test("the indexer fetches a dataset's metadata through the stack's IPFS gateway and finds its description", async () => {
    assert.ok(stack.ipfs, "the stack serves its IPFS node");
    const file = join(dir, "harbour.csv");
    await writeFile(file, "gauge,level\n".repeat(200));
    const published = await publishDataset(stack.connection, new KuboContentStore({ url: stack.ipfs.url }), owners[0]!.wallet, {
      file,
      title: "Harbour sensor logs",
      description: "Tide gauges and quaywall strain readings from a North Sea harbour",
      category: DatasetCategory.Tabular,
      tags: ["sensors"],
      price: 1_000_000n,
      paymentMint: stack.market.usdc.address,
      terms: licenseTerms(),
      deliveryWindowSecs: 3_600,
      disputeWindowSecs: 3_600,
    });
    const started = Date.now();
    await waitFor(async () => (await client.dataset(published.dataset))?.metadata?.status === "ok", 30_000);
    process.stderr.write(`# metadata fetched and verified ${((Date.now() - started) / 1000).toFixed(1)} s after the dataset was indexed\n`);
    const indexed = await client.dataset(published.dataset);
    assert.match(indexed!.metadata!.description!, /quaywall strain/);
    // a word only the description has
    const found = await client.searchDatasets({ q: "quaywall" });
    assert.deepEqual(found.items.map((d) => d.address), [published.dataset]);
    const health = await client.health();
    assert.equal(health.metadata?.gateways, 1);
  });

  test("a dataset's raw bytes from the indexer are the chain's account bytes", async () => {
    const { address } = datasets[0]!;
    const indexed = await client.dataset(address, { raw: true, minSlot: seededSlot });
    assert.ok(indexed?.raw, "raw bytes on request");
    const [onChain] = await stack.connection.getAccounts([address]);
    assert.ok(onChain?.exists);
    assert.deepEqual(indexed.raw, new Uint8Array(onChain.data));
    assert.equal((await client.dataset(address))?.raw, undefined, "only on request");
  });

  test("the CLI gives the same list with --indexer as without", async () => {
    const keypair = stack.wallets.buyer.keypairPath;
    const argv = ["--json", "dataset", "list", "--tag", "chat", "--sort", "price", "--limit", "2", "--all"];
    const plain = await runCliAt(stack.url, keypair, argv, { store });
    const viaIndexer = await runCliAt(stack.url, keypair, ["--indexer", stack.indexer!.url, ...argv], { store });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(viaIndexer.code, 0, viaIndexer.stderr);
    const addresses = (run: { stdout: string }) => (JSON.parse(run.stdout) as { address: string }[]).map((d) => d.address);
    assert.ok(addresses(plain).length > 2);
    assert.deepEqual(addresses(viaIndexer), addresses(plain));
    assert.doesNotMatch(viaIndexer.stderr, /warning/);
    // a buyer's licences: the indexer's list, each one checked on chain, is the chain's list
    const ownLicences = await runCliAt(stack.url, keypair, ["--json", "license", "list"], { store });
    const indexedLicences = await runCliAt(
      stack.url,
      keypair,
      ["--indexer", stack.indexer!.url, "--json", "license", "list", "--min-slot", String(seededSlot)],
      { store },
    );
    assert.equal(indexedLicences.code, 0, indexedLicences.stderr);
    assert.equal(addresses(ownLicences).length, 4);
    assert.deepEqual(addresses(indexedLicences).sort(), addresses(ownLicences).sort());
    assert.doesNotMatch(indexedLicences.stderr, /warning/);
    const search = await runCliAt(stack.url, keypair, ["dataset", "search", "support"], { store });
    assert.match(search.stderr, /warning: without an indexer .* downloads every dataset/);
  });

  test("the delivery daemon asks the indexer and delivers a new purchase within seconds", async () => {
    const owner = owners[0]!;
    const dataset = datasets.find((d, i) => d.owner === owner.wallet.signer.address && ![4, 7, 11, 14].includes(i))!;
    const abort = new AbortController();
    const daemon = runCliAt(stack.url, owner.keypair, ["--indexer", stack.indexer!.url, "deliver", "--watch"], { store, signal: abort.signal });
    try {
      const bought = await buyLicense(stack.connection, keypairWallet(stack.wallets.buyer.wallet), { dataset: dataset.address, maxPrice: 10n * USDC });
      const boughtAt = Date.now();
      await waitFor(async () => (await fetchLicense(stack.connection, bought.license)).data.state === LicenseState.Delivered, 30_000);
      const seconds = (Date.now() - boughtAt) / 1000;
      process.stderr.write(`# delivered ${seconds.toFixed(1)} s after the purchase landed\n`);
      assert.ok(seconds < 15, `delivered in ${seconds} s`);
      abort.abort();
      const watched = await daemon;
      assert.equal(watched.code, 0, watched.stderr);
      assert.match(watched.stderr, new RegExp(`every 1s, asking the indexer at ${stack.indexer!.url} for pending deliveries`));
      assert.doesNotMatch(watched.stderr, /looking on chain instead/);
      assert.match(watched.stdout, new RegExp(`delivered licence ${bought.license}`));
    } finally {
      abort.abort();
      await daemon.catch(() => undefined);
    }
  });
});
