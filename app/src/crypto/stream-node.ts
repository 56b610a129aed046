/**
 * DMC1 with node:crypto (OpenSSL AES-NI / SHA extensions): the fast path for the CLI, the seller
 * tooling and servers. Also file helpers that never leave a partial or unverified output file.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CHUNK_KEY_INFO, COMMITMENT_INFO, CONTENT_KEY_LEN, DEFAULT_CHUNK_SIZE, TAG_LEN } from './format.js'
import type { ByteSource } from './framing.js'
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

function nodeAead(key: KeyObject): ChunkAead {
  return {
    seal(nonce, aad, plaintext) {
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN })
      cipher.setAAD(aad)
      const body = cipher.update(plaintext)
      const rest = cipher.final()
      const tag = cipher.getAuthTag()
      return rest.length > 0 ? [body, rest, tag] : [body, tag]
    },
    open(nonce, aad, sealed) {
      const split = sealed.length - TAG_LEN
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN })
      decipher.setAAD(aad)
      decipher.setAuthTag(sealed.subarray(split))
      const body = decipher.update(sealed.subarray(0, split))
      let rest: Buffer
      try {
        rest = decipher.final()
      } catch {
        // OpenSSL produced unverified plaintext in `body`: wipe it, release nothing.
        body.fill(0)
        return null
      }
      return rest.length > 0 ? Buffer.concat([body, rest]) : body
    },
  }
}

export const nodeBackend: StreamBackend = {
  async deriveKeys(contentKey, headerPrefix) {
    const chunkKey = createSecretKey(Buffer.from(hkdfSync('sha256', contentKey, headerPrefix, CHUNK_KEY_INFO, 32)))
    const commitment = new Uint8Array(hkdfSync('sha256', contentKey, headerPrefix, COMMITMENT_INFO, 32))
    return { aead: nodeAead(chunkKey), commitment }
  },
  sha256() {
    const hash = createHash('sha256')
    return {
      update: (data) => void hash.update(data),
      digest: () => new Uint8Array(hash.digest()),
    }
  },
  sha256Of(parts) {
    const hash = createHash('sha256')
    for (const part of parts) hash.update(part)
    return new Uint8Array(hash.digest())
  },
  randomBytes: (length) => new Uint8Array(randomBytes(length)),
}

/** A fresh random 32-byte content key. */
export function generateContentKey(): Uint8Array {
  return new Uint8Array(randomBytes(CONTENT_KEY_LEN))
}

/** The sha256 of a byte stream (e.g. a file read with createReadStream), with node:crypto. */
export function sha256Stream(source: AsyncIterable<Uint8Array>, onBytes?: (done: number) => void): Promise<Uint8Array> {
  return hashWith(nodeBackend, source, onBytes)
}

/** Encrypts a byte stream to DMC1; `summary` gives the plaintext sha256 once it is consumed. */
export function encryptStream(
  source: ByteSource,
  contentKey: Uint8Array,
  options?: EncryptOptions,
): ProcessingStream<EncryptSummary> {
  return encryptWith(nodeBackend, source, contentKey, options)
}

/**
 * Decrypts a DMC1 stream. Each chunk is authenticated before its plaintext is yielded; the hash
 * check happens after the last chunk, so write to a file with `decryptToFile` (or discard the
 * output on error) rather than trusting bytes already received.
 */
export function decryptStream(
  source: ByteSource,
  contentKey: Uint8Array,
  options: DecryptOptions,
): ProcessingStream<DecryptSummary> {
  return decryptWith(nodeBackend, source, contentKey, options)
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
  // A plain Uint8Array of its own, not a Buffer that may be a view of Node's shared pool.
  return decryptChunkWith(nodeBackend, contentKey, header, index, final, ciphertextChunk).then((plain) => new Uint8Array(plain))
}

export interface FileOutputOptions {
  /** fsync the file and its directory before and after the rename (default true). */
  durable?: boolean
}

/** Encrypts `inputPath` into `outputPath` (written atomically); returns the plaintext sha256. */
export async function encryptFile(
  inputPath: string,
  outputPath: string,
  contentKey: Uint8Array,
  options: EncryptOptions & FileOutputOptions = {},
): Promise<EncryptSummary> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  const stream = encryptStream(createReadStream(inputPath, { highWaterMark: chunkSize }), contentKey, options)
  await writeFileAtomically(outputPath, stream, options)
  return stream.summary
}

/**
 * Decrypts a DMC1 source (a path or a byte stream, e.g. an IPFS cat) into `outputPath`. The file
 * appears only once every chunk authenticated and the plaintext hash matched; on any failure
 * nothing is left behind.
 */
export async function decryptToFile(
  source: string | ByteSource,
  outputPath: string,
  contentKey: Uint8Array,
  options: DecryptOptions & FileOutputOptions,
): Promise<DecryptSummary> {
  const input = typeof source === 'string' ? createReadStream(source, { highWaterMark: DEFAULT_CHUNK_SIZE }) : source
  const stream = decryptStream(input, contentKey, options)
  await writeFileAtomically(outputPath, stream, options)
  return stream.summary
}

async function writeAll(file: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < data.length) {
    const { bytesWritten } = await file.write(data, offset, data.length - offset)
    offset += bytesWritten
  }
}

/**
 * Streams `pieces` to a temporary file next to `path`, then renames it into place. One write is in
 * flight while the next piece is produced, so I/O overlaps the crypto with bounded memory.
 */
export async function writeFileAtomically(
  path: string,
  pieces: AsyncIterable<Uint8Array>,
  options: FileOutputOptions = {},
): Promise<void> {
  const durable = options.durable ?? true
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`)
  const file = await open(temp, 'wx')
  let pending: Promise<unknown> | null = null
  let closed = false
  try {
    for await (const piece of pieces) {
      if (pending !== null) {
        const err = await pending
        if (err !== null) throw err
      }
      pending = writeAll(file, piece).then(
        () => null,
        (e: unknown) => e ?? new Error('write failed'),
      )
    }
    if (pending !== null) {
      const err = await pending
      pending = null
      if (err !== null) throw err
    }
    if (durable) await file.sync()
    await file.close()
    closed = true
    await rename(temp, path)
    if (durable) await syncDirectory(dirname(path))
  } catch (err) {
    if (pending !== null) await pending
    if (!closed) await file.close().catch(() => {})
    await unlink(temp).catch(() => {})
    throw err
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
