// The delivery loop: find every licence still waiting for its key among the datasets the wallet
// owns or is named delivery delegate of, open the wallet's copy of the content key (the owner's copy
// in the dataset's metadata, or the delegate's grant: see delegation.ts), seal it to the buyer's
// X25519 key and write it with deliver_key. State lives on chain only (a licence is waiting until its
// sealed key is set), so a restarted daemon picks up exactly where it stopped and a key is never
// delivered twice.
import type { Address } from "@solana/kit";

import { sealContentKey } from "../crypto/index.js";
import { LicenseState, buildDeliverKey, findLicenses, isKeyDelivered, queries } from "../sdk/index.js";
import type { ContentStore } from "../storage/index.js";
import { TransactionFailedError, type MarketConnection } from "./connection.js";
import { NoKeyCopyError, datasetsToDeliver, openDeliveryKey, type SuppliedGrant } from "./delegation.js";
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
}

/**
 * One pass over the datasets the wallet owns or delivers for as delegate: delivers every key that is
 * owed and still deliverable.
 */
export async function deliverPendingKeys(
  connection: MarketConnection,
  store: ContentStore,
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
  const datasets = await datasetsToDeliver(connection, wallet);
  const now = await connection.now();
  for (const dataset of datasets) {
    const waiting = (await findLicenses(connection, queries.licensesByDataset(dataset.address))).filter(
      (l) => l.data.state === LicenseState.AwaitingKey && !isKeyDelivered(l.data),
    );
    if (waiting.length === 0) continue;
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
  store: ContentStore,
  wallet: MarketWallet,
  options: {
    intervalMs: number;
    signal: AbortSignal;
    onEvent?: (event: DeliveryEvent) => void;
    onPass?: (pass: DeliveryPass) => void;
    onPassError?: (error: unknown) => void;
  } & DeliveryOptions,
): Promise<void> {
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
      const pass = await deliverPendingKeys(connection, store, wallet, onEvent, { grants: options.grants });
      options.onPass?.(pass);
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
