// A preview bundle: the file an owner serves to answer a preview request, with the plaintext of the
// chunks the chain drew and each chunk's proof in the dataset's chunk tree (FORMAT.md, *Preview
// bundle*). Anyone holding the registered root can check it without the content key. Browser-safe.
import { isAddress, type Address } from "@solana/kit";

import {
  MAX_CHUNKS,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  SHA256_LEN,
  chunkLeaf,
  chunkTreeProofs,
  equalBytes,
  fromHex,
  toHex,
  utf8,
  verifyChunkProof,
} from "../crypto/web.js";
import { ClientError } from "./errors.js";

export const PREVIEW_FORMAT = "data-market/preview/v1";
/** ASCII "DMPV1\n", then the header's length (u32 big-endian), the JSON header, the chunks. */
export const PREVIEW_BUNDLE_MAGIC = utf8("DMPV1\n");
/** A proof has one sibling per level at most: 32 levels above 2^32 leaves. */
const MAX_PROOF_LEN = 32;
const PREFIX_LEN = PREVIEW_BUNDLE_MAGIC.length + 4;

export interface PreviewChunk {
  index: number;
  /** The chunk's plaintext. */
  bytes: Uint8Array;
  /** The siblings from the chunk's leaf to the root, bottom-up (chunkTreeProof). */
  proof: Uint8Array[];
}

export interface PreviewBundle {
  dataset: Address;
  /** The preview request this bundle answers. */
  request: Address;
  chunkSize: number;
  /** The number of chunks in the dataset: the chunk tree's leaves. */
  chunkCount: number;
  chunks: PreviewChunk[];
}

/** A bundle that does not prove what it must; `chunk` names the chunk at fault, when one is. */
export class PreviewVerificationError extends ClientError {
  override name = "PreviewVerificationError";

  constructor(
    message: string,
    readonly chunk?: number,
    options?: { cause?: unknown },
  ) {
    super("verification", message, options);
  }
}

/** Bytes that are not a preview bundle at all (magic, lengths, header fields). */
export class MalformedPreviewBundleError extends PreviewVerificationError {
  override name = "MalformedPreviewBundleError";
}

interface HeaderChunk {
  index: number;
  length: number;
  proof: string[];
}

export function encodePreviewBundle(bundle: PreviewBundle): Uint8Array {
  const header = utf8(
    JSON.stringify({
      format: PREVIEW_FORMAT,
      dataset: bundle.dataset,
      request: bundle.request,
      chunkSize: bundle.chunkSize,
      chunkCount: bundle.chunkCount,
      chunks: bundle.chunks.map((c): HeaderChunk => ({ index: c.index, length: c.bytes.length, proof: c.proof.map((p) => toHex(p)) })),
    }),
  );
  const body = bundle.chunks.reduce((sum, c) => sum + c.bytes.length, 0);
  const out = new Uint8Array(PREFIX_LEN + header.length + body);
  out.set(PREVIEW_BUNDLE_MAGIC, 0);
  new DataView(out.buffer).setUint32(PREVIEW_BUNDLE_MAGIC.length, header.length, false);
  out.set(header, PREFIX_LEN);
  let offset = PREFIX_LEN + header.length;
  for (const chunk of bundle.chunks) {
    out.set(chunk.bytes, offset);
    offset += chunk.bytes.length;
  }
  return out;
}

const isCount = (value: unknown, min: number, max: number): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;

