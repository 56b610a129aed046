// Flows built from addresses alone: each `build*` reads what it needs from the chain (the dataset's
// payment mint and its token program, the licence's buyer and receipt counter, the treasury) and
// returns the instructions of one transaction, in order. `buildTransactionMessage` turns them into a
// version 0 message ready for kit's signers.
import {
  appendTransactionMessageInstructions,
  createTransactionMessage,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  type Account,
  type Address,
  type Blockhash,
  type Instruction,
  type ReadonlyUint8Array,
  type TransactionSigner,
} from "@solana/kit";

import type { DatasetState, DisputeReason, RulingArgs, UsagePurpose } from "../generated/types/index.js";
import {
  fetchDataset,
  fetchFrontEnd,
  fetchLicense,
  fetchMarketplace,
  isOnAllowList,
  type AccountReader,
  type Dataset,
  type License,
  AccountNotFoundError,
} from "./accounts.js";
import {
  acceptAuthorityInstruction,
  addToAllowListInstruction,
  buyCreditsInstruction,
  claimReferralFeeInstruction,
  claimRevenueInstruction,
  closeDatasetInstruction,
  closeDisputeInstruction,
  closeLicenseInstruction,
  closeReviewInstruction,
  closeUsageReceiptInstruction,
  deliverKeyInstruction,
  forfeitReferralFeeInstruction,
  initializeMarketplaceInstruction,
  openDisputeInstruction,
  proposeAuthorityInstruction,
  purchaseLicenseInstructions,
  recordUsageInstruction,
  refundLicenseInstruction,
  registerDatasetInstruction,
  registerFrontEndInstruction,
  releaseContentHashInstruction,
  removeFromAllowListInstruction,
  removeFrontEndInstruction,
  renewLicenseInstruction,
  revokeDatasetInstruction,
  ruleDisputeInstruction,
  setDatasetStateInstruction,
  settleLicenseInstruction,
  submitReviewInstruction,
  sweepProtocolFeesInstruction,
  updateDatasetInstruction,
  updateMarketplaceInstruction,
  updateReviewInstruction,
  type DatasetKeys,
  type RegisterDatasetInput,
} from "./instructions.js";

/** The owner program of a mint account: SPL Token or Token-2022. */
export async function fetchTokenProgramOfMint(reader: AccountReader, mint: Address): Promise<Address> {
  const [account] = await reader.getAccounts([mint]);
  if (!account || !account.exists) throw new AccountNotFoundError("mint", mint);
  return account.programAddress;
}

/** Reads a dataset and the token program of its payment mint. */
export async function fetchDatasetKeys(
  reader: AccountReader,
  dataset: Address,
): Promise<DatasetKeys & { account: Account<Dataset> }> {
  const account = await fetchDataset(reader, dataset);
  const paymentTokenProgram = await fetchTokenProgramOfMint(reader, account.data.paymentMint);
  return { dataset, paymentMint: account.data.paymentMint, paymentTokenProgram, account };
}

async function licenseKeys(
  reader: AccountReader,
  license: Address,
): Promise<{ license: Account<License>; keys: DatasetKeys & { account: Account<Dataset> } }> {
  const account = await fetchLicense(reader, license);
  return { license: account, keys: await fetchDatasetKeys(reader, account.data.dataset) };
}

// ---------------------------------------------------------------------------------------------
// Marketplace configuration (nothing to read).

export async function buildInitializeMarketplace(
  input: Parameters<typeof initializeMarketplaceInstruction>[0],
): Promise<Instruction[]> {
  return [await initializeMarketplaceInstruction(input)];
}

export async function buildUpdateMarketplace(
  input: Parameters<typeof updateMarketplaceInstruction>[0],
): Promise<Instruction[]> {
  return [await updateMarketplaceInstruction(input)];
}

export async function buildProposeAuthority(
  input: Parameters<typeof proposeAuthorityInstruction>[0],
): Promise<Instruction[]> {
  return [await proposeAuthorityInstruction(input)];
}

