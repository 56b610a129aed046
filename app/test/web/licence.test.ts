// After the purchase, in a real browser against a real validator and IPFS node: the licence page
// offers what the licence's state allows (a refund of a missed delivery, recording a use with a
// model file hashed in the page, a review, a dispute, renewal, credits), the arbiter rules the
// dispute from the operator's page, and the provenance page finds the model's receipts. The
// datasets are published, bought and delivered with the CLI beforehand, with 10-second windows.
import assert from "node:assert/strict";
import { randomBytes, createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, type Address } from "@solana/kit";
import type { BrowserContext, Page } from "playwright-core";

import { tokenBalance, walletTokenBalance, type BillOfData } from "../../src/client/index.js";
import { toHex } from "../../src/crypto/index.js";
import type { LocalStack } from "../../src/localnet/stack.js";
import {
  LicenseState,
  UsagePurpose,
  fetchDataset,
  fetchLicense,
  fetchMarketplace,
  fetchReviewOfLicense,
  fetchUsageReceipt,
  findLicenseAddress,
  findUsageReceiptAddress,
} from "../../src/sdk/index.js";
import { waitFor } from "../e2e/helpers.js";
import { startDappFixture, type DappFixture } from "./fixture.js";
import { installTestWallets, type Decision, type WalletOperation } from "./test-wallets.js";
import { type StaticSite, checkAccessible as checkPageAccessible, connectWallet } from "./web-harness.js";

const RPC_PORT = 33_899;
const TITLES = {
  refund: "Undelivered street sounds",
  used: "Annotated bird calls",
  renew: "Tide gauge readings",
  metered: "Per-query legal clauses",
} as const;
type Key = keyof typeof TITLES;
const REVIEW = "Clean labels, two species missing.";
const EVIDENCE = "https://example.org/evidence/bird-calls";
const MODEL_BYTES = 3 * 1024 * 1024 + 17;