/** Reads a bundle, checking every length and field against the bytes; throws MalformedPreviewBundleError. */
export function parsePreviewBundle(bytes: Uint8Array): PreviewBundle {
  const refuse = (message: string, chunk?: number): never => {
    throw new MalformedPreviewBundleError(`not a preview bundle: ${message}`, chunk);
  };
  if (bytes.length < PREFIX_LEN || !equalBytes(bytes.subarray(0, PREVIEW_BUNDLE_MAGIC.length), PREVIEW_BUNDLE_MAGIC)) {
    refuse("it does not start with DMPV1");
  }
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(PREVIEW_BUNDLE_MAGIC.length, false);
  if (headerLen > bytes.length - PREFIX_LEN) refuse(`its header claims ${headerLen} bytes, the bundle has ${bytes.length - PREFIX_LEN} left`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(PREFIX_LEN, PREFIX_LEN + headerLen)));
  } catch {
    refuse("its header is not UTF-8 JSON");
  }
  const h = header as Record<string, unknown> | null;
  if (typeof h !== "object" || h === null || Array.isArray(h)) return refuse("its header is not a JSON object");
  if (h.format !== PREVIEW_FORMAT) refuse(`its format is not ${PREVIEW_FORMAT}`);
  for (const field of ["dataset", "request"] as const) {
    if (typeof h[field] !== "string" || !isAddress(h[field])) refuse(`its ${field} is not an address`);
  }
  if (!isCount(h.chunkSize, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)) refuse(`its chunk size is not an integer in [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}]`);
  if (!isCount(h.chunkCount, 1, MAX_CHUNKS)) refuse("its chunk count is not a positive integer");
  if (!Array.isArray(h.chunks)) refuse("its header has no chunk list");
  const chunkSize = h.chunkSize as number;
  const chunkCount = h.chunkCount as number;
  const entries = h.chunks as unknown[];
  if (entries.length > chunkCount) refuse(`it lists ${entries.length} chunks of a dataset of ${chunkCount}`);

  const chunks: PreviewChunk[] = [];
  let offset = PREFIX_LEN + headerLen;
  for (const [position, value] of entries.entries()) {
    const entry = value as Partial<Record<keyof HeaderChunk, unknown>> | null;
    if (typeof entry !== "object" || entry === null) return refuse(`entry ${position} of its chunk list is not an object`);
    if (!isCount(entry.index, 0, chunkCount - 1)) return refuse(`entry ${position} of its chunk list has no index below ${chunkCount}`);
    const index = entry.index;
    if (!isCount(entry.length, 0, chunkSize)) return refuse(`chunk ${index}'s length is not an integer in [0, ${chunkSize}]`, index);
    const proof = entry.proof;
    if (!Array.isArray(proof) || proof.length > MAX_PROOF_LEN || !proof.every((p) => typeof p === "string" && /^[0-9a-f]{64}$/.test(p))) {
      return refuse(`chunk ${index}'s proof is not a list of at most ${MAX_PROOF_LEN} hashes of 64 lowercase hex digits`, index);
    }
    if (entry.length > bytes.length - offset) return refuse(`chunk ${index} runs past the end of the bundle`, index);
    chunks.push({ index, bytes: bytes.slice(offset, offset + entry.length), proof: (proof as string[]).map((p) => fromHex(p)) });
    offset += entry.length;
  }
  if (offset !== bytes.length) refuse(`${bytes.length - offset} bytes follow the last chunk`);
  return { dataset: h.dataset as Address, request: h.request as Address, chunkSize, chunkCount, chunks };
}

/**
 * The owner's answer to a preview request: the drawn chunks' plaintext with their proofs, computed
 * from the dataset's leaves (its metadata's chunk tree). Every chunk is checked against its leaf, so
 * an owner never serves a bundle that buyers would refuse.
 */
export function buildPreviewBundle(input: {
  dataset: Address;
  request: Address;
  chunkSize: number;
  leaves: readonly Uint8Array[];
  chunks: readonly { index: number; bytes: Uint8Array }[];
}): Uint8Array {
  const seen = new Set<number>();
  for (const { index, bytes } of input.chunks) {
    if (!Number.isInteger(index) || index < 0 || index >= input.leaves.length) {
      throw new ClientError("usage", `chunk ${index} is not one of the dataset's ${input.leaves.length} chunks`);
    }
    if (seen.has(index)) throw new ClientError("usage", `chunk ${index} is given twice`);
    seen.add(index);
    if (!equalBytes(chunkLeaf(bytes), input.leaves[index]!)) {
      throw new ClientError("usage", `the bytes given for chunk ${index} are not the dataset's chunk ${index} (they do not hash to its leaf)`);
    }
  }
  const proofs = chunkTreeProofs(input.leaves, input.chunks.map((c) => c.index));
  return encodePreviewBundle({
    dataset: input.dataset,
    request: input.request,
    chunkSize: input.chunkSize,
    chunkCount: input.leaves.length,
    chunks: input.chunks.map((c, i) => ({ index: c.index, bytes: c.bytes, proof: proofs[i]! })),
  });
}

export interface ExpectedPreview {
  dataset: Address;
  request: Address;
  /** The chunk tree root registered on chain. */
  root: Uint8Array;
  /** The number of chunks registered with the root. */
  chunkCount: number;
  /** The chunks the chain drew; each must be in the bundle once, and no other. */
  indices: readonly number[];
  /** The dataset's chunk size, when known (its metadata's): the bundle must say the same. */
  chunkSize?: number;
  /** The plaintext's size, when known (its metadata's): fixes the final chunk's exact length. */
  plaintextBytes?: number;
}

