/**
 * The chunk tree in the DMC1 stream, with both backends: the leaves an encryption reports, one chunk
 * fetched by its byte range and decrypted on its own, and a decryption that checks every chunk
 * against the leaves and stops at the first one that differs.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  ChunkTreeMismatchError,
  chunkLeaf,
  dmc1ChunkCount,
  dmc1ChunkRange,
  HEADER_LEN,
  TAG_LEN,
  type EncryptSummary,
} from '../src/crypto/index.js'
import * as nodeImpl from '../src/crypto/stream-node.js'
import * as webImpl from '../src/crypto/stream-web.js'
import { assertCryptoError, collect, drain, pieces, random, rejectsWith, sha256 } from './helpers.js'

const impls = { node: nodeImpl, web: webImpl } as const
const names = ['node', 'web'] as const

async function encryptAll(impl: typeof nodeImpl | typeof webImpl, plaintext: Uint8Array, key: Uint8Array, chunkSize: number) {
  const stream = impl.encryptStream(pieces(plaintext, 100), key, { chunkSize })
  const ciphertext = await collect(stream)
  return { ciphertext, summary: (await stream.summary) as EncryptSummary }
}

const chunksOf = (plaintext: Uint8Array, chunkSize: number): Uint8Array[] => {
  const out: Uint8Array[] = []
  for (let at = 0; at < plaintext.length; at += chunkSize) out.push(plaintext.subarray(at, at + chunkSize))
  return out.length === 0 ? [new Uint8Array(0)] : out
}

describe('chunk leaves from encryption', () => {
  for (const name of names) {
    for (const [size, chunkSize] of [[0, 64], [1, 64], [64, 64], [65, 64], [10_000, 1024], [10_240, 1024]] as const) {
      test(`${name}: ${size} bytes in chunks of ${chunkSize}: one leaf per chunk, in order`, async () => {
        const plaintext = random(size)
        const { summary } = await encryptAll(impls[name], plaintext, random(32), chunkSize)
        const expected = chunksOf(plaintext, chunkSize).map(chunkLeaf)
        assert.equal(summary.chunks, dmc1ChunkCount(chunkSize, size))
        assert.equal(summary.chunkLeaves.length, summary.chunks)
        assert.deepEqual(summary.chunkLeaves, expected)
      })
    }
  }
})

describe('one chunk by its byte range', () => {
  test('ranges tile the stream: header, full chunks, a shorter final chunk', () => {
    assert.deepEqual(dmc1ChunkRange(64, 0, 0), { offset: HEADER_LEN, length: TAG_LEN, final: true })
    assert.deepEqual(dmc1ChunkRange(64, 64, 0), { offset: HEADER_LEN, length: 64 + TAG_LEN, final: true })
    assert.deepEqual(dmc1ChunkRange(64, 130, 1), { offset: HEADER_LEN + 80, length: 80, final: false })
    assert.deepEqual(dmc1ChunkRange(64, 130, 2), { offset: HEADER_LEN + 160, length: 2 + TAG_LEN, final: true })
    assert.throws(() => dmc1ChunkRange(64, 130, 3), (e: unknown) => (assertCryptoError(e, 'INVALID_ARGUMENT'), true))
    assert.throws(() => dmc1ChunkRange(64, 130, -1), (e: unknown) => (assertCryptoError(e, 'INVALID_ARGUMENT'), true))
    assert.throws(() => dmc1ChunkRange(10, 130, 0), (e: unknown) => (assertCryptoError(e, 'INVALID_ARGUMENT'), true))
  })

  for (const enc of names) {
    for (const dec of names) {
      test(`${enc} encrypts, ${dec} decrypts chunks 0, a middle one and the final one on their own`, async () => {
        const chunkSize = 1024
        const plaintext = random(10 * chunkSize + 77)
        const key = random(32)
        const { ciphertext } = await encryptAll(impls[enc], plaintext, key, chunkSize)
        const header = ciphertext.subarray(0, HEADER_LEN)
        const count = dmc1ChunkCount(chunkSize, plaintext.length)
        let end = HEADER_LEN
        for (let i = 0; i < count; i++) {
          const range = dmc1ChunkRange(chunkSize, plaintext.length, i)
          assert.equal(range.offset, end)
          end = range.offset + range.length
        }
        assert.equal(end, ciphertext.length, 'the ranges cover the stream exactly')

        for (const index of [0, 5, count - 1]) {
          const { offset, length, final } = dmc1ChunkRange(chunkSize, plaintext.length, index)
          const chunk = ciphertext.slice(offset, offset + length)
          const opened = await impls[dec].decryptDmc1Chunk(key, header, index, final, chunk)
          assert.deepEqual(opened, plaintext.subarray(index * chunkSize, index * chunkSize + chunkSize))
        }
      })
    }
  }

  for (const name of names) {
    test(`${name}: a wrong flag, index, key or header, a changed byte or a cut chunk is refused`, async () => {
      const impl = impls[name]
      const chunkSize = 64
      const plaintext = random(5 * chunkSize + 10)
      const key = random(32)
      const { ciphertext } = await encryptAll(impl, plaintext, key, chunkSize)
      const header = ciphertext.subarray(0, HEADER_LEN)
      const slice = (index: number) => {
        const { offset, length } = dmc1ChunkRange(chunkSize, plaintext.length, index)
        return ciphertext.slice(offset, offset + length)
      }
      const middle = slice(2)
      const last = slice(5)

      await rejectsWith(impl.decryptDmc1Chunk(key, header, 2, true, middle), 'CHUNK_AUTH_FAILED')
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 5, false, last), 'TRUNCATED')
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 3, false, middle), 'CHUNK_AUTH_FAILED')
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 4, true, last), 'CHUNK_AUTH_FAILED')
      const tampered = Uint8Array.from(middle)
      tampered[17]! ^= 0x01
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 2, false, tampered), 'CHUNK_AUTH_FAILED')
      const tag = Uint8Array.from(middle)
      tag[tag.length - 1]! ^= 0x80
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 2, false, tag), 'CHUNK_AUTH_FAILED')
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 2, false, middle.subarray(0, middle.length - 1)), 'TRUNCATED')
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 5, true, last.subarray(0, 15)), 'TRUNCATED')
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 2, false, new Uint8Array(middle.length + 1)), 'INVALID_ARGUMENT')

      // The key commitment is checked before any chunk: a wrong key or an altered header.
      await rejectsWith(impl.decryptDmc1Chunk(random(32), header, 2, false, middle), 'WRONG_KEY_OR_HEADER_TAMPERED')
      const otherNonce = Uint8Array.from(header)
      otherNonce[20]! ^= 0x01
      await rejectsWith(impl.decryptDmc1Chunk(key, otherNonce, 2, false, middle), 'WRONG_KEY_OR_HEADER_TAMPERED')
      await rejectsWith(impl.decryptDmc1Chunk(key, header.subarray(0, 40), 2, false, middle), 'TRUNCATED_HEADER')
      await rejectsWith(impl.decryptDmc1Chunk(key, header, -1, false, middle), 'INVALID_ARGUMENT')

      // A chunk of another stream under the same key does not open under this header.
      const { ciphertext: other } = await encryptAll(impl, plaintext, key, chunkSize)
      const { offset, length } = dmc1ChunkRange(chunkSize, plaintext.length, 2)
      await rejectsWith(impl.decryptDmc1Chunk(key, header, 2, false, other.slice(offset, offset + length)), 'CHUNK_AUTH_FAILED')
    })
  }
})

describe('decryption checked against the chunk leaves', () => {
  for (const name of names) {
    test(`${name}: the right leaves pass, and the whole-file hash is still checked`, async () => {
      const impl = impls[name]
      const plaintext = random(7 * 64 + 3)
      const key = random(32)
      const { ciphertext, summary } = await encryptAll(impl, plaintext, key, 64)
      const out = await collect(impl.decryptStream(pieces(ciphertext, 50), key, { expectedSha256: sha256(plaintext), chunkLeaves: summary.chunkLeaves }))
      assert.deepEqual(out, plaintext)
      await rejectsWith(
        collect(impl.decryptStream(pieces(ciphertext, 50), key, { expectedSha256: random(32), chunkLeaves: summary.chunkLeaves })),
        'HASH_MISMATCH',
      )
    })

    test(`${name}: the first chunk that differs stops the stream before its plaintext is released`, async () => {
      const impl = impls[name]
      const chunkSize = 64
      const plaintext = random(9 * chunkSize + 5)
      const key = random(32)
      const { ciphertext, summary } = await encryptAll(impl, plaintext, key, chunkSize)
      const leaves = summary.chunkLeaves.slice()
      leaves[4] = chunkLeaf(random(chunkSize))
      leaves[7] = chunkLeaf(random(chunkSize))
      let read = 0
      async function* counted() {
        for await (const piece of pieces(ciphertext, 10)) {
          read += piece.length
          yield piece
        }
      }
      const { released, error } = await drain(impl.decryptStream(counted(), key, { expectedSha256: null, chunkLeaves: leaves }))
      assertCryptoError(error, 'CHUNK_TREE_MISMATCH')
      assert.ok(error instanceof ChunkTreeMismatchError)
      assert.equal(error.chunk, 4)
      assert.equal(error.chunkCount, 10)
      assert.equal(error.message, "chunk 4 of 10 does not match the dataset's chunk tree")
      assert.deepEqual(released, plaintext.subarray(0, 4 * chunkSize), 'chunks 0 to 3 only')
      // Chunk 4's record, plus the one-record look-ahead that tells a final chunk: never the rest.
      assert.ok(read <= HEADER_LEN + 6 * (chunkSize + TAG_LEN), `read ${read} of ${ciphertext.length} bytes`)
    })

    test(`${name}: a stream with fewer or more chunks than the leaves is refused`, async () => {
      const impl = impls[name]
      const plaintext = random(3 * 64)
      const key = random(32)
      const { ciphertext, summary } = await encryptAll(impl, plaintext, key, 64)
      const fewer = await drain(impl.decryptStream([ciphertext], key, { expectedSha256: null, chunkLeaves: [...summary.chunkLeaves, chunkLeaf(random(1))] }))
      assertCryptoError(fewer.error, 'CHUNK_TREE_MISMATCH')
      assert.equal((fewer.error as ChunkTreeMismatchError).chunk, 3)
      const more = await drain(impl.decryptStream([ciphertext], key, { expectedSha256: null, chunkLeaves: summary.chunkLeaves.slice(0, 2) }))
      assertCryptoError(more.error, 'CHUNK_TREE_MISMATCH')
      assert.equal((more.error as ChunkTreeMismatchError).chunk, 2)
      assert.deepEqual(more.released, plaintext.subarray(0, 128))
      assert.throws(
        () => impl.decryptStream([ciphertext], key, { expectedSha256: null, chunkLeaves: [random(31)] }),
        (e: unknown) => (assertCryptoError(e, 'INVALID_ARGUMENT'), true),
      )
    })
  }
})
