import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, hkdfSync, sign } from 'node:crypto'
import { describe, test } from 'node:test'
import { ed25519 } from '@noble/curves/ed25519.js'
import {
  CryptoError,
  deriveEncryptionKeyPair,
  deriveEncryptionKeyPairFromSolanaSecretKey,
  deriveEncryptionKeyPairWithWallet,
  ENCRYPTION_KEY_MESSAGE,
  ENCRYPTION_KEY_MESSAGE_TEXT,
  toHex,
} from '../src/crypto/index.js'
import { random } from './helpers.js'

// Fixed wallet: ed25519 seed 01 02 .. 20.
const SEED = new Uint8Array(32).map((_, i) => i + 1)
const VECTOR_X25519_SECRET = 'f2a5bfd60f0631a5c61e65c061e7b2435465fac83cf11f504d7434e422fd66be'
const VECTOR_X25519_PUBLIC = '06870226ff38c7703292bc681409c4d9ab85a0e676201544ba631df1a2b6fe37'

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** Wallet-like signer backed by node:crypto's ed25519 (independent of noble). */
function nodeWallet(seed: Uint8Array) {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' })
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32))
  return {
    publicKey,
    signMessage: async (message: Uint8Array) => new Uint8Array(sign(null, message, key)),
  }
}

describe('buyer encryption key', () => {
  test('the message is fixed, versioned and domain-separated', () => {
    assert.equal(ENCRYPTION_KEY_MESSAGE_TEXT, 'data-market: derive X25519 encryption key v1')
    assert.equal(Buffer.from(ENCRYPTION_KEY_MESSAGE).toString('hex'), Buffer.from(ENCRYPTION_KEY_MESSAGE_TEXT, 'utf8').toString('hex'))
    assert.equal(ENCRYPTION_KEY_MESSAGE.length, 44)
  })

  test('test vector: fixed ed25519 wallet gives a fixed X25519 key', () => {
    const pair = deriveEncryptionKeyPairFromSolanaSecretKey(SEED)
    assert.equal(toHex(pair.secretKey), VECTOR_X25519_SECRET)
    assert.equal(toHex(pair.publicKey), VECTOR_X25519_PUBLIC)
  })

  test('the vector is reproduced with node:crypto alone (ed25519 sign, HKDF, X25519)', () => {
    const wallet = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, SEED]), format: 'der', type: 'pkcs8' })
    const walletPublic = createPublicKey(wallet).export({ format: 'der', type: 'spki' }).subarray(-32)
    const signature = sign(null, Buffer.from(ENCRYPTION_KEY_MESSAGE_TEXT, 'utf8'), wallet)
    const secret = Buffer.from(
      hkdfSync(
        'sha256',
        signature,
        Buffer.from('data-market/buyer-encryption-key/v1'),
        Buffer.concat([Buffer.from('data-market X25519 secret key v1'), walletPublic]),
        32,
      ),
    )
    const x = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, secret]), format: 'der', type: 'pkcs8' })
    const publicKey = createPublicKey(x).export({ format: 'der', type: 'spki' }).subarray(-32)
    assert.equal(secret.toString('hex'), VECTOR_X25519_SECRET)
    assert.equal(publicKey.toString('hex'), VECTOR_X25519_PUBLIC)
  })

  test('a wallet signMessage (e.g. Phantom) gives the same key as the keypair file', async () => {
    const fromWallet = await deriveEncryptionKeyPairWithWallet(nodeWallet(SEED))
    assert.equal(toHex(fromWallet.publicKey), VECTOR_X25519_PUBLIC)
    // a 64-byte Solana secret key (seed | public key) works too
    const full = new Uint8Array([...SEED, ...ed25519.getPublicKey(SEED)])
    assert.equal(toHex(deriveEncryptionKeyPairFromSolanaSecretKey(full).publicKey), VECTOR_X25519_PUBLIC)
  })

  test('derivation is deterministic and differs per wallet', () => {
    const a1 = deriveEncryptionKeyPairFromSolanaSecretKey(SEED)
    const a2 = deriveEncryptionKeyPairFromSolanaSecretKey(Uint8Array.from(SEED))
    const b = deriveEncryptionKeyPairFromSolanaSecretKey(random(32))
    assert.deepEqual(a1, a2)
    assert.notEqual(toHex(a1.publicKey), toHex(b.publicKey))
  })

  test('a signature of another message, by another wallet or malformed is refused', () => {
    const walletPublic = ed25519.getPublicKey(SEED)
    const isInvalidSignature = (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_SIGNATURE'
    const other = ed25519.sign(new TextEncoder().encode('data-market: derive X25519 encryption key v2'), SEED)
    assert.throws(() => deriveEncryptionKeyPair(other, walletPublic), isInvalidSignature)
    const byOther = ed25519.sign(ENCRYPTION_KEY_MESSAGE, random(32))
    assert.throws(() => deriveEncryptionKeyPair(byOther, walletPublic), isInvalidSignature)
    const good = ed25519.sign(ENCRYPTION_KEY_MESSAGE, SEED)
    const flipped = Uint8Array.from(good)
    flipped[10]! ^= 1
    assert.throws(() => deriveEncryptionKeyPair(flipped, walletPublic), isInvalidSignature)
    assert.throws(() => deriveEncryptionKeyPair(good.subarray(0, 63), walletPublic), isInvalidSignature)
    assert.equal(toHex(deriveEncryptionKeyPair(good, walletPublic).publicKey), VECTOR_X25519_PUBLIC)
  })

  test('a keypair whose public half does not match its seed is refused', () => {
    const bad = new Uint8Array([...SEED, ...random(32)])
    assert.throws(
      () => deriveEncryptionKeyPairFromSolanaSecretKey(bad),
      (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_ARGUMENT',
    )
  })
})
