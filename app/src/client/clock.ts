// Waiting for the cluster's clock: the program checks its windows against the Clock sysvar, not the
// local wall clock. An embedded SVM moves its clock forward; a real cluster is waited for.
import type { MarketConnection } from "./connection.js";
import { ClientError } from "./errors.js";

export interface WaitForClusterTimeOptions {
  /** Give up after this long (real time); a cluster's clock follows wall time, roughly. */
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

/** Returns once the cluster's clock has passed `unixTime` (seconds). */
export async function waitForClusterTime(
  connection: MarketConnection,
  unixTime: bigint,
  options: WaitForClusterTimeOptions = {},
): Promise<void> {
  const now = await connection.now();
  if (now > unixTime) return;
  if (connection.canAdvanceTime) {
    await connection.advanceTime(unixTime - now + 1n);
    return;
  }
  const timeoutMs = options.timeoutMs ?? (Number(unixTime - now) + 60) * 1000;
  const pollMs = options.pollMs ?? 500;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    if ((await connection.now()) > unixTime) return;
    if (Date.now() > deadline) {
      throw new ClientError(
        "refused",
        `the cluster's clock did not reach ${new Date(Number(unixTime) * 1000).toISOString()} within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
