// Publishing from the web dapp in headless chromium against a real validator and IPFS node: the
// owner's Phantom-like wallet (keys in Node) publishes a generated file; the chain holds what the
// form said; then the CLI buys, delivers with the owner's copy of the key sealed in the browser, and
// downloads the very bytes. Also a form with wrong values (errors by field, nothing asked of the
// wallet), a declined registration, an IPFS endpoint missing, unreachable or refusing the site's
// origin, and a wallet without SOL.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, getBase58Decoder, getBase64Decoder, type Address } from "@solana/kit";
import type { BrowserContext, Page } from "playwright-core";

import { readMetadata, type LoadedWallet } from "../../src/client/index.js";
import { deriveEncryptionKeyPairFromSolanaSecretKey, toHex } from "../../src/crypto/index.js";
import type { LocalStack } from "../../src/localnet/stack.js";
import {
  DatasetCategory,
  datasetRecipients,
  datasetTags,
  fetchDataset,
  fetchMaybeDataset,
  findDatasetAddress,
} from "../../src/sdk/index.js";
import { party } from "../e2e/helpers.js";
import { startDappFixture, type DappFixture } from "./fixture.js";
import { installTestWallets, type Decision, type TestWallet, type WalletOperation } from "./test-wallets.js";
import { pageStorage, screenshot, type StaticSite, checkAccessible as checkPageAccessible } from "./web-harness.js";

// This suite's own ports (RPC 35899; faucet, IPFS and indexer follow from it).
const RPC_PORT = 35_899;
const TITLE = "Browser-published corpus";
const FILE_BYTES = 3 * 1024 * 1024 + 12_345;

