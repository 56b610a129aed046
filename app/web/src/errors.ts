// One plain sentence for each failure a buyer can meet; never a stack trace. The client layer's
// typed errors carry what is needed (PriceAboveMaxError has the new price, TransactionFailedError
// the program's error name, RpcUnavailableError the node).
import {
  ClientError,
  PriceAboveMaxError,
  RpcUnavailableError,
  TransactionFailedError,
  TransactionNotLandedError,
} from "../../src/client/universal.js";
import { IndexerUnavailableError, isIndexerError } from "../../src/sdk/index.js";
import { DownloadRefusedError } from "../../src/client/universal.js";
import { DownloadFailedError, NoGatewayError } from "./download/run.js";

export type FailureKind =
  | "rejected"
  | "price-changed"
  | "insufficient-funds"
  | "rpc-unreachable"
  | "not-deployed"
  | "not-landed"
  | "refused"
  | "unknown"
  | "no-licence"
  | "key-not-delivered"
  | "expired"
  | "refunded"
  | "key-mismatch"
  | "no-gateway"
  | "gateway-unreachable"
  | "content-missing"
  | "tampered"
  | "storage";

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

export function explainForPeople(error: unknown, context: { rpcUrl?: string; formatPrice?: (amount: bigint) => string } = {}): Failure {
  const price = context.formatPrice ?? ((amount: bigint) => `${amount} base units`);
  if (isWalletRejection(error)) return { kind: "rejected", message: "You declined the request in your wallet. Nothing was sent and nothing was charged." };
  const download = explainDownload(error);
  if (download) return download;
  if (error instanceof PriceAboveMaxError) {
    return {
      kind: "price-changed",
      message: `The price changed: it is now ${price(error.price)}, above the ${price(error.maxPrice)} you agreed to. Nothing was charged. Check the new price and buy again if it suits you.`,
    };
  }
  const text = messagesOf(error);
  if (
    (error instanceof TransactionFailedError && /InsufficientFunds|insufficient funds|insufficient lamports/i.test(text)) ||
    /no record of a prior credit|insufficient funds for fee|InsufficientFundsForFee|insufficient lamports/i.test(text)
  ) {
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

/** A download's refusals and failures (download/run.ts, the worker, client/download-core.ts). */
function explainDownload(error: unknown): Failure | null {
  if (error instanceof DownloadRefusedError) {
    switch (error.reason) {
      case "no-licence":
        return { kind: "no-licence", message: "This wallet holds no licence for this dataset." };
      case "refunded":
        return { kind: "refunded", message: "This licence was refunded, so it no longer gives access to the dataset. Buy a new licence to download it." };
      case "key-not-delivered":
        return { kind: "key-not-delivered", message: "The owner has not delivered the key for this licence yet. You can download the dataset once they have." };
      case "expired":
        return { kind: "expired", message: "This licence has expired. Renew it to download the dataset again." };
      case "key-mismatch":
        return {
          kind: "key-mismatch",
          message: "The encryption key this wallet derives is not the one the licence was sealed to, so the delivered key cannot be opened here. Connect the wallet the licence was bought with (the same wallet app and account). Nothing was downloaded.",
        };
    }
  }
  if (error instanceof NoGatewayError) {
    return { kind: "no-gateway", message: "No IPFS gateway is configured. Set one in the settings (IPFS gateway) to download datasets." };
  }
  if (error instanceof DownloadFailedError) {
    switch (error.kind) {
      case "tampered":
        return {
          kind: "tampered",
          message: `The content from the IPFS gateway ${error.gateway} was tampered with: it does not match the dataset's hash on chain. Nothing was saved. Try another gateway.`,
        };
      case "gateway-unreachable":
        return { kind: "gateway-unreachable", message: `The IPFS gateway ${error.gateway} cannot be reached. Check your connection, or the IPFS gateway in the settings.` };
      case "content-missing":
        return { kind: "content-missing", message: `The IPFS gateway ${error.gateway} does not have this dataset's content. Try another gateway, or ask the owner to keep it online.` };
      case "storage":
        return { kind: "storage", message: `The browser could not store the download (${error.message}). Free some disk space and try again.` };
      case "unknown":
        return { kind: "unknown", message: `The download failed: ${error.message}` };
    }
  }
  return null;
}
