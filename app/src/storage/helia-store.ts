/**
 * An embedded IPFS node (Helia) with its blocks and datastore on disk. By default it is local only:
 * no libp2p, no bootstrap, no gateway, so it starts at once without a network and a CID that is not
 * held locally fails at once. Two ways to go online, each lookup step then waiting at most
 * `catTimeoutMs`:
 * - `p2p`: libp2p over TCP (noise, yamux) with bitswap only, talking to the peers it is given or
 *   that dial it: an owner's node listens and serves its datasets, a buyer's node dials it. No
 *   public bootstrap, DHT or HTTP gateway, so it works on a LAN or between known hosts.
 * - `network`: the public IPFS network with Helia's default libp2p stack (or the options given).
 *
 * One node per directory at a time: the on-disk stores are not locked against a second process.
 */
import './node20-compat.js'
import { setMaxListeners } from 'node:events'
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { unixfs, type CatOptions as HeliaCatOptions, type UnixFS } from '@helia/unixfs'
import * as dagPb from '@ipld/dag-pb'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { FsBlockstore } from 'blockstore-fs'
import { FsDatastore } from 'datastore-fs'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight, type HeliaWithLibp2p } from '@helia/libp2p'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createHelia, createHeliaLight, type Helia } from 'helia'
import type { CID } from 'multiformats/cid'
import {
  canonicalJson,
  catRange,
  ContentNotFoundError,
  DEFAULT_CAT_TIMEOUT_MS,
  DEFAULT_IMPORT_PARAMS,
  parseCid,
  StorageError,
  UNIXFS_CHUNK_SIZE,
  type CatOptions,
  type ContentStore,
  type FileInput,
  type UnixFSImportParams,
} from './content-store.js'
import { readAhead } from './read-ahead.js'

export type HeliaNetworkOptions = Omit<NonNullable<Parameters<typeof createHelia>[0]>, 'blockstore' | 'datastore'>