describe("publishing from the web dapp", { timeout: 900_000 }, () => {
  let fixture: DappFixture;
  let stack: LocalStack;
  let site: StaticSite;
  let context: BrowserContext;
  let page: Page;
  let owner: TestWallet;
  let poor: TestWallet;
  let contributor: LoadedWallet;
  let file: string;
  let fileSha256: string;
  let dataset: Address;
  const decisions = new Map<string, (operation: WalletOperation) => Decision>();
  const cli = (keypair: string, argv: string[]) => fixture.cli(keypair, argv);

  const pageLog: string[] = [];

  /** Waits for `locator`; on a timeout, fails with what the page shows and logged instead. */
  async function waitOrExplain(locator: ReturnType<Page["getByRole"]>, timeout: number, name: string) {
    try {
      await locator.waitFor({ timeout });
    } catch (error) {
      await screenshot(page, `${name}-failed`);
      const shown = await page.locator("main").innerText().catch(() => "");
      throw new Error(`${error instanceof Error ? error.message : error}\npage: ${shown.slice(-1500)}\nlog: ${pageLog.slice(-20).join("\n")}`);
    }
  }

  const checkAccessible = (name: string) => checkPageAccessible(page, name);

  async function openPublish(walletName: string) {
    // A fresh page: it reads config.json again, and the wallet signs the key message again.
    await page.goto(`${site.url}#/publish`);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Publish a dataset" }).waitFor();
    await page.getByRole("button", { name: `Connect ${walletName}` }).click();
    await page.getByLabel("Title").waitFor();
  }

  /** The form as the owner fills it for the dataset the CLI later buys. */
  async function fillForm() {
    await page.getByLabel("Dataset file").setInputFiles(file);
    await page.getByLabel("Title").fill(TITLE);
    await page.getByLabel("Description").fill("Sentences collected for the browser test.");
    await page.getByLabel("Category").selectOption({ label: "Text" });
    await page.getByLabel("Tags").fill("nlp, Browser");
    await page.getByLabel("Price", { exact: true }).fill("2.5");
    await page.getByLabel("Payment token").selectOption(stack.market.usdc.address);
    await page.getByLabel("Commercial use allowed").uncheck();
    await page.getByLabel("Attribution required").check();
    await page.getByLabel("Licence duration").fill("30d");
    await page.getByLabel("Maximum licences outstanding").fill("100");
    await page.getByLabel("Referral fee for front-ends (%)").fill("1.5");
    if ((await page.getByLabel("Co-contributor 1 wallet").count()) === 0) await page.getByRole("button", { name: "Add a co-contributor" }).click();
    await page.getByLabel("Co-contributor 1 wallet").fill(contributor.signer.address);
    await page.getByLabel("Co-contributor 1 share (%)").fill("25");
    await page.getByLabel("Delivery window").fill("2h");
    await page.getByLabel("Dispute window").fill("1d");
  }

  before(async () => {
    fixture = await startDappFixture({ name: "publish", rpcPort: RPC_PORT });
    ({ stack, site } = fixture);
    file = join(fixture.dir, "corpus.bin");
    const bytes = randomBytes(FILE_BYTES);
    await writeFile(file, bytes);
    fileSha256 = createHash("sha256").update(bytes).digest("hex");
    contributor = await party(fixture.dir, "contributor");
    const decide = (name: string) => (operation: WalletOperation) => decisions.get(name)?.(operation) ?? "approve";
    context = await fixture.browser.newContext({ viewport: { width: 1100, height: 900 } });
    [owner, poor] = await installTestWallets(context, stack.connection.rpc, [
      { name: "Phantom-like", wallet: stack.wallets.owner.wallet, operations: ["signTransaction", "signAndSendTransaction", "signMessage"], decide: decide("owner") },
      { name: "No-SOL", wallet: await party(fixture.dir, "no-sol"), operations: ["signTransaction", "signAndSendTransaction", "signMessage"] },
    ]) as [TestWallet, TestWallet];
    page = await context.newPage();
    page.on("console", (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => pageLog.push(`pageerror: ${e.message}`));
  });

  after(async () => {
    await fixture?.close();
  });

  test("the form: every input labelled, the marketplace's minimum windows shown", async () => {
    await openPublish("Phantom-like");
    await page.getByRole("link", { name: "Publish" }).and(page.locator("[aria-current=page]")).waitFor();
    const min = `${stack.market.minDeliveryWindowSecs}s`;
    await page.getByText(`at least ${min} (this marketplace's minimum)`).first().waitFor();
    await page.getByRole("button", { name: "Add a co-contributor" }).click();
    await checkAccessible("publish-01-form");
    assert.deepEqual(owner.requests, []);
  });

  test("wrong values: each error named by its field, nothing asked of the wallet", async () => {
    await page.getByLabel("Title").fill("x".repeat(70));
    await page.getByLabel("Price", { exact: true }).fill("2.5.1");
    await page.getByLabel("Dispute window").fill("soon");
    await page.getByLabel("Co-contributor 1 wallet").fill("not-an-address");
    await page.getByLabel("Co-contributor 1 share (%)").fill("25");
    await page.getByRole("button", { name: "Publish" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Nothing was sent" });
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /Dataset file: Choose the file to publish\./);
    assert.match(text, /Price: "2\.5\.1" is not an amount/);
    assert.match(text, /Dispute window: "soon" is not a duration/);
    assert.match(text, /Co-contributors: Co-contributor 1: the wallet is not a Solana address\./);
    assert.match(text, /Title: The title must be 1 to 64 bytes\./);
    assert.equal(await page.getByLabel("Title").getAttribute("aria-invalid"), "true");
    assert.deepEqual(owner.requests, [], "the wallet was asked nothing");
    await checkAccessible("publish-02-invalid");
  });

  test("an IPFS endpoint that cannot be reached is named before the wallet is asked anything", async () => {
    const ipfsApi = fixture.config.ipfsApi;
    // a closed port of this suite's range (chromium refuses some low ports outright)
    fixture.config.ipfsApi = "http://127.0.0.1:35990";
    try {
      await openPublish("Phantom-like");
      await fillForm();
      await page.getByRole("button", { name: "Publish" }).click();
      const alert = page.getByRole("alert").filter({ hasText: "IPFS upload endpoint" });
      await waitOrExplain(alert, 90_000, "publish-03");
      assert.match(await alert.innerText(), /The IPFS upload endpoint http:\/\/127\.0\.0\.1:35990 cannot be reached\..*Nothing was registered\./);
      const expected = await findDatasetAddress(Buffer.from(fileSha256, "hex"), stack.wallets.owner.wallet.signer.address);
      assert.equal(await fetchMaybeDataset(stack.connection, expected), null);
      assert.deepEqual(owner.requests, [], "nothing was asked of the wallet");
      await checkAccessible("publish-03-ipfs-unreachable");
    } finally {
      fixture.config.ipfsApi = ipfsApi;
    }
  });

  test("no IPFS endpoint configured, or one refusing this site's origin: each said, nothing asked of the wallet", async () => {
    const ipfsApi = fixture.config.ipfsApi;
    fixture.config.ipfsApi = null;
    try {
      await openPublish("Phantom-like");
      await fillForm();
      await page.getByRole("button", { name: "Publish" }).click();
      await waitOrExplain(page.getByRole("alert").filter({ hasText: "No IPFS upload endpoint is configured" }), 30_000, "publish-03b");
    } finally {
      fixture.config.ipfsApi = ipfsApi;
    }
    // The same site under another origin: the node allows only the one the stack was given.
    const otherOrigin = site.url.replace("127.0.0.1", "localhost");
    await page.goto(`${otherOrigin}#/publish`);
    await page.getByRole("button", { name: "Connect Phantom-like" }).click();
    await fillForm();
    await page.getByRole("button", { name: "Publish" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "refuses requests from this site" });
    await waitOrExplain(alert, 60_000, "publish-03c");
    assert.match(await alert.innerText(), new RegExp(`refuses requests from this site \\(${new URL(otherOrigin).origin}\\)`));
    assert.deepEqual(owner.requests, [], "nothing was asked of the wallet");
    await checkAccessible("publish-03c-origin-refused");
  });

  test("the owner declines the registration in the wallet: a clear message, nothing registered", async () => {
    decisions.set("owner", (operation) => (operation === "signAndSendTransaction" ? "reject" : "approve"));
    await openPublish("Phantom-like");
    await fillForm();
    await page.getByRole("button", { name: "Publish" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "You declined the request in your wallet" });
    await waitOrExplain(alert, 150_000, "publish-04");
    assert.match(await alert.innerText(), /Nothing was registered and nothing was charged\./);
    decisions.delete("owner");
    const expected = await findDatasetAddress(Buffer.from(fileSha256, "hex"), stack.wallets.owner.wallet.signer.address);
    assert.equal(await fetchMaybeDataset(stack.connection, expected), null);
    assert.deepEqual(owner.requests.slice(-2), ["signMessage", "signAndSendTransaction"]);
    await checkAccessible("publish-04-declined");
  });

  test("the owner publishes a 3 MB file: the chain holds the form's values and the file's sha256", async () => {
    const requestsBefore = owner.requests.length;
    const ownerAddress = stack.wallets.owner.wallet.signer.address;
    const lamports = async () => (await stack.connection.rpc.getBalance(ownerAddress, { commitment: "confirmed" }).send()).value;
    const solBefore = await lamports();
    await openPublish("Phantom-like");
    await fillForm();
    await page.getByRole("button", { name: "Publish" }).click();
    const done = page.getByRole("status").filter({ hasText: "Published." });
    await waitOrExplain(done, 180_000, "publish-05");
    const link = done.getByRole("link").first();
    dataset = address((await link.getAttribute("href"))!.replace("#/dataset/", ""));
    console.log(`# registration cost the owner ${Number(solBefore - (await lamports())) / 1e9} SOL (fee and rent)`);
    assert.equal(dataset, await findDatasetAddress(Buffer.from(fileSha256, "hex"), ownerAddress));
    // A new page, a new key message: then the registration.
    assert.deepEqual(owner.requests.slice(requestsBefore), ["signMessage", "signAndSendTransaction"]);
    const speeds = await page.getByTestId("speeds").innerText();
    console.log(`# ${speeds}`);

    const { data } = await fetchDataset(stack.connection, dataset);
    assert.equal(data.title, TITLE);
    assert.equal(data.owner, ownerAddress);
    assert.equal(data.price, 2_500_000n);
    assert.equal(data.paymentMint, stack.market.usdc.address);
    assert.equal(toHex(Uint8Array.from(data.contentHash)), fileSha256);
    assert.equal(data.category, DatasetCategory.Text);
    assert.deepEqual(datasetTags(data), ["nlp", "Browser"]);
    assert.deepEqual(data.terms, {
      durationSecs: 30n * 86_400n,
      maxSupply: 100,
      metered: false,
      transferable: false,
      aiTraining: true,
      commercialUse: false,
      derivativeModels: true,
      attributionRequired: true,
    });
    assert.equal(data.referralFeeBps, 150);
    assert.deepEqual(datasetRecipients(data), [
      { wallet: ownerAddress, bps: 7_500 },
      { wallet: contributor.signer.address, bps: 2_500 },
    ]);
    assert.equal(data.deliveryWindowSecs, 7_200);
    assert.equal(data.disputeWindowSecs, 86_400);

    // The metadata: the CLI's document, with the owner's copy sealed to the wallet-derived key.
    const metadata = await readMetadata(fixture.store!, data.metadataUri);
    assert.equal(metadata.sha256, fileSha256);
    assert.equal(metadata.fileName, "corpus.bin");
    assert.equal(metadata.plaintextBytes, FILE_BYTES);
    assert.equal(metadata.ciphertextCid, data.ciphertextCid);
    assert.equal(metadata.description, "Sentences collected for the browser test.");
    // The CID is the one the CLI's store gives the same bytes (same add parameters).
    const pieces: Uint8Array[] = [];
    for await (const piece of fixture.store!.cat(data.ciphertextCid)) pieces.push(piece);
    const ciphertext = Buffer.concat(pieces);
    assert.equal(ciphertext.length, metadata.ciphertextBytes);
    assert.equal(await fixture.store!.addFile([ciphertext]), data.ciphertextCid);

    await checkAccessible("publish-05-published");
    await link.click();
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor();
    // The amount reads in base units until the page has the mint's decimals.
    await page.getByTestId("price").filter({ hasText: /^2\.5 USDC$/ }).waitFor({ timeout: 30_000 });
    await checkAccessible("publish-06-dataset-page");
  });

  test("the CLI buys, the owner's CLI delivers with the copy sealed in the browser, the buyer downloads the same bytes", async () => {
    const buyer = stack.wallets.buyer.keypairPath;
    const bought = await cli(buyer, ["license", "buy", dataset, "--max-price", "2.5"]);
    assert.equal(bought.code, 0, bought.stderr);
    const delivered = await cli(stack.wallets.owner.keypairPath, ["deliver"]);
    assert.equal(delivered.code, 0, delivered.stderr);
    assert.match(delivered.stdout, /deliver/i);
    const output = join(fixture.dir, "downloaded.bin");
    const downloaded = await cli(buyer, ["download", dataset, "-o", output]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.ok((await readFile(output)).equals(await readFile(file)), "the downloaded bytes are the published file");
  });

  test("a wallet without SOL is told that registering needs SOL for fees and rent", async () => {
    await openPublish("No-SOL");
    await fillForm();
    await page.getByLabel("Title").fill("Another corpus");
    await page.getByLabel("Dataset file").setInputFiles({ name: "small.txt", mimeType: "text/plain", buffer: Buffer.from("a small file\n") });
    await page.getByRole("button", { name: "Publish" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "does not hold enough SOL" });
    await waitOrExplain(alert, 150_000, "publish-07");
    assert.deepEqual(poor.requests, ["signMessage"], "the simulation refused it before the wallet was shown a transaction");
    await checkAccessible("publish-07-no-sol");
  });

  test("no secret is kept by the page: no signature or derived key in storage, cookies or the URL", async () => {
    const stored = await pageStorage(page);
    const secrets = [...owner.messageSignatures, ...poor.messageSignatures, deriveEncryptionKeyPairFromSolanaSecretKey(stack.wallets.owner.wallet.secretKey).secretKey];
    assert.ok(secrets.length >= 4);
    for (const secret of secrets) {
      for (const form of [toHex(secret), getBase64Decoder().decode(secret), getBase58Decoder().decode(secret), [...secret].join(",")]) {
        assert.ok(!stored.includes(form), "a secret is stored by the page");
      }
    }
  });
});
