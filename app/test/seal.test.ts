import assert from 'node:assert/strict'
import { createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto'
import { describe, test } from 'node:test'
import { x25519 } from '@noble/curves/ed25519.js'
import {
  decryptStream,
  deriveEncryptionKeyPairFromSolanaSecretKey,
  encryptStream,
  generateContentKey,
  openSealedContentKey,
  SEALED_KEY_LEN,
  sealContentKey,
  toHex,
  type X25519KeyPair,
} from '../src/crypto/index.js'
import { collect, random, rejectsWith } from './helpers.js'

function keyPair(): X25519KeyPair {
  const secretKey = x25519.utils.randomSecretKey()
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) }
}

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex')

/** Opens a sealed key with node:crypto alone, following FORMAT.md. */
function openBySpec(sealed: Uint8Array, recipient: X25519KeyPair): Buffer {
  const s = Buffer.from(sealed)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, recipient.secretKey]), format: 'der', type: 'pkcs8' })
  const ephemeral = s.subarray(1, 33)
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, ephemeral]), format: 'der', type: 'spki' })
  const shared = diffieHellman({ privateKey, publicKey })
  const key = Buffer.from(
    hkdfSync(
      'sha256',
      shared,
      Buffer.concat([ephemeral, recipient.publicKey]),
      Buffer.from('data-market sealed content key v1 AES-256-GCM'),
      32,
    ),
  )
  const d = createDecipheriv('aes-256-gcm', key, s.subarray(33, 45), { authTagLength: 16 })
  d.setAAD(Buffer.from([1, 0, 0, 0]))
  d.setAuthTag(s.subarray(77, 93))
  return Buffer.concat([d.update(s.subarray(45, 77)), d.final()])
}

describe('sealed content key', () => {
  test('seal and open round trip in exactly 96 bytes with the documented layout', async () => {
    const buyer = keyPair()
    const contentKey = generateContentKey()
    const sealed = await sealContentKey(contentKey, buyer.publicKey)
    assert.equal(sealed.length, SEALED_KEY_LEN)
    assert.equal(sealed.length, 96)
    assert.equal(sealed[0], 1)
    assert.deepEqual([...sealed.subarray(93)], [0, 0, 0])
    assert.deepEqual(await openSealedContentKey(sealed, buyer), contentKey)
    assert.ok(openBySpec(sealed, buyer).equals(Buffer.from(contentKey)))
  })

  test('each sealing uses a fresh ephemeral key and nonce', async () => {
    const buyer = keyPair()
    const contentKey = generateContentKey()
    const a = await sealContentKey(contentKey, buyer.publicKey)
    const b = await sealContentKey(contentKey, buyer.publicKey)
    assert.notEqual(toHex(a.subarray(1, 33)), toHex(b.subarray(1, 33)))
    assert.notEqual(toHex(a.subarray(33, 45)), toHex(b.subarray(33, 45)))
  })

  test('fixed ephemeral key and nonce give a fixed sealed key', async () => {
    const buyer = deriveEncryptionKeyPairFromSolanaSecretKey(new Uint8Array(32).map((_, i) => i + 1))
    const sealed = await sealContentKey(new Uint8Array(32).fill(7), buyer.publicKey, {
      ephemeralSecretKey: new Uint8Array(32).fill(0x42),
      nonce: new Uint8Array(12).fill(0x24),
    })
    const again = await sealContentKey(new Uint8Array(32).fill(7), buyer.publicKey, {
      ephemeralSecretKey: new Uint8Array(32).fill(0x42),
      nonce: new Uint8Array(12).fill(0x24),
    })
    assert.equal(toHex(sealed), toHex(again))
    assert.equal(toHex(sealed.subarray(1, 33)), toHex(x25519.getPublicKey(new Uint8Array(32).fill(0x42))))
    assert.ok(openBySpec(sealed, buyer).equals(Buffer.alloc(32, 7)))
  })

  test('wrong length, not delivered, wrong version, non-zero reserved bytes', async () => {
    const buyer = keyPair()
    const sealed = await sealContentKey(generateContentKey(), buyer.publicKey)
    await rejectsWith(openSealedContentKey(sealed.subarray(0, 95), buyer), 'SEALED_KEY_INVALID_LENGTH')
    await rejectsWith(openSealedContentKey(new Uint8Array([...sealed, 0]), buyer), 'SEALED_KEY_INVALID_LENGTH')
    await rejectsWith(openSealedContentKey(new Uint8Array(96), buyer), 'SEALED_KEY_NOT_DELIVERED')
    for (const version of [0, 2, 255]) {
      const v = Uint8Array.from(sealed)
      v[0] = version
      await rejectsWith(openSealedContentKey(v, buyer), 'SEALED_KEY_UNSUPPORTED_VERSION')
    }
    for (const at of [93, 94, 95]) {
      const r = Uint8Array.from(sealed)
      r[at] = 1
      await rejectsWith(openSealedContentKey(r, buyer), 'SEALED_KEY_RESERVED_NOT_ZERO')
    }
  })

  test('a secret key that is not the licence\'s buyer key', async () => {
    const buyer = keyPair()
    const other = keyPair()
    const sealed = await sealContentKey(generateContentKey(), buyer.publicKey)
    await rejectsWith(
      openSealedContentKey(sealed, { secretKey: other.secretKey, publicKey: buyer.publicKey }),
      'SEALED_KEY_WRONG_RECIPIENT',
    )
    // sealed to someone else: the buyer's own key pair cannot open it
    await rejectsWith(openSealedContentKey(sealed, other), 'SEALED_KEY_AUTH_FAILED')
  })

  test('tampering with the ephemeral key, nonce, ciphertext or tag', async () => {
    const buyer = keyPair()
    const sealed = await sealContentKey(generateContentKey(), buyer.publicKey)
    for (const at of [1, 20, 32, 33, 44, 45, 60, 76, 77, 92]) {
      const t = Uint8Array.from(sealed)
      t[at]! ^= 0x10
      await rejectsWith(openSealedContentKey(t, buyer), 'SEALED_KEY_AUTH_FAILED')
    }
  })

  test('low-order points are refused', async () => {
    const buyer = keyPair()
    const sealed = await sealContentKey(generateContentKey(), buyer.publicKey)
    const lowOrder = Uint8Array.from(sealed)
    lowOrder.fill(0, 1, 33) // ephemeral key = 0
    await rejectsWith(openSealedContentKey(lowOrder, buyer), 'SEALED_KEY_INVALID_EPHEMERAL_KEY')
    await rejectsWith(sealContentKey(generateContentKey(), new Uint8Array(32)), 'INVALID_PUBLIC_KEY')
    const one = new Uint8Array(32)
    one[0] = 1
    await rejectsWith(sealContentKey(generateContentKey(), one), 'INVALID_PUBLIC_KEY')
  })

  test('end to end: wallet-derived buyer key, sealed content key, DMC1 content', async () => {
    const buyer = deriveEncryptionKeyPairFromSolanaSecretKey(random(32))
    const contentKey = generateContentKey()
    const plaintext = random(300_000)
    const encrypted = encryptStream([plaintext], contentKey, { chunkSize: 65_536 })
    const ciphertext = await collect(encrypted)
    const { sha256 } = await encrypted.summary

    const sealed = await sealContentKey(contentKey, buyer.publicKey) // seller, to the licence's key
    const opened = await openSealedContentKey(sealed, buyer) // buyer, re-derived from the wallet
    const out = await collect(decryptStream([ciphertext], opened, { expectedSha256: sha256 }))
    assert.ok(Buffer.from(out).equals(Buffer.from(plaintext)))
  })
})
