// Publishing a dataset from a file in one pass over it: encrypt (DMC1, sha256 of the plaintext and
// the chunk tree's leaves in the same pass) to a temporary file, add the ciphertext to IPFS, add the
// metadata (with the chunk tree, the owner's sealed copy of the content key, and the delivery
// delegate's when one is named), then register on chain. Nothing is registered unless the content
// is stored; the temporary ciphertext is removed whatever happens. The checks, the metadata and the
// registration are publish-core.ts's, which the web dapp shares.
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

import type { Address } from "@solana/kit";

import { DEFAULT_CHUNK_SIZE, chunkTreeRoot, dmc1ChunkCount, encryptStream, generateContentKey, writeFileAtomically } from "../crypto/index.js";
import { fetchMarketplace } from "../sdk/index.js";
import type { ContentStore } from "../storage/index.js";
import type { MarketConnection } from "./connection.js";
import { ClientError } from "./errors.js";
import { metadataUri } from "./metadata.js";
import { checkPreviewLimits, enablePreviews, type PreviewLimits } from "./preview.js";
import { countBytes, type ProgressListener } from "./progress.js";
import {
  checkPublishInput,
  claimableDatasetAddress,
  datasetMetadata,
  registerDataset,
  type DatasetListing,
} from "./publish-core.js";
import type { MarketWallet } from "./wallet.js";

export interface PublishInput extends DatasetListing {
  file: string;
  onProgress?: ProgressListener;
  /** Stops the work (the temporary ciphertext is removed, nothing is registered). */
  signal?: AbortSignal;
  /** Offer verifiable previews with these limits: the chunk tree's root is registered right after the dataset. */
  preview?: PreviewLimits;
}

export interface PublishResult {
  dataset: Address;
  contentHash: string;
  ciphertextCid: string;
  metadataUri: string;
  plaintextBytes: number;
  ciphertextBytes: number;
  /** The root of the tree over the plaintext chunks (its leaves are in the metadata). */
  chunkTreeRoot: Uint8Array;
  /** The number of plaintext chunks: the chunk tree's leaves. */
  chunkCount: number;
  signature: string;
  /** The delivery delegate named, if any. */
  delegate?: Address;
  /**
   * The transaction that named the delegate, when it did not fit in the registration's own
   * transaction (the largest registrations leave no room for it).
   */
  delegateSignature?: string;
  /** The transaction that registered the chunk tree root and opened previews, when asked for. */
  previewSignature?: string;
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
  if (input.preview) checkPreviewLimits(input.preview, dmc1ChunkCount(DEFAULT_CHUNK_SIZE, size));
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
    const treeRoot = chunkTreeRoot(summary.chunkLeaves);

    const dataset = await claimableDatasetAddress(connection, summary.sha256, owner.signer.address);

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
    const metadata = await datasetMetadata(
      input,
      { ...summary, ciphertextCid, fileName: basename(input.file) },
      contentKey,
      ownerKeys.publicKey,
      dataset,
    );
    const uri = metadataUri(await store.addJson(metadata));
    input.signal?.throwIfAborted();

    const registration = await registerDataset(connection, owner, input, { dataset, sha256: summary.sha256, ciphertextCid, metadataUri: uri });
    // A second transaction: the registration's own leaves no room for it.
    const preview = input.preview ? await enablePreviews(connection, owner, { dataset, metadata, limits: input.preview }) : undefined;
    return {
      dataset,
      contentHash: metadata.sha256,
      ciphertextCid,
      metadataUri: uri,
      plaintextBytes: summary.plaintextBytes,
      ciphertextBytes: summary.ciphertextBytes,
      chunkTreeRoot: treeRoot,
      chunkCount: summary.chunkLeaves.length,
      signature: registration.signature,
      ...(registration.delegate ? { delegate: registration.delegate } : {}),
      ...(registration.delegateSignature ? { delegateSignature: registration.delegateSignature } : {}),
      ...(preview ? { previewSignature: preview.signature } : {}),
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
