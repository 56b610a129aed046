/**
 * How files and JSON become UnixFS on IPFS, shared by every backend and by the browser's Kubo RPC
 * client (kubo-http.ts): nothing here imports anything, so browser code can use it.
 */

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
