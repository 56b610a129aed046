// Delivery by a delegate: a wallet the owner names on chain (`Dataset.delivery_delegate`) that runs
// the delivery daemon without ever holding the owner's wallet.
//
// The delegate publishes its delegate card (its wallet-derived X25519 key, signed by its wallet);
// the owner checks the card and seals the content key to that key in a delivery grant. A grant made
// at publication sits in the dataset's metadata next to the owner's own copy; one made later is a
// file of its own on IPFS, whose CID the owner gives the delegate (the on-chain metadata URI cannot
// change). The delegate's daemon then opens its grant instead of the owner's copy. A grant is used
// only while the chain names its delegate: rotating or removing the delegate makes the owner's
// tooling and the daemon ignore the old one (and the program refuses the old delegate's deliveries),
// but a delegate that once opened the key can keep it; nothing can take that back.
import { address, getAddressDecoder, getAddressEncoder, type Account, type Address } from "@solana/kit";

import {
  HEADER_LEN,
  contentKeyMatchesHeader,
  equalBytes,
  fromHex,
  isCryptoError,
  openSealedContentKey,
  parseDelegateCard,
  toHex,
} from "../crypto/web.js";
import {
  ACCOUNT_KINDS,
  DEFAULT_ADDRESS,
  LAYOUT,
  MAX_TAGS,
  TAG_LEN,
  buildUpdateDataset,
  fetchDataset,
  findDatasets,
  memcmpFilter,
  queries,
  type Dataset,
  type ProgramAccountQuery,
} from "../sdk/index.js";
import { ContentNotFoundError, type ContentStore } from "../storage/content-store.js";
import type { MarketConnection } from "./connection.js";
import { ClientError } from "./errors.js";
import {
  MetadataError,
  checkDeliveryGrant,
  decodeSealedKey,
  readDeliveryGrant,
  readMetadata,
  type DatasetMetadata,
  type DeliveryGrant,
} from "./metadata.js";
import { sealDeliveryGrant } from "./publish-core.js";
import type { MarketWallet } from "./wallet.js";

const addressEncoder = getAddressEncoder();
const addressDecoder = getAddressDecoder();

/** A delivery delegate as its verified card describes it. */
export interface DelegateIdentity {
  wallet: Address;
  /** Its X25519 public key (32 bytes). */
  encryptionKey: Uint8Array;
}

