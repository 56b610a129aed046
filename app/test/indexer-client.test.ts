// The indexer client and the checks of its answers, against a tiny local HTTP server that answers
// what each test crafts, and a chain held in memory (accounts encoded with the generated encoders):
// typed answers and pages, min_slot waits, failures; an indexer that forges is caught, one that
// omits is only incomplete (the chain path shows what it left out); the CLI's output of both; the
// delivery daemon's pass through an indexer and its fall-back to the chain; the modules a browser
// dapp uses stay free of Node-only code.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { ed25519 } from "@noble/curves/ed25519.js";
import { createKeyPairSignerFromBytes, generateKeyPairSigner, type Address, type EncodedAccount, type MaybeEncodedAccount } from "@solana/kit";

import { getDatasetEncoder, getLicenseEncoder, getUsageReceiptEncoder, type DatasetArgs } from "../src/generated/accounts/index.js";
import { deliverPendingKeys, keypairWallet, type MarketConnection } from "../src/client/index.js";
import { ContentNotFoundError, type ContentStore } from "../src/storage/index.js";
import { runCli } from "../src/cli/program.js";
import { EXIT } from "../src/cli/failure.js";
import {
  DATA_MARKET_PROGRAM_ADDRESS,
  DEFAULT_ADDRESS,
  DatasetCategory,
  DatasetState,
  IndexerBehindError,
  IndexerClient,
  IndexerProtocolError,
  IndexerRequestError,
  IndexerUnavailableError,
  LicenseState,
  TOKEN_PROGRAM_ADDRESS,
  UsagePurpose,
  accountLists,
  allPages,
  listAccounts,
  chainDiscovery,
  encodeTag,
  indexerDiscovery,
  localProgramAccountSource,
  matchesText,
  searchAllDatasets,
  type AccountReader,
  type Dataset,
  type DatasetQuery,
  type Discovery,
} from "../src/sdk/index.js";
import { Capture } from "./e2e/helpers.js";

// ---------------------------------------------------------------------------------------------
// A crafted indexer.

type Handler = (url: URL, request: IncomingMessage, response: ServerResponse) => void;

