// Finding datasets and the deliveries an owner owes, from one of two places behind one interface:
//
//   chainDiscovery    getProgramAccounts with the narrowest memcmp filter the query allows, then the
//                     query's other filters, its order and its pages applied to the accounts;
//   indexerDiscovery  the indexer's API (indexer.ts), every page checked against the chain.
//
// An indexer can omit, never forge: each address it gives is read with getMultipleAccounts and
// decoded with the program's generated decoders; an item that is absent on the chain, not an account
// of the program, not a dataset, or whose chain data no longer matches the query is dropped and
// reported in `dropped`. What the caller gets are the chain's accounts, never the indexer's copy of
// a field. What an indexer leaves out cannot be detected from its answer; the chain path is the
// check (the end-to-end test compares the two).
//
// Universal code: no Node-only imports.
import type { Account, Address, EncodedAccount } from "@solana/kit";

import { DatasetState, LicenseState } from "../generated/types/index.js";
import {
  decodeProgramAccount,
  hasDiscriminator,
  isKeyDelivered,
  ACCOUNT_KINDS,
  encodeTag,
  type AccountKindName,
  type AccountReader,
  type Dataset,
  type DecodedOf,
  type License,
} from "./accounts.js";
import { DATA_MARKET_PROGRAM_ADDRESS, LAYOUT, MAX_TAGS, TAG_LEN } from "./constants.js";
import {
  compareDatasets,
  datasetCategoryName,
  datasetMismatch,
  datasetSortKey,
  datasetStateName,
  effectiveSort,
  hasTextTerms,
  queryTags,
  type DatasetQuery,
  type DatasetSort,
} from "./dataset-query.js";
import { findDatasets, findLicenses, memcmpFilter, queries, type ProgramAccountQuery, type ProgramAccountSource } from "./discovery.js";
import { allPages, type IndexedDataset, type IndexerClient, type IndexerSearchParams, type PageRequest } from "./indexer.js";

/** Results per page unless the request says otherwise (the indexer's default too). */
export const DEFAULT_PAGE_LIMIT = 20;

/** An item an indexer gave that the chain does not bear out. */
export interface DroppedItem {
  address: Address;
  reason: "absent" | "foreign" | "wrong-type" | "mismatch" | "duplicate";
  /** For people: what the chain says instead. */
  detail: string;
}

export interface DatasetPage {
  /** The chain's accounts, in the query's order. */
  datasets: Account<Dataset>[];
  nextCursor: string | null;
  /** What the indexer gave that the chain does not bear out (always empty on the chain path). */
  dropped: DroppedItem[];
  /** The indexer's checkpoint when it answered (null on the chain path). */
  indexedSlot: bigint | null;
}

export interface PendingDelivery {
  license: Account<License>;
  dataset: Account<Dataset>;
}

export interface PendingDeliveries {
  /** Licences waiting for their key (state awaiting key, no sealed key yet), read from the chain. */
  pending: PendingDelivery[];
  /** What the indexer gave that is not (or no longer) pending on the chain. */
  dropped: DroppedItem[];
}

export interface Discovery {
  readonly source: "chain" | "indexer";
  /** For messages: the RPC node or the indexer's URL. */
  readonly label: string;
  /** One page of datasets matching the query, in its order (DatasetQuery's `sort`). */
  searchDatasets(query: DatasetQuery, page?: PageRequest): Promise<DatasetPage>;
  /** Licences of the owner's datasets waiting for their key. */
  pendingDeliveries(owner: Address, options?: { minSlot?: bigint }): Promise<PendingDeliveries>;
}

/** Every page of a search (follows the cursor; `dropped` are gathered). */
export async function searchAllDatasets(
  discovery: Discovery,
  query: DatasetQuery,
  page: PageRequest = {},
): Promise<Omit<DatasetPage, "nextCursor">> {
  const datasets: Account<Dataset>[] = [];
  const dropped: DroppedItem[] = [];
  let request: PageRequest = { ...page, limit: page.limit ?? 100 };
  for (;;) {
    const answer = await discovery.searchDatasets(query, request);
    datasets.push(...answer.datasets);
    dropped.push(...answer.dropped);
    if (answer.nextCursor === null) return { datasets, dropped, indexedSlot: answer.indexedSlot };
    request = { limit: request.limit, cursor: answer.nextCursor };
  }
}

