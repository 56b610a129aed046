// A client of the indexer's read-only JSON API (indexer/README.md): typed answers, cursor pages, and
// `min_slot` (answers at least as fresh as a slot the caller has seen), waiting on
// `503 min_slot_not_reached` as long as the server's Retry-After says, up to a deadline.
//
// What it returns is what the indexer says, not what the chain says: `indexerDiscovery` (search.ts)
// checks every item against the chain before a client shows it. Universal code: `fetch` only.
import { getBase64Encoder, isAddress, type Address } from "@solana/kit";

import { DATASET_SORTS, type DatasetSort } from "./dataset-query.js";

export interface IndexerClientOptions {
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Per request, in milliseconds (default 10 s). */
  timeoutMs?: number;
  /** How long a `minSlot` read waits for the indexer to reach the slot (default 60 s). */
  minSlotTimeoutMs?: number;
  /** Stops requests and waits. */
  signal?: AbortSignal;
}

/** The indexer could not be reached, timed out, or failed on its side (5xx). */
export class IndexerUnavailableError extends Error {
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the indexer at ${url}: ${detail}`, options);
    this.name = "IndexerUnavailableError";
  }
}

/** The indexer refused the request (4xx) with `{ error, message }`. */
export class IndexerRequestError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`the indexer at ${url} refused the request: ${message} (${code})`);
    this.name = "IndexerRequestError";
  }
}

/** The indexer answered something that is not its API. */
export class IndexerProtocolError extends Error {
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`the indexer at ${url} gave an answer that is not its v1 API: ${detail}`);
    this.name = "IndexerProtocolError";
  }
}

/** A `minSlot` read: the indexer did not reach the slot in time. */
export class IndexerBehindError extends Error {
  constructor(
    readonly url: string,
    readonly minSlot: bigint,
    readonly indexedSlot: bigint | null,
    waitedMs: number,
  ) {
    super(
      `the indexer at ${url} has indexed up to slot ${indexedSlot ?? "none"}, short of slot ${minSlot} ` +
        `after waiting ${Math.round(waitedMs / 1000)} s`,
    );
    this.name = "IndexerBehindError";
  }
}

export function isIndexerError(error: unknown): error is Error {
  return (
    error instanceof IndexerUnavailableError ||
    error instanceof IndexerRequestError ||
    error instanceof IndexerProtocolError ||
    error instanceof IndexerBehindError
  );
}

// ---------------------------------------------------------------------------------------------
// Answers.

export interface IndexerHealth {
  /** The checkpoint: every account is indexed at least as of this slot (null before the first pass). */
  indexedSlot: bigint | null;
  /** The node's confirmed slot, when the indexer runs with a node. */
  chainSlot: bigint | null;
  lag: bigint | null;
  /** The metadata fetch queue (absent from indexers before it). */
  metadata?: IndexerMetadataHealth;
}

/** What the indexer knows of a dataset's off-chain metadata (indexer/README.md, *Metadata*). */
export const METADATA_STATUSES = ["pending", "ok", "mismatch", "unreachable", "not_ipfs", "too_large"] as const;
export type MetadataStatus = (typeof METADATA_STATUSES)[number];

export interface IndexerMetadataHealth {
  /** Datasets by metadata status. */
  counts: Record<MetadataStatus, number>;
  /** IPFS gateways the ingest process fetches from (0: the metadata stays pending; null: none ran yet). */
  gateways: number | null;
  note?: string;
}

/**
 * The indexer's copy of a dataset's metadata file, fetched from IPFS and checked against its CID
 * (the text fields only with status `ok`). Unverified by the client: read the file itself before
 * relying on it.
 */
export interface IndexedMetadata {
  status: MetadataStatus;
  cid: string | null;
  attempts: number;
  lastError: string | null;
  /** Unix seconds of the successful fetch. */
  fetchedAt: bigint | null;
  title?: string;
  description?: string;
  fileName?: string;
  plaintextBytes?: bigint;
  sha256?: string;
}

/** Where and when the indexer last observed an account. */
export interface IndexedItem {
  address: Address;
  slot: bigint;
  revision: bigint;
}

/** A search result: the indexer's copy of a dataset's summary. */
export interface IndexedDataset extends IndexedItem {
  owner: Address;
  title: string;
  /** snake_case variant names, e.g. `ordering_paused`. */
  category: string;
  state: string;
  price: bigint;
  paymentMint: Address;
  licensesSold: bigint;
  rating: { average: number | null; count: number };
  createdAt: bigint;
  updatedAt: bigint;
  metadataUri: string;
  tags: string[];
  /** Text relevance (higher is better), with `q`. */
  score?: number;
  /** Absent from indexers that do not fetch metadata; null before the dataset's job exists. */
  metadata?: IndexedMetadata | null;
}

export interface IndexedPage<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
  /** The indexer's checkpoint when it answered. */
  indexedSlot: bigint | null;
}

export interface IndexedDatasetPage extends IndexedPage<IndexedDataset> {
  sort: string;
  /** Counts over the whole result, with `facets`. */
  facets?: { category: Record<string, number>; state: Record<string, number>; tag: Record<string, number> };
}

export interface IndexedLicense extends IndexedItem {
  dataset: Address;
  buyer: Address;
  state: string;
  pricePaid: bigint;
  credits: bigint;
  usageCount: bigint;
  boughtAt: bigint;
  deliveredAt: bigint;
  expiresAt: bigint;
  settledAt: bigint;
}

/** A row of the other lists (receipts, reviews, disputes, an owner's datasets): the table's columns. */
export type IndexedRow = IndexedItem & Record<string, unknown>;

/** `/v1/datasets` parameters (see indexer/README.md). */
export interface IndexerSearchParams {
  q?: string;
  category?: string;
  tags?: readonly string[];
  owner?: Address;
  /** One state's snake_case name; without it, the listed states. */
  state?: string;
  minPrice?: bigint;
  maxPrice?: bigint;
  paymentMint?: Address;
  /** Only datasets whose metadata has this status. */
  metadataStatus?: MetadataStatus;
  sort?: DatasetSort;
  facets?: boolean;
}

export interface PageRequest {
  /** 1 to 100 (the indexer's default is 20). */
  limit?: number;
  cursor?: string;
  /** Answer only once the indexer has reached this slot (waits, see IndexerClientOptions). */
  minSlot?: bigint;
}

// ---------------------------------------------------------------------------------------------
// Parsing (an answer that does not have the documented shape is an IndexerProtocolError).

type Json = Record<string, unknown>;

class Reader {
  constructor(
    private readonly url: string,
    private readonly where: string,
    private readonly value: Json,
  ) {}

  fail(key: string, expected: string): never {
    throw new IndexerProtocolError(this.url, `${this.where}.${key} is not ${expected}`);
  }

  raw(key: string): unknown {
    return this.value[key];
  }

  string(key: string): string {
    const v = this.value[key];
    return typeof v === "string" ? v : this.fail(key, "a string");
  }

  address(key: string): Address {
    const v = this.value[key];
    return typeof v === "string" && isAddress(v) ? v : this.fail(key, "an address");
  }

  /** An integer given as a JSON number or a decimal string. */
  integer(key: string): bigint {
    const v = this.value[key];
    if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
    if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
    return this.fail(key, "an integer");
  }

  optionalInteger(key: string): bigint | null {
    return this.value[key] === null || this.value[key] === undefined ? null : this.integer(key);
  }

  number(key: string): number {
    const v = this.value[key];
    return typeof v === "number" && Number.isFinite(v) ? v : this.fail(key, "a number");
  }

  object(key: string): Reader {
    const v = this.value[key];
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.fail(key, "an object");
    return new Reader(this.url, `${this.where}.${key}`, v as Json);
  }

  array(key: string): unknown[] {
    const v = this.value[key];
    return Array.isArray(v) ? v : this.fail(key, "an array");
  }

  item(): IndexedItem {
    return { address: this.address("address"), slot: this.integer("slot"), revision: this.integer("revision") };
  }
}

function asObject(url: string, where: string, value: unknown): Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new IndexerProtocolError(url, `${where} is not an object`);
  }
  return value as Json;
}

function parseDataset(url: string, where: string, value: unknown): IndexedDataset {
  const r = new Reader(url, where, asObject(url, where, value));
  const rating = r.object("rating");
  const average = rating.raw("average");
  const tags = r.array("tags");
  if (!tags.every((t): t is string => typeof t === "string")) throw new IndexerProtocolError(url, `${where}.tags are not strings`);
  const dataset: IndexedDataset = {
    ...r.item(),
    owner: r.address("owner"),
    title: r.string("title"),
    category: r.string("category"),
    state: r.string("state"),
    price: r.integer("price"),
    paymentMint: r.address("payment_mint"),
    licensesSold: r.integer("licenses_sold"),
    rating: { average: average === null ? null : rating.number("average"), count: Number(rating.integer("count")) },
    createdAt: r.integer("created_at"),
    updatedAt: r.integer("updated_at"),
    metadataUri: r.string("metadata_uri"),
    tags,
  };
  if (r.raw("score") !== undefined) dataset.score = r.number("score");
  const metadata = r.raw("metadata");
  if (metadata === null) dataset.metadata = null;
  else if (metadata !== undefined) dataset.metadata = parseMetadata(r.object("metadata"));
  return dataset;
}

function parseMetadata(r: Reader): IndexedMetadata {
  const status = r.string("status");
  if (!(METADATA_STATUSES as readonly string[]).includes(status)) r.fail("status", "a metadata status");
  const nullable = <T>(key: string, read: (key: string) => T): T | null => (r.raw(key) === null || r.raw(key) === undefined ? null : read(key));
  const metadata: IndexedMetadata = {
    status: status as MetadataStatus,
    cid: nullable("cid", (k) => r.string(k)),
    attempts: Number(r.integer("attempts")),
    lastError: nullable("last_error", (k) => r.string(k)),
    fetchedAt: r.optionalInteger("fetched_at"),
  };
  if (r.raw("title") !== undefined) metadata.title = r.string("title");
  if (r.raw("description") !== undefined) metadata.description = r.string("description");
  if (r.raw("file_name") !== undefined) metadata.fileName = r.string("file_name");
  if (r.raw("plaintext_bytes") !== undefined) metadata.plaintextBytes = r.integer("plaintext_bytes");
  if (r.raw("sha256") !== undefined) metadata.sha256 = r.string("sha256");
  return metadata;
}

function parseMetadataHealth(r: Reader): IndexerMetadataHealth {
  const counts = {} as Record<MetadataStatus, number>;
  for (const status of METADATA_STATUSES) counts[status] = Number(r.integer(status));
  const gateways = r.optionalInteger("gateways");
  const health: IndexerMetadataHealth = { counts, gateways: gateways === null ? null : Number(gateways) };
  if (r.raw("note") !== undefined) health.note = r.string("note");
  return health;
}

function parseLicense(url: string, where: string, value: unknown): IndexedLicense {
  const r = new Reader(url, where, asObject(url, where, value));
  return {
    ...r.item(),
    dataset: r.address("dataset"),
    buyer: r.address("buyer"),
    state: r.string("state"),
    pricePaid: r.integer("price_paid"),
    credits: r.integer("credits"),
    usageCount: r.integer("usage_count"),
    boughtAt: r.integer("bought_at"),
    deliveredAt: r.integer("delivered_at"),
    expiresAt: r.integer("expires_at"),
    settledAt: r.integer("settled_at"),
  };
}

function parseRow(url: string, where: string, value: unknown): IndexedRow {
  const object = asObject(url, where, value);
  return { ...object, ...new Reader(url, where, object).item() };
}

function parsePage<T>(url: string, body: Json, item: (url: string, where: string, value: unknown) => T): IndexedPage<T> {
  const r = new Reader(url, "answer", body);
  const next = r.raw("next_cursor");
  if (next !== null && next !== undefined && typeof next !== "string") throw new IndexerProtocolError(url, "answer.next_cursor is not a string");
  return {
    items: r.array("items").map((value, i) => item(url, `items[${i}]`, value)),
    nextCursor: typeof next === "string" ? next : null,
    indexedSlot: r.optionalInteger("indexed_slot"),
  };
}

// ---------------------------------------------------------------------------------------------
// The client.

/** `http://host:port`, `http://host:port/` and `http://host:port/v1` all name the same API. */
export function normalizeIndexerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`indexer URL "${url}" is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new RangeError(`indexer URL "${url}" must start with http:// or https://`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "").replace(/\/v1$/, "")}`;
}

