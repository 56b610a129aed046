/**
 * The content key sealed to a buyer's X25519 key, in exactly the 96 bytes a licence stores
 * (SEALED_KEY_LEN in programs/data_market/src/constants.rs):
 *
 *   version (1) | ephemeral X25519 public key (32) | nonce (12) | AES-256-GCM(content key) (32 + 16) | reserved (3, zero)
 *
 * key = HKDF-SHA256(ikm = X25519(ephemeral secret, recipient public), salt = ephemeral public |
 * recipient public, info = SEAL_HKDF_INFO); AAD = version | reserved. Works in Node and browsers
 * (noble for X25519 and HKDF, WebCrypto for AES-GCM).
 */
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, equalBytes, isAllZero, ownedCopy, utf8 } from './bytes.js'
import { CryptoError } from './errors.js'
import { subtle, type WebCryptoKey } from './webcrypto.js'
import type { X25519KeyPair } from './buyer-key.js'

export const SEALED_KEY_LEN = 96
export const SEALED_KEY_VERSION = 1
export const SEAL_HKDF_INFO = utf8('data-market sealed content key v1 AES-256-GCM')

const VERSION_AT = 0
const EPHEMERAL_AT = 1
const NONCE_AT = 33
const CIPHERTEXT_AT = 45
const RESERVED_AT = 93
const KEY_LEN = 32
const NONCE_LEN = 12

export interface SealOptions {
  /** Fixed ephemeral secret and nonce, for test vectors only. */
  ephemeralSecretKey?: Uint8Array
  nonce?: Uint8Array
}


function aad(version: number): Uint8Array {
  return new Uint8Array([version, 0, 0, 0])
}

async function aesKey(sharedSecret: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Promise<WebCryptoKey> {
  const keyBytes = hkdf(sha256, sharedSecret, concatBytes(ephemeralPublic, recipientPublic), SEAL_HKDF_INFO, 32)
  try {
    return await subtle().importKey('raw', ownedCopy(keyBytes), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
  } finally {
    keyBytes.fill(0)
  }
}

function sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  try {
    const shared = x25519.getSharedSecret(secretKey, publicKey)
    return isAllZero(shared) ? null : shared
  } catch {
    // noble rejects low-order points (an all-zero shared secret)
    return null
  }
}

/** Seals a 32-byte content key to the buyer's X25519 public key (from their licence). */
export async function sealContentKey(
  contentKey: Uint8Array,
  recipientPublicKey: Uint8Array,
  options: SealOptions = {},
): Promise<Uint8Array> {
  if (contentKey.length !== KEY_LEN) throw new CryptoError('INVALID_KEY', 'the content key must be 32 bytes')
  if (recipientPublicKey.length !== KEY_LEN) {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'the recipient X25519 public key must be 32 bytes')
  }
  const ephemeralSecret = options.ephemeralSecretKey ?? x25519.utils.randomSecretKey()
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret)
  const shared = sharedSecret(ephemeralSecret, recipientPublicKey)
  if (shared === null) {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'the recipient X25519 public key is a low-order point')
  }
  const nonce = options.nonce ?? globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LEN))
  if (nonce.length !== NONCE_LEN) throw new CryptoError('INVALID_ARGUMENT', 'the nonce must be 12 bytes')
  const key = await aesKey(shared, ephemeralPublic, recipientPublicKey)
  shared.fill(0)
  if (options.ephemeralSecretKey === undefined) ephemeralSecret.fill(0)
  const sealed = new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: ownedCopy(nonce), additionalData: ownedCopy(aad(SEALED_KEY_VERSION)), tagLength: 128 },
      key,
      ownedCopy(contentKey),
    ),
  )
  const out = new Uint8Array(SEALED_KEY_LEN)
  out[VERSION_AT] = SEALED_KEY_VERSION
  out.set(ephemeralPublic, EPHEMERAL_AT)
  out.set(nonce, NONCE_AT)
  out.set(sealed, CIPHERTEXT_AT) // 32-byte ciphertext then 16-byte tag
  // bytes 93..95 stay zero (reserved)
  return out
}

/**
 * Opens a sealed content key with the buyer's key pair. `recipient.publicKey` is the key the
 * licence records; it must be the public half of `recipient.secretKey`. Each failure has its own
 * error code: wrong length, not delivered yet (all zeros), unsupported version, non-zero reserved
 * bytes, wrong recipient key, invalid ephemeral key, failed authentication (tampered).
 */
export async function openSealedContentKey(sealed: Uint8Array, recipient: X25519KeyPair): Promise<Uint8Array> {
  if (sealed.length !== SEALED_KEY_LEN) {
    throw new CryptoError('SEALED_KEY_INVALID_LENGTH', `a sealed key is ${SEALED_KEY_LEN} bytes, got ${sealed.length}`)
  }
  if (isAllZero(sealed)) {
    throw new CryptoError('SEALED_KEY_NOT_DELIVERED', 'the licence holds no sealed key yet (all zeros): not delivered')
  }
  const version = sealed[VERSION_AT]!
  if (version !== SEALED_KEY_VERSION) {
    throw new CryptoError(
      'SEALED_KEY_UNSUPPORTED_VERSION',
      `unsupported sealed key version ${version} (this client opens version ${SEALED_KEY_VERSION})`,
    )
  }
  if (!isAllZero(sealed.subarray(RESERVED_AT))) {
    throw new CryptoError('SEALED_KEY_RESERVED_NOT_ZERO', 'the sealed key\'s reserved bytes are not zero')
  }
  if (recipient.secretKey.length !== KEY_LEN || recipient.publicKey.length !== KEY_LEN) {
    throw new CryptoError('INVALID_KEY', 'the recipient X25519 keys must be 32 bytes')
  }
  if (!equalBytes(x25519.getPublicKey(recipient.secretKey), recipient.publicKey)) {
    throw new CryptoError(
      'SEALED_KEY_WRONG_RECIPIENT',
      'this X25519 secret key does not belong to the licence\'s buyer encryption key (wrong wallet or key)',
    )
  }
  const ephemeralPublic = sealed.slice(EPHEMERAL_AT, NONCE_AT)
  const shared = sharedSecret(recipient.secretKey, ephemeralPublic)
  if (shared === null) {
    throw new CryptoError('SEALED_KEY_INVALID_EPHEMERAL_KEY', 'the sealed key\'s ephemeral public key is invalid')
  }
  const key = await aesKey(shared, ephemeralPublic, recipient.publicKey)
  shared.fill(0)
  try {
    const plain = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: ownedCopy(sealed.subarray(NONCE_AT, CIPHERTEXT_AT)),
        additionalData: ownedCopy(aad(version)),
        tagLength: 128,
      },
      key,
      ownedCopy(sealed.subarray(CIPHERTEXT_AT, RESERVED_AT)),
    )
    return new Uint8Array(plain)
  } catch (err) {
    if (err instanceof Error && err.name === 'OperationError') {
      throw new CryptoError(
        'SEALED_KEY_AUTH_FAILED',
        'the sealed key failed authentication: it was modified, or sealed to a different public key than the licence\'s',
      )
    }
    throw err
  }
}
