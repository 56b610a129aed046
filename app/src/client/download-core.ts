// What every download does before the first byte, in Node and in browsers alike: check the licence
// (held, not refunded, key delivered, not expired), find what to fetch and the sha256 the plaintext
// must have, and open the sealed content key with the holder's X25519 key; and the chunk tree's
// leaves each decrypted chunk is checked against. The CLI's downloadDataset (download.ts) and the web
// dapp's download page both go through here.
import type { Account, Address } from "@solana/kit";

import { equalBytes, isCryptoError, openSealedContentKey, toHex, type X25519KeyPair } from "../crypto/web.js";
import {
  LicenseState,
  fetchDataset,
  fetchMaybeLicense,
  findLicenseAddress,
  isKeyDelivered,
  isLicenseExpired,
  type Dataset,
  type License,
} from "../sdk/index.js";
import type { MarketConnection } from "./connection.js";
import { ClientError } from "./errors.js";
import { ChunkTreeError, decodeChunkTree, type ChunkTree, type DatasetMetadata } from "./metadata.js";

export type DownloadRefusal = "no-licence" | "refunded" | "key-not-delivered" | "expired" | "key-mismatch";

/** A licence that does not allow a download (yet); `reason` tells which check failed. */
export class DownloadRefusedError extends ClientError {
  override name = "DownloadRefusedError";

  constructor(
    readonly reason: DownloadRefusal,
    message: string,
  ) {
    super(reason === "key-mismatch" ? "verification" : "refused", message);
  }
}

export interface DownloadableLicence {
  licenseAddress: Address;
  license: Account<License>;
  dataset: Account<Dataset>;
  /** The DMC1 ciphertext's CID. */
  ciphertextCid: string;
  metadataUri: string;
  /** The plaintext's sha256 (the dataset's on-chain content hash). */
  expectedSha256: Uint8Array;
}

/** The licence checks; fails with DownloadRefusedError before anything is fetched from IPFS. */
export async function checkDownloadable(connection: MarketConnection, holder: Address, datasetAddress: Address): Promise<DownloadableLicence> {
  const licenseAddress = await findLicenseAddress(datasetAddress, holder);
  const license = await fetchMaybeLicense(connection, licenseAddress);
  if (!license) throw new DownloadRefusedError("no-licence", `you hold no licence for dataset ${datasetAddress}`);
  if (license.data.state === LicenseState.Refunded) {
    throw new DownloadRefusedError("refunded", `your licence ${licenseAddress} was refunded; buy a new one to download`);
  }
  if (!isKeyDelivered(license.data)) {
    throw new DownloadRefusedError("key-not-delivered", `the owner has not delivered the key for licence ${licenseAddress} yet`);
  }
  const now = await connection.now();
  if (isLicenseExpired(license.data, now)) {
    const when = new Date(Number(license.data.expiresAt) * 1000).toISOString();
    throw new DownloadRefusedError("expired", `your licence expired at ${when}; renew it to download`);
  }
  const dataset = await fetchDataset(connection, datasetAddress);
  return {
    licenseAddress,
    license,
    dataset,
    ciphertextCid: dataset.data.ciphertextCid,
    metadataUri: dataset.data.metadataUri,
    expectedSha256: new Uint8Array(dataset.data.contentHash),
  };
}

/**
 * The key was sealed to the X25519 key the buyer gave when buying. A wallet that derives another one
 * (another derivation, another account) cannot open it: say so before downloading anything.
 */
export function checkSealedTo(licence: Pick<DownloadableLicence, "license" | "licenseAddress">, keyPair: Pick<X25519KeyPair, "publicKey">): void {
  const sealedTo = toHex(Uint8Array.from(licence.license.data.buyerEncryptionKey));
  const derived = toHex(keyPair.publicKey);
  if (sealedTo !== derived) {
    throw new DownloadRefusedError(
      "key-mismatch",
      `licence ${licence.licenseAddress} was sealed to the encryption key ${sealedTo}, but this wallet derives ${derived}`,
    );
  }
}

/** Opens the delivered content key; the caller zeroes it when done. */
export async function openLicenceKey(licence: Pick<DownloadableLicence, "license">, keyPair: X25519KeyPair): Promise<Uint8Array> {
  try {
    return await openSealedContentKey(new Uint8Array(licence.license.data.sealedKey), keyPair);
  } catch (error) {
    if (isCryptoError(error)) {
      throw new ClientError("verification", `cannot open the delivered key with this wallet: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * The leaves a download checks each decrypted chunk against (DecryptOptions.chunkLeaves): the
 * metadata's, once they hash to `expectedRoot` (the root registered on chain) or, when the caller
 * has none, to the metadata's own root. Undefined when the metadata has no chunk tree and no root is
 * expected: the whole-file sha256 is then the only check.
 */
export function chunkLeavesToCheck(metadata: DatasetMetadata, expectedRoot?: Uint8Array): Uint8Array[] | undefined {
  if (metadata.chunkTree === undefined) {
    if (expectedRoot === undefined) return undefined;
    throw new ClientError("verification", `the dataset registers the chunk tree root ${toHex(expectedRoot)}, but its metadata has no chunk tree`);
  }
  let tree: ChunkTree;
  try {
    tree = decodeChunkTree(metadata.chunkTree, metadata);
  } catch (error) {
    if (error instanceof ChunkTreeError) throw new ClientError("verification", error.message, { cause: error });
    throw error;
  }
  if (expectedRoot !== undefined && !equalBytes(tree.root, expectedRoot)) {
    throw new ClientError("verification", `the metadata's chunk tree has the root ${toHex(tree.root)}, but the dataset registers ${toHex(expectedRoot)}`);
  }
  return tree.leaves;
}