export async function buildAcceptAuthority(
  input: Parameters<typeof acceptAuthorityInstruction>[0],
): Promise<Instruction[]> {
  return [await acceptAuthorityInstruction(input)];
}

// ---------------------------------------------------------------------------------------------
// Datasets.

/** Registers a dataset; the payment mint's token program is read from the chain unless given. */
export async function buildRegisterDataset(
  reader: AccountReader,
  input: Omit<RegisterDatasetInput, "paymentTokenProgram"> & { paymentTokenProgram?: Address },
): Promise<Instruction[]> {
  const paymentTokenProgram = input.paymentTokenProgram ?? (await fetchTokenProgramOfMint(reader, input.paymentMint));
  return [await registerDatasetInstruction({ ...input, paymentTokenProgram })];
}

export async function buildUpdateDataset(
  input: Parameters<typeof updateDatasetInstruction>[0],
): Promise<Instruction[]> {
  return [await updateDatasetInstruction(input)];
}

export async function buildSetDatasetState(input: {
  owner: TransactionSigner;
  dataset: Address;
  state: DatasetState;
}): Promise<Instruction[]> {
  return [await setDatasetStateInstruction(input)];
}

export async function buildRevokeDataset(input: {
  authority: TransactionSigner;
  dataset: Address;
  reason: number;
}): Promise<Instruction[]> {
  return [await revokeDatasetInstruction(input)];
}

export async function buildAddToAllowList(input: {
  owner: TransactionSigner;
  dataset: Address;
  buyer: Address;
}): Promise<Instruction[]> {
  return [await addToAllowListInstruction(input)];
}

export async function buildRemoveFromAllowList(input: {
  owner: TransactionSigner;
  dataset: Address;
  buyer: Address;
}): Promise<Instruction[]> {
  return [await removeFromAllowListInstruction(input)];
}

export async function buildCloseDataset(
  reader: AccountReader,
  input: { owner: TransactionSigner; dataset: Address; ownerPaymentAccount?: Address },
): Promise<Instruction[]> {
  const keys = await fetchDatasetKeys(reader, input.dataset);
  return [await closeDatasetInstruction({ owner: input.owner, keys, ownerPaymentAccount: input.ownerPaymentAccount })];
}

// ---------------------------------------------------------------------------------------------
// Buying.

/**
 * Buys a licence: the idempotent creation of the buyer's licence token account, then the purchase
 * (with the buyer's allow-list entry when the dataset's allow-list is enabled and the entry exists).
 */
export async function buildPurchaseLicense(
  reader: AccountReader,
  input: {
    buyer: TransactionSigner;
    dataset: Address;
    maxPrice: bigint | number;
    buyerEncryptionKey: ReadonlyUint8Array;
    referrer?: Address;
    credits?: number;
    buyerPaymentAccount?: Address;
  },
): Promise<Instruction[]> {
  const keys = await fetchDatasetKeys(reader, input.dataset);
  if (input.referrer && !(await fetchFrontEnd(reader, input.referrer))) {
    throw new RangeError(`${input.referrer} is not a registered front-end: only those earn a referral fee`);
  }
  // Without an entry the account is left out, so the program answers NotOnAllowList.
  const allowListed =
    keys.account.data.allowListEnabled && (await isOnAllowList(reader, input.dataset, input.buyer.address));
  return purchaseLicenseInstructions({ ...input, keys, allowListed });
}

export async function buildRenewLicense(
  reader: AccountReader,
  input: { buyer: TransactionSigner; dataset: Address; maxPrice: bigint | number; buyerPaymentAccount?: Address },
): Promise<Instruction[]> {
  const keys = await fetchDatasetKeys(reader, input.dataset);
  return [await renewLicenseInstruction({ ...input, keys })];
}

