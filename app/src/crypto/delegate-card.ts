/**
 * The delegate card: how a delivery delegate hands its X25519 encryption key to a dataset owner.
 *
 * The delegate's encryption key is derived like a buyer's (buyer-key.ts), from a signature only the
 * delegate's wallet can make, so the owner cannot compute it. The delegate publishes it instead, in a
 * card its wallet signs: the owner checks the signature against the wallet it is about to name on
 * chain, so a key swapped in transit (a tampered web page, a wrong paste) is refused rather than
 * receiving the content key. The card is text, short enough to paste or put on a web page.
 *
 *   card    = "data-market-delegate-card:" || base64url(payload)        (no padding, 172 characters)
 *   payload = version (1) = 1 || wallet public key (32) || X25519 public key (32) || ed25519 signature (64)
 *
 * The signature is the wallet's over `delegateCardMessage(wallet, key)`, a readable UTF-8 text, so a
 * wallet that shows messages before signing shows what it is for.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { concatBytes, toHex, utf8 } from './bytes.js'
import { deriveEncryptionKeyPairFromSolanaSecretKey, type MessageSigner } from './buyer-key.js'
import { CryptoError } from './errors.js'

export const DELEGATE_CARD_PREFIX = 'data-market-delegate-card:'
export const DELEGATE_CARD_VERSION = 1
/** version (1) + wallet (32) + X25519 key (32) + signature (64) */
export const DELEGATE_CARD_PAYLOAD_LEN = 129
const ENCODED_LEN = 172 // base64url of 129 bytes, without padding

export interface DelegateCard {
  /** The delegate's Solana wallet (ed25519 public key): the address the owner names on chain. */
  wallet: Uint8Array
  /** The delegate's X25519 public key, derived from its wallet like a buyer's. */
  encryptionKey: Uint8Array
  /** The wallet's ed25519 signature of `delegateCardMessage(wallet, encryptionKey)`. */
  signature: Uint8Array
}

/**
 * The exact bytes the delegate's wallet signs (UTF-8, lines separated by "\n", no trailing newline):
 *
 *   data-market: delivery delegate encryption key v1
 *   wallet: <64 hex digits of the wallet public key>
 *   encryption key: <64 hex digits of the X25519 public key>
 */
export function delegateCardMessage(wallet: Uint8Array, encryptionKey: Uint8Array): Uint8Array {
  if (wallet.length !== 32) throw new CryptoError('INVALID_ARGUMENT', 'a wallet public key is 32 bytes')
  if (encryptionKey.length !== 32) throw new CryptoError('INVALID_PUBLIC_KEY', 'an X25519 public key is 32 bytes')
  return utf8(`data-market: delivery delegate encryption key v1\nwallet: ${toHex(wallet)}\nencryption key: ${toHex(encryptionKey)}`)
}

function checkUsableX25519(key: Uint8Array): void {
  try {
    // A low-order point gives an all-zero shared secret whatever the scalar; noble throws on it.
    x25519.getSharedSecret(new Uint8Array(32).fill(0x55), key)
  } catch {
    throw new CryptoError('INVALID_PUBLIC_KEY', 'the card\'s encryption key is not a usable X25519 public key')
  }
}

function verifies(signature: Uint8Array, message: Uint8Array, wallet: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, wallet)
  } catch {
    return false
  }
}

export function encodeDelegateCard(card: DelegateCard): string {
  if (card.signature.length !== 64) throw new CryptoError('INVALID_SIGNATURE', 'an ed25519 signature is 64 bytes')
  delegateCardMessage(card.wallet, card.encryptionKey) // checks the lengths
  const payload = concatBytes(Uint8Array.of(DELEGATE_CARD_VERSION), card.wallet, card.encryptionKey, card.signature)
  return DELEGATE_CARD_PREFIX + toBase64Url(payload)
}

/**
 * Reads a card and checks it: its form, its version, the wallet's signature and the X25519 key.
 * Surrounding whitespace is ignored. Throws `DELEGATE_CARD_MALFORMED`,
 * `DELEGATE_CARD_UNSUPPORTED_VERSION`, `DELEGATE_CARD_BAD_SIGNATURE` or `INVALID_PUBLIC_KEY`.
 */
export function parseDelegateCard(text: string): DelegateCard {
  const trimmed = text.trim()
  if (!trimmed.startsWith(DELEGATE_CARD_PREFIX)) {
    throw new CryptoError('DELEGATE_CARD_MALFORMED', `a delegate card starts with "${DELEGATE_CARD_PREFIX}"`)
  }
  const body = trimmed.slice(DELEGATE_CARD_PREFIX.length)
  if (body.length !== ENCODED_LEN || !/^[A-Za-z0-9_-]+$/.test(body)) {
    throw new CryptoError('DELEGATE_CARD_MALFORMED', 'the delegate card is cut short, too long or altered (it is 198 characters)')
  }
  const payload = fromBase64Url(body)
  if (payload.length !== DELEGATE_CARD_PAYLOAD_LEN) {
    throw new CryptoError('DELEGATE_CARD_MALFORMED', 'the delegate card does not decode to its 129 bytes')
  }
  if (payload[0] !== DELEGATE_CARD_VERSION) {
    throw new CryptoError(
      'DELEGATE_CARD_UNSUPPORTED_VERSION',
      `unsupported delegate card version ${payload[0]} (this client reads version ${DELEGATE_CARD_VERSION})`,
    )
  }
  const card: DelegateCard = {
    wallet: payload.slice(1, 33),
    encryptionKey: payload.slice(33, 65),
    signature: payload.slice(65, 129),
  }
  if (!verifies(card.signature, delegateCardMessage(card.wallet, card.encryptionKey), card.wallet)) {
    throw new CryptoError('DELEGATE_CARD_BAD_SIGNATURE', 'the delegate card\'s signature does not verify: it was altered, or not made by its wallet')
  }
  checkUsableX25519(card.encryptionKey)
  return card
}

/**
 * A wallet's card for its encryption key (`deriveEncryptionKeyPairWithWallet(wallet).publicKey`):
 * the wallet signs the card message once more.
 */
export async function createDelegateCard(wallet: MessageSigner, encryptionKey: Uint8Array): Promise<string> {
  const cardSignature = await wallet.signMessage(delegateCardMessage(wallet.publicKey, encryptionKey))
  const card = { wallet: Uint8Array.from(wallet.publicKey), encryptionKey: Uint8Array.from(encryptionKey), signature: cardSignature }
  if (!verifies(card.signature, delegateCardMessage(card.wallet, card.encryptionKey), card.wallet)) {
    throw new CryptoError('INVALID_SIGNATURE', 'the wallet did not sign the exact delegate card message')
  }
  return encodeDelegateCard(card)
}

/** Same from a local Solana keypair (64-byte secret key, or its 32-byte seed). */
export function createDelegateCardFromSolanaSecretKey(secretKey: Uint8Array): string {
  const { publicKey: encryptionKey } = deriveEncryptionKeyPairFromSolanaSecretKey(secretKey)
  const seed = secretKey.subarray(0, 32)
  const wallet = ed25519.getPublicKey(seed)
  const signature = ed25519.sign(delegateCardMessage(wallet, encryptionKey), seed)
  return encodeDelegateCard({ wallet, encryptionKey, signature })
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}
