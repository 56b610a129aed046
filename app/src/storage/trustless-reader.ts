/**
 * Reads a UnixFS file from a Trustless Gateway (specs.ipfs.tech/http-gateways/trustless-gateway)
 * block by block, checking every block against its CID, so an untrusted gateway can only fail a
 * read, never change it. Universal: fetch, @noble/hashes and the IPLD codecs only (browsers,
 * workers and Node alike).
 *
 * The root (`?format=raw`) is fetched first; a dag-pb root is decoded and its links walked in
 * order (nested DAGs too). Raw leaves are fetched a few at a time ahead of the consumer, and
 * yielded in file order.
 */
import * as dagPb from '@ipld/dag-pb'
import { sha256 } from '@noble/hashes/sha2.js'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'

import { parseCid, type CatOptions, type ContentStore } from './content-store.js'

const SHA2_256 = 0x12
const IDENTITY = 0x00
/** Blocks larger than this are refused (the importer writes 1 MiB leaves; gateways cap at 2 MiB). */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024 + 1024
export const DEFAULT_READ_AHEAD_BLOCKS = 4
export const DEFAULT_BLOCK_TIMEOUT_MS = 60_000

export class TrustlessGatewayError extends Error {
  constructor(
    message: string,
    readonly gateway: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'TrustlessGatewayError'
  }
}

/** The gateway did not answer (network error, refused connection, timeout, 5xx). */
export class GatewayUnreachableError extends TrustlessGatewayError {
  constructor(gateway: string, detail: string, options?: { cause?: unknown }) {
    super(`the IPFS gateway ${gateway} cannot be reached: ${detail}`, gateway, options)
    this.name = 'GatewayUnreachableError'
  }
}

/** The gateway answered that it does not have a block. */
export class BlockNotFoundError extends TrustlessGatewayError {
  constructor(
    gateway: string,
    readonly cid: string,
    status: number,
  ) {
    super(`the IPFS gateway ${gateway} does not have block ${cid} (HTTP ${status})`, gateway)
    this.name = 'BlockNotFoundError'
  }
}

/** A block's bytes do not hash to its CID (or do not decode as it says): the gateway altered them. */
export class BlockHashMismatchError extends TrustlessGatewayError {
  constructor(
    gateway: string,
    readonly cid: string,
    detail: string,
  ) {
    super(`block ${cid} from the IPFS gateway ${gateway} ${detail}: the content was tampered with`, gateway)
    this.name = 'BlockHashMismatchError'
  }
}

export interface TrustlessReadOptions {
  signal?: AbortSignal
  /** Raw leaves fetched ahead of the consumer (default 4, i.e. about 4 MiB). */
  readAheadBlocks?: number
  /** Per block (default 60 s). */
  blockTimeoutMs?: number
  /** Called once, with the file's size as the root block states it. */
  onSize?: (bytes: number) => void
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch
}

