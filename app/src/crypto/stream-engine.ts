/**
 * The DMC1 encrypt/decrypt state machines, written once over a small backend interface. The Node
 * backend (node:crypto) and the WebCrypto backend (crypto.subtle) plug their primitives in here, so
 * both produce and accept byte-identical streams.
 */
import { equalBytes } from './bytes.js'
import { CHUNK_LEAF_PREFIX } from './chunk-tree.js'
import { ChunkTreeMismatchError, CryptoError } from './errors.js'
import {
  checkChunkSize,
  checkContentKey,
  chunkAad,
  chunkNonce,
  DEFAULT_CHUNK_SIZE,
  encodeHeaderPrefix,
  HEADER_LEN,
  HEADER_PREFIX_LEN,
  MAX_CHUNKS,
  NONCE_LEN,
  normalizeSha256,
  parseHeaderPrefix,
  SHA256_LEN,
  TAG_LEN,
} from './format.js'
import { ByteReader, records, type ByteSource } from './framing.js'

/** AES-256-GCM under one derived chunk key. */
export interface ChunkAead {
  /** Returns ciphertext followed by the 16-byte tag, possibly as several pieces. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array[]> | Uint8Array[]
  /** Returns the plaintext, or null when authentication fails. No plaintext escapes on failure. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array | null> | Uint8Array | null
}

export interface IncrementalHash {
  update(data: Uint8Array): void
  digest(): Uint8Array
}

export interface StreamBackend {
  /** HKDF-SHA256(contentKey, salt = header prefix, info) for the chunk key and the commitment. */
  deriveKeys(contentKey: Uint8Array, headerPrefix: Uint8Array): Promise<{ aead: ChunkAead; commitment: Uint8Array }>
  sha256(): IncrementalHash
  /**
   * The sha256 of `parts` concatenated, in one call: a chunk's leaf. Native where it can be (an
   * incremental JavaScript hash is several times slower than WebCrypto's digest).
   */
  sha256Of(parts: readonly Uint8Array[]): Promise<Uint8Array> | Uint8Array
  randomBytes(length: number): Uint8Array
}

export interface EncryptOptions {
  /** Plaintext bytes per chunk (default 1 MiB). */
  chunkSize?: number
  /** Fixed nonce base, for test vectors only: never reuse one with the same content key. */
  nonceBase?: Uint8Array
}

export interface EncryptSummary {
  /** sha256 of the plaintext (the dataset's on-chain content hash) */
  sha256: Uint8Array
  plaintextBytes: number
  ciphertextBytes: number
  chunks: number
  /** The chunk tree's leaves, sha256(0x00 || plaintext chunk), one per chunk in order (chunk-tree.ts). */
  chunkLeaves: Uint8Array[]
}

export interface DecryptOptions {
  /**
   * sha256 the plaintext must have (32 bytes or 64 hex chars). The stream fails with HASH_MISMATCH
   * after the last chunk otherwise. `null` skips the check, explicitly.
   */
  expectedSha256: Uint8Array | string | null
  /**
   * The chunk tree's leaves, already checked against the expected root. Each chunk must hash to its
   * leaf, and the stream must have exactly as many chunks: the stream fails with
   * ChunkTreeMismatchError at the first chunk that does not, before its plaintext is released.
   */
  chunkLeaves?: readonly Uint8Array[]
}

export interface DecryptSummary {
  sha256: Uint8Array
  plaintextBytes: number
  chunks: number
}

/**
 * An async iterable of output bytes. `summary` settles once the iteration has finished: it
 * resolves after the last piece and rejects with the error the iteration threw.
 */
export interface ProcessingStream<S> extends AsyncIterable<Uint8Array> {
  readonly summary: Promise<S>
}

function withSummary<S>(run: (settle: (s: S) => void) => AsyncGenerator<Uint8Array>): ProcessingStream<S> {
  let resolve!: (s: S) => void
  let reject!: (e: unknown) => void
  const summary = new Promise<S>((res, rej) => {
    resolve = res
    reject = rej
  })
  // Callers may only consume the bytes; an unobserved rejection must not crash the process.
  summary.catch(() => {})
  let started = false
  async function* guarded(): AsyncGenerator<Uint8Array> {
    let settled = false
    try {
      yield* run((s) => {
        settled = true
        resolve(s)
      })
    } catch (err) {
      settled = true
      reject(err)
      throw err
    } finally {
      if (!settled) {
        reject(new CryptoError('STREAM_NOT_CONSUMED', 'the stream was abandoned before its end'))
      }
    }
  }
  return {
    summary,
    [Symbol.asyncIterator]() {
      if (started) throw new TypeError('a DMC1 stream can be iterated only once')
      started = true
      return guarded()
    },
  }
}

