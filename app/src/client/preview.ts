// Verifiable random previews. The owner commits the plaintext chunk tree's root on chain
// (enable_preview) with limits; a buyer asks (request_preview); the hash of the slot the request
// landed in fixes which chunks are revealed, so neither side picks them. The owner's daemon
// (answerPendingPreviews, run by `delivery watch`) computes the same draw as the program, decrypts
// those chunks from the ciphertext on IPFS by range, publishes them with their Merkle proofs as a
// preview bundle (preview-bundle.ts) and records its CID with answer_preview, which checks the draw
// on chain. The buyer fetches the bundle and checks every chunk against the on-chain root and the
// chain's draw. A request unanswered within PREVIEW_ANSWER_SLOTS can be marked expired by anyone.
import { getU64Decoder, type Account, type Address } from "@solana/kit";

import { concatBytes, decryptDmc1Chunk, dmc1ChunkRange, equalBytes, toHex } from "../crypto/web.js";
import {
  MAX_PREVIEW_CHUNKS,
  MIN_CHUNKS_PER_REVEALED,
  PreviewState,
  SLOT_HASHES_SYSVAR_ADDRESS,
  answerPreviewInstruction,
  drawPreviewChunks,
  enablePreviewInstruction,
  expirePreviewInstruction,
  fetchDataset,
  fetchPreviewPolicy,
  fetchPreviewRequest,
  findPreviewRequests,
  findPreviewRequestAddress,
  findSlotHash,
  queries,
  requestPreviewInstruction,
  setPreviewLimitsInstruction,
  type Dataset,
  type PreviewLimits,
  type PreviewPolicy,
  type PreviewRequest,
} from "../sdk/index.js";
import type { ContentStore } from "../storage/content-store.js";
import { CLOCK_SYSVAR_ADDRESS, TransactionFailedError, type MarketConnection, type SentTransaction } from "./connection.js";
import { datasetsToDeliver, openDeliveryKey, type SuppliedGrant } from "./delegation.js";
import { ClientError } from "./errors.js";
import { decodeChunkTree, readMetadata, type DatasetMetadata } from "./metadata.js";
import { buildPreviewBundle, verifyPreviewBundle } from "./preview-bundle.js";
import type { MarketWallet } from "./wallet.js";

export type { PreviewLimits };

/** Limits a publish uses unless told otherwise: 2 chunks a preview, 10 previews an hour. */
export const DEFAULT_PREVIEW_LIMITS: PreviewLimits = { chunksPerPreview: 2, maxPerPeriod: 10, periodSecs: 3600 };

/** The chunks one preview may reveal of a dataset of `chunkCount` chunks (at most one in eight, at most 8). */
export function maxChunksPerPreview(chunkCount: number): number {
  return Math.min(MAX_PREVIEW_CHUNKS, Math.floor(chunkCount / MIN_CHUNKS_PER_REVEALED));
}

// ---------------------------------------------------------------------------------------------
// The owner's side.

/** Commits the metadata's chunk tree on chain and opens previews (the root can never change after). */
export async function enablePreviews(
  connection: MarketConnection,
  owner: MarketWallet,
  input: { dataset: Address; metadata: DatasetMetadata; limits: PreviewLimits },
): Promise<SentTransaction> {
  const { metadata, limits } = input;
  if (metadata.chunkTree === undefined) {
    throw new ClientError("refused", "the dataset's metadata has no chunk tree (publish it again with this client to offer previews)");
  }
  const tree = decodeChunkTree(metadata.chunkTree, metadata);
  checkPreviewLimits(limits, tree.leaves.length);
  const instruction = await enablePreviewInstruction({
    owner: owner.signer,
    dataset: input.dataset,
    chunkTreeRoot: tree.root,
    chunkSize: metadata.chunkSize,
    chunkCount: tree.leaves.length,
    ...limits,
  });
  return connection.send(owner.signer, [instruction]);
}

export async function setPreviewLimits(
  connection: MarketConnection,
  owner: MarketWallet,
  input: { dataset: Address; limits: PreviewLimits },
): Promise<SentTransaction> {
  const policy = await fetchPreviewPolicy(connection, input.dataset);
  if (!policy) throw new ClientError("refused", "previews were never enabled for this dataset");
  checkPreviewLimits(input.limits, policy.data.chunkCount);
  return connection.send(owner.signer, [await setPreviewLimitsInstruction({ owner: owner.signer, dataset: input.dataset, ...input.limits })]);
}

