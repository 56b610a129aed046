// Getting a transaction to land on a busy cluster: the compute-unit limit and the priority fee it
// carries, how long to wait between retries, the errors that end the attempts, and an RPC
// transport that retries rate limits (HTTP 429 and 503, honouring Retry-After), server errors, timeouts and
// dropped connections with exponential backoff. The sending loop itself is in `rpc.ts`.
import { SolanaError, createDefaultRpcTransport, isSolanaError, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, type RpcTransport } from "@solana/kit";

/** The most compute units a transaction may ask for. */
export const MAX_COMPUTE_UNIT_LIMIT = 1_400_000;

/** How the compute-unit limit is derived from a simulation: `consumed * (1 + ratio) + extra`, capped. */
export interface ComputeUnitMargin {
  /** Relative margin over the simulated consumption; 0.1 is +10 %. */
  ratio: number;
  /** Fixed margin added on top, in compute units. */
  extra: number;
}

export const DEFAULT_COMPUTE_UNIT_MARGIN: ComputeUnitMargin = { ratio: 0.1, extra: 1_000 };

/**
 * The limit to set for a transaction that consumed `consumed` units in simulation (simulated with
 * the maximum limit): the consumption plus the margin, rounded up, at most MAX_COMPUTE_UNIT_LIMIT.
 */
export function computeUnitLimitFor(consumed: bigint | number, margin: ComputeUnitMargin = DEFAULT_COMPUTE_UNIT_MARGIN): number {
  const units = Number(consumed);
  if (!Number.isFinite(units) || units < 0) throw new RangeError(`invalid compute units: ${String(consumed)}`);
  const withMargin = Math.ceil(units * (1 + margin.ratio)) + margin.extra;
  return Math.min(MAX_COMPUTE_UNIT_LIMIT, withMargin);
}

/** How the priority fee is picked from `getRecentPrioritizationFees` samples. */
export interface PriorityFeePolicy {
  /** Percentile (0-100) of the recent non-zero fees. */
  percentile: number;
  /** Never pay more than this, in micro-lamports per compute unit. */
  maxMicroLamports: bigint;
}

export const DEFAULT_PRIORITY_FEE_POLICY: PriorityFeePolicy = { percentile: 75, maxMicroLamports: 1_000_000n };

export interface PriorityFeeChoice {
  microLamports: bigint;
  /** How many recent slots reported a fee for the accounts, and how many of those were non-zero. */
  samples: number;
  nonZero: number;
  /** True when the percentile was above the maximum and the maximum was taken. */
  capped: boolean;
}

/**
 * The priority fee for a transaction, from the per-slot fees the node reports for the accounts it
 * writes: the `percentile` (nearest rank) of the non-zero fees, or 0 when every recent slot landed
 * such transactions without a fee; then capped at `maxMicroLamports`. Zeros are left out because a
 * slot's entry is the lowest fee paid in it, and a quiet slot says nothing about a busy one.
 */
export function priorityFeeFor(
  fees: readonly (bigint | number)[],
  policy: PriorityFeePolicy = DEFAULT_PRIORITY_FEE_POLICY,
): PriorityFeeChoice {
  if (!(policy.percentile >= 0 && policy.percentile <= 100)) throw new RangeError(`percentile ${policy.percentile} is not in 0-100`);
  const nonZero = fees.map((f) => BigInt(f)).filter((f) => f > 0n).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let fee = 0n;
  if (nonZero.length > 0) {
    const rank = Math.max(1, Math.ceil((policy.percentile / 100) * nonZero.length));
    fee = nonZero[rank - 1]!;
  }
  const capped = fee > policy.maxMicroLamports;
  return { microLamports: capped ? policy.maxMicroLamports : fee, samples: fees.length, nonZero: nonZero.length, capped };
}

/** Exponential backoff: `baseMs * 2^(attempt-1)`, at most `maxMs`, with up to 20 % jitter. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Attempts in all (the first one included) before giving up. */
  attempts: number;
}

export const DEFAULT_RPC_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 8_000, attempts: 6 };

/** The wait before retry number `attempt` (1 for the first retry); a Retry-After wins when given, within `maxMs`. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(policy.maxMs, Math.max(0, retryAfterMs));
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(exponential * (0.8 + 0.2 * random()));
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from `now`; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The RPC node could not be reached, or kept refusing (rate limit, server errors) after every retry. */
export class RpcUnavailableError extends Error {
  override name = "RpcUnavailableError";

