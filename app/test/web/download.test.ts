// Downloading a licensed dataset in the browser, against a real local validator and IPFS node: the
// owner publishes a file of several 1 MiB blocks with the CLI, the buyer buys with the CLI, the
// owner delivers with the CLI, and the buyer downloads on My licences with a Phantom-like wallet
// holding the buyer's keys (kept in Node). The saved bytes must equal the original. Then a gateway
// that flips one byte of one block, a gateway that is not there, a key not yet delivered and an
// expired licence each get their message, and no file is offered. Every state is checked with
// axe-core and photographed into target/web/screenshots/download-*.png.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import * as dagPb from "@ipld/dag-pb";
import { address, type Address } from "@solana/kit";
import type { BrowserContext, Page } from "playwright-core";
import { CID } from "multiformats/cid";

import { answerPendingPreviews, buyLicense, keypairWallet, mintTo, type LoadedWallet } from "../../src/client/index.js";
import { deriveEncryptionKeyPairFromSolanaSecretKey } from "../../src/crypto/index.js";
import { SOL, USDC } from "../../src/localnet/provision.js";
import { fetchDataset, fetchLicense, fetchPreviewRequest, findLicenseAddress, isLicenseExpired } from "../../src/sdk/index.js";
import { party, waitFor } from "../e2e/helpers.js";
import { startDappFixture, type DappFixture } from "./fixture.js";
import { installTestWallets, type TestWallet } from "./test-wallets.js";
import { screenshot, checkAccessible as checkPageAccessible } from "./web-harness.js";

// This suite's own ports (faucet + 71, IPFS + 82, indexer + 81).
const RPC_PORT = 36_899;
const MiB = 1024 * 1024;
const TITLE = "Street sensor readings";
const FILE_NAME = "street-sensors.bin";
const EXPIRING_TITLE = "Five-second licence";
const PREVIEW_TITLE = "Sensor log with previews";

interface GatewayProxy {
  url: string;
  /** Block requests seen (CIDs), in order. */
  blocks: string[];
  close(): Promise<void>;
}

/**
 * A gateway in front of the stack's: it passes every request through, optionally late (to watch the
 * progress: one block a second) and optionally with the first byte of one block flipped.
 */