// ---------------------------------------------------------------------------------------------
// The chain.

export interface ChainQueryPlan {
  /** What runs on the node. */
  query: ProgramAccountQuery;
  /** The filter the node applies, or null when every dataset is downloaded. */
  narrowedBy: "owner" | "category" | "state" | "tag" | null;
}

/**
 * The narrowest getProgramAccounts filter for a query; the rest is applied to the node's answer. A
 * tag is matched by the node as typed and in lower case (the node compares bytes; the query, like
 * the indexer, compares tags without regard to case, so a tag stored in mixed case is found only
 * when typed that way or through an indexer).
 */
export function chainQueryPlan(query: DatasetQuery): ChainQueryPlan {
  if (query.owner !== undefined) return { query: queries.datasetsByOwner(query.owner), narrowedBy: "owner" };
  if (query.category !== undefined) return { query: queries.datasetsByCategory(query.category), narrowedBy: "category" };
  if (typeof query.state === "number") return { query: queries.datasetsByState(query.state), narrowedBy: "state" };
  const [tag] = queryTags(query);
  if (tag !== undefined) {
    const forms = [...new Set([tag, tag.toLowerCase()])].filter((form) => {
      try {
        encodeTag(form);
        return true;
      } catch {
        return false;
      }
    });
    const base = queries.allDatasets().alternatives[0]![0]!;
    const alternatives = forms.flatMap((form) =>
      Array.from({ length: MAX_TAGS }, (_, i) => [base, memcmpFilter(LAYOUT.dataset.tags + i * TAG_LEN, encodeTag(form))]),
    );
    return { query: { kind: "Dataset", alternatives }, narrowedBy: "tag" };
  }
  return { query: queries.allDatasets(), narrowedBy: null };
}

function encodeChainCursor(dataset: Account<Dataset>, sort: DatasetSort): string {
  return `${datasetSortKey(dataset.data, sort).key}~${dataset.address}`;
}

/** Accounts after the cursor in the sorted list (keyset: robust to items coming and going). */
function afterCursor(sorted: Account<Dataset>[], sort: DatasetSort, cursor: string): Account<Dataset>[] {
  const at = cursor.lastIndexOf("~");
  const keyText = cursor.slice(0, Math.max(at, 0));
  const address = cursor.slice(at + 1);
  const valid = at > 0 && (sort === "rating" ? Number.isFinite(Number(keyText)) : /^-?\d+$/.test(keyText));
  if (!valid) throw new RangeError("the cursor is not one this search gave");
  const key: bigint | number = sort === "rating" ? Number(keyText) : BigInt(keyText);
  return sorted.filter((d) => {
    const { key: k, descending } = datasetSortKey(d.data, sort);
    const order = k < key ? -1 : k > key ? 1 : d.address < address ? -1 : d.address > address ? 1 : 0;
    return descending ? order < 0 : order > 0;
  });
}

/** Discovery with getProgramAccounts on the node (`source`: a MarketConnection, or any source and reader). */
export function chainDiscovery(source: ProgramAccountSource & AccountReader, label = "the RPC node"): Discovery {
  return {
    source: "chain",
    label,
    async searchDatasets(query, page = {}) {
      const sort = effectiveSort(query);
      const candidates = await findDatasets(source, chainQueryPlan(query).query);
      const matching = candidates.filter((d) => datasetMismatch(d.data, query) === null).sort(compareDatasets(sort));
      const rest = page.cursor === undefined ? matching : afterCursor(matching, sort, page.cursor);
      const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
      const datasets = rest.slice(0, limit);
      const last = datasets[datasets.length - 1];
      return {
        datasets,
        nextCursor: rest.length > limit && last ? encodeChainCursor(last, sort) : null,
        dropped: [],
        indexedSlot: null,
      };
    },
    async pendingDeliveries(owner) {
      const pending: PendingDelivery[] = [];
      for (const dataset of await findDatasets(source, queries.datasetsByOwner(owner))) {
        for (const license of await findLicenses(source, queries.licensesByDataset(dataset.address))) {
          if (isPending(license.data)) pending.push({ license, dataset });
        }
      }
      return { pending, dropped: [] };
    },
  };
}

