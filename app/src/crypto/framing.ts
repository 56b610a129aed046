/**
 * Reads an async byte source as fixed-size records, telling which one is the last. Holds at most
 * one source piece beyond the record being returned, so memory is bounded by the record size plus
 * the source's piece size, whatever the stream length.
 */

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>

export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>
  private piece: Uint8Array = new Uint8Array(0)
  private offset = 0
  private ended = false

  constructor(source: ByteSource) {
    this.iterator =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        : (source as Iterable<Uint8Array>)[Symbol.iterator]()
  }

  /** Loads the next non-empty piece; false at the end of the source. */
  private async fill(): Promise<boolean> {
    while (!this.ended) {
      const next = await this.iterator.next()
      if (next.done === true) {
        this.ended = true
        return false
      }
      const value: unknown = next.value
      if (!(value instanceof Uint8Array)) {
        throw new TypeError('byte source yielded a value that is not a Uint8Array')
      }
      if (value.length > 0) {
        this.piece = value
        this.offset = 0
        return true
      }
    }
    return false
  }

  /**
   * Returns the next `n` bytes, fewer only at the end of the source. The bytes are copied out of
   * the source's pieces (a source may reuse its buffers), into `into` when given (at least `n`
   * bytes long; the result is then a view of it) or else into a fresh array.
   */
  async read(n: number, into?: Uint8Array): Promise<Uint8Array> {
    const out = into === undefined ? new Uint8Array(n) : into.subarray(0, n)
    if (out.length < n) throw new RangeError('read buffer too small')
    let filled = 0
    while (filled < n) {
      if (this.offset >= this.piece.length && !(await this.fill())) break
      const take = Math.min(n - filled, this.piece.length - this.offset)
      out.set(this.piece.subarray(this.offset, this.offset + take), filled)
      this.offset += take
      filled += take
    }
    return filled === n ? out : out.subarray(0, filled)
  }

  /** True when no byte is left; may pull (and keep) the next source piece. */
  async atEnd(): Promise<boolean> {
    if (this.offset < this.piece.length) return false
    return !(await this.fill())
  }

  /** Stops the underlying source early (e.g. on an error), letting it release resources. */
  async cancel(): Promise<void> {
    if (this.ended) return
    this.ended = true
    await this.iterator.return?.()
  }
}

export interface ByteRecord {
  data: Uint8Array
  /** index of the record in the stream, from 0 */
  index: number
  /** true for the last record: it is followed by the end of the source */
  final: boolean
}

/**
 * Splits the rest of `reader` into records of `size` bytes; the last one may be shorter (and is
 * empty only when nothing at all is left). Exactly one record has `final` set.
 *
 * All records are views of one buffer, overwritten when the next record is requested: a consumer
 * must be done with a record (or copy it) before asking for the next one. This keeps the
 * allocation rate, and so the garbage collector's work, independent of the stream length.
 */
export async function* records(reader: ByteReader, size: number): AsyncGenerator<ByteRecord> {
  const buffer = new Uint8Array(size)
  for (let index = 0; ; index++) {
    const data = await reader.read(size, buffer)
    const final = data.length < size || (await reader.atEnd())
    yield { data, index, final }
    if (final) return
  }
}
