// The whole licence lifecycle over JSON-RPC on the real clock: a local validator whose marketplace
// has minimum windows of seconds (the local stack's policy), so everything that waits for a window
// runs here as it would on devnet, only shorter. Every step is the CLI a user types.
//   settle, claim, claim-referral, sweep; a refund after a missed delivery; disputes ruled each way
//   and closed; a renewal; a metered top-up; receipts, reviews, licences and a dataset closed.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address, type Address } from "@solana/kit";

import { tokenBalance, waitForClusterTime, walletTokenBalance, type LoadedWallet } from "../../src/client/index.js";
import { EXIT } from "../../src/cli/failure.js";
import { USDC } from "../../src/localnet/provision.js";
import { LOCAL_MIN_WINDOW_SECS, startLocalStack, type LocalStack } from "../../src/localnet/stack.js";
import {
  LicenseState,
  fetchDataset,
  fetchLicense,
  findLicenseAddress,
  findUsageReceiptAddress,
} from "../../src/sdk/index.js";
import { HeliaContentStore, type ContentStore } from "../../src/storage/index.js";
import { cliPeople, type CliRun } from "./helpers.js";

/** Dispute window of the dataset whose buyers dispute: room for two disputes after delivery. */
const DISPUTED_WINDOW_SECS = 20;