/** The program's bounds, checked before sending so a mistake costs no fee and reads plainly. */
export function checkPreviewLimits(limits: PreviewLimits, chunkCount: number): void {
  const most = maxChunksPerPreview(chunkCount);
  if (!Number.isInteger(limits.chunksPerPreview) || limits.chunksPerPreview < 0 || limits.chunksPerPreview > most) {
    throw new ClientError(
      "usage",
      most === 0
        ? `a dataset of ${chunkCount} chunk(s) is too small to preview: a preview reveals at most one chunk in ${MIN_CHUNKS_PER_REVEALED}`
        : `a preview of this dataset reveals 1 to ${most} of its ${chunkCount} chunks (0 pauses previews), not ${limits.chunksPerPreview}`,
    );
  }
  if (!Number.isInteger(limits.maxPerPeriod) || limits.maxPerPeriod < 1 || limits.maxPerPeriod > 0xffff) {
    throw new ClientError("usage", `previews per period must be 1 to 65535, not ${limits.maxPerPeriod}`);
  }
  if (!Number.isInteger(limits.periodSecs) || limits.periodSecs < 60 || limits.periodSecs > 30 * 24 * 3600) {
    throw new ClientError("usage", "the preview period must be between 1 minute and 30 days");
  }
}

export type PreviewEvent =
  | {
      kind: "answered";
      request: Address;
      dataset: Address;
      buyer: Address;
      chunks: number[];
      cid: string;
      signature: string;
      /** From the draw to the bundle on IPFS: the chunks read by range, decrypted, proved and added. */
      prepareMs: number;
    }
  | { kind: "late"; request: Address; dataset: Address; buyer: Address }
  | { kind: "failed"; request: Address; dataset: Address; buyer: Address; reason: string };

export interface PreviewPass {
  answered: number;
  late: number;
  failed: number;
  /** Requests whose slot hash is not on chain yet: the next pass answers them. */
  waiting: number;
  events: PreviewEvent[];
}

/**
 * One pass of the owner's daemon: answers every open preview request of the datasets the wallet
 * owns or delivers for. Each answer reads only the drawn chunks' ciphertext from IPFS (by range),
 * never the whole dataset.
 */
export async function answerPendingPreviews(
  connection: MarketConnection,
  store: Pick<ContentStore, "cat" | "addFile">,
  wallet: MarketWallet,
  options: { grants?: readonly SuppliedGrant[]; datasets?: Account<Dataset>[]; onEvent?: (event: PreviewEvent) => void } = {},
): Promise<PreviewPass> {
  const pass: PreviewPass = { answered: 0, late: 0, failed: 0, waiting: 0, events: [] };
  const report = (event: PreviewEvent) => {
    pass[event.kind] += 1;
    pass.events.push(event);
    options.onEvent?.(event);
  };
  for (const dataset of options.datasets ?? (await datasetsToDeliver(connection, wallet))) {
    const open = (await findPreviewRequests(connection, queries.previewRequestsByDataset(dataset.address))).filter(
      (r) => r.data.state === PreviewState.Requested,
    );
    if (open.length === 0) continue;
    const policy = await fetchPreviewPolicy(connection, dataset.address);
    if (!policy) continue;
    const slot = await currentSlot(connection);
    let source: PreviewSource | null = null;
    try {
      for (const request of open) {
        const base = { request: request.address, dataset: dataset.address, buyer: request.data.buyer };
        if (slot > request.data.answerDeadlineSlot) {
          report({ ...base, kind: "late" });
          continue;
        }
        try {
          const slotHash = findSlotHash(await slotHashesData(connection), request.data.requestedSlot);
          if (!slotHash) {
            pass.waiting += 1;
            continue;
          }
          const started = performance.now();
          const indices = drawPreviewChunks(slotHash, request.address, policy.data.chunkCount, request.data.chunksRequested);
          source ??= await openPreviewSource(store, wallet, dataset, policy, options.grants);
          const open = source;
          // the drawn chunks are read from IPFS at once: a preview costs one round of reads, not k
          const chunks = await Promise.all(indices.map(async (index) => ({ index, bytes: await open.chunk(index) })));
          const bundle = buildPreviewBundle({
            dataset: dataset.address,
            request: request.address,
            chunkSize: policy.data.chunkSize,
            leaves: source.leaves,
            chunks,
          });
          const cid = await store.addFile([bundle]);
          const prepareMs = performance.now() - started;
          const instruction = await answerPreviewInstruction({ deliverer: wallet.signer, dataset: dataset.address, request: request.address, answerCid: cid });
          const { signature } = await connection.send(wallet.signer, [instruction]);
          report({ ...base, kind: "answered", chunks: indices, cid, signature, prepareMs });
        } catch (error) {
          if (error instanceof TransactionFailedError && error.errorName === "PreviewNotPending") continue;
          if (error instanceof TransactionFailedError && error.errorName === "PreviewNotDrawnYet") {
            pass.waiting += 1;
            continue;
          }
          report({ ...base, kind: "failed", reason: error instanceof Error ? error.message : String(error) });
        }
      }
    } finally {
      source?.close();
    }
  }
  return pass;
}

