import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { distribution, percentile } from "../src/bench/stats.js";

describe("benchmark statistics", () => {
  test("nearest rank on 1..100 is the rank itself, whatever the input order", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(samples, 0.5), 50);
    assert.equal(percentile(samples, 0.95), 95);
    assert.equal(percentile(samples, 0.99), 99);
    assert.equal(percentile(samples, 1), 100);
  });

  test("nearest rank rounds the rank up: p95 of 10 samples is the 10th, p50 the 5th", () => {
    const samples = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    assert.equal(percentile(samples, 0.5), 3);
    assert.equal(percentile(samples, 0.95), 9);
    assert.equal(percentile([7], 0.01), 7);
  });

  test("no samples or a percentile outside (0, 1] is refused", () => {
    assert.throws(() => percentile([], 0.5), RangeError);
    assert.throws(() => percentile([1], 0), RangeError);
    assert.throws(() => percentile([1], 1.5), RangeError);
  });

  test("a distribution carries the count and the maximum, and is null when empty", () => {
    assert.deepEqual(distribution([-20, 10, 30, 20]), { count: 4, p50: 10, p95: 30, p99: 30, max: 30 });
    assert.equal(distribution([]), null);
  });
});
