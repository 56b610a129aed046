import assert from 'node:assert/strict'
import { readdir, readFile, writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  ciphertextLength,
  CryptoError,
  DEFAULT_CHUNK_SIZE,
  HEADER_LEN,
  TAG_LEN,
  toHex,
  type DecryptOptions,
  type DecryptSummary,
  type EncryptOptions,
  type EncryptSummary,
  type ProcessingStream,
} from '../src/crypto/index.js'
import type { ByteSource } from '../src/crypto/framing.js'
import * as nodeImpl from '../src/crypto/stream-node.js'
import * as webImpl from '../src/crypto/stream-web.js'
import { assertCryptoError, collect, drain, MiB, pieces, random, rejectsWith, sha256 } from './helpers.js'

interface Impl {
  encrypt(source: ByteSource, key: Uint8Array, options?: EncryptOptions): ProcessingStream<EncryptSummary>
  decrypt(source: ByteSource, key: Uint8Array, options: DecryptOptions): ProcessingStream<DecryptSummary>
}
const impls: Record<'node' | 'web', Impl> = {
  node: { encrypt: nodeImpl.encryptStream, decrypt: nodeImpl.decryptStream },
  web: { encrypt: webImpl.encryptStream, decrypt: webImpl.decryptStream },
}
const names = ['node', 'web'] as const

async function encryptAll(impl: Impl, plaintext: Uint8Array, key: Uint8Array, options?: EncryptOptions) {
  const stream = impl.encrypt(pieces(plaintext), key, options)
  const ciphertext = await collect(stream)
  return { ciphertext, summary: await stream.summary }
}

describe('DMC1 round trips', () => {
  const key = random(32)
  const sizes: Array<[string, number]> = [
    ['empty', 0],
    ['1 byte', 1],
    ['exactly one chunk', DEFAULT_CHUNK_SIZE],
    ['one chunk + 1 byte', DEFAULT_CHUNK_SIZE + 1],
    ['several MB', 5 * MiB + 123],
  ]
  for (const [label, size] of sizes) {
    const plaintext = random(size)
    for (const enc of names) {
      for (const dec of names) {
        test(`${label}: ${enc} encrypts, ${dec} decrypts`, async () => {
          const { ciphertext, summary } = await encryptAll(impls[enc], plaintext, key)
          assert.equal(ciphertext.length, ciphertextLength(size))
          assert.equal(summary.ciphertextBytes, ciphertext.length)
          assert.equal(summary.plaintextBytes, size)
          assert.equal(summary.chunks, Math.max(1, Math.ceil(size / DEFAULT_CHUNK_SIZE)))
          assert.deepEqual(summary.sha256, sha256(plaintext))

          const stream = impls[dec].decrypt(pieces(ciphertext, 100_000), key, { expectedSha256: summary.sha256 })
          const decrypted = await collect(stream)
          assert.ok(Buffer.from(decrypted).equals(Buffer.from(plaintext)))
          const result = await stream.summary
          assert.deepEqual(result.sha256, sha256(plaintext))
          assert.equal(result.plaintextBytes, size)
        })
      }
    }
  }

  test('both implementations produce byte-identical streams for the same nonce base', async () => {
    const plaintext = random(3 * 4096 + 17)
    const options = { chunkSize: 4096, nonceBase: random(12) }
    const a = await encryptAll(impls.node, plaintext, key, options)
    const b = await encryptAll(impls.web, plaintext, key, options)
    assert.equal(toHex(a.ciphertext), toHex(b.ciphertext))
  })

  test('the source piece size does not change the output', async () => {
    const plaintext = random(10_000)
    const options = { chunkSize: 1000, nonceBase: random(12) }
    const reference = toHex((await encryptAll(impls.node, plaintext, key, options)).ciphertext)
    for (const pieceSize of [1, 7, 999, 1000, 1001, 20_000]) {
      const out = await collect(impls.node.encrypt(pieces(plaintext, pieceSize), key, options))
      assert.equal(toHex(out), reference, `piece size ${pieceSize}`)
    }
  })

  test('a hex string is accepted as the expected hash', async () => {
    const plaintext = random(5000)
    const { ciphertext, summary } = await encryptAll(impls.node, plaintext, key, { chunkSize: 1024 })
    const out = await collect(impls.web.decrypt(pieces(ciphertext), key, { expectedSha256: toHex(summary.sha256) }))
    assert.ok(Buffer.from(out).equals(Buffer.from(plaintext)))
  })

  test('the two encryptions of one file differ (random nonce base)', async () => {
    const plaintext = random(100)
    const a = await encryptAll(impls.node, plaintext, key)
    const b = await encryptAll(impls.node, plaintext, key)
    assert.notEqual(toHex(a.ciphertext), toHex(b.ciphertext))
  })

  test('memory stays bounded: the source is never read more than about one chunk ahead', async () => {
    const chunkSize = 64 * 1024
    const total = 16 * MiB
    const pieceSize = 16 * 1024
    let produced = 0
    let maxAhead = 0
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let done = 0; done < total; done += pieceSize) {
        produced += pieceSize
        yield new Uint8Array(pieceSize).fill(done & 0xff)
      }
    }
    const encrypted = impls.node.encrypt(source(), key, { chunkSize })
    const decrypted = impls.node.decrypt(encrypted, key, { expectedSha256: null })
    let consumed = 0
    for await (const piece of decrypted) {
      consumed += piece.length
      maxAhead = Math.max(maxAhead, produced - consumed)
    }
    assert.equal(consumed, total)
    // the encrypter holds one chunk plus one look-ahead piece; the decrypter one record plus the same
    assert.ok(maxAhead <= 3 * chunkSize, `source ran ${maxAhead} bytes ahead`)
  })
})

