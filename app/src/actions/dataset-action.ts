// Buying a dataset from a link: a Solana Action per dataset (what a blink client shows, and the
// purchase transaction for the account that asks).
//
// A purchase carries the buyer's X25519 key, which the buyer's wallet derives by signing a fixed
// message; that signature is the key's secret, so it must never reach this server, and the
// specification's message step signs a structured sign-in text, not that message. So: a wallet that
// bought here before already has its key on chain (every licence records it) and buys inside the
// blink; a first-time buyer follows the action's link to the dapp's buy page, where the wallet
// derives the key in the page.
import type {
  ActionError,
  ActionGetResponse,
  ActionPostResponse,
  ActionsJson,
  ExternalLinkResponse,
  TransactionResponse,
} from "@solana/actions-spec";
import { createNoopSigner, isAddress, type Address } from "@solana/kit";

import { toHex } from "../crypto/bytes.js";
import {
  DatasetState,
  LicenseState,
  accountLists,
  buildPurchaseLicense,
  fetchMaybeDataset,
  fetchMaybeLicense,
  findDatasets,
  findLicenseAddress,
  queries,
  listAccounts,
  type Dataset,
  type LicenseTerms,
} from "../sdk/index.js";
import { formatAmount, formatDuration } from "../client/amounts.js";
import { TransactionFailedError } from "../client/connection.js";
import type { RpcConnection } from "../client/rpc.js";
import { fetchMintInfo } from "../client/tokens.js";

/** Where the actions live on the site, and the site paths a blink client maps onto them. */
export const ACTIONS_API_PATH = "/api/actions/dataset/";
export const BLINK_PATH = "/buy/";

export interface ActionsContext {
  connection: RpcConnection;
  /** The site's origin, e.g. http://127.0.0.1:8983 (where the dapp and these actions are served). */
  origin: string;
  /** Token symbols by mint, as the dapp's config names them. */
  symbols: Record<string, string>;
}

/** A refusal the action answers with its HTTP status and an ActionError body. */
export class ActionRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ActionRefusal";
  }

  get body(): ActionError {
    return { message: this.message };
  }
}

export function actionsJson(): ActionsJson {
  return {
    rules: [
      { pathPattern: `${BLINK_PATH}*`, apiPath: `${ACTIONS_API_PATH}*` },
      { pathPattern: "/api/actions/**", apiPath: "/api/actions/**" },
    ],
  };
}

/** The Action URL of a dataset, and the blink URL (its `solana-action:` form) a post or QR code carries. */
export function datasetActionUrl(origin: string, dataset: Address): string {
  return `${origin}${ACTIONS_API_PATH}${dataset}`;
}

export function datasetBlinkUrl(origin: string, dataset: Address): string {
  return `solana-action:${datasetActionUrl(origin, dataset)}`;
}

function dappDatasetUrl(origin: string, dataset: Address): string {
  return `${origin}/#/dataset/${dataset}`;
}

