// The delivery loop: find every licence still waiting for its key among the datasets the wallet
// owns or is named delivery delegate of, open the wallet's copy of the content key (the owner's copy
// in the dataset's metadata, or the delegate's grant: see delegation.ts), seal it to the buyer's
// X25519 key and write it with deliver_key. State lives on chain only (a licence is waiting until its
// sealed key is set), so a restarted daemon picks up exactly where it stopped and a key is never
// delivered twice.
//
// Where the waiting licences are found: without an indexer, every pass lists the licences of each
// dataset (getProgramAccounts per dataset); with one (`DeliveryOptions.discovery`), a pass asks it
// for the owner's pending deliveries (one request, checked against the chain: see sdk/search.ts), so
// a daemon can look every second or so and answers a purchase within seconds. A pass whose indexer
// cannot be reached falls back to the chain. The watch loop also answers preview requests (preview.ts).
import type { Account, Address } from "@solana/kit";

import { sealContentKey } from "../crypto/web.js";
import {
  LicenseState,
  buildDeliverKey,
  findDatasets,
  findLicenses,
  isIndexerError,
  isKeyDelivered,
  queries,
  type Dataset,
  type Discovery,
  type License,
} from "../sdk/index.js";
import type { ContentStore } from "../storage/content-store.js";
import { TransactionFailedError, type MarketConnection } from "./connection.js";
import { NoKeyCopyError, datasetsByDelegate, datasetsToDeliver, openDeliveryKey, type SuppliedGrant } from "./delegation.js";
import { answerPendingPreviews, type PreviewEvent } from "./preview.js";
import type { MarketWallet } from "./wallet.js";

export type DeliveryEvent =
  | { kind: "delivered"; license: Address; dataset: Address; buyer: Address; signature: string }
  | { kind: "missed"; license: Address; dataset: Address; buyer: Address; reason: string }
  | { kind: "failed"; license: Address; dataset: Address; buyer: Address; reason: string }
  /** The wallet holds no copy of the dataset's key it may deliver with (see `openDeliveryKey`). */
  | { kind: "refused"; license: Address; dataset: Address; buyer: Address; reason: string };

export interface DeliveryPass {
  delivered: number;
  missed: number;
  failed: number;
  refused: number;
  events: DeliveryEvent[];
}

export interface DeliveryOptions {
  /** Grants the wallet was given by CID, for datasets that name it delivery delegate. */
  grants?: readonly SuppliedGrant[];
  /** An indexer-backed discovery: pending deliveries come from it instead of a scan per dataset. */
  discovery?: Discovery;
  /** Called when the indexer fails and the pass falls back to the chain. */
  onIndexerError?: (error: unknown) => void;
  /** Datasets naming the wallet delivery delegate, when the caller already knows them (watch mode caches them). */
  delegated?: () => Promise<Account<Dataset>[]>;
}

interface Work {
  dataset: Account<Dataset>;
  waiting: Account<License>[];
}

/** The chain path: every dataset the wallet delivers for, and each one's licences. */
async function workFromChain(connection: MarketConnection, wallet: MarketWallet): Promise<Work[]> {
  const work: Work[] = [];
  for (const dataset of await datasetsToDeliver(connection, wallet)) {
    const waiting = (await findLicenses(connection, queries.licensesByDataset(dataset.address))).filter(
      (l) => l.data.state === LicenseState.AwaitingKey && !isKeyDelivered(l.data),
    );
    if (waiting.length > 0) work.push({ dataset, waiting });
  }
  return work;
}

/**
 * The indexer path: the owner's pending deliveries, plus those of the owners of datasets that name
 * the wallet delivery delegate (each owner asked once), every one read back from the chain.
 */
async function workFromDiscovery(
  connection: MarketConnection,
  wallet: MarketWallet,
  discovery: Discovery,
  delegatedDatasets: () => Promise<Account<Dataset>[]>,
): Promise<Work[]> {
  const me = wallet.signer.address;
  const byDataset = new Map<Address, Work>();
  const add = (license: Account<License>, dataset: Account<Dataset>) => {
    const entry = byDataset.get(dataset.address) ?? { dataset, waiting: [] };
    entry.waiting.push(license);
    byDataset.set(dataset.address, entry);
  };
  for (const { license, dataset } of (await discovery.pendingDeliveries(me)).pending) add(license, dataset);
  const delegated = (await delegatedDatasets()).filter((d) => d.data.owner !== me);
  const delegatedAddresses = new Set(delegated.map((d) => d.address));
  for (const owner of new Set(delegated.map((d) => d.data.owner))) {
    for (const { license, dataset } of (await discovery.pendingDeliveries(owner)).pending) {
      if (delegatedAddresses.has(dataset.address) && dataset.data.deliveryDelegate === me) add(license, dataset);
    }
  }
  // oldest purchase first: its delivery window closes first
  const work = [...byDataset.values()];
  for (const entry of work) entry.waiting.sort((a, b) => Number(a.data.boughtAt - b.data.boughtAt));
  return work;
}

