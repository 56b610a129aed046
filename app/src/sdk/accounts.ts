// Reading the program's accounts: fetch, check (owner and discriminator), decode, and the derived
// values a client shows (tags as text, average rating, what the escrow vault must hold).
import {
  fetchEncodedAccounts,
  fixDecoderSize,
  getAddressDecoder,
  getBytesDecoder,
  getI64Decoder,
  getStructDecoder,
  getU64Decoder,
  getU8Decoder,
  type Account,
  type Address,
  type Commitment,
  type Decoder,
  type EncodedAccount,
  type GetMultipleAccountsApi,
  type MaybeEncodedAccount,
  type ReadonlyUint8Array,
  type Rpc,
} from "@solana/kit";
import { sha256 } from "@noble/hashes/sha2.js";

import {
  ALLOW_LIST_ENTRY_DISCRIMINATOR,
  CONTENT_HASH_RECORD_DISCRIMINATOR,
  DATASET_DISCRIMINATOR,
  DISPUTE_DISCRIMINATOR,
  FRONT_END_DISCRIMINATOR,
  LICENSE_DISCRIMINATOR,
  MARKETPLACE_DISCRIMINATOR,
  PREVIEW_POLICY_DISCRIMINATOR,
  PREVIEW_REQUEST_DISCRIMINATOR,
  REVIEW_DISCRIMINATOR,
  USAGE_RECEIPT_DISCRIMINATOR,
  getAllowListEntryDecoder,
  getContentHashRecordDecoder,
  getDatasetDecoder,
  getDisputeDecoder,
  getFrontEndDecoder,
  getLicenseDecoder,
  getMarketplaceDecoder,
  getPreviewPolicyDecoder,
  getPreviewRequestDecoder,
  getReviewDecoder,
  getUsageReceiptDecoder,
  type AllowListEntry,
  type ContentHashRecord,
  type Dataset,
  type Dispute,
  type FrontEnd,
  type License,
  type Marketplace,
  type PreviewPolicy,
  type PreviewRequest,
  type Review,
  type UsageReceipt,
} from "../generated/accounts/index.js";
import { getUsagePurposeDecoder, type Recipient, type UsagePurpose } from "../generated/types/index.js";
import { DATA_MARKET_PROGRAM_ADDRESS, SEALED_KEY_LEN, TAG_LEN, TOKEN_ACCOUNT_AMOUNT_OFFSET } from "./constants.js";
import {
  findAllowListEntryAddress,
  findContentHashRecordAddress,
  findFrontEndAddress,
  findDisputeAddress,
  findLicenseAddress,
  findMarketplaceAddress,
  findPreviewPolicyAddress,
  findReviewAddress,
} from "./pdas.js";

export type {
  AllowListEntry,
  ContentHashRecord,
  Dataset,
  Dispute,
  FrontEnd,
  License,
  Marketplace,
  PreviewPolicy,
  PreviewRequest,
  Review,
  UsageReceipt,
};
export { USAGE_RECEIPT_DISCRIMINATOR, getUsageReceiptDecoder };

/**
 * Where accounts are read from: an RPC node (`rpcAccountReader`) or anything else that returns
 * kit's `MaybeEncodedAccount`, such as a local test validator.
 */
export interface AccountReader {
  getAccounts(addresses: readonly Address[]): Promise<MaybeEncodedAccount[]>;
}

/**
 * Reads at the given commitment. Pass the one writes confirm at: a node's default is
 * `finalized`, which lags a just-confirmed write by a dozen slots or more.
 */
export function rpcAccountReader(rpc: Rpc<GetMultipleAccountsApi>, commitment?: Commitment): AccountReader {
  return {
    async getAccounts(addresses) {
      if (addresses.length === 0) return [];
      return fetchEncodedAccounts(rpc, [...addresses], commitment ? { commitment } : {});
    },
  };
}

export class AccountNotFoundError extends Error {
  constructor(
    readonly kind: string,
    readonly address: Address,
  ) {
    super(`${kind} account ${address} does not exist`);
    this.name = "AccountNotFoundError";
  }
}

export class WrongAccountTypeError extends Error {
  constructor(
    readonly kind: string,
    readonly address: Address,
    reason: string,
  ) {
    super(`${address} is not a data market ${kind} account: ${reason}`);
    this.name = "WrongAccountTypeError";
  }
}

// ---------------------------------------------------------------------------------------------
// Checking and decoding.