function isPending(license: License): boolean {
  return license.state === LicenseState.AwaitingKey && !isKeyDelivered(license);
}

// ---------------------------------------------------------------------------------------------
// Verification against the chain.

const MULTIPLE_ACCOUNTS_LIMIT = 100;

async function readAccounts(reader: AccountReader, addresses: readonly Address[]) {
  const out = [];
  for (let i = 0; i < addresses.length; i += MULTIPLE_ACCOUNTS_LIMIT) {
    out.push(...(await reader.getAccounts(addresses.slice(i, i + MULTIPLE_ACCOUNTS_LIMIT))));
  }
  return out;
}

/** What people call each kind of the program's accounts. */
const KIND_LABELS: Record<AccountKindName, string> = {
  Marketplace: "marketplace",
  Dataset: "dataset",
  License: "licence",
  UsageReceipt: "usage receipt",
  Review: "review",
  Dispute: "dispute",
  AllowListEntry: "allow-list entry",
  ContentHashRecord: "content hash record",
  FrontEnd: "front-end",
  PreviewPolicy: "preview policy",
  PreviewRequest: "preview request",
};

/**
 * Reads the accounts an indexer named and keeps those that are, on the chain, the program's
 * accounts of `kind` and pass `check` (the reason they do not, or null; it sees the decoded account
 * and the raw one); in the given order.
 */
