// One plain sentence for each failure a buyer can meet; never a stack trace. The client layer's
// typed errors carry what is needed (PriceAboveMaxError has the new price, TransactionFailedError
// the program's error name, RpcUnavailableError the node).
import {
  ClientError,
  ListingInputError,
  PriceAboveMaxError,
  RpcUnavailableError,
  TransactionFailedError,
  TransactionNotLandedError,
} from "../../src/client/universal.js";
import { IndexerUnavailableError, isIndexerError } from "../../src/sdk/index.js";
import { IpfsApiError } from "../../src/storage/kubo-http.js";
import {
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_RENT,
  isSolanaError,
} from "@solana/kit";

export type FailureKind =
  | "rejected"
  | "price-changed"
  | "insufficient-funds"
  | "rpc-unreachable"
  | "not-deployed"
  | "not-landed"
  | "refused"
  | "unknown"
  | "ipfs"
  | "invalid-input";

export interface Failure {
  kind: FailureKind;
  message: string;
}

/** Wallets report a refusal by the person with EIP-1193's 4001 or a message saying so. */
export function isWalletRejection(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 4001) return true;
    const message = e instanceof Error ? e.message : typeof e === "string" ? e : "";
    if (/\b(user )?(rejected|declined|denied|cancell?ed)\b/i.test(message)) return true;
  }
  return false;
}

function messagesOf(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) parts.push(e.message);
    if (e instanceof TransactionFailedError) parts.push(...e.logs);
  }
  return parts.join("\n");
}

export function explainForPeople(
  error: unknown,
  context: { rpcUrl?: string; formatPrice?: (amount: bigint) => string; action?: "buy" | "publish" } = {},
): Failure {
  const price = context.formatPrice ?? ((amount: bigint) => `${amount} base units`);
  if (isWalletRejection(error) && context.action === "publish") return { kind: "rejected", message: "You declined the request in your wallet. Nothing was registered and nothing was charged." };
  if (isWalletRejection(error)) return { kind: "rejected", message: "You declined the request in your wallet. Nothing was sent and nothing was charged." };
  const publishing = explainPublishing(error);
  if (publishing) return publishing;
  if (error instanceof PriceAboveMaxError) {
    return {
      kind: "price-changed",
      message: `The price changed: it is now ${price(error.price)}, above the ${price(error.maxPrice)} you agreed to. Nothing was charged. Check the new price and buy again if it suits you.`,
    };
  }
  const text = messagesOf(error);
  if (
    (error instanceof TransactionFailedError && /InsufficientFunds|insufficient funds|insufficient lamports/i.test(text)) ||
    /no record of a prior credit|insufficient funds for fee|InsufficientFundsForFee|insufficient lamports/i.test(text) ||
    lacksSol(error)
  ) {
    if (context.action === "publish") return { kind: "insufficient-funds", message: PUBLISH_NEEDS_SOL };
    return {
      kind: "insufficient-funds",
      message: "Your wallet does not hold enough: the purchase needs the price in the dataset's payment token plus a little SOL for the network fee and the licence account's rent.",
    };
  }
  if (error instanceof RpcUnavailableError || (error instanceof TypeError && /fetch|network/i.test(error.message))) {
    return { kind: "rpc-unreachable", message: `The RPC node ${context.rpcUrl ?? ""} cannot be reached. Check your connection, or the RPC URL in the settings.`.replace("  ", " ") };
  }
  if (error instanceof IndexerUnavailableError || isIndexerError(error)) {
    return { kind: "rpc-unreachable", message: `The indexer did not answer (${error instanceof Error ? error.message : "unknown"}). Clear its URL in the settings to search the chain directly.` };
  }
  if (/ProgramAccountNotFound|program that does not exist|Attempt to load a program that does not exist/i.test(text)) {
    return { kind: "not-deployed", message: "The data market program is not deployed on this cluster. Check the cluster and program id in the settings." };
  }
  if (error instanceof TransactionNotLandedError) {
    return {
      kind: "not-landed",
      message: error.mayStillLand
        ? "The transaction was sent but is not confirmed yet; it may still land. Look at My licences in a minute before trying again."
        : "The transaction expired without landing (the cluster may be busy). Nothing was charged; try again.",
    };
  }
  if (error instanceof TransactionFailedError) return { kind: "refused", message: `The program refused: ${error.explanation.message}` };
  if (error instanceof ClientError) return { kind: "refused", message: sentence(error.message) };
  return { kind: "unknown", message: `Something went wrong: ${error instanceof Error ? error.message : String(error)}` };
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}

const PUBLISH_NEEDS_SOL =
  "Your wallet does not hold enough SOL: registering a dataset pays the network fee and the rent of its accounts (the dataset, its content record, its licence mint and its escrow), about 0.016 SOL. Add SOL to this wallet and publish again; the file is already on IPFS, nothing was registered.";

/** Publishing's own failures: the IPFS RPC endpoint, and inputs the program would refuse (named by field). */
function explainPublishing(error: unknown): Failure | null {
  if (error instanceof IpfsApiError) {
    const url = error.apiUrl;
    const message = {
      "not-configured": "No IPFS upload endpoint is configured (a Kubo RPC API URL, `ipfsApi` in config.json or the settings), so the file cannot be stored. Nothing was registered.",
      unreachable: `The IPFS upload endpoint ${url} cannot be reached. Check that the node is running and its URL in the settings. Nothing was registered.`,
      "origin-refused": `The IPFS upload endpoint ${url} refuses requests from this site (${globalThis.location?.origin ?? "this origin"}). Its operator must allow this origin (Kubo: API.HTTPHeaders Access-Control-Allow-Origin; the local stack: --ipfs-allow-origin). Nothing was registered.`,
      failed: `The IPFS upload endpoint ${url} could not store the file: ${error.message.replace(/^the IPFS RPC API \S+ /, "")}. Nothing was registered.`,
    }[error.problem];
    return { kind: "ipfs", message };
  }
  if (error instanceof ListingInputError) return { kind: "invalid-input", message: sentence(error.message) };
  return null;
}

/**
 * The fee payer cannot pay: kit's codes for a payer with no SOL at all (the cluster's "no record of a
 * prior credit"), too little for the fee, or for the rent; production builds of kit carry only the code.
 */
function lacksSol(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (
      isSolanaError(e, SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND) ||
      isSolanaError(e, SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE) ||
      isSolanaError(e, SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_RENT)
    ) {
      return true;
    }
  }
  return false;
}
