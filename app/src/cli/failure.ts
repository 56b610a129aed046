// Turning any failure into one line and an exit code. User mistakes and refusals never print a
// stack; only an unexpected internal error does, and only with --verbose.
import { isCryptoError } from "../crypto/index.js";
import {
  AccountNotFoundError,
  IndexerBehindError,
  IndexerProtocolError,
  IndexerRequestError,
  IndexerUnavailableError,
  WrongAccountTypeError,
} from "../sdk/index.js";
import { StorageError } from "../storage/index.js";
import {
  AmountFormatError,
  ClientError,
  KeypairFileError,
  MetadataError,
  RpcUnavailableError,
  TransactionFailedError,
  TransactionNotLandedError,
} from "../client/index.js";

/** Exit codes (documented in app/README.md). */
export const EXIT = {
  ok: 0,
  /** An unexpected error (a bug, or an environment problem not recognised below). */
  internal: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  usage: 2,
  /** The cluster or the program refused: a transaction failed, or the chain's state forbids the action. */
  refused: 3,
  /** Data failed verification: wrong key, tampered or truncated content, hash mismatch. */
  verification: 4,
  /** Something to read does not exist: an account, content on IPFS. */
  notFound: 5,
  /**
   * The RPC node, the indexer (--indexer), or an IPFS peer given with --ipfs-peer, could not be
   * reached or answered nonsense; or the indexer did not catch up in time; or the node kept
   * failing (rate limits, errors) after every retry; or a transaction did not land before its
   * blockhash expired, every time it was signed.
   */
  network: 6,
  /** Stopped by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

export interface Failure {
  message: string;
  exitCode: number;
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof Error && error.name === "AbortError") {
    return { message: "interrupted; nothing was left half-written", exitCode: EXIT.interrupted };
  }
  if (error instanceof ClientError) {
    const exitCode = { usage: EXIT.usage, refused: EXIT.refused, verification: EXIT.verification, "not-found": EXIT.notFound }[
      error.kind
    ];
    return { message: error.message, exitCode };
  }
  if (error instanceof TransactionFailedError) {
    const name = error.explanation.name ? ` (${error.explanation.name})` : "";
    return { message: `transaction refused: ${error.explanation.message}${name}`, exitCode: EXIT.refused };
  }
  if (error instanceof IndexerUnavailableError || error instanceof IndexerProtocolError || error instanceof IndexerBehindError) {
    return { message: `${error.message} (without --indexer and DATA_MARKET_INDEXER, the CLI reads the chain directly)`, exitCode: EXIT.network };
  }
  if (error instanceof IndexerRequestError) {
    return { message: error.message, exitCode: error.status === 400 ? EXIT.usage : EXIT.internal };
  }
  if (error instanceof RpcUnavailableError) {
    return { message: `cannot reach the RPC node: ${error.message}`, exitCode: EXIT.network };
  }
  if (error instanceof TransactionNotLandedError) {
    return { message: `transaction not landed: ${error.message}`, exitCode: EXIT.network };
  }
  if (error instanceof AmountFormatError || error instanceof KeypairFileError || error instanceof RangeError) {
    return { message: error.message, exitCode: EXIT.usage };
  }
  if (error instanceof AccountNotFoundError || error instanceof WrongAccountTypeError) {
    return { message: error.message, exitCode: EXIT.notFound };
  }
  if (error instanceof StorageError) {
    const exitCode =
      error.code === "CONTENT_NOT_FOUND" ? EXIT.notFound : error.code === "PEER_UNREACHABLE" ? EXIT.network : EXIT.usage;
    return { message: error.message, exitCode };
  }
  if (error instanceof MetadataError) return { message: error.message, exitCode: EXIT.notFound };
  if (isCryptoError(error)) return { message: error.message, exitCode: EXIT.verification };
  if (isNetworkError(error)) {
    return { message: `cannot reach the RPC node: ${networkDetail(error)}`, exitCode: EXIT.network };
  }
  return { message: error instanceof Error ? error.message : String(error), exitCode: EXIT.internal };
}

function isNetworkError(error: unknown): boolean {
  const text = networkDetail(error);
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|fetch failed|HTTP error/i.test(text);
}

function networkDetail(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(": ");
}
