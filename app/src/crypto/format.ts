/**
 * DMC1: the encrypted content format (see FORMAT.md). Constants, header encoding and the per-chunk
 * nonce and associated data. Shared by the Node and WebCrypto implementations; no Node-only APIs.
 */
import { concatBytes, utf8 } from './bytes.js'
import { CryptoError } from './errors.js'

export const MAGIC = utf8('DMC1')
export const FORMAT_VERSION = 1

/** magic (4) | version (1) | reserved (3) | chunk size u32 BE (4) | nonce base (12) */
export const HEADER_PREFIX_LEN = 24
export const COMMITMENT_LEN = 32
/** header prefix followed by the 32-byte key commitment */
export const HEADER_LEN = HEADER_PREFIX_LEN + COMMITMENT_LEN
export const NONCE_LEN = 12
export const TAG_LEN = 16
export const CONTENT_KEY_LEN = 32
export const SHA256_LEN = 32

export const DEFAULT_CHUNK_SIZE = 1024 * 1024
export const MIN_CHUNK_SIZE = 64
/** Bounds the memory a decryptor commits to for an untrusted header. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024
/** Chunk indices are u32: at most 2^32 chunks per stream. */
export const MAX_CHUNKS = 2 ** 32

/** HKDF-SHA256 info strings; the salt is the 24-byte header prefix. */
export const CHUNK_KEY_INFO = utf8('data-market DMC1 v1 chunk key')
export const COMMITMENT_INFO = utf8('data-market DMC1 v1 key commitment')

export interface HeaderFields {
  version: number
  chunkSize: number
  nonceBase: Uint8Array
}

export function checkContentKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== CONTENT_KEY_LEN) {
    throw new CryptoError('INVALID_KEY', `content key must be ${CONTENT_KEY_LEN} bytes`)
  }
}

export function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      `chunk size must be an integer between ${MIN_CHUNK_SIZE} and ${MAX_CHUNK_SIZE}, got ${chunkSize}`,
    )
  }
}

export function encodeHeaderPrefix(chunkSize: number, nonceBase: Uint8Array): Uint8Array {
  checkChunkSize(chunkSize)
  if (nonceBase.length !== NONCE_LEN) {
    throw new CryptoError('INVALID_ARGUMENT', `nonce base must be ${NONCE_LEN} bytes`)
  }
  const prefix = new Uint8Array(HEADER_PREFIX_LEN)
  prefix.set(MAGIC, 0)
  prefix[4] = FORMAT_VERSION
  // bytes 5..7 reserved, zero
  new DataView(prefix.buffer).setUint32(8, chunkSize, false)
  prefix.set(nonceBase, 12)
  return prefix
}

/** Parses and validates the 24-byte header prefix (the commitment is checked by the caller). */
export function parseHeaderPrefix(prefix: Uint8Array): HeaderFields {
  if (prefix.length < HEADER_PREFIX_LEN) {
    throw new CryptoError('TRUNCATED_HEADER', 'input ends inside the DMC1 header')
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (prefix[i] !== MAGIC[i]) {
      throw new CryptoError('NOT_DMC1', 'input is not a DMC1 encrypted stream (bad magic bytes)')
    }
  }
  const version = prefix[4]!
  if (version !== FORMAT_VERSION) {
    throw new CryptoError(
      'UNSUPPORTED_VERSION',
      `unsupported DMC1 version ${version} (this client reads version ${FORMAT_VERSION})`,
    )
  }
  if (prefix[5] !== 0 || prefix[6] !== 0 || prefix[7] !== 0) {
    throw new CryptoError('INVALID_HEADER', 'DMC1 header reserved bytes are not zero')
  }
  const chunkSize = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(8, false)
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CryptoError(
      'INVALID_HEADER',
      `DMC1 header chunk size ${chunkSize} is outside [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}]`,
    )
  }
  return { version, chunkSize, nonceBase: prefix.slice(12, 24) }
}

/** nonce(i) = nonce base XOR (i as u64 big-endian, right-aligned in the 12 bytes). */
export function chunkNonce(nonceBase: Uint8Array, index: number): Uint8Array {
  const nonce = Uint8Array.from(nonceBase)
  const view = new DataView(nonce.buffer)
  // index < 2^32: only the low 32 bits are non-zero, the high word of the u64 stays as is
  view.setUint32(8, (view.getUint32(8, false) ^ index) >>> 0, false)
  return nonce
}

/** AAD(i) = full header (56 bytes) | i as u64 BE | final flag (1 = last chunk, 0 otherwise). */
export function chunkAad(header: Uint8Array, index: number, final: boolean): Uint8Array {
  const tail = new Uint8Array(9)
  const view = new DataView(tail.buffer)
  view.setUint32(0, 0, false)
  view.setUint32(4, index, false)
  tail[8] = final ? 1 : 0
  return concatBytes(header, tail)
}

/** Ciphertext length for a plaintext of `plaintextBytes` bytes. */
export function ciphertextLength(plaintextBytes: number, chunkSize = DEFAULT_CHUNK_SIZE): number {
  return HEADER_LEN + plaintextBytes + dmc1ChunkCount(chunkSize, plaintextBytes) * TAG_LEN
}

/** Chunks in the stream of a plaintext of `plaintextBytes` bytes: max(1, ceil(L / chunk_size)). */
export function dmc1ChunkCount(chunkSize: number, plaintextBytes: number): number {
  checkChunkSize(chunkSize)
  if (!Number.isSafeInteger(plaintextBytes) || plaintextBytes < 0) {
    throw new CryptoError('INVALID_ARGUMENT', `plaintext size must be a whole number of bytes, got ${plaintextBytes}`)
  }
  return Math.max(1, Math.ceil(plaintextBytes / chunkSize))
}

/** Where chunk `index` lies in a DMC1 stream, in bytes from the start of the stream. */
export interface Dmc1ChunkRange {
  offset: number
  /** `chunk_size + 16`, except for the final chunk: its plaintext bytes + 16. */
  length: number
  final: boolean
}

/**
 * The byte range of ciphertext chunk `index` in the stream of a plaintext of `plaintextBytes`
 * bytes, to fetch one chunk (a range request) without reading the ones before it.
 */
export function dmc1ChunkRange(chunkSize: number, plaintextBytes: number, index: number): Dmc1ChunkRange {
  const chunks = dmc1ChunkCount(chunkSize, plaintextBytes)
  if (!Number.isInteger(index) || index < 0 || index >= chunks) {
    throw new CryptoError('INVALID_ARGUMENT', `chunk ${index} is not in a stream of ${chunks} chunks`)
  }
  const final = index === chunks - 1
  return {
    offset: HEADER_LEN + index * (chunkSize + TAG_LEN),
    length: (final ? plaintextBytes - index * chunkSize : chunkSize) + TAG_LEN,
    final,
  }
}

export function normalizeSha256(expected: Uint8Array | string): Uint8Array {
  if (typeof expected === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(expected)) {
      throw new CryptoError('INVALID_ARGUMENT', 'expected sha256 must be 64 hex characters')
    }
    const out = new Uint8Array(SHA256_LEN)
    for (let i = 0; i < SHA256_LEN; i++) out[i] = parseInt(expected.slice(2 * i, 2 * i + 2), 16)
    return out
  }
  if (expected.length !== SHA256_LEN) {
    throw new CryptoError('INVALID_ARGUMENT', 'expected sha256 must be 32 bytes')
  }
  return expected
}
