/**
 * CARv1 streams of a DAG held in a local block store, for the trustless gateway: the header
 * (dag-cbor `{ roots, version: 1 }`), then each block as varint(length) CID bytes, block bytes,
 * in depth-first pre-order (a node, then each of its links in order, recursively). Blocks are read
 * one at a time as the consumer asks for them, so a DAG of any size streams in bounded memory.
 *
 * Walks dag-pb (UnixFS) and raw blocks. Identity CIDs (multihash 0x00) are never written, as the
 * Trustless Gateway specification requires: their bytes are in the CID.
 */
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'

/** Multihash code of identity "hashes": the block's bytes are the digest. */
export const IDENTITY_MULTIHASH = 0x00

/** `dag-scope` of the Trustless Gateway specification. */
export type DagScope = 'all' | 'entity' | 'block'

/** Where the walk reads blocks (the gateway passes the node's local store). */
export interface BlockSource {
  getBlock(cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array>
}

/** A byte range of a UnixFS file, as `entity-bytes=from:to` says (to: null is `*`, the end). */
export interface EntityBytes {
  from: number
  to: number | null
}

export interface CarWalk {
  scope: DagScope
  /** false: each block at most once (`dups=n`); true: as often as the walk meets it (`dups=y`). */
  dups: boolean
  /** Only the blocks needed to read these bytes of the root file (implies scope `entity`). */
  entityBytes?: EntityBytes
  signal?: AbortSignal
}

/** The codecs whose links the walk follows. */
export function walkableCodec(code: number): boolean {
  return code === dagPb.code || code === raw.code
}

export function isIdentity(cid: CID): boolean {
  return cid.multihash.code === IDENTITY_MULTIHASH
}

/** Unsigned LEB128, as CAR's section lengths. */
export function varint(value: number): Uint8Array {
  const out: number[] = []
  let v = value
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return Uint8Array.from(out)
}

/**
 * The CARv1 header for `roots`, varint-length-prefixed: dag-cbor `{"roots": [CID...], "version": 1}`
 * with its keys in dag-cbor order (shorter first), each CID as tag 42 over 0x00 + its bytes.
 */
export function carHeader(roots: readonly CID[]): Uint8Array {
  const parts: number[] = [0xa2]
  pushText(parts, 'roots')
  pushHead(parts, 4, roots.length)
  for (const root of roots) {
    parts.push(0xd8, 42)
    pushHead(parts, 2, root.bytes.length + 1)
    parts.push(0x00, ...root.bytes)
  }
  pushText(parts, 'version')
  parts.push(0x01)
  const body = Uint8Array.from(parts)
  const prefix = varint(body.length)
  const header = new Uint8Array(prefix.length + body.length)
  header.set(prefix)
  header.set(body, prefix.length)
  return header
}

/** A CBOR initial byte (and length) of major type `major` for `length`. */
function pushHead(out: number[], major: number, length: number): void {
  const type = major << 5
  if (length < 24) out.push(type | length)
  else if (length < 0x100) out.push(type | 24, length)
  else if (length < 0x10000) out.push(type | 25, length >> 8, length & 0xff)
  else throw new RangeError('CAR header item too long')
}

function pushText(out: number[], text: string): void {
  const bytes = new TextEncoder().encode(text)
  pushHead(out, 3, bytes.length)
  out.push(...bytes)
}

/** What the gateway learns from the root block before it answers (see planCar). */
export interface CarPlan {
  /** The effective walk (entity-bytes resolved against the file's size, or dropped). */
  walk: CarWalk
  /** The byte range of the root file the CAR covers, when entity-bytes applies. */
  range: { start: number; end: number } | null
}

export class CarRequestError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CarRequestError'
  }
}

/**
 * Resolves a request against its root block: `entity` means the whole file for a UnixFS file and
 * the root block alone for anything else; `entity-bytes` is resolved against the file's size
 * (negative offsets count from the end; a range past the end is clamped; a range starting past
 * the end is a CarRequestError (400); an empty range sends the root block alone).
 */
