/**
 * The client's preview draw and SlotHashes reader against the program's (domain/preview.rs): the
 * same test vector, distinct in-range indices, and the sysvar layout read newest first.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { drawPreviewChunks, findSlotHash } from "../src/sdk/index.js";

describe("drawPreviewChunks", () => {
  test("matches the program's test vector", () => {
    assert.deepEqual(drawPreviewChunks(new Uint8Array(32).fill(7), new Uint8Array(32).fill(9), 1024, 4), [346, 205, 797, 263]);
  });

  test("draws k distinct chunks in range, even when k is the whole dataset", () => {
    for (let seed = 0; seed < 200; seed += 1) {
      const count = 1 + (seed % 17);
      const k = Math.min(8, count);
      const drawn = drawPreviewChunks(new Uint8Array(32).fill(seed), new Uint8Array(32).fill(255 - seed), count, k);
      assert.equal(drawn.length, k);
      assert.equal(new Set(drawn).size, k);
      for (const index of drawn) assert.ok(index >= 0 && index < count);
    }
  });

  test("depends on the slot hash and on the request", () => {
    const base = drawPreviewChunks(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), 1 << 20, 8);
    assert.notDeepEqual(drawPreviewChunks(new Uint8Array(32).fill(3), new Uint8Array(32).fill(2), 1 << 20, 8), base);
    assert.notDeepEqual(drawPreviewChunks(new Uint8Array(32).fill(1), new Uint8Array(32).fill(4), 1 << 20, 8), base);
  });

  test("refuses sizes the program refuses", () => {
    assert.throws(() => drawPreviewChunks(new Uint8Array(32), new Uint8Array(32), 10, 0), RangeError);
    assert.throws(() => drawPreviewChunks(new Uint8Array(32), new Uint8Array(32), 100, 9), RangeError);
    assert.throws(() => drawPreviewChunks(new Uint8Array(32), new Uint8Array(32), 3, 4), RangeError);
    assert.throws(() => drawPreviewChunks(new Uint8Array(31), new Uint8Array(32), 100, 1), RangeError);
  });
});

describe("findSlotHash", () => {
  function sysvar(slots: number[]): Uint8Array {
    const data = new Uint8Array(8 + slots.length * 40);
    const view = new DataView(data.buffer);
    view.setBigUint64(0, BigInt(slots.length), true);
    slots.forEach((slot, i) => {
      view.setBigUint64(8 + i * 40, BigInt(slot), true);
      data.fill(slot % 256, 8 + i * 40 + 8, 8 + i * 40 + 40);
    });
    return data;
  }

  test("finds every slot present, newest first, and no other", () => {
    const slots = [900, 899, 897, 850, 700, 12];
    const data = sysvar(slots);
    for (const slot of slots) assert.deepEqual(findSlotHash(data, BigInt(slot)), new Uint8Array(32).fill(slot % 256));
    for (const slot of [0, 13, 898, 901, 5000]) assert.equal(findSlotHash(data, BigInt(slot)), null);
  });

  test("a truncated sysvar finds nothing", () => {
    assert.equal(findSlotHash(sysvar([5, 4]).subarray(0, 50), 4n), null);
    assert.equal(findSlotHash(new Uint8Array(4), 4n), null);
  });
});
