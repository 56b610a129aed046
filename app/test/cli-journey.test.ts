// The whole marketplace through the CLI, on the real program (embedded SVM) and a real embedded IPFS
// node: an owner publishes a generated multi-MB file, a buyer pays in a USDC-like token, the
// delivery daemon delivers, the buyer downloads the exact bytes and records usage, the owner settles
// and claims; balances are checked to the base unit. Then each way a download or purchase can go
// wrong, each ending in one clear line, its exit code, and no output file.
import assert from "node:assert/strict";
import { randomBytes, createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, type Address } from "@solana/kit";

import {
  DEFAULT_CHUNK_SIZE,
  HEADER_LEN,
  TAG_LEN,
  generateContentKey,
  sealContentKey,
  toHex,
} from "../src/crypto/index.js";
import { walletTokenBalance } from "../src/client/index.js";
import { EXIT } from "../src/cli/failure.js";
import { USDC } from "../src/localnet/provision.js";
import { buildDeliverKey, fetchDataset, fetchLicense, findLicenseAddress, LicenseState } from "../src/sdk/index.js";
import type { CatOptions, ContentStore } from "../src/storage/index.js";
import { Capture, CliWorld, assertRefusal, type CliRun } from "./cli-harness.js";

const MiB = 1024 * 1024;
const HOUR = 3600n;

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** The real store, with the bytes of one CID altered in transit (a lying gateway or disk). */
class AlteringStore implements ContentStore {
  constructor(
    private readonly inner: ContentStore,
    private readonly cid: string,
    private readonly alter: (stream: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>,
  ) {}
  addFile(...args: Parameters<ContentStore["addFile"]>) {
    return this.inner.addFile(...args);
  }
  addJson(value: unknown) {
    return this.inner.addJson(value);
  }
  cat(cid: string, options?: CatOptions) {
    const stream = this.inner.cat(cid, options);
    return cid === this.cid ? this.alter(stream) : stream;
  }
  has(cid: string) {
    return this.inner.has(cid);
  }
  async stop() {}
}

async function* flipByteAt(stream: AsyncIterable<Uint8Array>, offset: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const piece of stream) {
    const copy = new Uint8Array(piece);
    if (offset >= seen && offset < seen + copy.length) copy[offset - seen]! ^= 0x01;
    seen += copy.length;
    yield copy;
  }
}

async function* stopAfter(stream: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const piece of stream) {
    if (seen + piece.length >= limit) {
      yield piece.subarray(0, limit - seen);
      return;
    }
    seen += piece.length;
    yield piece;
  }
}

