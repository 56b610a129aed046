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
import { DownloadRefusedError } from "../../src/client/universal.js";
import { DownloadFailedError, NoGatewayError } from "./download/run.js";

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
  | "not-allowed"
  | "no-licence"
  | "key-not-delivered"
  | "expired"
  | "refunded"
  | "key-mismatch"
  | "no-gateway"
  | "gateway-unreachable"
  | "content-missing"
  | "tampered"
  | "storage"
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
  const download = explainDownload(error);
  if (download) return download;

  const publishing = explainPublishing(error);
  if (publishing) return publishing;
  if (error instanceof PriceAboveMaxError) {
    return {
      kind: "price-changed",
      message: `The price changed: it is now ${price(error.price)}, above the ${price(error.maxPrice)} you agreed to. Nothing was charged. Check the new price and buy again if it suits you.`,
    };
  }
  const text = messagesOf(error);
  // SOL first: a fee payer without lamports fails before any token instruction runs.
  if (/no record of a prior credit|insufficient funds for fee|InsufficientFundsForFee|insufficient funds for rent|insufficient lamports/i.test(text) || lacksSol(error)) {
    if (context.action === "publish") return { kind: "insufficient-funds", message: PUBLISH_NEEDS_SOL };
    return {
      kind: "insufficient-funds",
      message: "Your wallet does not hold enough SOL for the network fee and the rent of the accounts this creates (buying a licence takes about 0.0054 SOL: the rent of the licence and of its token account, which closing the licence later returns). Add SOL to this account and try again; nothing was charged.",
    };
  }
  if (error instanceof TransactionFailedError && /InsufficientFunds|insufficient funds/i.test(text)) {
    return {
      kind: "insufficient-funds",
      message: "Your wallet does not hold enough of the dataset's payment token for this price. Nothing was charged.",
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
  const licence = explainLicenceRefusal(error);
  if (licence) return licence;
  if (error instanceof TransactionFailedError) return { kind: "refused", message: `The program refused: ${error.explanation.message}` };
  if (error instanceof ClientError) return { kind: "refused", message: sentence(error.message) };
  return { kind: "unknown", message: `Something went wrong: ${error instanceof Error ? error.message : String(error)}` };
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}

/** What the program's refusals of a licence holder's (or the operator's) actions mean to people. */
const LICENCE_REFUSALS: Record<string, string> = {
  LicenseExpired: "This licence has expired: renew it before recording another use.",
  LicenseVoid: "This licence was refunded: it no longer grants anything.",
  LicenseDisputed: "This licence is under dispute: its use and payouts are frozen until the arbiter rules.",
  LicenseNotDelivered: "The key has not been delivered yet: this is possible once it is.",
  LicenseNotSettled: "This is possible once the licence is settled (after its dispute window).",
  LicenseIsPerpetual: "This licence never expires: there is nothing to renew.",
  MeteredNotRenewable: "A metered licence is not renewed: buy more credits instead.",
  DeliveryWindowOpen: "The owner still has time to deliver the key: a refund is possible only once the delivery window has closed.",
  LicenseNotPending: "This licence is no longer waiting for its key (it was delivered or refunded already).",
  DisputeWindowClosed: "The dispute window has closed: the payment has gone, or is about to go, to the owner.",
  AlreadyDisputed: "This licence is already disputed.",
  NoCreditsLeft: "No credits are left on this licence: buy more credits first.",
  LicenseTokenNotHeld: "This wallet no longer holds the licence token.",
  ReviewAlreadyExists: "You have already reviewed this dataset.",
  DatasetRevoked: "The operator revoked this dataset: it can no longer be used.",
  DatasetNotActive: "This dataset is not on sale any more.",
  PurchasesPaused: "The operator has paused purchases and renewals on the marketplace.",
  NotArbiter: "Only the marketplace's arbiter may rule disputes, and this wallet is not it.",
  NotMarketplaceAuthority: "Only the marketplace authority may do this, and this wallet is not it.",
  DisputeAlreadyRuled: "This dispute has already been ruled.",
  NothingToSweep: "This dataset owes no protocol fees to sweep.",
};

function explainLicenceRefusal(error: unknown): Failure | null {
  if (!(error instanceof TransactionFailedError)) return null;
  const name = error.errorName;
  const message = name === undefined ? undefined : LICENCE_REFUSALS[name];
  return message ? { kind: "refused", message } : null;
}


/** Program refusals that mean the dataset or licence is not in a state that allows the action. */
const STATE_REFUSALS: Record<string, string> = {
  InvalidStateTransition: "the dataset cannot move to that state from the one it is in",
  DatasetRetired: "the dataset is retired, which is final",
  DatasetRevoked: "the marketplace operator revoked the dataset",
  DatasetStillInUse: "the dataset still has licences waiting for a key, a settlement or a refund, allow-list entries, or money in escrow",
  NothingToClaim: "there is nothing to claim yet",
  DisputeWindowOpen: "the licence's dispute window has not passed yet",
  LicenseNotDelivered: "the licence's key has not been delivered",
  LicenseNotPending: "the licence is no longer waiting for its key",
  DeliveryWindowElapsed: "the delivery window has closed; the buyer can claim a refund",
  LicenseDisputed: "the buyer opened a dispute; the arbiter rules on it",
  AlreadyAllowListed: "that wallet is already on the allow-list",
};

/** explainForPeople for an owner's action (`action`: "The price update"), which pays only SOL fees. */
export function explainOwnerAction(error: unknown, context: { rpcUrl?: string; action: string }): Failure {
  const failure = explainForPeople(error, { rpcUrl: context.rpcUrl });
  if (failure.kind === "insufficient-funds") {
    return { kind: "insufficient-funds", message: `${context.action} was not sent: your wallet does not hold enough SOL for the network fee. Add a little SOL and try again.` };
  }
  if (error instanceof TransactionFailedError && error.errorName && error.errorName in STATE_REFUSALS) {
    return { kind: "not-allowed", message: `${context.action} is not allowed now: ${STATE_REFUSALS[error.errorName]}. Nothing was changed.` };
  }
  return failure;
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
