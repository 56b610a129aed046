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

export * from './unixfs-params.js'

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