export async function verifyAccounts<K extends AccountKindName>(
  reader: AccountReader,
  kind: K,
  addresses: readonly Address[],
  check: (account: Account<DecodedOf<K>>, raw: EncodedAccount) => string | null,
): Promise<{ accounts: Account<DecodedOf<K>>[]; dropped: DroppedItem[] }> {
  const dropped: DroppedItem[] = [];
  const unique: Address[] = [];
  for (const address of addresses) {
    if (unique.includes(address)) dropped.push({ address, reason: "duplicate", detail: "given more than once" });
    else unique.push(address);
  }
  const read = await readAccounts(reader, unique);
  const accounts: Account<DecodedOf<K>>[] = [];
  unique.forEach((address, i) => {
    const account = read[i];
    if (!account || !account.exists) {
      dropped.push({ address, reason: "absent", detail: "no such account on the chain (closed, or never created)" });
      return;
    }
    if (account.programAddress !== DATA_MARKET_PROGRAM_ADDRESS) {
      dropped.push({ address, reason: "foreign", detail: `owned by ${account.programAddress}, not by the data market program` });
      return;
    }
    if (!hasDiscriminator(account.data, ACCOUNT_KINDS[kind].discriminator)) {
      dropped.push({ address, reason: "wrong-type", detail: `not a ${KIND_LABELS[kind]} account` });
      return;
    }
    let decoded: Account<DecodedOf<K>>;
    try {
      decoded = decodeProgramAccount(kind, account);
    } catch (error) {
      dropped.push({ address, reason: "wrong-type", detail: `does not decode: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const mismatch = check(decoded, account);
    if (mismatch !== null) {
      dropped.push({ address, reason: "mismatch", detail: mismatch });
      return;
    }
    accounts.push(decoded);
  });
  return { accounts, dropped };
}

/**
 * The chain's accounts of the datasets an indexer named for `query`: read with getMultipleAccounts,
 * decoded, and checked against every filter of the query (see DroppedItem for what is left out).
 */
export async function verifyDatasets(
  reader: AccountReader,
  addresses: readonly Address[],
  query: DatasetQuery,
): Promise<{ datasets: Account<Dataset>[]; dropped: DroppedItem[] }> {
  const { accounts, dropped } = await verifyAccounts(reader, "Dataset", addresses, (d) => {
    const why = datasetMismatch(d.data, query);
    return why === null ? null : `on the chain it does not match the query: ${why}`;
  });
  return { datasets: accounts, dropped };
}

/** The indexer's parameters for a query (one state, or the listed ones). */
export function indexerSearchParams(query: DatasetQuery, state?: DatasetState): IndexerSearchParams {
  const tags = queryTags(query);
  return {
    q: query.text,
    category: query.category === undefined ? undefined : datasetCategoryName(query.category),
    tags: tags.length > 0 ? tags : undefined,
    owner: query.owner,
    state: state !== undefined ? datasetStateName(state) : typeof query.state === "number" ? datasetStateName(query.state) : undefined,
    minPrice: query.minPrice,
    maxPrice: query.maxPrice,
    paymentMint: query.paymentMint,
    sort: query.sort,
  };
}

export interface IndexerDiscoveryOptions {
  /** Reads the chain to check every page (getMultipleAccounts). */
  reader: AccountReader;
}

/**
 * Discovery through an indexer, every answer checked against the chain. A query for every state
 * (`state: "any"`) runs as three searches (the listed states, unlisted, revoked) merged in one page,
 * so it takes no cursor: it is meant for one owner's datasets.
 */
export function indexerDiscovery(client: IndexerClient, options: IndexerDiscoveryOptions): Discovery {
  const reader = options.reader;
  return {
    source: "indexer",
    label: `the indexer at ${client.url}`,
    async searchDatasets(query, page = {}) {
      const sort = effectiveSort(query);
      const byScore = sort === "relevance" && hasTextTerms(query);
      if (query.state === "any") {
        const items: IndexedDataset[] = [];
        let indexedSlot: bigint | null = null;
        for (const state of [undefined, DatasetState.Unlisted, DatasetState.Revoked]) {
          const params = indexerSearchParams(query, state);
          let slot: bigint | null = null;
          items.push(
            ...(await allPages(async (request) => {
              const answer = await client.searchDatasets(params, request);
              slot ??= answer.indexedSlot;
              return answer;
            }, { minSlot: page.minSlot })),
          );
          if (slot !== null && (indexedSlot === null || slot < indexedSlot)) indexedSlot = slot;
        }
        if (byScore) items.sort((a, b) => (b.score ?? 0) - (a.score ?? 0) || (a.address < b.address ? -1 : 1));
        const { datasets, dropped } = await verifyDatasets(reader, items.map((i) => i.address), query);
        if (!byScore) datasets.sort(compareDatasets(sort));
        return { datasets, nextCursor: null, dropped, indexedSlot };
      }
      const answer = await client.searchDatasets(indexerSearchParams(query), {
        limit: page.limit ?? DEFAULT_PAGE_LIMIT,
        cursor: page.cursor,
        minSlot: page.minSlot,
      });
      const { datasets, dropped } = await verifyDatasets(reader, answer.items.map((i) => i.address), query);
      // The order within a page follows the chain's values (the indexer's order only for relevance,
      // which the chain cannot rank).
      if (!byScore) datasets.sort(compareDatasets(sort));
      return { datasets, nextCursor: answer.nextCursor, dropped, indexedSlot: answer.indexedSlot };
    },
    async pendingDeliveries(owner, request = {}) {
      const items = await allPages((page) => client.ownerPendingDeliveries(owner, page), { minSlot: request.minSlot });
      const { accounts: licenses, dropped } = await verifyAccounts(reader, "License", items.map((i) => i.address), (l) =>
        isPending(l.data) ? null : "on the chain it is no longer waiting for its key",
      );
      const datasetAddresses = [...new Set(licenses.map((l) => l.data.dataset))];
      const { accounts: datasets, dropped: droppedDatasets } = await verifyAccounts(reader, "Dataset", datasetAddresses, (d) =>
        d.data.owner === owner ? null : `on the chain its owner is ${d.data.owner}`,
      );
      const byAddress = new Map(datasets.map((d) => [d.address, d]));
      const pending: PendingDelivery[] = [];
      for (const license of licenses) {
        const dataset = byAddress.get(license.data.dataset);
        if (dataset) pending.push({ license, dataset });
        else {
          const why = droppedDatasets.find((d) => d.address === license.data.dataset);
          dropped.push({ address: license.address, reason: "mismatch", detail: `its dataset ${license.data.dataset}: ${why?.detail ?? "unreadable"}` });
        }
      }
      return { pending, dropped };
    },
  };
}