interface AccountKind<T> {
  name: string;
  discriminator: ReadonlyUint8Array;
  decoder: () => Decoder<T>;
}

export const ACCOUNT_KINDS = {
  Marketplace: { name: "Marketplace", discriminator: MARKETPLACE_DISCRIMINATOR, decoder: getMarketplaceDecoder },
  Dataset: { name: "Dataset", discriminator: DATASET_DISCRIMINATOR, decoder: getDatasetDecoder },
  License: { name: "License", discriminator: LICENSE_DISCRIMINATOR, decoder: getLicenseDecoder },
  UsageReceipt: { name: "UsageReceipt", discriminator: USAGE_RECEIPT_DISCRIMINATOR, decoder: getUsageReceiptDecoder },
  Review: { name: "Review", discriminator: REVIEW_DISCRIMINATOR, decoder: getReviewDecoder },
  Dispute: { name: "Dispute", discriminator: DISPUTE_DISCRIMINATOR, decoder: getDisputeDecoder },
  AllowListEntry: {
    name: "AllowListEntry",
    discriminator: ALLOW_LIST_ENTRY_DISCRIMINATOR,
    decoder: getAllowListEntryDecoder,
  },
  ContentHashRecord: {
    name: "ContentHashRecord",
    discriminator: CONTENT_HASH_RECORD_DISCRIMINATOR,
    decoder: getContentHashRecordDecoder,
  },
  FrontEnd: { name: "FrontEnd", discriminator: FRONT_END_DISCRIMINATOR, decoder: getFrontEndDecoder },
  PreviewPolicy: { name: "PreviewPolicy", discriminator: PREVIEW_POLICY_DISCRIMINATOR, decoder: getPreviewPolicyDecoder },
  PreviewRequest: { name: "PreviewRequest", discriminator: PREVIEW_REQUEST_DISCRIMINATOR, decoder: getPreviewRequestDecoder },
} as const satisfies Record<string, AccountKind<unknown>>;

export type AccountKindName = keyof typeof ACCOUNT_KINDS;

interface DecodedAccounts {
  Marketplace: Marketplace;
  Dataset: Dataset;
  License: License;
  UsageReceipt: UsageReceipt;
  Review: Review;
  Dispute: Dispute;
  AllowListEntry: AllowListEntry;
  ContentHashRecord: ContentHashRecord;
  FrontEnd: FrontEnd;
  PreviewPolicy: PreviewPolicy;
  PreviewRequest: PreviewRequest;
}

/** The decoded data of an account kind (`DecodedOf<"License">` is `License`). */
export type DecodedOf<K extends AccountKindName> = DecodedAccounts[K];

export function hasDiscriminator(data: ReadonlyUint8Array, discriminator: ReadonlyUint8Array): boolean {
  if (data.length < discriminator.length) return false;
  for (let i = 0; i < discriminator.length; i++) if (data[i] !== discriminator[i]) return false;
  return true;
}

/** Decodes an account of the program after checking its owner and discriminator. */
export function decodeProgramAccount<K extends AccountKindName>(
  kind: K,
  account: EncodedAccount,
): Account<DecodedOf<K>> {
  const spec = ACCOUNT_KINDS[kind] as AccountKind<DecodedOf<K>>;
  if (account.programAddress !== DATA_MARKET_PROGRAM_ADDRESS) {
    throw new WrongAccountTypeError(spec.name, account.address, `owned by ${account.programAddress}`);
  }
  if (!hasDiscriminator(account.data, spec.discriminator)) {
    throw new WrongAccountTypeError(spec.name, account.address, "discriminator mismatch");
  }
  const data = spec.decoder().decode(account.data);
  return { ...account, data };
}

export function decodeUsageReceipt(account: EncodedAccount): Account<UsageReceipt> {
  return decodeProgramAccount("UsageReceipt", account);
}

async function fetchMaybe<K extends AccountKindName>(
  reader: AccountReader,
  kind: K,
  address: Address,
): Promise<Account<DecodedOf<K>> | null> {
  const [account] = await reader.getAccounts([address]);
  if (!account || !account.exists) return null;
  return decodeProgramAccount(kind, account);
}

async function fetchOne<K extends AccountKindName>(
  reader: AccountReader,
  kind: K,
  address: Address,
): Promise<Account<DecodedOf<K>>> {
  const account = await fetchMaybe(reader, kind, address);
  if (!account) throw new AccountNotFoundError(kind, address);
  return account;
}

