// The SDK against the real compiled program in LiteSVM: every transaction below is built by the SDK
// and executed by target/deploy/data_market.so with the real SPL Token, Token-2022 and Associated
// Token programs.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  getAddressEncoder,
  getBase64Codec,
  signBytes,
  type Address,
  type EncodedAccount,
  type GetProgramAccountsApi,
  type KeyPairSigner,
  type Rpc,
} from "@solana/kit";

import {
  decryptStream,
  deriveEncryptionKeyPairWithWallet,
  encryptStream,
  generateContentKey,
  openSealedContentKey,
  sealContentKey,
  type X25519KeyPair,
} from "../src/crypto/index.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
  DATA_MARKET_PROGRAM_ADDRESS,
  DatasetCategory,
  DatasetState,
  DisputeReason,
  LicenseState,
  TOKEN_2022_PROGRAM_ADDRESS,
  TOKEN_PROGRAM_ADDRESS,
  UsagePurpose,
  DEFAULT_ADDRESS,
  buildAcceptAuthority,
  buildAddToAllowList,
  buildBuyCredits,
  buildClaimReferralFee,
  buildCloseDataset,
  buildProposeAuthority,
  buildRefundLicense,
  buildRemoveFromAllowList,
  buildRenewLicense,
  buildRevokeDataset,
  buildSetDatasetState,
  buildUpdateDataset,
  buildUpdateMarketplace,
  buildUpdateReview,
  buildClaimRevenue,
  buildCloseDispute,
  buildCloseLicense,
  buildDeliverKey,
  buildInitializeMarketplace,
  buildOpenDispute,
  buildPurchaseLicense,
  buildRegisterFrontEnd,
  buildForfeitReferralFee,
  buildCloseUsageReceipts,
  buildCloseReview,
  buildRemoveFrontEnd,
  buildReleaseContentHash,
  fetchAllOfKind,
  fetchMaybeDataset,
  fetchDatasetByContentHash,
  fetchFrontEnd,
  buildRecordUsage,
  buildRegisterDataset,
  buildRuleDispute,
  buildSettleLicense,
  buildSubmitReview,
  buildSweepProtocolFees,
  checkEscrowVault,
  claimableBy,
  datasetAverageRating,
  datasetLedgerTotal,
  datasetTags,
  dataMarketErrorByName,
  eventsNamed,
  explainError,
  fetchDataset,
  fetchDispute,
  fetchLicense,
  fetchMarketplace,
  fetchUsageReceipt,
  findAssociatedTokenAddress,
  findDatasetAddress,
  findDatasets,
  findDisputeAddress,
  findEscrowVaultAddress,
  findLicenseAddress,
  findLicenseMintAddress,
  findLicenseTokenAccountAddress,
  findLicenses,
  findModelProvenance,
  findReviews,
  findUsageReceiptAddress,
  findUsageReceipts,
  isKeyDelivered,
  localProgramAccountSource,
  matchesFilters,
  parseEvents,
  queries,
  rpcProgramAccountSource,
  ruling,
  type LicenseTermsArgs,
} from "../src/sdk/index.js";
import { collect, random, sha256 } from "./helpers.js";
import { licenseTerms } from "../src/client/index.js";
import { Market } from "./market-harness.js";

const USDC = 1_000_000n; // 6 decimals
const DAY = 86_400n;
const PRICE = 10n * USDC;
const PROTOCOL_FEE_BPS = 250;
const REFERRAL_FEE_BPS = 500;

const TERMS: LicenseTermsArgs = licenseTerms();

/** The buyer's X25519 key, derived from their wallet's signature as a browser wallet would. */
async function encryptionKeyOf(wallet: KeyPairSigner): Promise<X25519KeyPair> {
  return deriveEncryptionKeyPairWithWallet({
    publicKey: new Uint8Array(getAddressEncoder().encode(wallet.address)),
    signMessage: async (message) => new Uint8Array(await signBytes(wallet.keyPair.privateKey, message)),
  });
}

function bytes32(fill: number): Uint8Array {
  return new Uint8Array(32).fill(fill);
}

