// Which chunks a preview reveals, computed exactly as the program does (domain/preview.rs), so the
// owner's daemon knows what to publish before it answers and the buyer can check the answer: the
// seed is sha256(domain ‖ hash of the request's slot ‖ request address), chunk i is
// u64le(sha256(seed ‖ u32le(i))[..8]) mod chunk_count, moved to the next free index on a repeat.
import { sha256 } from "@noble/hashes/sha2.js";
import { getAddressEncoder, type Address, type ReadonlyUint8Array } from "@solana/kit";

import { MAX_PREVIEW_CHUNKS, PREVIEW_DRAW_DOMAIN } from "./constants.js";

const text = new TextEncoder();

export function drawPreviewChunks(slotHash: ReadonlyUint8Array, request: Address | ReadonlyUint8Array, chunkCount: number, k: number): number[] {
  if (slotHash.length !== 32) throw new RangeError(`slotHash must be 32 bytes, got ${slotHash.length}`);
  if (!Number.isInteger(k) || k < 1 || k > MAX_PREVIEW_CHUNKS || k > chunkCount) {
    throw new RangeError(`a preview draws 1 to ${MAX_PREVIEW_CHUNKS} of the ${chunkCount} chunks, not ${k}`);
  }
  const requestBytes = typeof request === "string" ? getAddressEncoder().encode(request) : request;
  const seed = sha256(concat(text.encode(PREVIEW_DRAW_DOMAIN), slotHash, requestBytes));
  const drawn: number[] = [];
  for (let i = 0; i < k; i += 1) {
    const counter = new Uint8Array(4);
    new DataView(counter.buffer).setUint32(0, i, true);
    const hash = sha256(concat(seed, counter));
    let index = Number(new DataView(hash.buffer, hash.byteOffset, 8).getBigUint64(0, true) % BigInt(chunkCount));
    while (drawn.includes(index)) index = (index + 1) % chunkCount;
    drawn.push(index);
  }
  return drawn;
}

/**
 * The hash the SlotHashes sysvar holds for `slot` (its data: u64 LE count, then 40-byte entries of
 * slot u64 LE and hash, newest first), or null when the slot is not (or no longer) in it.
 */
export function findSlotHash(sysvarData: ReadonlyUint8Array, slot: bigint): Uint8Array | null {
  if (sysvarData.length < 8) return null;
  const view = new DataView(sysvarData.buffer, sysvarData.byteOffset, sysvarData.byteLength);
  const count = Number(view.getBigUint64(0, true));
  if ((sysvarData.length - 8) / 40 < count) return null;
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const found = view.getBigUint64(8 + mid * 40, true);
    if (found === slot) return Uint8Array.from(sysvarData.subarray(8 + mid * 40 + 8, 8 + mid * 40 + 40));
    if (found > slot) low = mid + 1;
    else high = mid;
  }
  return null;
}

function concat(...parts: ReadonlyUint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
