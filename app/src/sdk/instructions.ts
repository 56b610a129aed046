// Instruction builders for every flow of the program. Each takes the keys that carry meaning (who
// signs, which dataset or licence, the arguments) plus the few facts a client must know about the
// dataset (`DatasetKeys`), and fills in every other account: PDAs, associated token accounts, the
// escrow vault, programs. `transactions.ts` reads those facts from the chain for callers that only
// have addresses.
import {
  AccountRole,
  type AccountSignerMeta,
  type Address,
  type Instruction,
  type ReadonlyUint8Array,
  type TransactionSigner,
} from "@solana/kit";

import {
  getAcceptAuthorityInstruction,
  getAddToAllowListInstruction,
  getBuyCreditsInstruction,
  getClaimReferralFeeInstruction,
  getClaimRevenueInstruction,
  getCloseDatasetInstruction,
  getCloseDisputeInstruction,
  getCloseLicenseInstruction,
  getClosePreviewRequestInstruction,
  getCloseReviewInstruction,
  getCloseUsageReceiptInstruction,
  getAnswerPreviewInstruction,
  getDeliverKeyInstruction,
  getEnablePreviewInstruction,
  getExpirePreviewInstruction,
  getForfeitReferralFeeInstruction,
  getInitializeMarketplaceInstruction,
  getOpenDisputeInstruction,
  getProposeAuthorityInstruction,
  getPurchaseLicenseInstruction,
  getRecordUsageInstruction,
  getRefundLicenseInstruction,
  getRegisterDatasetInstruction,
  getRegisterFrontEndInstruction,
  getReleaseContentHashInstruction,
  getRemoveFromAllowListInstruction,
  getRemoveFrontEndInstruction,
  getRenewLicenseInstruction,
  getRequestPreviewInstruction,
  getRevokeDatasetInstruction,
  getRuleDisputeInstruction,
  getSetDatasetStateInstruction,
  getSetPreviewLimitsInstruction,
  getSettleLicenseInstruction,
  getSubmitReviewInstruction,
  getSweepProtocolFeesInstruction,
  getUpdateDatasetInstruction,
  getUpdateMarketplaceInstruction,
  getUpdateReviewInstruction,
} from "../generated/instructions/index.js";
import type {
  DatasetCategory,
  DatasetState,
  DisputeReason,
  LicenseTermsArgs,
  RecipientArgs,
  RulingArgs,
  UsagePurpose,
} from "../generated/types/index.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
  MAX_TAGS,
  SEALED_KEY_LEN,
  SYSTEM_PROGRAM_ADDRESS,
  TAG_LEN,
  TOKEN_2022_PROGRAM_ADDRESS,
  SLOT_HASHES_SYSVAR_ADDRESS,
} from "./constants.js";
import {
  findAllowListEntryAddress,
  findAssociatedTokenAddress,
  findContentHashRecordAddress,
  findDatasetAddress,
  findDisputeAddress,
  findEscrowVaultAddress,
  findFrontEndAddress,
  findLicenseAddress,
  findLicenseMintAddress,
  findLicenseTokenAccountAddress,
  findMarketplaceAddress,
  findPreviewPolicyAddress,
  findPreviewRequestAddress,
  findProgramDataAddress,
  findReviewAddress,
  findUsageReceiptAddress,
} from "./pdas.js";

/**
 * What a client needs to know about a dataset to build its money-moving instructions: its address,
 * the mint buyers pay with, and that mint's token program (SPL Token or Token-2022). The licence
 * mint and the escrow vault are derived from them.
 */
export interface DatasetKeys {
  dataset: Address;
  paymentMint: Address;
  paymentTokenProgram: Address;
}

interface ResolvedDatasetKeys extends DatasetKeys {
  licenseMint: Address;
  escrowVault: Address;
}

async function resolveKeys(keys: DatasetKeys): Promise<ResolvedDatasetKeys> {
  const [licenseMint, escrowVault] = await Promise.all([
    findLicenseMintAddress(keys.dataset),
    findEscrowVaultAddress(keys.dataset, keys.paymentMint, keys.paymentTokenProgram),
  ]);
  return { ...keys, licenseMint, escrowVault };
}