describe("SDK against the compiled program (LiteSVM)", () => {
  let market: Market;
  let operator: KeyPairSigner;
  let treasury: KeyPairSigner;
  let arbiter: KeyPairSigner;
  let owner: KeyPairSigner;
  let contributor: KeyPairSigner;
  let buyer: KeyPairSigner;
  let referrer: KeyPairSigner;
  let mintAuthority: KeyPairSigner;
  let usdc: Address;

  // the paid journey's dataset and content
  const plaintext = random(300_000);
  const contentKey = generateContentKey();
  let ciphertext: Uint8Array;
  let contentHash: Uint8Array;
  let datasetA: Address;
  let licenseA: Address;
  let buyerKey: X25519KeyPair;

  before(async () => {
    market = await Market.start();
    [operator, treasury, arbiter, owner, contributor, buyer, referrer, mintAuthority] = await Promise.all(
      Array.from({ length: 8 }, () => market.wallet()),
    ) as [KeyPairSigner, KeyPairSigner, KeyPairSigner, KeyPairSigner, KeyPairSigner, KeyPairSigner, KeyPairSigner, KeyPairSigner];
    await market.setUpgradeAuthority(operator.address);
    usdc = await market.createMint(mintAuthority, mintAuthority.address, 6);
    await market.mintTo(mintAuthority, usdc, mintAuthority, buyer.address, 100n * USDC);

    const stream = encryptStream([plaintext], contentKey, { chunkSize: 64 * 1024 });
    ciphertext = await collect(stream);
    contentHash = (await stream.summary).sha256;
    assert.deepEqual(contentHash, sha256(plaintext));
    buyerKey = await encryptionKeyOf(buyer);
  });

  test("the upgrade authority initialises the marketplace", async () => {
    const result = await market.send(
      operator,
      await buildInitializeMarketplace({
        authority: operator,
        treasury: treasury.address,
        arbiter: arbiter.address,
        protocolFeeBps: PROTOCOL_FEE_BPS,
        maxReferralFeeBps: 1_000,
        minDeliveryWindowSecs: 3_600,
        minDisputeWindowSecs: 3_600,
      }),
    );
    const config = await fetchMarketplace(market.reader);
    assert.equal(config.data.authority, operator.address);
    assert.equal(config.data.treasury, treasury.address);
    assert.equal(config.data.arbiter, arbiter.address);
    assert.equal(config.data.protocolFeeBps, PROTOCOL_FEE_BPS);
    const [initialized] = eventsNamed(parseEvents(result.logs()), "MarketplaceInitialized");
    assert.equal(initialized?.authority, operator.address);
  });

  test("paid journey: register, buy with a referrer, deliver, open, settle, claim, sweep", async () => {
    // register
    await market.send(
      owner,
      await buildRegisterDataset(market.reader, {
        owner,
        paymentMint: usdc,
        contentHash,
        title: "Rust code corpus",
        metadataUri: "ipfs://bafkreimetadata",
        ciphertextCid: "bafybeiciphertext",
        category: DatasetCategory.Code,
        tags: ["code", "rust", "permissive"],
        price: PRICE,
        terms: TERMS,
        referralFeeBps: REFERRAL_FEE_BPS,
        recipients: [
          { wallet: owner.address, bps: 8_000 },
          { wallet: contributor.address, bps: 2_000 },
        ],
        deliveryWindowSecs: Number(DAY),
        disputeWindowSecs: Number(3n * DAY),
      }),
    );
    datasetA = await findDatasetAddress(contentHash, owner.address);
    const dataset = await fetchDataset(market.reader, datasetA);
    assert.equal(dataset.data.owner, owner.address);
    assert.equal(dataset.data.state, DatasetState.Active);
    assert.deepEqual(datasetTags(dataset.data), ["code", "rust", "permissive"]);
    assert.equal(dataset.data.licenseMint, await findLicenseMintAddress(datasetA));
    assert.equal(dataset.data.escrowVault, await findEscrowVaultAddress(datasetA, usdc, TOKEN_PROGRAM_ADDRESS));
    assert.equal(datasetAverageRating(dataset.data), null);

    // only a front-end the operator registered earns a referral fee
    await assert.rejects(
      buildPurchaseLicense(market.reader, {
        buyer,
        dataset: datasetA,
        maxPrice: PRICE,
        buyerEncryptionKey: buyerKey.publicKey,
        referrer: referrer.address,
      }),
      /not a registered front-end/,
    );
    await market.send(operator, await buildRegisterFrontEnd({ authority: operator, wallet: referrer.address }));
    assert.equal((await fetchFrontEnd(market.reader, referrer.address))?.data.wallet, referrer.address);

    // purchase, with the idempotent creation of the buyer's licence token account first
    const purchase = await buildPurchaseLicense(market.reader, {
      buyer,
      dataset: datasetA,
      maxPrice: PRICE,
      buyerEncryptionKey: buyerKey.publicKey,
      referrer: referrer.address,
    });
    assert.equal(purchase.length, 2);
    assert.equal(purchase[0]!.programAddress, ASSOCIATED_TOKEN_PROGRAM_ADDRESS);
    assert.deepEqual([...purchase[0]!.data!], [1]);
    assert.equal(purchase[0]!.accounts![5]!.address, TOKEN_2022_PROGRAM_ADDRESS);
    const bought = await market.send(buyer, purchase);

    // the LicensePurchased event, parsed from the logs
    const events = parseEvents(bought.logs());
    const [purchased] = eventsNamed(events, "LicensePurchased");
    licenseA = await findLicenseAddress(datasetA, buyer.address);
    assert.ok(purchased, "LicensePurchased is emitted");
    assert.equal(purchased.dataset, datasetA);
    assert.equal(purchased.license, licenseA);
    assert.equal(purchased.buyer, buyer.address);
    assert.equal(purchased.pricePaid, PRICE);
    assert.equal(purchased.protocolFee, 250_000n);
    assert.equal(purchased.referralFee, 500_000n);
    assert.equal(purchased.referrer, referrer.address);
    assert.equal(purchased.credits, 1n);
    // the term starts at delivery
    assert.equal(purchased.durationSecs, BigInt(TERMS.durationSecs));

    let license = await fetchLicense(market.reader, licenseA);
    assert.equal(license.data.state, LicenseState.AwaitingKey);
    assert.deepEqual(new Uint8Array(license.data.buyerEncryptionKey), buyerKey.publicKey);
    assert.equal(isKeyDelivered(license.data), false);
    const licenseMint = await findLicenseMintAddress(datasetA);
    assert.equal(market.balance(await findLicenseTokenAccountAddress(buyer.address, licenseMint)), 1n);
    assert.deepEqual(await checkEscrowVault(market.reader, await fetchDataset(market.reader, datasetA)), {
      balance: PRICE,
      owed: PRICE,
      balanced: true,
    });

    // the owner seals the content key to the buyer's key from the licence and delivers it
    const sealed = await sealContentKey(contentKey, new Uint8Array(license.data.buyerEncryptionKey));
    const delivered = await market.send(owner, await buildDeliverKey(market.reader, { deliverer: owner, license: licenseA, sealedKey: sealed }));
    assert.equal(eventsNamed(parseEvents(delivered.logs()), "KeyDelivered")[0]?.deliveredBy, owner.address);

    // the buyer opens it and decrypts the content against the on-chain hash
    license = await fetchLicense(market.reader, licenseA);
    assert.equal(license.data.state, LicenseState.Delivered);
    assert.ok(isKeyDelivered(license.data));
    const opened = await openSealedContentKey(new Uint8Array(license.data.sealedKey), buyerKey);
    assert.deepEqual(opened, contentKey);
    const onChainHash = new Uint8Array((await fetchDataset(market.reader, datasetA)).data.contentHash);
    const decrypted = await collect(decryptStream([ciphertext], opened, { expectedSha256: onChainHash }));
    assert.deepEqual(decrypted, plaintext);

    // settling inside the dispute window fails with the program's message
    const early = await market.sendFailing(referrer, await buildSettleLicense(market.reader, { caller: referrer, license: licenseA }));
    const explained = explainError(early.result);
    assert.equal(explained.name, "DisputeWindowOpen");
    assert.equal(explained.message, "The dispute window is still open");

    // after the window (Clock sysvar moved), anyone settles
    market.advance(3n * DAY + 1n);
    const settled = await market.send(referrer, await buildSettleLicense(market.reader, { caller: referrer, license: licenseA }));
    const [settlement] = eventsNamed(parseEvents(settled.logs()), "LicenseSettled");
    assert.equal(settlement?.net, 9_250_000n);

    let data = (await fetchDataset(market.reader, datasetA)).data;
    assert.equal(data.ledger.escrowed, 0n);
    assert.equal(claimableBy(data, owner.address), 7_400_000n);
    assert.equal(claimableBy(data, contributor.address), 1_850_000n);
    assert.equal(data.ledger.referralFeesOwed, 500_000n);
    assert.equal(data.ledger.protocolFeesOwed, 250_000n);
    assert.equal(datasetLedgerTotal(data), PRICE);

    // payouts to associated accounts
    const ownerUsdc = await market.tokenAccount(owner, usdc, owner.address);
    const contributorUsdc = await market.tokenAccount(contributor, usdc, contributor.address);
    const referrerUsdc = await market.tokenAccount(referrer, usdc, referrer.address);
    const treasuryUsdc = await market.tokenAccount(treasury, usdc, treasury.address);
    await market.send(owner, await buildClaimRevenue(market.reader, { recipient: owner, dataset: datasetA }));
    await market.send(contributor, await buildClaimRevenue(market.reader, { recipient: contributor, dataset: datasetA }));
    await market.send(referrer, await buildClaimReferralFee(market.reader, { referrer, license: licenseA }));
    const swept = await market.send(owner, await buildSweepProtocolFees(market.reader, { caller: owner, dataset: datasetA }));
    assert.equal(eventsNamed(parseEvents(swept.logs()), "ProtocolFeesSwept")[0]?.amount, 250_000n);

    assert.equal(market.balance(ownerUsdc), 7_400_000n);
    assert.equal(market.balance(contributorUsdc), 1_850_000n);
    assert.equal(market.balance(referrerUsdc), 500_000n);
    assert.equal(market.balance(treasuryUsdc), 250_000n);
    assert.equal(market.balance(await findLicenseTokenAccountAddress(buyer.address, licenseMint)), 1n);
    assert.equal(market.balance(await findEscrowVaultAddress(datasetA, usdc, TOKEN_PROGRAM_ADDRESS)), 0n);
    data = (await fetchDataset(market.reader, datasetA)).data;
    assert.equal(datasetLedgerTotal(data), 0n);
    assert.equal(market.balance(await marketUsdc(buyer.address)), 90n * USDC);
    license = await fetchLicense(market.reader, licenseA);
    assert.equal(license.data.state, LicenseState.Settled);
    assert.equal(license.data.referralFeeResolved, true);

    // a review from the buyer
    await market.send(buyer, await buildSubmitReview({ reviewer: buyer, dataset: datasetA, rating: 4, textHash: sha256(new TextEncoder().encode("useful")), uri: "ipfs://review" }));
    assert.equal(datasetAverageRating((await fetchDataset(market.reader, datasetA)).data), 4);
  });

  async function marketUsdc(wallet: Address): Promise<Address> {
    return findAssociatedTokenAddress(wallet, usdc, TOKEN_PROGRAM_ADDRESS);
  }

  test("usage receipts and provenance: model hash -> datasets and licences", async () => {
    // a second, free dataset from the contributor, bought and delivered too
    const hashB = sha256(random(1_000));
    await market.send(
      contributor,
      await buildRegisterDataset(market.reader, {
        owner: contributor,
        paymentMint: usdc,
        contentHash: hashB,
        title: "Image captions",
        metadataUri: "ipfs://bafkreicaptions",
        ciphertextCid: "bafybeicaptions",
        category: DatasetCategory.Image,
        tags: ["images", "captions"],
        price: 0,
        terms: { ...TERMS, durationSecs: 365n * DAY },
        referralFeeBps: 0,
        recipients: [{ wallet: contributor.address, bps: 10_000 }],
        deliveryWindowSecs: Number(DAY),
        disputeWindowSecs: Number(DAY),
      }),
    );
    const datasetB = await findDatasetAddress(hashB, contributor.address);
    await market.send(buyer, await buildPurchaseLicense(market.reader, { buyer, dataset: datasetB, maxPrice: 0, buyerEncryptionKey: buyerKey.publicKey }));
    const licenseB = await findLicenseAddress(datasetB, buyer.address);
    await market.send(
      contributor,
      await buildDeliverKey(market.reader, { deliverer: contributor, license: licenseB, sealedKey: await sealContentKey(generateContentKey(), buyerKey.publicKey) }),
    );

    const modelA = sha256(new TextEncoder().encode("model A weights"));
    const modelB = sha256(new TextEncoder().encode("model B weights"));
    const computeProvider = await market.wallet();

    // three uses of model A (two under licence A, one under licence B, one with an attestor), one of model B
    const uses: [Address, Uint8Array, UsagePurpose, KeyPairSigner | undefined][] = [
      [licenseA, modelA, UsagePurpose.Training, computeProvider],
      [licenseA, modelA, UsagePurpose.Evaluation, undefined],
      [licenseB, modelA, UsagePurpose.FineTuning, undefined],
      [licenseA, modelB, UsagePurpose.InferenceRag, undefined],
    ];
    for (const [license, modelHash, purpose, attestor] of uses) {
      const before = await fetchLicense(market.reader, license);
      const result = await market.send(
        buyer,
        await buildRecordUsage(market.reader, { holder: buyer, license, purpose, modelHash, runId: random(32), attestor }),
      );
      const [recorded] = eventsNamed(parseEvents(result.logs()), "UsageRecorded");
      const expected = await findUsageReceiptAddress(license, before.data.serial, before.data.usageCount);
      assert.equal(recorded?.receipt, expected);
      assert.equal(recorded?.index, before.data.usageCount);
    }

    // the first receipt, decoded by the SDK's hand-written layout
    const first = await fetchUsageReceipt(market.reader, await findUsageReceiptAddress(licenseA, (await fetchLicense(market.reader, licenseA)).data.serial, 0));
    assert.equal(first.data.dataset, datasetA);
    assert.equal(first.data.license, licenseA);
    assert.equal(first.data.holder, buyer.address);
    assert.equal(first.data.attestor, computeProvider.address);
    assert.equal(first.data.purpose, UsagePurpose.Training);
    assert.deepEqual(new Uint8Array(first.data.modelHash), modelA);
    assert.equal(first.data.index, 0n);
    assert.equal(first.data.recordedAt, market.now());

    const usage = (await fetchDataset(market.reader, datasetA)).data.usageByPurpose;
    assert.deepEqual(usage, [1n, 0n, 1n, 1n, 0n]);

    // listings over the program accounts the SVM holds, with the SDK's filters
    const accounts = market.programAccounts();
    const source = localProgramAccountSource(accounts);
    const provenance = await findModelProvenance(source, modelA, market.reader);
    assert.equal(provenance.receipts.length, 3);
    assert.deepEqual(new Set(provenance.datasets), new Set([datasetA, datasetB]));
    assert.deepEqual(new Set(provenance.licenses), new Set([licenseA, licenseB]));
    assert.deepEqual(new Set(provenance.datasetAccounts?.map((d) => d.data.title)), new Set(["Rust code corpus", "Image captions"]));
    assert.equal((await findModelProvenance(source, modelB)).receipts.length, 1);
    assert.equal((await findModelProvenance(source, bytes32(9))).receipts.length, 0);

    const titles = async (q: Parameters<typeof findDatasets>[1]) => (await findDatasets(source, q)).map((d) => d.data.title).sort();
    assert.deepEqual(await titles(queries.allDatasets()), ["Image captions", "Rust code corpus"]);
    assert.deepEqual(await titles(queries.datasetsByOwner(owner.address)), ["Rust code corpus"]);
    assert.deepEqual(await titles(queries.datasetsByOwner(contributor.address)), ["Image captions"]);
    assert.deepEqual(await titles(queries.datasetsByCategory(DatasetCategory.Image)), ["Image captions"]);
    assert.deepEqual(await titles(queries.datasetsByState(DatasetState.Active)), ["Image captions", "Rust code corpus"]);
    assert.deepEqual(await titles(queries.datasetsByState(DatasetState.Retired)), []);
    assert.deepEqual(await titles(queries.datasetsByTag("rust")), ["Rust code corpus"]);
    assert.deepEqual(await titles(queries.datasetsByTag("permissive")), ["Rust code corpus"]); // third slot
    assert.deepEqual(await titles(queries.datasetsByTag("captions")), ["Image captions"]);
    assert.deepEqual(await titles(queries.datasetsByTag("rus")), []); // exact match only

    assert.deepEqual(new Set((await findLicenses(source, queries.licensesByBuyer(buyer.address))).map((l) => l.address)), new Set([licenseA, licenseB]));
    assert.deepEqual((await findLicenses(source, queries.licensesByDataset(datasetB))).map((l) => l.address), [licenseB]);
    const receiptsA = await findUsageReceipts(source, queries.receiptsByLicense(licenseA));
    assert.deepEqual(receiptsA.map((r) => r.data.index), [0n, 1n, 2n]);
    assert.equal((await findUsageReceipts(source, queries.receiptsByDataset(datasetB))).length, 1);
    assert.deepEqual((await findReviews(source, queries.reviewsByDataset(datasetA))).map((r) => r.data.rating), [4]);

    // the same filter objects through the RPC adapter (an RPC stub that answers like a node)
    const calls: unknown[] = [];
    const rpc = {
      getProgramAccounts: (program: Address, config: { filters: Parameters<typeof matchesFilters>[1] }) => ({
        send: async () => {
          calls.push({ program, config });
          return accounts
            .filter((a) => a.programAddress === program && matchesFilters(a.data, config.filters))
            .map((a: EncodedAccount) => ({
              pubkey: a.address,
              account: {
                data: [getBase64Codec().decode(a.data), "base64"],
                executable: a.executable,
                lamports: a.lamports,
                owner: a.programAddress,
                space: a.space,
                rentEpoch: 0n,
              },
            }));
        },
      }),
    } as unknown as Rpc<GetProgramAccountsApi>;
    const viaRpc = await findModelProvenance(rpcProgramAccountSource(rpc), modelA);
    assert.deepEqual(viaRpc.receipts.map((r) => r.address), provenance.receipts.map((r) => r.address));
    const call = calls[0] as { config: { encoding: string; filters: { memcmp: { offset: bigint; encoding: string } }[] } };
    assert.equal(call.config.encoding, "base64");
    assert.deepEqual(call.config.filters.map((f) => [f.memcmp.offset, f.memcmp.encoding]), [[0n, "base64"], [80n, "base64"]]);
  });

  test("a dispute ruled Split refunds part of the price and settles the rest", async () => {
    const buyer2 = await market.wallet();
    await market.mintTo(mintAuthority, usdc, mintAuthority, buyer2.address, 100n * USDC);
    const key2 = await encryptionKeyOf(buyer2);
    await market.send(buyer2, await buildPurchaseLicense(market.reader, { buyer: buyer2, dataset: datasetA, maxPrice: PRICE, buyerEncryptionKey: key2.publicKey }));
    const license2 = await findLicenseAddress(datasetA, buyer2.address);
    await market.send(owner, await buildDeliverKey(market.reader, { deliverer: owner, license: license2, sealedKey: await sealContentKey(contentKey, key2.publicKey) }));

    const opened = await market.send(buyer2, await buildOpenDispute({ buyer: buyer2, dataset: datasetA, reason: DisputeReason.NotAsDescribed, evidenceUri: "ipfs://evidence" }));
    assert.equal(eventsNamed(parseEvents(opened.logs()), "DisputeOpened")[0]?.reason, DisputeReason.NotAsDescribed);
    assert.equal((await fetchLicense(market.reader, license2)).data.state, LicenseState.Disputed);
    assert.equal((await fetchDataset(market.reader, datasetA)).data.openDisputes, 1);

    // only the arbiter rules
    const notArbiter = await market.sendFailing(owner, await buildRuleDispute(market.reader, { arbiter: owner, license: license2, ruling: ruling("Refund") }));
    assert.equal(explainError(notArbiter.result).name, "NotArbiter");

    const before = (await fetchDataset(market.reader, datasetA)).data;
    const ruled = await market.send(arbiter, await buildRuleDispute(market.reader, { arbiter, license: license2, ruling: ruling("Split", { buyerBps: 4_000 }) }));
    const [event] = eventsNamed(parseEvents(ruled.logs()), "DisputeRuled");
    assert.deepEqual(event?.ruling, { __kind: "Split", buyerBps: 4_000 });
    assert.equal(event?.buyerRefund, 4_000_000n);
    assert.equal(event?.released, 6_000_000n);

    // 40% back to the buyer; 60% settles: 2.5% protocol fee, no referrer, 80/20 split of the rest
    assert.equal(market.balance(await marketUsdc(buyer2.address)), 94n * USDC);
    const after = (await fetchDataset(market.reader, datasetA)).data;
    assert.equal(after.ledger.protocolFeesOwed - before.ledger.protocolFeesOwed, 150_000n);
    assert.equal(claimableBy(after, owner.address) - claimableBy(before, owner.address), 4_680_000n);
    assert.equal(claimableBy(after, contributor.address) - claimableBy(before, contributor.address), 1_170_000n);
    assert.equal(after.ledger.escrowed, 0n);
    assert.equal(after.openDisputes, 0);
    assert.deepEqual(await checkEscrowVault(market.reader, await fetchDataset(market.reader, datasetA)), {
      balance: 6_000_000n,
      owed: 6_000_000n,
      balanced: true,
    });
    const license = await fetchLicense(market.reader, license2);
    assert.equal(license.data.state, LicenseState.Settled);
    assert.equal(license.data.refundedAmount, 4_000_000n);
    const dispute = await fetchDispute(market.reader, await findDisputeAddress(license2));
    assert.deepEqual(dispute.data.ruling, { __option: "Some", value: { __kind: "Split", buyerBps: 4_000 } });

    // the buyer closes the ruled dispute, then the licence (nothing is owed any more)
    await market.send(buyer2, await buildCloseDispute({ buyer: buyer2, dataset: datasetA }));
    assert.equal(market.svm.getAccount(await findDisputeAddress(license2)).exists, false);
    const closed = await market.send(buyer2, await buildCloseLicense({ buyer: buyer2, dataset: datasetA }));
    assert.equal(eventsNamed(parseEvents(closed.logs()), "AccountClosed")[0]?.account, license2);
    assert.equal(market.svm.getAccount(license2).exists, false);
  });

  test("error mapping: program, Anchor and token errors get human messages", async () => {
    const buyer3 = await market.wallet();
    await market.mintTo(mintAuthority, usdc, mintAuthority, buyer3.address, 5n * USDC);
    const key3 = await encryptionKeyOf(buyer3);

    // above the buyer's maximum: the program's PriceAboveMax
    const tooCheap = await buildPurchaseLicense(market.reader, { buyer: buyer3, dataset: datasetA, maxPrice: PRICE - 1n, buyerEncryptionKey: key3.publicKey });
    const failed = await market.sendFailing(buyer3, tooCheap);
    const explained = explainError(failed.result, { instructions: tooCheap });
    const expected = dataMarketErrorByName("PriceAboveMax");
    assert.ok(expected);
    assert.deepEqual(
      { origin: explained.origin, code: explained.code, name: explained.name, message: explained.message, program: explained.programAddress },
      { origin: "data-market", code: expected.code, name: "PriceAboveMax", message: "The price is above the buyer's maximum", program: DATA_MARKET_PROGRAM_ADDRESS },
    );
    assert.equal(explained.instructionIndex, 1);
    // the same from the logs alone, and from the bare custom code (as an RPC reports it)
    assert.equal(explainError(null, { logs: failed.logs }).name, "PriceAboveMax");
    const bare = explainError({ InstructionError: [1, { Custom: expected.code }] }, { instructions: tooCheap });
    assert.equal(bare.message, "The price is above the buyer's maximum");

    // enough allowed, not enough tokens: the token program's error, through the program's CPI
    const poor = await market.sendFailing(
      buyer3,
      await buildPurchaseLicense(market.reader, { buyer: buyer3, dataset: datasetA, maxPrice: PRICE, buyerEncryptionKey: key3.publicKey }),
    );
    const token = explainError(poor.result);
    assert.equal(token.origin, "token");
    assert.equal(token.name, "InsufficientFunds");
    assert.equal(token.programAddress, TOKEN_PROGRAM_ADDRESS);

    // an Anchor account constraint: paying a claim into someone else's token account
    const stranger = await market.tokenAccount(buyer3, usdc, buyer3.address);
    const wrongAccount = await market.sendFailing(
      contributor,
      await buildClaimRevenue(market.reader, { recipient: contributor, dataset: datasetA, recipientAccount: stranger }),
    );
    const anchor = explainError(wrongAccount.result);
    assert.equal(anchor.origin, "anchor");
    assert.equal(anchor.name, "ConstraintTokenOwner");
    assert.equal(anchor.code, 2015);
    assert.equal(anchor.account, "recipient_account");

    // nobody can re-initialise the marketplace
    const again = await market.sendFailing(
      buyer3,
      await buildInitializeMarketplace({ authority: buyer3, treasury: buyer3.address, arbiter: buyer3.address, protocolFeeBps: 0, maxReferralFeeBps: 0, minDeliveryWindowSecs: 3_600, minDisputeWindowSecs: 3_600 }),
    );
    const reinit = explainError(again.result);
    assert.equal(reinit.origin, "system");
    assert.equal(reinit.name, "AccountAlreadyInUse");
    assert.match(reinit.message, /already in use/);
  });

  test("other flows: admin, allow-list, refund, metered credits, renewal, review edit, revoke, closing", async () => {
    const buyer4 = await market.wallet();
    const buyer4Usdc = await market.mintTo(mintAuthority, usdc, mintAuthority, buyer4.address, 10n * USDC);
    const key4 = await encryptionKeyOf(buyer4);
    const hour = 3_600;

    // the operator pauses purchases, then hands the role over (propose, accept)
    await market.send(operator, await buildUpdateMarketplace({ authority: operator, purchasesPaused: true }));
    const paused = await market.sendFailing(
      buyer4,
      await buildPurchaseLicense(market.reader, { buyer: buyer4, dataset: datasetA, maxPrice: PRICE, buyerEncryptionKey: key4.publicKey }),
    );
    assert.equal(explainError(paused.result).name, "PurchasesPaused");
    await market.send(operator, await buildUpdateMarketplace({ authority: operator, purchasesPaused: false }));
    const operator2 = await market.wallet();
    await market.send(operator, await buildProposeAuthority({ authority: operator, newAuthority: operator2.address }));
    await market.send(operator2, await buildAcceptAuthority({ newAuthority: operator2 }));
    let config = await fetchMarketplace(market.reader);
    assert.equal(config.data.authority, operator2.address);
    assert.equal(config.data.purchasesPaused, false);

    // an allow-listed dataset: refused until the owner lists the buyer
    const hashC = sha256(random(64));
    await market.send(
      owner,
      await buildRegisterDataset(market.reader, {
        owner,
        paymentMint: usdc,
        contentHash: hashC,
        title: "Private eval set",
        metadataUri: "ipfs://eval",
        ciphertextCid: "bafyeval",
        category: DatasetCategory.Tabular,
        tags: ["eval"],
        price: 2n * USDC,
        terms: TERMS,
        referralFeeBps: 0,
        recipients: [{ wallet: owner.address, bps: 10_000 }],
        deliveryWindowSecs: hour,
        disputeWindowSecs: hour,
        allowListEnabled: true,
      }),
    );
    const datasetC = await findDatasetAddress(hashC, owner.address);
    const buyC = () => buildPurchaseLicense(market.reader, { buyer: buyer4, dataset: datasetC, maxPrice: 2n * USDC, buyerEncryptionKey: key4.publicKey });
    const refused = await market.sendFailing(buyer4, await buyC());
    assert.equal(explainError(refused.result).message, "The buyer is not on this dataset's allow-list");
    await market.send(owner, await buildAddToAllowList({ owner, dataset: datasetC, buyer: buyer4.address }));
    await market.send(buyer4, await buyC());
    await market.send(owner, await buildRemoveFromAllowList({ owner, dataset: datasetC, buyer: buyer4.address }));
    assert.equal(market.balance(buyer4Usdc), 8n * USDC);

    // never delivered: after the delivery window anyone refunds the buyer and the token is burned
    const licenseC = await findLicenseAddress(datasetC, buyer4.address);
    market.advance(hour + 1);
    const refunded = await market.send(referrer, await buildRefundLicense(market.reader, { caller: referrer, license: licenseC }));
    assert.equal(eventsNamed(parseEvents(refunded.logs()), "LicenseRefunded")[0]?.amount, 2n * USDC);
    assert.equal(market.balance(buyer4Usdc), 10n * USDC);
    assert.equal((await fetchLicense(market.reader, licenseC)).data.state, LicenseState.Refunded);
    assert.equal(market.balance(await findLicenseTokenAccountAddress(buyer4.address, await findLicenseMintAddress(datasetC))), 0n);

    // the buyer closes the void licence; the owner retires and closes the idle dataset and its vault
    await market.send(buyer4, await buildCloseLicense({ buyer: buyer4, dataset: datasetC }));
    await market.send(owner, await buildSetDatasetState({ owner, dataset: datasetC, state: DatasetState.Retired }));
    await market.send(owner, await buildCloseDataset(market.reader, { owner, dataset: datasetC }));
    assert.equal(market.svm.getAccount(datasetC).exists, false);
    assert.equal(market.svm.getAccount(await findEscrowVaultAddress(datasetC, usdc, TOKEN_PROGRAM_ADDRESS)).exists, false);

    // a metered dataset: 3 credits bought, one spent by a use, 2 more bought once settled
    const hashD = sha256(random(64));
    await market.send(
      owner,
      await buildRegisterDataset(market.reader, {
        owner,
        paymentMint: usdc,
        contentHash: hashD,
        title: "Metered API logs",
        metadataUri: "ipfs://logs",
        ciphertextCid: "bafylogs",
        category: DatasetCategory.Text,
        tags: ["logs"],
        price: USDC,
        terms: { ...TERMS, metered: true },
        referralFeeBps: 0,
        recipients: [{ wallet: owner.address, bps: 10_000 }],
        deliveryWindowSecs: hour,
        disputeWindowSecs: hour,
      }),
    );
    const datasetD = await findDatasetAddress(hashD, owner.address);
    const licenseD = await findLicenseAddress(datasetD, buyer4.address);
    const tokensD = await findLicenseTokenAccountAddress(buyer4.address, await findLicenseMintAddress(datasetD));
    await market.send(buyer4, await buildPurchaseLicense(market.reader, { buyer: buyer4, dataset: datasetD, maxPrice: 3n * USDC, credits: 3, buyerEncryptionKey: key4.publicKey }));
    await market.send(owner, await buildDeliverKey(market.reader, { deliverer: owner, license: licenseD, sealedKey: await sealContentKey(generateContentKey(), key4.publicKey) }));
    assert.equal(market.balance(tokensD), 3n);
    await market.send(buyer4, await buildRecordUsage(market.reader, { holder: buyer4, license: licenseD, purpose: UsagePurpose.Other, modelHash: bytes32(7), runId: bytes32(1) }));
    assert.equal(market.balance(tokensD), 2n);
    const early = await market.sendFailing(buyer4, await buildBuyCredits(market.reader, { buyer: buyer4, dataset: datasetD, credits: 2, maxPrice: 2n * USDC }));
    assert.equal(explainError(early.result).name, "LicenseNotSettled");
    market.advance(hour + 1);
    await market.send(buyer4, await buildSettleLicense(market.reader, { caller: buyer4, license: licenseD }));
    const topUp = await market.send(buyer4, await buildBuyCredits(market.reader, { buyer: buyer4, dataset: datasetD, credits: 2, maxPrice: 2n * USDC }));
    assert.equal(eventsNamed(parseEvents(topUp.logs()), "CreditsPurchased")[0]?.credits, 2n);
    assert.equal(market.balance(tokensD), 4n);
    assert.equal((await fetchLicense(market.reader, licenseD)).data.credits, 5n);
    assert.equal(market.balance(buyer4Usdc), 5n * USDC);

    // renewal of the time-limited licence to dataset B once settled; the term counts from the old expiry
    const [captions] = await findDatasets(localProgramAccountSource(market.programAccounts()), queries.datasetsByTag("captions"));
    const datasetB = captions!.address;
    const licenseB = await findLicenseAddress(datasetB, buyer.address);
    market.advance(DAY);
    await market.send(buyer, await buildSettleLicense(market.reader, { caller: buyer, license: licenseB }));
    const expiresBefore = (await fetchLicense(market.reader, licenseB)).data.expiresAt;
    const renewed = await market.send(buyer, await buildRenewLicense(market.reader, { buyer, dataset: datasetB, maxPrice: 0 }));
    assert.equal(eventsNamed(parseEvents(renewed.logs()), "LicenseRenewed")[0]?.expiresAt, expiresBefore + 365n * DAY);
    assert.equal((await fetchLicense(market.reader, licenseB)).data.renewals, 1);

    // the buyer edits their review of dataset A
    await market.send(buyer, await buildUpdateReview({ reviewer: buyer, dataset: datasetA, rating: 2, textHash: bytes32(3), uri: "ipfs://review-v2" }));
    assert.equal(datasetAverageRating((await fetchDataset(market.reader, datasetA)).data), 2);

    // the owner changes price and delivery delegate; the new operator revokes dataset D
    await market.send(owner, await buildUpdateDataset({ owner, dataset: datasetA, price: 12n * USDC, deliveryDelegate: referrer.address }));
    const updated = (await fetchDataset(market.reader, datasetA)).data;
    assert.equal(updated.price, 12n * USDC);
    assert.equal(updated.deliveryDelegate, referrer.address);
    await market.send(operator2, await buildRevokeDataset({ authority: operator2, dataset: datasetD, reason: 7 }));
    const revoked = (await fetchDataset(market.reader, datasetD)).data;
    assert.equal(revoked.state, DatasetState.Revoked);
    assert.equal(revoked.revokeReason, 7);
    const afterRevoke = await market.sendFailing(buyer4, await buildRecordUsage(market.reader, { holder: buyer4, license: licenseD, purpose: UsagePurpose.Other, modelHash: bytes32(7), runId: bytes32(2) }));
    assert.equal(explainError(afterRevoke.result).message, "The dataset was revoked by the operator");
    config = await fetchMarketplace(market.reader);
    assert.equal(config.data.pendingAuthority, DEFAULT_ADDRESS);

    // a new version of dataset A links both ways
    const hashA2 = sha256(random(64));
    const registered = await market.send(
      owner,
      await buildRegisterDataset(market.reader, {
        owner,
        paymentMint: usdc,
        paymentTokenProgram: TOKEN_PROGRAM_ADDRESS,
        contentHash: hashA2,
        title: "Rust code corpus v2",
        metadataUri: "ipfs://bafkreimetadata2",
        ciphertextCid: "bafybeiciphertext2",
        category: DatasetCategory.Code,
        tags: ["code", "rust"],
        price: PRICE,
        terms: TERMS,
        referralFeeBps: REFERRAL_FEE_BPS,
        recipients: [{ wallet: owner.address, bps: 10_000 }],
        deliveryWindowSecs: Number(DAY),
        disputeWindowSecs: Number(DAY),
        previousVersion: datasetA,
      }),
    );
    const datasetA2 = await findDatasetAddress(hashA2, owner.address);
    assert.equal(eventsNamed(parseEvents(registered.logs()), "DatasetRegistered")[0]?.previousVersion, datasetA);
    assert.equal((await fetchDataset(market.reader, datasetA)).data.nextVersion, datasetA2);
    assert.equal((await fetchDataset(market.reader, datasetA2)).data.previousVersion, datasetA);
  });
});