describe('DMC1 rejects modified streams', () => {
  const key = random(32)
  const chunkSize = 4096
  const record = chunkSize + TAG_LEN
  const plaintext = random(3 * chunkSize + 100) // chunks 0..2 full, chunk 3 final (100 bytes)
  const aligned = random(3 * chunkSize) // final chunk 2 is full
  let ciphertext: Uint8Array
  let alignedCiphertext: Uint8Array
  let hash: Uint8Array
  let alignedHash: Uint8Array

  before(async () => {
    const a = await encryptAll(impls.node, plaintext, key, { chunkSize })
    ciphertext = a.ciphertext
    hash = a.summary.sha256
    const b = await encryptAll(impls.node, aligned, key, { chunkSize })
    alignedCiphertext = b.ciphertext
    alignedHash = b.summary.sha256
  })

  const recordAt = (ct: Uint8Array, i: number) => ct.subarray(HEADER_LEN + i * record, HEADER_LEN + (i + 1) * record)
  const flip = (ct: Uint8Array, offset: number) => {
    const copy = Uint8Array.from(ct)
    copy[offset]! ^= 0x01
    return copy
  }

  for (const name of names) {
    const impl = impls[name]
    const run = (ct: Uint8Array, k = key, expectedSha256: Uint8Array | null = hash) =>
      drain(impl.decrypt(pieces(ct, 3000), k, { expectedSha256 }))

    test(`${name}: wrong key`, async () => {
      const { released, error } = await run(ciphertext, random(32))
      assertCryptoError(error, 'WRONG_KEY_OR_HEADER_TAMPERED')
      assert.equal(released.length, 0)
    })

    test(`${name}: tampered header bytes`, async () => {
      const cases: Array<[number, string]> = [
        [0, 'NOT_DMC1'], // magic
        [4, 'UNSUPPORTED_VERSION'], // version
        [6, 'INVALID_HEADER'], // reserved
        [10, 'WRONG_KEY_OR_HEADER_TAMPERED'], // chunk size: 4096 -> 4352, still valid, bound by the commitment
        [8, 'INVALID_HEADER'], // chunk size: 4096 -> 16 MiB + 4096, out of range
        [15, 'WRONG_KEY_OR_HEADER_TAMPERED'], // nonce base
        [40, 'WRONG_KEY_OR_HEADER_TAMPERED'], // key commitment
      ]
      for (const [offset, code] of cases) {
        const { released, error } = await run(flip(ciphertext, offset))
        assertCryptoError(error, code as never)
        assert.equal(released.length, 0, `header byte ${offset}`)
      }
    })

    test(`${name}: tampered chunk byte releases only the chunks before it`, async () => {
      const { released, error } = await run(flip(ciphertext, HEADER_LEN + record + 5)) // inside chunk 1
      assertCryptoError(error, 'CHUNK_AUTH_FAILED')
      assert.match((error as Error).message, /chunk 1/)
      assert.ok(Buffer.from(released).equals(Buffer.from(plaintext.subarray(0, chunkSize))))
    })

    test(`${name}: tampered tag byte`, async () => {
      const { released, error } = await run(flip(ciphertext, HEADER_LEN + 2 * record - 1)) // last tag byte of chunk 1
      assertCryptoError(error, 'CHUNK_AUTH_FAILED')
      assert.equal(released.length, chunkSize)
      const last = await run(flip(ciphertext, ciphertext.length - 1)) // tag of the final chunk
      assertCryptoError(last.error, 'CHUNK_AUTH_FAILED')
      assert.equal(last.released.length, 3 * chunkSize)
    })

    test(`${name}: swapped chunks`, async () => {
      const swapped = Buffer.concat([
        ciphertext.subarray(0, HEADER_LEN),
        recordAt(ciphertext, 1),
        recordAt(ciphertext, 0),
        ciphertext.subarray(HEADER_LEN + 2 * record),
      ])
      const { released, error } = await run(swapped)
      assertCryptoError(error, 'CHUNK_AUTH_FAILED')
      assert.match((error as Error).message, /chunk 0/)
      assert.equal(released.length, 0)
    })

    test(`${name}: duplicated chunk`, async () => {
      const duplicated = Buffer.concat([
        ciphertext.subarray(0, HEADER_LEN + 2 * record),
        recordAt(ciphertext, 1),
        ciphertext.subarray(HEADER_LEN + 2 * record),
      ])
      const { released, error } = await run(duplicated)
      assertCryptoError(error, 'CHUNK_AUTH_FAILED')
      assert.equal(released.length, 2 * chunkSize)
    })

    test(`${name}: dropped final chunk`, async () => {
      const { released, error } = await run(ciphertext.subarray(0, HEADER_LEN + 3 * record))
      assertCryptoError(error, 'TRUNCATED')
      assert.equal(released.length, 2 * chunkSize) // chunk 2 authenticated only as non-final: withheld
      const aligned2 = await run(alignedCiphertext.subarray(0, HEADER_LEN + 2 * record), key, alignedHash)
      assertCryptoError(aligned2.error, 'TRUNCATED')
    })

    test(`${name}: cut inside a chunk, inside the header, or right after it`, async () => {
      const inside = await run(ciphertext.subarray(0, ciphertext.length - 10))
      assertCryptoError(inside.error, 'CHUNK_AUTH_FAILED')
      const short = await run(ciphertext.subarray(0, HEADER_LEN + 3 * record + 7))
      assertCryptoError(short.error, 'TRUNCATED')
      const headerOnly = await run(ciphertext.subarray(0, HEADER_LEN))
      assertCryptoError(headerOnly.error, 'TRUNCATED')
      const partHeader = await run(ciphertext.subarray(0, 30))
      assertCryptoError(partHeader.error, 'TRUNCATED_HEADER')
      const empty = await run(new Uint8Array(0))
      assertCryptoError(empty.error, 'TRUNCATED_HEADER')
    })

    test(`${name}: appended data`, async () => {
      // after a full-size final chunk: identified as trailing data, the final chunk is withheld
      for (const extra of [1, 15, 16, record, 5 * record]) {
        const appended = Buffer.concat([alignedCiphertext, random(extra)])
        const { released, error } = await run(appended, key, alignedHash)
        assertCryptoError(error, 'TRAILING_DATA')
        assert.equal(released.length, 2 * chunkSize)
      }
      // a copy of the final chunk appended
      const again = Buffer.concat([alignedCiphertext, recordAt(alignedCiphertext, 2)])
      assertCryptoError((await run(again, key, alignedHash)).error, 'TRAILING_DATA')
      // after a short final chunk the extra bytes merge into its record, which then fails
      const merged = await run(Buffer.concat([ciphertext, random(20)]))
      assertCryptoError(merged.error, 'CHUNK_AUTH_FAILED')
      assert.equal(merged.released.length, 3 * chunkSize)
    })

    test(`${name}: wrong expected hash`, async () => {
      const stream = impl.decrypt(pieces(ciphertext), key, { expectedSha256: sha256(random(10)) })
      const { error } = await drain(stream)
      assertCryptoError(error, 'HASH_MISMATCH')
      await rejectsWith(stream.summary, 'HASH_MISMATCH')
    })

    test(`${name}: the expected hash must be given (or null)`, () => {
      assert.throws(
        () => impl.decrypt(pieces(ciphertext), key, {} as DecryptOptions),
        (err: unknown) => err instanceof CryptoError && err.code === 'INVALID_ARGUMENT',
      )
    })

    test(`${name}: invalid keys and chunk sizes are refused`, () => {
      assert.throws(() => impl.encrypt([], random(16)), (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_KEY')
      assert.throws(
        () => impl.encrypt([], key, { chunkSize: 10 }),
        (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT',
      )
    })
  }
})

describe('DMC1 files (Node)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmc1-test-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('encryptFile and decryptToFile round trip a generated file', async () => {
    const plaintext = random(3 * MiB + 5)
    await writeFile(join(dir, 'plain.bin'), plaintext)
    const key = nodeImpl.generateContentKey()
    const enc = await nodeImpl.encryptFile(join(dir, 'plain.bin'), join(dir, 'data.dmc1'), key)
    assert.deepEqual(enc.sha256, sha256(plaintext))
    const dec = await nodeImpl.decryptToFile(join(dir, 'data.dmc1'), join(dir, 'out.bin'), key, {
      expectedSha256: enc.sha256,
    })
    assert.equal(dec.plaintextBytes, plaintext.length)
    assert.ok((await readFile(join(dir, 'out.bin'))).equals(Buffer.from(plaintext)))
  })

  test('a failed decryption leaves no output file and no temporary file', async () => {
    const plaintext = random(2 * MiB + 1)
    const key = nodeImpl.generateContentKey()
    const enc = impls.node.encrypt(pieces(plaintext), key)
    const ciphertext = await collect(enc)
    const before = (await readdir(dir)).sort()

    await rejectsWith(
      nodeImpl.decryptToFile(pieces(ciphertext), join(dir, 'bad-hash.bin'), key, { expectedSha256: random(32) }),
      'HASH_MISMATCH',
    )
    const tampered = Uint8Array.from(ciphertext)
    tampered[tampered.length - 100]! ^= 0xff
    await rejectsWith(
      nodeImpl.decryptToFile(pieces(tampered), join(dir, 'tampered.bin'), key, { expectedSha256: null }),
      'CHUNK_AUTH_FAILED',
    )
    assert.deepEqual((await readdir(dir)).sort(), before)
  })
})
