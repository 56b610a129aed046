/**
 * Adding to a Kubo RPC endpoint (`POST /api/v0/add`) with nothing but fetch and FormData, so a
 * browser can publish: no node:* import, no Buffer. It sends the parameters KuboContentStore sends
 * (DEFAULT_IMPORT_PARAMS: CIDv1, raw leaves, 1 MiB chunks, pinned), so the same bytes get the same
 * CID as from the CLI. A Blob body (a File from disk, e.g. OPFS) is streamed by the browser, never
 * read into memory here.
 */
import { canonicalJson, DEFAULT_IMPORT_PARAMS, type UnixFSImportParams } from './unixfs-params.js'

/** kubo-rpc-client's names for the add parameters (KuboContentStore passes these). */
export function kuboAddOptions(params: Readonly<UnixFSImportParams> = DEFAULT_IMPORT_PARAMS) {
  return {
    cidVersion: params.cidVersion,
    rawLeaves: params.rawLeaves,
    chunker: `size-${params.chunkSize}`,
    pin: params.pin,
  } as const
}

/** The same parameters as the RPC's query string. */
export function kuboAddQuery(params: Readonly<UnixFSImportParams> = DEFAULT_IMPORT_PARAMS): URLSearchParams {
  const options = kuboAddOptions(params)
  return new URLSearchParams({
    'cid-version': String(options.cidVersion),
    'raw-leaves': String(options.rawLeaves),
    chunker: options.chunker,
    pin: String(options.pin),
  })
}

export type IpfsApiProblem =
  /** No RPC URL, or not an http(s) URL. */
  | 'not-configured'
  /** Nothing answers at that address. */
  | 'unreachable'
  /** A server answers but does not let this page's origin call it (CORS, 403). */
  | 'origin-refused'
  /** It answered with an error, or with something that is not Kubo's answer. */
  | 'failed'

export class IpfsApiError extends Error {
  override name = 'IpfsApiError'

