// What publishing is once the file has been encrypted and stored, for every front end (the CLI's
// publishDataset in publish.ts, the web dapp): the input checks, licence terms, the metadata document
// with the owner's sealed copy of the content key, and the registration transaction(s). Nothing here
// reads files or imports Node; the caller encrypts and stores the content its own way.
import {
  TRANSACTION_SIZE_LIMIT,
  compileTransaction,
  getTransactionSize,
  type Address,
  type Blockhash,
  type Instruction,
  type TransactionSigner,
} from "@solana/kit";

import { DEFAULT_CHUNK_SIZE, sealContentKey, toHex } from "../crypto/web.js";
import {
  BPS_DENOMINATOR,
  MAX_DELIVERY_WINDOW_SECS,
  MAX_DISPUTE_WINDOW_SECS,
  MAX_LICENSE_DURATION_SECS,
  MAX_RECIPIENTS,
  MAX_REFERRAL_FEE_BPS,
  MAX_TAGS,
  MAX_TITLE_LEN,
  TAG_LEN,
  buildRegisterDataset,
  buildTransactionMessage,
  buildUpdateDataset,
  fetchContentHashRecord,
  findDatasetAddress,
  type DatasetCategory,
  type LicenseTermsArgs,
  type RecipientArgs,
} from "../sdk/index.js";
import { formatDuration } from "./amounts.js";
import type { MarketConnection } from "./connection.js";
import type { DelegateIdentity } from "./delegation.js";
import { ClientError } from "./errors.js";
import {
  DELIVERY_GRANT_FORMAT,
  LICENSE_SYMBOL,
  METADATA_FORMAT,
  decodeChunkTree,
  encodeChunkTree,
  encodeSealedKey,
  licenseTokenName,
  type DatasetMetadata,
  type DeliveryGrant,
} from "./metadata.js";
import { withComputeBudget } from "./rpc.js";
import type { MarketWallet } from "./wallet.js";

/**
 * Licence terms with the marketplace's usual defaults (perpetual, unlimited supply, not metered,
 * non-transferable, AI training, commercial use and derivative models allowed, no attribution).
 */
export function licenseTerms(overrides: Partial<LicenseTermsArgs> = {}): LicenseTermsArgs {
  return {
    durationSecs: 0,
    maxSupply: 0,
    metered: false,
    transferable: false,
    aiTraining: true,
    commercialUse: true,
    derivativeModels: true,
    attributionRequired: false,
    ...overrides,
  };
}

/** What a registration says about a dataset, whatever the file is and wherever it comes from. */
export interface DatasetListing {
  title: string;
  description?: string;
  /** URI of an image wallets show for the licence token (in the metadata). */
  image?: string;
  category: DatasetCategory;
  tags: readonly string[];
  /** Price of a licence (or of one credit when metered), in payment-mint base units. */
  price: bigint;
  paymentMint: Address;
  terms: LicenseTermsArgs;
  referralFeeBps?: number;
  /** Revenue split; default: everything to the owner. */
  recipients?: readonly RecipientArgs[];
  deliveryWindowSecs: number;
  disputeWindowSecs: number;
  allowListEnabled?: boolean;
  previousVersion?: Address;
  /**
   * A delivery delegate (from its verified card, `readDelegateCard`): the content key is also sealed
   * to it, in the metadata, and the dataset names it on chain, so its daemon can deliver while the
   * owner is offline.
   */
  delegate?: DelegateIdentity;
}

/** The input field a refused value came from, so a form can point at it. */
export type ListingField =
  | "title"
  | "tags"
  | "deliveryWindowSecs"
  | "disputeWindowSecs"
  | "terms"
  | "referralFeeBps"
  | "recipients"
  | "delegate";

/** A value the program would refuse, named by its field. */
export class ListingInputError extends ClientError {
  override name = "ListingInputError";

  constructor(
    readonly field: ListingField,
    message: string,
  ) {
    super("usage", message);
  }
}

/** The operator's shortest windows, which every registration must respect. */
export interface WindowPolicy {
  minDeliveryWindowSecs: number;
  minDisputeWindowSecs: number;
}

/**
 * The program's bounds on what is registered, checked before any work so that a mistake does not
 * surface only after a multi-GB file has been encrypted and uploaded. The program checks them again.
 */
