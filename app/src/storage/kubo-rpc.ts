/**
 * The subset of Kubo's RPC API (docs.ipfs.tech/reference/kubo/rpc) that KuboContentStore, through
 * kubo-rpc-client, uses, over the embedded node: `add`, `cat`, `block/stat`, `block/get`,
 * `version` and `id`. As in Kubo: POST only (405 otherwise), parameters in the query string
 * (`arg` for arguments), errors as JSON `{"Message", "Code", "Type": "error"}` with status 500
 * (400 and Code 1 for a malformed call), unknown commands 404. Like the gateway, it reads only what
 * the node holds: a CID it does not have fails at once with Kubo's offline "not found" message.
 *
 * Origins: a request from a browser carries Origin (or Referer); like Kubo, it is refused with 403
 * unless it is the server's own origin or one of `allowedOrigins`, so a web page cannot add to the
 * node behind the user's back. Requests without either (CLIs, servers) are served.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { arch, platform } from 'node:os'
import { pipeline } from 'node:stream/promises'
import { CID } from 'multiformats/cid'
import { ContentNotFoundError, type UnixFSImportParams } from './content-store.js'
import type { HeliaContentStore, ImportedFile } from './helia-store.js'
import { MAX_CHUNK_SIZE } from './helia-store.js'
import { multipartBoundary, readMultipart, MultipartError } from './multipart.js'

export interface KuboRpcOptions {
  /** Origins allowed besides the server's own; `*` allows any. */
  allowedOrigins: readonly string[]
  /** The server's own origins (known once it listens). */
  selfOrigins: () => readonly string[]
}

/** What `version` reports. */
export const RPC_VERSION = '0.1.0'
export const AGENT_VERSION = `data-market/${RPC_VERSION}`

/** Kubo's command error codes (go-ipfs-cmds). */
const ERR_NORMAL = 0
const ERR_CLIENT = 1

/** Kubo's default chunker, used when `add` names none. */
const KUBO_DEFAULT_CHUNKER = 'size-262144'

class RpcError extends Error {
  constructor(
    message: string,
    readonly code: number = ERR_NORMAL,
  ) {
    super(message)
  }
}

type Command = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void>

export function createKuboRpcHandler(
  store: HeliaContentStore,
  options: KuboRpcOptions,
): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const commands: Record<string, Command> = {
    add: (req, res, query) => add(store, req, res, query),
    cat: (req, res, query) => cat(store, res, query),
    'block/get': (req, res, query) => blockGet(store, res, query),
    'block/stat': (req, res, query) => blockStat(store, res, query),
    version: async (_req, res) =>
      json(res, 200, { Version: RPC_VERSION, Commit: '', Repo: '', System: `${arch()}/${platform()}`, Golang: '', Agent: AGENT_VERSION }),
    id: async (_req, res) => id(store, res),
  }

  return async (req, res, url) => {
    const origin = requestOrigin(req)
    if (origin !== null && !originAllowed(origin, options)) {
      return plain(res, 403, '403 - Forbidden')
    }
    const cors: Record<string, string> =
      origin === null
        ? {}
        : {
            'Access-Control-Allow-Origin': origin,
            Vary: 'Origin',
            'Access-Control-Expose-Headers': 'X-Chunked-Output, X-Content-Length, X-Stream-Error, X-Stream-Output',
          }
    for (const [name, value] of Object.entries(cors)) res.setHeader(name, value)
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'Content-Type, Range, User-Agent, X-Requested-With',
        'Access-Control-Max-Age': '86400',
      })
      res.end()
      return
    }
    const command = commands[url.pathname.slice('/api/v0/'.length).replace(/\/+$/, '')]
    if (command === undefined) return plain(res, 404, '404 page not found')
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      return plain(res, 405, '405 - Method Not Allowed')
    }
    try {
      await command(req, res, url.searchParams)
    } catch (error) {
      if (res.headersSent) {
        res.destroy(error instanceof Error ? error : new Error(String(error)))
        return
      }
      if (error instanceof RpcError) return rpcError(res, error.message, error.code)
      if (error instanceof ContentNotFoundError) return rpcError(res, notFoundMessage(error.cid))
      if (error instanceof MultipartError || error instanceof RangeError) return rpcError(res, error.message)
      return rpcError(res, error instanceof Error ? error.message : String(error))
    }
  }
}

/** The origin a browser request comes from (Origin, else Referer's), or null for other clients. */
function requestOrigin(req: IncomingMessage): string | null {
  const origin = req.headers.origin
  if (origin !== undefined) return origin
  const referer = req.headers.referer
  if (referer === undefined) return null
  try {
    return new URL(referer).origin
  } catch {
    return 'null'
  }
}