export function planCar(root: CID, rootBytes: Uint8Array, walk: CarWalk): CarPlan {
  const file = fileInfo(root, rootBytes)
  if (walk.scope !== 'entity') return { walk: withoutRange(walk), range: null }
  if (file === null) return { walk: { ...withoutRange(walk), scope: 'block' }, range: null }
  if (walk.entityBytes === undefined) return { walk: { ...walk, scope: 'all' }, range: null }
  const size = file.size
  const { from, to } = walk.entityBytes
  const start = from < 0 ? Math.max(0, size + from) : from
  let end = to === null ? size - 1 : to < 0 ? size + to : to
  if (start >= size && size > 0) {
    throw new CarRequestError(`entity-bytes ${from}:${to ?? '*'} starts past the end of the file (${size} bytes)`)
  }
  end = Math.min(end, size - 1)
  if (end < start) return { walk: { ...withoutRange(walk), scope: 'block' }, range: null }
  return { walk: { ...walk, scope: 'entity', entityBytes: { from: start, to: end } }, range: { start, end } }
}

function withoutRange(walk: CarWalk): CarWalk {
  const { entityBytes: _, ...rest } = walk
  return rest
}

/** A UnixFS file's size, or null when the block is not one (a directory, another codec). */
function fileInfo(cid: CID, bytes: Uint8Array): { size: number } | null {
  if (cid.code === raw.code) return { size: bytes.length }
  if (cid.code !== dagPb.code) return null
  const node = dagPb.decode(bytes)
  if (node.Data === undefined) return null
  const unixfs = UnixFS.unmarshal(node.Data)
  if (unixfs.type !== 'file' && unixfs.type !== 'raw') return null
  return { size: Number(unixfs.fileSize()) }
}

interface Visit {
  cid: CID
  /** Where this node's bytes start in the root file (entity-bytes only). */
  offset: number
}

/**
 * The CAR's body after its header: for each block, one small chunk (section length and CID) and
 * the block's bytes. The root block is passed in (the gateway has read it to answer).
 */
export async function* carBlocks(source: BlockSource, root: CID, rootBytes: Uint8Array, walk: CarWalk): AsyncGenerator<Uint8Array> {
  const seen = walk.dups ? null : new Set<string>()
  const range = walk.scope === 'entity' ? (walk.entityBytes ?? null) : null
  const stack: Visit[] = [{ cid: root, offset: 0 }]
  const getOptions = walk.signal === undefined ? {} : { signal: walk.signal }
  while (stack.length > 0) {
    const visit = stack.pop()!
    const key = visit.cid.toString()
    if (seen !== null) {
      if (seen.has(key)) continue
      seen.add(key)
    }
    const isRoot = visit.cid === root
    const identity = isIdentity(visit.cid)
    const bytes = isRoot ? rootBytes : identity ? visit.cid.multihash.digest : await source.getBlock(visit.cid, getOptions)
    if (!identity) {
      const cidBytes = visit.cid.bytes
      const prefix = varint(cidBytes.length + bytes.length)
      const head = new Uint8Array(prefix.length + cidBytes.length)
      head.set(prefix)
      head.set(cidBytes, prefix.length)
      yield head
      if (bytes.length > 0) yield bytes
    }
    if (walk.scope === 'block') break
    const children = childrenOf(visit, bytes, range)
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!)
  }
}

/** The links to follow from a block, in order; with a range, only those holding bytes of it. */
function childrenOf(visit: Visit, bytes: Uint8Array, range: EntityBytes | null): Visit[] {
  if (visit.cid.code !== dagPb.code) return []
  const node = dagPb.decode(bytes)
  if (range === null || node.Data === undefined) return node.Links.map((link) => ({ cid: link.Hash, offset: 0 }))
  const unixfs = UnixFS.unmarshal(node.Data)
  if (unixfs.blockSizes.length !== node.Links.length) return node.Links.map((link) => ({ cid: link.Hash, offset: 0 }))
  const from = range.from
  const to = range.to ?? Number.MAX_SAFE_INTEGER
  const children: Visit[] = []
  let position = visit.offset + (unixfs.data?.length ?? 0)
  node.Links.forEach((link, i) => {
    const size = Number(unixfs.blockSizes[i]!)
    const last = position + size - 1
    if (size > 0 && last >= from && position <= to) children.push({ cid: link.Hash, offset: position })
    position += size
  })
  return children
}