describe("the marketplace through the CLI", () => {
  let world: CliWorld;
  let usdc: Address;
  let file: string;
  let content: Buffer;
  let dataset: Address;
  let license: Address;
  let downloads: string;

  before(async () => {
    world = await CliWorld.start();
    usdc = world.market.usdc.address;
    content = randomBytes(5 * MiB + 12_345);
    file = join(world.dir, "corpus.jsonl");
    await writeFile(file, content);
    downloads = join(world.dir, "downloads");
    await import("node:fs/promises").then((fs) => fs.mkdir(downloads));
  });

  after(async () => world.stop());

  test("the full journey: publish, buy, deliver (daemon), download, use, settle, claim, sweep", async () => {
    const operatorBefore = await walletTokenBalance(world.connection, world.market.usdc, world.operator.wallet.signer.address);

    const published = await world.json<{ dataset: string; contentHash: string }>(world.owner, [
      "dataset", "publish", file,
      "--title", "Support chats 2026",
      "--price", "10",
      "--mint", usdc,
      "--category", "text",
      "--tag", "chat", "--tag", "support",
      "--delivery-window", "2h",
      "--dispute-window", "1h",
    ]);
    dataset = address(published.dataset);
    assert.equal(published.contentHash, createHash("sha256").update(content).digest("hex"));

    const listed = await world.run(world.buyer, ["dataset", "search", "support", "chats"]);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(`${dataset}.*Support chats 2026.*10 `));

    const bought = await world.json<{ license: string; paid: string }>(world.buyer, [
      "license", "buy", dataset, "--max-price", "10",
    ]);
    license = address(bought.license);
    assert.equal(bought.paid, (10n * USDC).toString());
    assert.equal(await walletTokenBalance(world.connection, world.market.usdc, world.buyer.wallet.signer.address), 990n * USDC);

    // Before delivery a download is refused and writes nothing.
    const early = await world.run(world.buyer, ["download", dataset, "-o", join(downloads, "early.jsonl")]);
    assertRefusal(early, EXIT.refused, /not delivered the key/);

    // The delivery daemon delivers the waiting key; stopped and run again, it finds nothing owed.
    const abort = new AbortController();
    const daemon = world.run(world.owner, ["deliver", "--watch", "--interval", "1s"], { signal: abort.signal });
    for (let i = 0; i < 600; i++) {
      const { data } = await fetchLicense(world.connection, license);
      if (data.state === LicenseState.Delivered) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    abort.abort();
    const watched = await daemon;
    assert.equal(watched.code, 0, watched.stderr);
    assert.equal(watched.stdout.trim(), `delivered licence ${license} to ${world.buyer.wallet.signer.address}`);
    assert.match(watched.stderr, /delivery daemon stopped/);
    const again = await world.run(world.owner, ["deliver"]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^0 delivered, 0 missed, 0 failed/);

    const output = join(downloads, "corpus.jsonl");
    const download = await world.json<{ sha256: string; plaintextBytes: number }>(world.buyer, [
      "download", dataset, "-o", output,
    ]);
    assert.equal(download.plaintextBytes, content.length);
    assert.ok((await readFile(output)).equals(content), "the downloaded bytes are the published bytes");
    assert.deepEqual(await filesIn(downloads), ["corpus.jsonl"], "no temporary file left");

    const modelHash = toHex(new Uint8Array(randomBytes(32)));
    const used = await world.run(world.buyer, ["usage", "record", dataset, "--model", modelHash, "--purpose", "training", "--run-id", "run-1"]);
    assert.equal(used.code, 0, used.stderr);
    const provenance = await world.json<{ dataset: string; license: string }[]>(world.owner, ["usage", "list", "--model", modelHash]);
    assert.deepEqual(
      provenance.map((r) => [r.dataset, r.license]),
      [[dataset, license]],
    );
    const reviewed = await world.run(world.buyer, ["review", "submit", dataset, "--rating", "5", "--text", "clean data"]);
    assert.equal(reviewed.code, 0, reviewed.stderr);

    // Settlement waits for the dispute window after delivery.
    const tooSoon = await world.run(world.owner, ["settle", license]);
    assertRefusal(tooSoon, EXIT.refused, /DisputeWindowOpen/);
    await world.connection.advanceTime(HOUR + 1n);
    assert.equal((await world.run(world.owner, ["settle", license])).code, 0);
    const claimed = await world.json<{ claimed: string; balance: string }>(world.owner, ["claim", dataset]);
    // 10 USDC less the 2.5% protocol fee.
    assert.equal(claimed.claimed, "9750000");
    assert.equal(claimed.balance, "9750000");
    const swept = await world.json<{ swept: string }>(world.owner, ["sweep", dataset]);
    assert.equal(swept.swept, "250000");
    assert.equal(
      await walletTokenBalance(world.connection, world.market.usdc, world.operator.wallet.signer.address),
      operatorBefore + 250_000n,
    );
    const { data } = await fetchDataset(world.connection, dataset);
    assert.equal(data.ledger.escrowed, 0n);
    assert.equal(data.usageByPurpose[0], 1n);
    assert.equal(data.ratings.paid.count, 1);
    const vault = await walletTokenBalance(world.connection, world.market.usdc, dataset);
    assert.equal(vault, 0n, "everything paid in was paid out");
  });

  test("a buyer on another machine downloads from the owner's delivery daemon, which serves IPFS over TCP", async () => {
    const ownerNode = ["--ipfs", join(world.dir, "owner-node")];
    const p2pFile = join(world.dir, "audio.tar");
    const p2pContent = randomBytes(3 * MiB + 7);
    await writeFile(p2pFile, p2pContent);
    const published = await world.run(
      world.owner,
      [...ownerNode, "--json", "dataset", "publish", p2pFile, "--title", "Field recordings", "--price", "1", "--mint", usdc],
      { store: null },
    );
    assert.equal(published.code, 0, published.stderr);
    const p2pDataset = (JSON.parse(published.stdout) as { dataset: string }).dataset;
    assert.equal((await world.run(world.buyer, ["license", "buy", p2pDataset, "--max-price", "1"])).code, 0);

    // The owner's daemon delivers the key and serves the content; it prints where it listens.
    const daemon = world.background(world.owner, [...ownerNode, "--ipfs-listen", "/ip4/127.0.0.1/tcp/0", "deliver", "--watch", "--interval", "1s"]);
    let served: string | undefined;
    try {
      for (let i = 0; i < 600 && !(served && daemon.stdout.text.includes("delivered licence")); i++) {
        served = /serving dataset content to buyers at (\S+)/.exec(daemon.stderr.text)?.[1];
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(served ?? "", /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/, daemon.stderr.text);

      const output = join(world.dir, "audio.out");
      const buyerNode = ["--ipfs", join(world.dir, "buyer-node"), "--ipfs-peer", served!];
      const run = await world.run(world.buyer, [...buyerNode, "download", p2pDataset, "-o", output], { store: null });
      assert.equal(run.code, 0, run.stderr);
      assert.ok((await readFile(output)).equals(p2pContent));

      // Without the owner's node there is nothing to fetch from; a dead address is reported.
      const lonely = ["--ipfs", join(world.dir, "lonely-node")];
      const alone = await world.run(world.buyer, [...lonely, "download", p2pDataset, "-o", join(world.dir, "audio2.out"), "--timeout", "2s"], { store: null });
      assertRefusal(alone, EXIT.notFound, /not available on IPFS/);
      const dead = served!.replace(/\/tcp\/\d+\//, "/tcp/1/");
      const unreachable = await world.run(world.buyer, [...lonely, "--ipfs-peer", dead, "dataset", "show", p2pDataset], { store: null });
      assertRefusal(unreachable, EXIT.network, /cannot connect to IPFS peer/);
    } finally {
      const stopped = await daemon.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  });

  test("a price raised above --max-price is refused before paying", async () => {
    const buyer = await world.party("late-buyer", 100n * USDC);
    assert.equal((await world.run(world.owner, ["dataset", "update", dataset, "--price", "12"])).code, 0);
    const run = await world.run(buyer, ["license", "buy", dataset, "--max-price", "10"]);
    assertRefusal(run, EXIT.refused, /the price is 12, above your --max-price 10$/);
    assert.equal(await walletTokenBalance(world.connection, world.market.usdc, buyer.wallet.signer.address), 100n * USDC);
    assert.equal((await world.run(world.owner, ["dataset", "update", dataset, "--price", "10"])).code, 0);
  });

  test("a wrong delivered key fails verification and writes nothing", async () => {
    const buyer = await world.party("wrong-key-buyer", 100n * USDC);
    assert.equal((await world.run(buyer, ["license", "buy", dataset, "--max-price", "10"])).code, 0);
    // The owner seals some other content key to the buyer (a broken or dishonest delivery).
    const buyerLicense = await findLicenseAddress(dataset, buyer.wallet.signer.address);
    const { data } = await fetchLicense(world.connection, buyerLicense);
    const sealedKey = await sealContentKey(generateContentKey(), new Uint8Array(data.buyerEncryptionKey));
    await world.connection.send(
      world.owner.wallet.signer,
      await buildDeliverKey(world.connection, { deliverer: world.owner.wallet.signer, license: buyerLicense, sealedKey }),
    );
    const run = await world.run(buyer, ["download", dataset, "-o", join(downloads, "wrong-key.jsonl")]);
    assertRefusal(run, EXIT.verification, /failed verification: .*(wrong key|header)/i);
    assert.deepEqual(await filesIn(downloads), ["corpus.jsonl"]);
  });

  test("tampered ciphertext fails verification and writes nothing", async () => {
    const { data } = await fetchDataset(world.connection, dataset);
    const tampered = new AlteringStore(world.store, data.ciphertextCid, (s) => flipByteAt(s, 3 * MiB + 17));
    const run = await world.run(world.buyer, ["download", dataset, "-o", join(downloads, "tampered.jsonl")], { store: tampered });
    assertRefusal(run, EXIT.verification, /failed verification: .*chunk/i);
    assert.deepEqual(await filesIn(downloads), ["corpus.jsonl"]);
  });

  test("truncated ciphertext fails verification and writes nothing", async () => {
    const { data } = await fetchDataset(world.connection, dataset);
    // Cut exactly after the second chunk: every chunk present authenticates, the end is missing.
    const cut = HEADER_LEN + 2 * (DEFAULT_CHUNK_SIZE + TAG_LEN);
    const truncated = new AlteringStore(world.store, data.ciphertextCid, (s) => stopAfter(s, cut));
    const run = await world.run(world.buyer, ["download", dataset, "-o", join(downloads, "truncated.jsonl")], { store: truncated });
    assertRefusal(run, EXIT.verification, /failed verification: .*end of the stream is missing/);
    assert.deepEqual(await filesIn(downloads), ["corpus.jsonl"]);
  });

  test("content missing from IPFS is reported as not found and writes nothing", async () => {
    const { HeliaContentStore } = await import("../src/storage/index.js");
    const empty = await HeliaContentStore.open({ directory: join(world.dir, "empty-ipfs") });
    try {
      const run = await world.run(world.buyer, ["download", dataset, "-o", join(downloads, "missing.jsonl"), "--timeout", "2s"], {
        store: empty,
      });
      assertRefusal(run, EXIT.notFound, /not available on IPFS/);
    } finally {
      await empty.stop();
    }
    assert.deepEqual(await filesIn(downloads), ["corpus.jsonl"]);
  });

  test("an expired licence cannot download", async () => {
    const shortFile = join(world.dir, "short.bin");
    await writeFile(shortFile, randomBytes(300_000));
    const published = await world.json<{ dataset: string }>(world.owner, [
      "dataset", "publish", shortFile, "--title", "One-day licence", "--price", "1", "--mint", usdc, "--duration", "1d",
    ]);
    const shortDataset = address(published.dataset);
    assert.equal((await world.run(world.buyer, ["license", "buy", shortDataset, "--max-price", "1"])).code, 0);
    assert.match((await world.run(world.owner, ["deliver"])).stdout, /delivered licence/);
    await world.connection.advanceTime(2n * 86_400n);
    const run = await world.run(world.buyer, ["download", shortDataset, "-o", join(downloads, "expired.bin")]);
    assertRefusal(run, EXIT.refused, /expired at .*renew it/);
    const usage = await world.run(world.buyer, ["usage", "record", shortDataset, "--model", "00".repeat(32)]);
    assertRefusal(usage, EXIT.refused, /LicenseExpired/);
    assert.deepEqual(await filesIn(downloads), ["corpus.jsonl"]);
    const { data } = await fetchLicense(world.connection, await findLicenseAddress(shortDataset, world.buyer.wallet.signer.address));
    assert.equal(data.state, LicenseState.Delivered);
  });

  test("the operator's market commands: show, pause purchases, resume; others are refused", async () => {
    const shown = await world.json<{ authority: string; protocolFeeBps: number; purchasesPaused: boolean }>(world.buyer, ["market", "show"]);
    assert.equal(shown.authority, world.operator.wallet.signer.address);
    assert.equal(shown.protocolFeeBps, 250);
    assert.equal((await world.run(world.operator, ["market", "update", "--pause"])).code, 0);
    const buyer = await world.party("paused-buyer", 20n * USDC);
    assertRefusal(await world.run(buyer, ["license", "buy", dataset, "--max-price", "10"]), EXIT.refused, /PurchasesPaused/);
    assertRefusal(await world.run(world.owner, ["market", "update", "--resume"]), EXIT.refused, /NotMarketplaceAuthority/);
    assert.equal((await world.run(world.operator, ["market", "update", "--resume"])).code, 0);
    assert.equal((await world.run(buyer, ["license", "buy", dataset, "--max-price", "10"])).code, 0);
    const again = await world.run(world.operator, ["market", "init", "--treasury", world.operator.wallet.signer.address]);
    assert.equal(again.code, EXIT.refused, again.stderr);
  });

  test("the minimum windows are the operator's policy: shown, changed within 5s..7d, applied to new datasets", async () => {
    const windows = async () =>
      world.json<{ minDeliveryWindowSecs: number; minDisputeWindowSecs: number }>(world.buyer, ["market", "show"]);
    const initial = await windows();
    assert.deepEqual([initial.minDeliveryWindowSecs, initial.minDisputeWindowSecs], [3_600, 3_600]);
    const text = await world.run(world.buyer, ["market", "show"]);
    assert.match(text.stdout, /min windows {3}delivery 1h, dispute 1h \(for new datasets\)/);
    for (const bad of ["4s", "8d"]) {
      assertRefusal(await world.run(world.operator, ["market", "update", "--min-dispute-window", bad]), EXIT.usage, /--min-dispute-window must be between 5s and 7d/);
    }
    assertRefusal(await world.run(world.owner, ["market", "update", "--min-dispute-window", "10s"]), EXIT.refused, /NotMarketplaceAuthority/);
    const path = join(world.dir, "quick.bin");
    await writeFile(path, randomBytes(10_000));
    const quick = ["dataset", "publish", path, "--title", "quick", "--price", "1", "--mint", usdc, "--dispute-window", "10s"];
    assertRefusal(await world.run(world.owner, quick), EXIT.usage, /dispute window must be between 1h \(this marketplace's minimum\)/);
    assert.equal((await world.run(world.operator, ["market", "update", "--min-dispute-window", "10s"])).code, 0);
    assert.equal((await windows()).minDisputeWindowSecs, 10);
    const published = await world.json<{ dataset: Address }>(world.owner, quick);
    assert.equal((await fetchDataset(world.connection, published.dataset)).data.disputeWindowSecs, 10);
    assert.equal((await world.run(world.operator, ["market", "update", "--min-dispute-window", "1h"])).code, 0);
  });

  test("market init creates the marketplace on a fresh deployment, signed by the upgrade authority", async () => {
    const { SvmConnection } = await import("../src/client/svm.js");
    const { runCli } = await import("../src/cli/program.js");
    const deployer = await world.party("deployer");
    const fresh = await SvmConnection.start({ upgradeAuthority: deployer.wallet.signer.address });
    await fresh.airdrop(deployer.wallet.signer.address, 10n ** 9n);
    const out = new Capture();
    const err = new Capture();
    const code = await runCli(
      ["--keypair", deployer.keypairPath, "--json", "market", "init", "--treasury", world.operator.wallet.signer.address, "--fee-bps", "100"],
      { streams: { stdout: out, stderr: err }, connection: fresh, store: world.store, env: {} },
    );
    assert.equal(code, 0, err.text);
    const created = JSON.parse(out.text) as { authority: string; treasury: string; arbiter: string; protocolFeeBps: number };
    assert.deepEqual(
      [created.authority, created.treasury, created.arbiter, created.protocolFeeBps],
      [deployer.wallet.signer.address, world.operator.wallet.signer.address, deployer.wallet.signer.address, 100],
    );
  });

  test("after the sale: metered credits, a dispute ruled as a split, a refund after a missed delivery, a renewal", async () => {
    const publish = async (title: string, extra: string[]) => {
      const path = join(world.dir, `${title}.bin`);
      await writeFile(path, randomBytes(200_000));
      return (await world.json<{ dataset: string }>(world.owner, ["dataset", "publish", path, "--title", title, "--mint", usdc, ...extra])).dataset;
    };
    const balanceOf = (party: { wallet: { signer: { address: Address } } }) =>
      walletTokenBalance(world.connection, world.market.usdc, party.wallet.signer.address);

    // Metered: 2 credits at 0.5, each use burns one; a third use is refused until a top-up.
    const metered = await publish("metered", ["--price", "0.5", "--metered", "--dispute-window", "1h"]);
    const user = await world.party("metered-user", 10n * USDC);
    assertRefusal(await world.run(user, ["license", "buy", metered, "--max-price", "0.5", "--credits", "2"]), EXIT.refused, /the price is 1, above your --max-price 0.5/);
    assert.equal((await world.run(user, ["license", "buy", metered, "--max-price", "1", "--credits", "2"])).code, 0);
    assert.equal((await world.run(world.owner, ["deliver"])).code, 0);
    for (const run of ["r1", "r2"]) {
      assert.equal((await world.run(user, ["usage", "record", metered, "--model", "cd".repeat(32), "--run-id", run])).code, 0);
    }
    assertRefusal(await world.run(user, ["usage", "record", metered, "--model", "cd".repeat(32)]), EXIT.refused, /NoCreditsLeft/);
    const meteredLicense = await findLicenseAddress(address(metered), user.wallet.signer.address);
    await world.connection.advanceTime(HOUR + 1n);
    assert.equal((await world.run(user, ["settle", meteredLicense])).code, 0);
    assert.equal((await world.run(user, ["license", "credits", metered, "3", "--max-price", "1.5"])).code, 0);
    assert.equal((await world.run(user, ["usage", "record", metered, "--model", "cd".repeat(32)])).code, 0);
    const receipts = await world.json<unknown[]>(user, ["usage", "list", "--license", meteredLicense]);
    assert.equal(receipts.length, 3);
    assert.equal(await balanceOf(user), 10n * USDC - 2_500_000n);

    // A dispute: the arbiter (the operator) gives 40% back; the record is then closed.
    const disputed = await publish("disputed", ["--price", "10", "--dispute-window", "1h"]);
    const unhappy = await world.party("unhappy", 10n * USDC);
    assert.equal((await world.run(unhappy, ["license", "buy", disputed, "--max-price", "10"])).code, 0);
    assert.equal((await world.run(world.owner, ["deliver"])).code, 0);
    assert.equal((await world.run(unhappy, ["dispute", "open", disputed, "--reason", "not-as-described", "--evidence", "ipfs://evidence"])).code, 0);
    const disputedLicense = await findLicenseAddress(address(disputed), unhappy.wallet.signer.address);
    assertRefusal(await world.run(world.owner, ["dispute", "rule", disputedLicense, "--refund"]), EXIT.refused, /NotArbiter/);
    assertRefusal(await world.run(world.operator, ["dispute", "rule", disputedLicense, "--refund", "--release"]), EXIT.usage, /exactly one of/);
    assert.equal((await world.run(world.operator, ["dispute", "rule", disputedLicense, "--split", "4000"])).code, 0);
    assert.equal(await balanceOf(unhappy), 4n * USDC);
    const shown = await world.run(unhappy, ["dispute", "show", disputedLicense]);
    assert.match(shown.stdout, /not-as-described; evidence ipfs:\/\/evidence/);
    assert.equal((await world.run(unhappy, ["dispute", "close", disputed])).code, 0);

    // A missed delivery: once the window has passed anyone may refund, and the buyer is paid back.
    const missed = await publish("missed", ["--price", "3", "--delivery-window", "1h"]);
    const waiting = await world.party("waiting", 3n * USDC);
    assert.equal((await world.run(waiting, ["license", "buy", missed, "--max-price", "3"])).code, 0);
    const missedLicense = await findLicenseAddress(address(missed), waiting.wallet.signer.address);
    assertRefusal(await world.run(waiting, ["refund", missedLicense]), EXIT.refused, /DeliveryWindowOpen/);
    await world.connection.advanceTime(HOUR + 1n);
    const late = await world.run(world.owner, ["deliver"]);
    assert.match(late.stdout, /missed licence .*delivery window has closed/);
    assert.equal((await world.run(world.buyer, ["refund", missedLicense])).code, 0);
    assert.equal(await balanceOf(waiting), 3n * USDC);
    assert.equal((await world.run(waiting, ["close-license", missed])).code, 0);

    // A 30-day licence renewed once settled.
    const monthly = await publish("monthly", ["--price", "2", "--duration", "30d", "--dispute-window", "1h"]);
    const subscriber = await world.party("subscriber", 10n * USDC);
    assert.equal((await world.run(subscriber, ["license", "buy", monthly, "--max-price", "2"])).code, 0);
    assert.equal((await world.run(world.owner, ["deliver"])).code, 0);
    const monthlyLicense = await findLicenseAddress(address(monthly), subscriber.wallet.signer.address);
    await world.connection.advanceTime(HOUR + 1n);
    assert.equal((await world.run(world.owner, ["settle", monthlyLicense])).code, 0);
    const before = (await fetchLicense(world.connection, monthlyLicense)).data.expiresAt;
    assert.equal((await world.run(subscriber, ["license", "renew", monthly, "--max-price", "2"])).code, 0);
    assert.equal((await fetchLicense(world.connection, monthlyLicense)).data.expiresAt, before + 30n * 86_400n);
    assert.equal(await balanceOf(subscriber), 6n * USDC);
  });

  test("lifecycle and allow-list: paused and unlisted datasets, allow-listed buyers, a retired dataset closed", async () => {
    const path = join(world.dir, "private.bin");
    await writeFile(path, randomBytes(100_000));
    const privateSet = (await world.json<{ dataset: string }>(world.owner, [
      "dataset", "publish", path, "--title", "Private set", "--price", "1", "--mint", usdc, "--tag", "private", "--allow-list",
    ])).dataset;
    const guest = await world.party("guest", 5n * USDC);
    assertRefusal(await world.run(guest, ["license", "buy", privateSet, "--max-price", "1"]), EXIT.refused, /NotOnAllowList/);
    assert.equal((await world.run(world.owner, ["dataset", "allow", privateSet, guest.wallet.signer.address])).code, 0);

    assert.equal((await world.run(world.owner, ["dataset", "state", privateSet, "paused"])).code, 0);
    assertRefusal(await world.run(guest, ["license", "buy", privateSet, "--max-price", "1"]), EXIT.refused, /DatasetNotActive/);
    assert.equal((await world.run(world.owner, ["dataset", "state", privateSet, "unlisted"])).code, 0);
    const listed = await world.json<{ address: string }[]>(guest, ["dataset", "list", "--tag", "private"]);
    assert.deepEqual(listed, [], "unlisted datasets are not listed");
    assert.equal((await world.json<{ address: string }[]>(guest, ["dataset", "list", "--tag", "private", "--state", "unlisted"])).length, 1);
    assert.equal((await world.run(world.owner, ["dataset", "state", privateSet, "active"])).code, 0);
    assert.equal((await world.run(guest, ["license", "buy", privateSet, "--max-price", "1"])).code, 0);
    assert.equal((await world.run(world.owner, ["dataset", "disallow", privateSet, guest.wallet.signer.address])).code, 0);

    // Retiring and closing: refused while the licence is owed, allowed once everything is paid out.
    assert.equal((await world.run(world.owner, ["dataset", "state", privateSet, "retired"])).code, 0);
    assertRefusal(await world.run(world.owner, ["dataset", "close", privateSet]), EXIT.refused, /DatasetStillInUse|LicenseStillOwed/);
    const guestLicense = await findLicenseAddress(address(privateSet), guest.wallet.signer.address);
    await world.connection.advanceTime(86_400n + 1n);
    assert.equal((await world.run(guest, ["refund", guestLicense])).code, 0);
    assert.equal((await world.run(guest, ["close-license", privateSet])).code, 0);
    const closed = await world.run(world.owner, ["dataset", "close", privateSet]);
    assert.equal(closed.code, 0, closed.stderr);
    assertRefusal(await world.run(guest, ["dataset", "show", privateSet]), EXIT.notFound, /does not exist/);
  });

  test("Ctrl-C stops a download or a publication cleanly: nothing half-written, nothing registered", async () => {
    const interrupted = new AbortController();
    interrupted.abort();
    const download = await world.run(world.buyer, ["download", dataset, "-o", join(downloads, "interrupted.jsonl")], { signal: interrupted.signal });
    assertRefusal(download, EXIT.interrupted, /interrupted/);
    assert.deepEqual(await filesIn(downloads), ["corpus.jsonl"]);

    const draft = join(world.dir, "draft.bin");
    await writeFile(draft, randomBytes(2 * MiB));
    const before = await world.json<unknown[]>(world.owner, ["dataset", "list", "--mine"]);
    const publish = await world.run(world.owner, ["dataset", "publish", draft, "--title", "Draft", "--price", "1", "--mint", usdc], { signal: interrupted.signal });
    assertRefusal(publish, EXIT.interrupted, /interrupted/);
    assert.equal((await world.json<unknown[]>(world.owner, ["dataset", "list", "--mine"])).length, before.length);
  });

  test("user mistakes get one line and a usage exit code", async () => {
    assertRefusal(await world.run(world.buyer, ["license", "buy", "not-an-address", "--max-price", "1"]), EXIT.usage, /not a valid address/);
    assertRefusal(await world.run(world.buyer, ["license", "buy", dataset, "--max-price", "ten"]), EXIT.usage, /"ten" is not an amount/);
    assertRefusal(
      await world.run(world.owner, ["dataset", "publish", join(world.dir, "nope.bin"), "--title", "x", "--price", "1", "--mint", usdc]),
      EXIT.usage,
      /cannot read .*nope\.bin: ENOENT/,
    );
    const missingKeypair = await runWithKeypair(world, join(world.dir, "missing.json"), ["wallet", "show"]);
    assertRefusal(missingKeypair, EXIT.usage, /no keypair file at/);
    const garbage = join(world.dir, "garbage.json");
    await writeFile(garbage, "[1,2,3]");
    const bad = await runWithKeypair(world, garbage, ["wallet", "show"]);
    assertRefusal(bad, EXIT.usage, /not a Solana keypair file/);
    assert.doesNotMatch(bad.stderr, /1,2,3/, "the keypair file's content is never echoed");
    const overwrite = await world.run(world.buyer, ["wallet", "new"]);
    assertRefusal(overwrite, EXIT.usage, /already exists; a keypair file is never overwritten/);
    const unknown = await world.run(world.buyer, ["licence", "buy"]);
    assert.equal(unknown.code, EXIT.usage);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /);
    // Bounds the program enforces are checked before encrypting anything.
    for (const [extra, message] of [
      [["--title", "x".repeat(65)], /the title must be 1 to 64 bytes/],
      [["--title", "ok", "--dispute-window", "10m"], /dispute window must be between 1h \(this marketplace's minimum\) and 30d/],
      [["--title", "ok", "--recipient", `${world.owner.wallet.signer.address}:6000`], /must add up to 10000 bps/],
    ] as const) {
      const refused = await world.run(world.owner, ["dataset", "publish", file, "--price", "1", "--mint", usdc, ...extra]);
      assertRefusal(refused, EXIT.usage, message);
      assert.doesNotMatch(refused.stderr, /encrypting/);
    }
    const duplicate = await world.run(world.owner, ["dataset", "publish", file, "--title", "again", "--price", "1", "--mint", usdc]);
    assertRefusal(duplicate, EXIT.refused, /already registered as dataset/);
  });

  test("secret keys never appear in any output", async () => {
    const secret = Buffer.from(world.buyer.wallet.secretKey);
    const runs = [
      await world.run(world.buyer, ["wallet", "show", "--mint", usdc]),
      await world.run(world.buyer, ["--json", "wallet", "show"]),
      await world.run(world.buyer, ["license", "list"]),
    ];
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      const text = run.stdout + run.stderr;
      for (const form of [secret.toString("hex"), secret.subarray(0, 32).toString("hex"), secret.toString("base64"), JSON.stringify([...secret])]) {
        assert.ok(!text.includes(form), "a secret key form appeared in output");
      }
    }
  });
});

async function runWithKeypair(world: CliWorld, keypairPath: string, argv: string[]): Promise<CliRun> {
  return world.run({ wallet: world.buyer.wallet, keypairPath }, argv);
}
