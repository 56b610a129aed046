// Publishing a dataset in one pass over the file: encrypt (DMC1, sha256 of the plaintext in the
// same pass) to a temporary file, add the ciphertext to IPFS, add the metadata (with the owner's
// sealed copy of the content key, and the delivery delegate's when one is named), then register on
// chain. Nothing is registered unless the content is stored; the temporary ciphertext is removed
// whatever happens.
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

import {
  TRANSACTION_SIZE_LIMIT,
  compileTransaction,
  getTransactionSize,
  type Address,
  type Blockhash,
  type Instruction,
  type TransactionSigner,
} from "@solana/kit";

import {
  DEFAULT_CHUNK_SIZE,
  encryptStream,
  generateContentKey,
  sealContentKey,
  toHex,
  writeFileAtomically,
} from "../crypto/index.js";
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
  fetchMarketplace,
  findDatasetAddress,
  type DatasetCategory,
  type LicenseTermsArgs,
  type RecipientArgs,
} from "../sdk/index.js";
import type { ContentStore } from "../storage/index.js";
import type { MarketConnection } from "./connection.js";
import { sealDeliveryGrant, type DelegateIdentity } from "./delegation.js";
import { ClientError } from "./errors.js";
import {
  LICENSE_SYMBOL,
  METADATA_FORMAT,
  encodeSealedKey,
  licenseTokenName,
  metadataUri,
  type DatasetMetadata,
} from "./metadata.js";
import { countBytes, type ProgressListener } from "./progress.js";
import { formatDuration } from "./amounts.js";
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

export interface PublishInput {
  file: string;
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
  onProgress?: ProgressListener;
  /** Stops the work (the temporary ciphertext is removed, nothing is registered). */
  signal?: AbortSignal;
}

export interface PublishResult {
  dataset: Address;
  contentHash: string;
  ciphertextCid: string;
  metadataUri: string;
  plaintextBytes: number;
  ciphertextBytes: number;
  signature: string;
  /** The delivery delegate named, if any. */
  delegate?: Address;
  /**
   * The transaction that named the delegate, when it did not fit in the registration's own
   * transaction (the largest registrations leave no room for it).
   */
  delegateSignature?: string;
}

/**
 * The program's bounds on what is registered, checked before any work so that a mistake does not
 * surface only after a multi-GB file has been encrypted and uploaded. The program checks them again.
 */
export function checkPublishInput(input: PublishInput, owner: Address, policy: WindowPolicy): void {
  const refuse = (message: string) => {
    throw new ClientError("usage", message);
  };
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  if (bytes(input.title) === 0 || bytes(input.title) > MAX_TITLE_LEN) refuse(`the title must be 1 to ${MAX_TITLE_LEN} bytes`);
  if (input.tags.length > MAX_TAGS) refuse(`at most ${MAX_TAGS} tags`);
  for (const tag of input.tags) if (bytes(tag) === 0 || bytes(tag) > TAG_LEN) refuse(`tag "${tag}" must be 1 to ${TAG_LEN} bytes`);
  const window = (what: string, secs: number, min: number, max: number) => {
    if (!Number.isInteger(secs) || secs < min || secs > max) {
      refuse(`the ${what} window must be between ${formatDuration(min)} (this marketplace's minimum) and ${formatDuration(max)}`);
    }
  };
  window("delivery", input.deliveryWindowSecs, policy.minDeliveryWindowSecs, MAX_DELIVERY_WINDOW_SECS);
  window("dispute", input.disputeWindowSecs, policy.minDisputeWindowSecs, MAX_DISPUTE_WINDOW_SECS);
  if (BigInt(input.terms.durationSecs) > BigInt(MAX_LICENSE_DURATION_SECS)) refuse("a licence lasts at most 10 years");
  if ((input.referralFeeBps ?? 0) > MAX_REFERRAL_FEE_BPS) refuse(`the referral fee is at most ${MAX_REFERRAL_FEE_BPS} bps`);
  const recipients = input.recipients ?? [{ wallet: owner, bps: BPS_DENOMINATOR }];
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) refuse(`1 to ${MAX_RECIPIENTS} revenue recipients`);
  if (new Set(recipients.map((r) => r.wallet)).size !== recipients.length) refuse("a revenue recipient appears twice");
  if (recipients.reduce((sum, r) => sum + r.bps, 0) !== BPS_DENOMINATOR) refuse("the revenue shares must add up to 10000 bps");
  if (input.delegate?.wallet === owner) refuse("you cannot be your own delivery delegate: the owner delivers with its own copy");
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