/**
 * Checks a bundle against what the chain says: the dataset and request, the drawn chunks exactly,
 * each chunk's length and its proof up to the registered root. Returns the chunks in the order of
 * `expected.indices`; throws PreviewVerificationError naming what failed (and MalformedPreviewBundleError,
 * one of them, for bytes that are not a bundle).
 */
export function verifyPreviewBundle(bytes: Uint8Array, expected: ExpectedPreview): { chunks: { index: number; bytes: Uint8Array }[] } {
  if (!(expected.root instanceof Uint8Array) || expected.root.length !== SHA256_LEN) {
    throw new ClientError("usage", `the expected chunk tree root must be ${SHA256_LEN} bytes`);
  }
  if (!isCount(expected.chunkCount, 1, MAX_CHUNKS)) throw new ClientError("usage", "the expected chunk count must be a positive integer");
  for (const index of expected.indices) {
    if (!isCount(index, 0, expected.chunkCount - 1)) throw new ClientError("usage", `the drawn chunk ${index} is not one of the ${expected.chunkCount} chunks`);
  }
  const bundle = parsePreviewBundle(bytes);
  const fail = (message: string, chunk?: number): never => {
    throw new PreviewVerificationError(message, chunk);
  };
  if (bundle.dataset !== expected.dataset) fail(`the bundle is for dataset ${bundle.dataset}, not ${expected.dataset}`);
  if (bundle.request !== expected.request) fail(`the bundle answers request ${bundle.request}, not ${expected.request}`);
  if (bundle.chunkCount !== expected.chunkCount) {
    fail(`the bundle says the dataset has ${bundle.chunkCount} chunks, the chain registers ${expected.chunkCount}`);
  }
  if (expected.chunkSize !== undefined && bundle.chunkSize !== expected.chunkSize) {
    fail(`the bundle says chunks are ${bundle.chunkSize} bytes, the dataset's are ${expected.chunkSize}`);
  }

  // Exactly the drawn chunks: the first one served twice, or served instead of a drawn one, is named.
  const drawn = [...new Set(expected.indices)];
  const served = new Set<number>();
  for (const { index } of bundle.chunks) {
    if (served.has(index)) fail(`the bundle holds chunk ${index} twice`, index);
    served.add(index);
  }
  const missing = drawn.filter((i) => !served.has(i));
  const extra = bundle.chunks.map((c) => c.index).filter((i) => !drawn.includes(i));
  if (extra.length > 0) {
    fail(
      missing.length > 0
        ? `the owner served chunk ${extra[0]}, the chain drew chunk ${missing[0]}`
        : `the owner served chunk ${extra[0]}, which the chain did not draw`,
      extra[0],
    );
  }
  if (missing.length > 0) fail(`the bundle lacks chunk ${missing[0]}, which the chain drew`, missing[0]);

  const last = bundle.chunkCount - 1;
  const finalLength = expected.plaintextBytes === undefined ? undefined : expected.plaintextBytes - last * bundle.chunkSize;
  for (const chunk of bundle.chunks) {
    const length = chunk.bytes.length;
    if (chunk.index < last && length !== bundle.chunkSize) {
      fail(`chunk ${chunk.index} is ${length} bytes, but every chunk before the final one is ${bundle.chunkSize}`, chunk.index);
    }
    if (chunk.index === last) {
      if (finalLength !== undefined && length !== finalLength) fail(`the final chunk ${chunk.index} is ${length} bytes, not ${finalLength}`, chunk.index);
      if (length === 0 && last > 0) fail(`the final chunk ${chunk.index} is empty, but only a dataset of one chunk may end in an empty one`, chunk.index);
    }
    if (!verifyChunkProof(expected.root, chunkLeaf(chunk.bytes), chunk.index, expected.chunkCount, chunk.proof)) {
      fail(`chunk ${chunk.index}'s proof does not reach the dataset's chunk tree root`, chunk.index);
    }
  }
  const byIndex = new Map(bundle.chunks.map((c) => [c.index, c.bytes]));
  return { chunks: drawn.map((index) => ({ index, bytes: byIndex.get(index)! })) };
}
