// The marketplace's whole journey, narrated with balances: an owner and a co-contributor publish a
// dataset, a buyer finds it, pays into escrow, gets the key from the owner's delivery daemon,
// downloads and verifies the bytes, records a training run and reviews; once the dispute window has
// passed the licence settles and everyone claims their exact share. Runs on any MarketConnection:
// an embedded SVM (where the clock is moved forward) or an RPC cluster (where it waits for the
// cluster's clock when the marketplace's dispute window is short, as on the local stack, and
// otherwise stops before settling and says when settlement opens).
//
// The dataset takes the marketplace's minimum dispute window.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Address, TransactionSigner } from "@solana/kit";

import {
  buyLicense,
  createKeypairFile,
  deliverPendingKeys,
  downloadDataset,
  formatAmount,
  formatDuration,
  keypairWallet,
  licenseTerms,
  publishDataset,
  tokenBalance,
  waitForClusterTime,
  walletTokenBalance,
  type MarketConnection,
  type MarketWallet,
  type ProgressListener,
} from "../client/index.js";
import { toHex } from "../crypto/index.js";
import {
  DatasetCategory,
  UsagePurpose,
  buildClaimRevenue,
  buildRecordUsage,
  buildSettleLicense,
  buildSubmitReview,
  buildSweepProtocolFees,
  datasetAverageRating,
  fetchDataset,
  fetchLicense,
  findDatasets,
  findModelProvenance,
  queries,
} from "../sdk/index.js";
import { USDC, provisionMarket } from "../localnet/provision.js";
import type { ContentStore } from "../storage/index.js";

export interface JourneyOptions {
  connection: MarketConnection;
  /** Pays for set-up and mints the test token; on a fresh cluster also the program's upgrade authority. */
  operator: TransactionSigner;
  store: ContentStore;
  /** Size of the generated dataset file. */
  fileBytes: number;
  /** Where narration goes (one call per line). */
  say: (line: string) => void;
  onProgress?: ProgressListener;
}

export interface JourneyResult {
  dataset: Address;
  license: Address;
  settled: boolean;
  /** Final token balances in base units, by role. */
  balances: Record<string, bigint>;
}

const PRICE = 10n * USDC;
/** On a real cluster, wait for settlement when it opens within this many seconds. */
const MAX_REAL_WAIT_SECS = 120;

