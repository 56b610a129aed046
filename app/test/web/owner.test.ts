// The owner dashboard (#/owner) in headless chromium against a real local validator and IPFS node:
// the owner publishes and the buyer buys with the CLI, then the owner, connected in the page with a
// Wallet Standard wallet holding the owner's keys (in Node), delivers the key, changes the price,
// settles the licence once its dispute window passes, claims the revenue and moves the dataset
// through its lifecycle. Every page state is checked with axe-core and photographed into
// target/web/screenshots/ (owner-NN-*). Run with `npm run test:web` (it builds the site first).
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, getBase58Decoder, getBase64Decoder, type Address } from "@solana/kit";
import type { BrowserContext, Page } from "playwright-core";

import { getTransferSolInstruction } from "@solana-program/system";

import { tokenBalance, walletTokenBalance, type LoadedWallet } from "../../src/client/index.js";
import { deriveEncryptionKeyPairFromSolanaSecretKey, toHex } from "../../src/crypto/index.js";
import { SOL } from "../../src/localnet/provision.js";
import type { LocalStack } from "../../src/localnet/stack.js";
import {
  DatasetState,
  LicenseState,
  claimableBy,
  fetchDataset,
  fetchLicense,
  fetchMarketplace,
  fetchMaybeDataset,
  findMarketplaceAddress,
  findLicenseAddress,
  isKeyDelivered,
} from "../../src/sdk/index.js";
import { party } from "../e2e/helpers.js";
import { installTestWallets, type Decision, type TestWallet, type WalletOperation } from "./test-wallets.js";
import { startDappFixture, type DappFixture } from "./fixture.js";
import { pageStorage, type StaticSite, checkAccessible as checkPageAccessible, connectWallet } from "./web-harness.js";

// This suite's own ports (the faucet is + 71, the IPFS node + 82).
const RPC_PORT = 34_899;
const TITLE = "Tide gauge readings";
const PRICE = 4_500_000n; // 4.5 USDC
// 2.5 % of 4.5 USDC (the local marketplace's fee) stays for the protocol; the rest is the owner's.
const PROTOCOL_FEE = 112_500n;
const OWNER_SHARE = PRICE - PROTOCOL_FEE;
const DISPUTE_WINDOW_SECS = 12;
const CONTENT = "port,hour,level_m\nBrest,0,3.12\nBrest,1,3.57\nCherbourg,0,2.80\n";