export function checkPublishInput(input: DatasetListing, owner: Address, policy: WindowPolicy): void {
  const refuse = (field: ListingField, message: string) => {
    throw new ListingInputError(field, message);
  };
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  if (bytes(input.title) === 0 || bytes(input.title) > MAX_TITLE_LEN) refuse("title", `the title must be 1 to ${MAX_TITLE_LEN} bytes`);
  if (input.tags.length > MAX_TAGS) refuse("tags", `at most ${MAX_TAGS} tags`);
  for (const tag of input.tags) if (bytes(tag) === 0 || bytes(tag) > TAG_LEN) refuse("tags", `tag "${tag}" must be 1 to ${TAG_LEN} bytes`);
  const window = (field: ListingField, what: string, secs: number, min: number, max: number) => {
    if (!Number.isInteger(secs) || secs < min || secs > max) {
      refuse(field, `the ${what} window must be between ${formatDuration(min)} (this marketplace's minimum) and ${formatDuration(max)}`);
    }
  };
  window("deliveryWindowSecs", "delivery", input.deliveryWindowSecs, policy.minDeliveryWindowSecs, MAX_DELIVERY_WINDOW_SECS);
  window("disputeWindowSecs", "dispute", input.disputeWindowSecs, policy.minDisputeWindowSecs, MAX_DISPUTE_WINDOW_SECS);
  if (BigInt(input.terms.durationSecs) > BigInt(MAX_LICENSE_DURATION_SECS)) refuse("terms", "a licence lasts at most 10 years");
  if ((input.referralFeeBps ?? 0) > MAX_REFERRAL_FEE_BPS) refuse("referralFeeBps", `the referral fee is at most ${MAX_REFERRAL_FEE_BPS} bps`);
  const recipients = input.recipients ?? [{ wallet: owner, bps: BPS_DENOMINATOR }];
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) refuse("recipients", `1 to ${MAX_RECIPIENTS} revenue recipients`);
  if (new Set(recipients.map((r) => r.wallet)).size !== recipients.length) refuse("recipients", "a revenue recipient appears twice");
  if (recipients.reduce((sum, r) => sum + r.bps, 0) !== BPS_DENOMINATOR) refuse("recipients", "the revenue shares must add up to 10000 bps");
  if (input.delegate?.wallet === owner) refuse("delegate", "you cannot be your own delivery delegate: the owner delivers with its own copy");
}

/**
 * Whether the instructions fit in one transaction once the RPC connection has put its two
 * compute-budget instructions in front (the size does not depend on their values).
 */
export function fitsInOneTransaction(feePayer: TransactionSigner, instructions: readonly Instruction[]): boolean {
  const message = buildTransactionMessage({
    feePayer,
    instructions: withComputeBudget(instructions, 1_400_000, 1n),
    lifetime: { blockhash: "11111111111111111111111111111111" as Blockhash, lastValidBlockHeight: 0n },
  });
  try {
    return getTransactionSize(compileTransaction(message)) <= TRANSACTION_SIZE_LIMIT;
  } catch {
    return false;
  }
}

/** Seals `contentKey` to the delegate's key: the grant for `dataset` (see delegation.ts). */
export async function sealDeliveryGrant(contentKey: Uint8Array, dataset: Address, delegate: DelegateIdentity): Promise<DeliveryGrant> {
  return {
    format: DELIVERY_GRANT_FORMAT,
    dataset,
    delegate: delegate.wallet,
    encryptionKey: toHex(delegate.encryptionKey),
    sealedKey: encodeSealedKey(await sealContentKey(contentKey, delegate.encryptionKey)),
  };
}

/** What encrypting the file produced (crypto's EncryptSummary) and where its ciphertext is. */
export interface EncryptedContent {
  sha256: Uint8Array;
  plaintextBytes: number;
  ciphertextBytes: number;
  ciphertextCid: string;
  fileName: string;
  /** One leaf per plaintext chunk, in order: the metadata then carries the chunk tree. */
  chunkLeaves?: readonly Uint8Array[];
}

/** The dataset's address, refused when another owner already registered the same content. */
export async function claimableDatasetAddress(connection: MarketConnection, sha256: Uint8Array, owner: Address): Promise<Address> {
  const dataset = await findDatasetAddress(sha256, owner);
  // a content hash registers once; the operator may have released a squatted one to this owner
  const holder = await fetchContentHashRecord(connection, sha256);
  if (holder && holder.data.claimant !== owner) {
    throw new ClientError("refused", `this file is already registered as dataset ${holder.data.dataset}`);
  }
  return dataset;
}