interface PreviewSource {
  leaves: Uint8Array[];
  chunk(index: number): Promise<Uint8Array>;
  close(): void;
}

/** The owner's view of a dataset for previews: its tree (checked against the chain's root) and a chunk reader. */
async function openPreviewSource(
  store: Pick<ContentStore, "cat">,
  wallet: MarketWallet,
  dataset: Account<Dataset>,
  policy: Account<PreviewPolicy>,
  grants?: readonly SuppliedGrant[],
): Promise<PreviewSource> {
  const metadata = await readMetadata(store, dataset.data.metadataUri);
  if (metadata.chunkTree === undefined) throw new ClientError("refused", "the dataset's metadata has no chunk tree");
  const tree = decodeChunkTree(metadata.chunkTree, metadata);
  if (!equalBytes(tree.root, new Uint8Array(policy.data.chunkTreeRoot))) {
    throw new ClientError("refused", `the metadata's chunk tree (${toHex(tree.root)}) is not the one registered for previews`);
  }
  const { contentKey } = await openDeliveryKey(store, wallet, dataset, grants);
  const header = await readRange(store, metadata.ciphertextCid, 0, 56);
  return {
    leaves: tree.leaves,
    async chunk(index) {
      const range = dmc1ChunkRange(metadata.chunkSize, metadata.plaintextBytes, index);
      const ciphertext = await readRange(store, metadata.ciphertextCid, range.offset, range.length);
      return decryptDmc1Chunk(contentKey, header, index, range.final, ciphertext);
    },
    close: () => contentKey.fill(0),
  };
}

// ---------------------------------------------------------------------------------------------
// The buyer's side.

export interface PreviewRequestResult extends SentTransaction {
  request: Address;
  nonce: bigint;
}

/** Asks for a preview. The request's address takes a fresh nonce, so a buyer may ask again later. */
export async function requestPreview(
  connection: MarketConnection,
  buyer: MarketWallet,
  input: { dataset: Address; nonce?: bigint },
): Promise<PreviewRequestResult> {
  const policy = await fetchPreviewPolicy(connection, input.dataset);
  if (!policy) throw new ClientError("refused", "this dataset offers no previews");
  if (policy.data.chunksPerPreview === 0) throw new ClientError("refused", "the owner has paused previews of this dataset");
  const nonce = input.nonce ?? randomNonce();
  const instruction = await requestPreviewInstruction({ buyer: buyer.signer, dataset: input.dataset, nonce });
  const sent = await connection.send(buyer.signer, [instruction]);
  return { ...sent, request: await findPreviewRequestAddress(input.dataset, buyer.signer.address, nonce), nonce };
}

export type PreviewOutcome =
  | { state: "answered"; request: Account<PreviewRequest> }
  | { state: "expired"; request: Account<PreviewRequest>; expireSignature?: string };

/**
 * Waits until the owner answers or the answer deadline passes; then records the expiry on chain (so
 * the unanswered preview stays visible) unless someone already did.
 */
