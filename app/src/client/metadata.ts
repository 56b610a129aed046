// The dataset's metadata file (JSON on IPFS, its `ipfs://` URI on chain): what a buyer reads before
// paying, plus the owner's own copy of the content key, sealed to the owner's wallet-derived X25519
// key. The delivery daemon re-opens that copy to seal the key to each buyer, so an owner needs only
// their wallet and IPFS, no local key files, to deliver from any machine.
import { getBase64Codec, type ReadonlyUint8Array } from "@solana/kit";

import { SEALED_KEY_LEN } from "../crypto/index.js";
import type { ContentStore } from "../storage/index.js";

export const METADATA_FORMAT = "data-market/dataset-metadata/v1";

/** The licence token's symbol (programs/data_market/src/constants.rs, LICENSE_SYMBOL). */
export const LICENSE_SYMBOL = "DLIC";

/**
 * The licence mint's on-chain metadata points here too, so the file also carries the fields wallets
 * read for a token: `name`, `symbol`, `description` and (when the owner gives one) `image`.
 */
export interface DatasetMetadata {
  format: typeof METADATA_FORMAT;
  /** "License: <title>", as the licence mint's on-chain name. */
  name: string;
  symbol: string;
  /** URI of an image wallets show for the licence token. */
  image?: string;
  title: string;
  description: string;
  /** The file's name when it was published (a download suggests it). */
  fileName: string;
  /** Plaintext size and sha256 (hex; equal to the on-chain content hash). */
  plaintextBytes: number;
  sha256: string;
  /** The DMC1 ciphertext on IPFS. */
  ciphertextCid: string;
  ciphertextBytes: number;
  chunkSize: number;
  /** The content key sealed to the owner's X25519 key (base64 of the 96-byte sealed key format). */
  ownerSealedKey: string;
}

export class MetadataError extends Error {
  override name = "MetadataError";
}

const base64 = getBase64Codec();

export function encodeSealedKey(sealed: ReadonlyUint8Array): string {
  return base64.decode(sealed);
}

export function decodeSealedKey(text: string): Uint8Array {
  const bytes = new Uint8Array(base64.encode(text));
  if (bytes.length !== SEALED_KEY_LEN) throw new MetadataError(`the owner's sealed key is not ${SEALED_KEY_LEN} bytes`);
  return bytes;
}

/** The licence token name the program writes on the mint (LICENSE_NAME_PREFIX + the whole title). */
export function licenseTokenName(title: string): string {
  return `License: ${title}`;
}

export function metadataUri(cid: string): string {
  return `ipfs://${cid}`;
}

/** The CID in an `ipfs://<cid>` URI (or a bare CID). */
export function cidOfUri(uri: string): string {
  return uri.startsWith("ipfs://") ? uri.slice("ipfs://".length).split("/")[0]! : uri;
}

export async function readMetadata(
  store: ContentStore,
  uri: string,
  options: { timeoutMs?: number } = {},
): Promise<DatasetMetadata> {
  const parts: Uint8Array[] = [];
  for await (const piece of store.cat(cidOfUri(uri), options)) parts.push(piece);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    throw new MetadataError(`the metadata at ${uri} is not JSON`);
  }
  const record = value as Partial<DatasetMetadata>;
  if (record.format !== METADATA_FORMAT || typeof record.ownerSealedKey !== "string") {
    throw new MetadataError(`the metadata at ${uri} is not ${METADATA_FORMAT}`);
  }
  return record as DatasetMetadata;
}
