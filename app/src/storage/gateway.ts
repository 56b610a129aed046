/**
 * The embedded node over HTTP (Node only): one server on 127.0.0.1 with
 *
 * - `/ipfs/<cid>`: a Trustless Gateway (specs.ipfs.tech/http-gateways/trustless-gateway): the raw
 *   block (`application/vnd.ipld.raw`, `?format=raw`) or a CARv1 stream of the DAG under it
 *   (`application/vnd.ipld.car`, `?format=car`; `dag-scope` all, entity or block, `entity-bytes`;
 *   blocks depth-first, `dups=n` unless `dups=y` is asked for). Read-only, for anyone: CORS `*`.
 *   Non-recursive: what the node does not hold is 404 at once, never looked for on the network.
 * - `/api/v0/*`: the Kubo RPC subset KuboContentStore (kubo-rpc-client) uses: see kubo-rpc.ts.
 *   It writes, so browsers may call it only from the origins the server is given.
 *
 * Responses stream with backpressure: a CAR reads the next block only when the socket has taken
 * the previous one (plus a bounded read-ahead), so any DAG size passes in a few MiB of memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { CID } from 'multiformats/cid'
import { carBlocks, carHeader, CarRequestError, isIdentity, planCar, walkableCodec, type CarWalk, type DagScope, type EntityBytes } from './car.js'
import { ContentNotFoundError } from './content-store.js'
import type { HeliaContentStore } from './helia-store.js'
import { createKuboRpcHandler } from './kubo-rpc.js'
import { readAhead } from './read-ahead.js'

export interface GatewayOptions {
  /** The node whose blocks are served (and that the RPC adds to). The caller stops it. */
  store: HeliaContentStore
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0: a free port, see `RunningGateway.port`. */
  port?: number
  /** Serve the Kubo RPC subset under /api/v0 (default true). */
  rpc?: boolean
  /**
   * Browser origins allowed to call the RPC (e.g. a dapp's `http://localhost:5173`), besides the
   * server's own. Default none: like Kubo, cross-origin calls are refused (403). `*` allows any.
   */
  rpcAllowedOrigins?: readonly string[]
}

export interface RunningGateway {
  /** `http://host:port`: the gateway base (`<url>/ipfs/<cid>`) and the RPC address (`--ipfs <url>`). */
  url: string
  port: number
  server: Server
  /** Stops accepting, ends open connections; resolves when the server is closed. */
  close(): Promise<void>
}

/** Bytes of a CAR read ahead of the socket. */
const CAR_READ_AHEAD = 8 * 1024 * 1024

const IMMUTABLE = 'public, max-age=29030400, immutable'

/** CORS of the read-only gateway: any origin, as path gateways do (boxo's defaults, plus HEAD and OPTIONS). */
export const GATEWAY_CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': 'Accept, Cache-Control, Content-Type, If-None-Match, Range, User-Agent, X-Requested-With',
  'Access-Control-Expose-Headers':
    'Content-Disposition, Content-Length, Content-Location, Content-Range, Etag, X-Chunked-Output, X-Ipfs-Path, X-Ipfs-Roots, X-Stream-Output',
})

export const MEDIA_RAW = 'application/vnd.ipld.raw'
export const MEDIA_CAR = 'application/vnd.ipld.car'

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const host = options.host ?? '127.0.0.1'
  let selfOrigins: string[] = []
  const rpc =
    options.rpc === false
      ? null
      : createKuboRpcHandler(options.store, { allowedOrigins: options.rpcAllowedOrigins ?? [], selfOrigins: () => selfOrigins })
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => fail(res, error))
  })
  // uploads of large files may take longer than Node's default of 5 minutes for a whole request
  server.requestTimeout = 0

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid')
    if (url.pathname === '/ipfs' || url.pathname.startsWith('/ipfs/')) return serveIpfs(options.store, req, res, url)
    if (url.pathname.startsWith('/api/v0/') && rpc !== null) return rpc(req, res, url)
    if (url.pathname.startsWith('/ipns/')) {
      return text(res, 501, 'IPNS is not supported by this gateway: ask for /ipfs/<cid>', GATEWAY_CORS_HEADERS)
    }
    text(res, 404, '404 page not found')
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  selfOrigins = [url, `http://localhost:${port}`]
  let closing: Promise<void> | null = null
  return {
    url,
    port,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

/** A failure after the handler started: a 500 if nothing was sent yet, else the connection is cut. */
function fail(res: ServerResponse, error: unknown): void {
  if (!res.headersSent) {
    text(res, 500, `internal error: ${error instanceof Error ? error.message : String(error)}`, GATEWAY_CORS_HEADERS)
  } else {
    res.destroy(error instanceof Error ? error : new Error(String(error)))
  }
}

export function text(res: ServerResponse, status: number, message: string, headers: Readonly<Record<string, string>> = {}): void {
  const body = `${message}\n`
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
  })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

type Negotiated =
  | { format: 'raw'; fromAccept: boolean }
  | { format: 'car'; fromAccept: boolean; dups: boolean }
  | { error: string }

