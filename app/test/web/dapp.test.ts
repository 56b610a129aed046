// The web dapp in headless chromium against a real local validator: an owner's dataset published
// with the CLI beforehand, then a buyer browses, opens it and buys through Wallet Standard wallets
// whose keys stay in Node. Every page is checked with axe-core and photographed into
// target/web/screenshots/. Run with `npm run test:web` (it builds the site first).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, getBase58Decoder, getBase64Decoder, type Address } from "@solana/kit";
import type { Browser, BrowserContext, Page } from "playwright-core";

import { mintTo, tokenBalance, walletTokenBalance, type LoadedWallet } from "../../src/client/index.js";
import { deriveEncryptionKeyPairFromSolanaSecretKey, toHex } from "../../src/crypto/index.js";
import { SOL, USDC } from "../../src/localnet/provision.js";
import type { LocalStack } from "../../src/localnet/stack.js";
import {
  DATA_MARKET_PROGRAM_ADDRESS,
  LicenseState,
  fetchDataset,
  fetchLicense,
  fetchMaybeLicense,
  findLicenseAddress,
} from "../../src/sdk/index.js";
import { party } from "../e2e/helpers.js";
import { installTestWallets, type Decision, type TestWallet, type WalletOperation } from "./test-wallets.js";
import { startDappFixture, type DappFixture } from "./fixture.js";
import { pageStorage, screenshot, type StaticSite, checkAccessible as checkPageAccessible, connectWallet } from "./web-harness.js";

// Ports of this suite's own (the e2e suites and the benchmarks use others).
const RPC_PORT = 38_999;
const TITLE = "Hourly weather stations";
const UNREACHABLE_RPC = "http://127.0.0.1:9/";
const PRICE = 4_500_000n; // 4.5 USDC