export function encryptWith(
  backend: StreamBackend,
  source: ByteSource,
  contentKey: Uint8Array,
  options: EncryptOptions = {},
): ProcessingStream<EncryptSummary> {
  checkContentKey(contentKey)
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  checkChunkSize(chunkSize)
  const nonceBase = options.nonceBase ?? backend.randomBytes(NONCE_LEN)
  const prefix = encodeHeaderPrefix(chunkSize, nonceBase)

  return withSummary(async function* (settle) {
    const { aead, commitment } = await backend.deriveKeys(contentKey, prefix)
    const header = new Uint8Array(HEADER_LEN)
    header.set(prefix, 0)
    header.set(commitment, HEADER_PREFIX_LEN)
    yield header

    const hash = backend.sha256()
    const reader = new ByteReader(source)
    let plaintextBytes = 0
    let ciphertextBytes = HEADER_LEN
    let chunks = 0
    const chunkLeaves: Uint8Array[] = []
    try {
      for await (const { data, index, final } of records(reader, chunkSize)) {
        if (index >= MAX_CHUNKS) {
          throw new CryptoError('TOO_MANY_CHUNKS', `a DMC1 stream holds at most ${MAX_CHUNKS} chunks`)
        }
        hash.update(data)
        // Both are done with `data` (reused by the next record) once awaited; WebCrypto overlaps them.
        const [leaf, pieces] = await Promise.all([
          backend.sha256Of([CHUNK_LEAF_PREFIX, data]),
          aead.seal(chunkNonce(nonceBase, index), chunkAad(header, index, final), data),
        ])
        chunkLeaves.push(leaf)
        for (const piece of pieces) {
          ciphertextBytes += piece.length
          yield piece
        }
        plaintextBytes += data.length
        chunks++
      }
    } finally {
      await reader.cancel().catch(() => {})
    }
    settle({ sha256: hash.digest(), plaintextBytes, ciphertextBytes, chunks, chunkLeaves })
  })
}

export function decryptWith(
  backend: StreamBackend,
  source: ByteSource,
  contentKey: Uint8Array,
  options: DecryptOptions,
): ProcessingStream<DecryptSummary> {
  checkContentKey(contentKey)
  if (options === undefined || options.expectedSha256 === undefined) {
    throw new CryptoError('INVALID_ARGUMENT', 'expectedSha256 is required (pass null to skip the check)')
  }
  const expected = options.expectedSha256 === null ? null : normalizeSha256(options.expectedSha256)
  const leaves = options.chunkLeaves ?? null
  if (leaves !== null && (leaves.length === 0 || leaves.some((leaf) => leaf.length !== SHA256_LEN))) {
    throw new CryptoError('INVALID_ARGUMENT', `chunkLeaves must be one or more leaves of ${SHA256_LEN} bytes`)
  }

  return withSummary(async function* (settle) {
    const reader = new ByteReader(source)
    try {
      const header = await reader.read(HEADER_LEN)
      if (header.length === 0) throw new CryptoError('TRUNCATED_HEADER', 'input is empty: no DMC1 header')
      const { chunkSize, nonceBase } = parseHeaderPrefix(header)
      if (header.length < HEADER_LEN) {
        throw new CryptoError('TRUNCATED_HEADER', 'input ends inside the DMC1 header')
      }
      const { aead, commitment } = await backend.deriveKeys(contentKey, header.subarray(0, HEADER_PREFIX_LEN))
      if (!equalBytes(commitment, header.subarray(HEADER_PREFIX_LEN))) {
        throw new CryptoError(
          'WRONG_KEY_OR_HEADER_TAMPERED',
          'the key commitment in the DMC1 header does not match: wrong content key, or the header was modified',
        )
      }

      const hash = backend.sha256()
      let plaintextBytes = 0
      let chunks = 0
      for await (const { data, index, final } of records(reader, chunkSize + TAG_LEN)) {
        if (index >= MAX_CHUNKS) {
          throw new CryptoError('TOO_MANY_CHUNKS', `a DMC1 stream holds at most ${MAX_CHUNKS} chunks`)
        }
        if (data.length < TAG_LEN) {
          // Only reachable when the previous chunk verified as non-final and the input ends now.
          throw new CryptoError(
            'TRUNCATED',
            index === 0
              ? 'the DMC1 stream has a header but no chunk'
              : `the DMC1 stream ends inside chunk ${index}: the final chunk is missing`,
          )
        }
        if (leaves !== null && index >= leaves.length) {
          throw new ChunkTreeMismatchError(
            index,
            leaves.length,
            `the stream has more chunks than the ${leaves.length} of the dataset's chunk tree`,
          )
        }
        const nonce = chunkNonce(nonceBase, index)
        const plaintext = await aead.open(nonce, chunkAad(header, index, final), data)
        if (plaintext === null) {
          throw await classifyFailure(aead, nonce, header, index, final, data)
        }
        if (leaves !== null && !equalBytes(await backend.sha256Of([CHUNK_LEAF_PREFIX, plaintext]), leaves[index]!)) {
          throw new ChunkTreeMismatchError(index, leaves.length)
        }
        hash.update(plaintext)
        plaintextBytes += plaintext.length
        chunks++
        yield plaintext
      }

      if (leaves !== null && chunks !== leaves.length) {
        throw new ChunkTreeMismatchError(
          chunks,
          leaves.length,
          `the stream ends after ${chunks} chunks, but the dataset's chunk tree has ${leaves.length}`,
        )
      }
      const sha256 = hash.digest()
      if (expected !== null && !equalBytes(sha256, expected)) {
        throw new CryptoError(
          'HASH_MISMATCH',
          'the decrypted content does not have the expected sha256 (wrong file for this dataset)',
        )
      }
      settle({ sha256, plaintextBytes, chunks })
    } finally {
      await reader.cancel().catch(() => {})
    }
  })
}

