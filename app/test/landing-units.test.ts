// The arithmetic of landing: the compute-unit limit from a simulation, the priority fee from recent
// fees, the backoff and Retry-After; the retrying transport against a local HTTP server that
// answers 429 and 5xx; and the exit code of the errors that end the retries.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";

import {
  MAX_COMPUTE_UNIT_LIMIT,
  RpcUnavailableError,
  TransactionNotLandedError,
  backoffDelay,
  computeUnitLimitFor,
  createRetryingTransport,
  parseRetryAfter,
  priorityFeeFor,
  type LandingEvent,
} from "../src/client/index.js";
import { EXIT, describeFailure } from "../src/cli/failure.js";

describe("compute-unit limit", () => {
  test("simulated units + 10 % + 1000, rounded up", () => {
    assert.equal(computeUnitLimitFor(54_862n), 61_349);
    assert.equal(computeUnitLimitFor(10_000), 12_000);
    assert.equal(computeUnitLimitFor(1), 1_002);
    assert.equal(computeUnitLimitFor(0), 1_000);
  });

  test("capped at 1,400,000", () => {
    assert.equal(computeUnitLimitFor(1_270_000), 1_398_000);
    assert.equal(computeUnitLimitFor(1_271_819), MAX_COMPUTE_UNIT_LIMIT);
    assert.equal(computeUnitLimitFor(1_271_000), 1_399_100);
    assert.equal(computeUnitLimitFor(5_000_000n), MAX_COMPUTE_UNIT_LIMIT);
  });

  test("another margin", () => {
    assert.equal(computeUnitLimitFor(100_000, { ratio: 0.25, extra: 0 }), 125_000);
    assert.throws(() => computeUnitLimitFor(-1), RangeError);
  });
});

describe("priority fee", () => {
  test("the 75th percentile (nearest rank) of the non-zero fees", () => {
    const choice = priorityFeeFor([0n, 400n, 0n, 100n, 300n, 200n]);
    assert.deepEqual(choice, { microLamports: 300n, samples: 6, nonZero: 4, capped: false });
    assert.equal(priorityFeeFor([5_000]).microLamports, 5_000n);
    assert.equal(priorityFeeFor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).microLamports, 8n);
  });

  test("0 when there are no fees, or only zeros", () => {
    assert.deepEqual(priorityFeeFor([]), { microLamports: 0n, samples: 0, nonZero: 0, capped: false });
    assert.deepEqual(priorityFeeFor([0n, 0n, 0n]), { microLamports: 0n, samples: 3, nonZero: 0, capped: false });
  });

  test("capped at the maximum", () => {
    const choice = priorityFeeFor([10n, 2_000_000n, 3_000_000n, 4_000_000n], { percentile: 75, maxMicroLamports: 1_000_000n });
    assert.deepEqual(choice, { microLamports: 1_000_000n, samples: 4, nonZero: 4, capped: true });
    assert.equal(priorityFeeFor([999n], { percentile: 75, maxMicroLamports: 999n }).capped, false);
  });

  test("other percentiles", () => {
    const fees = [10n, 20n, 30n, 40n];
    assert.equal(priorityFeeFor(fees, { percentile: 0, maxMicroLamports: 100n }).microLamports, 10n);
    assert.equal(priorityFeeFor(fees, { percentile: 50, maxMicroLamports: 100n }).microLamports, 20n);
    assert.equal(priorityFeeFor(fees, { percentile: 100, maxMicroLamports: 100n }).microLamports, 40n);
    assert.throws(() => priorityFeeFor(fees, { percentile: 101, maxMicroLamports: 100n }), RangeError);
  });
});

