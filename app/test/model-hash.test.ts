// A model's sha256 as the CLI (node:crypto) and the web dapp (@noble/hashes) compute it: the same
// streaming loop over either backend, whatever the piece sizes.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";

import { modelHashFromHex, sha256Utf8 } from "../src/client/index.js";
import { sha256Stream, toHex, web } from "../src/crypto/index.js";

async function* pieces(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

test("sha256Stream: node and web backends agree with createHash, and report the bytes read", async () => {
  const data = new Uint8Array(randomBytes(1_000_003));
  const expected = createHash("sha256").update(data).digest("hex");
  const seen: number[] = [];
  assert.equal(toHex(await sha256Stream(pieces(data, [65_536, 1, 4_093]), (done) => seen.push(done))), expected);
  assert.equal(toHex(await web.sha256Stream(pieces(data, [1_048_576]))), expected);
  assert.equal(seen.at(-1), data.length);
  assert.ok(seen.every((n, i) => i === 0 || n > seen[i - 1]!));
  assert.equal(toHex(await web.sha256Stream(pieces(new Uint8Array(0), [1]))), createHash("sha256").digest("hex"));
});

test("a pasted model hash is 64 hex characters; review texts hash as UTF-8", () => {
  assert.equal(modelHashFromHex(" " + "Ab".repeat(32) + " ")?.length, 32);
  assert.equal(modelHashFromHex("ab".repeat(31)), null);
  assert.equal(modelHashFromHex("zz".repeat(32)), null);
  assert.equal(toHex(sha256Utf8("é")), createHash("sha256").update("é", "utf8").digest("hex"));
});