async function serveIpfs(store: HeliaContentStore, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET'
  if (method === 'OPTIONS') {
    res.writeHead(204, { ...GATEWAY_CORS_HEADERS, 'Access-Control-Max-Age': '86400', Allow: 'GET, HEAD, OPTIONS' })
    res.end()
    return
  }
  if (method !== 'GET' && method !== 'HEAD') {
    return text(res, 405, `method ${method} not allowed: this gateway is read-only (GET, HEAD)`, {
      ...GATEWAY_CORS_HEADERS,
      Allow: 'GET, HEAD, OPTIONS',
    })
  }
  const bad = (message: string) => text(res, 400, message, GATEWAY_CORS_HEADERS)

  const rest = url.pathname.slice('/ipfs/'.length)
  const slash = rest.indexOf('/')
  const cidText = slash < 0 ? rest : rest.slice(0, slash)
  const subPath = slash < 0 ? '' : rest.slice(slash + 1)
  let cid: CID
  try {
    cid = CID.parse(cidText)
  } catch {
    return bad(`invalid CID ${JSON.stringify(cidText.slice(0, 120))}`)
  }
  if (subPath !== '') {
    return bad(`content paths are not supported by this gateway: ask for /ipfs/${cidText} (the block or the DAG's root)`)
  }

  const negotiated = negotiate(url, req.headers.accept)
  if ('error' in negotiated) return bad(negotiated.error)

  let walk: CarWalk | null = null
  if (negotiated.format === 'car') {
    const scope = url.searchParams.get('dag-scope') ?? 'all'
    if (scope !== 'all' && scope !== 'entity' && scope !== 'block') {
      return bad(`invalid dag-scope ${JSON.stringify(scope)}: all, entity or block`)
    }
    let entityBytes: EntityBytes | undefined
    const range = url.searchParams.get('entity-bytes')
    if (range !== null) {
      const parsed = parseEntityBytes(range)
      if (parsed === null) return bad(`invalid entity-bytes ${JSON.stringify(range)}: from:to, with to a byte offset or *`)
      entityBytes = parsed
    }
    walk = { scope: entityBytes === undefined ? (scope as DagScope) : 'entity', dups: negotiated.dups, entityBytes }
    if (walk.scope !== 'block' && !walkableCodec(cid.code) && !isIdentity(cid)) {
      return bad(`cannot walk a DAG whose root has codec 0x${cid.code.toString(16)}: this gateway walks dag-pb and raw (dag-scope=block works)`)
    }
  }

  // The root block, from the local store only: missing means 404 (or 412 for only-if-cached).
  let rootBytes: Uint8Array
  if (isIdentity(cid)) {
    rootBytes = cid.multihash.digest
  } else {
    try {
      rootBytes = await store.getBlock(cid)
    } catch (error) {
      if (!(error instanceof ContentNotFoundError)) throw error
      const onlyIfCached = /(^|,)\s*only-if-cached\s*(,|$)/i.test(req.headers['cache-control'] ?? '')
      return text(
        res,
        onlyIfCached ? 412 : 404,
        `block ${cid} is not in this node's store (this gateway does not look for content on the network)`,
        GATEWAY_CORS_HEADERS,
      )
    }
  }

  const common: Record<string, string> = {
    ...GATEWAY_CORS_HEADERS,
    'Cache-Control': IMMUTABLE,
    'X-Content-Type-Options': 'nosniff',
    'X-Ipfs-Path': `/ipfs/${cidText}`,
    'X-Ipfs-Roots': cid.toString(),
    Vary: 'Accept',
  }
  if (negotiated.fromAccept) {
    const location = new URLSearchParams(url.searchParams)
    location.set('format', negotiated.format)
    common['Content-Location'] = `${url.pathname}?${location.toString()}`
  }

  if (negotiated.format === 'raw') return serveRaw(req, res, cid, rootBytes, common)

  let plan
  try {
    plan = planCar(cid, rootBytes, walk!)
  } catch (error) {
    if (error instanceof CarRequestError) return bad(error.message)
    throw error
  }
  const { scope, dups } = plan.walk
  const rangeTag = plan.range === null ? '' : `.${plan.range.start}-${plan.range.end}`
  const etag = `"${cid}.car.${scope}${rangeTag}.dfs.${dups ? 'dups-y' : 'dups-n'}"`
  const headers = {
    ...common,
    'Content-Type': `${MEDIA_CAR}; version=1; order=dfs; dups=${dups ? 'y' : 'n'}`,
    'Content-Disposition': `attachment; filename="${cid}.car"`,
    'Accept-Ranges': 'none',
    Etag: etag,
  }
  if (notModified(req, etag)) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  res.writeHead(200, headers)
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  // The client going away aborts the walk: the pending block read, then the read-ahead.
  const abort = new AbortController()
  res.once('close', () => abort.abort())
  const body = async function* (): AsyncGenerator<Uint8Array> {
    yield carHeader([cid])
    yield* readAhead(carBlocks(store, cid, rootBytes, { ...plan.walk, signal: abort.signal }), CAR_READ_AHEAD)
  }
  // A block missing half way (a damaged store) ends the response early: the 200 is already sent,
  // so the connection is cut and the client sees an incomplete CAR, as the specification says.
  await pipeline(body(), res).catch((error: unknown) => {
    if (!res.destroyed) res.destroy(error instanceof Error ? error : new Error(String(error)))
  })
}

