/**
 * A read-only ContentStore over an IPFS trustless gateway (`GET /ipfs/<cid>?format=raw`), for code
 * that runs in a browser: dataset metadata and delivery grants are small JSON files, stored as one
 * raw block (CIDv1, raw leaves, 1 MiB chunks: see content-store.ts), so the block is the file. Each
 * block is checked against its CID's sha2-256 digest: the gateway is trusted for nothing. A file
 * stored as a UnixFS DAG (dag-pb root) is refused with NOT_A_FILE. Universal code: fetch only.
 */
import { sha256 } from '@noble/hashes/sha2.js'

import { ContentNotFoundError, StorageError, parseCid, type CatOptions, type ContentStore } from './content-store.js'

const RAW_CODEC = 0x55
const SHA2_256 = 0x12

export class GatewayReader implements ContentStore {
  readonly gateway: string

  constructor(gateway: string, private readonly fetchImpl: typeof fetch = (...args) => fetch(...args)) {
    this.gateway = gateway.replace(/\/+$/, '')
  }

  async *cat(cid: string, options: CatOptions = {}): AsyncIterable<Uint8Array> {
    const block = await this.block(cid, options)
    const start = Math.min(options.offset ?? 0, block.length)
    const end = options.length === undefined ? block.length : Math.min(block.length, start + options.length)
    if (end > start) yield block.subarray(start, end)
  }

  async has(cid: string): Promise<boolean> {
    try {
      await this.block(cid, {})
      return true
    } catch (error) {
      if (error instanceof ContentNotFoundError) return false
      throw error
    }
  }

  addFile(): Promise<string> {
    return Promise.reject(new StorageError('OFFLINE', 'this IPFS gateway is read-only'))
  }

  addJson(): Promise<string> {
    return Promise.reject(new StorageError('OFFLINE', 'this IPFS gateway is read-only'))
  }

  async stop(): Promise<void> {}

  private async block(text: string, options: CatOptions): Promise<Uint8Array> {
    const cid = parseCid(text)
    if (cid.code !== RAW_CODEC) {
      throw new StorageError('NOT_A_FILE', `${text} is a UnixFS DAG; only single-block files are read through the gateway here`)
    }
    if (cid.multihash.code !== SHA2_256) throw new StorageError('INVALID_CID', `${text} is not hashed with sha2-256`)
    const signals = [options.signal, options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs)].filter(
      (s): s is AbortSignal => s !== undefined,
    )
    let response: Response
    try {
      response = await this.fetchImpl(`${this.gateway}/ipfs/${cid.toString()}?format=raw`, {
        headers: { Accept: 'application/vnd.ipld.raw' },
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      })
    } catch (error) {
      throw new ContentNotFoundError(text, `the gateway ${this.gateway} cannot be reached`, { cause: error })
    }
    if (!response.ok) throw new ContentNotFoundError(text, `the gateway ${this.gateway} answered ${response.status}`)
    const block = new Uint8Array(await response.arrayBuffer())
    const digest = sha256(block)
    const expected = cid.multihash.digest
    if (digest.length !== expected.length || digest.some((byte, i) => byte !== expected[i])) {
      throw new ContentNotFoundError(text, `the gateway ${this.gateway} sent bytes that do not match the CID`)
    }
    return block
  }
}
