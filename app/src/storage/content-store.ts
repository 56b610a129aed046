/**
 * Where encrypted dataset content and JSON metadata live: IPFS, through an embedded Helia node or
 * a Kubo daemon's RPC API. Both add UnixFS files with the same parameters (CIDv1, raw leaves,
 * 1 MiB chunks), so a file gets the same CID from either backend (see README).
 */
import { CID } from 'multiformats/cid'

/** A file path, or the bytes themselves as a (async) iterable, e.g. a Node stream. */
export type FileInput = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

export interface CatOptions {
  signal?: AbortSignal
  /** Give up (ContentNotFoundError) after this long when content has to be fetched from the network. */
  timeoutMs?: number
  /** First byte of the file to read (default 0); past the end, nothing is read. */
  offset?: number
  /** Read at most this many bytes (default: to the end of the file). */
  length?: number
  /** Read only what the node holds: never ask the network, fail at once instead. */
  offline?: boolean
}

export interface ContentStore {
  /** Adds and pins a file; returns its CID (v1, base32). */
  addFile(input: FileInput): Promise<string>
  /** Adds and pins `value` as canonical JSON (object keys sorted, UTF-8) in a UnixFS file. */
  addJson(value: unknown): Promise<string>
  /** Streams a file's bytes. Fails with ContentNotFoundError when it cannot be found in time. */
  cat(cid: string, options?: CatOptions): AsyncIterable<Uint8Array>
  /** Whether the file's root block is held locally (no network lookup). */
  has(cid: string): Promise<boolean>
  stop(): Promise<void>
}

export class StorageError extends Error {
  readonly code: 'CONTENT_NOT_FOUND' | 'INVALID_CID' | 'INVALID_PEER' | 'NOT_A_FILE' | 'PEER_UNREACHABLE' | 'STORE_STOPPED' | 'OFFLINE'

  constructor(code: StorageError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StorageError'
    this.code = code
  }
}

export class ContentNotFoundError extends StorageError {
  readonly cid: string

  constructor(cid: string, detail: string, options?: { cause?: unknown }) {
    super('CONTENT_NOT_FOUND', `content ${cid} not found: ${detail}`, options)
    this.name = 'ContentNotFoundError'
    this.cid = cid
  }
}

export function parseCid(cid: string): CID {
  try {
    return CID.parse(cid)
  } catch (err) {
    throw new StorageError('INVALID_CID', `not a valid CID: ${JSON.stringify(cid)}`, { cause: err })
  }
}

/** UnixFS import parameters shared by both backends. */
export const UNIXFS_CHUNK_SIZE = 1024 * 1024

/**
 * How a file becomes a UnixFS DAG. Both backends add with DEFAULT_IMPORT_PARAMS (IPIP-499's
 * `unixfs-v1-2025` profile: CIDv1, raw leaves, 1 MiB chunks, balanced DAG of 1024 links).
 */
export interface UnixFSImportParams {
  cidVersion: 0 | 1
  rawLeaves: boolean
  /** Fixed-size chunks of this many bytes. */
  chunkSize: number
  /** Pin the DAG, so a garbage collection keeps it. */
  pin: boolean
}

export const DEFAULT_IMPORT_PARAMS: Readonly<UnixFSImportParams> = Object.freeze({
  cidVersion: 1,
  rawLeaves: true,
  chunkSize: UNIXFS_CHUNK_SIZE,
  pin: true,
})

/** Bounds of the byte range a cat reads: [start, end) of a file of `size` bytes. */
export function catRange(size: number, options: Pick<CatOptions, 'offset' | 'length'>): { start: number; end: number } {
  const offset = options.offset ?? 0
  const length = options.length
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`cat: offset must be a whole number of bytes >= 0, got ${offset}`)
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new RangeError(`cat: length must be a whole number of bytes >= 0, got ${length}`)
  }
  const start = Math.min(offset, size)
  const end = length === undefined ? size : Math.min(size, start + length)
  return { start, end }
}

export const DEFAULT_CAT_TIMEOUT_MS = 60_000

/** JSON with object keys sorted recursively, so equal values always get the same CID. */
export function canonicalJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(sortKeys(value)))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    const withJson = value as { toJSON?: () => unknown }
    if (typeof withJson.toJSON === 'function') return sortKeys(withJson.toJSON())
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
    return out
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new TypeError(`addJson: ${typeof value} is not representable in JSON`)
  }
  return value
}
