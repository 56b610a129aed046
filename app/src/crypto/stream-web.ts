/**
 * DMC1 with WebCrypto (crypto.subtle) for browsers: the same format as the Node implementation.
 * WebCrypto has no incremental SHA-256, so the plaintext hash uses @noble/hashes; the chunk leaves,
 * one digest per chunk, use crypto.subtle. This module imports nothing from Node.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { ownedCopy } from './bytes.js'
import { CHUNK_KEY_INFO, COMMITMENT_INFO, CONTENT_KEY_LEN } from './format.js'
import type { ByteSource } from './framing.js'
import { subtle, type WebCryptoKey } from './webcrypto.js'
import {
  decryptChunkWith,
  decryptWith,
  hashWith,
  encryptWith,
  type ChunkAead,
  type DecryptOptions,
  type DecryptSummary,
  type EncryptOptions,
  type EncryptSummary,
  type ProcessingStream,
  type StreamBackend,
} from './stream-engine.js'


function webAead(key: WebCryptoKey): ChunkAead {
  return {
    async seal(nonce, aad, plaintext) {
      const sealed = await subtle().encrypt(
        { name: 'AES-GCM', iv: ownedCopy(nonce), additionalData: ownedCopy(aad), tagLength: 128 },
        key,
        ownedCopy(plaintext),
      )
      return [new Uint8Array(sealed)]
    },
    async open(nonce, aad, sealed) {
      try {
        const plain = await subtle().decrypt(
          { name: 'AES-GCM', iv: ownedCopy(nonce), additionalData: ownedCopy(aad), tagLength: 128 },
          key,
          ownedCopy(sealed),
        )
        return new Uint8Array(plain)
      } catch (err) {
        // WebCrypto signals a failed tag check with OperationError and returns no plaintext.
        if (err instanceof Error && err.name === 'OperationError') return null
        throw err
      }
    },
  }
}

async function hkdf(ikm: WebCryptoKey, salt: Uint8Array, info: Uint8Array): Promise<ArrayBuffer> {
  return subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: ownedCopy(salt), info: ownedCopy(info) }, ikm, 256)
}

export const webBackend: StreamBackend = {
  async deriveKeys(contentKey, headerPrefix) {
    const ikm = await subtle().importKey('raw', ownedCopy(contentKey), 'HKDF', false, ['deriveBits'])
    const chunkKeyBytes = await hkdf(ikm, headerPrefix, CHUNK_KEY_INFO)
    const chunkKey = await subtle().importKey('raw', chunkKeyBytes, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
    const commitment = new Uint8Array(await hkdf(ikm, headerPrefix, COMMITMENT_INFO))
    return { aead: webAead(chunkKey), commitment }
  },
  sha256() {
    const hash = sha256.create()
    return {
      update: (data) => void hash.update(data),
      digest: () => hash.digest(),
    }
  },
  async sha256Of(parts) {
    let total = 0
    for (const part of parts) total += part.length
    // One owned copy: WebCrypto wants an ArrayBuffer-backed view.
    const joined = new Uint8Array(new ArrayBuffer(total))
    let offset = 0
    for (const part of parts) {
      joined.set(part, offset)
      offset += part.length
    }
    return new Uint8Array(await subtle().digest('SHA-256', joined))
  },
  randomBytes(length) {
    const out = new Uint8Array(length)
    globalThis.crypto.getRandomValues(out)
    return out
  },
}

/** A fresh random 32-byte content key. */
export function generateContentKey(): Uint8Array {
  return webBackend.randomBytes(CONTENT_KEY_LEN)
}

/** The sha256 of a byte stream (e.g. a File's stream), incrementally with @noble/hashes. */
export function sha256Stream(source: AsyncIterable<Uint8Array>, onBytes?: (done: number) => void): Promise<Uint8Array> {
  return hashWith(webBackend, source, onBytes)
}

export function encryptStream(
  source: ByteSource | ReadableStream<Uint8Array>,
  contentKey: Uint8Array,
  options?: EncryptOptions,
): ProcessingStream<EncryptSummary> {
  return encryptWith(webBackend, toByteSource(source), contentKey, options)
}

/**
 * Decrypts a DMC1 stream (e.g. a `fetch()` body). Each chunk is authenticated by crypto.subtle
 * before its plaintext is yielded; the hash check happens after the last chunk.
 */
export function decryptStream(
  source: ByteSource | ReadableStream<Uint8Array>,
  contentKey: Uint8Array,
  options: DecryptOptions,
): ProcessingStream<DecryptSummary> {
  return decryptWith(webBackend, toByteSource(source), contentKey, options)
}

/**
 * Decrypts chunk `index` of a DMC1 stream on its own, given the stream's 56-byte header (see
 * `dmc1ChunkRange` for where the chunk lies). The key commitment is checked first.
 */
export function decryptDmc1Chunk(
  contentKey: Uint8Array,
  header: Uint8Array,
  index: number,
  final: boolean,
  ciphertextChunk: Uint8Array,
): Promise<Uint8Array> {
  return decryptChunkWith(webBackend, contentKey, header, index, final, ciphertextChunk)
}

/** Reads a web ReadableStream as an async iterable (not every browser makes streams iterable). */
export async function* iterateReadable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader()
  let done = false
  try {
    for (;;) {
      const next = await reader.read()
      if (next.done) {
        done = true
        return
      }
      yield next.value
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}

/** Exposes an async iterable of bytes as a ReadableStream (pull-based: one piece at a time). */
export function toReadableStream(pieces: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = pieces[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next()
        if (next.done === true) controller.close()
        else controller.enqueue(next.value)
      } catch (err) {
        controller.error(err)
      }
    },
    async cancel() {
      await iterator.return?.()
    },
  })
}

function toByteSource(source: ByteSource | ReadableStream<Uint8Array>): ByteSource {
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) return iterateReadable(source)
  return source as ByteSource
}