function originAllowed(origin: string, options: KuboRpcOptions): boolean {
  return options.allowedOrigins.includes('*') || options.allowedOrigins.includes(origin) || options.selfOrigins().includes(origin)
}

/** Kubo's answer when a block is neither held nor fetched (its offline mode). */
function notFoundMessage(cid: string): string {
  return `block was not found locally (offline): ipld: could not find ${cid}`
}

function plain(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
  res.end(`${message}\n`)
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

/** A command error as Kubo sends it: 500 (400 for a malformed call) and its JSON. */
function rpcError(res: ServerResponse, message: string, code = ERR_NORMAL): void {
  json(res, code === ERR_CLIENT ? 400 : 500, { Message: message, Code: code, Type: 'error' })
}

function boolOption(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name)
  if (value === null) return fallback
  if (value === '' || /^(1|t|true)$/i.test(value)) return true
  if (/^(0|f|false)$/i.test(value)) return false
  throw new RpcError(`could not convert value "${value}" to type bool (for option "-${name}")`, ERR_CLIENT)
}

function intOption(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name)
  if (value === null) return undefined
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new RpcError(`could not convert value "${value}" to type int (for option "-${name}")`, ERR_CLIENT)
  }
  return Number(value)
}

/** The CID of an `arg` that is a CID or /ipfs/<cid>; paths inside a DAG are not supported. */
function cidArgument(query: URLSearchParams, name: string): CID {
  const arg = query.get('arg')
  if (arg === null || arg === '') throw new RpcError(`argument "${name}" is required`, ERR_CLIENT)
  const path = arg.replace(/^\/?ipfs\//, '')
  const [first = '', ...rest] = path.split('/')
  let cid: CID
  try {
    cid = CID.parse(first)
  } catch {
    throw new RpcError(`invalid path ${JSON.stringify(arg)}: not a CID`)
  }
  if (rest.some((segment) => segment !== '')) {
    throw new RpcError(`invalid path ${JSON.stringify(arg)}: paths inside a DAG are not supported by this node`)
  }
  return cid
}

/** Aborted when the client goes away before the response is complete. */
function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) controller.abort()
  })
  return controller.signal
}

/**
 * `add`: each file part of the multipart body becomes a UnixFS file, added with the request's
 * `cid-version` (default 0, as Kubo), `raw-leaves` (default: with CIDv1), `chunker` (`size-<n>`,
 * at most 1 MiB; default Kubo's size-262144) and `pin` (default true). One NDJSON line per file,
 * `{"Name", "Hash", "Size"}`; with `progress`, `{"Name", "Bytes"}` lines as the bytes come in. The
 * answer starts once every file is added (at once with `progress`), so an error is a 500.
 */
async function add(store: HeliaContentStore, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const params = importParams(query)
  const progress = boolOption(query, 'progress', false)
  const silent = boolOption(query, 'silent', false)
  const boundary = multipartBoundary(req.headers['content-type'])
  if (boundary === null) throw new RpcError('file argument "path" is required (a multipart/form-data body)', ERR_CLIENT)
  const signal = clientGone(res)

  const lines: string[] = []
  const send = (value: unknown) => {
    const line = `${JSON.stringify(value)}\n`
    if (progress) res.write(line)
    else lines.push(line)
  }
  if (progress) startNdjson(res)
  let files = 0
  try {
    // Not destroyed when the walk stops early (an error): Node then drains what is left of the
    // upload, and the client gets the error instead of a reset connection.
    for await (const part of readMultipart(req.iterator({ destroyOnReturn: false }), boundary)) {
      if (part.filename === undefined && part.contentType === undefined) continue // a plain form field
      const name = decodeName(part.filename ?? '')
      if (part.contentType === 'application/x-directory' || name.includes('/')) {
        throw new RpcError('adding directories is not supported by this node: add each file on its own')
      }
      files++
      let bytes = 0
      let reported = 0
      const counted = async function* (): AsyncGenerator<Uint8Array> {
        for await (const piece of part.body) {
          bytes += piece.length
          if (progress && bytes - reported >= 1024 * 1024) {
            reported = bytes
            send({ Name: name, Bytes: bytes })
          }
          yield piece
        }
      }
      const added: ImportedFile = await store.importFile(counted(), params, { signal })
      if (progress) send({ Name: name, Bytes: bytes })
      if (!silent) send({ Name: name === '' ? added.cid.toString() : name, Hash: added.cid.toString(), Size: String(added.dagSize) })
    }
    if (files === 0) throw new RpcError('file argument "path" is required', ERR_CLIENT)
  } catch (error) {
    if (!progress) throw error
    // the 200 is sent: the error goes into the stream and its trailer, as Kubo does
    const message = error instanceof Error ? error.message : String(error)
    send({ Message: message, Code: ERR_NORMAL, Type: 'error' })
    res.addTrailers({ 'X-Stream-Error': message.replace(/[\r\n]/g, ' ') })
    res.end()
    return
  }
  if (!progress) startNdjson(res)
  for (const line of lines) res.write(line)
  res.end()
}