/**
 * The metadata document (stored as canonical JSON): what buyers read, and the owner's copy of the
 * content key sealed to `ownerEncryptionKey`, the owner's wallet-derived X25519 public key.
 */
export async function datasetMetadata(
  listing: DatasetListing,
  content: EncryptedContent,
  contentKey: Uint8Array,
  ownerEncryptionKey: Uint8Array,
  dataset: Address,
): Promise<DatasetMetadata> {
  const chunkTree = content.chunkLeaves ? encodeChunkTree(content.chunkLeaves) : undefined;
  // Never store a tree that readers would refuse (one leaf per chunk of the size written below).
  if (chunkTree) decodeChunkTree(chunkTree, { chunkSize: DEFAULT_CHUNK_SIZE, plaintextBytes: content.plaintextBytes }, "the chunk tree to publish");
  return {
    format: METADATA_FORMAT,
    name: licenseTokenName(listing.title),
    symbol: LICENSE_SYMBOL,
    ...(listing.image ? { image: listing.image } : {}),
    title: listing.title,
    description: listing.description ?? "",
    fileName: content.fileName,
    plaintextBytes: content.plaintextBytes,
    sha256: toHex(content.sha256),
    ciphertextCid: content.ciphertextCid,
    ciphertextBytes: content.ciphertextBytes,
    chunkSize: DEFAULT_CHUNK_SIZE,
    ownerSealedKey: encodeSealedKey(await sealContentKey(contentKey, ownerEncryptionKey)),
    ...(listing.delegate ? { deliveryGrants: [await sealDeliveryGrant(contentKey, dataset, listing.delegate)] } : {}),
    ...(chunkTree ? { chunkTree } : {}),
  };
}

export interface Registration {
  dataset: Address;
  signature: string;
  /** The delivery delegate named, if any. */
  delegate?: Address;
  /**
   * The transaction that named the delegate, when it did not fit in the registration's own
   * transaction (the largest registrations leave no room for it).
   */
  delegateSignature?: string;
}

/** Registers stored content for sale (and names the delivery delegate, if any). */
export async function registerDataset(
  connection: MarketConnection,
  owner: MarketWallet,
  listing: DatasetListing,
  stored: { dataset: Address; sha256: Uint8Array; ciphertextCid: string; metadataUri: string },
): Promise<Registration> {
  const instructions = await buildRegisterDataset(connection, {
    owner: owner.signer,
    paymentMint: listing.paymentMint,
    contentHash: stored.sha256,
    title: listing.title,
    metadataUri: stored.metadataUri,
    ciphertextCid: stored.ciphertextCid,
    category: listing.category,
    tags: listing.tags,
    price: listing.price,
    terms: listing.terms,
    referralFeeBps: listing.referralFeeBps ?? 0,
    recipients: listing.recipients ?? [{ wallet: owner.signer.address, bps: 10_000 }],
    deliveryWindowSecs: listing.deliveryWindowSecs,
    disputeWindowSecs: listing.disputeWindowSecs,
    allowListEnabled: listing.allowListEnabled,
    previousVersion: listing.previousVersion,
  });
  const dataset = stored.dataset;
  // The delegate is named in the registration's transaction when it fits, so both land together.
  const naming = listing.delegate
    ? await buildUpdateDataset({ owner: owner.signer, dataset, deliveryDelegate: listing.delegate.wallet })
    : [];
  const together = naming.length > 0 && fitsInOneTransaction(owner.signer, [...instructions, ...naming]);
  const { signature } = await connection.send(owner.signer, together ? [...instructions, ...naming] : instructions);
  let delegateSignature: string | undefined;
  if (naming.length > 0 && !together) {
    try {
      delegateSignature = (await connection.send(owner.signer, naming)).signature;
    } catch (error) {
      throw new ClientError(
        "refused",
        `dataset ${dataset} is registered, but naming its delivery delegate failed (${error instanceof Error ? error.message : String(error)}); ` +
          `run \`data-market dataset delegate ${dataset} <card>\` again`,
        { cause: error },
      );
    }
  }
  return {
    dataset,
    signature,
    ...(listing.delegate ? { delegate: listing.delegate.wallet } : {}),
    ...(delegateSignature ? { delegateSignature } : {}),
  };
}
