// Listing the program's accounts with getProgramAccounts filters: the account discriminator at
// offset 0 plus memcmp on the fixed-position fields (see LAYOUT in constants.ts).
//
// A query is a list of alternatives, each a list of filters that must all match (the RPC has no
// "or": a tag can sit in any of the 5 tag slots, so a tag query runs 5 requests). The same filter
// objects run against an RPC node (`rpcProgramAccountSource`) or against accounts already in hand
// (`localProgramAccountSource`, which applies `matchesFilters`).
import {
  getBase64Codec,
  getAddressEncoder,
  type Account,
  type Address,
  type Base64EncodedBytes,
  type Commitment,
  type EncodedAccount,
  type GetProgramAccountsApi,
  type ReadonlyUint8Array,
  type Rpc,
} from "@solana/kit";

import type { DatasetCategory, DatasetState } from "../generated/types/index.js";
import {
  ACCOUNT_KINDS,
  decodeProgramAccount,
  fetchAllOfKind,
  type AccountKindName,
  type AccountReader,
  type Dataset,
  type License,
  type PreviewRequest,
  type Review,
  type UsageReceipt,
  encodeTag,
} from "./accounts.js";
import { DATA_MARKET_PROGRAM_ADDRESS, LAYOUT, MAX_TAGS, TAG_LEN } from "./constants.js";

/** The RPC's memcmp and dataSize filters (base64 bytes). */
export type ProgramAccountFilter =
  | Readonly<{ memcmp: Readonly<{ offset: bigint; bytes: Base64EncodedBytes; encoding: "base64" }> }>
  | Readonly<{ dataSize: bigint }>;

export interface ProgramAccountQuery {
  /** The account type every result is decoded as. */
  kind: AccountKindName;
  /** Alternatives: an account matches when it matches every filter of at least one of them. */
  alternatives: readonly (readonly ProgramAccountFilter[])[];
}

const base64 = getBase64Codec();
const addressEncoder = getAddressEncoder();

export function memcmpFilter(offset: number, bytes: ReadonlyUint8Array): ProgramAccountFilter {
  return { memcmp: { offset: BigInt(offset), bytes: base64.decode(bytes) as Base64EncodedBytes, encoding: "base64" } };
}

export function dataSizeFilter(size: number): ProgramAccountFilter {
  return { dataSize: BigInt(size) };
}

function discriminatorFilter(kind: AccountKindName): ProgramAccountFilter {
  return memcmpFilter(0, ACCOUNT_KINDS[kind].discriminator);
}

function query(kind: AccountKindName, ...filters: ProgramAccountFilter[]): ProgramAccountQuery {
  return { kind, alternatives: [[discriminatorFilter(kind), ...filters]] };
}