export async function buildBuyCredits(
  reader: AccountReader,
  input: {
    buyer: TransactionSigner;
    dataset: Address;
    credits: number;
    maxPrice: bigint | number;
    buyerPaymentAccount?: Address;
  },
): Promise<Instruction[]> {
  const keys = await fetchDatasetKeys(reader, input.dataset);
  return [await buyCreditsInstruction({ ...input, keys })];
}

// ---------------------------------------------------------------------------------------------
// Delivery, refund, settlement and payouts (by licence address).

export async function buildDeliverKey(
  reader: AccountReader,
  input: { deliverer: TransactionSigner; license: Address; sealedKey: ReadonlyUint8Array },
): Promise<Instruction[]> {
  const license = await fetchLicense(reader, input.license);
  return [
    await deliverKeyInstruction({
      deliverer: input.deliverer,
      dataset: license.data.dataset,
      buyer: license.data.buyer,
      sealedKey: input.sealedKey,
    }),
  ];
}

export async function buildRefundLicense(
  reader: AccountReader,
  input: { caller: TransactionSigner; license: Address },
): Promise<Instruction[]> {
  const { license, keys } = await licenseKeys(reader, input.license);
  return [await refundLicenseInstruction({ caller: input.caller, keys, buyer: license.data.buyer })];
}

export async function buildSettleLicense(
  reader: AccountReader,
  input: { caller: TransactionSigner; license: Address },
): Promise<Instruction[]> {
  const license = await fetchLicense(reader, input.license);
  return [
    await settleLicenseInstruction({ caller: input.caller, dataset: license.data.dataset, buyer: license.data.buyer }),
  ];
}

export async function buildClaimRevenue(
  reader: AccountReader,
  input: { recipient: TransactionSigner; dataset: Address; recipientAccount?: Address },
): Promise<Instruction[]> {
  const keys = await fetchDatasetKeys(reader, input.dataset);
  return [await claimRevenueInstruction({ ...input, keys })];
}

export async function buildClaimReferralFee(
  reader: AccountReader,
  input: { referrer: TransactionSigner; license: Address; referrerAccount?: Address },
): Promise<Instruction[]> {
  const { license, keys } = await licenseKeys(reader, input.license);
  return [
    await claimReferralFeeInstruction({
      referrer: input.referrer,
      keys,
      buyer: license.data.buyer,
      referrerAccount: input.referrerAccount,
    }),
  ];
}