describe("after-sale closes, referral deadlines and moderation through the SDK", () => {
  test("forfeit, reclaim receipts and reviews, close after the dataset, free licences, front-ends, squatting", async () => {
    const market = await Market.start();
    const [operator, owner, buyer, frontEnd, keeper, squatter, newcomer, mintAuthority] = (await Promise.all(
      Array.from({ length: 8 }, () => market.wallet()),
    )) as KeyPairSigner[];
    await market.setUpgradeAuthority(operator!.address);
    await market.send(
      operator!,
      await buildInitializeMarketplace({
        authority: operator!,
        treasury: operator!.address,
        arbiter: operator!.address,
        protocolFeeBps: PROTOCOL_FEE_BPS,
        maxReferralFeeBps: 1_000,
        minDeliveryWindowSecs: 3_600,
        minDisputeWindowSecs: 3_600,
      }),
    );
    const usdc = await market.createMint(mintAuthority!, mintAuthority!.address, 6);
    await market.mintTo(mintAuthority!, usdc, mintAuthority!, buyer!.address, 100n * USDC);
    const register = async (who: KeyPairSigner, hash: Uint8Array, price: bigint) =>
      buildRegisterDataset(market.reader, {
        owner: who,
        paymentMint: usdc,
        contentHash: hash,
        title: "Closing corpus",
        metadataUri: "ipfs://closing",
        ciphertextCid: "bafyclosing",
        category: DatasetCategory.Text,
        tags: ["closing"],
        price,
        terms: licenseTerms({ durationSecs: Number(DAY) }),
        referralFeeBps: REFERRAL_FEE_BPS,
        recipients: [{ wallet: who.address, bps: 10_000 }],
        deliveryWindowSecs: 3_600,
        disputeWindowSecs: 3_600,
      });
    const hash = sha256(random(64));
    await market.send(owner!, await register(owner!, hash, PRICE));
    const dataset = await findDatasetAddress(hash, owner!.address);

    // a registered front-end refers the sale; the key arrives, a use and a review follow, it settles
    await market.send(operator!, await buildRegisterFrontEnd({ authority: operator!, wallet: frontEnd!.address }));
    const buy = { buyer: buyer!, dataset, maxPrice: PRICE, buyerEncryptionKey: bytes32(9), referrer: frontEnd!.address };
    await market.send(buyer!, await buildPurchaseLicense(market.reader, buy));
    const license = await findLicenseAddress(dataset, buyer!.address);
    assert.equal((await fetchLicense(market.reader, license)).data.expiresAt, 0n, "the term starts at delivery");
    await market.send(owner!, await buildDeliverKey(market.reader, { deliverer: owner!, license, sealedKey: random(96) }));
    assert.equal((await fetchLicense(market.reader, license)).data.expiresAt, market.now() + DAY);
    await market.send(
      buyer!,
      await buildRecordUsage(market.reader, { holder: buyer!, license, purpose: UsagePurpose.Training, modelHash: bytes32(3), runId: bytes32(4) }),
    );
    await market.send(buyer!, await buildSubmitReview({ reviewer: buyer!, dataset, rating: 4, textHash: bytes32(5), uri: "ipfs://r" }));
    market.advance(3_601);
    await market.send(keeper!, await buildSettleLicense(market.reader, { caller: keeper!, license }));

    // the front-end never claims: after the claim window anyone hands its fee to the recipients
    const early = await market.sendFailing(keeper!, await buildForfeitReferralFee(market.reader, { caller: keeper!, license }));
    assert.equal(explainError(early.result).name, "ReferralClaimWindowOpen");
    market.advance(90n * DAY);
    await market.send(keeper!, await buildForfeitReferralFee(market.reader, { caller: keeper!, license }));
    assert.equal((await fetchLicense(market.reader, license)).data.referralFeeResolved, true);
    const ledger = (await fetchDataset(market.reader, dataset)).data.ledger;
    assert.equal(ledger.referralFeesOwed, 0n);

    // the licence has expired: its receipt and the review give their rent back
    const receipts = await findUsageReceipts(localProgramAccountSource(market.programAccounts()), queries.receiptsByLicense(license));
    assert.equal(receipts.length, 1);
    await market.send(buyer!, await buildCloseUsageReceipts({ holder: buyer!, license, receipts: receipts.map((r) => r.address) }));
    assert.equal((await fetchAllOfKind(market.reader, "UsageReceipt", [receipts[0]!.address])).length, 0);
    await market.send(buyer!, await buildCloseReview({ reviewer: buyer!, dataset }));
    assert.equal(datasetAverageRating((await fetchDataset(market.reader, dataset)).data), null);

    // the owner empties and closes the dataset; the buyer still closes its licence afterwards
    await market.tokenAccount(owner!, usdc, owner!.address);
    await market.tokenAccount(operator!, usdc, operator!.address);
    await market.send(owner!, await buildClaimRevenue(market.reader, { recipient: owner!, dataset }));
    await market.send(owner!, await buildSweepProtocolFees(market.reader, { caller: owner!, dataset }));
    await market.send(owner!, await buildSetDatasetState({ owner: owner!, dataset, state: DatasetState.Retired }));
    await market.send(owner!, await buildCloseDataset(market.reader, { owner: owner!, dataset }));
    assert.equal(await fetchMaybeDataset(market.reader, dataset), null);
    await market.send(buyer!, await buildCloseLicense({ buyer: buyer!, dataset }));
    const licenseMint = await findLicenseMintAddress(dataset);
    assert.equal(market.balance(await findLicenseTokenAccountAddress(buyer!.address, licenseMint)), 0n, "burned");

    // removed, the front-end can no longer be named as referrer
    await market.send(operator!, await buildRemoveFrontEnd({ authority: operator!, wallet: frontEnd!.address }));
    assert.equal(await fetchFrontEnd(market.reader, frontEnd!.address), null);

    // a free licence for a wallet that holds no account of the payment mint
    const freeHash = sha256(random(64));
    await market.send(owner!, await register(owner!, freeHash, 0n));
    const freeDataset = await findDatasetAddress(freeHash, owner!.address);
    await market.send(
      newcomer!,
      await buildPurchaseLicense(market.reader, { buyer: newcomer!, dataset: freeDataset, maxPrice: 0n, buyerEncryptionKey: bytes32(8) }),
    );
    assert.equal((await fetchLicense(market.reader, await findLicenseAddress(freeDataset, newcomer!.address))).data.pricePaid, 0n);

    // squatting: someone else registers the owner's data; the operator revokes it and releases the hash
    const data = sha256(random(64));
    await market.send(squatter!, await register(squatter!, data, PRICE));
    const squatted = await findDatasetAddress(data, squatter!.address);
    const refused = await market.sendFailing(owner!, await register(owner!, data, PRICE));
    assert.equal(explainError(refused.result).name, "ContentHashAlreadyRegistered");
    await market.send(operator!, await buildRevokeDataset({ authority: operator!, dataset: squatted, reason: 451 }));
    await market.send(operator!, await buildReleaseContentHash(market.reader, { authority: operator!, dataset: squatted, claimant: owner!.address }));
    await market.send(owner!, await register(owner!, data, PRICE));
    assert.equal((await fetchDatasetByContentHash(market.reader, data))?.address, await findDatasetAddress(data, owner!.address));
  });
});

describe("initialize_marketplace and the upgrade authority", () => {
  test("only the upgrade authority written in ProgramData may initialise", async () => {
    const market = await Market.start();
    const [deployer, intruder] = [await market.wallet(), await market.wallet()];
    await market.setUpgradeAuthority(deployer.address);
    const init = (authority: KeyPairSigner) =>
      buildInitializeMarketplace({ authority, treasury: authority.address, arbiter: authority.address, protocolFeeBps: 100, maxReferralFeeBps: 100, minDeliveryWindowSecs: 3_600, minDisputeWindowSecs: 3_600 });
    const refused = await market.sendFailing(intruder, await init(intruder));
    const explained = explainError(refused.result);
    assert.equal(explained.name, "NotUpgradeAuthority");
    assert.equal(explained.message, "Only the program's upgrade authority may create the marketplace");
    await market.send(deployer, await init(deployer));
    assert.equal((await fetchMarketplace(market.reader)).data.authority, deployer.address);
  });
});
