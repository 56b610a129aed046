// The whole marketplace in the browser, owner and buyer each in their own browser context with
// their own wallet (keys in Node): the owner publishes a generated file from the page, the buyer
// buys it, the owner delivers the key from the dashboard, the buyer downloads it and gets the same
// bytes, records a use and reviews it, the owner settles and claims. Balances are checked to the base
// unit. Screenshots go to target/web/screenshots/journey-*.png.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, type Address } from "@solana/kit";
import type { Page } from "playwright-core";

import { walletTokenBalance } from "../../src/client/index.js";
import { toHex } from "../../src/crypto/index.js";
import {
  LicenseState,
  fetchDataset,
  fetchLicense,
  fetchMarketplace,
  fetchReviewOfLicense,
  fetchUsageReceipt,
  findLicenseAddress,
  findMarketplaceAddress,
  findUsageReceiptAddress,
} from "../../src/sdk/index.js";
import type { LocalStack } from "../../src/localnet/stack.js";
import { startDappFixture, type DappFixture } from "./fixture.js";
import { installTestWallets } from "./test-wallets.js";
import { checkAccessible, connectWallet } from "./web-harness.js";

// Ports of this suite's own (the other browser suites and the e2e suites use others).
const RPC_PORT = 32_899;
const TITLE = "Street-level air quality";
const FILE_NAME = "air-quality.bin";
const FILE_BYTES = 2 * 1024 * 1024 + 12_345; // three blocks
const PRICE = 3_000_000n; // 3 USDC
const DISPUTE_WINDOW_SECS = 10;