describe("owner dashboard in a real browser", { timeout: 600_000 }, () => {
  let fixture: DappFixture;
  let stack: LocalStack;
  let site: StaticSite;
  let context: BrowserContext;
  let page: Page;
  let dataset: Address;
  let license: Address;
  let wallets: Record<"phantom" | "ledger", TestWallet>;
  let poorKeys: LoadedWallet;
  const decisions = new Map<string, (operation: WalletOperation) => Decision | Promise<Decision>>();
  const cli = (keypair: string, argv: string[]) => fixture.cli(keypair, argv);

  const checkAccessible = (name: string) => checkPageAccessible(page, name);

  const connect = (walletName: string) => connectWallet(page, walletName);

  const card = () => page.locator(`article[data-dataset="${dataset}"]`);

  async function openManage() {
    const details = card().locator("details");
    if ((await details.getAttribute("open")) === null) await card().getByText(`Manage ${TITLE}`).click();
  }

  before(async () => {
    fixture = await startDappFixture({ name: "owner", rpcPort: RPC_PORT, minWindowSecs: 10 });
    ({ stack, site } = fixture);
    const file = join(fixture.dir, "tides.csv");
    await writeFile(file, CONTENT);
    const published = await cli(stack.wallets.owner.keypairPath, [
      "--json", "dataset", "publish", file, "--title", TITLE, "--price", "4.5", "--mint", stack.market.usdc.address,
      "--category", "tabular", "--delivery-window", "10m", "--dispute-window", `${DISPUTE_WINDOW_SECS}s`,
    ]);
    assert.equal(published.code, 0, published.stderr);
    dataset = address((JSON.parse(published.stdout) as { dataset: string }).dataset);
    const bought = await cli(stack.wallets.buyer.keypairPath, ["license", "buy", dataset, "--max-price", "4.5"]);
    assert.equal(bought.code, 0, bought.stderr);
    license = await findLicenseAddress(dataset, stack.wallets.buyer.wallet.signer.address);
    assert.equal((await fetchLicense(stack.connection, license)).data.state, LicenseState.AwaitingKey);

    poorKeys = await party(fixture.dir, "poor-owner");
    context = await fixture.browser.newContext({ viewport: { width: 1100, height: 900 } });
    const decide = (name: string) => (operation: WalletOperation) => decisions.get(name)?.(operation) ?? "approve";
    const installed = await installTestWallets(context, stack.connection.rpc, [
      { name: "Phantom-like", wallet: stack.wallets.owner.wallet, operations: ["signTransaction", "signAndSendTransaction", "signMessage"], decide: decide("phantom") },
      {
        name: "Ledger-like",
        wallet: stack.wallets.owner.wallet,
        operations: ["signTransaction", "signAndSendTransaction", "signMessage"],
        decide: (operation) => (operation === "signMessage" ? { refuse: "Ledger: signing off-chain messages is not supported by this device" } : "approve"),
      },
      { name: "Poor-like", wallet: poorKeys, operations: ["signTransaction", "signMessage"] },
    ]);
    wallets = { phantom: installed[0]!, ledger: installed[1]! };
    page = await context.newPage();
  });

  after(async () => {
    await fixture?.close();
  });

  test("without a wallet the dashboard asks for one; connected, it lists the dataset and the key owed", async () => {
    await page.goto(`${site.url}#/owner`);
    await page.getByRole("heading", { level: 1, name: "My datasets" }).waitFor();
    await page.getByText("Connect a wallet to see the datasets it owns.").waitFor();
    await checkAccessible("owner-01-no-wallet");

    await connect("Phantom-like");
    // Amounts read in tokens once the mint's decimals are in.
    await card().getByRole("button", { name: "Claim 0 USDC" }).waitFor();
    assert.equal(await card().getByTestId("state").innerText(), "On sale");
    await card().getByTestId("price").filter({ hasText: /^4\.5 USDC$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await card().getByTestId("sales").innerText(), "1");
    assert.match(await card().getByTestId("revenue").innerText(), /^4\.5 USDC /);
    assert.equal(await card().getByTestId("claimable").innerText(), "0 USDC");
    assert.ok(await card().getByRole("button", { name: "Claim 0 USDC" }).isDisabled());
    const row = page.locator(`tr[data-licence="${license}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`${TITLE}\\s+${stack.wallets.buyer.wallet.signer.address.slice(0, 4)}…`));
    assert.match(await row.innerText(), /\((9m|10m)[^)]* left\)/);
    await checkAccessible("owner-02-pending");
  });

  test("a wallet that cannot sign messages is told why delivering needs it, and nothing is delivered", async () => {
    await connect("Ledger-like");
    await page.getByRole("button", { name: "Deliver the key" }).click();
    await page.getByRole("alert").filter({ hasText: "This wallet cannot sign messages" }).waitFor();
    assert.deepEqual(wallets.ledger.requests, ["signMessage"]);
    assert.equal((await fetchLicense(stack.connection, license)).data.state, LicenseState.AwaitingKey);
    await checkAccessible("owner-03-cannot-sign");
  });

  test("Deliver seals the key to the buyer from the page; the buyer downloads the exact file with the CLI", async () => {
    await connect("Phantom-like");
    await page.getByRole("button", { name: "Deliver the key" }).click();
    await page.getByRole("status").filter({ hasText: "Keys: 1 delivered." }).waitFor({ timeout: 90_000 });
    const delivered = await fetchLicense(stack.connection, license);
    assert.equal(delivered.data.state, LicenseState.Delivered);
    assert.ok(isKeyDelivered(delivered.data));
    // The key message once, then the one deliver_key transaction, sent by the wallet.
    assert.deepEqual(wallets.phantom.requests, ["signMessage", "signAndSendTransaction"]);
    await page.getByText("No buyer is waiting for a key.").waitFor();
    await checkAccessible("owner-04-delivered");

    const output = join(fixture.dir, "downloaded.csv");
    const downloaded = await cli(stack.wallets.buyer.keypairPath, ["download", dataset, "--output", output]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.equal(await readFile(output, "utf8"), CONTENT);
  });

  test("declining in the wallet changes nothing; a price update and allow-list edits land on chain", async () => {
    await openManage();
    decisions.set("phantom", () => "reject");
    await card().getByLabel("New price").fill("7.25");
    await card().getByRole("button", { name: "Update the price" }).click();
    await card().getByRole("alert").filter({ hasText: "You declined the request in your wallet" }).waitFor();
    assert.equal((await fetchDataset(stack.connection, dataset)).data.price, PRICE);
    decisions.delete("phantom");

    await card().getByRole("button", { name: "Update the price" }).click();
    await card().getByRole("status").filter({ hasText: "The price is now 7.25 USDC." }).waitFor({ timeout: 60_000 });
    assert.equal((await fetchDataset(stack.connection, dataset)).data.price, 7_250_000n);
    await card().getByTestId("price").filter({ hasText: "7.25 USDC" }).waitFor();
    await checkAccessible("owner-05-price-updated");

    const buyer = stack.wallets.buyer.wallet.signer.address;
    await card().getByRole("button", { name: "Turn the allow-list on" }).click();
    await card().getByRole("status").filter({ hasText: "The allow-list is on." }).waitFor({ timeout: 60_000 });
    await card().getByLabel("Buyer's wallet address").fill(buyer);
    await card().getByRole("button", { name: "Allow", exact: true }).click();
    await card().getByRole("status").filter({ hasText: `${buyer} may now buy.` }).waitFor({ timeout: 60_000 });
    let { data } = await fetchDataset(stack.connection, dataset);
    assert.deepEqual([data.allowListEnabled, data.allowListEntries], [true, 1]);
    await card().getByText("Only wallets on the allow-list may buy. Entries: 1.").waitFor();
    await checkAccessible("owner-06-allow-listed");
    await card().getByRole("button", { name: "Remove", exact: true }).click();
    await card().getByRole("status").filter({ hasText: `${buyer} is off the allow-list.` }).waitFor({ timeout: 60_000 });
    await card().getByRole("button", { name: "Turn the allow-list off" }).click();
    await card().getByRole("status").filter({ hasText: "The allow-list is off: anyone may buy." }).waitFor({ timeout: 60_000 });
    ({ data } = await fetchDataset(stack.connection, dataset));
    assert.deepEqual([data.allowListEnabled, data.allowListEntries], [false, 0]);

    await card().getByLabel("Buyer's wallet address").fill("not-an-address");
    await card().getByRole("button", { name: "Allow", exact: true }).click();
    await card().getByRole("alert").filter({ hasText: '"not-an-address" is not a Solana wallet address.' }).waitFor();

    await card().getByLabel("New price").fill("1.1234567");
    await card().getByRole("button", { name: "Update the price" }).click();
    await card().getByRole("alert").filter({ hasText: "The price is not valid" }).waitFor();
  });

  test("after the dispute window the licence settles from the page, and Claim moves exactly the owner's share", async () => {
    const delivered = await fetchLicense(stack.connection, license);
    assert.equal(delivered.data.protocolFee, PROTOCOL_FEE);
    const settleButton = card().getByRole("button", { name: "Settle the licence" });
    // The cluster's clock passes deliveredAt + the dispute window; the page offers settlement then.
    await settleButton.waitFor({ timeout: (DISPUTE_WINDOW_SECS + 30) * 1000 });
    assert.ok((await stack.connection.now()) >= delivered.data.deliveredAt + BigInt(DISPUTE_WINDOW_SECS));
    await checkAccessible("owner-07-settle-offered");
    await settleButton.click();
    await card().getByRole("status").filter({ hasText: "Settled one licence." }).waitFor({ timeout: 60_000 });
    assert.equal((await fetchLicense(stack.connection, license)).data.state, LicenseState.Settled);

    const owner = stack.wallets.owner.wallet.signer.address;
    const { data } = await fetchDataset(stack.connection, dataset);
    assert.equal(claimableBy(data, owner), OWNER_SHARE);
    await card().getByTestId("claimable").filter({ hasText: "4.3875 USDC" }).waitFor();
    const ownerBefore = await walletTokenBalance(stack.connection, stack.market.usdc, owner);
    const escrowBefore = await tokenBalance(stack.connection, data.escrowVault);
    await checkAccessible("owner-08-claimable");

    await card().getByRole("button", { name: "Claim 4.3875 USDC" }).click();
    await card().getByRole("status").filter({ hasText: "Claimed 4.3875 USDC to your token account." }).waitFor({ timeout: 60_000 });
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, owner), ownerBefore + OWNER_SHARE);
    assert.equal(await tokenBalance(stack.connection, data.escrowVault), escrowBefore - OWNER_SHARE);
    // What stays in escrow is the protocol's fee, not yet swept.
    assert.equal(await tokenBalance(stack.connection, data.escrowVault), PROTOCOL_FEE);
    assert.equal(claimableBy((await fetchDataset(stack.connection, dataset)).data, owner), 0n);
    await card().getByTestId("claimable").filter({ hasText: /^0 USDC$/ }).waitFor();
    await checkAccessible("owner-09-claimed");
  });

  test("lifecycle: pause, retire after a confirmation; closing is refused while fees are owed, then closes once they are swept", async () => {
    await openManage();
    await card().getByLabel("Move to").selectOption({ label: "Sales paused" });
    await card().getByRole("button", { name: "Change the state" }).click();
    await card().getByRole("status").filter({ hasText: "The dataset is now: Sales paused." }).waitFor({ timeout: 60_000 });
    assert.equal((await fetchDataset(stack.connection, dataset)).data.state, DatasetState.OrderingPaused);
    await card().getByTestId("state").filter({ hasText: "Sales paused" }).waitFor();

    await openManage();
    await card().getByLabel("Move to").selectOption({ label: "Retired" });
    const requestsBefore = wallets.phantom.requests.length;
    await card().getByRole("button", { name: "Change the state" }).click();
    const confirm = card().getByRole("group", { name: /Retired cannot be undone/ });
    await confirm.waitFor();
    await checkAccessible("owner-10-confirm-retire");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    assert.equal(wallets.phantom.requests.length, requestsBefore, "nothing asked of the wallet before the confirmation");
    assert.equal((await fetchDataset(stack.connection, dataset)).data.state, DatasetState.OrderingPaused);

    await card().getByRole("button", { name: "Change the state" }).click();
    await card().getByRole("button", { name: "Yes, make it retired" }).click();
    await card().getByRole("status").filter({ hasText: "The dataset is now: Retired." }).waitFor({ timeout: 60_000 });
    assert.equal((await fetchDataset(stack.connection, dataset)).data.state, DatasetState.Retired);

    await openManage();
    await card().getByRole("button", { name: "Close the dataset" }).click();
    await card().getByRole("button", { name: "Yes, close it" }).click();
    const refused = card().getByRole("alert").filter({ hasText: "Closing the dataset is not allowed now" });
    await refused.waitFor({ timeout: 60_000 });
    assert.match(await refused.innerText(), /money in escrow\. Nothing was changed\./);
    assert.equal((await fetchDataset(stack.connection, dataset)).data.state, DatasetState.Retired);
    const blockers = card().getByRole("list", { name: "What keeps the dataset open" });
    assert.equal(await blockers.innerText(), "0.1125 USDC of protocol fees not swept to the treasury yet");
    await checkAccessible("owner-11-close-refused");

    const treasury = (await fetchMarketplace(stack.connection, await findMarketplaceAddress())).data.treasury;
    const treasuryBefore = await walletTokenBalance(stack.connection, stack.market.usdc, treasury);
    await card().getByRole("button", { name: "Sweep the protocol fees (0.1125 USDC) to the treasury" }).click();
    await card().getByRole("status").filter({ hasText: "Swept 0.1125 USDC to the marketplace's treasury." }).waitFor({ timeout: 60_000 });
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, treasury), treasuryBefore + PROTOCOL_FEE);
    await blockers.waitFor({ state: "detached" });

    await card().getByRole("button", { name: "Close the dataset" }).click();
    await card().getByRole("button", { name: "Yes, close it" }).click();
    await page.getByRole("status").filter({ hasText: `${TITLE} is closed; the rent of its accounts is back in your wallet.` }).waitFor({ timeout: 60_000 });
    assert.equal(await fetchMaybeDataset(stack.connection, dataset), null);
    await page.getByText("This wallet owns no dataset yet").waitFor();
    await checkAccessible("owner-12-closed");
  });

  test("an owner without SOL for the fee is told so, and nothing changes", async () => {
    await stack.connection.airdrop(poorKeys.signer.address, 1n * SOL);
    const file = join(fixture.dir, "poor.csv");
    await writeFile(file, "a,b\n1,2\n");
    const published = await cli(join(fixture.dir, "poor-owner.json"), [
      "--json", "dataset", "publish", file, "--title", "Small table", "--price", "1", "--mint", stack.market.usdc.address,
    ]);
    assert.equal(published.code, 0, published.stderr);
    const poorDataset = address((JSON.parse(published.stdout) as { dataset: string }).dataset);
    // Every lamport goes back to the operator, who pays that transaction's fee.
    const { value: lamports } = await stack.connection.rpc.getBalance(poorKeys.signer.address).send();
    await stack.connection.send(stack.wallets.operator.wallet.signer, [
      getTransferSolInstruction({ source: poorKeys.signer, destination: stack.wallets.operator.wallet.signer.address, amount: lamports }),
    ]);
    assert.equal((await stack.connection.rpc.getBalance(poorKeys.signer.address).send()).value, 0n);

    await page.goto(`${site.url}#/owner`);
    await connect("Poor-like");
    const poorCard = page.locator(`article[data-dataset="${poorDataset}"]`);
    await poorCard.getByRole("button", { name: "Claim 0 USDC" }).waitFor();
    await poorCard.getByText("Manage Small table").click();
    await poorCard.getByLabel("New price").fill("2");
    await poorCard.getByRole("button", { name: "Update the price" }).click();
    const alert = poorCard.getByRole("alert").filter({ hasText: "does not hold enough SOL" });
    await alert.waitFor({ timeout: 60_000 });
    assert.equal(await alert.innerText(), "The price update was not sent: your wallet does not hold enough SOL for the network fee. Add a little SOL and try again.");
    assert.equal((await fetchDataset(stack.connection, poorDataset)).data.price, 1_000_000n);
    await checkAccessible("owner-13-no-sol");
  });

  test("no secret is kept by the page: no signature or derived key in storage, cookies or the URL", async () => {
    const stored = await pageStorage(page);
    assert.ok(stored.includes(`${site.url}#/owner`), "the page's state was read");
    const secrets = [...wallets.phantom.messageSignatures, deriveEncryptionKeyPairFromSolanaSecretKey(stack.wallets.owner.wallet.secretKey).secretKey];
    assert.equal(secrets.length, 2);
    for (const secret of secrets) {
      for (const form of [toHex(secret), getBase64Decoder().decode(secret), getBase58Decoder().decode(secret), [...secret].join(",")]) {
        assert.ok(!stored.includes(form), "a secret is stored by the page");
      }
    }
  });
});
