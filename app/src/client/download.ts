// A licence holder's download (Node): the licence checks and the key opening of download-core.ts
// (shared with the web dapp), then stream the ciphertext from IPFS through DMC1 decryption and the sha256 check against the on-chain content hash, and only then move the
// file into place. On any failure no output file (and no partial file) is left.
import type { Address } from "@solana/kit";

import { decryptToFile, isCryptoError, toHex } from "../crypto/index.js";
import { ContentNotFoundError, type ContentStore } from "../storage/index.js";
import type { MarketConnection } from "./connection.js";
import { checkDownloadable, openLicenceKey } from "./download-core.js";
import { ClientError } from "./errors.js";
import { readMetadata } from "./metadata.js";
import { countBytes, type ProgressListener } from "./progress.js";
import type { MarketWallet } from "./wallet.js";

export interface DownloadResult {
  dataset: Address;
  license: Address;
  output: string;
  plaintextBytes: number;
  sha256: string;
}

export async function downloadDataset(
  connection: MarketConnection,
  store: ContentStore,
  holder: MarketWallet,
  input: { dataset: Address; output: string; onProgress?: ProgressListener; timeoutMs?: number; signal?: AbortSignal },
): Promise<DownloadResult> {
  const checked = await checkDownloadable(connection, holder.signer.address, input.dataset);
  const licenseAddress = checked.licenseAddress;
  const contentKey = await openLicenceKey(checked, await holder.encryptionKeyPair());

  try {
    const cid = checked.ciphertextCid;
    // The size only feeds the progress bar; a missing metadata file must not stop a download.
    const total = await readMetadata(store, checked.metadataUri, { timeoutMs: input.timeoutMs }).then(
      (m) => m.ciphertextBytes,
      () => 0,
    );
    const ciphertext = countBytes(
      store.cat(cid, { timeoutMs: input.timeoutMs, signal: input.signal }),
      "download",
      total,
      input.onProgress,
      input.signal,
    );
    const summary = await decryptToFile(ciphertext, input.output, contentKey, {
      expectedSha256: checked.expectedSha256,
    });
    return {
      dataset: input.dataset,
      license: licenseAddress,
      output: input.output,
      plaintextBytes: summary.plaintextBytes,
      sha256: toHex(summary.sha256),
    };
  } catch (error) {
    if (error instanceof ContentNotFoundError) {
      throw new ClientError("not-found", `the dataset's content ${error.cid} is not available on IPFS`, { cause: error });
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
