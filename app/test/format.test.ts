/**
 * DMC1 against FORMAT.md: a decoder written from the document with raw node:crypto calls (not the
 * library's engine), and a fixed known-answer vector both implementations must reproduce.
 */
import assert from 'node:assert/strict'
import { createDecipheriv, hkdfSync } from 'node:crypto'
import { describe, test } from 'node:test'
import { toHex } from '../src/crypto/index.js'
import * as nodeImpl from '../src/crypto/stream-node.js'
import * as webImpl from '../src/crypto/stream-web.js'
import { collect, random, sha256 } from './helpers.js'

/** Straight from FORMAT.md; returns the plaintext. */
function decodeBySpec(stream: Buffer, key: Uint8Array): Buffer {
  assert.equal(stream.subarray(0, 4).toString('ascii'), 'DMC1')
  assert.equal(stream[4], 1)
  assert.deepEqual([...stream.subarray(5, 8)], [0, 0, 0])
  const chunkSize = stream.readUInt32BE(8)
  const nonceBase = stream.subarray(12, 24)
  const prefix = stream.subarray(0, 24)
  const header = stream.subarray(0, 56)
  const chunkKey = Buffer.from(hkdfSync('sha256', key, prefix, Buffer.from('data-market DMC1 v1 chunk key'), 32))
  const commitment = Buffer.from(hkdfSync('sha256', key, prefix, Buffer.from('data-market DMC1 v1 key commitment'), 32))
  assert.ok(commitment.equals(stream.subarray(24, 56)), 'commitment')

  const body = stream.subarray(56)
  const record = chunkSize + 16
  const n = Math.max(1, Math.ceil((body.length - 16) / record))
  assert.equal(body.length - 16 * n <= n * chunkSize, true)
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const rec = body.subarray(i * record, Math.min((i + 1) * record, body.length))
    const nonce = Buffer.from(nonceBase)
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ i) >>> 0, 8)
    const aad = Buffer.alloc(56 + 9)
    header.copy(aad, 0)
    aad.writeBigUInt64BE(BigInt(i), 56)
    aad[64] = i === n - 1 ? 1 : 0
    const d = createDecipheriv('aes-256-gcm', chunkKey, nonce, { authTagLength: 16 })
    d.setAAD(aad)
    d.setAuthTag(rec.subarray(rec.length - 16))
    out.push(d.update(rec.subarray(0, rec.length - 16)), d.final())
  }
  return Buffer.concat(out)
}

const VECTOR = {
  key: toHex(new Uint8Array(32).map((_, i) => i)),
  nonceBase: 'a0a1a2a3a4a5a6a7a8a9aaab',
  chunkSize: 64,
  plaintext: 'The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog!!',
  ciphertext:
    '444d43310100000000000040a0a1a2a3a4a5a6a7a8a9aaab831b013cf8410e3d4bf79182dfd38362a16118aa9d8f2b7554dbff11515bfd623b' +
    '14290a1a41eefb71c4d4a01ce20831d9616d1694c8fb762434cfa37c20abfd01516809bb7adc3b4f9b05fea5069dd042e63e309608fe8e2033' +
    '4db75c7107e590c35b0aaa9f02fb9acfd426c2e155a30fcf6e72398146bb9f4b202c6680550ebd6505481fb5b16d7fe73f74dda0c169282284' +
    'b7f16274f78df6',
}

describe('DMC1 matches FORMAT.md', () => {
  for (const [name, impl] of [['node', nodeImpl], ['web', webImpl]] as const) {
    test(`${name}: the spec decoder reads what ${name} writes`, async () => {
      const key = random(32)
      for (const [size, chunkSize] of [[0, 64], [1, 64], [64, 64], [65, 64], [10_000, 1000], [3000, 1000]] as const) {
        const plaintext = random(size)
        const ct = await collect(impl.encryptStream([plaintext], key, { chunkSize }))
        assert.ok(decodeBySpec(Buffer.from(ct), key).equals(Buffer.from(plaintext)), `size ${size}`)
      }
    })

    test(`${name}: known-answer vector`, async () => {
      const key = Buffer.from(VECTOR.key, 'hex')
      const plaintext = new TextEncoder().encode(VECTOR.plaintext)
      const stream = impl.encryptStream([plaintext], key, {
        chunkSize: VECTOR.chunkSize,
        nonceBase: Buffer.from(VECTOR.nonceBase, 'hex'),
      })
      assert.equal(toHex(await collect(stream)), VECTOR.ciphertext)
      assert.deepEqual((await stream.summary).sha256, sha256(plaintext))
      const back = await collect(
        impl.decryptStream([Buffer.from(VECTOR.ciphertext, 'hex')], key, { expectedSha256: sha256(plaintext) }),
      )
      assert.equal(new TextDecoder().decode(back), VECTOR.plaintext)
    })
  }

  test('the vector decodes with the spec decoder', () => {
    const out = decodeBySpec(Buffer.from(VECTOR.ciphertext, 'hex'), Buffer.from(VECTOR.key, 'hex'))
    assert.equal(out.toString('utf8'), VECTOR.plaintext)
  })
})
