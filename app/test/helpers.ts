import { createHash, randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { CryptoError, type CryptoErrorCode } from '../src/crypto/index.js'

export const MiB = 1024 * 1024

export function random(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n))
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/** Yields `data` in pieces of `pieceSize` bytes (fresh copies, like a network stream). */
export async function* pieces(data: Uint8Array, pieceSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += pieceSize) yield data.slice(i, i + pieceSize)
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}

/**
 * Consumes `source`, keeping whatever it yields before failing; returns the bytes released and
 * the error (or null).
 */
export async function drain(source: AsyncIterable<Uint8Array>): Promise<{ released: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = []
  try {
    for await (const p of source) parts.push(p)
  } catch (error) {
    return { released: new Uint8Array(Buffer.concat(parts)), error }
  }
  return { released: new Uint8Array(Buffer.concat(parts)), error: null }
}

export function assertCryptoError(err: unknown, code: CryptoErrorCode): void {
  assert.ok(err instanceof CryptoError, `expected a CryptoError ${code}, got ${String(err)}`)
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
  assert.ok(err.message.length > 10)
}

export async function rejectsWith(promise: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assertCryptoError(err, code)
    return true
  })
}