function startNdjson(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'X-Chunked-Output': '1',
    Trailer: 'X-Stream-Error',
  })
}

/** kubo-rpc-client percent-encodes file names; curl sends them as they are. */
function decodeName(filename: string): string {
  try {
    return decodeURIComponent(filename)
  } catch {
    return filename
  }
}

/** The UnixFS parameters of an `add`, with Kubo's defaults and refusals. */
export function importParams(query: URLSearchParams): UnixFSImportParams {
  const version = intOption(query, 'cid-version') ?? 0
  if (version !== 0 && version !== 1) throw new RpcError(`unknown CID version ${version}`)
  const chunker = query.get('chunker') ?? KUBO_DEFAULT_CHUNKER
  const size = /^size-(\d+)$/.exec(chunker)
  if (size === null) throw new RpcError(`chunker ${JSON.stringify(chunker)} is not supported by this node: size-<bytes> only`)
  const chunkSize = Number(size[1])
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RpcError(`chunker parameters may not exceed the maximum chunk size of ${MAX_CHUNK_SIZE}`)
  }
  const hash = query.get('hash') ?? 'sha2-256'
  if (hash !== 'sha2-256') throw new RpcError(`hash function ${JSON.stringify(hash)} is not supported by this node: sha2-256 only`)
  for (const flag of ['trickle', 'wrap-with-directory', 'only-hash', 'inline', 'nocopy', 'fscache']) {
    if (boolOption(query, flag, false)) throw new RpcError(`option "${flag}" is not supported by this node`)
  }
  if ((query.get('to-files') ?? '') !== '') throw new RpcError('option "to-files" is not supported by this node')
  return {
    cidVersion: version,
    rawLeaves: boolOption(query, 'raw-leaves', version === 1),
    chunkSize,
    pin: boolOption(query, 'pin', true),
  }
}

/**
 * `cat`: a UnixFS file's bytes (`offset`, `length`), streamed as they are read. The first bytes
 * are read before the 200 is sent, so a missing or unreadable file is a 500; a block missing
 * further on (a damaged store) cuts the connection, and the client sees an incomplete body.
 */
async function cat(store: HeliaContentStore, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const cid = cidArgument(query, 'ipfs-path')
  const offset = intOption(query, 'offset')
  const length = intOption(query, 'length')
  if (offset !== undefined && offset < 0) throw new RpcError('cannot specify negative offset')
  if (length !== undefined && length < 0) throw new RpcError(`cannot specify negative length`)
  const signal = clientGone(res)
  const iterator = store.cat(cid.toString(), { offline: true, offset, length, signal })[Symbol.asyncIterator]()
  const first = await iterator.next()
  res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Stream-Output': '1', Trailer: 'X-Stream-Error' })
  if (first.done === true) {
    res.end()
    return
  }
  const rest = async function* (): AsyncGenerator<Uint8Array> {
    yield first.value
    for (;;) {
      const next = await iterator.next()
      if (next.done === true) return
      yield next.value
    }
  }
  await writeAll(res, rest(), () => iterator.return?.(undefined))
}

/** Writes a source to the response with backpressure; closes the source if the client leaves. */
async function writeAll(res: ServerResponse, source: AsyncIterable<Uint8Array>, close: () => unknown): Promise<void> {
  try {
    await pipeline(source, res)
  } catch (error) {
    await close()
    throw error
  }
}

async function blockStat(store: HeliaContentStore, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const cid = cidArgument(query, 'cid')
  const bytes = await store.getBlock(cid)
  json(res, 200, { Key: cid.toString(), Size: bytes.length })
}

async function blockGet(store: HeliaContentStore, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const cid = cidArgument(query, 'cid')
  const bytes = await store.getBlock(cid)
  res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Stream-Output': '1', 'Content-Length': bytes.length })
  res.end(bytes)
}

async function id(store: HeliaContentStore, res: ServerResponse): Promise<void> {
  const peer = store.peerInfo()
  if (peer === null) {
    throw new RpcError('this node runs without libp2p and has no peer ID (start it with --ipfs-listen or --ipfs-peer)')
  }
  json(res, 200, { ID: peer.id, Addresses: peer.addresses, AgentVersion: AGENT_VERSION, Protocols: peer.protocols })
}