export class IndexerClient {
  /** The API's base URL, without `/v1`. */
  readonly url: string;
  private readonly fetchImpl: typeof fetch;

  constructor(
    url: string,
    private readonly options: IndexerClientOptions = {},
  ) {
    this.url = normalizeIndexerUrl(url);
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async health(): Promise<IndexerHealth> {
    const body = await this.get("/v1/health", {});
    const r = new Reader(this.url, "health", body);
    const health: IndexerHealth = {
      indexedSlot: r.optionalInteger("indexed_slot"),
      chainSlot: r.optionalInteger("chain_slot"),
      lag: r.optionalInteger("lag"),
    };
    if (r.raw("metadata") !== undefined) health.metadata = parseMetadataHealth(r.object("metadata"));
    return health;
  }

  /** One page of `/v1/datasets`. */
  async searchDatasets(params: IndexerSearchParams, page: PageRequest = {}): Promise<IndexedDatasetPage> {
    if (params.sort !== undefined && !DATASET_SORTS.includes(params.sort)) throw new RangeError(`unknown sort "${params.sort}"`);
    const tags = (params.tags ?? []).map((t) => t.trim()).filter((t) => t.length > 0);
    const body = await this.get("/v1/datasets", {
      q: params.q,
      category: params.category,
      tags: tags.length > 0 ? tags.join(",") : undefined,
      owner: params.owner,
      state: params.state,
      min_price: params.minPrice,
      max_price: params.maxPrice,
      payment_mint: params.paymentMint,
      metadata_status: params.metadataStatus,
      sort: params.sort,
      facets: params.facets ? "true" : undefined,
      ...pageParams(page),
    }, page.minSlot);
    const result: IndexedDatasetPage = { ...parsePage(this.url, body, parseDataset), sort: String(body["sort"] ?? "") };
    if (params.facets) {
      const facets = new Reader(this.url, "answer", body).object("facets");
      const counts = (key: string) => {
        const object = facets.object(key);
        const out: Record<string, number> = {};
        for (const name of Object.keys((facets.raw(key) as Json) ?? {})) out[name] = Number(object.integer(name));
        return out;
      };
      result.facets = { category: counts("category"), state: counts("state"), tag: counts("tag") };
    }
    return result;
  }

  /**
   * `/v1/datasets/{address}`: the summary plus the indexer's decoding of every field (null: unknown
   * or closed); with `raw`, also the account's bytes as the indexer holds them (as of `slot`).
   */
  async dataset(
    address: Address,
    options: { minSlot?: bigint; raw?: boolean } = {},
  ): Promise<(IndexedDataset & { account?: Json; raw?: Uint8Array }) | null> {
    const params = options.raw ? { raw: "true" } : {};
    const body = await this.get(`/v1/datasets/${encodeURIComponent(address)}`, params, options.minSlot, { notFoundIsNull: true });
    if (body === null) return null;
    const account = body["account"];
    const raw = body["raw"];
    if (options.raw && typeof raw !== "string") throw new IndexerProtocolError(this.url, "the dataset answered without its raw bytes");
    return {
      ...parseDataset(this.url, "answer", body),
      ...(account && typeof account === "object" ? { account: account as Json } : {}),
      ...(typeof raw === "string" ? { raw: new Uint8Array(getBase64Encoder().encode(raw)) } : {}),
    };
  }

  datasetLicenses(dataset: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedLicense>> {
    return this.list(`/v1/datasets/${encodeURIComponent(dataset)}/licenses`, page, parseLicense);
  }

  datasetReceipts(dataset: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedRow>> {
    return this.list(`/v1/datasets/${encodeURIComponent(dataset)}/receipts`, page, parseRow);
  }

  datasetReviews(dataset: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedRow>> {
    return this.list(`/v1/datasets/${encodeURIComponent(dataset)}/reviews`, page, parseRow);
  }

  datasetDisputes(dataset: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedRow>> {
    return this.list(`/v1/datasets/${encodeURIComponent(dataset)}/disputes`, page, parseRow);
  }

  /** An owner's datasets in every state, newest first (rows without tags). */
  ownerDatasets(owner: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedRow>> {
    return this.list(`/v1/owners/${encodeURIComponent(owner)}/datasets`, page, parseRow);
  }

  /** Licences of the owner's datasets waiting for their key, newest first. */
  ownerPendingDeliveries(owner: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedLicense>> {
    return this.list(`/v1/owners/${encodeURIComponent(owner)}/pending-deliveries`, page, parseLicense);
  }

  licenseeLicenses(buyer: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedLicense>> {
    return this.list(`/v1/licensees/${encodeURIComponent(buyer)}/licenses`, page, parseLicense);
  }

  licenseReceipts(license: Address, page: PageRequest = {}): Promise<IndexedPage<IndexedRow>> {
    return this.list(`/v1/licenses/${encodeURIComponent(license)}/receipts`, page, parseRow);
  }

  /** Usage receipts naming this model hash (64 hex characters), newest first. */
  modelReceipts(modelHashHex: string, page: PageRequest = {}): Promise<IndexedPage<IndexedRow>> {
    return this.list(`/v1/models/${modelHashPath(modelHashHex)}/receipts`, page, parseRow);
  }

  /** Datasets with a usage receipt naming this model hash (64 hex characters). */
  modelDatasets(modelHashHex: string, page: PageRequest = {}): Promise<IndexedPage<IndexedRow>> {
    return this.list(`/v1/models/${modelHashPath(modelHashHex)}/datasets`, page, parseRow);
  }

  private async list<T>(path: string, page: PageRequest, item: (url: string, where: string, value: unknown) => T): Promise<IndexedPage<T>> {
    const body = await this.get(path, pageParams(page), page.minSlot);
    return parsePage(this.url, body, item);
  }

  /** GET with query parameters; waits out `min_slot_not_reached`; maps every failure to an indexer error. */
  private get(path: string, params: Record<string, string | bigint | number | undefined>, minSlot?: bigint): Promise<Json>;
  private get(
    path: string,
    params: Record<string, string | bigint | number | undefined>,
    minSlot: bigint | undefined,
    options: { notFoundIsNull: true },
  ): Promise<Json | null>;
  private async get(
    path: string,
    params: Record<string, string | bigint | number | undefined>,
    minSlot?: bigint,
    options: { notFoundIsNull?: boolean } = {},
  ): Promise<Json | null> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
    if (minSlot !== undefined) query.set("min_slot", minSlot.toString());
    const text = query.toString();
    const target = `${this.url}${path}${text ? `?${text}` : ""}`;
    const started = Date.now();
    const waitMs = this.options.minSlotTimeoutMs ?? 60_000;
    for (;;) {
      const response = await this.fetchOnce(target);
      let body: unknown;
      const raw = await response.text().catch((error: unknown) => {
        throw new IndexerUnavailableError(this.url, `reading the answer failed: ${describe(error)}`, { cause: error });
      });
      try {
        body = raw.length > 0 ? JSON.parse(raw) : null;
      } catch {
        body = undefined;
      }
      const object = body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Json) : null;
      if (response.ok) {
        if (!object) throw new IndexerProtocolError(this.url, `${path} answered ${response.status} without a JSON object`);
        return object;
      }
      const code = typeof object?.["error"] === "string" ? (object["error"] as string) : `http_${response.status}`;
      if (response.status === 503 && code === "min_slot_not_reached" && minSlot !== undefined) {
        const elapsed = Date.now() - started;
        const indexed = object?.["indexed_slot"];
        const indexedSlot = typeof indexed === "number" ? BigInt(indexed) : null;
        if (elapsed >= waitMs) throw new IndexerBehindError(this.url, minSlot, indexedSlot, elapsed);
        const retryAfter = Number(response.headers.get("retry-after"));
        const delay = Math.min(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000, 10_000, waitMs - elapsed);
        await sleep(Math.max(delay, 50), this.options.signal);
        continue;
      }
      if (response.status === 404 && options.notFoundIsNull && code === "not_found") return null;
      const message = typeof object?.["message"] === "string" ? (object["message"] as string) : response.statusText || code;
      if (response.status >= 500) throw new IndexerUnavailableError(this.url, `${path} answered ${response.status}: ${message} (${code})`);
      throw new IndexerRequestError(this.url, response.status, code, message);
    }
  }

  private async fetchOnce(target: string): Promise<Response> {
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const signals = [AbortSignal.timeout(timeoutMs), ...(this.options.signal ? [this.options.signal] : [])];
    try {
      return await this.fetchImpl(target, { headers: { accept: "application/json" }, signal: AbortSignal.any(signals) });
    } catch (error) {
      if (this.options.signal?.aborted) throw this.options.signal.reason ?? error;
      const detail =
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError") ? `no answer within ${timeoutMs} ms` : describe(error);
      throw new IndexerUnavailableError(this.url, detail, { cause: error });
    }
  }
}

function pageParams(page: PageRequest): Record<string, string | number | undefined> {
  if (page.limit !== undefined && (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 100)) {
    throw new RangeError("a page holds 1 to 100 items");
  }
  return { limit: page.limit, cursor: page.cursor };
}

function modelHashPath(modelHashHex: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(modelHashHex)) throw new RangeError("a model hash is 64 hex characters");
  return modelHashHex.toLowerCase();
}

/** Every item of a paged list, following `nextCursor` (the first request carries `minSlot`). */
export async function allPages<T>(
  fetchPage: (page: PageRequest) => Promise<IndexedPage<T>>,
  page: PageRequest = {},
): Promise<T[]> {
  const items: T[] = [];
  let request: PageRequest = { ...page, limit: page.limit ?? 100 };
  for (;;) {
    const answer = await fetchPage(request);
    items.push(...answer.items);
    if (answer.nextCursor === null) return items;
    request = { limit: request.limit, cursor: answer.nextCursor };
  }
}

/** The innermost useful message of an error chain (fetch's "fetch failed" hides the reason in `cause`). */
function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      parts.push(typeof code === "string" && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(": ") || "unknown error";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}
