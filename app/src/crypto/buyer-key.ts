/**
 * The buyer's X25519 encryption key, derived from a signature of their Solana wallet over a fixed
 * message. Ed25519 signatures are deterministic (RFC 8032), so the same wallet re-derives the same
 * key anywhere (CLI with a keypair file, Phantom in the dapp) and nothing has to be stored.
 *
 * Anyone holding this signature holds the key: a client must ask for it only to derive the key and
 * never send it anywhere. The message says what it is for, so a wallet user can recognise it.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from './bytes.js'
import { CryptoError } from './errors.js'

/** The exact text the wallet signs (UTF-8, no trailing newline). Changing it changes every key. */
export const ENCRYPTION_KEY_MESSAGE_TEXT = 'data-market: derive X25519 encryption key v1'
/** The exact bytes to pass to a wallet's `signMessage`. */
export const ENCRYPTION_KEY_MESSAGE: Uint8Array = utf8(ENCRYPTION_KEY_MESSAGE_TEXT)

/** HKDF-SHA256 parameters: the info also binds the wallet's public key. */
export const BUYER_KEY_HKDF_SALT = utf8('data-market/buyer-encryption-key/v1')
export const BUYER_KEY_HKDF_INFO_PREFIX = utf8('data-market X25519 secret key v1')

export interface X25519KeyPair {
  secretKey: Uint8Array
  /** the 32 bytes stored on chain as the licence's `buyer_encryption_key` */
  publicKey: Uint8Array
}

/** What a wallet adapter (e.g. Phantom's) offers: its public key and `signMessage`. */
export interface MessageSigner {
  publicKey: Uint8Array
  signMessage(message: Uint8Array): Promise<Uint8Array>
}

/**
 * Derives the X25519 key pair from the wallet's signature of ENCRYPTION_KEY_MESSAGE. The signature
 * is verified first: a wallet that signs something else (e.g. a prefixed "off-chain message")
 * would otherwise yield a key no other client can reproduce.
 */
export function deriveEncryptionKeyPair(signature: Uint8Array, walletPublicKey: Uint8Array): X25519KeyPair {
  if (signature.length !== 64) {
    throw new CryptoError('INVALID_SIGNATURE', `an ed25519 signature is 64 bytes, got ${signature.length}`)
  }
  if (walletPublicKey.length !== 32) {
    throw new CryptoError('INVALID_ARGUMENT', `a Solana wallet public key is 32 bytes, got ${walletPublicKey.length}`)
  }
  let valid = false
  try {
    valid = ed25519.verify(signature, ENCRYPTION_KEY_MESSAGE, walletPublicKey)
  } catch {
    valid = false
  }
  if (!valid) {
    throw new CryptoError(
      'INVALID_SIGNATURE',
      'the signature is not this wallet\'s ed25519 signature of the encryption-key message',
    )
  }
  const secretKey = hkdf(sha256, signature, BUYER_KEY_HKDF_SALT, concatBytes(BUYER_KEY_HKDF_INFO_PREFIX, walletPublicKey), 32)
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) }
}

/** Asks a wallet to sign the message, then derives the key pair. */
export async function deriveEncryptionKeyPairWithWallet(wallet: MessageSigner): Promise<X25519KeyPair> {
  const signature = await wallet.signMessage(ENCRYPTION_KEY_MESSAGE)
  return deriveEncryptionKeyPair(signature, wallet.publicKey)
}

/**
 * Same derivation from a local Solana keypair: its 64-byte secret key (seed | public key, as in a
 * keypair JSON file) or its 32-byte seed.
 */
export function deriveEncryptionKeyPairFromSolanaSecretKey(secretKey: Uint8Array): X25519KeyPair {
  if (secretKey.length !== 32 && secretKey.length !== 64) {
    throw new CryptoError('INVALID_ARGUMENT', 'a Solana secret key is 64 bytes (or its 32-byte seed)')
  }
  const seed = secretKey.subarray(0, 32)
  const publicKey = ed25519.getPublicKey(seed)
  if (secretKey.length === 64) {
    const stored = secretKey.subarray(32)
    if (stored.some((b, i) => b !== publicKey[i])) {
      throw new CryptoError('INVALID_ARGUMENT', 'the keypair\'s public half does not match its seed')
    }
  }
  const signature = ed25519.sign(ENCRYPTION_KEY_MESSAGE, seed)
  return deriveEncryptionKeyPair(signature, publicKey)
}