function serveRaw(req: IncomingMessage, res: ServerResponse, cid: CID, bytes: Uint8Array, common: Record<string, string>): void {
  const etag = `"${cid}.raw"`
  const headers: Record<string, string | number> = {
    ...common,
    'Content-Type': MEDIA_RAW,
    'Content-Disposition': `attachment; filename="${cid}.bin"`,
    'Accept-Ranges': 'bytes',
    Etag: etag,
  }
  if (notModified(req, etag)) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  const range = parseRange(req.headers.range, bytes.length)
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${bytes.length}`, 'Content-Length': 0 })
    res.end()
    return
  }
  const [status, body] =
    range === null ? [200, bytes] : [206, bytes.subarray(range.start, range.end + 1)]
  if (range !== null) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${bytes.length}`
  headers['Content-Length'] = body.length
  res.writeHead(status, headers)
  res.end(req.method === 'HEAD' ? undefined : body)
}

function notModified(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match']
  if (header === undefined) return false
  return header.split(',').some((tag) => {
    const t = tag.trim()
    return t === '*' || t === etag || t === `W/${etag}`
  })
}

/** A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null (whole body) for none or several. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (header === undefined) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return null
  const [, a, b] = match
  if (a === '' && b === '') return null
  let start: number
  let end: number
  if (a === '') {
    const suffix = Number(b)
    if (suffix === 0) return 'unsatisfiable'
    start = Math.max(0, size - suffix)
    end = size - 1
  } else {
    start = Number(a)
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1)
    if (b !== '' && Number(b) < start) return null
  }
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

function parseEntityBytes(text: string): EntityBytes | null {
  const match = /^(-?\d+):(-?\d+|\*)$/.exec(text)
  if (match === null) return null
  const from = Number(match[1])
  const to = match[2] === '*' ? null : Number(match[2])
  if (!Number.isSafeInteger(from) || (to !== null && !Number.isSafeInteger(to))) return null
  return { from, to }
}

/**
 * The response format: `format` wins over Accept (as the specification says); from Accept, the
 * supported media type with the highest q (the first of equals). Strict trustless: neither is an
 * error, never a deserialised file.
 */
function negotiate(url: URL, accept: string | undefined): Negotiated {
  const carParams = (params: Map<string, string>): { dups: boolean } | { error: string } => {
    const version = url.searchParams.get('car-version') ?? params.get('version') ?? '1'
    const order = url.searchParams.get('car-order') ?? params.get('order') ?? 'dfs'
    const dups = url.searchParams.get('car-dups') ?? params.get('dups') ?? 'n'
    if (version !== '1') return { error: `CAR version ${JSON.stringify(version)} is not supported: this gateway writes CARv1` }
    if (order !== 'dfs' && order !== 'unk') return { error: `CAR order ${JSON.stringify(order)} is not supported: dfs` }
    if (dups !== 'y' && dups !== 'n') return { error: `CAR dups ${JSON.stringify(dups)} is not supported: y or n` }
    return { dups: dups === 'y' }
  }
  const format = url.searchParams.get('format')
  if (format !== null) {
    if (format === 'raw') return { format: 'raw', fromAccept: false }
    if (format === 'car') {
      // Accept's CAR parameters still apply when it asks for a CAR
      const fromAccept = parseAccept(accept).find((m) => m.type === MEDIA_CAR)
      const params = carParams(fromAccept?.params ?? new Map())
      return 'error' in params ? params : { format: 'car', fromAccept: false, ...params }
    }
    return { error: `unsupported format ${JSON.stringify(format)}: this trustless gateway serves format=raw and format=car` }
  }
  let firstError: string | null = null
  const candidates = parseAccept(accept)
    .filter((m) => (m.type === MEDIA_RAW || m.type === MEDIA_CAR) && m.q > 0)
    .sort((x, y) => y.q - x.q || x.index - y.index)
  for (const media of candidates) {
    if (media.type === MEDIA_RAW) return { format: 'raw', fromAccept: true }
    const params = carParams(media.params)
    if (!('error' in params)) return { format: 'car', fromAccept: true, ...params }
    firstError ??= params.error
  }
  return {
    error:
      firstError ??
      `this trustless gateway answers only Accept: ${MEDIA_RAW} (a block) or ${MEDIA_CAR} (a DAG), or ?format=raw or ?format=car`,
  }
}

interface MediaRange {
  type: string
  params: Map<string, string>
  q: number
  index: number
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined) return []
  return header.split(',').map((item, index) => {
    const [type = '', ...rest] = item.split(';').map((p) => p.trim())
    const params = new Map<string, string>()
    let q = 1
    for (const param of rest) {
      const eq = param.indexOf('=')
      if (eq < 0) continue
      const key = param.slice(0, eq).trim().toLowerCase()
      const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
      if (key === 'q') q = Number.isFinite(Number(value)) ? Number(value) : 0
      else params.set(key, value)
    }
    return { type: type.toLowerCase(), params, q, index }
  })
}