/** Datasets that name the wallet delivery delegate (one getProgramAccounts with memcmp). */
export function findDelegatedDatasets(connection: MarketConnection, wallet: MarketWallet): Promise<Account<Dataset>[]> {
  return findDatasets(connection, datasetsByDelegate(wallet.signer.address));
}

/**
 * One pass over the datasets the wallet owns or delivers for as delegate: delivers every key that is
 * owed and still deliverable.
 */
export async function deliverPendingKeys(
  connection: MarketConnection,
  store: Pick<ContentStore, "cat">,
  wallet: MarketWallet,
  onEvent?: (event: DeliveryEvent) => void,
  options: DeliveryOptions = {},
): Promise<DeliveryPass> {
  const pass: DeliveryPass = { delivered: 0, missed: 0, failed: 0, refused: 0, events: [] };
  const report = (event: DeliveryEvent) => {
    pass[event.kind] += 1;
    pass.events.push(event);
    onEvent?.(event);
  };
  let work: Work[];
  if (options.discovery && options.discovery.source === "indexer") {
    try {
      work = await workFromDiscovery(
        connection,
        wallet,
        options.discovery,
        options.delegated ?? (() => findDelegatedDatasets(connection, wallet)),
      );
    } catch (error) {
      if (!isIndexerError(error)) throw error;
      options.onIndexerError?.(error);
      work = await workFromChain(connection, wallet);
    }
  } else {
    work = await workFromChain(connection, wallet);
  }
  const now = await connection.now();
  for (const { dataset, waiting } of work) {
    let contentKey: Uint8Array | null = null;
    let noCopy: string | null = null;
    try {
      for (const license of waiting) {
        const base = { license: license.address, dataset: dataset.address, buyer: license.data.buyer };
        const deadline = license.data.boughtAt + BigInt(dataset.data.deliveryWindowSecs);
        if (now >= deadline) {
          report({ ...base, kind: "missed", reason: "the delivery window has closed; the buyer can claim a refund" });
          continue;
        }
        if (noCopy !== null) {
          report({ ...base, kind: "refused", reason: noCopy });
          continue;
        }
        try {
          contentKey ??= (await openDeliveryKey(store, wallet, dataset, options.grants)).contentKey;
          const sealedKey = await sealContentKey(contentKey, new Uint8Array(license.data.buyerEncryptionKey));
          const instructions = await buildDeliverKey(connection, {
            deliverer: wallet.signer,
            license: license.address,
            sealedKey,
          });
          const { signature } = await connection.send(wallet.signer, instructions);
          report({ ...base, kind: "delivered", signature });
        } catch (error) {
          // Another instance delivered it first: nothing is owed any more.
          if (error instanceof TransactionFailedError && error.errorName === "LicenseNotPending") continue;
          if (error instanceof NoKeyCopyError) {
            noCopy = error.message;
            report({ ...base, kind: "refused", reason: noCopy });
            continue;
          }
          report({ ...base, kind: "failed", reason: error instanceof Error ? error.message : String(error) });
        }
      }
    } finally {
      contentKey?.fill(0);
    }
  }
  return pass;
}

/**
 * Runs delivery passes every `intervalMs` until `signal` aborts. A failing pass (RPC down) is
 * reported and retried on the next tick rather than ending the daemon. A licence refused for want of
 * a copy of the key is reported once, not on every pass.
 */
export async function watchDeliveries(
  connection: MarketConnection,
  store: Pick<ContentStore, "cat">,
  wallet: MarketWallet,
  options: {
    intervalMs: number;
    signal: AbortSignal;
    onEvent?: (event: DeliveryEvent) => void;
    onPass?: (pass: DeliveryPass) => void;
    onPassError?: (error: unknown) => void;
    /** With a discovery: how often the datasets naming the wallet delegate are looked up again (default 30 s). */
    delegatedRefreshMs?: number;
    /** Also answer preview requests each pass (their bundles are added to `store`). */
    previews?: { store: Pick<ContentStore, "cat" | "addFile">; onEvent?: (event: PreviewEvent) => void };
  } & DeliveryOptions,
): Promise<void> {
  let delegated: { at: number; datasets: Account<Dataset>[] } | null = null;
  const delegatedDatasets = async () => {
    if (!delegated || Date.now() - delegated.at > (options.delegatedRefreshMs ?? 30_000)) {
      delegated = { at: Date.now(), datasets: await findDelegatedDatasets(connection, wallet) };
    }
    return delegated.datasets;
  };
  const refused = new Set<Address>();
  const onEvent = (event: DeliveryEvent) => {
    if (event.kind === "refused") {
      if (refused.has(event.license)) return;
      refused.add(event.license);
    }
    options.onEvent?.(event);
  };
  while (!options.signal.aborted) {
    try {
      const pass = await deliverPendingKeys(connection, store, wallet, onEvent, {
        grants: options.grants,
        discovery: options.discovery,
        onIndexerError: options.onIndexerError,
        delegated: options.delegated ?? delegatedDatasets,
      });
      options.onPass?.(pass);
      if (options.previews) {
        await answerPendingPreviews(connection, options.previews.store, wallet, { grants: options.grants, onEvent: options.previews.onEvent });
      }
    } catch (error) {
      options.onPassError?.(error);
    }
    await sleep(options.intervalMs, options.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
