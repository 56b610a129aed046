// Preview bundles: an owner's honest answer passes, and every way a bundle can fail to prove the
// drawn chunks is refused with the chunk at fault named; bytes that are not a bundle are refused
// before anything is trusted.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { address, type Address } from "@solana/kit";

import {
  ClientError,
  MalformedPreviewBundleError,
  PREVIEW_BUNDLE_MAGIC,
  PREVIEW_FORMAT,
  PreviewVerificationError,
  buildPreviewBundle,
  encodePreviewBundle,
  parsePreviewBundle,
  verifyPreviewBundle,
  type ExpectedPreview,
  type PreviewBundle,
} from "../src/client/index.js";
import { chunkLeaf, chunkTreeProof, chunkTreeRoot, toHex } from "../src/crypto/index.js";
import { random } from "./helpers.js";

const DATASET = address("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const REQUEST = address("ComputeBudget111111111111111111111111111111");
const OTHER = address("SysvarRent111111111111111111111111111111111");
const CHUNK_SIZE = 64;

/** A dataset cut as FORMAT.md says: 10 chunks, the final one 21 bytes. */
function dataset(sizes: number[] = [...Array(9).fill(CHUNK_SIZE), 21]) {
  const chunks = sizes.map((size) => random(size));
  const leaves = chunks.map(chunkLeaf);
  return { chunks, leaves, root: chunkTreeRoot(leaves), plaintextBytes: sizes.reduce((a, b) => a + b, 0) };
}

type Dataset = ReturnType<typeof dataset>;

function bundle(d: Dataset, indices: number[], overrides: { dataset?: Address; request?: Address } = {}): Uint8Array {
  return buildPreviewBundle({
    dataset: overrides.dataset ?? DATASET,
    request: overrides.request ?? REQUEST,
    chunkSize: CHUNK_SIZE,
    leaves: d.leaves,
    chunks: indices.map((index) => ({ index, bytes: d.chunks[index]! })),
  });
}

function expected(d: Dataset, indices: number[], more: Partial<ExpectedPreview> = {}): ExpectedPreview {
  return { dataset: DATASET, request: REQUEST, root: d.root, chunkCount: d.leaves.length, indices, ...more };
}

/** A bundle written by hand (any content an owner could send), from the honest parts of `d`. */
function handmade(d: Dataset, chunks: { index: number; bytes?: Uint8Array; proof?: Uint8Array[] }[], chunkSize = CHUNK_SIZE): Uint8Array {
  const value: PreviewBundle = {
    dataset: DATASET,
    request: REQUEST,
    chunkSize,
    chunkCount: d.leaves.length,
    chunks: chunks.map((c) => ({ index: c.index, bytes: c.bytes ?? d.chunks[c.index]!, proof: c.proof ?? chunkTreeProof(d.leaves, c.index) })),
  };
  return encodePreviewBundle(value);
}

function refused(bytes: Uint8Array, expect: ExpectedPreview, message: RegExp, chunk?: number): void {
  assert.throws(
    () => verifyPreviewBundle(bytes, expect),
    (error: unknown) => {
      assert.ok(error instanceof PreviewVerificationError, `expected PreviewVerificationError, got ${String(error)}`);
      assert.ok(!(error instanceof MalformedPreviewBundleError), `a well-formed bundle, refused as malformed: ${error.message}`);
      assert.equal(error.kind, "verification");
      assert.match(error.message, message);
      assert.equal(error.chunk, chunk);
      return true;
    },
  );
}

function malformed(bytes: Uint8Array, message: RegExp): void {
  for (const run of [() => parsePreviewBundle(bytes), () => verifyPreviewBundle(bytes, expected(dataset(), [0]))]) {
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof MalformedPreviewBundleError, `expected MalformedPreviewBundleError, got ${String(error)}`);
      assert.ok(error instanceof PreviewVerificationError);
      assert.match(error.message, message);
      return true;
    });
  }
}