/** Fetches several accounts of one kind; missing ones are left out. */
export async function fetchAllOfKind<K extends AccountKindName>(
  reader: AccountReader,
  kind: K,
  addresses: readonly Address[],
): Promise<Account<DecodedOf<K>>[]> {
  const accounts = await reader.getAccounts(addresses);
  return accounts.flatMap((a) => (a.exists ? [decodeProgramAccount(kind, a)] : []));
}

export async function fetchMarketplace(reader: AccountReader, address?: Address): Promise<Account<Marketplace>> {
  return fetchOne(reader, "Marketplace", address ?? (await findMarketplaceAddress()));
}

export async function fetchDataset(reader: AccountReader, address: Address): Promise<Account<Dataset>> {
  return fetchOne(reader, "Dataset", address);
}

export async function fetchMaybeDataset(reader: AccountReader, address: Address): Promise<Account<Dataset> | null> {
  return fetchMaybe(reader, "Dataset", address);
}

/** The dataset that holds a content hash (through the hash's record), or null if none does. */
export async function fetchDatasetByContentHash(
  reader: AccountReader,
  contentHash: ReadonlyUint8Array,
): Promise<Account<Dataset> | null> {
  const record = await fetchContentHashRecord(reader, contentHash);
  return record ? fetchMaybe(reader, "Dataset", record.data.dataset) : null;
}

/** Which dataset holds a content hash, and whom the operator released it to (if anyone). */
export async function fetchContentHashRecord(
  reader: AccountReader,
  contentHash: ReadonlyUint8Array,
): Promise<Account<ContentHashRecord> | null> {
  return fetchMaybe(reader, "ContentHashRecord", await findContentHashRecordAddress(contentHash));
}

/** The operator's registration of a front-end wallet, or null when it is not one. */
export async function fetchFrontEnd(reader: AccountReader, wallet: Address): Promise<Account<FrontEnd> | null> {
  return fetchMaybe(reader, "FrontEnd", await findFrontEndAddress(wallet));
}

export async function fetchLicense(reader: AccountReader, address: Address): Promise<Account<License>> {
  return fetchOne(reader, "License", address);
}

export async function fetchMaybeLicense(reader: AccountReader, address: Address): Promise<Account<License> | null> {
  return fetchMaybe(reader, "License", address);
}

/** The buyer's licence to a dataset, if they hold one. */
export async function fetchLicenseOf(
  reader: AccountReader,
  dataset: Address,
  buyer: Address,
): Promise<Account<License> | null> {
  return fetchMaybe(reader, "License", await findLicenseAddress(dataset, buyer));
}

export async function fetchUsageReceipt(reader: AccountReader, address: Address): Promise<Account<UsageReceipt>> {
  return fetchOne(reader, "UsageReceipt", address);
}

export async function fetchReview(reader: AccountReader, address: Address): Promise<Account<Review>> {
  return fetchOne(reader, "Review", address);
}

/** The review of a licence, if written. */
export async function fetchReviewOfLicense(reader: AccountReader, license: Address): Promise<Account<Review> | null> {
  return fetchMaybe(reader, "Review", await findReviewAddress(license));
}

export async function fetchDispute(reader: AccountReader, address: Address): Promise<Account<Dispute>> {
  return fetchOne(reader, "Dispute", address);
}

/** The dispute record of a licence, if one exists. */
export async function fetchDisputeOfLicense(reader: AccountReader, license: Address): Promise<Account<Dispute> | null> {
  return fetchMaybe(reader, "Dispute", await findDisputeAddress(license));
}

export async function fetchAllowListEntry(
  reader: AccountReader,
  address: Address,
): Promise<Account<AllowListEntry>> {
  return fetchOne(reader, "AllowListEntry", address);
}

/** Whether `buyer` is on the dataset's allow-list. */
export async function isOnAllowList(reader: AccountReader, dataset: Address, buyer: Address): Promise<boolean> {
  return (await fetchMaybe(reader, "AllowListEntry", await findAllowListEntryAddress(dataset, buyer))) !== null;
}

// ---------------------------------------------------------------------------------------------
// Dataset helpers.

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** The dataset's tags as text (the empty slots left out). */
export function datasetTags(dataset: Pick<Dataset, "tags">): string[] {
  return dataset.tags
    .map((slot) => {
      let end = slot.length;
      while (end > 0 && slot[end - 1] === 0) end--;
      return end === 0 ? null : utf8.decode(slot.subarray(0, end));
    })
    .filter((tag): tag is string => tag !== null);
}