/** Reads and verifies a delegate card (what `data-market wallet card` prints). */
export function readDelegateCard(text: string): DelegateIdentity {
  try {
    const card = parseDelegateCard(text);
    return { wallet: addressDecoder.decode(card.wallet), encryptionKey: card.encryptionKey };
  } catch (error) {
    if (isCryptoError(error)) {
      throw new ClientError("usage", `not a valid delegate card: ${error.message} (the delegate prints its card with \`data-market wallet card\`)`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Offset of `Dataset.delivery_delegate`: after the tags come payment mint, licence mint and escrow
 * vault (32 each), price (8), terms (u64 + u32 + 6 flags = 18), referral fee bps (2) and the delivery
 * and dispute windows (4 each). Checked against a real account by test/cli-delegate.test.ts.
 */
export const DATASET_DELIVERY_DELEGATE_OFFSET = LAYOUT.dataset.tags + MAX_TAGS * TAG_LEN + 3 * 32 + 8 + 18 + 2 + 4 + 4;

/** Datasets that name `delegate` as their delivery delegate. */
export function datasetsByDelegate(delegate: Address): ProgramAccountQuery {
  return {
    kind: "Dataset",
    alternatives: [[memcmpFilter(0, ACCOUNT_KINDS.Dataset.discriminator), memcmpFilter(DATASET_DELIVERY_DELEGATE_OFFSET, addressEncoder.encode(delegate))]],
  };
}

/** The valid grants in a dataset's metadata (a malformed entry is skipped, never fatal). */
export function metadataGrants(metadata: DatasetMetadata): DeliveryGrant[] {
  const grants: DeliveryGrant[] = [];
  for (const [i, value] of (Array.isArray(metadata.deliveryGrants) ? metadata.deliveryGrants : []).entries()) {
    try {
      grants.push(checkDeliveryGrant(value, `delivery grant ${i} of the metadata`));
    } catch (error) {
      if (!(error instanceof MetadataError)) throw error;
    }
  }
  return grants;
}

/** The owner opens its own copy of the content key (from the metadata). */
export async function openOwnerCopy(owner: MarketWallet, metadata: DatasetMetadata): Promise<Uint8Array> {
  try {
    return await openSealedContentKey(decodeSealedKey(metadata.ownerSealedKey), await owner.encryptionKeyPair());
  } catch (error) {
    if (isCryptoError(error)) {
      throw new ClientError("verification", `cannot open the owner's copy of the content key with this wallet: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The owner's side.

export interface IssuedGrant {
  dataset: Address;
  delegate: Address;
  grant: DeliveryGrant;
  /** CID of the grant's own file on IPFS; null when the metadata already holds this grant. */
  grantCid: string | null;
}

async function ownedDataset(connection: MarketConnection, owner: MarketWallet, dataset: Address): Promise<Account<Dataset>> {
  const account = await fetchDataset(connection, dataset);
  if (account.data.owner !== owner.signer.address) {
    throw new ClientError("refused", `only the owner of dataset ${dataset} (${account.data.owner}) may name its delivery delegate`);
  }
  return account;
}

/**
 * Gives a delegate its copy of an existing dataset's content key: opens the owner's copy, seals it
 * to the key on the delegate's card and stores the grant on IPFS. When the metadata already holds a
 * grant for this delegate and key (named at publication) nothing new is stored.
 */
export async function issueDeliveryGrant(
  connection: MarketConnection,
  store: ContentStore,
  owner: MarketWallet,
  input: { dataset: Address; delegate: DelegateIdentity },
): Promise<IssuedGrant> {
  const account = await ownedDataset(connection, owner, input.dataset);
  if (input.delegate.wallet === owner.signer.address) {
    throw new ClientError("usage", "you own this dataset: the owner delivers with its own copy and needs no delegate grant");
  }
  const metadata = await readMetadata(store, account.data.metadataUri);
  const key = toHex(input.delegate.encryptionKey);
  const existing = metadataGrants(metadata).find(
    (g) => g.dataset === input.dataset && g.delegate === input.delegate.wallet && g.encryptionKey === key,
  );
  if (existing) return { dataset: input.dataset, delegate: input.delegate.wallet, grant: existing, grantCid: null };
  const contentKey = await openOwnerCopy(owner, metadata);
  try {
    const grant = await sealDeliveryGrant(contentKey, input.dataset, input.delegate);
    const grantCid = await store.addJson(grant);
    return { dataset: input.dataset, delegate: input.delegate.wallet, grant, grantCid };
  } finally {
    contentKey.fill(0);
  }
}

/**
 * Names a delivery delegate: issues its grant (above), then points `Dataset.delivery_delegate` at it
 * (no transaction when the chain already names it). A previous delegate is replaced: its grant is
 * no longer used, though it can still open it.
 */
export async function setDeliveryDelegate(
  connection: MarketConnection,
  store: ContentStore,
  owner: MarketWallet,
  input: { dataset: Address; delegate: DelegateIdentity },
): Promise<IssuedGrant & { previous: Address | null; signature: string | null }> {
  const issued = await issueDeliveryGrant(connection, store, owner, input);
  const { data } = await fetchDataset(connection, input.dataset);
  const previous = data.deliveryDelegate === DEFAULT_ADDRESS ? null : data.deliveryDelegate;
  if (previous === input.delegate.wallet) return { ...issued, previous, signature: null };
  const { signature } = await connection.send(
    owner.signer,
    await buildUpdateDataset({ owner: owner.signer, dataset: input.dataset, deliveryDelegate: input.delegate.wallet }),
  );
  return { ...issued, previous, signature };
}

/** Removes the delivery delegate: the program refuses its deliveries from now on. */
export async function removeDeliveryDelegate(
  connection: MarketConnection,
  owner: MarketWallet,
  dataset: Address,
): Promise<{ dataset: Address; removed: Address; signature: string }> {
  const account = await ownedDataset(connection, owner, dataset);
  if (account.data.deliveryDelegate === DEFAULT_ADDRESS) {
    throw new ClientError("refused", `dataset ${dataset} names no delivery delegate`);
  }
  const { signature } = await connection.send(
    owner.signer,
    await buildUpdateDataset({ owner: owner.signer, dataset, deliveryDelegate: DEFAULT_ADDRESS }),
  );
  return { dataset, removed: account.data.deliveryDelegate, signature };
}

/** How a dataset's metadata grants stand against the delegate named on chain (for `dataset show`). */
export function describeMetadataGrants(
  dataset: Account<Dataset>,
  metadata: DatasetMetadata | null,
): { current: DeliveryGrant | null; former: Address[] } {
  const grants = metadata ? metadataGrants(metadata).filter((g) => g.dataset === dataset.address) : [];
  const current = grants.find((g) => g.delegate === dataset.data.deliveryDelegate) ?? null;
  const former = [...new Set(grants.filter((g) => g.delegate !== dataset.data.deliveryDelegate).map((g) => address(g.delegate)))];
  return { current, former };
}

// ---------------------------------------------------------------------------------------------
// The delegate's side: which copy of a dataset's key the delivery daemon opens.

/** A grant handed to the daemon by CID (`deliver --grant <cid>`). */
export interface SuppliedGrant {
  cid: string;
  grant: DeliveryGrant;
}

/** Where the key a daemon delivers with comes from. */
export type KeyCopy = { kind: "owner" } | { kind: "metadata-grant" } | { kind: "grant"; cid: string };

export function describeKeyCopy(copy: KeyCopy): string {
  return copy.kind === "owner" ? "the owner's copy" : copy.kind === "metadata-grant" ? "the grant in its metadata" : `grant ${copy.cid}`;
}

/** The daemon holds no copy of a dataset's key it could deliver with: it refuses that delivery. */
export class NoKeyCopyError extends ClientError {
  override name = "NoKeyCopyError";
  constructor(message: string) {
    super("refused", message);
  }
}

/** Reads the grants given by CID; each one that cannot be read is one clear error. */
export async function loadDeliveryGrants(
  store: Pick<ContentStore, "cat">,
  cids: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<SuppliedGrant[]> {
  const grants: SuppliedGrant[] = [];
  for (const cid of cids) {
    try {
      grants.push({ cid, grant: await readDeliveryGrant(store, cid, options) });
    } catch (error) {
      if (error instanceof ContentNotFoundError) throw new ClientError("not-found", `the delivery grant ${cid} is not available on IPFS`, { cause: error });
      if (error instanceof MetadataError) throw new ClientError("usage", error.message, { cause: error });
      throw error;
    }
  }
  return grants;
}

/** The first bytes of the dataset's ciphertext: its DMC1 header. */
async function ciphertextHeader(store: Pick<ContentStore, "cat">, cid: string): Promise<Uint8Array> {
  const header = new Uint8Array(HEADER_LEN);
  let filled = 0;
  for await (const piece of store.cat(cid)) {
    const take = Math.min(piece.length, HEADER_LEN - filled);
    header.set(piece.subarray(0, take), filled);
    filled += take;
    if (filled === HEADER_LEN) break;
  }
  return header.subarray(0, filled);
}

async function openGrant(grant: DeliveryGrant, wallet: MarketWallet, where: string): Promise<Uint8Array> {
  try {
    return await openSealedContentKey(decodeSealedKey(grant.sealedKey, `${where}: the`), await wallet.encryptionKeyPair());
  } catch (error) {
    if (isCryptoError(error)) throw new NoKeyCopyError(`${where} does not open with this wallet: ${error.message}`);
    throw error;
  }
}

/**
 * Opens the copy of `dataset`'s content key that `wallet` may deliver with:
 *
 * - the owner's copy (metadata) when the wallet owns the dataset;
 * - when the chain names the wallet delivery delegate, its grant in the metadata, else a grant it
 *   was given by CID. A grant given by CID is authenticated by nothing on chain, so its key must
 *   match the ciphertext's key commitment before it is used;
 * - otherwise, or when no such grant exists, `NoKeyCopyError` says what is missing and how to get it.
 *
 * The caller zeroes the returned key.
 */
export async function openDeliveryKey(
  store: Pick<ContentStore, "cat">,
  wallet: MarketWallet,
  dataset: Account<Dataset>,
  grants: readonly SuppliedGrant[] = [],
): Promise<{ contentKey: Uint8Array; copy: KeyCopy }> {
  const me = wallet.signer.address;
  const metadata = await readMetadata(store, dataset.data.metadataUri);
  if (dataset.data.owner === me) return { contentKey: await openOwnerCopy(wallet, metadata), copy: { kind: "owner" } };
  if (dataset.data.deliveryDelegate !== me) {
    throw new NoKeyCopyError(
      dataset.data.deliveryDelegate === DEFAULT_ADDRESS
        ? `${me} may not deliver for dataset ${dataset.address}: it names no delivery delegate any more`
        : `${me} may not deliver for dataset ${dataset.address}: its delivery delegate is now ${dataset.data.deliveryDelegate}`,
    );
  }
  const myKey = (await wallet.encryptionKeyPair()).publicKey;
  const mine = (g: DeliveryGrant) => g.dataset === dataset.address && g.delegate === me;
  const forMyKey = (g: DeliveryGrant) => equalBytes(fromHex(g.encryptionKey), myKey);

  const inMetadata = metadataGrants(metadata).filter(mine);
  const fromMetadata = inMetadata.find(forMyKey);
  if (fromMetadata) return { contentKey: await openGrant(fromMetadata, wallet, "the grant in the metadata"), copy: { kind: "metadata-grant" } };

  const given = grants.filter((g) => mine(g.grant));
  const rejected: string[] = [];
  for (const { cid, grant } of given.filter((g) => forMyKey(g.grant))) {
    let contentKey: Uint8Array;
    try {
      contentKey = await openGrant(grant, wallet, `grant ${cid}`);
    } catch (error) {
      if (!(error instanceof NoKeyCopyError)) throw error;
      rejected.push(error.message);
      continue;
    }
    let matches: boolean;
    try {
      matches = contentKeyMatchesHeader(await ciphertextHeader(store, dataset.data.ciphertextCid), contentKey);
    } catch (error) {
      contentKey.fill(0);
      if (isCryptoError(error)) throw new NoKeyCopyError(`the ciphertext of dataset ${dataset.address} is not a DMC1 stream: ${error.message}`);
      throw error;
    }
    if (matches) return { contentKey, copy: { kind: "grant", cid } };
    contentKey.fill(0);
    rejected.push(`grant ${cid} holds a key that does not open the ciphertext of dataset ${dataset.address}: it was not made from the owner's key; nothing is delivered with it`);
  }
  if (rejected.length > 0) throw new NoKeyCopyError(rejected.join("; "));

  const otherKey = inMetadata.length + given.length > 0;
  throw new NoKeyCopyError(
    `dataset ${dataset.address} names ${me} delivery delegate, but this wallet holds neither the owner's copy of its key nor a grant of its own` +
      (otherKey ? " (the grants found are sealed to another encryption key)" : "") +
      `: ask the owner to run \`data-market dataset delegate ${dataset.address} <your card>\` and pass the grant CID it prints with --grant`,
  );
}

export interface DeliveryCoverage {
  /** The datasets the wallet delivers for, with the copy of the key it uses or why it has none. */
  datasets: { dataset: Address; title: string; role: "owner" | "delegate"; copy: KeyCopy | null; problem?: string }[];
  /** Grants given by CID that are not used, and why. */
  ignoredGrants: { cid: string; dataset: string; reason: string }[];
}

/**
 * What a delivery daemon run by `wallet` can deliver: every dataset it owns (owner's copy) and every
 * dataset that names it delivery delegate (with the copy it would open, checked by opening it now).
 */
export async function checkDeliveryCoverage(
  connection: MarketConnection,
  store: Pick<ContentStore, "cat">,
  wallet: MarketWallet,
  grants: readonly SuppliedGrant[] = [],
): Promise<DeliveryCoverage> {
  const me = wallet.signer.address;
  const owned = await findDatasets(connection, queries.datasetsByOwner(me));
  const delegated = (await findDatasets(connection, datasetsByDelegate(me))).filter((d) => d.data.owner !== me);
  const coverage: DeliveryCoverage = { datasets: [], ignoredGrants: [] };
  for (const d of owned) coverage.datasets.push({ dataset: d.address, title: d.data.title, role: "owner", copy: { kind: "owner" } });
  for (const d of delegated) {
    try {
      const { contentKey, copy } = await openDeliveryKey(store, wallet, d, grants);
      contentKey.fill(0);
      coverage.datasets.push({ dataset: d.address, title: d.data.title, role: "delegate", copy });
    } catch (error) {
      if (!(error instanceof ClientError) && !(error instanceof MetadataError) && !(error instanceof ContentNotFoundError)) throw error;
      coverage.datasets.push({ dataset: d.address, title: d.data.title, role: "delegate", copy: null, problem: error.message });
    }
  }
  const served = new Map(delegated.map((d) => [d.address as string, d]));
  for (const { cid, grant } of grants) {
    const entry = coverage.datasets.find((c) => c.dataset === grant.dataset);
    if (grant.delegate !== me) {
      coverage.ignoredGrants.push({ cid, dataset: grant.dataset, reason: `it is sealed for ${grant.delegate}, not this wallet` });
    } else if (!served.has(grant.dataset)) {
      coverage.ignoredGrants.push({
        cid,
        dataset: grant.dataset,
        reason: `dataset ${grant.dataset} does not name this wallet delivery delegate (any more)`,
      });
    } else if (!(entry?.copy?.kind === "grant" && entry.copy.cid === cid)) {
      coverage.ignoredGrants.push({
        cid,
        dataset: grant.dataset,
        reason: entry?.copy ? `${describeKeyCopy(entry.copy)} is used instead` : (entry?.problem ?? "it cannot be used"),
      });
    }
  }
  return coverage;
}

/** Every dataset a daemon run by `wallet` should look at: owned ones and those naming it delegate. */
export async function datasetsToDeliver(connection: MarketConnection, wallet: MarketWallet): Promise<Account<Dataset>[]> {
  const me = wallet.signer.address;
  const owned = await findDatasets(connection, queries.datasetsByOwner(me));
  const delegated = (await findDatasets(connection, datasetsByDelegate(me))).filter((d) => d.data.owner !== me);
  return [...owned, ...delegated];
}
