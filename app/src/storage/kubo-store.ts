/**
 * The same ContentStore over a Kubo daemon's RPC API (e.g. http://127.0.0.1:5001). Files are
 * added with the parameters the embedded node uses (CIDv1, raw leaves, 1 MiB chunks) and pinned.
 */
import { createReadStream } from 'node:fs'
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import {
  canonicalJson,
  ContentNotFoundError,
  DEFAULT_CAT_TIMEOUT_MS,
  parseCid,
  StorageError,
  UNIXFS_CHUNK_SIZE,
  type CatOptions,
  type ContentStore,
  type FileInput,
} from './content-store.js'
import { kuboAddOptions } from './kubo-http.js'

export interface KuboStoreOptions {
  /** RPC API address, e.g. `http://127.0.0.1:5001` */
  url: string
  /** How long `cat` may wait for content the daemon has to find on the network (default 60 s). */
  catTimeoutMs?: number
  /** Headers for every request (e.g. authorization of a remote RPC endpoint). */
  headers?: Record<string, string>
}

const ADD_OPTIONS = kuboAddOptions()

export class KuboContentStore implements ContentStore {
  private readonly client: KuboRPCClient
  private readonly catTimeoutMs: number
  private readonly stopController = new AbortController()

  constructor(options: KuboStoreOptions) {
    const init: Parameters<typeof create>[0] = { url: options.url }
    if (options.headers !== undefined) init.headers = options.headers
    this.client = create(init)
    this.catTimeoutMs = options.catTimeoutMs ?? DEFAULT_CAT_TIMEOUT_MS
  }

  async addFile(input: FileInput): Promise<string> {
    this.assertRunning()
    const content = typeof input === 'string' ? createReadStream(input, { highWaterMark: UNIXFS_CHUNK_SIZE }) : input
    const { cid } = await this.client.add(content as AsyncIterable<Uint8Array>, {
      ...ADD_OPTIONS,
      signal: this.stopController.signal,
    })
    return cid.toString()
  }

  async addJson(value: unknown): Promise<string> {
    this.assertRunning()
    const { cid } = await this.client.add(canonicalJson(value), { ...ADD_OPTIONS, signal: this.stopController.signal })
    return cid.toString()
  }

  async *cat(cid: string, options: CatOptions = {}): AsyncGenerator<Uint8Array> {
    this.assertRunning()
    const parsed = parseCid(cid)
    const timeoutMs = options.timeoutMs ?? this.catTimeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const signals = [timeout, this.stopController.signal]
    if (options.signal !== undefined) signals.push(options.signal)
    const range = {
      ...(options.offset === undefined ? {} : { offset: options.offset }),
      ...(options.length === undefined ? {} : { length: options.length }),
      ...(options.offline === true ? { offline: true } : {}),
    }
    try {
      // `timeout` is also sent to the daemon, which then stops its own lookup
      yield* this.client.cat(parsed, { signal: AbortSignal.any(signals), timeout: timeoutMs, ...range })
    } catch (err) {
      if (options.signal?.aborted === true || this.stopController.signal.aborted) throw err
      if (timeout.aborted || isDeadline(err)) {
        throw new ContentNotFoundError(cid, `not retrieved by the Kubo daemon within ${timeoutMs} ms`, { cause: err })
      }
      if (isNotFound(err)) throw new ContentNotFoundError(cid, 'the Kubo daemon cannot find it', { cause: err })
      throw err
    }
  }

  async has(cid: string): Promise<boolean> {
    this.assertRunning()
    try {
      // offline: only the daemon's own blockstore is consulted
      const options = { signal: this.stopController.signal, offline: true }
      await this.client.block.stat(parseCid(cid), options)
      return true
    } catch (err) {
      if (isNotFound(err) || isDeadline(err)) return false
      throw err
    }
  }

  async stop(): Promise<void> {
    this.stopController.abort()
  }

  private assertRunning(): void {
    if (this.stopController.signal.aborted) throw new StorageError('STORE_STOPPED', 'the store has been stopped')
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function isNotFound(err: unknown): boolean {
  return /not found|no link named|block was not found/i.test(message(err))
}

function isDeadline(err: unknown): boolean {
  return /context deadline exceeded|timeout/i.test(message(err))
}
