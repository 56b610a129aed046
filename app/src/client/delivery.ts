// The owner's delivery loop: find every licence of the owner's datasets still waiting for its key,
// open the owner's sealed copy of the content key (from the dataset's metadata), seal it to the
// buyer's X25519 key and write it with deliver_key. State lives on chain only (a licence is waiting
// until its sealed key is set), so a restarted daemon picks up exactly where it stopped and a key is
// never delivered twice.
import type { Account, Address } from "@solana/kit";

import { openSealedContentKey, sealContentKey } from "../crypto/index.js";
import {
  LicenseState,
  buildDeliverKey,
  findDatasets,
  findLicenses,
  isKeyDelivered,
  queries,
  type Dataset,
} from "../sdk/index.js";
import type { ContentStore } from "../storage/index.js";
import { TransactionFailedError, type MarketConnection } from "./connection.js";
import { decodeSealedKey, readMetadata } from "./metadata.js";
import type { MarketWallet } from "./wallet.js";

export type DeliveryEvent =
  | { kind: "delivered"; license: Address; dataset: Address; buyer: Address; signature: string }
  | { kind: "missed"; license: Address; dataset: Address; buyer: Address; reason: string }
  | { kind: "failed"; license: Address; dataset: Address; buyer: Address; reason: string };

export interface DeliveryPass {
  delivered: number;
  missed: number;
  failed: number;
  events: DeliveryEvent[];
}

/** One pass over the owner's datasets: delivers every key that is owed and still deliverable. */
export async function deliverPendingKeys(
  connection: MarketConnection,
  store: ContentStore,
  owner: MarketWallet,
  onEvent?: (event: DeliveryEvent) => void,
): Promise<DeliveryPass> {
  const pass: DeliveryPass = { delivered: 0, missed: 0, failed: 0, events: [] };
  const report = (event: DeliveryEvent) => {
    pass[event.kind] += 1;
    pass.events.push(event);
    onEvent?.(event);
  };
  const datasets = await findDatasets(connection, queries.datasetsByOwner(owner.signer.address));
  const now = await connection.now();
  for (const dataset of datasets) {
    const waiting = (await findLicenses(connection, queries.licensesByDataset(dataset.address))).filter(
      (l) => l.data.state === LicenseState.AwaitingKey && !isKeyDelivered(l.data),
    );
    if (waiting.length === 0) continue;
    let contentKey: Uint8Array | null = null;
    try {
      for (const license of waiting) {
        const base = { license: license.address, dataset: dataset.address, buyer: license.data.buyer };
        const deadline = license.data.boughtAt + BigInt(dataset.data.deliveryWindowSecs);
        if (now >= deadline) {
          report({ ...base, kind: "missed", reason: "the delivery window has closed; the buyer can claim a refund" });
          continue;
        }
        try {
          contentKey ??= await ownerContentKey(store, owner, dataset);
          const sealedKey = await sealContentKey(contentKey, new Uint8Array(license.data.buyerEncryptionKey));
          const instructions = await buildDeliverKey(connection, {
            deliverer: owner.signer,
            license: license.address,
            sealedKey,
          });
          const { signature } = await connection.send(owner.signer, instructions);
          report({ ...base, kind: "delivered", signature });
        } catch (error) {
          // Another instance delivered it first: nothing is owed any more.
          if (error instanceof TransactionFailedError && error.errorName === "LicenseNotPending") continue;
          report({ ...base, kind: "failed", reason: error instanceof Error ? error.message : String(error) });
        }
      }
    } finally {
      contentKey?.fill(0);
    }
  }
  return pass;
}

async function ownerContentKey(store: ContentStore, owner: MarketWallet, dataset: Account<Dataset>): Promise<Uint8Array> {
  const metadata = await readMetadata(store, dataset.data.metadataUri);
  return openSealedContentKey(decodeSealedKey(metadata.ownerSealedKey), await owner.encryptionKeyPair());
}

/**
 * Runs delivery passes every `intervalMs` until `signal` aborts. A failing pass (RPC down) is
 * reported and retried on the next tick rather than ending the daemon.
 */
export async function watchDeliveries(
  connection: MarketConnection,
  store: ContentStore,
  owner: MarketWallet,
  options: {
    intervalMs: number;
    signal: AbortSignal;
    onEvent?: (event: DeliveryEvent) => void;
    onPass?: (pass: DeliveryPass) => void;
    onPassError?: (error: unknown) => void;
  },
): Promise<void> {
  while (!options.signal.aborted) {
    try {
      const pass = await deliverPendingKeys(connection, store, owner, options.onEvent);
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