describe("backoff", () => {
  const policy = { baseMs: 250, maxMs: 8_000, attempts: 6 };

  test("doubles from the base up to the maximum, with at most 20 % taken off", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, policy, undefined, () => 1)), [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000]);
    assert.deepEqual([1, 2, 6].map((a) => backoffDelay(a, policy, undefined, () => 0)), [200, 400, 6_400]);
  });

  test("Retry-After wins, within the maximum", () => {
    assert.equal(backoffDelay(1, policy, 3_000), 3_000);
    assert.equal(backoffDelay(1, policy, 60_000), 8_000);
  });

  test("Retry-After in seconds or as a date", () => {
    assert.equal(parseRetryAfter("2"), 2_000);
    assert.equal(parseRetryAfter(" 0.5 "), 500);
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now), 3_000);
    assert.equal(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon"), undefined);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter(""), undefined);
  });
});

/** A JSON-RPC endpoint on 127.0.0.1 whose answers are scripted: a status code per request, then 200. */
async function scriptedServer(statuses: number[], headers: Record<string, string> = {}): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const status = statuses[requests] ?? 200;
      requests += 1;
      const { id } = JSON.parse(body) as { id: unknown };
      if (status === 200) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ jsonrpc: "2.0", id, result: 42 }));
      } else if (status === -1) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32602, message: "invalid params" } }));
      } else {
        response.writeHead(status, headers);
        response.end("no");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("retrying transport", () => {
  const payload = { jsonrpc: "2.0", id: 1, method: "getSlot", params: [] };
  const fast = { baseMs: 10, maxMs: 50, attempts: 4 };

  test("429 and 503 are retried; Retry-After sets the wait", async () => {
    const server = await scriptedServer([429, 503], { "retry-after": "0.02" });
    try {
      const events: LandingEvent[] = [];
      const transport = createRetryingTransport({ url: server.url, backoff: fast, requestTimeoutMs: 2_000, onRetry: (e) => events.push(e) });
      const answer = (await transport({ payload })) as { result: bigint };
      assert.equal(answer.result, 42n);
      assert.equal(server.requests(), 3);
      assert.deepEqual(
        events.map((e) => (e.type === "rpc-retry" ? [e.method, e.status, e.delayMs] : null)),
        [["getSlot", 429, 20], ["getSlot", 503, 20]],
      );
    } finally {
      await server.close();
    }
  });

  test("after the last attempt: RpcUnavailableError, which the CLI exits 6 with", async () => {
    const server = await scriptedServer([429, 429, 429, 429, 429]);
    try {
      const transport = createRetryingTransport({ url: server.url, backoff: fast, requestTimeoutMs: 2_000, onRetry: () => {} });
      const error = await transport({ payload }).then(
        () => assert.fail("expected a failure"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof RpcUnavailableError);
      assert.equal(error.attempts, 4);
      assert.match(error.message, /did not answer getSlot after 4 attempts: HTTP 429 Too Many Requests$/);
      assert.equal(server.requests(), 4);
      assert.equal(describeFailure(error).exitCode, EXIT.network);
    } finally {
      await server.close();
    }
  });

  test("client errors and JSON-RPC errors are not retried", async () => {
    const server = await scriptedServer([400, -1]);
    try {
      const transport = createRetryingTransport({ url: server.url, backoff: fast, requestTimeoutMs: 2_000, onRetry: () => assert.fail("no retry") });
      await assert.rejects(transport({ payload }));
      const answer = (await transport({ payload })) as { error?: { code: bigint } };
      assert.equal(answer.error?.code, -32602n);
      assert.equal(server.requests(), 2);
    } finally {
      await server.close();
    }
  });

  test("an unreachable node is retried, then RpcUnavailableError", async () => {
    const server = await scriptedServer([]);
    await server.close();
    let retries = 0;
    const transport = createRetryingTransport({ url: server.url, backoff: fast, requestTimeoutMs: 2_000, onRetry: () => (retries += 1) });
    await assert.rejects(transport({ payload }), (e: unknown) => e instanceof RpcUnavailableError && /ECONNREFUSED/.test(e.message));
    assert.equal(retries, 3);
  });

  test("a transaction that did not land exits 6 too", () => {
    const failure = describeFailure(new TransactionNotLandedError("expired 3 times", ["sig"], false));
    assert.deepEqual(failure, { message: "transaction not landed: expired 3 times", exitCode: EXIT.network });
  });
});
