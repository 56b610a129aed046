// The program's accounts that name one account (a buyer's licences, a dataset's reviews, the usage
// receipts of a licence or of a model), from one of two places:
//
//   the chain    getProgramAccounts with the list's memcmp filters (`queries` in discovery.ts);
//   an indexer   its list endpoint, then every address read with getMultipleAccounts and kept only
//                when the chain's account passes the very same filters.
//
// So an indexer can omit, never forge: what the caller gets are the chain's accounts, and an item
// the chain does not confirm is reported in `dropped`.
//
// Universal code: no Node-only imports.
import type { Account, Address, ReadonlyUint8Array } from "@solana/kit";

import { toHex } from "../crypto/bytes.js";
import { decodeProgramAccount, type AccountKindName, type AccountReader, type DecodedOf } from "./accounts.js";
import { findProgramAccounts, matchesFilters, queries, type ProgramAccountQuery, type ProgramAccountSource } from "./discovery.js";
import { allPages, type IndexedItem, type IndexedPage, type IndexerClient, type PageRequest } from "./indexer.js";
import { verifyAccounts, type DroppedItem } from "./search.js";

export interface AccountList<K extends AccountKindName> {
  kind: K;
  /** For people: "licences of <buyer>". */
  label: string;
  /** The getProgramAccounts filters: the definition of the list, checked on every indexed item. */
  query: ProgramAccountQuery;
  /** The indexer's endpoint for the same list. */
  fromIndexer(client: IndexerClient, page: PageRequest): Promise<IndexedPage<IndexedItem>>;
}

function list<K extends AccountKindName>(
  kind: K,
  label: string,
  query: ProgramAccountQuery,
  fromIndexer: AccountList<K>["fromIndexer"],
): AccountList<K> {
  if (query.kind !== kind) throw new TypeError(`a ${kind} list with a ${query.kind} query`);
  return { kind, label, query, fromIndexer };
}

export const accountLists = {
  licensesByBuyer: (buyer: Address) =>
    list("License", `licences of ${buyer}`, queries.licensesByBuyer(buyer), (c, p) => c.licenseeLicenses(buyer, p)),
  licensesByDataset: (dataset: Address) =>
    list("License", `licences of dataset ${dataset}`, queries.licensesByDataset(dataset), (c, p) => c.datasetLicenses(dataset, p)),
  receiptsByDataset: (dataset: Address) =>
    list("UsageReceipt", `usage receipts of dataset ${dataset}`, queries.receiptsByDataset(dataset), (c, p) =>
      c.datasetReceipts(dataset, p),
    ),
  receiptsByLicense: (license: Address) =>
    list("UsageReceipt", `usage receipts of licence ${license}`, queries.receiptsByLicense(license), (c, p) =>
      c.licenseReceipts(license, p),
    ),
  receiptsByModelHash: (modelHash: ReadonlyUint8Array) =>
    list("UsageReceipt", `usage receipts of model ${toHex(modelHash)}`, queries.receiptsByModelHash(modelHash), (c, p) =>
      c.modelReceipts(toHex(modelHash), p),
    ),
  reviewsByDataset: (dataset: Address) =>
    list("Review", `reviews of dataset ${dataset}`, queries.reviewsByDataset(dataset), (c, p) => c.datasetReviews(dataset, p)),
} as const;

export interface ListedAccounts<K extends AccountKindName> {
  accounts: Account<DecodedOf<K>>[];
  /** Items the indexer named that the chain does not confirm (always empty from the chain). */
  dropped: DroppedItem[];
  /** Where the list came from: "the indexer at <url>" or the RPC node. */
  source: "indexer" | "chain";
}

export interface ListSources {
  /** getProgramAccounts and getMultipleAccounts of the cluster. */
  chain: ProgramAccountSource & AccountReader;
  /** Ask this indexer instead of scanning the program's accounts. */
  indexer?: IndexerClient | null;
  /** With an indexer: wait until it has indexed this slot (a client seeing its own write). */
  minSlot?: bigint;
}

/** Every account of the list (in the indexer's order, newest first; in the node's order without one). */
export async function listAccounts<K extends AccountKindName>(list: AccountList<K>, sources: ListSources): Promise<ListedAccounts<K>> {
  if (!sources.indexer) {
    const found = await findProgramAccounts(sources.chain, list.query);
    return { accounts: found.map((a) => decodeProgramAccount(list.kind, a)), dropped: [], source: "chain" };
  }
  const client = sources.indexer;
  const items = await allPages((page) => list.fromIndexer(client, page), { minSlot: sources.minSlot });
  const { accounts, dropped } = await verifyAccounts(sources.chain, list.kind, items.map((i) => i.address), (_, raw) =>
    list.query.alternatives.some((filters) => matchesFilters(raw.data, filters)) ? null : `on the chain it is not one of the ${list.label}`,
  );
  return { accounts, dropped, source: "indexer" };
}