describe("the whole lifecycle on a local validator's real clock", () => {
  let dir: string;
  let stack: LocalStack;
  let store: ContentStore;
  const { wallet, as, known } = cliPeople(() => ({ dir, stack, store }));
  const ok = async (who: LoadedWallet, argv: string[]): Promise<CliRun> => {
    const run = await as(who, argv);
    assert.equal(run.code, 0, `${argv.join(" ")}: ${run.stderr}`);
    return run;
  };
  const refused = async (who: LoadedWallet, argv: string[], error: RegExp) => {
    const run = await as(who, argv);
    assert.equal(run.code, EXIT.refused, `${argv.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, error);
  };
  const balance = (who: LoadedWallet | Address) =>
    walletTokenBalance(stack.connection, stack.market.usdc, typeof who === "string" ? who : who.signer.address);
  const state = async (dataset: Address, buyer: LoadedWallet) =>
    (await fetchLicense(stack.connection, await findLicenseAddress(dataset, buyer.signer.address))).data;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "data-market-lifecycle-"));
    await mkdir(join(dir, "people"));
    // Ports of their own, so the other end-to-end suites' validators can run next to this one.
    stack = await startLocalStack({ dir, rpcPort: 38_899, faucetPort: 39_900 });
    store = await HeliaContentStore.open({ directory: join(dir, "ipfs") });
    known(stack.wallets.operator.wallet.signer.address, stack.wallets.operator.keypairPath);
  });

  after(async () => {
    await store?.stop();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("every step that waits for a window, on the real clock", async (t) => {
    assert.equal(stack.market.minDisputeWindowSecs, LOCAL_MIN_WINDOW_SECS);
    const operator = stack.wallets.operator.wallet;
    const treasury = stack.market.treasury;
    const mint = stack.market.usdc.address;
    const owner = await wallet("owner", 0n);
    const contributor = await wallet("contributor", 0n);
    const frontEnd = await wallet("front-end", 0n);
    const lateOwner = await wallet("late-owner", 0n);
    const referred = await wallet("referred", 20n * USDC);
    const refunded = await wallet("refunded", 20n * USDC);
    const released = await wallet("released", 20n * USDC);
    const metered = await wallet("metered", 20n * USDC);
    const subscriber = await wallet("subscriber", 20n * USDC);
    const waiting = await wallet("waiting", 20n * USDC);
    const publish = async (who: LoadedWallet, title: string, extra: string[]): Promise<Address> => {
      const file = join(dir, `${title}.bin`);
      await writeFile(file, randomBytes(64 * 1024));
      const run = await ok(who, ["--json", "dataset", "publish", file, "--title", title, "--mint", mint, ...extra]);
      return address((JSON.parse(run.stdout) as { dataset: string }).dataset);
    };

    // Windows shorter than the marketplace's minimum are refused before anything is uploaded.
    const anyFile = join(dir, "any.bin");
    await writeFile(anyFile, randomBytes(1024));
    const tooShort = await as(owner, ["dataset", "publish", anyFile, "--title", "x", "--price", "1", "--mint", mint, "--dispute-window", "5s"]);
    assert.equal(tooShort.code, EXIT.usage, tooShort.stderr);

    // --- Sales --------------------------------------------------------------------------------
    await ok(operator, ["market", "front-end", "add", frontEnd.signer.address]);
    const shared = await publish(owner, "shared", [
      "--price", "10", "--referral-bps", "1000", "--recipient", `${owner.signer.address}:8000`,
      "--recipient", `${contributor.signer.address}:2000`, "--delivery-window", "1h", "--dispute-window", `${DISPUTED_WINDOW_SECS}s`,
    ]);
    const credits = await publish(owner, "credits", ["--price", "0.5", "--metered", "--delivery-window", "1h", "--dispute-window", "10s"]);
    const monthly = await publish(owner, "monthly", ["--price", "2", "--duration", "30d", "--delivery-window", "1h", "--dispute-window", "10s"]);
    const neglected = await publish(lateOwner, "neglected", ["--price", "3", "--delivery-window", "10s", "--dispute-window", "10s"]);

    await ok(referred, ["license", "buy", shared, "--max-price", "10", "--referrer", frontEnd.signer.address]);
    await ok(refunded, ["license", "buy", shared, "--max-price", "10"]);
    await ok(released, ["license", "buy", shared, "--max-price", "10"]);
    await ok(metered, ["license", "buy", credits, "--max-price", "1", "--credits", "2"]);
    await ok(subscriber, ["license", "buy", monthly, "--max-price", "2"]);
    await ok(waiting, ["license", "buy", neglected, "--max-price", "3"]);
    const neglectedLicense = await findLicenseAddress(neglected, waiting.signer.address);
    await refused(waiting, ["refund", neglectedLicense], /DeliveryWindowOpen/);

    // --- Delivery, then two disputes inside the dispute window -------------------------------
    await ok(owner, ["deliver"]);
    await ok(refunded, ["dispute", "open", shared, "--reason", "not-as-described", "--evidence", "ipfs://evidence-1"]);
    await ok(released, ["dispute", "open", shared, "--reason", "other", "--evidence", "ipfs://evidence-2"]);
    assert.equal((await state(shared, refunded)).state, LicenseState.Disputed);
    const referredLicense = await findLicenseAddress(shared, referred.signer.address);
    await refused(operator, ["settle", referredLicense], /DisputeWindowOpen/);

    // Metered: two uses spend both credits; a third waits for a top-up.
    const model = "ce".repeat(32);
    await ok(metered, ["usage", "record", credits, "--model", model, "--run-id", "first"]);
    await ok(metered, ["usage", "record", credits, "--model", model, "--run-id", "second"]);
    await refused(metered, ["usage", "record", credits, "--model", model], /NoCreditsLeft/);

    // The arbiter rules each way; the buyers close their dispute records.
    const before = { refunded: await balance(refunded), released: await balance(released) };
    await ok(operator, ["dispute", "rule", await findLicenseAddress(shared, refunded.signer.address), "--refund"]);
    await ok(operator, ["dispute", "rule", await findLicenseAddress(shared, released.signer.address), "--release"]);
    assert.equal(await balance(refunded), before.refunded + 10n * USDC);
    assert.equal(await balance(released), before.released);
    assert.equal((await state(shared, refunded)).state, LicenseState.Refunded);
    assert.equal((await state(shared, released)).state, LicenseState.Settled);
    await ok(refunded, ["dispute", "close", shared]);
    await ok(released, ["dispute", "close", shared]);

    // --- The windows close on the cluster's clock --------------------------------------------
    const delivered = (await state(shared, referred)).deliveredAt;
    const bought = (await state(neglected, waiting)).boughtAt;
    const latest = [delivered + BigInt(DISPUTED_WINDOW_SECS), bought + 10n].reduce((a, b) => (a > b ? a : b));
    const waitStarted = Date.now();
    await waitForClusterTime(stack.connection, latest);
    const waitedMs = Date.now() - waitStarted;

    // A missed delivery: the owner's daemon no longer may deliver; anyone refunds the buyer.
    const late = await ok(lateOwner, ["deliver"]);
    assert.match(late.stdout, /delivery window has closed/);
    await ok(operator, ["refund", neglectedLicense]);
    assert.equal(await balance(waiting), 20n * USDC);
    await ok(waiting, ["close-license", neglected]);

    // Settlement and payouts of the shared dataset: owner 80%, contributor 20%, the referrer its
    // fee, the treasury the protocol fee; the escrow ends empty.
    const paid = {
      owner: await balance(owner),
      contributor: await balance(contributor),
      frontEnd: await balance(frontEnd),
      treasury: await balance(treasury),
    };
    await ok(frontEnd, ["settle", referredLicense]);
    await ok(owner, ["claim", shared]);
    await ok(contributor, ["claim", shared]);
    await ok(frontEnd, ["claim-referral", referredLicense]);
    await ok(operator, ["sweep", shared]);
    const received = {
      owner: (await balance(owner)) - paid.owner,
      contributor: (await balance(contributor)) - paid.contributor,
      frontEnd: (await balance(frontEnd)) - paid.frontEnd,
      treasury: (await balance(treasury)) - paid.treasury,
    };
    assert.equal(received.frontEnd, 1n * USDC, "10% referral fee on the referred sale");
    // three sales of 10, one refunded in full: 20 paid out in all
    assert.equal(received.owner + received.contributor + received.frontEnd + received.treasury, 20n * USDC);
    assert.equal(received.owner, 4n * received.contributor);
    const { data: sharedData } = await fetchDataset(stack.connection, shared);
    assert.equal(await tokenBalance(stack.connection, sharedData.escrowVault), 0n);

    // Metered top-up after settlement, then the third use.
    const meteredLicense = await findLicenseAddress(credits, metered.signer.address);
    await ok(metered, ["settle", meteredLicense]);
    await ok(metered, ["license", "credits", credits, "3", "--max-price", "1.5"]);
    await ok(metered, ["usage", "record", credits, "--model", model, "--run-id", "third"]);
    assert.equal((await state(credits, metered)).usageCount, 3n);

    // A 30-day licence renewed once settled.
    const monthlyLicense = await findLicenseAddress(monthly, subscriber.signer.address);
    await ok(owner, ["settle", monthlyLicense]);
    const expiry = (await state(monthly, subscriber)).expiresAt;
    await ok(subscriber, ["license", "renew", monthly, "--max-price", "2"]);
    assert.equal((await state(monthly, subscriber)).expiresAt, expiry + 30n * 86_400n);

    // --- Closing: a review, a licence and its receipts, a retired dataset ---------------------
    await ok(referred, ["review", "submit", shared, "--rating", "4", "--text", "clean and well labelled"]);
    await ok(referred, ["review", "withdraw", shared]);
    await ok(metered, ["close-license", credits]);
    await ok(metered, ["usage", "reclaim", meteredLicense]);
    const receipts = await Promise.all([0n, 1n, 2n].map((index) => findUsageReceiptAddress(meteredLicense, 0n, index)));
    assert.deepEqual((await stack.connection.getAccounts(receipts)).map((account) => account.exists), [false, false, false]);
    await ok(lateOwner, ["dataset", "state", neglected, "retired"]);
    await ok(lateOwner, ["dataset", "close", neglected]);
    assert.equal((await stack.connection.getAccounts([neglected]))[0]?.exists, false);

    t.diagnostic(`waited ${(waitedMs / 1000).toFixed(1)} s for the cluster's clock`);
  });
});
