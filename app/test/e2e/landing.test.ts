// Landing transactions through a misbehaving RPC node: a real solana-test-validator with the program,
// and in front of it the fault-injecting proxy of fault-proxy.ts (127.0.0.1 only). Each fault is
// checked to have happened (the proxy's counts), the client's retries are counted through
// RpcConnection's events, and the on-chain effect is checked to have happened exactly once.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";

import { address, type Address, type Signature } from "@solana/kit";

import {
  RpcConnection,
  buyLicense,
  computeUnitLimitFor,
  keypairWallet,
  mintTo,
  walletTokenBalance,
  type LandingEvent,
  type LoadedWallet,
  type RetryCounts,
  type RpcConnectionOptions,
} from "../../src/client/index.js";
import { EXIT } from "../../src/cli/failure.js";
import { USDC, provisionMarket } from "../../src/localnet/provision.js";
import { startLocalStack, type LocalStack } from "../../src/localnet/stack.js";
import { HeliaContentStore, type ContentStore } from "../../src/storage/index.js";
import { FaultProxy } from "./fault-proxy.js";
import { party, runCliAt, waitFor } from "./helpers.js";

const PRICE = 4_500_000n;

interface TransactionReport {
  signature: string;
  computeUnitLimit: number;
  priorityFeeMicroLamports: string;
  limitSource: string;
  simulatedUnits: number | null;
  feeSource: string;
  retries: RetryCounts;
}