/** Direct peer-to-peer exchange with known peers (see the module comment). */
export interface HeliaP2POptions {
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001` (none: only dial out). */
  listen?: readonly string[]
  /** Multiaddrs (with `/p2p/<peer id>`) of nodes to connect to at start, e.g. a dataset owner's. */
  peers?: readonly string[]
}

export interface HeliaStoreOptions {
  /** Repository directory (created if missing): `blocks/` and `datastore/` live under it. */
  directory: string
  /** false (default): local only. true: Helia's default networking. Or Helia/libp2p options. */
  network?: boolean | HeliaNetworkOptions
  /** Exchange blocks directly with known peers over TCP; ignored when `network` is set. */
  p2p?: HeliaP2POptions
  /** With networking, how long `cat` may wait for content not held locally (default 60 s). */
  catTimeoutMs?: number
}

/** Bytes of a file read per exporter walk, and read ahead of the consumer (see cat). */
const CAT_WINDOW = 8 * UNIXFS_CHUNK_SIZE
const CAT_READ_AHEAD = 8 * UNIXFS_CHUNK_SIZE

/** cat options, with the exporter's read-ahead bound that @helia/unixfs passes through untyped. */
type UnixFSCatOptions = HeliaCatOptions & { blockReadConcurrency: number }

/**
 * FsBlockstore streams a block file in 64 KiB pieces, and the UnixFS exporter joins them by
 * re-concatenating the whole prefix for each piece: about 9 MiB of copies per 1 MiB block, which
 * keeps the garbage collector busy. Yielding each block as one piece avoids that.
 */
class WholeBlockFsBlockstore extends FsBlockstore {
  override async *get(key: CID, options?: Parameters<FsBlockstore['get']>[1]): AsyncGenerator<Uint8Array> {
    const pieces: Uint8Array[] = []
    let length = 0
    for await (const piece of super.get(key, options)) {
      pieces.push(piece)
      length += piece.length
    }
    if (pieces.length === 1) {
      yield pieces[0]!
      return
    }
    const block = new Uint8Array(length)
    let offset = 0
    for (const piece of pieces) {
      block.set(piece, offset)
      offset += piece.length
    }
    yield block
  }
}

/** Errors Helia and its stores raise when a block is neither local nor retrievable. */
const NOT_FOUND_ERRORS = new Set(['NotFoundError', 'BlockNotFoundWhileOfflineError', 'InvalidConfigurationError'])

/** The largest chunk `importFile` accepts, as Kubo (boxo's chunker) does: 1 MiB. */
export const MAX_CHUNK_SIZE = 1024 * 1024

/** What `importFile` returns. */
export interface ImportedFile {
  cid: CID
  /** The DAG's cumulative size: the root block plus its links' Tsize (Kubo's `Size` of an add). */
  dagSize: number
}

export class HeliaContentStore implements ContentStore {
  private stopped = false

  private constructor(
    readonly helia: Helia,
    private readonly fs: UnixFS,
    readonly online: boolean,
    private readonly catTimeoutMs: number,
  ) {}

  static async open(options: HeliaStoreOptions): Promise<HeliaContentStore> {
    const blockstore = new WholeBlockFsBlockstore(join(options.directory, 'blocks'))
    const datastore = new FsDatastore(join(options.directory, 'datastore'))
    await blockstore.open()
    await datastore.open()
    const network = options.network ?? false
    let helia: Helia
    if (network !== false) {
      helia = createHelia({ ...(network === true ? {} : network), blockstore, datastore })
    } else if (options.p2p) {
      helia = withBitswap(
        withLibp2pLight(createHeliaLight({ blockstore, datastore }), {
          addresses: { listen: [...(options.p2p.listen ?? [])] },
          transports: [tcp()],
          connectionEncrypters: [noise()],
          streamMuxers: [yamux()],
          services: { identify: identify() },
        }),
      )
    } else {
      helia = createHeliaLight({ blockstore, datastore })
    }
    await helia.start()
    const store = new HeliaContentStore(
      helia,
      unixfs(helia),
      network !== false || options.p2p !== undefined,
      options.catTimeoutMs ?? DEFAULT_CAT_TIMEOUT_MS,
    )
    try {
      for (const peer of options.p2p?.peers ?? []) await store.connect(peer)
    } catch (err) {
      await store.stop()
      throw err
    }
    return store
  }

  /** The addresses other nodes can dial to reach this one (empty when it does not listen). */
  listenAddresses(): string[] {
    const libp2p = (this.helia as Partial<HeliaWithLibp2p>).libp2p
    return libp2p ? libp2p.getMultiaddrs().map((a) => a.toString()) : []
  }

  /** The node's libp2p identity (null without libp2p: a local-only node has none). */
  peerInfo(): { id: string; addresses: string[]; protocols: string[] } | null {
    const libp2p = (this.helia as Partial<HeliaWithLibp2p>).libp2p
    if (!libp2p) return null
    return { id: libp2p.peerId.toString(), addresses: this.listenAddresses(), protocols: libp2p.getProtocols() }
  }

  /** Connects to a peer by multiaddr (it must include `/p2p/<peer id>`). */
  async connect(address: string): Promise<void> {
    const libp2p = (this.helia as Partial<HeliaWithLibp2p>).libp2p
    if (!libp2p) throw new StorageError('OFFLINE', 'this IPFS node is offline: it cannot connect to peers')
    let parsed
    try {
      parsed = multiaddr(address)
    } catch (err) {
      throw new StorageError('INVALID_PEER', `not a multiaddr: ${JSON.stringify(address)}`, { cause: err })
    }
    try {
      await libp2p.dial(parsed, { signal: AbortSignal.timeout(this.catTimeoutMs) })
    } catch (err) {
      throw new StorageError('PEER_UNREACHABLE', `cannot connect to IPFS peer ${address}`, { cause: err })
    }
  }

  async addFile(input: FileInput): Promise<string> {
    this.assertRunning()
    const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: UNIXFS_CHUNK_SIZE }) : input
    return (await this.importFile(source as AsyncIterable<Uint8Array>)).cid.toString()
  }

  async addJson(value: unknown): Promise<string> {
    this.assertRunning()
    return (await this.importFile([canonicalJson(value)])).cid.toString()
  }

  /**
   * Adds a file as UnixFS with explicit parameters (the gateway's Kubo RPC `add` passes those of its
   * request). The defaults are addFile's, and both take this one path, so the same bytes and
   * parameters always give the same CID. The DAG is balanced, 1024 links wide.
   */
  async importFile(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    params: Partial<UnixFSImportParams> = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<ImportedFile> {
    this.assertRunning()
    const { cidVersion, rawLeaves, chunkSize, pin } = { ...DEFAULT_IMPORT_PARAMS, ...params }
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
      throw new RangeError(`chunk size must be between 1 and ${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`)
    }
    const cid = await this.fs.addByteStream(source, {
      cidVersion,
      rawLeaves,
      chunker: fixedSize({ chunkSize }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    if (pin) await this.pin(cid)
    return { cid, dagSize: dagSizeOf(cid, await this.getBlock(cid)) }
  }

  /** Whether this node holds the block (never asks the network). */
  async hasBlock(cid: CID): Promise<boolean> {
    this.assertRunning()
    return this.helia.blockstore.has(cid)
  }

  /** A block this node holds, whole; ContentNotFoundError at once when it does not hold it. */
  async getBlock(cid: CID, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    this.assertRunning()
    const pieces: Uint8Array[] = []
    try {
      const getOptions = options.signal === undefined ? { offline: true } : { offline: true, signal: options.signal }
      for await (const piece of this.helia.blockstore.get(cid, getOptions)) pieces.push(piece)
    } catch (err) {
      if (err instanceof Error && NOT_FOUND_ERRORS.has(err.name)) {
        throw new ContentNotFoundError(cid.toString(), 'the block is not in the local store', { cause: err })
      }
      throw err
    }
    return pieces.length === 1 ? pieces[0]! : new Uint8Array(Buffer.concat(pieces))
  }

  async *cat(cid: string, options: CatOptions = {}): AsyncGenerator<Uint8Array> {
    this.assertRunning()
    const parsed = parseCid(cid)
    const offline = !this.online || options.offline === true
    if (offline && !(await this.helia.blockstore.has(parsed))) {
      throw new ContentNotFoundError(
        cid,
        this.online ? 'not in the local store (read offline)' : 'not in the local store, and this node does not use the network',
      )
    }
    // With networking, each step (finding the root, then each window of the file) must finish
    // within timeoutMs: a stalled transfer fails instead of hanging. Local reads have no deadline.
    const timeoutMs = options.timeoutMs ?? this.catTimeoutMs
    const deadlines: AbortSignal[] = []
    const stepSignal = (): AbortSignal | undefined => {
      const signals = options.signal === undefined ? [] : [options.signal]
      if (!offline) {
        const deadline = AbortSignal.timeout(timeoutMs)
        deadlines.push(deadline)
        signals.push(deadline)
      }
      if (signals.length === 0) return undefined
      const signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals)
      setMaxListeners(Infinity, signal) // every block fetch listens on it
      return signal
    }
    try {
      const stats = await this.fs.stat(parsed, { signal: stepSignal(), offline })
      if (stats.type === 'directory') throw new StorageError('NOT_A_FILE', `${cid} is a directory, not a file`)
      const { start, end } = catRange(Number(stats.size), options)
      yield* readAhead(this.windows(parsed, start, end, stepSignal, offline), CAT_READ_AHEAD)
    } catch (err) {
      if (err instanceof StorageError || options.signal?.aborted === true) throw err
      if (deadlines.some((d) => d.aborted)) {
        throw new ContentNotFoundError(cid, `not retrieved within ${timeoutMs} ms`, { cause: err })
      }
      if (err instanceof Error && NOT_FOUND_ERRORS.has(err.name)) {
        throw new ContentNotFoundError(
          cid,
          offline ? 'a block of it is missing from the local store' : 'a block could not be retrieved',
          { cause: err },
        )
      }
      throw err
    }
  }

  /**
   * The UnixFS exporter reads a file's blocks ahead of its consumer without any limit; walking the
   * file window by window keeps at most CAT_WINDOW bytes in it, whatever the file size.
   */
  private async *windows(
    cid: CID,
    start: number,
    end: number,
    stepSignal: () => AbortSignal | undefined,
    offline: boolean,
  ): AsyncGenerator<Uint8Array> {
    for (let offset = start; offset < end; offset += CAT_WINDOW) {
      const length = Math.min(CAT_WINDOW, end - offset)
      const options: UnixFSCatOptions = { offline, offset, length, blockReadConcurrency: 1 }
      const signal = stepSignal()
      if (signal !== undefined) options.signal = signal
      yield* this.fs.cat(cid, options)
    }
  }

  async has(cid: string): Promise<boolean> {
    this.assertRunning()
    return this.helia.blockstore.has(parseCid(cid))
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.helia.stop()
  }

  /** Pins the whole DAG so a garbage collection keeps it. */
  private async pin(cid: CID): Promise<void> {
    if (await this.helia.pins.isPinned(cid)) return
    try {
      for await (const _ of this.helia.pins.add(cid)) {
        // the walk stores one pin record per block
      }
    } catch (err) {
      if (err instanceof Error && err.name === 'AlreadyPinnedError') return
      throw err
    }
  }

  private assertRunning(): void {
    if (this.stopped) throw new StorageError('STORE_STOPPED', 'the IPFS node has been stopped')
  }
}

/** Kubo's `Size` of an added DAG: the root block's length plus the Tsize of each of its links. */
function dagSizeOf(cid: CID, root: Uint8Array): number {
  if (cid.code !== dagPb.code) return root.length
  return dagPb.decode(root).Links.reduce((sum, link) => sum + (link.Tsize ?? 0), root.length)
}
