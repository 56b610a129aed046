/**
 * A streaming `multipart/form-data` reader (RFC 7578) for the Kubo RPC `add` of the gateway: a
 * part's body is handed on piece by piece as the request arrives, so a file of any size passes
 * through a few socket buffers of memory. Only what an `add` request needs: the parts' headers
 * (Content-Disposition, Content-Type) and bodies; no nested multipart, no transfer encodings.
 */

export class MultipartError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MultipartError'
  }
}

export interface MultipartPart {
  /** Header names in lower case. */
  headers: ReadonlyMap<string, string>
  /** Content-Disposition's `name`. */
  name: string | undefined
  /** Content-Disposition's `filename`, as sent (Kubo clients percent-encode it). */
  filename: string | undefined
  contentType: string | undefined
  /**
   * The part's bytes. Read it (or not) before asking for the next part; what is left unread is
   * skipped. It can be read once.
   */
  body: AsyncIterable<Uint8Array>
}

/** At most this many bytes of headers per part. */
const MAX_HEADER_BYTES = 16 * 1024

/** The boundary parameter of a `multipart/form-data` Content-Type, or null. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (contentType === undefined) return null
  const [type, ...params] = contentType.split(';')
  if (type?.trim().toLowerCase() !== 'multipart/form-data') return null
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue
    let value = param.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    // RFC 2046: 1 to 70 characters
    return value.length >= 1 && value.length <= 70 ? value : null
  }
  return null
}

/** Reads the parts of a multipart body one after the other. */
export async function* readMultipart(source: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<MultipartPart> {
  const reader = new ByteReader(source[Symbol.asyncIterator]())
  // Every delimiter is CRLF "--" boundary; the first one may stand at the very start of the body,
  // so the body is read as if a CRLF preceded it.
  reader.unshift(Buffer.from('\r\n'))
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  try {
    // the preamble, if any, is skipped
    for await (const _ of reader.until(delimiter)) {
      // discarded
    }
    if (!reader.foundDelimiter) throw new MultipartError('the body holds no multipart boundary')
    for (;;) {
      // after a delimiter: "--" ends the body, else optional white space and CRLF start a part
      const tail = await reader.readLine(MAX_HEADER_BYTES)
      if (tail === null) throw new MultipartError('the body ends without its closing boundary')
      if (tail.startsWith('--')) return
      if (tail.trim() !== '') throw new MultipartError('malformed multipart boundary line')
      const headers = new Map<string, string>()
      let headerBytes = 0
      for (;;) {
        const line = await reader.readLine(MAX_HEADER_BYTES - headerBytes)
        if (line === null) throw new MultipartError('the body ends within the headers of a part')
        if (line === '') break
        headerBytes += line.length + 2
        const colon = line.indexOf(':')
        if (colon <= 0) throw new MultipartError(`malformed part header ${JSON.stringify(line.slice(0, 80))}`)
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
      }
      const disposition = parseDisposition(headers.get('content-disposition'))
      let consumed = false
      const body = reader.until(delimiter)
      const part: MultipartPart = {
        headers,
        name: disposition.get('name'),
        filename: disposition.get('filename'),
        contentType: headers.get('content-type'),
        body: {
          [Symbol.asyncIterator]() {
            if (consumed) throw new MultipartError('a part body can be read once')
            consumed = true
            return body
          },
        },
      }
      yield part
      // whatever the consumer left unread
      for await (const _ of body) {
        // skipped
      }
      if (!reader.foundDelimiter) throw new MultipartError('the body ends within a part')
    }
  } finally {
    await reader.close()
  }
}

/** `form-data; name="file"; filename="a.txt"` → name, filename (quoted strings unescaped). */
function parseDisposition(value: string | undefined): Map<string, string> {
  const params = new Map<string, string>()
  if (value === undefined) return params
  const pattern = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g
  for (const match of value.matchAll(pattern)) {
    const key = match[1]!.toLowerCase()
    const raw = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '').trim()
    params.set(key, raw)
  }
  return params
}

/** A byte source read up to delimiters, handing on pieces without copying them. */
class ByteReader {
  private buffer: Buffer = Buffer.alloc(0)
  private ended = false
  /** Whether the last `until` stopped at its delimiter (false: the source ended first). */
  foundDelimiter = false

  constructor(private readonly iterator: AsyncIterator<Uint8Array>) {}

  unshift(bytes: Buffer): void {
    this.buffer = this.buffer.length === 0 ? bytes : Buffer.concat([bytes, this.buffer])
  }

  /** Reads more of the source into the buffer; false once it has ended. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false
    const next = await this.iterator.next()
    if (next.done === true) {
      this.ended = true
      return false
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    return true
  }

  /**
   * The bytes up to the next `delimiter`, which is consumed. Bytes that could be the start of the
   * delimiter are held back until more arrive.
   */
  async *until(delimiter: Buffer): AsyncGenerator<Uint8Array> {
    this.foundDelimiter = false
    for (;;) {
      const at = this.buffer.indexOf(delimiter)
      if (at >= 0) {
        const before = this.buffer.subarray(0, at)
        this.buffer = this.buffer.subarray(at + delimiter.length)
        this.foundDelimiter = true
        if (before.length > 0) yield before
        return
      }
      const safe = this.buffer.length - (delimiter.length - 1)
      if (safe > 0) {
        const piece = this.buffer.subarray(0, safe)
        this.buffer = this.buffer.subarray(safe)
        yield piece
      }
      if (!(await this.fill())) {
        // the source ended without the delimiter: what is left belongs to the caller
        if (this.buffer.length > 0) {
          const rest = this.buffer
          this.buffer = Buffer.alloc(0)
          yield rest
        }
        return
      }
    }
  }

  /** One line (without its CRLF) as UTF-8 text, at most `max` bytes; null if the source ends first. */
  async readLine(max: number): Promise<string | null> {
    for (;;) {
      const at = this.buffer.indexOf('\r\n')
      if (at >= 0) {
        if (at > max) throw new MultipartError('multipart headers too long')
        const line = this.buffer.toString('utf8', 0, at)
        this.buffer = this.buffer.subarray(at + 2)
        return line
      }
      if (this.buffer.length > max) throw new MultipartError('multipart headers too long')
      if (!(await this.fill())) {
        // the last line of a body may end without CRLF (after the closing "--")
        if (this.buffer.length === 0) return null
        const line = this.buffer.toString('utf8')
        this.buffer = Buffer.alloc(0)
        return line
      }
    }
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true
      await this.iterator.return?.()
    }
  }
}