describe("licence actions, provenance and the operator in a real browser", { timeout: 900_000 }, () => {
  let fixture: DappFixture;
  let stack: LocalStack;
  let site: StaticSite;
  let context: BrowserContext;
  let page: Page;
  let modelFile: string;
  let modelHash: string;
  let decide: ((operation: WalletOperation) => Decision) | null = null;
  const datasets = {} as Record<Key, Address>;
  const licences = {} as Record<Key, Address>;
  const cli = (keypair: string, argv: string[]) => fixture.cli(keypair, argv);
  const buyer = () => stack.wallets.buyer.wallet.signer.address;
  const usdc = (owner: Address) => walletTokenBalance(stack.connection, stack.market.usdc, owner);

  const checkAccessible = (name: string) => checkPageAccessible(page, `licence-${name}`);

  const connect = (walletName: string) => connectWallet(page, walletName);

  async function openLicence(key: Key) {
    await page.goto(`${site.url}#/`);
    await page.goto(`${site.url}#/licence/${licences[key]}`);
    await page.getByRole("heading", { level: 1, name: `Licence of ${TITLES[key]}` }).waitFor();
  }

  /** Until the cluster's clock is past `unix`. */
  async function clusterPast(unix: bigint) {
    await waitFor(async () => (await stack.connection.now()) > unix, 60_000);
  }

  async function publish(key: Key, price: string, extra: string[]) {
    const file = join(fixture.dir, `${key}.csv`);
    await writeFile(file, `${key}\n${randomBytes(8).toString("hex")}\n`);
    const published = await cli(stack.wallets.owner.keypairPath, [
      "--json", "dataset", "publish", file, "--title", TITLES[key], "--price", price, "--mint", stack.market.usdc.address, ...extra,
    ]);
    assert.equal(published.code, 0, published.stderr);
    datasets[key] = address((JSON.parse(published.stdout) as { dataset: string }).dataset);
  }

  async function buy(key: Key, maxPrice: string) {
    const bought = await cli(stack.wallets.buyer.keypairPath, ["license", "buy", datasets[key], "--max-price", maxPrice]);
    assert.equal(bought.code, 0, bought.stderr);
    licences[key] = await findLicenseAddress(datasets[key], buyer());
  }

  before(async () => {
    fixture = await startDappFixture({ name: "licence", rpcPort: RPC_PORT, minWindowSecs: 10 });
    ({ stack, site } = fixture);
    await publish("refund", "2", ["--delivery-window", "20s", "--dispute-window", "1h"]);
    await publish("used", "3", ["--delivery-window", "1h", "--dispute-window", "1h"]);
    await publish("renew", "1", ["--delivery-window", "1h", "--dispute-window", "10s", "--duration", "20s"]);
    await publish("metered", "0.5", ["--delivery-window", "1h", "--dispute-window", "10s", "--metered"]);
    await buy("used", "3");
    await buy("renew", "1");
    await buy("metered", "0.5");
    const delivered = await cli(stack.wallets.owner.keypairPath, ["deliver"]);
    assert.equal(delivered.code, 0, delivered.stderr);
    // Bought after the owner's delivery pass: its key never comes.
    await buy("refund", "2");

    modelFile = join(fixture.dir, "model.safetensors");
    const model = randomBytes(MODEL_BYTES);
    await writeFile(modelFile, model);
    modelHash = createHash("sha256").update(model).digest("hex");

    context = await fixture.browser.newContext({ viewport: { width: 1100, height: 900 } });
    await installTestWallets(context, stack.connection.rpc, [
      { name: "Phantom-like", wallet: stack.wallets.buyer.wallet, operations: ["signTransaction", "signAndSendTransaction", "signMessage"], decide: (operation) => decide?.(operation) ?? "approve" },
      { name: "Operator", wallet: stack.wallets.operator.wallet, operations: ["signTransaction", "signAndSendTransaction", "signMessage"] },
    ]);
    page = await context.newPage();
  });

  after(async () => {
    await fixture?.close();
  });

  test("a missed delivery is refunded from the page: the buyer gets the price back exactly", async () => {
    const licence = await fetchLicense(stack.connection, licences.refund);
    const { data: dataset } = await fetchDataset(stack.connection, datasets.refund);
    await page.goto(`${site.url}#/licence/${licences.refund}`);
    await connect("Phantom-like");
    await page.getByRole("heading", { level: 1, name: `Licence of ${TITLES.refund}` }).waitFor();
    assert.ok((await stack.connection.now()) <= licence.data.boughtAt + BigInt(dataset.deliveryWindowSecs), "checked inside the delivery window");
    await page.getByText(/The owner has .* left to deliver the key/).waitFor();
    assert.equal(await page.getByRole("button", { name: /^Refund/ }).count(), 0, "no refund while the owner may still deliver");
    await checkAccessible("01-awaiting-key");
    await clusterPast(licence.data.boughtAt + BigInt(dataset.deliveryWindowSecs));
    const buyerBefore = await usdc(buyer());
    const escrowBefore = await tokenBalance(stack.connection, dataset.escrowVault);
    await page.getByRole("button", { name: "Refund 2 USDC" }).click({ timeout: 15_000 });
    await page.getByRole("status").filter({ hasText: "Refunded 2 USDC to the buyer." }).waitFor({ timeout: 90_000 });
    assert.equal(await usdc(buyer()), buyerBefore + 2_000_000n);
    assert.equal(await tokenBalance(stack.connection, dataset.escrowVault), escrowBefore - 2_000_000n);
    assert.equal((await fetchLicense(stack.connection, licences.refund)).data.state, LicenseState.Refunded);
    await page.getByText("This licence was refunded: nothing more can be done with it.").waitFor();
    assert.equal(await page.getByRole("button", { name: /^Refund/ }).count(), 0);
    await checkAccessible("02-refunded");
  });

  test("My licences opens each licence; a delivered one offers use, review and dispute, no refund", async () => {
    await page.goto(`${site.url}#/licences`);
    await page.getByRole("link", { name: `Open the licence of ${TITLES.used}` }).click();
    await page.getByRole("heading", { level: 1, name: `Licence of ${TITLES.used}` }).waitFor();
    assert.match(await page.getByTestId("licence-facts").innerText(), /Key delivered\s+\d{4}-/);
    await page.getByRole("heading", { name: "Record a use" }).waitFor();
    await page.getByRole("heading", { name: "Review the dataset" }).waitFor();
    await page.getByRole("heading", { name: "Dispute the delivery" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Refund" }).count(), 0);
    await checkAccessible("03-delivered");
  });

  test("a use is recorded with a model file hashed in the page: the receipt carries the file's sha256", async () => {
    await openLicence("used");
    await page.getByLabel(/^Model file/).setInputFiles(modelFile);
    const hex = page.getByLabel("Model sha256 (64 hex characters)");
    await page.waitForFunction((expected) => (document.querySelector("input.hex") as HTMLInputElement | null)?.value === expected, modelHash, { timeout: 60_000 });
    assert.equal(await hex.inputValue(), modelHash);
    await page.getByLabel("Purpose").selectOption({ label: "Fine-tuning" });
    await page.getByLabel("Run id (optional, up to 32 bytes)").fill("run-7");
    await page.getByRole("button", { name: "Record the use" }).click();
    const done = page.getByRole("status").filter({ hasText: "Recorded: receipt" });
    await done.waitFor({ timeout: 90_000 });

    const licence = await fetchLicense(stack.connection, licences.used);
    assert.equal(licence.data.usageCount, 1n);
    const receiptAddress = await findUsageReceiptAddress(licences.used, licence.data.serial, 0);
    assert.match(await done.innerText(), new RegExp(`${receiptAddress} for model ${modelHash}`));
    const receipt = await fetchUsageReceipt(stack.connection, receiptAddress);
    assert.equal(toHex(Uint8Array.from(receipt.data.modelHash)), modelHash);
    assert.equal(receipt.data.purpose, UsagePurpose.FineTuning);
    assert.equal(receipt.data.holder, buyer());
    assert.deepEqual([...receipt.data.runId].slice(0, 6), [...new TextEncoder().encode("run-7"), 0]);
    await page.locator(`tr[data-receipt="${receiptAddress}"]`).filter({ hasText: modelHash }).waitFor();
    await checkAccessible("04-use-recorded");
  });

  test("a review goes on chain with its text on IPFS, and shows on the dataset page", async () => {
    await openLicence("used");
    await page.getByLabel("Rating").selectOption("4");
    await page.getByLabel(/^Your review/).fill(REVIEW);
    decide = () => "reject";
    await page.getByRole("button", { name: "Submit the review" }).click();
    await page.getByRole("alert").filter({ hasText: "You declined the request in your wallet. Nothing was sent and nothing was charged." }).waitFor({ timeout: 60_000 });
    decide = null;
    assert.equal(await fetchReviewOfLicense(stack.connection, licences.used), null);
    await checkAccessible("05-review-declined");
    await page.getByRole("button", { name: "Submit the review" }).click();
    await page.getByRole("status").filter({ hasText: "Reviewed: 4 / 5." }).waitFor({ timeout: 90_000 });
    const review = await fetchReviewOfLicense(stack.connection, licences.used);
    assert.ok(review);
    assert.equal(review.data.rating, 4);
    assert.equal(toHex(Uint8Array.from(review.data.textHash)), createHash("sha256").update(REVIEW).digest("hex"));
    assert.match(review.data.uri, /^ipfs:\/\/b/);
    await page.getByRole("heading", { name: "Change your review" }).waitFor();

    await page.getByRole("link", { name: "the dataset's page" }).click();
    await page.getByRole("heading", { level: 1, name: TITLES.used }).waitFor();
    await page.getByText("Paying buyers: 4.0 / 5 from 1 reviews.").waitFor();
    await page.locator("blockquote").filter({ hasText: REVIEW }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole("list", { name: "Uses by purpose" }).innerText(), "Fine-tuning: 1");
    await checkAccessible("06-dataset-review-and-uses");
  });

  test("the buyer disputes the delivery: the licence is frozen", async () => {
    await openLicence("used");
    await page.getByLabel("Reason").selectOption({ label: "The data is not what was described" });
    await page.getByLabel(/^Evidence for the arbiter/).fill(EVIDENCE);
    await page.getByRole("button", { name: "Open the dispute" }).click();
    await page.getByRole("status").filter({ hasText: "Dispute opened" }).waitFor({ timeout: 90_000 });
    assert.equal((await fetchLicense(stack.connection, licences.used)).data.state, LicenseState.Disputed);
    await page.getByText("A dispute is open: use and payouts are frozen until the arbiter rules.").waitFor();
    await page.getByText(`Evidence: ${EVIDENCE}.`).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Record a use" }).count(), 0, "no use while disputed");
    assert.equal(await page.getByRole("heading", { name: "Dispute the delivery" }).count(), 0);
    await checkAccessible("07-disputed");
  });

  test("the operator's page: read by everyone, its actions only for the authority and arbiter", async () => {
    await page.getByRole("link", { name: "Operator" }).click();
    await page.getByRole("heading", { level: 1, name: "Operator" }).waitFor();
    await page.getByText("The connected wallet is neither the marketplace authority nor its arbiter").waitFor();
    const card = page.locator("form[data-dispute]").filter({ hasText: TITLES.used });
    await card.waitFor();
    assert.equal(await card.getByRole("button", { name: "Rule" }).isDisabled(), true);
    assert.equal(await page.getByRole("button", { name: "Pause purchases" }).isDisabled(), true);
    await checkAccessible("08-operator-as-buyer");
  });

  test("the arbiter rules the dispute from the operator's page: a 25 % split, balances exact", async () => {
    const { data: dataset } = await fetchDataset(stack.connection, datasets.used);
    const marketplace = await fetchMarketplace(stack.connection);
    assert.equal(marketplace.data.arbiter, stack.wallets.operator.wallet.signer.address, "the stack's operator is the arbiter");
    const buyerBefore = await usdc(buyer());
    const escrowBefore = await tokenBalance(stack.connection, dataset.escrowVault);
    await connect("Operator");
    await page.getByText("The connected wallet is the marketplace authority and its arbiter.").waitFor();
    const card = page.locator("form[data-dispute]").filter({ hasText: TITLES.used });
    await card.getByLabel("Split").check();
    await card.getByLabel("Share back to the buyer (%)").fill("25");
    await card.getByText("The buyer gets 0.75 USDC back").waitFor();
    await checkAccessible("09-operator-ruling");
    await card.getByRole("button", { name: "Rule" }).click();
    await page.getByRole("status").filter({ hasText: "Ruled: 0.75 USDC back to the buyer." }).waitFor({ timeout: 90_000 });
    assert.equal(await usdc(buyer()), buyerBefore + 750_000n);
    assert.equal(await tokenBalance(stack.connection, dataset.escrowVault), escrowBefore - 750_000n);
    const licence = await fetchLicense(stack.connection, licences.used);
    assert.equal(licence.data.state, LicenseState.Settled);
    assert.equal(licence.data.refundedAmount, 750_000n);
    await page.getByText("No dispute is waiting for a ruling.").waitFor();
  });

  test("the authority changes the fee and the shortest dispute window from the page", async () => {
    await page.getByLabel("Protocol fee (basis points, at most 1000)").fill("300");
    await page.getByLabel("Shortest dispute window for new datasets (5s to 7d)").fill("15s");
    await page.getByRole("button", { name: "Save the settings" }).click();
    await page.getByRole("status").filter({ hasText: "The marketplace settings are updated." }).waitFor({ timeout: 90_000 });
    let market = (await fetchMarketplace(stack.connection)).data;
    assert.equal(market.protocolFeeBps, 300);
    assert.equal(market.minDisputeWindowSecs, 15);
    assert.equal(market.minDeliveryWindowSecs, 10, "an unchanged field is left as it was");
    await page.getByTestId("marketplace").getByText("3.00 %").waitFor();
    await page.getByLabel("Protocol fee (basis points, at most 1000)").fill("250");
    await page.getByLabel("Shortest dispute window for new datasets (5s to 7d)").fill("10s");
    await page.getByRole("button", { name: "Save the settings" }).click();
    await waitFor(async () => (await fetchMarketplace(stack.connection)).data.protocolFeeBps === 250, 90_000);
    market = (await fetchMarketplace(stack.connection)).data;
    assert.equal(market.minDisputeWindowSecs, 10);
  });

  test("the authority pauses and resumes purchases, and sweeps a dataset's protocol fees to the treasury", async () => {
    await page.getByRole("button", { name: "Pause purchases" }).click();
    await page.getByRole("status").filter({ hasText: "Purchases and renewals are paused." }).waitFor({ timeout: 90_000 });
    assert.equal((await fetchMarketplace(stack.connection)).data.purchasesPaused, true);
    await page.getByTestId("marketplace").getByText("Paused").waitFor();
    await page.getByRole("button", { name: "Resume purchases" }).click();
    await page.getByRole("status").filter({ hasText: "Purchases are open again." }).waitFor({ timeout: 90_000 });
    assert.equal((await fetchMarketplace(stack.connection)).data.purchasesPaused, false);

    const { data: dataset } = await fetchDataset(stack.connection, datasets.used);
    const owed = dataset.ledger.protocolFeesOwed;
    assert.ok(owed > 0n, "the released part of the ruling owes the protocol fee");
    const treasury = (await fetchMarketplace(stack.connection)).data.treasury;
    const treasuryBefore = await usdc(treasury);
    const escrowBefore = await tokenBalance(stack.connection, dataset.escrowVault);
    await page.getByRole("button", { name: new RegExp(`^Sweep .* from ${TITLES.used} to the treasury$`) }).click();
    await page.getByRole("status").filter({ hasText: /^Swept .* to the treasury\.$/ }).waitFor({ timeout: 90_000 });
    assert.equal(await usdc(treasury), treasuryBefore + owed);
    assert.equal(await tokenBalance(stack.connection, dataset.escrowVault), escrowBefore - owed);
    assert.equal((await fetchDataset(stack.connection, datasets.used)).data.ledger.protocolFeesOwed, 0n);
    await checkAccessible("10-operator-swept");
  });

  test("an expired licence offers renewal instead of use; renewing pays the price and extends it", async () => {
    await connect("Phantom-like");
    await openLicence("renew");
    await page.getByText("The dispute window has closed.").waitFor();
    assert.equal(await page.getByRole("heading", { name: "Dispute the delivery" }).count(), 0, "no dispute once its window has closed");
    await checkAccessible("11-dispute-window-closed");
    const settled = await cli(stack.wallets.buyer.keypairPath, ["settle", licences.renew]);
    assert.equal(settled.code, 0, settled.stderr);
    const before = await fetchLicense(stack.connection, licences.renew);
    await clusterPast(before.data.expiresAt);
    const { data: dataset } = await fetchDataset(stack.connection, datasets.renew);
    await openLicence("renew");
    await page.getByText("This licence has expired: renew it to record uses again.").waitFor();
    assert.equal(await page.getByRole("heading", { name: "Record a use" }).count(), 0, "no use of an expired licence");
    await checkAccessible("12-expired");
    const buyerBefore = await usdc(buyer());
    const escrowBefore = await tokenBalance(stack.connection, dataset.escrowVault);
    await page.getByRole("button", { name: "Renew for 1 USDC" }).click();
    await page.getByRole("status").filter({ hasText: "Renewed for 1 USDC." }).waitFor({ timeout: 90_000 });
    assert.equal(await usdc(buyer()), buyerBefore - 1_000_000n);
    assert.equal(await tokenBalance(stack.connection, dataset.escrowVault), escrowBefore + 1_000_000n);
    const after = await fetchLicense(stack.connection, licences.renew);
    assert.ok(after.data.expiresAt - 20n >= before.data.expiresAt, "a lapsed licence is renewed from the renewal");
    await page.getByRole("heading", { name: "Record a use" }).waitFor();
    await checkAccessible("13-renewed");
  });

  test("a metered licence buys credits and spends one per use (model hash pasted)", async () => {
    const settled = await cli(stack.wallets.buyer.keypairPath, ["settle", licences.metered]);
    assert.equal(settled.code, 0, settled.stderr);
    const { data: dataset } = await fetchDataset(stack.connection, datasets.metered);
    await openLicence("metered");
    await page.getByText("It spends one credit (1 left).").waitFor();
    const buyerBefore = await usdc(buyer());
    const escrowBefore = await tokenBalance(stack.connection, dataset.escrowVault);
    await page.getByLabel("Credits", { exact: true }).fill("2");
    await page.getByRole("button", { name: "Buy 2 for 1 USDC" }).click();
    await page.getByRole("status").filter({ hasText: "Bought 2 credits for 1 USDC." }).waitFor({ timeout: 90_000 });
    assert.equal(await usdc(buyer()), buyerBefore - 1_000_000n);
    assert.equal(await tokenBalance(stack.connection, dataset.escrowVault), escrowBefore + 1_000_000n);
    assert.equal((await fetchLicense(stack.connection, licences.metered)).data.credits, 3n);
    await page.getByText("It spends one credit (3 left).").waitFor();

    await page.getByLabel("Model sha256 (64 hex characters)").fill(modelHash);
    await page.getByLabel("Purpose").selectOption({ label: "Evaluation" });
    await page.getByRole("button", { name: "Record the use" }).click();
    await page.getByRole("status").filter({ hasText: "Recorded: receipt" }).waitFor({ timeout: 90_000 });
    const licence = await fetchLicense(stack.connection, licences.metered);
    assert.equal(licence.data.usageCount, 1n);
    await page.getByText("It spends one credit (2 left).").waitFor();
    await checkAccessible("14-credits-and-use");
  });

  test("the provenance page lists every licensed dataset behind the model, with licence, purpose, slot and attestor", async () => {
    await page.getByRole("link", { name: "Provenance" }).click();
    await page.getByRole("heading", { level: 1, name: "Model provenance" }).waitFor();
    await checkAccessible("15-provenance-empty");
    await page.getByLabel(/^Model file/).setInputFiles(modelFile);
    await page.waitForFunction((expected) => (document.querySelector("input.hex") as HTMLInputElement | null)?.value === expected, modelHash, { timeout: 60_000 });
    await page.getByRole("button", { name: "Find the datasets" }).click();
    await page.getByRole("status").filter({ hasText: "2 recorded uses of 2 licensed datasets" }).waitFor({ timeout: 60_000 });
    const rows = page.locator("tr[data-receipt]");
    assert.equal(await rows.count(), 2);
    for (const [key, purpose] of [["used", "Fine-tuning"], ["metered", "Evaluation"]] as const) {
      const licence = await fetchLicense(stack.connection, licences[key]);
      const receipt = await findUsageReceiptAddress(licences[key], licence.data.serial, 0);
      const [signature] = await stack.connection.rpc.getSignaturesForAddress(receipt).send();
      const row = page.locator(`tr[data-receipt="${receipt}"]`);
      const cells = await row.locator("td").allInnerTexts();
      assert.equal(cells[0]!.trim(), TITLES[key]);
      assert.equal(await row.getByRole("link", { name: /…/ }).getAttribute("href"), `#/licence/${licences[key]}`);
      assert.equal(cells[2], purpose);
      assert.equal(cells[4], signature!.slot.toString());
      assert.equal(cells[5], "none");
    }

    // The bill of data, signed in the page by the wallet that recorded the uses, verifies on chain with the CLI.
    await page.getByRole("button", { name: "Sign and download the bill of data" }).click();
    await page.getByRole("status").filter({ hasText: "Signed." }).waitFor({ timeout: 60_000 });
    const downloading = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download the bill of data (JSON)" }).click();
    const billPath = join(fixture.dir, "bill-of-data.json");
    await (await downloading).saveAs(billPath);
    const bill = JSON.parse(await readFile(billPath, "utf8")) as BillOfData;
    assert.equal(bill.signer, buyer());
    assert.equal(bill.model.sha256, modelHash);
    assert.deepEqual(new Set(bill.datasets.map((d) => d.address)), new Set([datasets.used, datasets.metered]));
    const verified = await cli(stack.wallets.owner.keypairPath, ["provenance", "verify", billPath]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /all 11 claims hold on chain/);
    await checkAccessible("16-provenance");

    await page.getByLabel("Model sha256 (64 hex characters)").fill("ab".repeat(32));
    await page.getByRole("button", { name: "Find the datasets" }).click();
    await page.getByRole("status").filter({ hasText: `No use of a licensed dataset is recorded for model ${"ab".repeat(32)}.` }).waitFor();
  });
});