class FakeIndexer {
  requests: URL[] = [];
  handler: Handler = (_url, _request, response) => json(response, 404, { error: "not_found", message: "no such endpoint" });
  private server!: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      this.requests.push(url);
      this.handler(url, request, response);
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A local URL nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------------------------
// A chain in memory.

const MINT = "So11111111111111111111111111111111111111112" as Address;
const OTHER_PROGRAM = "Other1111111111111111111111111111111111111" as Address;

function datasetArgs(owner: Address, overrides: Partial<DatasetArgs> = {}): DatasetArgs {
  return {
    revision: 1,
    owner,
    contentHash: new Uint8Array(32).fill(7),
    category: DatasetCategory.Text,
    state: DatasetState.Active,
    tags: [encodeTag("chat"), encodeTag("en"), new Uint8Array(24), new Uint8Array(24), new Uint8Array(24)],
    paymentMint: MINT,
    licenseMint: DEFAULT_ADDRESS,
    escrowVault: DEFAULT_ADDRESS,
    price: 5_000_000n,
    terms: {
      durationSecs: 0,
      maxSupply: 0,
      metered: false,
      transferable: false,
      aiTraining: true,
      commercialUse: true,
      derivativeModels: true,
      attributionRequired: false,
    },
    referralFeeBps: 0,
    deliveryWindowSecs: 3600,
    disputeWindowSecs: 3600,
    deliveryDelegate: DEFAULT_ADDRESS,
    recipientCount: 1,
    recipients: Array.from({ length: 5 }, (_, i) => ({ wallet: i === 0 ? owner : DEFAULT_ADDRESS, bps: i === 0 ? 10_000 : 0 })),
    ledger: { escrowed: 0, claimable: [0, 0, 0, 0, 0], referralFeesOwed: 0, protocolFeesOwed: 0 },
    licensesOutstanding: 0,
    licensesSold: 0,
    revokeReason: 0,
    allowListEnabled: false,
    previousVersion: DEFAULT_ADDRESS,
    nextVersion: DEFAULT_ADDRESS,
    usageByPurpose: [0, 0, 0, 0, 0],
    ratings: { paid: { count: 0, sum: 0 }, free: { count: 0, sum: 0 } },
    openDisputes: 0,
    licensesPending: 0,
    allowListEntries: 0,
    createdAt: 1_700_000_000,
    updatedAt: 1_700_000_000,
    bump: 255,
    licenseMintBump: 255,
    title: "Support chats",
    metadataUri: "ipfs://meta",
    ciphertextCid: "cid",
    ...overrides,
  };
}

function account(address: Address, data: Uint8Array, programAddress: Address = DATA_MARKET_PROGRAM_ADDRESS): EncodedAccount {
  return { address, data, programAddress, executable: false, lamports: 1_000_000n as EncodedAccount["lamports"], space: BigInt(data.length) };
}

function datasetAccount(address: Address, args: DatasetArgs): EncodedAccount {
  return account(address, new Uint8Array(getDatasetEncoder().encode(args)));
}

function licenseAccount(address: Address, dataset: Address, buyer: Address, state: LicenseState, delivered = false): EncodedAccount {
  const data = getLicenseEncoder().encode({
    revision: 1,
    dataset,
    buyer,
    buyerEncryptionKey: new Uint8Array(32).fill(1),
    referrer: DEFAULT_ADDRESS,
    state,
    pricePaid: 5_000_000,
    protocolFee: 0,
    referralFee: 0,
    protocolFeeBps: 0,
    referralFeeBps: 0,
    refundedAmount: 0,
    credits: 0,
    usageCount: 0,
    hasDispute: false,
    serial: 1,
    referralFeeResolved: false,
    boughtAt: 1_700_000_100,
    deliveredAt: 0,
    expiresAt: 0,
    settledAt: 0,
    renewals: 0,
    sealedKey: new Uint8Array(96).fill(delivered ? 9 : 0),
    bump: 255,
  });
  return account(address, new Uint8Array(data));
}

function mintAccount(): EncodedAccount {
  const data = new Uint8Array(82);
  data[44] = 6; // decimals
  data[45] = 1; // initialised
  return account(MINT, data, TOKEN_PROGRAM_ADDRESS);
}

/** What a node would answer for these accounts: getMultipleAccounts and getProgramAccounts. */
function memoryChain(accounts: readonly EncodedAccount[]) {
  const byAddress = new Map(accounts.map((a) => [a.address, a]));
  const reads: Address[][] = [];
  const reader: AccountReader = {
    async getAccounts(addresses) {
      reads.push([...addresses]);
      return addresses.map((address) => {
        const found = byAddress.get(address);
        return (found ? { ...found, exists: true } : { address, exists: false }) as MaybeEncodedAccount;
      });
    },
  };
  const source = localProgramAccountSource(accounts);
  return { reader, source, reads, both: { ...reader, ...source } };
}

async function addresses(n: number): Promise<Address[]> {
  return Promise.all(Array.from({ length: n }, async () => (await generateKeyPairSigner()).address));
}

/** The indexer's JSON for a dataset, as its search answers it (values can be forged). */
function indexed(address: Address, args: DatasetArgs, overrides: Record<string, unknown> = {}) {
  return {
    address,
    slot: 100,
    revision: 1,
    owner: args.owner,
    title: args.title,
    category: "text",
    state: "active",
    price: String(args.price),
    payment_mint: args.paymentMint,
    licenses_sold: 0,
    rating: { average: null, count: 0 },
    created_at: Number(args.createdAt),
    updated_at: Number(args.updatedAt),
    metadata_uri: args.metadataUri,
    tags: ["chat", "en"],
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------

describe("the indexer client", () => {
  const server = new FakeIndexer();
  before(() => server.start());
  after(() => server.stop());

  test("typed search answers, the query's parameters, and every page through the cursor", async () => {
    const [a, b, owner] = await addresses(3);
    const args = datasetArgs(owner!);
    server.requests = [];
    server.handler = (url, _request, response) => {
      const cursor = url.searchParams.get("cursor");
      json(response, 200, {
        items: [
          indexed(
            cursor ? b! : a!,
            args,
            cursor
              ? { metadata: null }
              : {
                  price: "18446744073709551615",
                  score: 1.5,
                  metadata: {
                    status: "ok", cid: "bafkreia", attempts: 2, last_error: null, fetched_at: 1_800_000_000,
                    description: "Support chats", plaintext_bytes: 4096,
                  },
                },
          ),
        ],
        next_cursor: cursor ? null : "page-2",
        sort: "price",
        indexed_slot: 42,
      });
    };
    const client = new IndexerClient(`${server.url}/v1/`);
    assert.equal(client.url, server.url);
    const page = await client.searchDatasets(
      { q: "support ch", tags: ["chat", " en ", ""], category: "text", minPrice: 1n, maxPrice: 10n, paymentMint: MINT, metadataStatus: "ok", sort: "price" },
      { limit: 1 },
    );
    assert.equal(page.items[0]!.price, 18_446_744_073_709_551_615n, "amounts are exact");
    assert.equal(page.items[0]!.score, 1.5);
    assert.deepEqual(page.items[0]!.metadata, {
      status: "ok", cid: "bafkreia", attempts: 2, lastError: null, fetchedAt: 1_800_000_000n, description: "Support chats", plaintextBytes: 4096n,
    });
    assert.equal(page.indexedSlot, 42n);
    assert.equal(page.nextCursor, "page-2");
    const sent = server.requests[0]!;
    assert.equal(sent.pathname, "/v1/datasets");
    assert.deepEqual(Object.fromEntries(sent.searchParams), {
      q: "support ch",
      category: "text",
      tags: "chat,en",
      min_price: "1",
      max_price: "10",
      payment_mint: MINT,
      metadata_status: "ok",
      sort: "price",
      limit: "1",
    });
    const all = await allPages((p) => client.searchDatasets({}, p), { limit: 1 });
    assert.deepEqual(all.map((i) => i.address), [a, b]);
    assert.equal(all[1]!.metadata, null);
    assert.equal(server.requests.at(-1)!.searchParams.get("cursor"), "page-2");
  });

  test("min_slot waits for the indexer as Retry-After says, and gives up at its deadline", async () => {
    let refusals = 1;
    server.handler = (url, _request, response) => {
      if (url.searchParams.get("min_slot") === "500" && refusals-- > 0) {
        json(response, 503, { error: "min_slot_not_reached", min_slot: 500, indexed_slot: 499 }, { "retry-after": "1" });
      } else if (url.searchParams.get("min_slot") === "900") {
        json(response, 503, { error: "min_slot_not_reached", min_slot: 900, indexed_slot: 499 }, { "retry-after": "1" });
      } else {
        json(response, 200, { items: [], next_cursor: null, indexed_slot: 500 });
      }
    };
    const client = new IndexerClient(server.url, { minSlotTimeoutMs: 400 });
    const started = Date.now();
    const page = await new IndexerClient(server.url).ownerPendingDeliveries(MINT, { minSlot: 500n });
    assert.ok(Date.now() - started >= 900, "waited the second Retry-After asked for");
    assert.equal(page.indexedSlot, 500n);
    await assert.rejects(client.searchDatasets({}, { minSlot: 900n }), (error: unknown) => {
      assert.ok(error instanceof IndexerBehindError);
      assert.equal(error.indexedSlot, 499n);
      assert.match(error.message, /indexed up to slot 499, short of slot 900/);
      return true;
    });
  });

  test("clear errors: unreachable, refused, not its API", async () => {
    const closedUrl = await closedPort();
    const closed = new IndexerClient(closedUrl);
    await assert.rejects(closed.health(), (error: unknown) => {
      assert.ok(error instanceof IndexerUnavailableError);
      assert.equal(error.url, closedUrl);
      assert.match(error.message, /^cannot reach the indexer at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
      return true;
    });
    server.handler = (url, _request, response) => {
      if (url.pathname === "/v1/datasets") json(response, 400, { error: "bad_cursor", message: "cursor is not one this API gave" });
      else if (url.pathname === "/v1/health") {
        response.writeHead(200, { "content-type": "text/html" });
        response.end("<html>a web page</html>");
      } else json(response, 500, { error: "store", message: "disk I/O error" });
    };
    const client = new IndexerClient(server.url);
    await assert.rejects(client.searchDatasets({}, { cursor: "x" }), (e: unknown) => e instanceof IndexerRequestError && e.code === "bad_cursor");
    await assert.rejects(client.health(), IndexerProtocolError);
    await assert.rejects(client.datasetLicenses(MINT), (e: unknown) => e instanceof IndexerUnavailableError && /500: disk I\/O error/.test(e.message));
    assert.throws(() => new IndexerClient("ftp://x"), RangeError);
    server.handler = (_url, _request, response) => json(response, 200, { items: [{ address: "not an address", slot: 1, revision: 1 }], next_cursor: null });
    await assert.rejects(client.ownerDatasets(MINT), /items\[0\]\.address is not an address/);
    // the metadata queue's counts in health; an unknown metadata status is not the API
    const counts = { pending: 3, ok: 2, mismatch: 1, unreachable: 0, not_ipfs: 0, too_large: 0 };
    server.handler = (_url, _request, response) =>
      json(response, 200, { api: "v1", indexed_slot: 7, chain_slot: null, lag: null, metadata: { ...counts, gateways: 0, note: "no IPFS gateway configured" } });
    assert.deepEqual((await client.health()).metadata, { counts, gateways: 0, note: "no IPFS gateway configured" });
    const [owner] = await addresses(1);
    server.handler = (_url, _request, response) =>
      json(response, 200, {
        items: [indexed(owner!, datasetArgs(owner!), { metadata: { status: "fine", cid: null, attempts: 0, last_error: null, fetched_at: null } })],
        next_cursor: null,
      });
    await assert.rejects(client.searchDatasets({}), /items\[0\]\.metadata\.status is not a metadata status/);
  });
});

describe("an indexer can omit, never forge", () => {
  const server = new FakeIndexer();
  before(() => server.start());
  after(() => server.stop());

  test("forged, absent, foreign and wrong-type items are dropped; the chain's values are what is shown; an omission is only missing", async () => {
    const [owner, good, omitted, forged, absent, foreign, licence] = await addresses(7);
    const goodArgs = datasetArgs(owner!, { title: "Support chats", price: 5_000_000n, createdAt: 300 });
    const omittedArgs = datasetArgs(owner!, { title: "Support chats two", price: 6_000_000n, createdAt: 200 });
    // on chain the forged one costs 900 and is paused; the indexer says 1 and active
    const forgedArgs = datasetArgs(owner!, { title: "Support chats three", price: 900_000_000n, state: DatasetState.OrderingPaused, createdAt: 100 });
    const chain = memoryChain([
      datasetAccount(good!, goodArgs),
      datasetAccount(omitted!, omittedArgs),
      datasetAccount(forged!, forgedArgs),
      account(foreign!, new Uint8Array(getDatasetEncoder().encode(goodArgs)), OTHER_PROGRAM),
      licenseAccount(licence!, good!, owner!, LicenseState.AwaitingKey),
      mintAccount(),
    ]);
    server.handler = (_url, _request, response) =>
      json(response, 200, {
        items: [
          indexed(good!, goodArgs, { title: "A forged title", price: "1", licenses_sold: 99 }),
          indexed(forged!, forgedArgs, { price: "1", state: "active" }),
          indexed(absent!, goodArgs),
          indexed(foreign!, goodArgs),
          indexed(licence!, goodArgs),
          indexed(good!, goodArgs),
        ],
        next_cursor: null,
        indexed_slot: 7,
      });
    const query: DatasetQuery = { text: "support chats", maxPrice: 10_000_000n, paymentMint: MINT, sort: "price" };
    const discovery = indexerDiscovery(new IndexerClient(server.url), { reader: chain.reader });
    const page = await discovery.searchDatasets(query);
    assert.deepEqual(page.datasets.map((d) => d.address), [good]);
    assert.equal(page.datasets[0]!.data.title, "Support chats", "the chain's title, not the indexer's");
    assert.equal(page.datasets[0]!.data.price, 5_000_000n);
    assert.equal(page.datasets[0]!.data.licensesSold, 0n);
    const reasons = Object.fromEntries(page.dropped.map((d) => [d.address, `${d.reason}: ${d.detail}`]));
    assert.match(reasons[forged!]!, /^mismatch: on the chain it does not match the query: price 900000000 is above 10000000/);
    assert.match(reasons[absent!]!, /^absent: no such account on the chain/);
    assert.match(reasons[foreign!]!, new RegExp(`^foreign: owned by ${OTHER_PROGRAM}`));
    assert.match(reasons[licence!]!, /^wrong-type: not a dataset account/);
    assert.match(reasons[good!]!, /^duplicate/);
    assert.equal(page.dropped.length, 5);
    assert.ok(!(omitted! in reasons), "an omission cannot be seen in the indexer's answer");
    assert.deepEqual(chain.reads.at(-1), [good, forged, absent, foreign, licence], "one getMultipleAccounts per page, each address once");

    // the chain path has what the indexer left out
    const onChain = await searchAllDatasets(chainDiscovery(chain.both), query);
    assert.deepEqual(onChain.datasets.map((d) => d.address), [good, omitted]);
  });

  test("pending deliveries: only licences still waiting, of the owner's datasets, on the chain", async () => {
    const [owner, stranger, mine, theirs, waiting, delivered, ofStranger, buyer] = await addresses(8);
    const chain = memoryChain([
      datasetAccount(mine!, datasetArgs(owner!)),
      datasetAccount(theirs!, datasetArgs(stranger!)),
      licenseAccount(waiting!, mine!, buyer!, LicenseState.AwaitingKey),
      licenseAccount(delivered!, mine!, buyer!, LicenseState.Delivered, true),
      licenseAccount(ofStranger!, theirs!, buyer!, LicenseState.AwaitingKey),
    ]);
    const row = (address: Address, dataset: Address) => ({
      address, slot: 1, revision: 1, dataset, buyer, state: "awaiting_key", price_paid: "5000000", credits: 0,
      usage_count: 0, bought_at: 1, delivered_at: 0, expires_at: 0, settled_at: 0,
    });
    server.handler = (url, _request, response) => {
      assert.equal(url.pathname, `/v1/owners/${owner}/pending-deliveries`);
      json(response, 200, { items: [row(waiting!, mine!), row(delivered!, mine!), row(ofStranger!, theirs!)], next_cursor: null, indexed_slot: 3 });
    };
    const result = await indexerDiscovery(new IndexerClient(server.url), { reader: chain.reader }).pendingDeliveries(owner!);
    assert.deepEqual(result.pending.map((p) => p.license.address), [waiting]);
    assert.equal(result.pending[0]!.dataset.address, mine);
    assert.deepEqual(result.dropped.map((d) => d.address).sort(), [delivered, ofStranger].sort());
    const fromChain = await chainDiscovery(chain.both).pendingDeliveries(owner!);
    assert.deepEqual(fromChain.pending.map((p) => p.license.address), [waiting]);
  });

  test("the CLI shows the chain's values and says what it left out; --no-verify says it shows the indexer's", async () => {
    const [owner, good, forged] = await addresses(3);
    const goodArgs = datasetArgs(owner!, { title: "Support chats", createdAt: 300 });
    const forgedArgs = datasetArgs(owner!, { title: "Support chats paused", state: DatasetState.OrderingPaused, createdAt: 100 });
    const chain = memoryChain([datasetAccount(good!, goodArgs), datasetAccount(forged!, forgedArgs), mintAccount()]);
    server.handler = (_url, _request, response) =>
      json(response, 200, {
        items: [indexed(good!, goodArgs, { title: "A forged title" }), indexed(forged!, forgedArgs, { state: "active" })],
        next_cursor: "more",
        indexed_slot: 7,
      });
    const connection = { label: "memory", ...chain.both, close: async () => {} } as unknown as MarketConnection;
    const run = async (argv: string[], env: Record<string, string> = {}) => {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await runCli(argv, { streams: { stdout, stderr }, connection, env });
      return { code, stdout: stdout.text, stderr: stderr.text };
    };

    const verified = await run(["dataset", "search", "support", "--state", "active"], { DATA_MARKET_INDEXER: server.url });
    assert.equal(verified.code, EXIT.ok, verified.stderr);
    assert.match(verified.stdout, new RegExp(`^${good}  Support chats  \\[text; chat, en\\]  5  active`));
    assert.doesNotMatch(verified.stdout, /forged|paused/i);
    assert.match(verified.stderr, new RegExp(`warning: the indexer at ${server.url} listed ${forged}, left out: .*state is ordering_paused`));
    assert.match(verified.stderr, /more: add --cursor more/);

    const unverified = await run(["--indexer", server.url, "dataset", "list", "--no-verify"]);
    assert.equal(unverified.code, EXIT.ok, unverified.stderr);
    assert.match(unverified.stderr, /unverified: as the indexer at .* has them, not checked on chain/);
    assert.match(unverified.stdout, /A forged title .*\(unverified\)/);

    const unreachable = await run(["--indexer", await closedPort(), "dataset", "list"]);
    assert.equal(unreachable.code, EXIT.network);
    assert.match(unreachable.stderr, /^error: cannot reach the indexer at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*\(without --indexer and DATA_MARKET_INDEXER, the CLI reads the chain directly\)\n$/);

    const chainOnly = await run(["dataset", "search", "support"]);
    assert.equal(chainOnly.code, EXIT.ok, chainOnly.stderr);
    assert.match(chainOnly.stderr, /warning: without an indexer .* downloads every dataset/);
    assert.match(chainOnly.stdout, new RegExp(`^${good}  Support chats`));
    assert.match(chainOnly.stdout, new RegExp(`${forged}  Support chats paused .* ordering_paused|${forged}  Support chats paused`));
  });
});

describe("lists of licences, receipts and reviews through an indexer", () => {
  const server = new FakeIndexer();
  before(() => server.start());
  after(() => server.stop());

  function receiptAccount(address: Address, license: Address, dataset: Address, modelHash: Uint8Array, index: number): EncodedAccount {
    const data = getUsageReceiptEncoder().encode({
      revision: 1,
      dataset,
      license,
      modelHash,
      holder: DEFAULT_ADDRESS,
      attestor: DEFAULT_ADDRESS,
      purpose: UsagePurpose.Training,
      runId: new Uint8Array(32),
      recordedAt: 1_700_000_500 + index,
      index,
      bump: 255,
    });
    return account(address, new Uint8Array(data));
  }

  test("every item is read on chain and kept only when it passes the list's own filters", async () => {
    const [owner, dataset, buyer, stranger, mine, theirs, receipt, otherModel, absent] = await addresses(9);
    const model = new Uint8Array(32).fill(0xab);
    const chain = memoryChain([
      datasetAccount(dataset!, datasetArgs(owner!)),
      licenseAccount(mine!, dataset!, buyer!, LicenseState.Delivered, true),
      licenseAccount(theirs!, dataset!, stranger!, LicenseState.AwaitingKey),
      receiptAccount(receipt!, mine!, dataset!, model, 0),
      receiptAccount(otherModel!, mine!, dataset!, new Uint8Array(32).fill(0xcd), 1),
    ]);
    const pages: Record<string, Address[]> = {
      [`/v1/licensees/${buyer}/licenses`]: [mine!, theirs!, absent!, dataset!],
      [`/v1/models/${"ab".repeat(32)}/receipts`]: [receipt!, otherModel!, mine!],
    };
    server.handler = (url, _request, response) => {
      const items = pages[url.pathname];
      if (!items) return json(response, 404, { error: "not_found", message: "no such list" });
      // two pages, to follow the cursor
      const first = url.searchParams.get("cursor") === null;
      const page = first ? items.slice(0, 2) : items.slice(2);
      const row = (address: Address) => ({
        address, slot: 5, revision: 1, dataset, buyer, state: "delivered", price_paid: "5000000", credits: 0,
        usage_count: 0, bought_at: 1, delivered_at: 2, expires_at: 0, settled_at: 0,
      });
      json(response, 200, { items: page.map(row), next_cursor: first ? "2" : null, indexed_slot: 5 });
    };
    const indexer = new IndexerClient(server.url);

    const licences = await listAccounts(accountLists.licensesByBuyer(buyer!), { chain: chain.both, indexer });
    assert.equal(licences.source, "indexer");
    assert.deepEqual(licences.accounts.map((a) => a.address), [mine]);
    assert.equal(licences.accounts[0]!.data.state, LicenseState.Delivered, "the chain's account, decoded");
    const why = Object.fromEntries(licences.dropped.map((d) => [d.address, `${d.reason}: ${d.detail}`]));
    assert.match(why[theirs!]!, new RegExp(`^mismatch: on the chain it is not one of the licences of ${buyer}`));
    assert.match(why[absent!]!, /^absent: /);
    assert.match(why[dataset!]!, /^wrong-type: not a licence account/);

    const receipts = await listAccounts(accountLists.receiptsByModelHash(model), { chain: chain.both, indexer });
    assert.deepEqual(receipts.accounts.map((a) => a.address), [receipt]);
    assert.deepEqual(receipts.dropped.map((d) => [d.address, d.reason]), [[otherModel, "mismatch"], [mine, "wrong-type"]]);

    // without an indexer: getProgramAccounts with the same filters
    const fromChain = await listAccounts(accountLists.receiptsByModelHash(model), { chain: chain.both });
    assert.deepEqual([fromChain.source, fromChain.accounts.map((a) => a.address)], ["chain", [receipt]]);

    const connection = { label: "memory", ...chain.both, close: async () => {} } as unknown as MarketConnection;
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["--indexer", server.url, "usage", "list", "--model", "ab".repeat(32)], { streams: { stdout, stderr }, connection, env: {} });
    assert.equal(code, EXIT.ok, stderr.text);
    assert.match(stdout.text, new RegExp(`^${receipt}  .*training  dataset ${dataset}  model ${"ab".repeat(32)}\n$`));
    assert.match(stderr.text, new RegExp(`warning: the indexer at ${server.url} listed ${otherModel}, left out: on the chain it is not one of the usage receipts of model ab`));
  });
});

describe("the delivery daemon with an indexer", () => {
  test("a pass takes the pending deliveries from the indexer, and looks on chain when it cannot be reached", async () => {
    const seed = new Uint8Array(32).fill(3);
    const secretKey = new Uint8Array(64);
    secretKey.set(seed);
    secretKey.set(ed25519.getPublicKey(seed), 32);
    const signer = await createKeyPairSignerFromBytes(secretKey);
    const wallet = keypairWallet({ signer, secretKey });
    const [dataset, license, buyer] = await addresses(3);
    const datasetAcc = datasetAccount(dataset!, datasetArgs(signer.address));
    const licenseAcc = licenseAccount(license!, dataset!, buyer!, LicenseState.AwaitingKey);
    const chain = memoryChain([datasetAcc, licenseAcc]);
    let scans = 0;
    const connection = {
      label: "memory",
      getAccounts: chain.reader.getAccounts,
      getProgramAccounts: (filters: Parameters<MarketConnection["getProgramAccounts"]>[0]) => ((scans += 1), chain.source.getProgramAccounts(filters)),
      now: async () => 1_700_000_200n,
    } as unknown as MarketConnection;
    // no metadata anywhere: every delivery fails after the licence is found, which is what is counted
    const store = { cat: () => { throw new ContentNotFoundError("x", "empty"); }, has: async () => false } as unknown as ContentStore;
    const pending = await chainDiscovery(chain.both).pendingDeliveries(signer.address);
    const answering: Discovery = { source: "indexer", label: "test", searchDatasets: async () => { throw new Error("unused"); }, pendingDeliveries: async () => pending };
    const viaIndexer = await deliverPendingKeys(connection, store, wallet, undefined, { discovery: answering, delegated: async () => [] });
    assert.deepEqual(viaIndexer.events.map((e) => e.license), [license]);
    assert.equal(scans, 0, "no getProgramAccounts: the indexer named the licence");

    const errors: unknown[] = [];
    const down: Discovery = { ...answering, pendingDeliveries: async () => { throw new IndexerUnavailableError("http://127.0.0.1:1", "connection refused"); } };
    const fallback = await deliverPendingKeys(connection, store, wallet, undefined, { discovery: down, onIndexerError: (e) => errors.push(e) });
    assert.equal(errors.length, 1);
    assert.deepEqual(fallback.events.map((e) => e.license), [license], "found on chain instead");
    assert.ok(scans >= 2, "datasets and licences listed on chain");
  });
});

describe("one query, two paths", () => {
  test("text is matched by words, the last one as a prefix, without regard to case or accents", () => {
    const d = { title: "Café Support-Chats 2024", tags: [encodeTag("NLP"), new Uint8Array(24), new Uint8Array(24), new Uint8Array(24), new Uint8Array(24)] };
    assert.ok(matchesText(d, "cafe support"));
    assert.ok(matchesText(d, "CHATS nl"));
    assert.ok(matchesText(d, "2024 sup"));
    assert.ok(!matchesText(d, "port chats"), "a word inside another is not a match");
    assert.ok(!matchesText(d, "su chats"), "only the last word is a prefix");
  });

  test("the chain path pages by cursor in the indexer's order", async () => {
    const [owner, ...rest] = await addresses(13);
    const accounts = rest.map((address, i) =>
      datasetAccount(address, datasetArgs(owner!, { price: BigInt(1_000_000 * (i % 4)), createdAt: 1000 + (i % 3), title: `Set ${i}` })),
    );
    const chain = memoryChain(accounts);
    const discovery = chainDiscovery(chain.both);
    for (const sort of ["price", "price_desc", "newest", "sales", "rating"] as const) {
      const all = (await discovery.searchDatasets({ sort }, { limit: 100 })).datasets;
      const paged = await searchAllDatasets(discovery, { sort }, { limit: 5 });
      assert.deepEqual(paged.datasets.map((d) => d.address), all.map((d) => d.address), sort);
      assert.equal(all.length, 12);
      for (let i = 1; i < all.length; i++) {
        const [a, b] = [all[i - 1]!.data, all[i]!.data] as [Dataset, Dataset];
        if (sort === "price") assert.ok(a.price <= b.price);
        if (sort === "newest") assert.ok(a.createdAt >= b.createdAt);
      }
    }
    await assert.rejects(discovery.searchDatasets({}, { cursor: "nonsense" }), RangeError);
  });
});

test("the SDK modules a browser dapp uses for discovery are free of Node-only code", async () => {
  const sdk = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src", "sdk");
  const seen = new Set<string>();
  const queue = ["indexer.ts", "search.ts", "dataset-query.ts"].map((f) => join(sdk, f));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, "utf8");
    for (const [, spec] of source.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
      assert.ok(!spec!.startsWith("node:"), `${file} imports ${spec}`);
      if (spec!.startsWith(".")) {
        const target = resolve(dirname(file), spec!.replace(/\.js$/, ".ts"));
        queue.push(target.endsWith(".ts") ? target : `${target}.ts`);
      } else assert.match(spec!, /^@solana\/kit(\/[a-z-]+)?$|^@noble\//, `${file} imports ${spec}`);
    }
    const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\bBuffer\b|\bprocess\.|\brequire\(/, `${file} uses a Node global`);
  }
  assert.ok(seen.size >= 5, `walked ${seen.size} modules`);
});