/** Whether account data passes every filter, with the RPC's semantics. */
export function matchesFilters(data: ReadonlyUint8Array, filters: readonly ProgramAccountFilter[]): boolean {
  return filters.every((filter) => {
    if ("dataSize" in filter) return BigInt(data.length) === filter.dataSize;
    const offset = Number(filter.memcmp.offset);
    const bytes = base64.encode(filter.memcmp.bytes);
    if (offset + bytes.length > data.length) return false;
    for (let i = 0; i < bytes.length; i++) if (data[offset + i] !== bytes[i]) return false;
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Sources.

export interface ProgramAccountSource {
  /** The program's accounts that pass every filter. */
  getProgramAccounts(filters: readonly ProgramAccountFilter[]): Promise<EncodedAccount[]>;
}

export function rpcProgramAccountSource(
  rpc: Rpc<GetProgramAccountsApi>,
  programAddress: Address = DATA_MARKET_PROGRAM_ADDRESS,
  commitment?: Commitment,
): ProgramAccountSource {
  return {
    async getProgramAccounts(filters) {
      const result = await rpc
        .getProgramAccounts(programAddress, { encoding: "base64", filters: [...filters], ...(commitment ? { commitment } : {}) })
        .send();
      return result.map(({ pubkey, account }) => ({
        address: pubkey,
        data: base64.encode(account.data[0]) as Uint8Array,
        executable: account.executable,
        lamports: account.lamports,
        programAddress: account.owner,
        space: account.space,
      }));
    },
  };
}

/** Filters accounts already fetched (an indexer's store, a test validator's accounts, a cache). */
export function localProgramAccountSource(
  accounts: readonly EncodedAccount[],
  programAddress: Address = DATA_MARKET_PROGRAM_ADDRESS,
): ProgramAccountSource {
  return {
    async getProgramAccounts(filters) {
      return accounts.filter((a) => a.programAddress === programAddress && matchesFilters(a.data, filters));
    },
  };
}

/** Runs every alternative of a query; each account appears once. */
export async function findProgramAccounts(source: ProgramAccountSource, q: ProgramAccountQuery): Promise<EncodedAccount[]> {
  const seen = new Map<Address, EncodedAccount>();
  for (const filters of q.alternatives) {
    for (const account of await source.getProgramAccounts(filters)) {
      if (!seen.has(account.address)) seen.set(account.address, account);
    }
  }
  return [...seen.values()];
}

async function findDecoded<T extends object>(source: ProgramAccountSource, q: ProgramAccountQuery): Promise<Account<T>[]> {
  const accounts = await findProgramAccounts(source, q);
  return accounts.map((a) => decodeProgramAccount(q.kind, a) as unknown as Account<T>);
}

// ---------------------------------------------------------------------------------------------
// Queries.

export const queries = {
  allDatasets: (): ProgramAccountQuery => query("Dataset"),
  datasetsByOwner: (owner: Address): ProgramAccountQuery =>
    query("Dataset", memcmpFilter(LAYOUT.dataset.owner, addressEncoder.encode(owner))),
  datasetsByCategory: (category: DatasetCategory): ProgramAccountQuery =>
    query("Dataset", memcmpFilter(LAYOUT.dataset.category, Uint8Array.of(category))),
  datasetsByState: (state: DatasetState): ProgramAccountQuery =>
    query("Dataset", memcmpFilter(LAYOUT.dataset.state, Uint8Array.of(state))),
  /** Datasets carrying `tag` (exact match) in any of their tag slots. */
  datasetsByTag: (tag: string): ProgramAccountQuery => {
    const slot = encodeTag(tag);
    const alternatives = Array.from({ length: MAX_TAGS }, (_, i) => [
      discriminatorFilter("Dataset"),
      memcmpFilter(LAYOUT.dataset.tags + i * TAG_LEN, slot),
    ]);
    return { kind: "Dataset", alternatives };
  },
  /** The preview requests of a dataset (every state: the caller picks the pending ones). */
  previewRequestsByDataset: (dataset: Address): ProgramAccountQuery =>
    query("PreviewRequest", memcmpFilter(LAYOUT.previewRequest.dataset, addressEncoder.encode(dataset))),
  licensesByDataset: (dataset: Address): ProgramAccountQuery =>
    query("License", memcmpFilter(LAYOUT.license.dataset, addressEncoder.encode(dataset))),
  licensesByBuyer: (buyer: Address): ProgramAccountQuery =>
    query("License", memcmpFilter(LAYOUT.license.buyer, addressEncoder.encode(buyer))),
  receiptsByDataset: (dataset: Address): ProgramAccountQuery =>
    query("UsageReceipt", memcmpFilter(LAYOUT.usageReceipt.dataset, addressEncoder.encode(dataset))),
  receiptsByLicense: (license: Address): ProgramAccountQuery =>
    query("UsageReceipt", memcmpFilter(LAYOUT.usageReceipt.license, addressEncoder.encode(license))),
  receiptsByModelHash: (modelHash: ReadonlyUint8Array): ProgramAccountQuery => {
    if (modelHash.length !== 32) throw new RangeError("a model hash is 32 bytes");
    return query("UsageReceipt", memcmpFilter(LAYOUT.usageReceipt.modelHash, modelHash));
  },
  reviewsByDataset: (dataset: Address): ProgramAccountQuery =>
    query("Review", memcmpFilter(LAYOUT.review.dataset, addressEncoder.encode(dataset))),
  /** Every dispute record, ruled or not (the arbiter's list). */
  allDisputes: (): ProgramAccountQuery => query("Dispute"),
} as const;

export async function findDatasets(source: ProgramAccountSource, q: ProgramAccountQuery): Promise<Account<Dataset>[]> {
  if (q.kind !== "Dataset") throw new TypeError(`not a dataset query: ${q.kind}`);
  return findDecoded<Dataset>(source, q);
}

export async function findLicenses(source: ProgramAccountSource, q: ProgramAccountQuery): Promise<Account<License>[]> {
  if (q.kind !== "License") throw new TypeError(`not a licence query: ${q.kind}`);
  return findDecoded<License>(source, q);
}

export async function findPreviewRequests(source: ProgramAccountSource, q: ProgramAccountQuery): Promise<Account<PreviewRequest>[]> {
  if (q.kind !== "PreviewRequest") throw new TypeError(`not a preview request query: ${q.kind}`);
  return findDecoded<PreviewRequest>(source, q);
}

export async function findUsageReceipts(
  source: ProgramAccountSource,
  q: ProgramAccountQuery,
): Promise<Account<UsageReceipt>[]> {
  if (q.kind !== "UsageReceipt") throw new TypeError(`not a receipt query: ${q.kind}`);
  const receipts = await findDecoded<UsageReceipt>(source, q);
  return receipts.sort((a, b) =>
    a.data.license === b.data.license
      ? Number(a.data.index - b.data.index)
      : a.data.license < b.data.license
        ? -1
        : 1,
  );
}

export async function findReviews(source: ProgramAccountSource, q: ProgramAccountQuery): Promise<Account<Review>[]> {
  if (q.kind !== "Review") throw new TypeError(`not a review query: ${q.kind}`);
  return findDecoded<Review>(source, q);
}

// ---------------------------------------------------------------------------------------------
// Provenance.

export interface ModelProvenance {
  modelHash: ReadonlyUint8Array;
  /** Every recorded use of data for this model. */
  receipts: Account<UsageReceipt>[];
  /** The datasets used (each once, in order of first appearance). */
  datasets: Address[];
  /** The licences under which they were used. */
  licenses: Address[];
  /** The dataset accounts, when a reader was given (closed datasets are left out). */
  datasetAccounts?: Account<Dataset>[];
}

/** Which datasets, under which licences, went into the model or artifact with this hash. */
export async function findModelProvenance(
  source: ProgramAccountSource,
  modelHash: ReadonlyUint8Array,
  reader?: AccountReader,
): Promise<ModelProvenance> {
  const receipts = await findUsageReceipts(source, queries.receiptsByModelHash(modelHash));
  const datasets = [...new Set(receipts.map((r) => r.data.dataset))];
  const licenses = [...new Set(receipts.map((r) => r.data.license))];
  const provenance: ModelProvenance = { modelHash, receipts, datasets, licenses };
  if (reader) provenance.datasetAccounts = await fetchAllOfKind(reader, "Dataset", datasets);
  return provenance;
}