export async function runJourney(options: JourneyOptions): Promise<JourneyResult> {
  const { connection, store, say } = options;
  const work = await mkdtemp(join(tmpdir(), "data-market-journey-"));
  try {
    say(`Marketplace journey on ${connection.label}`);
    step(say, 1, "Wallets, a USDC-like payment token and the marketplace");
    const party = async (name: string) => keypairWallet(await createKeypairFile(join(work, `${name}.json`)));
    const operator = options.operator;
    const owner = await party("owner");
    const contributor = await party("contributor");
    const buyer = await party("buyer");
    const market = await provisionMarket(connection, {
      operator,
      wallets: [
        { address: owner.signer.address, usdc: 0n },
        { address: contributor.signer.address, usdc: 0n },
        { address: buyer.signer.address, usdc: 100n * USDC },
      ],
    }).catch((error: unknown) => {
      throw new Error(
        `cannot set up the marketplace on ${connection.label}: ${error instanceof Error ? error.message : String(error)}` +
          " (on a local validator, start it with `npm run localnet`, which deploys the program and creates the marketplace)",
      );
    });
    const usd = (amount: bigint) => `${formatAmount(amount, market.usdc.decimals)} USDC`;
    const balance = (who: Address) => walletTokenBalance(connection, market.usdc, who);
    say(`   payment token ${market.usdc.address} (6 decimals), marketplace ${market.marketplace}`);
    say(`   owner ${owner.signer.address}, co-contributor ${contributor.signer.address}`);
    say(`   buyer ${buyer.signer.address} holds ${usd(await balance(buyer.signer.address))}`);

    step(say, 2, "The owner publishes a dataset: encrypt, add to IPFS, register (80% owner, 20% co-contributor)");
    const file = join(work, "support-chats.jsonl");
    const content = randomBytes(options.fileBytes);
    await writeFile(file, content);
    const published = await publishDataset(connection, store, owner, {
      file,
      title: `Support chats ${toHex(randomBytes(3))}`,
      description: "Customer-support conversations, de-identified, one JSON object per line.",
      category: DatasetCategory.Text,
      tags: ["chat", "support", "english"],
      price: PRICE,
      paymentMint: market.usdc.address,
      terms: licenseTerms(),
      recipients: [
        { wallet: owner.signer.address, bps: 8_000 },
        { wallet: contributor.signer.address, bps: 2_000 },
      ],
      deliveryWindowSecs: 86_400,
      disputeWindowSecs: market.minDisputeWindowSecs,
      onProgress: options.onProgress,
    });
    const dataset = published.dataset;
    say(`   dataset ${dataset}`);
    say(`   ${published.plaintextBytes} bytes, sha256 ${published.contentHash}`);
    say(`   ciphertext ${published.ciphertextCid}, metadata ${published.metadataUri}`);

    step(say, 3, "The buyer finds it by tag");
    const found = await findDatasets(connection, queries.datasetsByTag("support"));
    const listing = found.find((d) => d.address === dataset);
    if (!listing) throw new Error("the published dataset is not found by its tag");
    say(`   "${listing.data.title}" for ${usd(listing.data.price)}, ${found.length} dataset(s) tagged "support"`);

    step(say, 4, `The buyer pays ${usd(PRICE)} into escrow and receives a licence token`);
    const purchase = await buyLicense(connection, buyer, { dataset, maxPrice: PRICE });
    const license = purchase.license;
    say(`   licence ${license}`);
    say(`   buyer ${usd(await balance(buyer.signer.address))}, escrow vault ${usd(await tokenBalance(connection, listing.data.escrowVault))}`);

    step(say, 5, "The owner's delivery daemon seals the content key to the buyer's key and delivers it");
    const pass = await deliverPendingKeys(connection, store, owner);
    say(`   ${pass.delivered} key(s) delivered${pass.failed ? `, ${pass.failed} failed` : ""}`);
    if (pass.delivered !== 1) throw new Error(`expected one delivery, got ${JSON.stringify(pass.events)}`);

    step(say, 6, "The buyer downloads, decrypts and verifies against the on-chain hash");
    const output = join(work, "downloaded.jsonl");
    const downloaded = await downloadDataset(connection, store, buyer, { dataset, output, onProgress: options.onProgress });
    const same = (await readFile(output)).equals(content);
    say(`   ${downloaded.plaintextBytes} bytes, sha256 ${downloaded.sha256}: ${same ? "identical to what the owner published" : "DIFFERENT"}`);
    if (!same) throw new Error("the downloaded bytes differ from the published ones");

    step(say, 7, "The buyer records a training run; anyone can trace the model back to its data");
    const modelHash = new Uint8Array(randomBytes(32));
    const runId = new Uint8Array(32);
    runId.set(new TextEncoder().encode("journey-run-1"));
    await connection.send(
      buyer.signer,
      await buildRecordUsage(connection, { holder: buyer.signer, license, purpose: UsagePurpose.Training, modelHash, runId }),
    );
    const provenance = await findModelProvenance(connection, modelHash);
    say(`   model ${toHex(modelHash).slice(0, 16)}… was trained on ${provenance.datasets.length} licensed dataset(s): ${provenance.datasets.join(", ")}`);

    step(say, 8, "The buyer reviews the dataset");
    await connection.send(
      buyer.signer,
      await buildSubmitReview({ reviewer: buyer.signer, dataset, rating: 5, textHash: new Uint8Array(32).fill(7), uri: "ipfs://review" }),
    );
    const reviewed = await fetchDataset(connection, dataset);
    say(`   rating ${datasetAverageRating(reviewed.data)?.toFixed(1)} / 5 from ${reviewed.data.ratings.paid.count} paid review`);

    const balances = async () => ({
      buyer: await balance(buyer.signer.address),
      owner: await balance(owner.signer.address),
      contributor: await balance(contributor.signer.address),
      treasury: await balance(market.treasury),
      escrow: await tokenBalance(connection, listing.data.escrowVault),
    });

    const { data: delivered } = await fetchLicense(connection, license);
    const disputeWindow = market.minDisputeWindowSecs;
    const settlesAt = delivered.deliveredAt + BigInt(disputeWindow);
    const wait = settlesAt - (await connection.now());
    if (!connection.canAdvanceTime && wait > BigInt(MAX_REAL_WAIT_SECS)) {
      step(say, 9, "Settlement");
      say(`   the buyer may dispute until ${new Date(Number(settlesAt) * 1000).toISOString()} (${formatDuration(disputeWindow)} after delivery);`);
      say(`   after that anyone can run: data-market --url ${connection.label} settle ${license}`);
      say(`   escrow vault holds ${usd(await tokenBalance(connection, listing.data.escrowVault))} until then`);
      return { dataset, license, settled: false, balances: await balances() };
    }

    step(say, 9, `${formatDuration(disputeWindow)} pass without a dispute; anyone settles the licence`);
    if (!connection.canAdvanceTime) say(`   waiting ${wait > 0n ? wait : 0n} s for the cluster's clock`);
    await waitForClusterTime(connection, settlesAt);
    await connection.send(operator, await buildSettleLicense(connection, { caller: operator, license }));
    const settled = await fetchDataset(connection, dataset);
    const [ownerOwed, contributorOwed] = settled.data.ledger.claimable;
    say(`   claimable: owner ${usd(ownerOwed ?? 0n)}, co-contributor ${usd(contributorOwed ?? 0n)}; protocol fee ${usd(settled.data.ledger.protocolFeesOwed)}`);

    step(say, 10, "Everyone is paid: the owner and co-contributor claim, the protocol fee is swept to the treasury");
    await claim(connection, owner, dataset);
    await claim(connection, contributor, dataset);
    await connection.send(operator, await buildSweepProtocolFees(connection, { caller: operator, dataset }));
    const final = await balances();
    say(`   buyer        ${usd(final.buyer)}`);
    say(`   owner        ${usd(final.owner)}`);
    say(`   contributor  ${usd(final.contributor)}`);
    say(`   treasury     ${usd(final.treasury)} (journey's token only)`);
    say(`   escrow vault ${usd(final.escrow)}`);
    const paidOut = final.owner + final.contributor + final.treasury;
    say(`   ${usd(PRICE)} paid = ${usd(paidOut)} paid out${paidOut === PRICE && final.escrow === 0n ? ": every base unit accounted for" : ": MISMATCH"}`);
    if (paidOut !== PRICE || final.escrow !== 0n) throw new Error("the payouts do not add up to the price");
    return { dataset, license, settled: true, balances: final };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function step(say: (line: string) => void, n: number, title: string): void {
  say("");
  say(`${n}. ${title}`);
}

async function claim(connection: MarketConnection, wallet: MarketWallet, dataset: Address): Promise<void> {
  await connection.send(wallet.signer, await buildClaimRevenue(connection, { recipient: wallet.signer, dataset }));
}