/**
 * Decrypts one chunk of a DMC1 stream on its own (random access: a range request for
 * `dmc1ChunkRange`), from the stream's 56-byte header, the chunk's index and whether it is the
 * final chunk. The key commitment is checked first, as when reading the whole stream. Each chunk is
 * authenticated with its index, its final flag and the header, so a chunk of another position,
 * another stream or with the wrong flag is refused (CHUNK_AUTH_FAILED).
 */
export async function decryptChunkWith(
  backend: StreamBackend,
  contentKey: Uint8Array,
  header: Uint8Array,
  index: number,
  final: boolean,
  ciphertextChunk: Uint8Array,
): Promise<Uint8Array> {
  checkContentKey(contentKey)
  if (header.length < HEADER_LEN) throw new CryptoError('TRUNCATED_HEADER', 'the DMC1 header is 56 bytes')
  const fullHeader = header.subarray(0, HEADER_LEN)
  const { chunkSize, nonceBase } = parseHeaderPrefix(fullHeader)
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CHUNKS) {
    throw new CryptoError('INVALID_ARGUMENT', `chunk index must be an integer in [0, ${MAX_CHUNKS}), got ${index}`)
  }
  const { aead, commitment } = await backend.deriveKeys(contentKey, fullHeader.subarray(0, HEADER_PREFIX_LEN))
  if (!equalBytes(commitment, fullHeader.subarray(HEADER_PREFIX_LEN))) {
    throw new CryptoError(
      'WRONG_KEY_OR_HEADER_TAMPERED',
      'the key commitment in the DMC1 header does not match: wrong content key, or the header was modified',
    )
  }
  const record = chunkSize + TAG_LEN
  if (ciphertextChunk.length > record) {
    throw new CryptoError('INVALID_ARGUMENT', `chunk ${index} is ${ciphertextChunk.length} bytes, more than a chunk (${record})`)
  }
  if (ciphertextChunk.length < TAG_LEN || (!final && ciphertextChunk.length < record)) {
    throw new CryptoError(
      'TRUNCATED',
      `chunk ${index} is ${ciphertextChunk.length} bytes: ${final ? `a final chunk has at least ${TAG_LEN}` : `a chunk before the final one has ${record}`}`,
    )
  }
  const nonce = chunkNonce(nonceBase, index)
  const plaintext = await aead.open(nonce, chunkAad(fullHeader, index, final), ciphertextChunk)
  if (plaintext !== null) return plaintext
  const other = await aead.open(nonce, chunkAad(fullHeader, index, !final), ciphertextChunk)
  if (other !== null) {
    other.fill(0)
    throw new CryptoError(
      'CHUNK_AUTH_FAILED',
      `chunk ${index} was read as ${final ? 'the final chunk' : 'a non-final chunk'}, but it is ${final ? 'not the final chunk' : 'the final chunk'}`,
    )
  }
  throw new CryptoError(
    'CHUNK_AUTH_FAILED',
    `chunk ${index} failed authentication: the data was modified, or it is not chunk ${index} of this stream`,
  )
}

/**
 * A chunk failed under the flag its position implies. Trying the other flag tells a truncated
 * stream (a non-final chunk is last) and appended data (the final chunk is followed by bytes) from
 * a modified, reordered or foreign chunk. The trial's plaintext is discarded.
 */
async function classifyFailure(
  aead: ChunkAead,
  nonce: Uint8Array,
  header: Uint8Array,
  index: number,
  final: boolean,
  data: Uint8Array,
): Promise<CryptoError> {
  const other = await aead.open(nonce, chunkAad(header, index, !final), data)
  if (other !== null) {
    other.fill(0)
    return final
      ? new CryptoError(
          'TRUNCATED',
          `the DMC1 stream ends after chunk ${index}, which is not the final chunk: the end of the stream is missing`,
        )
      : new CryptoError('TRAILING_DATA', `unexpected data after the final chunk (chunk ${index})`)
  }
  return new CryptoError(
    'CHUNK_AUTH_FAILED',
    `chunk ${index} failed authentication: the data was modified, chunks were reordered or duplicated, ` +
      'or bytes were added or removed near the end',
  )
}

/**
 * The sha256 of a byte stream (a model file, read piece by piece: memory stays at one piece).
 * `onBytes` hears the running byte count after each piece.
 */
export async function hashWith(
  backend: Pick<StreamBackend, 'sha256'>,
  source: AsyncIterable<Uint8Array>,
  onBytes?: (done: number) => void,
): Promise<Uint8Array> {
  const hash = backend.sha256()
  let done = 0
  for await (const piece of source) {
    hash.update(piece)
    done += piece.length
    onBytes?.(done)
  }
  return hash.digest()
}
