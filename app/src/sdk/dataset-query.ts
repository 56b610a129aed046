// What a dataset search asks for, and what it means on a decoded account. The indexer's
// `/v1/datasets` API (indexer/README.md) defines the semantics; this module applies the same ones to
// accounts read from the chain, so that the getProgramAccounts path and the indexer path of
// `Discovery` (search.ts) agree, and so that an indexer's answer can be checked against the chain.
//
// Universal code: no Node-only imports (a browser dapp uses it).
import type { Account, Address } from "@solana/kit";

import { DatasetCategory, DatasetState } from "../generated/types/index.js";
import { datasetTags, type Dataset } from "./accounts.js";

export type DatasetSort = "relevance" | "rating" | "sales" | "price" | "price_desc" | "newest";

export const DATASET_SORTS: readonly DatasetSort[] = ["relevance", "rating", "sales", "price", "price_desc", "newest"];

/** One state; `listed` (the default) is every state but unlisted and revoked; `any` is every state. */
export type DatasetStateFilter = DatasetState | "listed" | "any";

export interface DatasetQuery {
  /** Words of the title or tags: every word must appear as a word, the last one as a prefix. */
  text?: string;
  category?: DatasetCategory;
  /** Every tag must be present (compared without regard to case). */
  tags?: readonly string[];
  owner?: Address;
  state?: DatasetStateFilter;
  /** Price bounds in base units, inclusive. */
  minPrice?: bigint;
  maxPrice?: bigint;
  paymentMint?: Address;
  /** Default: relevance with text, newest without. */
  sort?: DatasetSort;
}

// ---------------------------------------------------------------------------------------------
// Enum names as the indexer writes them (snake_case of the program's variant names).

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

/** `OrderingPaused` → `ordering_paused`. */
export function datasetStateName(state: DatasetState): string {
  return snake(DatasetState[state]);
}

export function datasetCategoryName(category: DatasetCategory): string {
  return snake(DatasetCategory[category]);
}

function enumFromName<E extends Record<string, string | number>>(table: E, name: string): E[keyof E] | null {
  for (const [key, value] of Object.entries(table)) {
    if (typeof value === "number" && snake(key) === name) return value as E[keyof E];
  }
  return null;
}

export function parseDatasetStateName(name: string): DatasetState | null {
  return enumFromName(DatasetState, name);
}

export function parseDatasetCategoryName(name: string): DatasetCategory | null {
  return enumFromName(DatasetCategory, name);
}

// ---------------------------------------------------------------------------------------------
// Text: the indexer's full-text index (SQLite FTS5, `unicode61 remove_diacritics 2`) over title and
// tags. A query is reduced to its runs of letters and digits (at most 16, each at most 64
// characters); every one must equal a word of the title or tags, the last one may be a prefix.

const MAX_QUERY_TERMS = 16;

/** Lower case, diacritics removed: how the text index compares words. */
function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The query's terms, as the indexer sanitises them (empty when nothing searchable is left). */
export function textQueryTerms(text: string): string[] {
  return text
    .split(/[^\p{Alphabetic}\p{N}]+/u)
    .filter((term) => term.length > 0)
    .slice(0, MAX_QUERY_TERMS)
    .map((term) => fold([...term].slice(0, 64).join("")))
    .filter((term) => term.length > 0);
}

function words(text: string): string[] {
  return fold(text)
    .split(/[^\p{L}\p{N}\p{Co}]+/u)
    .filter((word) => word.length > 0);
}

/** Whether the dataset's title and tags hold every term (the last as a prefix). */
export function matchesText(dataset: Pick<Dataset, "title" | "tags">, text: string): boolean {
  const terms = textQueryTerms(text);
  if (terms.length === 0) return true;
  const found = new Set([...words(dataset.title), ...datasetTags(dataset).flatMap(words)]);
  const last = terms[terms.length - 1]!;
  return terms.slice(0, -1).every((term) => found.has(term)) && [...found].some((word) => word.startsWith(last));
}

// ---------------------------------------------------------------------------------------------
// Filters.