async function gatewayProxy(target: string, options: { tamper?: string; delayMs?: number } = {}): Promise<GatewayProxy> {
  const blocks: string[] = [];
  let turn: Promise<unknown> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const cid = /^\/ipfs\/([^/?]+)/.exec(req.url ?? "")?.[1];
    if (cid) blocks.push(cid);
    (async () => {
      if (options.delayMs) {
        // one answer per delay, however many requests are open at once
        const mine = turn.then(() => new Promise((ok) => setTimeout(ok, options.delayMs)));
        turn = mine;
        await mine;
      }
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers: { Accept: req.headers.accept ?? "*/*" } });
      const body = new Uint8Array(await upstream.arrayBuffer());
      if (upstream.ok && cid === options.tamper && body.length > 0) body[0] = body[0]! ^ 0x01;
      res.writeHead(upstream.status, {
        "Content-Type": upstream.headers.get("content-type") ?? "application/octet-stream",
        "Content-Length": body.length,
        "Access-Control-Allow-Origin": "*",
      });
      res.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    blocks,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

describe("downloading a licensed dataset in the web dapp", { timeout: 600_000 }, () => {
  let fixture: DappFixture;
  let context: BrowserContext;
  let page: Page;
  let phantom: TestWallet;
  let mismatched: LoadedWallet;
  let original: Uint8Array;
  let dataset: Address;
  let expiring: Address;
  let ciphertextCid: string;
  let gateway: string;
  const proxies: GatewayProxy[] = [];
  const cli = async (who: "owner" | "buyer", argv: string[]) => {
    const run = await fixture.cli(fixture.stack.wallets[who].keypairPath, argv);
    assert.equal(run.code, 0, `${argv.join(" ")}: ${run.stderr}`);
    return run.stdout;
  };

  const checkAccessible = (name: string) => checkPageAccessible(page, name);

  /** My licences, as the Phantom-like wallet (the buyer's keys), with the dapp pointed at `ipfsGateway`. */
  async function openLicences(ipfsGateway: string | null, walletName = "Phantom-like") {
    fixture.config.ipfsGateway = ipfsGateway;
    await page.goto(`${fixture.site.url}#/licences`);
    await page.reload();
    await page.getByRole("button", { name: `Connect ${walletName}` }).click();
    await page.getByRole("button", { name: "Disconnect" }).waitFor();
    await page.getByRole("row").filter({ hasText: TITLE }).waitFor();
  }

  const row = (title: string) => page.getByRole("row").filter({ hasText: title });

  async function publish(title: string, file: string, extra: string[]): Promise<Address> {
    const stdout = await cli("owner", [
      "--json", "dataset", "publish", file, "--title", title, "--price", "2", "--mint", fixture.stack.market.usdc.address,
      "--delivery-window", "1h", "--dispute-window", "1d", ...extra,
    ]);
    return address((JSON.parse(stdout) as { dataset: string }).dataset);
  }

  /** The names of the files the page keeps in OPFS (the download directory). */
  async function opfsFiles(): Promise<string[]> {
    return page.evaluate<string[]>(`(async () => {
      const root = await navigator.storage.getDirectory();
      let dir;
      try { dir = await root.getDirectoryHandle("data-market-downloads"); } catch { return []; }
      const names = [];
      for await (const name of dir.keys()) names.push(name);
      return names.sort();
    })()`);
  }

  before(async () => {
    fixture = await startDappFixture({ name: "download", rpcPort: RPC_PORT, minWindowSecs: 5 });
    gateway = fixture.config.ipfsGateway as string;
    // 3 MiB and a bit: the ciphertext spans four 1 MiB blocks under a dag-pb root.
    original = new Uint8Array(3 * MiB + 54_321);
    for (let i = 0; i < original.length; i += 65_536) crypto.getRandomValues(original.subarray(i, i + 65_536));
    const file = join(fixture.dir, FILE_NAME);
    await writeFile(file, original);
    dataset = await publish(TITLE, file, ["--tag", "sensors"]);
    ciphertextCid = (await fetchDataset(fixture.stack.connection, dataset)).data.ciphertextCid;
    await cli("buyer", ["license", "buy", dataset, "--max-price", "2"]);

    const small = join(fixture.dir, "short.csv");
    await writeFile(small, "a,b\n1,2\n");
    expiring = await publish(EXPIRING_TITLE, small, ["--duration", "5s"]);
    await cli("buyer", ["license", "buy", expiring, "--max-price", "2"]);

    // A licence sealed to another key than the one its wallet derives (as when a wallet app derives
    // differently from the one that bought): bought through the client layer with that other key.
    const { connection, market, wallets } = fixture.stack;
    mismatched = await party(fixture.dir, "mismatched");
    await connection.airdrop(mismatched.signer.address, 2n * SOL);
    await mintTo(connection, wallets.operator.wallet.signer, market.usdc, wallets.operator.wallet.signer, mismatched.signer.address, 10n * USDC);
    const elsewhere = deriveEncryptionKeyPairFromSolanaSecretKey((await party(fixture.dir, "elsewhere")).secretKey);
    await buyLicense(connection, { signer: mismatched.signer, encryptionKeyPair: async () => elsewhere, delegateCard: async () => "", signMessage: () => Promise.reject(new Error("not used here")) }, { dataset, maxPrice: 2n * USDC });

    context = await fixture.browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    // The save-file picker needs a person at a dialog: the page falls back to a link, which a
    // test can follow.
    await context.addInitScript({ content: "delete window.showSaveFilePicker; delete Window.prototype.showSaveFilePicker;" });
    const installed = await installTestWallets(context, fixture.stack.connection.rpc, [
      { name: "Phantom-like", wallet: fixture.stack.wallets.buyer.wallet, operations: ["signTransaction", "signAndSendTransaction", "signMessage"] },
      { name: "Other-wallet", wallet: mismatched, operations: ["signTransaction", "signAndSendTransaction", "signMessage"] },
    ]);
    phantom = installed[0]!;
    page = await context.newPage();
  });

  after(async () => {
    for (const proxy of proxies) await proxy.close();
    await fixture?.close();
  });

  test("before the key is delivered: the row says so and offers no download", async () => {
    await openLicences(gateway);
    assert.match(await row(TITLE).innerText(), /Download: possible once the owner delivers the key\./);
    assert.equal(await row(TITLE).getByRole("button", { name: /^Download/ }).count(), 0);
    assert.deepEqual(phantom.requests, [], "nothing was asked of the wallet");
    await checkAccessible("download-01-key-not-delivered");
  });

  test("delivered: the download shows its progress, verifies, and saves the exact bytes", async () => {
    await cli("owner", ["deliver"]);
    // A slow gateway in front of the real one, so the progress can be watched.
    const slow = await gatewayProxy(gateway, { delayMs: 1_000 });
    proxies.push(slow);
    await openLicences(slow.url);
    await row(TITLE).getByRole("button", { name: `Download ${TITLE}` }).click();

    const bar = page.getByRole("progressbar", { name: `Downloading ${TITLE}` });
    await bar.waitFor();
    await page.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") ?? 0) > 0);
    const max = Number(await bar.getAttribute("aria-valuemax"));
    const now = Number(await bar.getAttribute("aria-valuenow"));
    assert.ok(max > original.length && max < original.length + 4096, `aria-valuemax ${max}: the ciphertext's size`);
    assert.ok(now > 0 && now <= max);
    assert.match((await bar.getAttribute("aria-valuetext")) ?? "", /^\d+\.\d MB of 3\.2 MB, \d+\.\d MB\/s$/);
    await checkAccessible("download-02-progress");

    const save = page.getByRole("link", { name: `Save ${FILE_NAME}` });
    await save.waitFor({ timeout: 60_000 });
    assert.match(await row(TITLE).getByRole("status").innerText(), /Verified: 3\.2 MB, its sha256 matches the dataset's content hash on chain\./);
    await checkAccessible("download-03-verified");
    // The leaves were fetched through the gateway, each once, after the root.
    assert.equal(slow.blocks.filter((c) => c === ciphertextCid).length, 1);
    assert.equal(new Set(slow.blocks).size, slow.blocks.length, "no block fetched twice");

    const [download] = await Promise.all([page.waitForEvent("download"), save.click()]);
    assert.equal(download.suggestedFilename(), FILE_NAME);
    const saved = new Uint8Array(await readFile((await download.path())!));
    assert.equal(saved.length, original.length);
    const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
    assert.equal(digest(saved), digest(original));
    assert.equal(digest(saved), Buffer.from((await fetchDataset(fixture.stack.connection, dataset)).data.contentHash).toString("hex"));
    assert.ok(Buffer.from(saved).equals(Buffer.from(original)), "the saved bytes are the original's");
    // The wallet signed the key-derivation message once, and nothing else.
    assert.deepEqual(phantom.requests, ["signMessage"]);
    const license = await fetchLicense(fixture.stack.connection, await findLicenseAddress(dataset, fixture.stack.wallets.buyer.wallet.signer.address));
    assert.deepEqual(await opfsFiles(), [`${license.address}.download`]);
  });

  test("a gateway that flips one byte of one block: tampering is reported, no file is offered or kept", async () => {
    const root = dagPb.decode(new Uint8Array(await (await fetch(`${gateway}/ipfs/${ciphertextCid}?format=raw`)).arrayBuffer()));
    assert.equal(root.Links.length, 4);
    const third = root.Links[2]!.Hash as CID;
    const tampering = await gatewayProxy(gateway, { tamper: third.toString() });
    proxies.push(tampering);
    await openLicences(tampering.url);
    await row(TITLE).getByRole("button", { name: `Download ${TITLE}` }).click();
    const alert = row(TITLE).getByRole("alert");
    await alert.waitFor({ timeout: 60_000 });
    assert.equal(
      await alert.innerText(),
      `The content from the IPFS gateway ${tampering.url} was tampered with: it does not match the dataset's hash on chain. Nothing was saved. Try another gateway.`,
    );
    assert.ok(tampering.blocks.includes(third.toString()));
    assert.equal(await page.getByRole("link", { name: /^Save / }).count(), 0);
    assert.equal(await page.getByRole("button", { name: /^Save / }).count(), 0);
    // The earlier verified download was cleaned up when this one started; the failed one deleted.
    assert.deepEqual(await opfsFiles(), []);
    assert.equal(await page.getByText(/at \w+ \(|\.ts:\d+/).count(), 0, "no stack trace on the page");
    await checkAccessible("download-04-tampered");
  });

  test("a gateway that is not there, and none configured: each says so", async () => {
    await openLicences("http://127.0.0.1:9");
    await row(TITLE).getByRole("button", { name: `Download ${TITLE}` }).click();
    const alert = row(TITLE).getByRole("alert");
    await alert.waitFor({ timeout: 60_000 });
    assert.equal(await alert.innerText(), "The IPFS gateway http://127.0.0.1:9 cannot be reached. Check your connection, or the IPFS gateway in the settings.");
    await checkAccessible("download-05-gateway-unreachable");

    await openLicences(null);
    await row(TITLE).getByRole("button", { name: `Download ${TITLE}` }).click();
    await row(TITLE).getByRole("alert").filter({ hasText: "No IPFS gateway is configured. Set one in the settings (IPFS gateway) to download datasets." }).waitFor();
    await screenshot(page, "download-06-no-gateway");
  });

  test("a wallet deriving another key than the licence was sealed to: told so before anything is fetched", async () => {
    const watching = await gatewayProxy(gateway);
    proxies.push(watching);
    await openLicences(watching.url, "Other-wallet");
    await row(TITLE).getByRole("button", { name: `Download ${TITLE}` }).click();
    const alert = row(TITLE).getByRole("alert");
    await alert.waitFor();
    assert.equal(
      await alert.innerText(),
      "The encryption key this wallet derives is not the one the licence was sealed to, so the delivered key cannot be opened here. Connect the wallet the licence was bought with (the same wallet app and account). Nothing was downloaded.",
    );
    assert.deepEqual(watching.blocks, [], "nothing was fetched from IPFS");
    await checkAccessible("download-07-key-mismatch");
  });

  test("an expired licence: the download is refused with the reason, before anything is fetched", async () => {
    const licenseAddress = await findLicenseAddress(expiring, fixture.stack.wallets.buyer.wallet.signer.address);
    const license = await fetchLicense(fixture.stack.connection, licenseAddress);
    await waitFor(async () => isLicenseExpired(license.data, await fixture.stack.connection.now()), 30_000);
    const watching = await gatewayProxy(gateway);
    proxies.push(watching);
    await openLicences(watching.url);
    await row(EXPIRING_TITLE).getByRole("button", { name: `Download ${EXPIRING_TITLE}` }).click();
    await row(EXPIRING_TITLE).getByRole("alert").filter({ hasText: "This licence has expired. Renew it to download the dataset again." }).waitFor();
    assert.deepEqual(watching.blocks, [], "nothing was fetched from IPFS");
    await checkAccessible("download-08-expired");
  });

  test("a random preview from the dataset page: the chain draws, the owner's daemon answers, each chunk is verified and shown", async () => {
    // 16 MiB and a bit of text: 17 chunks, so a preview may reveal 2.
    const line = (i: number) => `sensor ${i}: 21.5 C, 48 % humidity, wind 3 m/s\n`;
    const lines: string[] = [];
    for (let i = 0, size = 0; size < 16 * MiB + 100; i += 1) {
      lines.push(line(i));
      size += line(i).length;
    }
    const text = lines.join("");
    const file = join(fixture.dir, "previewed.txt");
    await writeFile(file, text);
    const previewed = await publish(PREVIEW_TITLE, file, ["--preview", "2"]);
    const owner = keypairWallet(fixture.stack.wallets.owner.wallet);
    const ownerDataset = await fetchDataset(fixture.stack.connection, previewed);
    // the owner's delivery daemon, as `deliver --watch` runs it
    const daemon = new AbortController();
    const answering = (async () => {
      while (!daemon.signal.aborted) {
        await answerPendingPreviews(fixture.stack.connection, fixture.store!, owner, { datasets: [ownerDataset] });
        await new Promise((ok) => setTimeout(ok, 500));
      }
    })();
    try {
      fixture.config.ipfsGateway = gateway;
      await page.goto(`${fixture.site.url}#/`);
      await page.reload();
      await page.goto(`${fixture.site.url}#/dataset/${previewed}`);
      await page.getByRole("heading", { level: 1, name: PREVIEW_TITLE }).waitFor();
      const connect = page.getByRole("button", { name: "Connect Phantom-like" });
      if (await connect.isVisible()) await connect.click();
      await page.getByRole("button", { name: "Ask for a random preview" }).click();
      const shown = page.getByTestId("preview-chunks");
      await shown.waitFor({ timeout: 90_000 });
      assert.match(await shown.innerText(), /2 chunks verified against the registered root/);
      const request = address(/preview ([1-9A-HJ-NP-Za-km-z]{32,44})/.exec(await shown.innerText())![1]!);
      const onChain = await fetchPreviewRequest(fixture.stack.connection, request);
      for (const index of onChain.data.chunks.slice(0, 2)) {
        const chunk = shown.locator("details").filter({ hasText: `Chunk ${index} ` });
        await chunk.locator("summary").click();
        const start = text.slice(index * MiB, index * MiB + 200).split("\n")[1]!;
        assert.ok((await chunk.locator("pre").innerText()).includes(start), `chunk ${index} shows the dataset's bytes`);
      }
      await checkAccessible("download-09-preview");
    } finally {
      daemon.abort();
      await answering;
    }
  });
});
