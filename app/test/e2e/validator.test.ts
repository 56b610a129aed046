// End to end over JSON-RPC: a real solana-test-validator (from PATH) with the compiled program
// deployed as an upgradeable program, started and stopped here. The CLI runs as a user runs it,
// with --url and keypair files. Every party stores through the stack's IPFS node over HTTP (its
// Kubo RPC subset, as `--ipfs <url>` does), and the content is then read back through its
// trustless gateway.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, type Address } from "@solana/kit";

import { walletTokenBalance } from "../../src/client/index.js";
import { runCli } from "../../src/cli/program.js";
import { EXIT } from "../../src/cli/failure.js";
import { runJourney } from "../../src/journey/journey.js";
import { USDC, provisionMarket } from "../../src/localnet/provision.js";
import { startLocalStack, type LocalStack } from "../../src/localnet/stack.js";
import { LicenseState, fetchLicense, findLicenseAddress } from "../../src/sdk/index.js";
import { KuboContentStore, type ContentStore } from "../../src/storage/index.js";
import { Capture, party, runCliAt, waitFor } from "./helpers.js";

describe("over JSON-RPC against a local validator", () => {
  let dir: string;
  let stack: LocalStack;
  let store: ContentStore;

  const cli = (keypair: string, argv: string[], signal?: AbortSignal) => runCliAt(stack.url, keypair, argv, { store, signal });

  /** A `deliver --watch` daemon runs with `daemonKeypair` while the buyer buys; returns once delivered. */
  const buyWhileWatching = async (daemonKeypair: string, buyer: LocalStack["wallets"]["buyer"], dataset: Address, maxPrice: string) => {
    const abort = new AbortController();
    const daemon = cli(daemonKeypair, ["deliver", "--watch", "--interval", "1s"], abort.signal);
    const bought = await cli(buyer.keypairPath, ["license", "buy", dataset, "--max-price", maxPrice]);
    assert.equal(bought.code, 0, bought.stderr);
    const license = await findLicenseAddress(dataset, buyer.wallet.signer.address);
    try {
      await waitFor(async () => (await fetchLicense(stack.connection, license)).data.state === LicenseState.Delivered, 60_000);
    } finally {
      abort.abort();
    }
    const watched = await daemon;
    assert.equal(watched.code, 0, watched.stderr);
    return { license, watched };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "data-market-e2e-"));
    // Ports away from the default 8899/9900, so a developer's own local stack can keep running.
    stack = await startLocalStack({ dir, rpcPort: 18_899, faucetPort: 19_900, ipfs: {} });
    store = new KuboContentStore({ url: stack.ipfs!.url });
  });

  after(async () => {
    await store?.stop();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("the stack's IPFS node: its URLs in stack.json, its RPC and gateway on the RPC port + 82", async () => {
    assert.equal(stack.ipfs?.url, "http://127.0.0.1:18981");
    const details = JSON.parse(await readFile(join(dir, "stack.json"), "utf8")) as { ipfsGateway: string; ipfsApi: string };
    assert.equal(details.ipfsGateway, stack.ipfs!.url);
    assert.equal(details.ipfsApi, stack.ipfs!.url);
    const cid = await store.addJson({ stack: "ipfs" });
    const block = await fetch(`${details.ipfsGateway}/ipfs/${cid}?format=raw`);
    assert.equal(block.status, 200);
    assert.deepEqual(await block.json(), { stack: "ipfs" });
  });

  test("the narrated journey runs to the end: it waits the local marketplace's short dispute window on the real clock", async () => {
    const lines: string[] = [];
    const result = await runJourney({
      connection: stack.connection,
      operator: stack.wallets.operator.wallet.signer,
      store,
      fileBytes: 3 * 1024 * 1024,
      say: (line) => lines.push(line),
    });
    assert.equal(result.settled, true);
    assert.equal(result.balances["buyer"], 90n * USDC);
    assert.equal(result.balances["escrow"], 0n);
    assert.ok(lines.some((l) => l.includes("identical to what the owner published")));
    assert.ok(lines.some((l) => l.includes("waiting") && l.includes("for the cluster's clock")));
    assert.ok(lines.some((l) => l.includes("10 USDC paid = 10 USDC paid out: every base unit accounted for")));
  });

  test("the CLI: publish, a delivery daemon serving a purchase made while it runs, download, usage, refusals", async () => {
    const { owner, buyer, operator } = stack.wallets;
    const mint = stack.market.usdc.address;
    const content = randomBytes(2 * 1024 * 1024 + 99);
    const file = join(dir, "images.tar");
    await writeFile(file, content);

    const published = await cli(owner.keypairPath, ["--json", "dataset", "publish", file, "--title", "Street images", "--price", "4.5", "--mint", mint, "--tag", "images"]);
    assert.equal(published.code, 0, published.stderr);
    const dataset = address((JSON.parse(published.stdout) as { dataset: string }).dataset);

    const before = await walletTokenBalance(stack.connection, stack.market.usdc, buyer.wallet.signer.address);
    const { license, watched } = await buyWhileWatching(owner.keypairPath, buyer, dataset, "4.5");
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, buyer.wallet.signer.address), before - 4_500_000n);
    assert.match(watched.stdout, new RegExp(`delivered licence ${license}`));

    const output = join(dir, "images.out");
    const downloaded = await cli(buyer.keypairPath, ["download", dataset, "-o", output]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.ok((await readFile(output)).equals(content));

    const model = "ab".repeat(32);
    assert.equal((await cli(buyer.keypairPath, ["usage", "record", dataset, "--model", model, "--purpose", "evaluation"])).code, 0);
    const provenance = await cli(buyer.keypairPath, ["--json", "usage", "list", "--model", model]);
    assert.equal(provenance.code, 0, provenance.stderr);
    assert.deepEqual((JSON.parse(provenance.stdout) as { dataset: string; purpose: string }[]).map((r) => [r.dataset, r.purpose]), [[dataset, "evaluation"]]);

    // A program refusal comes back through preflight, explained.
    const early = await cli(operator.keypairPath, ["settle", license]);
    assert.equal(early.code, EXIT.refused, early.stderr);
    assert.match(early.stderr, /^error: transaction refused: .*\(DisputeWindowOpen\)\n$/);

    // A price raised above a second buyer's limit is refused before paying.
    const late = await party(dir, "late-buyer");
    await provisionMarket(stack.connection, {
      operator: operator.wallet.signer,
      usdcMint: mint,
      wallets: [{ address: late.signer.address, usdc: 20n * USDC }],
    });
    assert.equal((await cli(owner.keypairPath, ["dataset", "update", dataset, "--price", "6"])).code, 0);
    const refused = await cli(join(dir, "late-buyer.json"), ["license", "buy", dataset, "--max-price", "4.5"]);
    assert.equal(refused.code, EXIT.refused);
    assert.equal(refused.stderr, "error: the price is 6, above your --max-price 4.5\n");

    const listed = await cli(buyer.keypairPath, ["dataset", "list", "--tag", "images"]);
    assert.match(listed.stdout, new RegExp(`${dataset}  Street images .* 6  active  1 sold`));
  });

  test("delivery by a delegate: the owner publishes naming it and goes offline, the delegate's daemon delivers, the buyer's sha256 matches", async () => {
    const { buyer, operator } = stack.wallets;
    const mint = stack.market.usdc.address;
    const owner = await party(dir, "offline-owner");
    const delegate = await party(dir, "hosted-delegate");
    await provisionMarket(stack.connection, {
      operator: operator.wallet.signer,
      usdcMint: mint,
      wallets: [
        { address: owner.signer.address, usdc: 0n },
        { address: delegate.signer.address, usdc: 0n },
      ],
    });
    const ownerKeypair = join(dir, "offline-owner.json");
    const delegateKeypair = join(dir, "hosted-delegate.json");

    // The delegate prints its card; the owner publishes naming it.
    const shown = await cli(delegateKeypair, ["--json", "wallet", "card"]);
    assert.equal(shown.code, 0, shown.stderr);
    const card = (JSON.parse(shown.stdout) as { card: string }).card;
    const content = randomBytes(2 * 1024 * 1024 + 77);
    const file = join(dir, "hosted.jsonl");
    await writeFile(file, content);
    const published = await cli(ownerKeypair, [
      "--json", "dataset", "publish", file, "--title", "Hosted delivery", "--price", "1", "--mint", mint, "--delegate", card,
    ]);
    assert.equal(published.code, 0, published.stderr);
    const result = JSON.parse(published.stdout) as { dataset: string; delegate: string };
    assert.equal(result.delegate, delegate.signer.address);
    const dataset = address(result.dataset);

    // The owner goes offline: its keypair is never used again.
    await rm(ownerKeypair);

    const { license, watched } = await buyWhileWatching(delegateKeypair, buyer, dataset, "1");
    assert.match(watched.stderr, new RegExp(`delivering for dataset ${dataset} as its delivery delegate, with the grant in its metadata`));
    assert.match(watched.stdout, new RegExp(`delivered licence ${license} to ${buyer.wallet.signer.address}`));

    const output = join(dir, "hosted.out");
    const downloaded = await cli(buyer.keypairPath, ["--json", "download", dataset, "-o", output]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    const expected = createHash("sha256").update(content).digest("hex");
    assert.equal((JSON.parse(downloaded.stdout) as { sha256: string }).sha256, expected);
    assert.equal(createHash("sha256").update(await readFile(output)).digest("hex"), expected);
  });

  test("an unreachable RPC node is one line and exit code 6", async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["--url", "http://127.0.0.1:1", "--keypair", stack.wallets.buyer.keypairPath, "market", "show"], {
      streams: { stdout, stderr },
      env: {},
    });
    assert.equal(code, EXIT.network);
    assert.match(stderr.text, /^error: cannot reach the RPC node: .*\n$/);
  });
});