  constructor(
    readonly url: string,
    readonly method: string,
    readonly attempts: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${url} did not answer ${method} after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reason}`, options);
  }
}

/**
 * A transaction that did not land: every blockhash it was signed with expired without it being
 * processed, or it could not be confirmed in time (then it may still land: `signature` tells).
 */
export class TransactionNotLandedError extends Error {
  override name = "TransactionNotLandedError";

  constructor(
    message: string,
    readonly signatures: readonly string[],
    /** False only when every signature is known to be expired and not processed. */
    readonly mayStillLand: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the connection reports while it works, for logs and tests. */
export type LandingEvent =
  | { type: "rpc-retry"; method: string; attempt: number; delayMs: number; reason: string; status?: number }
  | { type: "rebroadcast"; signature: string; attempt: number }
  | { type: "status-lost"; signature: string }
  | { type: "blockhash-expired"; signature: string; lastValidBlockHeight: bigint; blockHeight: bigint }
  | { type: "resign"; previous: string; attempt: number };

/** Counts of the retries one connection made (all of them, since it was created). */
export interface RetryCounts {
  /** RPC requests sent again after a failure (any kind below). */
  rpc: number;
  /** ...of which after HTTP 429. */
  rateLimited: number;
  /** ...of which after a request timed out. */
  timedOut: number;
  /** The same signed transaction sent again while waiting for it. */
  rebroadcasts: number;
  /** Transactions signed again with a new blockhash after the previous one provably expired unprocessed. */
  resigned: number;
}

export function emptyRetryCounts(): RetryCounts {
  return { rpc: 0, rateLimited: 0, timedOut: 0, rebroadcasts: 0, resigned: 0 };
}

export interface RetryingTransportOptions {
  url: string;
  backoff: BackoffPolicy;
  /** Abort and retry a request that has not answered after this long. */
  requestTimeoutMs: number;
  onRetry: (event: Extract<LandingEvent, { type: "rpc-retry" }>) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * kit's HTTP transport, with retries: HTTP 429 (waiting Retry-After when the node sends it), 408
 * and 5xx answers, connection failures and requests that time out are sent again after an
 * exponential backoff; after `backoff.attempts` the request fails with RpcUnavailableError.
 * JSON-RPC error answers (a refused transaction, a missing account) are returned, not retried.
 */
export function createRetryingTransport(options: RetryingTransportOptions): RpcTransport {
  const inner = createDefaultRpcTransport({ url: options.url });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return (async (config: Parameters<RpcTransport>[0]) => {
    const method = methodOf(config.payload);
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(options.requestTimeoutMs);
      const signal = config.signal ? AbortSignal.any([config.signal, timeout]) : timeout;
      let failure: { reason: string; status?: number; retryAfterMs?: number; error: unknown };
      try {
        return await inner({ ...config, signal });
      } catch (error) {
        if (config.signal?.aborted) throw error;
        const classified = classifyTransportError(error, timeout.aborted, options.requestTimeoutMs);
        if (!classified) throw error;
        failure = { ...classified, error };
      }
      if (attempt >= options.backoff.attempts) {
        throw new RpcUnavailableError(options.url, method, attempt, failure.reason, { cause: failure.error });
      }
      const delayMs = backoffDelay(attempt, options.backoff, failure.retryAfterMs);
      options.onRetry({ type: "rpc-retry", method, attempt, delayMs, reason: failure.reason, status: failure.status });
      await sleep(delayMs);
    }
  }) as RpcTransport;
}

function methodOf(payload: unknown): string {
  if (payload && typeof payload === "object" && "method" in payload && typeof payload.method === "string") return payload.method;
  return "request";
}

/** Why a transport call failed, when it is worth trying again; undefined for anything else. */
function classifyTransportError(
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): { reason: string; status?: number; retryAfterMs?: number } | undefined {
  if (timedOut) return { reason: `no answer in ${timeoutMs} ms` };
  if (isSolanaError(error, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR)) {
    const { statusCode, headers } = (error as SolanaError<typeof SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR>).context;
    if (statusCode === 429) {
      return { reason: "HTTP 429 Too Many Requests", status: 429, retryAfterMs: parseRetryAfter(headers?.get("retry-after")) };
    }
    if (statusCode === 503) return { reason: "HTTP 503", status: 503, retryAfterMs: parseRetryAfter(headers?.get("retry-after")) };
    if (statusCode === 408 || statusCode >= 500) return { reason: `HTTP ${statusCode}`, status: statusCode };
    return undefined;
  }
  const text = errorChain(error);
  if (/ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|UND_ERR|socket|fetch failed|other side closed/i.test(text)) {
    return { reason: text };
  }
  return undefined;
}

function errorChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(`${current.message}${"code" in current && typeof current.code === "string" ? ` (${current.code})` : ""}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(": ");
}