describe("web dapp in a real browser", { timeout: 600_000 }, () => {
  let fixture: DappFixture;
  let stack: LocalStack;
  let site: StaticSite;
  let context: BrowserContext;
  let page: Page;
  let dataset: Address;
  let wallets: Record<"phantom" | "embedded" | "ledger" | "signer" | "short" | "noSol", TestWallet>;
  let signerOnlyKeys: LoadedWallet;
  let shortKeys: LoadedWallet;
  let noSolKeys: LoadedWallet;
  const policyViolations: string[] = [];
  const decisions = new Map<string, (operation: WalletOperation) => Decision | Promise<Decision>>();
  const cli = (keypair: string, argv: string[]) => fixture.cli(keypair, argv);

  const checkAccessible = (name: string) => checkPageAccessible(page, name);

  const connect = (walletName: string) => connectWallet(page, walletName);

  async function openDataset() {
    await page.goto(`${site.url}#/`);
    await page.goto(`${site.url}#/dataset/${dataset}`);
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor();
  }

  before(async () => {
    fixture = await startDappFixture({ name: "dapp", rpcPort: RPC_PORT });
    ({ stack, site } = fixture);
    // An endpoint nothing listens on, which the site's policy allows, for the unreachable-RPC test.
    fixture.config.allowedEndpoints = [UNREACHABLE_RPC];
    const dir = fixture.dir;
    const file = join(dir, "weather.csv");
    await writeFile(file, "station,hour,temperature\nA,0,11.5\nB,0,9.25\n");
    const published = await cli(stack.wallets.owner.keypairPath, [
      "--json", "dataset", "publish", file, "--title", TITLE, "--price", "4.5", "--mint", stack.market.usdc.address,
      "--tag", "weather", "--category", "tabular", "--delivery-window", "1h", "--dispute-window", "1d",
    ]);
    assert.equal(published.code, 0, published.stderr);
    dataset = address((JSON.parse(published.stdout) as { dataset: string }).dataset);

    signerOnlyKeys = await party(dir, "signer-only");
    await stack.connection.airdrop(signerOnlyKeys.signer.address, 2n * SOL);
    await mintTo(stack.connection, stack.wallets.operator.wallet.signer, stack.market.usdc, stack.wallets.operator.wallet.signer, signerOnlyKeys.signer.address, 100n * USDC);
    // SOL for fees, but 1 USDC where 4.5 are asked.
    shortKeys = await party(dir, "short");
    await stack.connection.airdrop(shortKeys.signer.address, 2n * SOL);
    await mintTo(stack.connection, stack.wallets.operator.wallet.signer, stack.market.usdc, stack.wallets.operator.wallet.signer, shortKeys.signer.address, 1n * USDC);
    // 100 USDC and not a lamport.
    noSolKeys = await party(dir, "no-sol");
    await mintTo(stack.connection, stack.wallets.operator.wallet.signer, stack.market.usdc, stack.wallets.operator.wallet.signer, noSolKeys.signer.address, 100n * USDC);
    const decide = (name: string) => (operation: WalletOperation) => decisions.get(name)?.(operation) ?? "approve";
    context = await fixture.browser.newContext({ viewport: { width: 1100, height: 900 } });
    const installed = await installTestWallets(context, stack.connection.rpc, [
      { name: "Phantom-like", wallet: stack.wallets.buyer.wallet, operations: ["signTransaction", "signAndSendTransaction", "signMessage"], decide: decide("phantom") },
      { name: "Embedded-like", wallet: await party(dir, "embedded"), operations: ["signAndSendTransaction"] },
      {
        name: "Ledger-like",
        wallet: await party(dir, "ledger"),
        operations: ["signTransaction", "signAndSendTransaction", "signMessage"],
        decide: (operation) => (operation === "signMessage" ? { refuse: "Ledger: signing off-chain messages is not supported by this device" } : "approve"),
      },
      { name: "Signer-only", wallet: signerOnlyKeys, operations: ["signTransaction", "signMessage"] },
      { name: "Short-of-tokens", wallet: shortKeys, operations: ["signTransaction", "signMessage"] },
      { name: "No-SOL", wallet: noSolKeys, operations: ["signTransaction", "signAndSendTransaction", "signMessage"] },
    ]);
    wallets = { phantom: installed[0]!, embedded: installed[1]!, ledger: installed[2]!, signer: installed[3]!, short: installed[4]!, noSol: installed[5]! };
    page = await context.newPage();
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
    });
  });

  after(async () => {
    await fixture?.close();
  });

  test("browse: the search finds the owner's dataset, and only what matches", async () => {
    await page.goto(site.url);
    await page.getByRole("heading", { level: 1, name: "Datasets" }).waitFor();
    await page.getByRole("link", { name: TITLE }).waitFor();
    await checkAccessible("01-browse");

    await page.getByLabel("Search titles and tags").fill("satellite");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText("No dataset matches.").waitFor();

    await page.getByLabel("Search titles and tags").fill("weather");
    await page.getByLabel("Category").selectOption({ label: "Tables" });
    await page.getByLabel("Maximum price (tokens)").fill("5");
    await page.getByLabel("Sort by").selectOption("sales");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: TITLE }).waitFor();
    await screenshot(page, "02-browse-filtered");

    await page.getByLabel("Maximum price (tokens)").fill("4");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText("No dataset matches.").waitFor();
  });

  test("dataset page: price with its fee breakdown, terms in words, owner", async () => {
    await page.goto(site.url);
    await page.getByRole("link", { name: TITLE }).click();
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor();
    // The build's symbol for the mint (base units until the page has the mint's decimals).
    await page.getByTestId("price").filter({ hasText: /^4\.5 USDC$/ }).waitFor({ timeout: 30_000 });
    // 2.5 % of 4.5 is 0.1125; 4.3875 goes to the owner
    assert.match(await page.locator(".breakdown").innerText(), /Marketplace fee \(2\.50 %\)\s+0\.1125 .*\s+To the owner and contributors\s+4\.3875/);
    await page.getByText("The licence never expires.").waitFor();
    await page.getByText("Training AI models: not allowed.").or(page.getByText("Training AI models: allowed.")).waitFor();
    await page.getByText(`Owner: ${stack.wallets.owner.wallet.signer.address}`).waitFor();
    await page.getByText("Connect a wallet (top of the page) to buy.").waitFor();
    await checkAccessible("03-dataset");
  });

  test("keyboard only: search, open the dataset, reach the buy section", async () => {
    await page.goto(site.url);
    await page.getByRole("link", { name: TITLE }).waitFor();
    const focusedLabel = () => page.evaluate(() => document.activeElement?.id ? document.querySelector(`label[for="${document.activeElement.id}"]`)?.textContent ?? "" : document.activeElement?.textContent ?? "");
    for (let i = 0; i < 15 && (await focusedLabel()) !== "Search titles and tags"; i++) await page.keyboard.press("Tab");
    assert.equal(await focusedLabel(), "Search titles and tags");
    await page.keyboard.type("weather");
    await page.keyboard.press("Enter");
    await page.getByRole("link", { name: TITLE }).waitFor();
    for (let i = 0; i < 30 && (await focusedLabel()) !== TITLE; i++) await page.keyboard.press("Tab");
    assert.equal(await focusedLabel(), TITLE);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor();
  });

  test("a wallet that cannot sign messages is told that buying needs it, before anything is asked", async () => {
    await openDataset();
    await connect("Embedded-like");
    await page.getByRole("note").filter({ hasText: "This wallet cannot sign messages" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /^Buy for/ }).count(), 0);
    assert.deepEqual(wallets.embedded.requests, []);
    await checkAccessible("04-embedded-cannot-buy");
  });

  test("a Ledger-like wallet that refuses signMessage gets the explanation, and nothing is bought", async () => {
    await connect("Ledger-like");
    await page.getByRole("button", { name: /^Buy for 4\.5/ }).click();
    await page.getByRole("alert").filter({ hasText: "This wallet cannot sign messages" }).waitFor();
    assert.deepEqual(wallets.ledger.requests, ["signMessage"]);
    const license = await findLicenseAddress(dataset, wallets.ledger.wallet.signer.address);
    assert.equal(await fetchMaybeLicense(stack.connection, license), null);
    await checkAccessible("05-ledger-explained");
  });

  test("the owner raises the price while the wallet is open: a clear message, nothing charged, the new price shown", async () => {
    const buyer = stack.wallets.buyer.wallet.signer.address;
    const before = await walletTokenBalance(stack.connection, stack.market.usdc, buyer);
    decisions.set("phantom", async (operation): Promise<Decision> => {
      if (operation === "signMessage") {
        const raised = await cli(stack.wallets.owner.keypairPath, ["dataset", "update", dataset, "--price", "6"]);
        assert.equal(raised.code, 0, raised.stderr);
      }
      return "approve";
    });
    await connect("Phantom-like");
    await page.getByTestId("price").filter({ hasText: /^4\.5 USDC$/ }).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Buy for 4.5" + " " + (await page.getByTestId("price").innerText()).split(" ")[1] }).click();
    const alert = page.getByRole("alert").filter({ hasText: "The price changed" });
    await alert.waitFor();
    assert.match(await alert.innerText(), /it is now 6 \S+, above the 4\.5 \S+ you agreed to\. Nothing was charged/);
    await page.getByTestId("price").filter({ hasText: /^6 / }).waitFor();
    assert.deepEqual(wallets.phantom.requests, ["signMessage"]);
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, buyer), before);
    await checkAccessible("06-price-changed");
    decisions.delete("phantom");
    const restored = await cli(stack.wallets.owner.keypairPath, ["dataset", "update", dataset, "--price", "4.5"]);
    assert.equal(restored.code, 0, restored.stderr);
    // Each visit reads the chain afresh; on a busy validator the page has been seen to show the
    // raised price for a while after the update confirmed, so wait until it offers 4.5 again.
    const deadline = Date.now() + 120_000;
    for (;;) {
      await openDataset();
      const offered = page.getByRole("button", { name: /^Buy for 4\.5/ });
      if (await offered.waitFor({ timeout: 5_000 }).then(() => true, () => false)) break;
      assert.ok(Date.now() < deadline, `the restored price is not offered after 2 minutes; the page says: ${await page.locator("main").innerText()}`);
      await page.reload();
      await connect("Phantom-like");
    }
  });

  test("the buyer declines in the wallet: a clear message, no licence", async () => {
    decisions.set("phantom", (operation) => (operation === "signAndSendTransaction" ? "reject" : "approve"));
    await openDataset();
    await page.getByRole("button", { name: /^Buy for 4\.5/ }).click();
    await page.getByRole("alert").filter({ hasText: "You declined the request in your wallet" }).waitFor();
    decisions.delete("phantom");
    const license = await findLicenseAddress(dataset, stack.wallets.buyer.wallet.signer.address);
    assert.equal(await fetchMaybeLicense(stack.connection, license), null);
    // The key was derived once already: only the transaction was asked this time.
    assert.deepEqual(wallets.phantom.requests, ["signMessage", "signAndSendTransaction"]);
    await checkAccessible("07-declined");
  });

  test("buying with a Phantom-like wallet creates the licence: escrow and buyer balances move by the price exactly", async () => {
    const buyer = stack.wallets.buyer.wallet;
    const { data } = await fetchDataset(stack.connection, dataset);
    const buyerBefore = await walletTokenBalance(stack.connection, stack.market.usdc, buyer.signer.address);
    const escrowBefore = await tokenBalance(stack.connection, data.escrowVault);
    await page.getByRole("button", { name: /^Buy for 4\.5/ }).click();
    const done = page.getByRole("status").filter({ hasText: "Bought." });
    await done.waitFor({ timeout: 90_000 });

    const licenseAddress = await findLicenseAddress(dataset, buyer.signer.address);
    assert.match(await done.innerText(), new RegExp(licenseAddress));
    assert.equal(await page.getByRole("button", { name: /^Buy for/ }).count(), 0, "no second purchase offered once bought");
    const license = await fetchLicense(stack.connection, licenseAddress);
    assert.equal(license.data.state, LicenseState.AwaitingKey);
    assert.equal(license.data.pricePaid, PRICE);
    // The key the licence is sealed to is the one the CLI derives from the same account.
    assert.equal(toHex(Uint8Array.from(license.data.buyerEncryptionKey)), toHex(deriveEncryptionKeyPairFromSolanaSecretKey(buyer.secretKey).publicKey));
    assert.equal(await tokenBalance(stack.connection, data.escrowVault), escrowBefore + PRICE);
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, buyer.signer.address), buyerBefore - PRICE);
    // A wallet that sends itself was asked to sign and send, never to sign alone.
    assert.deepEqual(wallets.phantom.requests, ["signMessage", "signAndSendTransaction", "signAndSendTransaction"]);
    await checkAccessible("08-bought");
  });

  test("My licences lists the new licence with its state and the delivery countdown", async () => {
    await page.getByRole("link", { name: "My licences" }).first().click();
    const row = page.getByRole("row").filter({ hasText: TITLE });
    await row.waitFor();
    assert.match(await row.innerText(), /Waiting for the key/);
    assert.match(await row.innerText(), /The owner has (59m|1h)[^.]* left to deliver the key\./);
    await checkAccessible("09-my-licences");
  });

  test("a wallet that only signs: the page sends the transaction and confirms it", async () => {
    await openDataset();
    await connect("Signer-only");
    await page.getByRole("button", { name: /^Buy for 4\.5/ }).click();
    await page.getByRole("status").filter({ hasText: "Bought." }).waitFor({ timeout: 90_000 });
    const license = await fetchLicense(stack.connection, await findLicenseAddress(dataset, signerOnlyKeys.signer.address));
    assert.equal(license.data.pricePaid, PRICE);
    assert.equal(toHex(Uint8Array.from(license.data.buyerEncryptionKey)), toHex(deriveEncryptionKeyPairFromSolanaSecretKey(signerOnlyKeys.secretKey).publicKey));
    assert.deepEqual(wallets.signer.requests, ["signMessage", "signTransaction"]);
    await screenshot(page, "10-signer-only-bought");
  });

  test("a buyer without enough tokens is told so before the wallet is asked for the purchase", async () => {
    await openDataset();
    await connect("Short-of-tokens");
    await page.getByRole("button", { name: /^Buy for 4\.5/ }).click();
    await page.getByRole("alert").filter({ hasText: "Your wallet does not hold enough of the dataset's payment token" }).waitFor({ timeout: 60_000 });
    // The simulation refused it: the wallet signed the key message and was never shown a transaction.
    assert.deepEqual(wallets.short.requests, ["signMessage"]);
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, shortKeys.signer.address), 1n * USDC);
    await checkAccessible("11-not-enough-tokens");
  });

  test("a buyer with the tokens but no SOL is told the fee and rent need SOL, before the wallet is asked for the purchase", async () => {
    await openDataset();
    await connect("No-SOL");
    await page.getByRole("button", { name: /^Buy for 4\.5/ }).click();
    await page.getByRole("alert").filter({ hasText: "does not hold enough SOL for the network fee and the rent" }).waitFor({ timeout: 60_000 });
    assert.deepEqual(wallets.noSol.requests, ["signMessage"]);
    assert.equal(await walletTokenBalance(stack.connection, stack.market.usdc, noSolKeys.signer.address), 100n * USDC);
    assert.equal(await fetchMaybeLicense(stack.connection, await findLicenseAddress(dataset, noSolKeys.signer.address)), null);
    await checkAccessible("11b-not-enough-sol");
  });

  test("no secret is kept by the page: no signature or derived key in storage, cookies or the URL", async () => {
    const stored = await pageStorage(page);
    assert.ok(stored.includes(`${site.url}#/dataset/${dataset}`), "the page's state was read");
    const secrets = [
      ...wallets.phantom.messageSignatures,
      ...wallets.signer.messageSignatures,
      deriveEncryptionKeyPairFromSolanaSecretKey(stack.wallets.buyer.wallet.secretKey).secretKey,
      deriveEncryptionKeyPairFromSolanaSecretKey(signerOnlyKeys.secretKey).secretKey,
    ];
    assert.equal(secrets.length, 4);
    for (const secret of secrets) {
      for (const form of [toHex(secret), getBase64Decoder().decode(secret), getBase58Decoder().decode(secret), [...secret].join(",")]) {
        assert.ok(!stored.includes(form), "a secret is stored by the page");
      }
    }
  });

  test("an unreachable RPC node is reported as such, on every page", async () => {
    await page.getByRole("button", { name: /^Settings/ }).click();
    await page.getByLabel("RPC URL").fill(UNREACHABLE_RPC);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("alert").filter({ hasText: "cannot be reached" }).first().waitFor({ timeout: 30_000 });
    assert.match(await page.evaluate(() => localStorage.getItem("data-market:settings") ?? ""), /127\.0\.0\.1:9\//);
    await checkAccessible("12-rpc-unreachable");
    await page.getByRole("button", { name: /^Settings/ }).click();
    await page.getByRole("button", { name: "Back to this site's defaults" }).click();
    assert.equal(await page.evaluate(() => localStorage.getItem("data-market:settings")), null);
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor();
  });

  test("a program id other than the one this build speaks to is reported, not used", async () => {
    const other = stack.market.usdc.address;
    await page.getByRole("button", { name: /^Settings/ }).click();
    await page.getByLabel("Program id").fill(other);
    await page.getByRole("button", { name: "Save settings" }).click();
    const banner = page.getByRole("alert").filter({ hasText: "This build of the dapp speaks to the data market program" });
    await banner.waitFor();
    assert.match(await banner.innerText(), new RegExp(`${DATA_MARKET_PROGRAM_ADDRESS}; the settings name ${other}`));
    assert.equal(await page.getByRole("button", { name: /^Buy for/ }).count(), 0, "no purchase offered against the wrong program");
    await page.getByText("Buying is off until the settings point at a cluster where this program runs").waitFor();
    await screenshot(page, "13-wrong-program");
    await page.getByRole("button", { name: /^Settings/ }).click();
    await page.getByRole("button", { name: "Back to this site's defaults" }).click();
    await banner.waitFor({ state: "detached" });
    await page.getByRole("heading", { level: 1, name: TITLE }).waitFor();
  });

  test("the site's Content Security Policy names only its endpoints, refuses others in the settings, and nothing the dapp does breaks it", async () => {
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
    assert.ok(policy, "index.html carries a policy");
    const connect = policy.split(";").map((d) => d.trim()).find((d) => d.startsWith("connect-src"));
    const origins = [stack.url, stack.ipfs!.url, UNREACHABLE_RPC].map((u) => new URL(u).origin);
    assert.equal(connect, `connect-src 'self' ${[...new Set(origins)].join(" ")}`);
    assert.match(policy, /script-src 'self';/);
    assert.match(policy, /default-src 'none'/);

    const elsewhere = "http://127.0.0.1:19999/";
    await page.getByRole("button", { name: /^Settings/ }).click();
    await page.getByLabel("RPC URL").fill(elsewhere);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("alert").filter({ hasText: "security policy lets the page connect only to the endpoints" }).waitFor();
    assert.match(await page.getByRole("alert").filter({ hasText: "security policy" }).innerText(), /not to http:\/\/127\.0\.0\.1:19999\//);
    assert.equal(await page.evaluate(() => localStorage.getItem("data-market:settings")), null, "nothing saved");
    await checkAccessible("14-endpoint-outside-policy");
    await page.getByRole("button", { name: /^Settings/ }).click();
    assert.deepEqual(policyViolations, [], "no request of the dapp was blocked by its own policy");
  });
});