/** A tag as the program stores it: UTF-8, zero-padded to TAG_LEN bytes. */
export function encodeTag(tag: string): Uint8Array {
  const bytes = utf8Encoder.encode(tag);
  if (bytes.length === 0 || bytes.length > TAG_LEN) {
    throw new RangeError(`a tag is 1 to ${TAG_LEN} bytes of UTF-8, got ${bytes.length}`);
  }
  const slot = new Uint8Array(TAG_LEN);
  slot.set(bytes);
  return slot;
}


/**
 * The average rating (1 to 5) of reviews by paying buyers, or null when there is none. Reviews of
 * free licences are kept apart (see datasetFreeRating): free copies cannot sway a paid score.
 */
export function datasetAverageRating(dataset: Pick<Dataset, "ratings">): number | null {
  const { count, sum } = dataset.ratings.paid;
  return count === 0 ? null : Number(sum) / count;
}

/** The average rating of reviews by holders of free licences, or null when there is none. */
export function datasetFreeRating(dataset: Pick<Dataset, "ratings">): number | null {
  const { count, sum } = dataset.ratings.free;
  return count === 0 ? null : Number(sum) / count;
}

/** The revenue recipients in use (the owner first). */
export function datasetRecipients(dataset: Pick<Dataset, "recipients" | "recipientCount">): Recipient[] {
  return dataset.recipients.slice(0, dataset.recipientCount);
}

/**
 * What the escrow vault must hold: escrowed payments, claimable revenue, referral fees owed and
 * protocol fees not yet swept (the ledger total; the program keeps the vault balance equal to it).
 */
export function datasetLedgerTotal(dataset: Pick<Dataset, "ledger">): bigint {
  const { escrowed, claimable, referralFeesOwed, protocolFeesOwed } = dataset.ledger;
  return claimable.reduce((sum, owed) => sum + owed, escrowed) + referralFeesOwed + protocolFeesOwed;
}

/** What `recipient` can claim from the dataset now (0 if it is not a recipient). */
export function claimableBy(dataset: Pick<Dataset, "recipients" | "recipientCount" | "ledger">, recipient: Address): bigint {
  const index = datasetRecipients(dataset).findIndex((r) => r.wallet === recipient);
  return index < 0 ? 0n : (dataset.ledger.claimable[index] ?? 0n);
}

/** The `amount` of an SPL Token or Token-2022 account (null when it does not exist). */
export async function fetchTokenBalance(reader: AccountReader, tokenAccount: Address): Promise<bigint | null> {
  const [account] = await reader.getAccounts([tokenAccount]);
  if (!account || !account.exists) return null;
  if (account.data.length < TOKEN_ACCOUNT_AMOUNT_OFFSET + 8) {
    throw new WrongAccountTypeError("token", tokenAccount, "too short for a token account");
  }
  return getU64Decoder().decode(account.data, TOKEN_ACCOUNT_AMOUNT_OFFSET);
}

/** The vault balance next to what the ledger says it must hold. */
export async function checkEscrowVault(
  reader: AccountReader,
  dataset: Account<Dataset>,
): Promise<{ balance: bigint; owed: bigint; balanced: boolean }> {
  const balance = (await fetchTokenBalance(reader, dataset.data.escrowVault)) ?? 0n;
  const owed = datasetLedgerTotal(dataset.data);
  return { balance, owed, balanced: balance === owed };
}

// ---------------------------------------------------------------------------------------------
// Licence helpers.

/** Whether the owner has delivered the sealed content key (a licence holds 96 zero bytes until then). */
export function isKeyDelivered(license: Pick<License, "sealedKey">): boolean {
  return license.sealedKey.length === SEALED_KEY_LEN && license.sealedKey.some((b) => b !== 0);
}

/** Whether a licence has expired at `now` (unix seconds); a perpetual licence never does. */
export function isLicenseExpired(license: Pick<License, "expiresAt">, now: bigint | number): boolean {
  return license.expiresAt !== 0n && BigInt(now) >= license.expiresAt;
}

/** The dataset's preview policy (chunk-tree root and limits), or null when previews were never enabled. */
export async function fetchPreviewPolicy(reader: AccountReader, dataset: Address): Promise<Account<PreviewPolicy> | null> {
  return fetchMaybe(reader, "PreviewPolicy", await findPreviewPolicyAddress(dataset));
}

export async function fetchPreviewRequest(reader: AccountReader, address: Address): Promise<Account<PreviewRequest>> {
  return fetchOne(reader, "PreviewRequest", address);
}