/** The wallet's associated token account for the dataset's payment mint. */
async function paymentAccountOf(wallet: Address, keys: DatasetKeys): Promise<Address> {
  return findAssociatedTokenAddress(wallet, keys.paymentMint, keys.paymentTokenProgram);
}

function checkLength(name: string, bytes: ReadonlyUint8Array, length: number): void {
  if (bytes.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${bytes.length}`);
}

// ---------------------------------------------------------------------------------------------
// Associated Token program.

/**
 * Associated Token program `CreateIdempotent`: creates `owner`'s associated account for `mint` under
 * `tokenProgram`, or does nothing when it exists.
 */
export async function createAssociatedTokenIdempotentInstruction(input: {
  payer: TransactionSigner;
  owner: Address;
  mint: Address;
  tokenProgram: Address;
}): Promise<Instruction> {
  const associated = await findAssociatedTokenAddress(input.owner, input.mint, input.tokenProgram);
  return {
    programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
    accounts: [
      { address: input.payer.address, role: AccountRole.WRITABLE_SIGNER, signer: input.payer } as AccountSignerMeta,
      { address: associated, role: AccountRole.WRITABLE },
      { address: input.owner, role: AccountRole.READONLY },
      { address: input.mint, role: AccountRole.READONLY },
      { address: SYSTEM_PROGRAM_ADDRESS, role: AccountRole.READONLY },
      { address: input.tokenProgram, role: AccountRole.READONLY },
    ],
    data: new Uint8Array([1]),
  };
}

// ---------------------------------------------------------------------------------------------
// Marketplace configuration.

/** Creates the marketplace. The signer must be the program's upgrade authority. */
export async function initializeMarketplaceInstruction(input: {
  authority: TransactionSigner;
  treasury: Address;
  arbiter: Address;
  protocolFeeBps: number;
  maxReferralFeeBps: number;
  /** Shortest windows datasets may set (MIN_WINDOW_FLOOR_SECS to MIN_WINDOW_CAP_SECS). */
  minDeliveryWindowSecs: number;
  minDisputeWindowSecs: number;
}): Promise<Instruction> {
  return getInitializeMarketplaceInstruction({
    authority: input.authority,
    programData: await findProgramDataAddress(),
    marketplace: await findMarketplaceAddress(),
    treasury: input.treasury,
    arbiter: input.arbiter,
    protocolFeeBps: input.protocolFeeBps,
    maxReferralFeeBps: input.maxReferralFeeBps,
    minDeliveryWindowSecs: input.minDeliveryWindowSecs,
    minDisputeWindowSecs: input.minDisputeWindowSecs,
  });
}

/** Changes the given settings; the others keep their value. */
export async function updateMarketplaceInstruction(input: {
  authority: TransactionSigner;
  treasury?: Address;
  arbiter?: Address;
  protocolFeeBps?: number;
  maxReferralFeeBps?: number;
  purchasesPaused?: boolean;
  minDeliveryWindowSecs?: number;
  minDisputeWindowSecs?: number;
}): Promise<Instruction> {
  return getUpdateMarketplaceInstruction({
    authority: input.authority,
    marketplace: await findMarketplaceAddress(),
    treasury: input.treasury ?? null,
    arbiter: input.arbiter ?? null,
    protocolFeeBps: input.protocolFeeBps ?? null,
    maxReferralFeeBps: input.maxReferralFeeBps ?? null,
    purchasesPaused: input.purchasesPaused ?? null,
    minDeliveryWindowSecs: input.minDeliveryWindowSecs ?? null,
    minDisputeWindowSecs: input.minDisputeWindowSecs ?? null,
  });
}

export async function proposeAuthorityInstruction(input: {
  authority: TransactionSigner;
  newAuthority: Address;
}): Promise<Instruction> {
  return getProposeAuthorityInstruction({
    authority: input.authority,
    marketplace: await findMarketplaceAddress(),
    newAuthority: input.newAuthority,
  });
}

export async function acceptAuthorityInstruction(input: { newAuthority: TransactionSigner }): Promise<Instruction> {
  return getAcceptAuthorityInstruction({
    newAuthority: input.newAuthority,
    marketplace: await findMarketplaceAddress(),
  });
}

// ---------------------------------------------------------------------------------------------
// Datasets.

export interface RegisterDatasetInput {
  owner: TransactionSigner;
  paymentMint: Address;
  /** Owner of the payment mint: SPL Token or Token-2022. */
  paymentTokenProgram: Address;
  /** SHA-256 of the plaintext (32 bytes); it seeds the dataset's address. */
  contentHash: ReadonlyUint8Array;
  title: string;
  metadataUri: string;
  ciphertextCid: string;
  category: DatasetCategory;
  tags: readonly string[];
  /** Price of one licence (or one credit) in payment-mint base units. */
  price: bigint | number;
  terms: LicenseTermsArgs;
  referralFeeBps: number;
  /** 1 to MAX_RECIPIENTS (5) distinct wallets whose bps sum to 10,000; the first gets rounding remainders. */
  recipients: readonly RecipientArgs[];
  deliveryWindowSecs: number;
  disputeWindowSecs: number;
  allowListEnabled?: boolean;
  /** The owner's dataset this one is a new version of. */
  previousVersion?: Address;
}

export async function registerDatasetInstruction(input: RegisterDatasetInput): Promise<Instruction> {
  checkLength("contentHash", input.contentHash, 32);
  if (input.tags.length > MAX_TAGS) throw new RangeError(`at most ${MAX_TAGS} tags`);
  for (const tag of input.tags) {
    const length = new TextEncoder().encode(tag).length;
    if (length === 0 || length > TAG_LEN) throw new RangeError(`tag "${tag}" must be 1 to ${TAG_LEN} bytes`);
  }
  const dataset = await findDatasetAddress(input.contentHash, input.owner.address);
  return getRegisterDatasetInstruction({
    owner: input.owner,
    marketplace: await findMarketplaceAddress(),
    contentHashRecord: await findContentHashRecordAddress(input.contentHash),
    dataset,
    licenseMint: await findLicenseMintAddress(dataset),
    paymentMint: input.paymentMint,
    escrowVault: await findEscrowVaultAddress(dataset, input.paymentMint, input.paymentTokenProgram),
    paymentTokenProgram: input.paymentTokenProgram,
    previousVersion: input.previousVersion,
    contentHash: input.contentHash,
    title: input.title,
    metadataUri: input.metadataUri,
    ciphertextCid: input.ciphertextCid,
    category: input.category,
    tags: [...input.tags],
    price: input.price,
    terms: input.terms,
    referralFeeBps: input.referralFeeBps,
    recipients: [...input.recipients],
    deliveryWindowSecs: input.deliveryWindowSecs,
    disputeWindowSecs: input.disputeWindowSecs,
    allowListEnabled: input.allowListEnabled ?? false,
  });
}

/** Changes the given settings; the others keep their value. `DEFAULT_ADDRESS` removes the delegate. */
export async function updateDatasetInstruction(input: {
  owner: TransactionSigner;
  dataset: Address;
  price?: bigint | number;
  deliveryDelegate?: Address;
  allowListEnabled?: boolean;
}): Promise<Instruction> {
  return getUpdateDatasetInstruction({
    owner: input.owner,
    dataset: input.dataset,
    price: input.price ?? null,
    deliveryDelegate: input.deliveryDelegate ?? null,
    allowListEnabled: input.allowListEnabled ?? null,
  });
}

export async function setDatasetStateInstruction(input: {
  owner: TransactionSigner;
  dataset: Address;
  state: DatasetState;
}): Promise<Instruction> {
  return getSetDatasetStateInstruction(input);
}

/** The operator's moderation: the dataset is closed to sales and use for good. */
export async function revokeDatasetInstruction(input: {
  authority: TransactionSigner;
  dataset: Address;
  reason: number;
}): Promise<Instruction> {
  return getRevokeDatasetInstruction({
    authority: input.authority,
    marketplace: await findMarketplaceAddress(),
    dataset: input.dataset,
    reason: input.reason,
  });
}

export async function addToAllowListInstruction(input: {
  owner: TransactionSigner;
  dataset: Address;
  buyer: Address;
}): Promise<Instruction> {
  return getAddToAllowListInstruction({
    owner: input.owner,
    dataset: input.dataset,
    entry: await findAllowListEntryAddress(input.dataset, input.buyer),
    buyer: input.buyer,
  });
}

export async function removeFromAllowListInstruction(input: {
  owner: TransactionSigner;
  dataset: Address;
  buyer: Address;
}): Promise<Instruction> {
  return getRemoveFromAllowListInstruction({
    owner: input.owner,
    dataset: input.dataset,
    entry: await findAllowListEntryAddress(input.dataset, input.buyer),
  });
}

/** Closes a retired or revoked dataset that owes nothing; stray vault tokens go to the owner. */
export async function closeDatasetInstruction(input: {
  owner: TransactionSigner;
  keys: DatasetKeys;
  ownerPaymentAccount?: Address;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  return getCloseDatasetInstruction({
    owner: input.owner,
    dataset: keys.dataset,
    paymentMint: keys.paymentMint,
    escrowVault: keys.escrowVault,
    ownerPaymentAccount: input.ownerPaymentAccount ?? (await paymentAccountOf(input.owner.address, keys)),
    paymentTokenProgram: keys.paymentTokenProgram,
  });
}

// ---------------------------------------------------------------------------------------------
// Buying.

export interface PurchaseLicenseInput {
  buyer: TransactionSigner;
  keys: DatasetKeys;
  /** The most the buyer agrees to pay in all (price × credits for a metered dataset). */
  maxPrice: bigint | number;
  /** The buyer's X25519 public key (see src/crypto/buyer-key.ts); the content key is sealed to it. */
  buyerEncryptionKey: ReadonlyUint8Array;
  /** The wallet of the registered front-end that referred the sale (see registerFrontEndInstruction). */
  referrer?: Address;
  /** Credits to buy from a metered dataset; 1 (the default) otherwise. */
  credits?: number;
  /**
   * Defaults to the buyer's associated account for the payment mint; left out when `maxPrice` is 0
   * (a free licence moves no tokens, so the buyer needs no account of the mint).
   */
  buyerPaymentAccount?: Address;
  /** Pass the buyer's allow-list entry (needed while the dataset's allow-list is enabled). */
  allowListed?: boolean;
}

/**
 * Buys a licence: creates the buyer's licence token account (associated, Token-2022) if needed,
 * then purchases. Returns both instructions, in order.
 */
export async function purchaseLicenseInstructions(input: PurchaseLicenseInput): Promise<Instruction[]> {
  checkLength("buyerEncryptionKey", input.buyerEncryptionKey, 32);
  const keys = await resolveKeys(input.keys);
  const buyer = input.buyer.address;
  const createLicenseAccount = await createAssociatedTokenIdempotentInstruction({
    payer: input.buyer,
    owner: buyer,
    mint: keys.licenseMint,
    tokenProgram: TOKEN_2022_PROGRAM_ADDRESS,
  });
  const purchase = getPurchaseLicenseInstruction({
    buyer: input.buyer,
    marketplace: await findMarketplaceAddress(),
    dataset: keys.dataset,
    license: await findLicenseAddress(keys.dataset, buyer),
    licenseMint: keys.licenseMint,
    buyerLicenseAccount: await findLicenseTokenAccountAddress(buyer, keys.licenseMint),
    paymentMint: keys.paymentMint,
    buyerPaymentAccount:
      input.buyerPaymentAccount ?? (BigInt(input.maxPrice) === 0n ? undefined : await paymentAccountOf(buyer, keys)),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
    allowListEntry: input.allowListed ? await findAllowListEntryAddress(keys.dataset, buyer) : undefined,
    referrer: input.referrer ? await findFrontEndAddress(input.referrer) : undefined,
    maxPrice: input.maxPrice,
    buyerEncryptionKey: input.buyerEncryptionKey,
    credits: input.credits ?? 1,
  });
  return [createLicenseAccount, purchase];
}

/** Extends a settled, time-limited, unmetered licence by one term at the current price. */
export async function renewLicenseInstruction(input: {
  buyer: TransactionSigner;
  keys: DatasetKeys;
  maxPrice: bigint | number;
  buyerPaymentAccount?: Address;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  const buyer = input.buyer.address;
  return getRenewLicenseInstruction({
    buyer: input.buyer,
    marketplace: await findMarketplaceAddress(),
    dataset: keys.dataset,
    license: await findLicenseAddress(keys.dataset, buyer),
    paymentMint: keys.paymentMint,
    buyerPaymentAccount: input.buyerPaymentAccount ?? (await paymentAccountOf(buyer, keys)),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
    maxPrice: input.maxPrice,
  });
}

/** Tops up a settled metered licence with `credits` more uses. */
export async function buyCreditsInstruction(input: {
  buyer: TransactionSigner;
  keys: DatasetKeys;
  credits: number;
  maxPrice: bigint | number;
  buyerPaymentAccount?: Address;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  const buyer = input.buyer.address;
  return getBuyCreditsInstruction({
    buyer: input.buyer,
    marketplace: await findMarketplaceAddress(),
    dataset: keys.dataset,
    license: await findLicenseAddress(keys.dataset, buyer),
    licenseMint: keys.licenseMint,
    buyerLicenseAccount: await findLicenseTokenAccountAddress(buyer, keys.licenseMint),
    paymentMint: keys.paymentMint,
    buyerPaymentAccount: input.buyerPaymentAccount ?? (await paymentAccountOf(buyer, keys)),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
    credits: input.credits,
    maxPrice: input.maxPrice,
  });
}

// ---------------------------------------------------------------------------------------------
// Delivery, refund, settlement and payouts.

/** The owner (or its delivery delegate) writes the content key sealed to the buyer (96 bytes). */
export async function deliverKeyInstruction(input: {
  deliverer: TransactionSigner;
  dataset: Address;
  buyer: Address;
  sealedKey: ReadonlyUint8Array;
}): Promise<Instruction> {
  checkLength("sealedKey", input.sealedKey, SEALED_KEY_LEN);
  return getDeliverKeyInstruction({
    deliverer: input.deliverer,
    dataset: input.dataset,
    license: await findLicenseAddress(input.dataset, input.buyer),
    sealedKey: input.sealedKey,
  });
}

/** Anyone refunds a buyer whose key was not delivered within the delivery window. */
export async function refundLicenseInstruction(input: {
  caller: TransactionSigner;
  keys: DatasetKeys;
  buyer: Address;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  return getRefundLicenseInstruction({
    caller: input.caller,
    dataset: keys.dataset,
    license: await findLicenseAddress(keys.dataset, input.buyer),
    licenseMint: keys.licenseMint,
    buyerLicenseAccount: await findLicenseTokenAccountAddress(input.buyer, keys.licenseMint),
    paymentMint: keys.paymentMint,
    buyerPaymentAccount: await paymentAccountOf(input.buyer, keys),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
  });
}

/** Anyone settles a delivered licence once its dispute window has closed. */
export async function settleLicenseInstruction(input: {
  caller: TransactionSigner;
  dataset: Address;
  buyer: Address;
}): Promise<Instruction> {
  return getSettleLicenseInstruction({
    caller: input.caller,
    dataset: input.dataset,
    license: await findLicenseAddress(input.dataset, input.buyer),
  });
}

/** A revenue recipient withdraws everything the dataset owes it. */
export async function claimRevenueInstruction(input: {
  recipient: TransactionSigner;
  keys: DatasetKeys;
  recipientAccount?: Address;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  return getClaimRevenueInstruction({
    recipient: input.recipient,
    dataset: keys.dataset,
    paymentMint: keys.paymentMint,
    recipientAccount: input.recipientAccount ?? (await paymentAccountOf(input.recipient.address, keys)),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
  });
}

/** The referrer of a settled licence withdraws its referral fee. */
export async function claimReferralFeeInstruction(input: {
  referrer: TransactionSigner;
  keys: DatasetKeys;
  buyer: Address;
  referrerAccount?: Address;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  return getClaimReferralFeeInstruction({
    referrer: input.referrer,
    dataset: keys.dataset,
    license: await findLicenseAddress(keys.dataset, input.buyer),
    paymentMint: keys.paymentMint,
    referrerAccount: input.referrerAccount ?? (await paymentAccountOf(input.referrer.address, keys)),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
  });
}

/** Anyone sends a dataset's unswept protocol fees to a token account of the treasury. */
export async function sweepProtocolFeesInstruction(input: {
  caller: TransactionSigner;
  keys: DatasetKeys;
  /** The marketplace treasury wallet; its associated account is used unless `treasuryAccount` is given. */
  treasury: Address;
  treasuryAccount?: Address;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  return getSweepProtocolFeesInstruction({
    caller: input.caller,
    marketplace: await findMarketplaceAddress(),
    dataset: keys.dataset,
    paymentMint: keys.paymentMint,
    treasuryAccount: input.treasuryAccount ?? (await paymentAccountOf(input.treasury, keys)),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
  });
}

// ---------------------------------------------------------------------------------------------
// Usage, reviews and disputes.

export interface RecordUsageInput {
  holder: TransactionSigner;
  dataset: Address;
  /** From the licence (`serial`, `usageCount`): the receipt address depends on them. */
  serial: bigint;
  usageCount: bigint;
  purpose: UsagePurpose;
  /** Hash of the model or artifact (32 bytes, not all zero). */
  modelHash: ReadonlyUint8Array;
  /** Caller-chosen run identifier (32 bytes). */
  runId: ReadonlyUint8Array;
  /** Second signer vouching for the run (e.g. the compute provider). */
  attestor?: TransactionSigner;
}

/** Records one use of a held licence as a receipt at the licence's next receipt address. */
export async function recordUsageInstruction(input: RecordUsageInput): Promise<Instruction> {
  checkLength("modelHash", input.modelHash, 32);
  checkLength("runId", input.runId, 32);
  const holder = input.holder.address;
  const license = await findLicenseAddress(input.dataset, holder);
  const licenseMint = await findLicenseMintAddress(input.dataset);
  return getRecordUsageInstruction({
    holder: input.holder,
    attestor: input.attestor,
    dataset: input.dataset,
    license,
    licenseMint,
    holderLicenseAccount: await findLicenseTokenAccountAddress(holder, licenseMint),
    receipt: await findUsageReceiptAddress(license, input.serial, input.usageCount),
    purpose: input.purpose,
    modelHash: input.modelHash,
    runId: input.runId,
  });
}

export interface ReviewInput {
  reviewer: TransactionSigner;
  dataset: Address;
  /** 1 to 5. */
  rating: number;
  /** SHA-256 of the review text kept at `uri`. */
  textHash: ReadonlyUint8Array;
  uri: string;
}

/** The buyer of a delivered licence reviews the dataset (one review per licence). */
export async function submitReviewInstruction(input: ReviewInput): Promise<Instruction> {
  checkLength("textHash", input.textHash, 32);
  const license = await findLicenseAddress(input.dataset, input.reviewer.address);
  return getSubmitReviewInstruction({
    reviewer: input.reviewer,
    dataset: input.dataset,
    license,
    review: await findReviewAddress(license),
    args: { rating: input.rating, textHash: input.textHash, uri: input.uri },
  });
}

/** The author edits their review. */
export async function updateReviewInstruction(input: ReviewInput): Promise<Instruction> {
  checkLength("textHash", input.textHash, 32);
  const license = await findLicenseAddress(input.dataset, input.reviewer.address);
  return getUpdateReviewInstruction({
    reviewer: input.reviewer,
    dataset: input.dataset,
    license,
    review: await findReviewAddress(license),
    args: { rating: input.rating, textHash: input.textHash, uri: input.uri },
  });
}

/** The buyer disputes a delivered licence within the dispute window. */
export async function openDisputeInstruction(input: {
  buyer: TransactionSigner;
  dataset: Address;
  reason: DisputeReason;
  evidenceUri: string;
}): Promise<Instruction> {
  const license = await findLicenseAddress(input.dataset, input.buyer.address);
  return getOpenDisputeInstruction({
    buyer: input.buyer,
    dataset: input.dataset,
    license,
    dispute: await findDisputeAddress(license),
    reason: input.reason,
    evidenceUri: input.evidenceUri,
  });
}

/** The arbiter rules a dispute: refund, release, or split (`ruling("Split", { buyerBps })`). */
export async function ruleDisputeInstruction(input: {
  arbiter: TransactionSigner;
  keys: DatasetKeys;
  buyer: Address;
  ruling: RulingArgs;
}): Promise<Instruction> {
  const keys = await resolveKeys(input.keys);
  const license = await findLicenseAddress(keys.dataset, input.buyer);
  return getRuleDisputeInstruction({
    arbiter: input.arbiter,
    marketplace: await findMarketplaceAddress(),
    dataset: keys.dataset,
    license,
    dispute: await findDisputeAddress(license),
    licenseMint: keys.licenseMint,
    buyerLicenseAccount: await findLicenseTokenAccountAddress(input.buyer, keys.licenseMint),
    paymentMint: keys.paymentMint,
    buyerPaymentAccount: await paymentAccountOf(input.buyer, keys),
    escrowVault: keys.escrowVault,
    paymentTokenProgram: keys.paymentTokenProgram,
    ruling: input.ruling,
  });
}

/** The buyer closes a ruled dispute record and takes back its rent. */
export async function closeDisputeInstruction(input: {
  buyer: TransactionSigner;
  dataset: Address;
}): Promise<Instruction> {
  const license = await findLicenseAddress(input.dataset, input.buyer.address);
  return getCloseDisputeInstruction({
    buyer: input.buyer,
    license,
    dispute: await findDisputeAddress(license),
  });
}

/**
 * The buyer closes a licence that owes nothing (settled with its referral fee paid or forfeited, or
 * refunded): its rent comes back and the licence tokens it still carries are burned. Works after
 * the dataset itself has closed.
 */
export async function closeLicenseInstruction(input: {
  buyer: TransactionSigner;
  dataset: Address;
}): Promise<Instruction> {
  const licenseMint = await findLicenseMintAddress(input.dataset);
  return getCloseLicenseInstruction({
    buyer: input.buyer,
    dataset: input.dataset,
    license: await findLicenseAddress(input.dataset, input.buyer.address),
    licenseMint,
    buyerLicenseAccount: await findLicenseTokenAccountAddress(input.buyer.address, licenseMint),
  });
}

/**
 * Anyone hands a referral fee its front-end left unclaimed for the claim window (90 days after
 * settlement) to the dataset's recipients, so the licence can close.
 */
export async function forfeitReferralFeeInstruction(input: {
  caller: TransactionSigner;
  dataset: Address;
  buyer: Address;
}): Promise<Instruction> {
  return getForfeitReferralFeeInstruction({
    caller: input.caller,
    dataset: input.dataset,
    license: await findLicenseAddress(input.dataset, input.buyer),
  });
}

/**
 * The holder reclaims a usage receipt's rent once its licence has expired, been refunded or closed
 * (the receipt's content stays in the transaction's UsageRecorded event).
 */
export async function closeUsageReceiptInstruction(input: {
  holder: TransactionSigner;
  license: Address;
  receipt: Address;
}): Promise<Instruction> {
  return getCloseUsageReceiptInstruction({ holder: input.holder, license: input.license, receipt: input.receipt });
}

/** The author withdraws a review (its rent comes back; its rating leaves the dataset's aggregate). */
export async function closeReviewInstruction(input: {
  reviewer: TransactionSigner;
  dataset: Address;
}): Promise<Instruction> {
  const license = await findLicenseAddress(input.dataset, input.reviewer.address);
  return getCloseReviewInstruction({
    reviewer: input.reviewer,
    review: await findReviewAddress(license),
    dataset: input.dataset,
  });
}

// ---------------------------------------------------------------------------------------------
// Operator moderation.

/** The operator registers a front-end wallet that may be named as referrer of purchases. */
export async function registerFrontEndInstruction(input: {
  authority: TransactionSigner;
  wallet: Address;
}): Promise<Instruction> {
  return getRegisterFrontEndInstruction({
    authority: input.authority,
    marketplace: await findMarketplaceAddress(),
    frontEnd: await findFrontEndAddress(input.wallet),
    wallet: input.wallet,
  });
}

/** The operator removes a front-end: no new referrals; fees it already earned stay claimable. */
export async function removeFrontEndInstruction(input: {
  authority: TransactionSigner;
  wallet: Address;
}): Promise<Instruction> {
  return getRemoveFrontEndInstruction({
    authority: input.authority,
    marketplace: await findMarketplaceAddress(),
    frontEnd: await findFrontEndAddress(input.wallet),
  });
}

/**
 * After revoking a dataset registered by someone who does not own the data, the operator lets the
 * rightful owner `claimant` register its content hash.
 */
export async function releaseContentHashInstruction(input: {
  authority: TransactionSigner;
  dataset: Address;
  contentHash: ReadonlyUint8Array;
  claimant: Address;
}): Promise<Instruction> {
  checkLength("contentHash", input.contentHash, 32);
  return getReleaseContentHashInstruction({
    authority: input.authority,
    marketplace: await findMarketplaceAddress(),
    contentHashRecord: await findContentHashRecordAddress(input.contentHash),
    dataset: input.dataset,
    claimant: input.claimant,
  });
}

// ---------------------------------------------------------------------------------------------
// Previews.

export interface PreviewLimits {
  /** Chunks one preview reveals (0 pauses previews). */
  chunksPerPreview: number;
  /** Previews the dataset answers per period, across all buyers. */
  maxPerPeriod: number;
  periodSecs: number;
}

/** The owner commits the chunk tree's root (fixed from then on) and opens previews with limits. */
export async function enablePreviewInstruction(
  input: { owner: TransactionSigner; dataset: Address; chunkTreeRoot: ReadonlyUint8Array; chunkSize: number; chunkCount: number } & PreviewLimits,
): Promise<Instruction> {
  checkLength("chunkTreeRoot", input.chunkTreeRoot, 32);
  return getEnablePreviewInstruction({
    owner: input.owner,
    dataset: input.dataset,
    previewPolicy: await findPreviewPolicyAddress(input.dataset),
    systemProgram: SYSTEM_PROGRAM_ADDRESS,
    chunkTreeRoot: input.chunkTreeRoot,
    chunkSize: input.chunkSize,
    chunkCount: input.chunkCount,
    chunksPerPreview: input.chunksPerPreview,
    maxPerPeriod: input.maxPerPeriod,
    periodSecs: input.periodSecs,
  });
}

/** The owner changes how many chunks a preview reveals and how many previews a period answers. */
export async function setPreviewLimitsInstruction(input: { owner: TransactionSigner; dataset: Address } & PreviewLimits): Promise<Instruction> {
  return getSetPreviewLimitsInstruction({
    owner: input.owner,
    dataset: input.dataset,
    previewPolicy: await findPreviewPolicyAddress(input.dataset),
    chunksPerPreview: input.chunksPerPreview,
    maxPerPeriod: input.maxPerPeriod,
    periodSecs: input.periodSecs,
  });
}

/** A buyer asks for a preview; the chunks are drawn from the hash of the slot it lands in. */
export async function requestPreviewInstruction(input: { buyer: TransactionSigner; dataset: Address; nonce: bigint }): Promise<Instruction> {
  return getRequestPreviewInstruction({
    buyer: input.buyer,
    dataset: input.dataset,
    previewPolicy: await findPreviewPolicyAddress(input.dataset),
    previewRequest: await findPreviewRequestAddress(input.dataset, input.buyer.address, input.nonce),
    systemProgram: SYSTEM_PROGRAM_ADDRESS,
    nonce: input.nonce,
  });
}

/** The owner (or its delivery delegate) records where the drawn chunks and their proofs are. */
export async function answerPreviewInstruction(input: {
  deliverer: TransactionSigner;
  dataset: Address;
  request: Address;
  answerCid: string;
}): Promise<Instruction> {
  return getAnswerPreviewInstruction({
    deliverer: input.deliverer,
    dataset: input.dataset,
    previewPolicy: await findPreviewPolicyAddress(input.dataset),
    previewRequest: input.request,
    slotHashes: SLOT_HASHES_SYSVAR_ADDRESS,
    answerCid: input.answerCid,
  });
}

/** Anyone records that a preview went unanswered past its deadline. */
export async function expirePreviewInstruction(input: { caller: TransactionSigner; dataset: Address; request: Address }): Promise<Instruction> {
  return getExpirePreviewInstruction({
    caller: input.caller,
    previewPolicy: await findPreviewPolicyAddress(input.dataset),
    previewRequest: input.request,
  });
}

/** The buyer reclaims a settled preview request's rent. */
export function closePreviewRequestInstruction(input: { buyer: TransactionSigner; request: Address }): Instruction {
  return getClosePreviewRequestInstruction({ buyer: input.buyer, previewRequest: input.request });
}
