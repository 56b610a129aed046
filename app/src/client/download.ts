// A licence holder's download (Node): the licence checks and the key opening of download-core.ts
// (shared with the web dapp), then stream the ciphertext from IPFS through DMC1 decryption, each
// chunk checked against the chunk tree when the metadata has one, and the sha256 check against the
// on-chain content hash, and only then move the file into place. On any failure no output file (and
// no partial file) is left.
import type { Address } from "@solana/kit";

import { ChunkTreeMismatchError, decryptToFile, isCryptoError, toHex } from "../crypto/index.js";
import { fetchPreviewPolicy } from "../sdk/index.js";
import { ContentNotFoundError, type ContentStore } from "../storage/index.js";
import type { MarketConnection } from "./connection.js";
import { checkDownloadable, chunkLeavesToCheck, openLicenceKey } from "./download-core.js";
import { ClientError } from "./errors.js";
import { ChunkTreeError, readMetadata } from "./metadata.js";
import { countBytes, type ProgressListener } from "./progress.js";
import type { MarketWallet } from "./wallet.js";

export interface DownloadResult {
  dataset: Address;
  license: Address;
  output: string;
  plaintextBytes: number;
  sha256: string;
  /** Every chunk was checked against the metadata's chunk tree as it was decrypted. */
  chunkTreeVerified: boolean;
}

export async function downloadDataset(
  connection: MarketConnection,
  store: ContentStore,
  holder: MarketWallet,
  input: {
    dataset: Address;
    output: string;
    onProgress?: ProgressListener;
    timeoutMs?: number;
    signal?: AbortSignal;
    /**
     * The chunk tree root to check against; by default the one the owner registered on chain for
     * previews, else the metadata's own.
     */
    expectedChunkTreeRoot?: Uint8Array;
  },
): Promise<DownloadResult> {
  const checked = await checkDownloadable(connection, holder.signer.address, input.dataset);
  const licenseAddress = checked.licenseAddress;
  const contentKey = await openLicenceKey(checked, await holder.encryptionKeyPair());

  try {
    const cid = checked.ciphertextCid;
    // The metadata gives the size (for the progress bar) and the chunk tree. A metadata file that
    // cannot be read does not stop a download, which the sha256 still checks; a chunk tree that does
    // not check out does.
    const metadata = await readMetadata(store, checked.metadataUri, { timeoutMs: input.timeoutMs }).catch((error: unknown) => {
      if (error instanceof ChunkTreeError) throw new ClientError("verification", error.message, { cause: error });
      return null;
    });
    const registered = await fetchPreviewPolicy(connection, input.dataset);
    const expectedRoot = input.expectedChunkTreeRoot ?? (registered ? new Uint8Array(registered.data.chunkTreeRoot) : undefined);
    if (!metadata && expectedRoot) {
      throw new ClientError("verification", "the dataset registers a chunk tree root, but its metadata cannot be read to check chunks against it");
    }
    const chunkLeaves = metadata ? chunkLeavesToCheck(metadata, expectedRoot) : undefined;
    const ciphertext = countBytes(
      store.cat(cid, { timeoutMs: input.timeoutMs, signal: input.signal }),
      "download",
      metadata?.ciphertextBytes ?? 0,
      input.onProgress,
      input.signal,
    );
    const summary = await decryptToFile(ciphertext, input.output, contentKey, {
      expectedSha256: checked.expectedSha256,
      ...(chunkLeaves ? { chunkLeaves } : {}),
    });
    return {
      dataset: input.dataset,
      license: licenseAddress,
      output: input.output,
      plaintextBytes: summary.plaintextBytes,
      sha256: toHex(summary.sha256),
      chunkTreeVerified: chunkLeaves !== undefined,
    };
  } catch (error) {
    if (error instanceof ContentNotFoundError) {
      throw new ClientError("not-found", `the dataset's content ${error.cid} is not available on IPFS`, { cause: error });
    }
    if (error instanceof ChunkTreeMismatchError) {
      throw new ClientError("verification", error.message, { cause: error });
    }
    if (isCryptoError(error)) {
      throw new ClientError("verification", `the downloaded content failed verification: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    contentKey.fill(0);
  }
}