describe("landing transactions through a faulty RPC node", { timeout: 600_000 }, () => {
  let dir: string;
  let stack: LocalStack;
  let store: ContentStore;
  let proxy: FaultProxy;
  let dataset: Address;
  const buyers: LoadedWallet[] = [];
  let fixedFeeSignature: Signature | undefined;

  /** A connection through the proxy with short intervals, recording what it retried. */
  const throughProxy = (events: LandingEvent[], options: RpcConnectionOptions = {}, url = proxy.url) =>
    new RpcConnection(url, { rebroadcastIntervalMs: 1_000, pollIntervalMs: 300, onEvent: (e) => events.push(e), ...options });

  const usdcOf = (owner: Address) => walletTokenBalance(stack.connection, stack.market.usdc, owner);

  /** The fee the cluster charged: 5000 lamports per signature plus limit × price / 10^6, rounded up. */
  const chargedFee = async (signature: Signature) => {
    const details = await stack.connection.rpc
      .getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" })
      .send();
    assert.ok(details?.meta, `transaction ${signature} not found`);
    return details.meta.fee;
  };
  const expectedFee = (limit: number, microLamports: bigint) => 5_000n + (BigInt(limit) * microLamports + 999_999n) / 1_000_000n;

  const report = (t: TestContext, what: string, retries: RetryCounts | undefined) =>
    t.diagnostic(
      `${what}: ${retries?.rpc ?? 0} RPC retries (${retries?.rateLimited ?? 0} after 429, ${retries?.timedOut ?? 0} after timeouts), ` +
        `${retries?.rebroadcasts ?? 0} re-broadcasts, ${retries?.resigned ?? 0} re-signed`,
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "data-market-landing-"));
    // Ports apart from the other end-to-end suite's and from a developer's own local stack.
    stack = await startLocalStack({ dir, rpcPort: 28_899, faucetPort: 29_900 });
    store = await HeliaContentStore.open({ directory: join(dir, "ipfs") });
    proxy = await FaultProxy.start(stack.url);
    for (let i = 0; i < 5; i++) buyers.push(await party(dir, `buyer-${i}`));
    await provisionMarket(stack.connection, {
      operator: stack.wallets.operator.wallet.signer,
      usdcMint: stack.market.usdc.address,
      wallets: buyers.map((b) => ({ address: b.signer.address, usdc: 20n * USDC })),
    });
    const file = join(dir, "corpus.txt");
    await writeFile(file, randomBytes(64 * 1024));
    const published = await runCliAt(stack.url, stack.wallets.owner.keypairPath, [
      "--json", "dataset", "publish", file, "--title", "Landing corpus", "--price", "4.5", "--mint", stack.market.usdc.address,
    ], { store });
    assert.equal(published.code, 0, published.stderr);
    dataset = address((JSON.parse(published.stdout) as { dataset: string }).dataset);
  });

  after(async () => {
    await proxy?.close();
    await store?.stop();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("--priority-fee and --compute-unit-limit are set as given, shown in --json and --verbose, and charged", { timeout: 90_000 }, async (t) => {
    proxy.set({});
    const keypair = join(dir, "buyer-0.json");
    const run = await runCliAt(proxy.url, keypair, [
      "--json", "--verbose", "--priority-fee", "5000", "--compute-unit-limit", "250000", "license", "buy", dataset, "--max-price", "4.5",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const [sent] = (JSON.parse(run.stdout) as { transactions: TransactionReport[] }).transactions;
    assert.ok(sent);
    assert.equal(sent.computeUnitLimit, 250_000);
    assert.equal(sent.priorityFeeMicroLamports, "5000");
    assert.deepEqual([sent.limitSource, sent.feeSource], ["option", "option"]);
    assert.match(run.stderr, /compute-unit limit 250000 \(--compute-unit-limit\); priority fee 5000 micro-lamports\/CU \(--priority-fee\)/);
    fixedFeeSignature = sent.signature as Signature;
    assert.equal(await chargedFee(fixedFeeSignature), expectedFee(250_000, 5_000n));
    t.diagnostic(`fixed budget: limit ${sent.computeUnitLimit} CU, fee ${sent.priorityFeeMicroLamports} micro-lamports/CU`);
  });

  test("a purchase lands although the node drops its first two sends; the limit is simulated, the fee taken from recent fees", { timeout: 90_000 }, async (t) => {
    // The node reports a slot's fees once the slot is rooted: wait until the fixed-fee purchase shows.
    await waitFor(async () => {
      const fees = await stack.connection.rpc.getRecentPrioritizationFees([dataset]).send();
      return fees.some((f) => f.prioritizationFee > 0n);
    }, 60_000);
    proxy.set({ dropSends: 2 });
    const buyer = buyers[1]!;
    const before = await usdcOf(buyer.signer.address);
    const started = Date.now();
    const run = await runCliAt(proxy.url, join(dir, "buyer-1.json"), ["--json", "--verbose", "license", "buy", dataset, "--max-price", "4.5"]);
    assert.equal(run.code, 0, run.stderr);
    const [sent] = (JSON.parse(run.stdout) as { transactions: TransactionReport[] }).transactions;
    assert.ok(sent);
    assert.equal(proxy.counts.droppedSends, 2);
    assert.ok(sent.retries.rebroadcasts >= 2, `re-broadcasts: ${sent.retries.rebroadcasts}`);
    assert.equal(sent.retries.resigned, 0);
    assert.equal(proxy.counts.sends.size, 1, "one signed transaction only");
    assert.equal(sent.limitSource, "simulation");
    assert.ok(sent.simulatedUnits && sent.simulatedUnits > 10_000, `simulated ${sent.simulatedUnits}`);
    assert.equal(sent.computeUnitLimit, computeUnitLimitFor(sent.simulatedUnits));
    assert.equal(sent.feeSource, "recent-fees");
    // The previous purchase of this dataset paid 5000 micro-lamports/CU for the same dataset and vault.
    assert.equal(sent.priorityFeeMicroLamports, "5000");
    assert.equal(await chargedFee(sent.signature as Signature), expectedFee(sent.computeUnitLimit, 5_000n));
    assert.equal(await usdcOf(buyer.signer.address), before - PRICE);
    assert.match(run.stderr, /re-sent/);
    t.diagnostic(
      `purchase: simulated ${sent.simulatedUnits} CU, limit ${sent.computeUnitLimit} CU, priority fee ${sent.priorityFeeMicroLamports} micro-lamports/CU; ` +
        `dropped ${proxy.counts.droppedSends}; ${Date.now() - started} ms`,
    );
    report(t, "dropped sends", sent.retries);
  });

  test("a purchase lands through answers slower than the request timeout", { timeout: 90_000 }, async (t) => {
    proxy.set({ delay: { ms: 2_000, count: 2, methods: ["sendTransaction"] } });
    const events: LandingEvent[] = [];
    const connection = throughProxy(events, { requestTimeoutMs: 800 });
    const buyer = buyers[2]!;
    const before = await usdcOf(buyer.signer.address);
    const result = await buyLicense(connection, keypairWallet(buyer), { dataset, maxPrice: PRICE });
    assert.equal(proxy.counts.delayed, 2);
    assert.equal(result.retries?.timedOut, 2);
    assert.equal(events.filter((e) => e.type === "rpc-retry" && e.method === "sendTransaction").length, 2);
    assert.equal(result.retries?.resigned, 0);
    assert.equal(await usdcOf(buyer.signer.address), before - PRICE);
    report(t, "slow answers", result.retries);
  });

  test("a purchase lands through HTTP 429s, waiting as long as Retry-After says", { timeout: 90_000 }, async (t) => {
    proxy.set({ rateLimit: 3, retryAfterSeconds: 1 });
    const events: LandingEvent[] = [];
    const connection = throughProxy(events);
    const buyer = buyers[3]!;
    const before = await usdcOf(buyer.signer.address);
    const started = Date.now();
    const result = await buyLicense(connection, keypairWallet(buyer), { dataset, maxPrice: PRICE });
    const elapsed = Date.now() - started;
    assert.equal(proxy.counts.rateLimited, 3);
    // The 429s hit the reads before the send too, so the connection's own count is the one to check.
    assert.equal(connection.retries.rateLimited, 3);
    assert.deepEqual(
      events.filter((e) => e.type === "rpc-retry").map((e) => (e.type === "rpc-retry" ? e.delayMs : 0)),
      [1_000, 1_000, 1_000],
    );
    assert.ok(elapsed >= 3_000, `${elapsed} ms`);
    assert.equal(await usdcOf(buyer.signer.address), before - PRICE);
    report(t, "429 with Retry-After", connection.retries);
  });

  test("lost confirmations: the same signed transaction is re-sent, never a second one; the tokens move once", { timeout: 90_000 }, async (t) => {
    proxy.set({ loseStatuses: { count: 8 } });
    const events: LandingEvent[] = [];
    const connection = throughProxy(events);
    const owner = buyers[4]!.signer.address;
    const before = await usdcOf(owner);
    const operator = stack.wallets.operator.wallet.signer;
    await mintTo(connection, operator, stack.market.usdc, operator, owner, 7n * USDC);
    assert.equal(proxy.counts.statusesLost, 8);
    assert.equal(proxy.counts.sends.size, 1);
    assert.equal(connection.retries.resigned, 0);
    assert.ok(connection.retries.rebroadcasts >= 1, `re-broadcasts: ${connection.retries.rebroadcasts}`);
    assert.equal(await usdcOf(owner), before + 7n * USDC);
    report(t, "8 lost confirmations", connection.retries);
  });

  describe("waiting out a blockhash (about a minute, both at once)", { concurrency: true }, () => {
    test("every confirmation lost until the blockhash expired: found in the history, not signed again", { timeout: 180_000 }, async (t) => {
      const lossy = await FaultProxy.start(stack.url);
      try {
        lossy.set({ loseStatuses: { count: Infinity } });
        const events: LandingEvent[] = [];
        const connection = throughProxy(events, {}, lossy.url);
        const owner = buyers[0]!.signer.address;
        const before = await usdcOf(owner);
        const operator = stack.wallets.operator.wallet.signer;
        await mintTo(connection, operator, stack.market.usdc, operator, owner, 3n * USDC);
        assert.ok(lossy.counts.statusesLost > 50, `lost ${lossy.counts.statusesLost}`);
        assert.equal(lossy.counts.sends.size, 1, "one signed transaction only");
        assert.equal(connection.retries.resigned, 0);
        assert.equal(events.filter((e) => e.type === "blockhash-expired").length, 0);
        assert.equal(await usdcOf(owner), before + 3n * USDC);
        report(t, `${lossy.counts.statusesLost} lost confirmations`, connection.retries);
      } finally {
        await lossy.close();
      }
    });

    test("a transaction the node never forwards expires, and only then is signed again; the tokens move once", { timeout: 180_000 }, async (t) => {
      const dropping = await FaultProxy.start(stack.url);
      try {
        dropping.set({ dropFirstSignature: true });
        const events: LandingEvent[] = [];
        const connection = throughProxy(events, {}, dropping.url);
        const owner = buyers[1]!.signer.address;
        const before = await usdcOf(owner);
        const operator = stack.wallets.operator.wallet.signer;
        await mintTo(connection, operator, stack.market.usdc, operator, owner, 5n * USDC);
        const expired = events.find((e) => e.type === "blockhash-expired");
        assert.ok(expired && expired.type === "blockhash-expired" && expired.blockHeight > expired.lastValidBlockHeight);
        assert.equal(connection.retries.resigned, 1);
        assert.equal(dropping.counts.sends.size, 2, "signed twice");
        assert.ok(dropping.counts.droppedSends > 10, `dropped ${dropping.counts.droppedSends}`);
        assert.equal(await usdcOf(owner), before + 5n * USDC);
        report(t, `${dropping.counts.droppedSends} dropped sends of the first signature`, connection.retries);
      } finally {
        await dropping.close();
      }
    });
  });

  test("--commitment finalized waits until the transaction is finalized", { timeout: 90_000 }, async () => {
    proxy.set({});
    const run = await runCliAt(proxy.url, stack.wallets.owner.keypairPath, ["--json", "--commitment", "finalized", "dataset", "update", dataset, "--price", "4.5"]);
    assert.equal(run.code, 0, run.stderr);
    const { signature } = JSON.parse(run.stdout) as { signature: Signature };
    const { value } = await stack.connection.rpc.getSignatureStatuses([signature]).send();
    assert.equal(value[0]?.confirmationStatus, "finalized");
  });

  test("a node that always answers 429 ends in one clear error and exit code 6, in bounded time", { timeout: 90_000 }, async (t) => {
    proxy.set({ rateLimit: "always", retryAfterSeconds: 1 });
    const started = Date.now();
    const run = await runCliAt(proxy.url, join(dir, "buyer-4.json"), ["license", "buy", dataset, "--max-price", "4.5"]);
    const elapsed = Date.now() - started;
    assert.equal(run.code, EXIT.network);
    assert.match(run.stderr, /^error: cannot reach the RPC node: .* after 6 attempts: HTTP 429 Too Many Requests\n$/);
    assert.equal(proxy.counts.rateLimited, 6);
    assert.equal(proxy.counts.forwarded, 0);
    assert.ok(elapsed < 15_000, `${elapsed} ms`);
    t.diagnostic(`always 429: gave up after ${proxy.counts.rateLimited} attempts in ${elapsed} ms`);
  });
});