/** The bundle's prefix and header around `header` (a JSON value), then `body`. */
function withHeader(header: unknown, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  return rawBundle(json, body);
}

function rawBundle(headerBytes: Uint8Array, body: Uint8Array, claimedLength = headerBytes.length): Uint8Array {
  const out = new Uint8Array(PREVIEW_BUNDLE_MAGIC.length + 4 + headerBytes.length + body.length);
  out.set(PREVIEW_BUNDLE_MAGIC);
  new DataView(out.buffer).setUint32(PREVIEW_BUNDLE_MAGIC.length, claimedLength, false);
  out.set(headerBytes, PREVIEW_BUNDLE_MAGIC.length + 4);
  out.set(body, PREVIEW_BUNDLE_MAGIC.length + 4 + headerBytes.length);
  return out;
}

describe("preview bundles", () => {
  test("the honest bundle passes: the drawn chunks' plaintext, in the order the chain drew them", () => {
    const d = dataset();
    const bytes = bundle(d, [9, 3, 0]);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 6)), "DMPV1\n");
    const { chunks } = verifyPreviewBundle(bytes, expected(d, [3, 9, 0], { chunkSize: CHUNK_SIZE, plaintextBytes: d.plaintextBytes }));
    assert.deepEqual(chunks.map((c) => c.index), [3, 9, 0]);
    for (const c of chunks) assert.deepEqual(c.bytes, d.chunks[c.index]);
    // A chain that drew one chunk twice is answered with it once.
    assert.deepEqual(verifyPreviewBundle(bundle(d, [4]), expected(d, [4, 4])).chunks.map((c) => c.index), [4]);
  });

  test("a dataset of one chunk, an empty one, previews too", () => {
    const d = dataset([0]);
    const { chunks } = verifyPreviewBundle(bundle(d, [0]), expected(d, [0], { plaintextBytes: 0 }));
    assert.deepEqual(chunks, [{ index: 0, bytes: new Uint8Array(0) }]);
  });

  test("parse reads back what encode wrote, header as FORMAT.md lists it", () => {
    const d = dataset();
    const bytes = bundle(d, [2, 9]);
    const parsed = parsePreviewBundle(bytes);
    assert.deepEqual(parsed, {
      dataset: DATASET,
      request: REQUEST,
      chunkSize: CHUNK_SIZE,
      chunkCount: 10,
      chunks: [2, 9].map((index) => ({ index, bytes: d.chunks[index], proof: chunkTreeProof(d.leaves, index) })),
    });
    assert.deepEqual(encodePreviewBundle(parsed), bytes);
    const headerLength = new DataView(bytes.buffer).getUint32(6, false);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(10, 10 + headerLength)));
    assert.deepEqual(Object.keys(header), ["format", "dataset", "request", "chunkSize", "chunkCount", "chunks"]);
    assert.equal(header.format, PREVIEW_FORMAT);
    assert.deepEqual(header.chunks[1], { index: 9, length: 21, proof: chunkTreeProof(d.leaves, 9).map((p) => toHex(p)) });
  });

  test("another dataset, another request or another chunk count is refused", () => {
    const d = dataset();
    refused(bundle(d, [1], { dataset: OTHER }), expected(d, [1]), new RegExp(`for dataset ${OTHER}, not ${DATASET}`));
    refused(bundle(d, [1], { request: OTHER }), expected(d, [1]), new RegExp(`answers request ${OTHER}, not ${REQUEST}`));
    refused(bundle(d, [1]), expected(d, [1], { chunkCount: 11 }), /has 10 chunks, the chain registers 11/);
    refused(bundle(d, [1]), expected(d, [1], { chunkSize: 128 }), /chunks are 64 bytes, the dataset's are 128/);
  });

  test("the chunks must be exactly the drawn ones: none missing, none extra, none twice, none in place of another", () => {
    const d = dataset();
    refused(bundle(d, [3, 0]), expected(d, [3, 0, 9]), /the bundle lacks chunk 9, which the chain drew/, 9);
    refused(bundle(d, [3, 0, 9, 5]), expected(d, [3, 0, 9]), /the owner served chunk 5, which the chain did not draw/, 5);
    refused(handmade(d, [{ index: 3 }, { index: 0 }, { index: 3 }]), expected(d, [3, 0]), /the bundle holds chunk 3 twice/, 3);
    refused(bundle(d, [7]), expected(d, [3]), /the owner served chunk 7, the chain drew chunk 3/, 7);
    refused(bundle(d, []), expected(d, [3]), /lacks chunk 3/, 3);
  });

  test("a chunk whose proof does not reach the root is refused: changed plaintext, changed sibling, cut proof, another root", () => {
    const d = dataset();
    const changed = Uint8Array.from(d.chunks[4]!);
    changed[10]! ^= 0x01;
    refused(handmade(d, [{ index: 2 }, { index: 4, bytes: changed }]), expected(d, [2, 4]), /chunk 4's proof does not reach the dataset's chunk tree root/, 4);
    const proof = chunkTreeProof(d.leaves, 4);
    const sibling = proof.map((p, i) => (i === 1 ? Uint8Array.from(p, (b, j) => (j === 0 ? b ^ 0x80 : b)) : p));
    refused(handmade(d, [{ index: 4, proof: sibling }]), expected(d, [4]), /chunk 4's proof does not reach/, 4);
    refused(handmade(d, [{ index: 4, proof: proof.slice(0, -1) }]), expected(d, [4]), /chunk 4's proof does not reach/, 4);
    refused(handmade(d, [{ index: 4, proof: chunkTreeProof(d.leaves, 5) }]), expected(d, [4]), /chunk 4's proof does not reach/, 4);
    refused(bundle(d, [4]), expected(d, [4], { root: dataset().root }), /chunk 4's proof does not reach/, 4);
    // Another dataset's chunk, with its valid proof in that dataset's tree.
    const other = dataset();
    refused(handmade(d, [{ index: 4, bytes: other.chunks[4], proof: chunkTreeProof(other.leaves, 4) }]), expected(d, [4]), /chunk 4's proof/, 4);
  });

  test("a proven chunk of the wrong length is refused: a short chunk before the final one, a final one of another size", () => {
    // A tree the owner computed over a plaintext cut at the wrong places: the proofs hold, the lengths do not.
    const miscut = dataset([64, 50, 64, 10]);
    refused(bundle(miscut, [1]), expected(miscut, [1]), /chunk 1 is 50 bytes, but every chunk before the final one is 64/, 1);
    const d = dataset();
    refused(bundle(d, [9]), expected(d, [9], { plaintextBytes: d.plaintextBytes + 2 }), /the final chunk 9 is 21 bytes, not 23/, 9);
    const emptyEnd = dataset([64, 64, 0]);
    refused(bundle(emptyEnd, [2]), expected(emptyEnd, [2]), /the final chunk 2 is empty/, 2);
  });

  test("bytes that are not a bundle are refused as malformed", () => {
    const d = dataset();
    const good = bundle(d, [1, 9]);
    const header = JSON.parse(new TextDecoder().decode(good.subarray(10, 10 + new DataView(good.buffer).getUint32(6, false))));
    const body = good.subarray(10 + new DataView(good.buffer).getUint32(6, false));
    const edit = (change: (h: Record<string, any>) => void) => {
      const copy = structuredClone(header);
      change(copy);
      return withHeader(copy, body);
    };

    malformed(new Uint8Array(0), /does not start with DMPV1/);
    malformed(Uint8Array.from(good, (b, i) => (i === 0 ? b ^ 0x20 : b)), /does not start with DMPV1/);
    malformed(good.subarray(0, 8), /does not start with DMPV1/);
    malformed(rawBundle(new TextEncoder().encode("{}"), new Uint8Array(0), 1000), /header claims 1000 bytes, the bundle has 2 left/);
    malformed(withHeader("{not json"), /not UTF-8 JSON/);
    malformed(rawBundle(Uint8Array.of(0x22, 0xff, 0x22), new Uint8Array(0)), /not UTF-8 JSON/);
    malformed(withHeader([1, 2]), /not a JSON object/);
    malformed(edit((h) => (h.format = "data-market/preview/v2")), /format is not data-market\/preview\/v1/);
    malformed(edit((h) => (h.dataset = "not-an-address")), /its dataset is not an address/);
    malformed(edit((h) => delete h.request), /its request is not an address/);
    malformed(edit((h) => (h.chunkSize = 63)), /chunk size is not an integer/);
    malformed(edit((h) => (h.chunkCount = 0)), /chunk count is not a positive integer/);
    malformed(edit((h) => (h.chunks = {})), /no chunk list/);
    malformed(edit((h) => (h.chunkCount = 1)), /lists 2 chunks of a dataset of 1/);
    malformed(edit((h) => (h.chunks[0] = 7)), /entry 0 of its chunk list is not an object/);
    malformed(edit((h) => (h.chunks[1].index = 10)), /entry 1 of its chunk list has no index below 10/);
    malformed(edit((h) => (h.chunks[1].index = -1)), /entry 1 of its chunk list has no index/);
    malformed(edit((h) => (h.chunks[0].length = 65)), /chunk 1's length is not an integer in \[0, 64\]/);
    malformed(edit((h) => (h.chunks[0].length = 1.5)), /chunk 1's length/);
    malformed(edit((h) => (h.chunks[0].proof[0] = h.chunks[0].proof[0].toUpperCase())), /chunk 1's proof is not a list/);
    malformed(edit((h) => (h.chunks[0].proof = "00")), /chunk 1's proof is not a list/);
    malformed(edit((h) => (h.chunks[0].proof = Array(33).fill("00".repeat(32)))), /at most 32 hashes/);
    malformed(withHeader(header, body.subarray(0, body.length - 1)), /chunk 9 runs past the end of the bundle/);
    malformed(withHeader(header, Uint8Array.from([...body, 0])), /1 bytes follow the last chunk/);
  });

  test("an owner cannot build a bundle of bytes that are not the chunk, or of a chunk twice or out of range", () => {
    const d = dataset();
    const build = (chunks: { index: number; bytes: Uint8Array }[]) => () =>
      buildPreviewBundle({ dataset: DATASET, request: REQUEST, chunkSize: CHUNK_SIZE, leaves: d.leaves, chunks });
    const usage = (pattern: RegExp) => (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.kind, "usage");
      assert.match(error.message, pattern);
      return true;
    };
    assert.throws(build([{ index: 2, bytes: d.chunks[3]! }]), usage(/the bytes given for chunk 2 are not the dataset's chunk 2/));
    assert.throws(build([{ index: 2, bytes: d.chunks[2]! }, { index: 2, bytes: d.chunks[2]! }]), usage(/chunk 2 is given twice/));
    assert.throws(build([{ index: 10, bytes: d.chunks[2]! }]), usage(/chunk 10 is not one of the dataset's 10 chunks/));
  });

  test("the caller's expectations are checked too", () => {
    const d = dataset();
    const bytes = bundle(d, [1]);
    assert.throws(() => verifyPreviewBundle(bytes, expected(d, [1], { root: new Uint8Array(31) })), /root must be 32 bytes/);
    assert.throws(() => verifyPreviewBundle(bytes, expected(d, [10])), /the drawn chunk 10 is not one of the 10 chunks/);
    assert.throws(() => verifyPreviewBundle(bytes, expected(d, [1], { chunkCount: 0 })), /chunk count must be a positive integer/);
  });
});