/** The terms in one line, e.g. "perpetual licence; AI training, commercial use, derivative models allowed". */
export function termsInOneLine(terms: LicenseTerms): string {
  const allowed = [terms.aiTraining && "AI training", terms.commercialUse && "commercial use", terms.derivativeModels && "derivative models"].filter(
    (t): t is string => Boolean(t),
  );
  const refused = [!terms.aiTraining && "AI training", !terms.commercialUse && "commercial use", !terms.derivativeModels && "derivative models"].filter(
    (t): t is string => Boolean(t),
  );
  return [
    terms.durationSecs === 0n ? "perpetual licence" : `${formatDuration(terms.durationSecs)} licence`,
    allowed.length > 0 ? `${allowed.join(", ")} allowed` : null,
    refused.length > 0 ? `no ${refused.join(", no ")}` : null,
    terms.attributionRequired ? "attribution required" : null,
    terms.transferable ? "transferable" : "non-transferable",
  ]
    .filter(Boolean)
    .join("; ");
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function onSale(ctx: ActionsContext, text: string): Promise<{ address: Address; dataset: Dataset }> {
  if (!isAddress(text)) throw new ActionRefusal(404, `${text} is not a dataset address`);
  const found = await fetchMaybeDataset(ctx.connection, text).catch(() => null);
  if (!found) throw new ActionRefusal(404, `no dataset ${text} on this marketplace`);
  return { address: text, dataset: found.data };
}

async function priceText(ctx: ActionsContext, dataset: Dataset): Promise<string> {
  const mint = await fetchMintInfo(ctx.connection, dataset.paymentMint);
  const symbol = ctx.symbols[dataset.paymentMint] ?? `tokens of mint ${dataset.paymentMint}`;
  return dataset.price === 0n ? "free" : `${formatAmount(dataset.price, mint.decimals)} ${symbol}`;
}

/** GET: what a blink client shows for a dataset. */
export async function datasetAction(ctx: ActionsContext, text: string): Promise<ActionGetResponse> {
  const { address, dataset } = await onSale(ctx, text);
  const price = await priceText(ctx, dataset);
  const perCredit = dataset.terms.metered ? " per recorded use" : "";
  const buyHref = `${ACTIONS_API_PATH}${address}${dataset.terms.metered ? "?credits={credits}" : ""}`;
  const closed = dataset.state !== DatasetState.Active && dataset.state !== DatasetState.Unlisted;
  return {
    type: "action",
    icon: `${ctx.origin}/icon.svg`,
    title: dataset.title || "Untitled dataset",
    description:
      `${price === "free" ? "Free" : price}${perCredit}. ${capitalized(termsInOneLine(dataset.terms))}. ` +
      `Content sha256 ${toHex(new Uint8Array(dataset.contentHash))}, encrypted on IPFS; the owner delivers the key within ` +
      `${formatDuration(dataset.deliveryWindowSecs)} or the payment is refunded. First purchase here? Buy in the dapp: your wallet makes your decryption key there.`,
    label: `Buy for ${price}`,
    disabled: closed,
    ...(closed ? { error: { message: "This dataset is not on sale." } } : {}),
    links: {
      actions: [
        {
          type: "transaction",
          href: buyHref,
          label: `Buy for ${price}${perCredit}`,
          ...(dataset.terms.metered
            ? { parameters: [{ type: "number" as const, name: "credits", label: "Credits (recorded uses)", required: true, min: 1, max: 1000 }] }
            : {}),
        },
        { type: "external-link", href: `${ACTIONS_API_PATH}${address}/dapp`, label: "Open in the dapp" },
      ],
    },
  };
}

/** POST to the dapp link: where the dataset's page is. */
export async function datasetDappLink(ctx: ActionsContext, text: string): Promise<ExternalLinkResponse> {
  const { address } = await onSale(ctx, text);
  return { type: "external-link", externalLink: dappDatasetUrl(ctx.origin, address), message: "Opens the dataset's page in the dapp." };
}

/** The X25519 key this wallet bought with before (every licence records it), or null. */
async function knownEncryptionKey(ctx: ActionsContext, buyer: Address): Promise<Uint8Array | null> {
  const { accounts } = await listAccounts(accountLists.licensesByBuyer(buyer), { chain: ctx.connection, indexer: null });
  const previous = accounts.find((l) => l.data.buyerEncryptionKey.some((b) => b !== 0));
  return previous ? new Uint8Array(previous.data.buyerEncryptionKey) : null;
}

/** POST: the purchase transaction for `account`, unsigned, at the price shown. */
export async function datasetPurchase(
  ctx: ActionsContext,
  text: string,
  body: unknown,
  query: URLSearchParams,
): Promise<ActionPostResponse> {
  const account = (body as { account?: unknown } | null)?.account;
  if (typeof account !== "string" || !isAddress(account)) throw new ActionRefusal(400, "the request names no valid account");
  const { address, dataset } = await onSale(ctx, text);
  if (dataset.state !== DatasetState.Active && dataset.state !== DatasetState.Unlisted) throw new ActionRefusal(422, "This dataset is not on sale.");
  let credits: number | undefined;
  if (dataset.terms.metered) {
    credits = Number(query.get("credits") ?? "1");
    if (!Number.isInteger(credits) || credits < 1 || credits > 1000) throw new ActionRefusal(400, "Credits must be a whole number from 1 to 1000.");
  }
  const existing = await fetchMaybeLicense(ctx.connection, await findLicenseAddress(address, account));
  if (existing && existing.data.state !== LicenseState.Refunded) {
    throw new ActionRefusal(422, `This wallet already holds a licence for this dataset: open it in the dapp, ${ctx.origin}/#/licence/${existing.address}`);
  }
  const key = await knownEncryptionKey(ctx, account);
  if (!key) {
    throw new ActionRefusal(
      422,
      `This wallet has not bought here before: buy once in the dapp (${dappDatasetUrl(ctx.origin, address)}), where your wallet makes your decryption key; after that any blink can sell to you.`,
    );
  }
  const total = dataset.terms.metered ? dataset.price * BigInt(credits!) : dataset.price;
  const price = await priceText(ctx, { ...dataset, price: total });
  const instructions = await buildPurchaseLicense(ctx.connection, {
    buyer: createNoopSigner(account),
    dataset: address,
    maxPrice: total,
    buyerEncryptionKey: key,
    credits,
  });
  let transaction: string;
  try {
    ({ transaction } = await ctx.connection.unsignedTransaction(account, instructions));
  } catch (error) {
    if (error instanceof TransactionFailedError) throw new ActionRefusal(422, `The purchase would fail: ${error.explanation.message}`);
    throw error;
  }
  const response: TransactionResponse = {
    type: "transaction",
    transaction,
    message: `Buys a licence to "${dataset.title}" for ${price} (at most; the program refuses a higher price).`,
    links: {
      next: {
        type: "inline",
        action: {
          type: "completed",
          icon: `${ctx.origin}/icon.svg`,
          title: `Licence to ${dataset.title}`,
          description: `Bought. The owner delivers the key within ${formatDuration(dataset.deliveryWindowSecs)}; download from your licences in the dapp: ${ctx.origin}/#/licences`,
          label: "Bought",
        },
      },
    },
  };
  return response;
}

/**
 * Calls `onNew` once for each dataset registered, now and as they appear (polled every
 * `intervalMs`), until `signal` aborts: how the local stack prints each dataset's blink.
 */
export async function watchDatasets(
  ctx: Pick<ActionsContext, "connection">,
  onNew: (dataset: Address, title: string) => void,
  signal: AbortSignal,
  intervalMs = 3_000,
): Promise<void> {
  const seen = new Set<Address>();
  while (!signal.aborted) {
    try {
      const datasets = await findDatasets(ctx.connection, queries.allDatasets());
      for (const { address, data } of datasets.sort((a, b) => Number(a.data.createdAt - b.data.createdAt))) {
        if (seen.has(address)) continue;
        seen.add(address);
        onNew(address, data.title);
      }
    } catch {
      // The validator is busy or stopping: the next round tries again.
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
