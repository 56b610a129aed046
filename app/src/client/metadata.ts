// The dataset's metadata file (JSON on IPFS, its `ipfs://` URI on chain): what a buyer reads before
// paying, plus the owner's own copy of the content key, sealed to the owner's wallet-derived X25519
// key. The delivery daemon re-opens that copy to seal the key to each buyer, so an owner needs only
// their wallet and IPFS, no local key files, to deliver from any machine. A dataset published with a
// delivery delegate also carries the delegate's copy (a delivery grant, see delegation.ts), so the
// delegate's daemon can deliver without the owner's wallet. Its chunk tree (the leaves of every
// plaintext chunk) lets anyone check a preview chunk, and a download check each chunk as it comes.
import { getBase64Codec, isAddress, type ReadonlyUint8Array } from "@solana/kit";

import { SEALED_KEY_LEN, chunkTreeRoot, concatBytes, dmc1ChunkCount, equalBytes, fromHex, isCryptoError, toHex } from "../crypto/web.js";
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
  /**
   * Copies of the content key sealed to delivery delegates named at publication (optional; readers
   * that do not know the field ignore it). Only the copy of the delegate the dataset names on chain
   * is ever used.
   */
  deliveryGrants?: DeliveryGrant[];
  /**
   * The Merkle tree over the plaintext chunks (optional; FORMAT.md, *Chunk tree*): its root, which
   * is registered on chain, and one leaf per chunk, in order. There are as many leaves as chunks.
   */
  chunkTree?: ChunkTreeField;
}

/** A chunk tree as the metadata stores it: lowercase hex, 32 bytes each. */
export interface ChunkTreeField {
  root: string;
  leaves: string[];
}

/** A chunk tree decoded and checked: its leaves hash to its root. */
export interface ChunkTree {
  root: Uint8Array;
  leaves: Uint8Array[];
}

export const DELIVERY_GRANT_FORMAT = "data-market/delivery-grant/v1";

/**
 * The content key sealed to a delivery delegate's X25519 key (from its delegate card): inside the
 * metadata when the delegate was named at publication, else a JSON file of its own on IPFS whose CID
 * the owner hands to the delegate. See FORMAT.md, *Delivery grant*.
 */
export interface DeliveryGrant {
  format: typeof DELIVERY_GRANT_FORMAT;
  /** The dataset whose content key this is. */
  dataset: string;
  /** The delegate's wallet, as named on chain (`Dataset.delivery_delegate`). */
  delegate: string;
  /** The delegate's X25519 public key the key is sealed to (hex, 32 bytes). */
  encryptionKey: string;
  /** The content key sealed to `encryptionKey` (base64 of the 96-byte sealed key format). */
  sealedKey: string;
}

export class MetadataError extends Error {
  override name = "MetadataError";
}

/** The metadata's chunk tree cannot be used: not 32-byte hex values, or not one leaf per chunk. */
export class ChunkTreeError extends MetadataError {
  override name = "ChunkTreeError";
}

/** The chunk tree's leaves do not hash to its root, or not to the root registered on chain. */
export class ChunkTreeRootMismatchError extends ChunkTreeError {
  override name = "ChunkTreeRootMismatchError";
}

/** The metadata field for the leaves an encryption reported (EncryptSummary.chunkLeaves). */
export function encodeChunkTree(leaves: readonly Uint8Array[]): ChunkTreeField {
  return { root: toHex(chunkTreeRoot(leaves)), leaves: leaves.map((leaf) => toHex(leaf)) };
}

const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * Decodes and checks a metadata's chunk tree: every value 32 bytes of lowercase hex, one leaf per
 * chunk of a plaintext of `plaintextBytes` bytes in chunks of `chunkSize`, and the leaves hashing to
 * the root. Throws ChunkTreeError, or ChunkTreeRootMismatchError for the last check.
 */