/** The operator's shortest windows, which every registration must respect. */
export interface WindowPolicy {
  minDeliveryWindowSecs: number;
  minDisputeWindowSecs: number;
}

export async function publishDataset(
  connection: MarketConnection,
  store: ContentStore,
  owner: MarketWallet,
  input: PublishInput,
): Promise<PublishResult> {
  const { data: marketplace } = await fetchMarketplace(connection);
  checkPublishInput(input, owner.signer.address, marketplace);
  const size = await fileSize(input.file);
  const contentKey = generateContentKey();
  const workDir = await mkdtemp(join(tmpdir(), "data-market-publish-"));
  try {
    const ciphertextPath = join(workDir, "content.dmc1");
    const plaintext = countBytes(
      createReadStream(input.file, { highWaterMark: DEFAULT_CHUNK_SIZE }),
      "encrypt",
      size,
      input.onProgress,
      input.signal,
    );
    const encryption = encryptStream(plaintext, contentKey);
    await writeFileAtomically(ciphertextPath, encryption, { durable: false });
    const summary = await encryption.summary;

    const dataset = await findDatasetAddress(summary.sha256, owner.signer.address);
    // a content hash registers once; the operator may have released a squatted one to this owner
    const holder = await fetchContentHashRecord(connection, summary.sha256);
    if (holder && holder.data.claimant !== owner.signer.address) {
      throw new ClientError("refused", `this file is already registered as dataset ${holder.data.dataset}`);
    }

    const ciphertextCid = await store.addFile(
      countBytes(
        createReadStream(ciphertextPath, { highWaterMark: DEFAULT_CHUNK_SIZE }),
        "upload",
        summary.ciphertextBytes,
        input.onProgress,
        input.signal,
      ),
    );
    const ownerKeys = await owner.encryptionKeyPair();
    const metadata: DatasetMetadata = {
      format: METADATA_FORMAT,
      name: licenseTokenName(input.title),
      symbol: LICENSE_SYMBOL,
      ...(input.image ? { image: input.image } : {}),
      title: input.title,
      description: input.description ?? "",
      fileName: basename(input.file),
      plaintextBytes: summary.plaintextBytes,
      sha256: toHex(summary.sha256),
      ciphertextCid,
      ciphertextBytes: summary.ciphertextBytes,
      chunkSize: DEFAULT_CHUNK_SIZE,
      ownerSealedKey: encodeSealedKey(await sealContentKey(contentKey, ownerKeys.publicKey)),
      ...(input.delegate ? { deliveryGrants: [await sealDeliveryGrant(contentKey, dataset, input.delegate)] } : {}),
    };
    const uri = metadataUri(await store.addJson(metadata));
    input.signal?.throwIfAborted();

    const instructions = await buildRegisterDataset(connection, {
      owner: owner.signer,
      paymentMint: input.paymentMint,
      contentHash: summary.sha256,
      title: input.title,
      metadataUri: uri,
      ciphertextCid,
      category: input.category,
      tags: input.tags,
      price: input.price,
      terms: input.terms,
      referralFeeBps: input.referralFeeBps ?? 0,
      recipients: input.recipients ?? [{ wallet: owner.signer.address, bps: 10_000 }],
      deliveryWindowSecs: input.deliveryWindowSecs,
      disputeWindowSecs: input.disputeWindowSecs,
      allowListEnabled: input.allowListEnabled,
      previousVersion: input.previousVersion,
    });
    // The delegate is named in the registration's transaction when it fits, so both land together.
    const naming = input.delegate
      ? await buildUpdateDataset({ owner: owner.signer, dataset, deliveryDelegate: input.delegate.wallet })
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
      contentHash: metadata.sha256,
      ciphertextCid,
      metadataUri: uri,
      plaintextBytes: summary.plaintextBytes,
      ciphertextBytes: summary.ciphertextBytes,
      signature,
      ...(input.delegate ? { delegate: input.delegate.wallet } : {}),
      ...(delegateSignature ? { delegateSignature } : {}),
    };
  } finally {
    contentKey.fill(0);
    await rm(workDir, { recursive: true, force: true });
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ClientError("usage", `${path} is not a file`);
    return info.size;
  } catch (error) {
    if (error instanceof ClientError) throw error;
    throw new ClientError("usage", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