describe("the whole journey in two browsers: publish, buy, deliver, download, use, review, settle, claim", { timeout: 900_000 }, () => {
  let fixture: DappFixture;
  let stack: LocalStack;
  let ownerPage: Page;
  let buyerPage: Page;
  let original: Uint8Array;
  let dataset: Address;
  const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

  const check = (page: Page, name: string) => checkAccessible(page, `journey-${name}`);

  async function open(page: Page, route: string, heading: string | RegExp) {
    await page.goto(`${fixture.site.url}#${route}`);
    await page.getByRole("heading", { level: 1, name: heading }).waitFor();
    const connect = page.getByRole("button", { name: "Connect Phantom-like" });
    if (await connect.count()) {
      await connect.click();
      await page.getByRole("button", { name: "Disconnect" }).waitFor();
    }
  }

  const usdc = (owner: Address) => walletTokenBalance(stack.connection, stack.market.usdc, owner);
  const ownerAddress = () => stack.wallets.owner.wallet.signer.address;
  const buyerAddress = () => stack.wallets.buyer.wallet.signer.address;

  before(async () => {
    fixture = await startDappFixture({ name: "journey", rpcPort: RPC_PORT, minWindowSecs: DISPUTE_WINDOW_SECS });
    stack = fixture.stack;
    original = new Uint8Array(randomBytes(FILE_BYTES));
    await writeFile(join(fixture.dir, FILE_NAME), original);
    const ownerContext = await fixture.browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    const buyerContext = await fixture.browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    const all = ["signTransaction", "signAndSendTransaction", "signMessage"] as const;
    await installTestWallets(ownerContext, stack.connection.rpc, [{ name: "Phantom-like", wallet: stack.wallets.owner.wallet, operations: all }]);
    await installTestWallets(buyerContext, stack.connection.rpc, [{ name: "Phantom-like", wallet: stack.wallets.buyer.wallet, operations: all }]);
    // No save-file picker in a headless test: the page offers the verified file as a download link.
    for (const context of [ownerContext, buyerContext]) await context.addInitScript("delete window.showSaveFilePicker");
    ownerPage = await ownerContext.newPage();
    buyerPage = await buyerContext.newPage();
  });

  after(async () => {
    await fixture?.close();
  });

  test("the owner publishes a generated file from the page", async () => {
    await open(ownerPage, "/publish", "Publish a dataset");
    await ownerPage.getByLabel("Dataset file").setInputFiles(join(fixture.dir, FILE_NAME));
    await ownerPage.getByLabel("Title").fill(TITLE);
    await ownerPage.getByLabel("Description").fill("Hourly PM2.5 and NO2 from street sensors.");
    await ownerPage.getByLabel("Category").selectOption({ label: "Tables" });
    await ownerPage.getByLabel("Tags").fill("air, sensors");
    await ownerPage.getByLabel("Price", { exact: true }).fill("3");
    await ownerPage.getByLabel("Payment token").selectOption(stack.market.usdc.address);
    await ownerPage.getByLabel("Delivery window").fill("1h");
    await ownerPage.getByLabel("Dispute window").fill(`${DISPUTE_WINDOW_SECS}s`);
    await check(ownerPage, "01-publish-form");
    await ownerPage.getByRole("button", { name: "Publish" }).click();
    const done = ownerPage.getByRole("status").filter({ hasText: "Published." });
    await done.waitFor({ timeout: 180_000 });
    const href = await done.getByRole("link").first().getAttribute("href");
    dataset = address(/#\/dataset\/([1-9A-HJ-NP-Za-km-z]+)/.exec(href ?? "")![1]!);
    const onChain = (await fetchDataset(stack.connection, dataset)).data;
    assert.equal(onChain.title, TITLE);
    assert.equal(onChain.price, PRICE);
    assert.equal(onChain.owner, ownerAddress());
    assert.equal(toHex(Uint8Array.from(onChain.contentHash)), sha256(original));
    await check(ownerPage, "02-published");
  });

  test("the buyer finds it, buys it for the price shown, and the escrow holds exactly that", async () => {
    const before = await usdc(buyerAddress());
    await open(buyerPage, "/", "Datasets");
    await buyerPage.getByRole("link", { name: TITLE }).click();
    await buyerPage.getByRole("heading", { level: 1, name: TITLE }).waitFor();
    await buyerPage.getByRole("button", { name: "Buy for 3 USDC" }).click();
    await buyerPage.getByRole("status").filter({ hasText: "Bought." }).waitFor({ timeout: 90_000 });
    await check(buyerPage, "03-bought");
    assert.equal(await usdc(buyerAddress()), before - PRICE);
    const license = await fetchLicense(stack.connection, await findLicenseAddress(dataset, buyerAddress()));
    assert.equal(license.data.state, LicenseState.AwaitingKey);
    assert.equal(license.data.pricePaid, PRICE);
  });

  test("the owner delivers the key from the dashboard", async () => {
    await open(ownerPage, "/owner", "My datasets");
    await ownerPage.getByRole("button", { name: "Deliver the key" }).click();
    await ownerPage.getByRole("status").filter({ hasText: "Keys: 1 delivered." }).waitFor({ timeout: 90_000 });
    await check(ownerPage, "04-delivered");
    const license = await fetchLicense(stack.connection, await findLicenseAddress(dataset, buyerAddress()));
    assert.equal(license.data.state, LicenseState.Delivered);
  });

  test("the buyer downloads it: decrypted and verified in the page, the original bytes", async () => {
    await open(buyerPage, "/licences", "My licences");
    const row = buyerPage.getByRole("row").filter({ hasText: TITLE });
    await row.getByRole("button", { name: `Download ${TITLE}` }).click();
    const save = buyerPage.getByRole("link", { name: /^Save / });
    await save.waitFor({ timeout: 120_000 });
    await check(buyerPage, "05-verified");
    const [download] = await Promise.all([buyerPage.waitForEvent("download"), save.click()]);
    const saved = new Uint8Array(await readFile((await download.path())!));
    assert.equal(saved.length, original.length);
    assert.equal(sha256(saved), sha256(original));
  });

  test("the buyer records a use and reviews the dataset", async () => {
    const licenseAddress = await findLicenseAddress(dataset, buyerAddress());
    await open(buyerPage, "/licences", "My licences");
    await buyerPage.getByRole("link", { name: `Open the licence of ${TITLE}` }).click();
    await buyerPage.getByRole("heading", { level: 1, name: `Licence of ${TITLE}` }).waitFor();
    const modelHash = sha256(new TextEncoder().encode("air-quality model v1"));
    await buyerPage.getByLabel("Model sha256 (64 hex characters)").fill(modelHash);
    await buyerPage.getByLabel("Purpose").selectOption({ label: "Fine-tuning" });
    await buyerPage.getByRole("button", { name: "Record the use" }).click();
    await buyerPage.getByRole("status").filter({ hasText: "Recorded: receipt" }).waitFor({ timeout: 90_000 });
    const license = await fetchLicense(stack.connection, licenseAddress);
    const receipt = await fetchUsageReceipt(stack.connection, await findUsageReceiptAddress(licenseAddress, license.data.serial, 0));
    assert.equal(toHex(Uint8Array.from(receipt.data.modelHash)), modelHash);

    await buyerPage.getByLabel("Rating").selectOption("5");
    await buyerPage.getByLabel(/^Your review/).fill("Clean hourly data, exactly as described.");
    await buyerPage.getByRole("button", { name: "Submit the review" }).click();
    await buyerPage.getByRole("status").filter({ hasText: "Reviewed: 5 / 5." }).waitFor({ timeout: 90_000 });
    assert.equal((await fetchReviewOfLicense(stack.connection, licenseAddress))?.data.rating, 5);
    await check(buyerPage, "06-used-and-reviewed");
  });

  test("after the dispute window the owner settles and claims exactly the price less the marketplace fee", async () => {
    const { data: marketplace } = await fetchMarketplace(stack.connection, await findMarketplaceAddress());
    const fee = (PRICE * BigInt(marketplace.protocolFeeBps)) / 10_000n;
    const before = await usdc(ownerAddress());
    await open(ownerPage, "/owner", "My datasets");
    const card = ownerPage.locator(`article[data-dataset="${dataset}"]`);
    const settle = card.getByRole("button", { name: "Settle the licence" });
    // The window runs on the cluster's clock, which a busy validator moves slower than the wall's:
    // wait for it in Node, then the page must offer settlement.
    const licenseAddress = await findLicenseAddress(dataset, buyerAddress());
    const { data: delivered } = await fetchLicense(stack.connection, licenseAddress);
    const settlesAt = delivered.deliveredAt + BigInt(DISPUTE_WINDOW_SECS);
    const deadline = Date.now() + 180_000;
    while ((await stack.connection.now()) < settlesAt) {
      assert.ok(Date.now() < deadline, `the cluster's clock did not reach ${settlesAt} in 3 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    // a fresh page reads the licences again (and asks the wallet to connect again)
    await ownerPage.reload();
    await ownerPage.getByRole("heading", { level: 1, name: "My datasets" }).waitFor();
    await connectWallet(ownerPage, "Phantom-like");
    await settle.waitFor({ timeout: 30_000 }).catch(async (error: unknown) => {
      const { data } = await fetchLicense(stack.connection, licenseAddress);
      throw new Error(`no Settle button: licence state ${data.state}, cluster time ${await stack.connection.now()}, settles at ${settlesAt}; card: ${await card.innerText()}`, { cause: error });
    });
    await settle.click();
    await card.getByRole("status").filter({ hasText: "Settled one licence." }).waitFor({ timeout: 60_000 });
    const toOwner = PRICE - fee;
    const claim = card.getByRole("button", { name: /^Claim / });
    await claim.waitFor();
    await claim.click();
    await card.getByRole("status").filter({ hasText: /^Claimed / }).waitFor({ timeout: 60_000 });
    await check(ownerPage, "07-claimed");
    assert.equal(await usdc(ownerAddress()), before + toOwner);
    const license = await fetchLicense(stack.connection, await findLicenseAddress(dataset, buyerAddress()));
    assert.equal(license.data.state, LicenseState.Settled);
  });
});