export function decodeChunkTree(value: unknown, sizes: { chunkSize: number; plaintextBytes: number }, where = "the metadata's chunk tree"): ChunkTree {
  const field = value as Partial<ChunkTreeField> | null;
  if (typeof field !== "object" || field === null || typeof field.root !== "string" || !Array.isArray(field.leaves)) {
    throw new ChunkTreeError(`${where} is not { root, leaves }`);
  }
  if (!HASH_HEX.test(field.root)) throw new ChunkTreeError(`${where}: the root is not 64 lowercase hex digits`);
  const bad = field.leaves.findIndex((leaf) => typeof leaf !== "string" || !HASH_HEX.test(leaf));
  if (bad >= 0) throw new ChunkTreeError(`${where}: leaf ${bad} is not 64 lowercase hex digits`);
  let chunks: number;
  try {
    chunks = dmc1ChunkCount(sizes.chunkSize, sizes.plaintextBytes);
  } catch (error) {
    if (isCryptoError(error)) throw new ChunkTreeError(`${where} comes with an invalid size: ${error.message}`, { cause: error });
    throw error;
  }
  if (field.leaves.length !== chunks) {
    throw new ChunkTreeError(`${where} has ${field.leaves.length} leaves, but ${sizes.plaintextBytes} bytes in chunks of ${sizes.chunkSize} are ${chunks} chunks`);
  }
  const leaves = (field.leaves as string[]).map((leaf) => fromHex(leaf));
  const root = fromHex(field.root);
  if (!equalBytes(chunkTreeRoot(leaves), root)) throw new ChunkTreeRootMismatchError(`${where}: the leaves do not hash to the root ${field.root}`);
  return { root, leaves };
}

const base64 = getBase64Codec();

export function encodeSealedKey(sealed: ReadonlyUint8Array): string {
  return base64.decode(sealed);
}

export function decodeSealedKey(text: string, whose = "the owner's"): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(base64.encode(text));
  } catch {
    throw new MetadataError(`${whose} sealed key is not base64`);
  }
  if (bytes.length !== SEALED_KEY_LEN) throw new MetadataError(`${whose} sealed key is not ${SEALED_KEY_LEN} bytes`);
  return bytes;
}

/** Checks a value read as a delivery grant (from the metadata or its own file); throws MetadataError. */
export function checkDeliveryGrant(value: unknown, where: string): DeliveryGrant {
  const grant = value as Partial<DeliveryGrant> | null;
  if (typeof grant !== "object" || grant === null || grant.format !== DELIVERY_GRANT_FORMAT) {
    throw new MetadataError(`${where} is not a ${DELIVERY_GRANT_FORMAT}`);
  }
  for (const field of ["dataset", "delegate", "encryptionKey", "sealedKey"] as const) {
    if (typeof grant[field] !== "string") throw new MetadataError(`${where} has no ${field}`);
  }
  if (!isAddress(grant.dataset!) || !isAddress(grant.delegate!)) throw new MetadataError(`${where} names an invalid address`);
  if (!/^[0-9a-f]{64}$/.test(grant.encryptionKey!)) throw new MetadataError(`${where}: the encryption key is not 64 hex digits`);
  decodeSealedKey(grant.sealedKey!, `${where}: the`);
  return {
    format: DELIVERY_GRANT_FORMAT,
    dataset: grant.dataset!,
    delegate: grant.delegate!,
    encryptionKey: grant.encryptionKey!,
    sealedKey: grant.sealedKey!,
  };
}

/** A delivery grant stored as a file of its own on IPFS. */
export async function readDeliveryGrant(store: Pick<ContentStore, "cat">, cid: string, options: { timeoutMs?: number } = {}): Promise<DeliveryGrant> {
  const parts: Uint8Array[] = [];
  for await (const piece of store.cat(cidOfUri(cid), options)) parts.push(piece);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(concatBytes(...parts)));
  } catch {
    throw new MetadataError(`the delivery grant ${cid} is not JSON`);
  }
  return checkDeliveryGrant(value, `the delivery grant ${cid}`);
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
  store: Pick<ContentStore, "cat">,
  uri: string,
  options: { timeoutMs?: number } = {},
): Promise<DatasetMetadata> {
  const parts: Uint8Array[] = [];
  for await (const piece of store.cat(cidOfUri(uri), options)) parts.push(piece);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(concatBytes(...parts)));
  } catch {
    throw new MetadataError(`the metadata at ${uri} is not JSON`);
  }
  const record = value as Partial<DatasetMetadata>;
  if (record.format !== METADATA_FORMAT || typeof record.ownerSealedKey !== "string") {
    throw new MetadataError(`the metadata at ${uri} is not ${METADATA_FORMAT}`);
  }
  if (record.chunkTree !== undefined) {
    decodeChunkTree(record.chunkTree, { chunkSize: record.chunkSize!, plaintextBytes: record.plaintextBytes! }, `the chunk tree in the metadata at ${uri}`);
  }
  return record as DatasetMetadata;
}