/** Tags of a query as the indexer reads them: trimmed, empty ones dropped (compared in lower case). */
export function queryTags(query: DatasetQuery): string[] {
  return (query.tags ?? []).map((t) => t.trim()).filter((t) => t.length > 0);
}

/**
 * Why the dataset does not match the query, or null when it does. Every filter of the query is
 * checked, the text included.
 */
export function datasetMismatch(dataset: Dataset, query: DatasetQuery): string | null {
  const state = query.state ?? "listed";
  if (state === "listed") {
    if (dataset.state === DatasetState.Unlisted || dataset.state === DatasetState.Revoked) {
      return `state is ${datasetStateName(dataset.state)}`;
    }
  } else if (state !== "any" && dataset.state !== state) {
    return `state is ${datasetStateName(dataset.state)}, not ${datasetStateName(state)}`;
  }
  if (query.category !== undefined && dataset.category !== query.category) {
    return `category is ${datasetCategoryName(dataset.category)}, not ${datasetCategoryName(query.category)}`;
  }
  const tags = datasetTags(dataset).map((t) => t.toLowerCase());
  for (const tag of queryTags(query)) {
    if (!tags.includes(tag.toLowerCase())) return `has no tag "${tag}"`;
  }
  if (query.owner !== undefined && dataset.owner !== query.owner) return `owner is ${dataset.owner}`;
  if (query.paymentMint !== undefined && dataset.paymentMint !== query.paymentMint) {
    return `payment mint is ${dataset.paymentMint}`;
  }
  if (query.minPrice !== undefined && dataset.price < query.minPrice) return `price ${dataset.price} is below ${query.minPrice}`;
  if (query.maxPrice !== undefined && dataset.price > query.maxPrice) return `price ${dataset.price} is above ${query.maxPrice}`;
  if (query.text !== undefined && !matchesText(dataset, query.text)) return `title and tags do not contain "${query.text}"`;
  return null;
}

export function matchesDatasetQuery(dataset: Dataset, query: DatasetQuery): boolean {
  return datasetMismatch(dataset, query) === null;
}

// ---------------------------------------------------------------------------------------------
// Order: the indexer's keyset order, (sort key, address), ties broken by address in the same
// direction.

/** Whether the query has words to rank by (relevance then means the text index's score). */
export function hasTextTerms(query: DatasetQuery): boolean {
  return query.text !== undefined && textQueryTerms(query.text).length > 0;
}

/** The sort a query runs with: relevance with text, newest without. */
export function effectiveSort(query: DatasetQuery): DatasetSort {
  return query.sort ?? (hasTextTerms(query) ? "relevance" : "newest");
}

/**
 * The average rating over every review, paid and free, or -1 when unrated: what the indexer sorts
 * `rating` by.
 */
export function datasetSortRating(dataset: Pick<Dataset, "ratings">): number {
  const count = dataset.ratings.paid.count + dataset.ratings.free.count;
  return count === 0 ? -1 : Number(dataset.ratings.paid.sum + dataset.ratings.free.sum) / count;
}

/**
 * A dataset's sort key and whether the sort descends. Relevance has no key on the chain (only the
 * index ranks text): the chain path orders it as newest.
 */
export function datasetSortKey(dataset: Dataset, sort: DatasetSort): { key: bigint | number; descending: boolean } {
  switch (sort) {
    case "rating":
      return { key: datasetSortRating(dataset), descending: true };
    case "sales":
      return { key: dataset.licensesSold, descending: true };
    case "price":
      return { key: dataset.price, descending: false };
    case "price_desc":
      return { key: dataset.price, descending: true };
    case "relevance":
    case "newest":
      return { key: dataset.createdAt, descending: true };
  }
}

function compareKeys<T extends bigint | number | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order of `sort` over accounts (a negative number when `a` comes first). */
export function compareDatasets(sort: DatasetSort): (a: Account<Dataset>, b: Account<Dataset>) => number {
  return (a, b) => {
    const ka = datasetSortKey(a.data, sort);
    const kb = datasetSortKey(b.data, sort);
    const order = compareKeys(ka.key, kb.key) || compareKeys(a.address, b.address);
    return ka.descending ? -order : order;
  };
}