/** `http://host:port` (a trailing slash is fine): where `/ipfs/<cid>` is served. */
export function normalizeGateway(gateway: string): string {
  const url = new URL(gateway)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an http(s) gateway URL: ${gateway}`)
  return url.href.replace(/\/+$/, '')
}

/** Fetches one block and checks it against its CID. */
export async function fetchVerifiedBlock(gateway: string, cid: CID, options: TrustlessReadOptions = {}): Promise<Uint8Array> {
  const base = normalizeGateway(gateway)
  const code = cid.multihash.code
  if (code === IDENTITY) return cid.multihash.digest.slice()
  if (code !== SHA2_256) throw new BlockHashMismatchError(base, cid.toString(), `uses hash function 0x${code.toString(16)}, which this reader cannot verify`)
  const timeout = AbortSignal.timeout(options.blockTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  const doFetch = options.fetch ?? globalThis.fetch
  let bytes: Uint8Array
  try {
    // Blocks are immutable and the gateway says so: without no-store a browser would keep a second
    // copy of a whole dataset's ciphertext in its HTTP cache. (Node's RequestInit type lacks `cache`.)
    const init: RequestInit & { cache: 'no-store' } = { headers: { Accept: 'application/vnd.ipld.raw' }, cache: 'no-store', signal }
    const response = await doFetch(`${base}/ipfs/${cid.toString()}?format=raw`, init)
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel().catch(() => {})
      throw new BlockNotFoundError(base, cid.toString(), response.status)
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {})
      throw new GatewayUnreachableError(base, `HTTP ${response.status} for block ${cid.toString()}`)
    }
    const length = Number(response.headers.get('content-length') ?? '0')
    if (length > MAX_BLOCK_BYTES) {
      await response.body?.cancel().catch(() => {})
      throw new BlockHashMismatchError(base, cid.toString(), `is ${length} bytes, more than a block may hold`)
    }
    bytes = new Uint8Array(await response.arrayBuffer())
  } catch (error) {
    if (error instanceof TrustlessGatewayError) throw error
    if (options.signal?.aborted) throw options.signal.reason ?? error
    const detail = timeout.aborted ? `no answer for block ${cid.toString()} in time` : error instanceof Error ? error.message : String(error)
    throw new GatewayUnreachableError(base, detail, { cause: error })
  }
  if (bytes.length > MAX_BLOCK_BYTES) throw new BlockHashMismatchError(base, cid.toString(), `is ${bytes.length} bytes, more than a block may hold`)
  const digest = sha256(bytes)
  const expected = cid.multihash.digest
  if (digest.length !== expected.length || digest.some((b, i) => b !== expected[i])) {
    throw new BlockHashMismatchError(base, cid.toString(), 'does not match its hash')
  }
  return bytes
}

/** What the walk yields: bytes already at hand, or a raw leaf still to fetch. */
type Piece = { bytes: Uint8Array } | { leaf: CID }

function decodeFileNode(base: string, cid: CID, bytes: Uint8Array): { data: Uint8Array | undefined; links: CID[]; fileSize: number } {
  try {
    const node = dagPb.decode(bytes)
    const unixfs = node.Data ? UnixFS.unmarshal(node.Data) : null
    if (!unixfs || (unixfs.type !== 'file' && unixfs.type !== 'raw')) {
      throw new Error(`is a UnixFS ${unixfs?.type ?? 'node without data'}, not a file`)
    }
    return { data: unixfs.data, links: node.Links.map((l) => l.Hash), fileSize: Number(unixfs.fileSize()) }
  } catch (error) {
    // The block hashed to its CID, so it is what the publisher wrote: not a file.
    throw new TypeError(`block ${cid.toString()} from ${base} ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** The file's pieces in order: dag-pb nodes are fetched as the walk reaches them, raw leaves are not. */
async function* walk(base: string, cid: CID, options: TrustlessReadOptions, isRoot: boolean): AsyncGenerator<Piece> {
  if (cid.code === raw.code && !isRoot) {
    yield { leaf: cid }
    return
  }
  const bytes = await fetchVerifiedBlock(base, cid, options)
  if (cid.code === raw.code) {
    if (isRoot) options.onSize?.(bytes.length)
    yield { bytes }
    return
  }
  if (cid.code !== dagPb.code) throw new TypeError(`block ${cid.toString()} has codec 0x${cid.code.toString(16)}: not a UnixFS file`)
  const node = decodeFileNode(base, cid, bytes)
  if (isRoot) options.onSize?.(node.fileSize)
  if (node.data && node.data.length > 0) yield { bytes: node.data }
  for (const link of node.links) yield* walk(base, link, options, false)
}

/**
 * Streams the file `cid` from `gateway`, every block verified. Fails with GatewayUnreachableError,
 * BlockNotFoundError or BlockHashMismatchError; stopping early cancels what was fetched ahead.
 */
export async function* readVerifiedFile(gateway: string, cid: string | CID, options: TrustlessReadOptions = {}): AsyncGenerator<Uint8Array> {
  const base = normalizeGateway(gateway)
  const root = typeof cid === 'string' ? parseCid(cid) : cid
  const ahead = Math.max(1, options.readAheadBlocks ?? DEFAULT_READ_AHEAD_BLOCKS)
  const controller = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal
  const blockOptions = { ...options, signal }
  const pending: Promise<Uint8Array>[] = []
  const pieces = walk(base, root, blockOptions, true)
  try {
    for (;;) {
      // Top the window up, then hand out its oldest piece.
      let walkDone = false
      while (pending.length < ahead) {
        const next = await pieces.next()
        if (next.done === true) {
          walkDone = true
          break
        }
        const piece = next.value
        const promise = 'bytes' in piece ? Promise.resolve(piece.bytes) : fetchVerifiedBlock(base, piece.leaf, blockOptions)
        // Awaited in order below; an early failure must not count as unhandled meanwhile.
        promise.catch(() => {})
        pending.push(promise)
      }
      const oldest = pending.shift()
      if (oldest === undefined) {
        if (walkDone) return
        continue
      }
      yield await oldest
    }
  } finally {
    controller.abort()
    await pieces.return(undefined).catch(() => {})
  }
}

/** A read-only store over a trustless gateway, for code written against ContentStore.cat (metadata). */
export function trustlessCatStore(gateway: string, defaults: Omit<TrustlessReadOptions, 'signal'> = {}): Pick<ContentStore, 'cat'> {
  return {
    cat(cid: string, options: CatOptions = {}) {
      if (options.offset !== undefined || options.length !== undefined) throw new TypeError('a trustless read covers the whole file')
      return readVerifiedFile(gateway, cid, { ...defaults, signal: options.signal, blockTimeoutMs: options.timeoutMs ?? defaults.blockTimeoutMs })
    },
  }
}