export async function waitForPreview(
  connection: MarketConnection,
  caller: MarketWallet,
  request: Address,
  options: { pollMs?: number; signal?: AbortSignal; onWait?: (slotsLeft: bigint) => void } = {},
): Promise<PreviewOutcome> {
  for (;;) {
    options.signal?.throwIfAborted();
    const account = await fetchPreviewRequest(connection, request);
    if (account.data.state === PreviewState.Answered) return { state: "answered", request: account };
    if (account.data.state === PreviewState.Expired) return { state: "expired", request: account };
    const slot = await currentSlot(connection);
    if (slot > account.data.answerDeadlineSlot) {
      try {
        const instruction = await expirePreviewInstruction({ caller: caller.signer, dataset: account.data.dataset, request });
        const { signature } = await connection.send(caller.signer, [instruction]);
        return { state: "expired", request: await fetchPreviewRequest(connection, request), expireSignature: signature };
      } catch (error) {
        // answered or expired by someone else in the meantime: read it again
        if (!(error instanceof TransactionFailedError && error.errorName === "PreviewNotPending")) throw error;
        continue;
      }
    }
    options.onWait?.(account.data.answerDeadlineSlot - slot);
    await sleep(options.pollMs ?? 500, options.signal);
  }
}

export interface VerifiedPreview {
  dataset: Address;
  request: Address;
  chunkSize: number;
  chunkCount: number;
  root: Uint8Array;
  chunks: { index: number; bytes: Uint8Array }[];
}

/**
 * Fetches an answered preview's bundle and checks it against the chain: the root and chunk count the
 * owner committed, and exactly the chunks the program drew. Throws PreviewVerificationError naming
 * the first thing that does not match.
 */
export async function fetchVerifiedPreview(
  connection: MarketConnection,
  store: Pick<ContentStore, "cat">,
  request: Account<PreviewRequest>,
  options: { timeoutMs?: number } = {},
): Promise<VerifiedPreview> {
  if (request.data.state !== PreviewState.Answered) throw new ClientError("refused", "the preview has not been answered");
  const dataset = await fetchDataset(connection, request.data.dataset);
  const policy = await fetchPreviewPolicy(connection, request.data.dataset);
  if (!policy) throw new ClientError("verification", "the dataset has no preview policy on chain");
  const bytes = concatBytes(...(await collect(store.cat(request.data.answerCid, { timeoutMs: options.timeoutMs ?? 60_000 }))));
  const indices = [...request.data.chunks.slice(0, request.data.chunksRequested)];
  const root = new Uint8Array(policy.data.chunkTreeRoot);
  const { chunks } = verifyPreviewBundle(bytes, {
    dataset: dataset.address,
    request: request.address,
    root,
    chunkCount: policy.data.chunkCount,
    indices,
    chunkSize: policy.data.chunkSize,
  });
  return { dataset: dataset.address, request: request.address, chunkSize: policy.data.chunkSize, chunkCount: policy.data.chunkCount, root, chunks };
}

// ---------------------------------------------------------------------------------------------

/** The cluster's current slot (the Clock sysvar's first field). */
export async function currentSlot(connection: MarketConnection): Promise<bigint> {
  const [clock] = await connection.getAccounts([CLOCK_SYSVAR_ADDRESS]);
  if (!clock?.exists) throw new ClientError("not-found", "the cluster returned no Clock sysvar");
  return getU64Decoder().decode(clock.data.subarray(0, 8));
}

async function slotHashesData(connection: MarketConnection): Promise<Uint8Array> {
  const [sysvar] = await connection.getAccounts([SLOT_HASHES_SYSVAR_ADDRESS]);
  if (!sysvar?.exists) throw new ClientError("not-found", "the cluster returned no SlotHashes sysvar");
  return new Uint8Array(sysvar.data);
}

async function readRange(store: Pick<ContentStore, "cat">, cid: string, offset: number, length: number): Promise<Uint8Array> {
  const bytes = concatBytes(...(await collect(store.cat(cid, { offset, length }))));
  if (bytes.length !== length) throw new ClientError("verification", `the ciphertext ${cid} ends before byte ${offset + length}`);
  return bytes;
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return parts;
}

function randomNonce(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return new DataView(bytes.buffer).getBigUint64(0, true);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
