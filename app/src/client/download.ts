// A licence holder's download: check the licence (delivered, not refunded, not expired), open the
// sealed content key with the wallet-derived X25519 key, stream the ciphertext from IPFS through
// DMC1 decryption and the sha256 check against the on-chain content hash, and only then move the
// file into place. On any failure no output file (and no partial file) is left.
import type { Address } from "@solana/kit";

import { decryptToFile, isCryptoError, openSealedContentKey, toHex } from "../crypto/index.js";
import {
  LicenseState,
  fetchDataset,
  fetchMaybeLicense,
  findLicenseAddress,
  isKeyDelivered,
  isLicenseExpired,
} from "../sdk/index.js";
import { ContentNotFoundError, type ContentStore } from "../storage/index.js";
import type { MarketConnection } from "./connection.js";
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
  const licenseAddress = await findLicenseAddress(input.dataset, holder.signer.address);
  const license = await fetchMaybeLicense(connection, licenseAddress);
  if (!license) throw new ClientError("refused", `you hold no licence for dataset ${input.dataset}`);
  if (license.data.state === LicenseState.Refunded) {
    throw new ClientError("refused", `your licence ${licenseAddress} was refunded; buy a new one to download`);
  }
  if (!isKeyDelivered(license.data)) {
    throw new ClientError("refused", `the owner has not delivered the key for licence ${licenseAddress} yet`);
  }
  const now = await connection.now();
  if (isLicenseExpired(license.data, now)) {
    const when = new Date(Number(license.data.expiresAt) * 1000).toISOString();
    throw new ClientError("refused", `your licence expired at ${when}; renew it to download`);
  }
  const dataset = await fetchDataset(connection, input.dataset);

  let contentKey: Uint8Array;
  try {
    contentKey = await openSealedContentKey(new Uint8Array(license.data.sealedKey), await holder.encryptionKeyPair());
  } catch (error) {
    if (isCryptoError(error)) {
      throw new ClientError("verification", `cannot open the delivered key with this wallet: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }

  try {
    const cid = dataset.data.ciphertextCid;
    // The size only feeds the progress bar; a missing metadata file must not stop a download.
    const total = await readMetadata(store, dataset.data.metadataUri, { timeoutMs: input.timeoutMs }).then(
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
      expectedSha256: new Uint8Array(dataset.data.contentHash),
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