/** Sweeps to the treasury's associated account (the treasury is read from the marketplace). */
export async function buildSweepProtocolFees(
  reader: AccountReader,
  input: { caller: TransactionSigner; dataset: Address; treasuryAccount?: Address },
): Promise<Instruction[]> {
  const [keys, marketplace] = await Promise.all([fetchDatasetKeys(reader, input.dataset), fetchMarketplace(reader)]);
  return [
    await sweepProtocolFeesInstruction({
      caller: input.caller,
      keys,
      treasury: marketplace.data.treasury,
      treasuryAccount: input.treasuryAccount,
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Usage, reviews and disputes.

/**
 * Records one use: reads the holder's licence for its sale number and use counter, which give the
 * receipt's address.
 */
export async function buildRecordUsage(
  reader: AccountReader,
  input: {
    holder: TransactionSigner;
    license: Address;
    purpose: UsagePurpose;
    modelHash: ReadonlyUint8Array;
    runId: ReadonlyUint8Array;
    attestor?: TransactionSigner;
  },
): Promise<Instruction[]> {
  const license = await fetchLicense(reader, input.license);
  return [
    await recordUsageInstruction({
      holder: input.holder,
      dataset: license.data.dataset,
      serial: license.data.serial,
      usageCount: license.data.usageCount,
      purpose: input.purpose,
      modelHash: input.modelHash,
      runId: input.runId,
      attestor: input.attestor,
    }),
  ];
}

export async function buildSubmitReview(input: {
  reviewer: TransactionSigner;
  dataset: Address;
  rating: number;
  textHash: ReadonlyUint8Array;
  uri: string;
}): Promise<Instruction[]> {
  return [await submitReviewInstruction(input)];
}

export async function buildUpdateReview(input: {
  reviewer: TransactionSigner;
  dataset: Address;
  rating: number;
  textHash: ReadonlyUint8Array;
  uri: string;
}): Promise<Instruction[]> {
  return [await updateReviewInstruction(input)];
}

export async function buildOpenDispute(input: {
  buyer: TransactionSigner;
  dataset: Address;
  reason: DisputeReason;
  evidenceUri: string;
}): Promise<Instruction[]> {
  return [await openDisputeInstruction(input)];
}

export async function buildRuleDispute(
  reader: AccountReader,
  input: { arbiter: TransactionSigner; license: Address; ruling: RulingArgs },
): Promise<Instruction[]> {
  const { license, keys } = await licenseKeys(reader, input.license);
  return [
    await ruleDisputeInstruction({ arbiter: input.arbiter, keys, buyer: license.data.buyer, ruling: input.ruling }),
  ];
}

export async function buildCloseDispute(input: { buyer: TransactionSigner; dataset: Address }): Promise<Instruction[]> {
  return [await closeDisputeInstruction(input)];
}

export async function buildCloseLicense(input: { buyer: TransactionSigner; dataset: Address }): Promise<Instruction[]> {
  return [await closeLicenseInstruction(input)];
}

/** Anyone forfeits a referral fee left unclaimed past its claim window (to the dataset's recipients). */
export async function buildForfeitReferralFee(
  reader: AccountReader,
  input: { caller: TransactionSigner; license: Address },
): Promise<Instruction[]> {
  const license = await fetchLicense(reader, input.license);
  return [
    await forfeitReferralFeeInstruction({ caller: input.caller, dataset: license.data.dataset, buyer: license.data.buyer }),
  ];
}

/** The holder reclaims the rent of receipts whose licence has expired, been refunded or closed. */
export async function buildCloseUsageReceipts(input: {
  holder: TransactionSigner;
  license: Address;
  receipts: readonly Address[];
}): Promise<Instruction[]> {
  return Promise.all(
    input.receipts.map((receipt) => closeUsageReceiptInstruction({ holder: input.holder, license: input.license, receipt })),
  );
}

export async function buildCloseReview(input: { reviewer: TransactionSigner; dataset: Address }): Promise<Instruction[]> {
  return [await closeReviewInstruction(input)];
}

// ---------------------------------------------------------------------------------------------
// Operator moderation.

export async function buildRegisterFrontEnd(input: { authority: TransactionSigner; wallet: Address }): Promise<Instruction[]> {
  return [await registerFrontEndInstruction(input)];
}

export async function buildRemoveFrontEnd(input: { authority: TransactionSigner; wallet: Address }): Promise<Instruction[]> {
  return [await removeFrontEndInstruction(input)];
}

/** Releases the content hash of a revoked (squatted) dataset to `claimant`. */
export async function buildReleaseContentHash(
  reader: AccountReader,
  input: { authority: TransactionSigner; dataset: Address; claimant: Address },
): Promise<Instruction[]> {
  const dataset = await fetchDataset(reader, input.dataset);
  return [
    await releaseContentHashInstruction({
      authority: input.authority,
      dataset: input.dataset,
      contentHash: dataset.data.contentHash,
      claimant: input.claimant,
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Messages.

/**
 * A version 0 transaction message paid by `feePayer`, valid until `lastValidBlockHeight`. Sign it
 * with kit's `signTransactionMessageWithSigners`: every signer passed to a builder is attached.
 */
export function buildTransactionMessage(input: {
  feePayer: TransactionSigner;
  instructions: readonly Instruction[];
  lifetime: { blockhash: Blockhash; lastValidBlockHeight: bigint };
}) {
  return pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(input.feePayer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(input.lifetime, m),
    (m) => appendTransactionMessageInstructions(input.instructions, m),
  );
}