  constructor(
    readonly problem: IpfsApiProblem,
    readonly apiUrl: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface KuboAddOptions {
  /** Bytes of the body sent so far (browsers only: XMLHttpRequest reports upload progress, fetch does not). */
  onProgress?: (sent: number, total: number) => void
  signal?: AbortSignal
  /** The multipart part's file name (it does not change the CID). */
  fileName?: string
}

export interface KuboAddResult {
  cid: string
  /** The DAG's cumulative size, as Kubo reports it. */
  size: number
}

/** The `/api/v0/add` URL of a Kubo RPC base URL (`http://127.0.0.1:5001`, with or without `/api/v0`). */
export function kuboAddUrl(apiUrl: string | null | undefined): URL {
  let base: URL
  try {
    base = new URL(apiUrl ?? '')
  } catch {
    throw new IpfsApiError('not-configured', apiUrl ?? '', 'no IPFS RPC API is configured')
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new IpfsApiError('not-configured', apiUrl ?? '', `the IPFS RPC API ${apiUrl} is not an http(s) URL`)
  }
  const path = base.pathname.replace(/\/+$/, '').replace(/\/api\/v0$/, '')
  const url = new URL(`${path}/api/v0/add`, base)
  url.search = kuboAddQuery().toString()
  return url
}

/**
 * Asks the endpoint its version: throws IpfsApiError when it is not configured, cannot be reached,
 * refuses this page's origin or is not a Kubo RPC API, so a publication can stop before any work.
 */
export async function kuboCheck(apiUrl: string | null | undefined): Promise<void> {
  const url = kuboAddUrl(apiUrl)
  url.pathname = url.pathname.replace(/\/add$/, '/version')
  url.search = ''
  let status: number
  try {
    status = (await fetch(url, { method: 'POST' })).status
  } catch (cause) {
    throw await connectionProblem(url, apiUrl ?? '', cause)
  }
  if (status === 403) {
    throw new IpfsApiError('origin-refused', apiUrl ?? '', `the IPFS RPC API ${apiUrl} refuses requests from this site (403)`)
  }
  if (status < 200 || status >= 300) {
    throw new IpfsApiError('failed', apiUrl ?? '', `the IPFS RPC API ${apiUrl} answered ${status} to /api/v0/version (is it a Kubo RPC API?)`)
  }
}

/** Adds one file (pinned); returns its CID. */
export async function kuboAdd(apiUrl: string | null | undefined, content: Blob, options: KuboAddOptions = {}): Promise<KuboAddResult> {
  const url = kuboAddUrl(apiUrl)
  const form = new FormData()
  form.append('file', content, options.fileName ?? 'file')
  const sent =
    options.onProgress && BrowserXhr
      ? await postWithProgress(BrowserXhr, url, form, content.size, options)
      : await postWithFetch(url, form, options.signal)
  if (sent.status === 0) throw await connectionProblem(url, apiUrl ?? '', sent.cause)
  if (sent.status === 403) {
    throw new IpfsApiError('origin-refused', apiUrl ?? '', `the IPFS RPC API ${apiUrl} refuses requests from this site (403)`)
  }
  if (sent.status < 200 || sent.status >= 300) {
    throw new IpfsApiError('failed', apiUrl ?? '', `the IPFS RPC API ${apiUrl} answered ${sent.status}: ${kuboMessage(sent.body)}`)
  }
  return parseAddAnswer(sent.body, apiUrl ?? '')
}

/** Adds `value` as canonical JSON (object keys sorted), as ContentStore.addJson does. */
export async function kuboAddJson(apiUrl: string | null | undefined, value: unknown, options: Omit<KuboAddOptions, 'onProgress'> = {}): Promise<string> {
  const bytes = canonicalJson(value)
  const blob = new Blob([bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer], { type: 'application/json' })
  return (await kuboAdd(apiUrl, blob, options)).cid
}

interface Answer {
  /** 0 when no HTTP answer came (network error, or CORS refused). */
  status: number
  body: string
  cause?: unknown
}

async function postWithFetch(url: URL, form: FormData, signal?: AbortSignal): Promise<Answer> {
  try {
    const response = await fetch(url, { method: 'POST', body: form, signal })
    return { status: response.status, body: await response.text() }
  } catch (cause) {
    if (signal?.aborted) throw cause
    return { status: 0, body: '', cause }
  }
}

/** The part of XMLHttpRequest used here (the Node build has no DOM types, and no XMLHttpRequest). */
interface UploadRequest {
  open(method: string, url: string): void
  upload: { onprogress: ((event: { loaded: number }) => void) | null }
  onload: (() => void) | null
  onerror: (() => void) | null
  onabort: (() => void) | null
  readonly status: number
  readonly responseText: string
  abort(): void
  send(body: FormData): void
}

const BrowserXhr = (globalThis as { XMLHttpRequest?: new () => UploadRequest }).XMLHttpRequest

function postWithProgress(Xhr: new () => UploadRequest, url: URL, form: FormData, total: number, options: KuboAddOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr()
    xhr.open('POST', url.href)
    // The multipart envelope adds a few hundred bytes to the file: report the file's bytes.
    xhr.upload.onprogress = (event) => options.onProgress?.(Math.min(event.loaded, total), total)
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText })
    xhr.onerror = () => resolve({ status: 0, body: '', cause: new TypeError('network error') })
    xhr.onabort = () => reject(options.signal?.reason ?? new DOMException('aborted', 'AbortError'))
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    xhr.send(form)
  })
}

/**
 * A browser hides why a cross-origin request failed. A `no-cors` request tells the two cases apart:
 * it gets an (opaque) answer when a server is there, so the server refused this origin.
 */
async function connectionProblem(url: URL, apiUrl: string, cause: unknown): Promise<IpfsApiError> {
  const inBrowser = 'window' in globalThis || 'WorkerGlobalScope' in globalThis
  if (inBrowser) {
    try {
      await fetch(url, { method: 'POST', mode: 'no-cors' })
      return new IpfsApiError('origin-refused', apiUrl, `the IPFS RPC API ${apiUrl} does not accept requests from this site`, { cause })
    } catch {
      // nothing answers
    }
  }
  return new IpfsApiError('unreachable', apiUrl, `the IPFS RPC API ${apiUrl} cannot be reached`, { cause })
}

function kuboMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { Message?: unknown }
    if (typeof parsed.Message === 'string') return parsed.Message
  } catch {
    // not JSON
  }
  return body.slice(0, 200) || 'no message'
}

/** Kubo answers NDJSON; the last line with a Hash is the file added. */
function parseAddAnswer(body: string, apiUrl: string): KuboAddResult {
  const lines = body.split('\n').filter((l) => l.trim() !== '')
  for (let i = lines.length - 1; i >= 0; i--) {
    let entry: { Hash?: unknown; Size?: unknown }
    try {
      entry = JSON.parse(lines[i]!) as typeof entry
    } catch {
      break
    }
    if (typeof entry.Hash === 'string') return { cid: entry.Hash, size: Number(entry.Size ?? 0) }
  }
  throw new IpfsApiError('failed', apiUrl, `the IPFS RPC API ${apiUrl} did not answer as Kubo's add does`)
}
