// The crypto of delivery by a delegate: the delegate card (its wallet-derived X25519 key signed by its
// wallet), the content key sealed to a delegate and opened by it alone, and the check of a key
// against a DMC1 header's key commitment.
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { describe, test } from 'node:test'
import { ed25519 } from '@noble/curves/ed25519.js'
import {
  DELEGATE_CARD_PREFIX,
  HEADER_LEN,
  contentKeyMatchesHeader,
  createDelegateCard,
  createDelegateCardFromSolanaSecretKey,
  delegateCardMessage,
  deriveEncryptionKeyPairFromSolanaSecretKey,
  deriveEncryptionKeyPairWithWallet,
  encodeDelegateCard,
  encryptStream,
  generateContentKey,
  openSealedContentKey,
  parseDelegateCard,
  sealContentKey,
  toHex,
} from '../src/crypto/index.js'
import { assertCryptoError, collect, pieces, random, rejectsWith } from './helpers.js'

const SEED = new Uint8Array(32).map((_, i) => i + 1)
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

/** A wallet-like signer backed by node:crypto's ed25519 (independent of noble). */
function nodeWallet(seed: Uint8Array) {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' })
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32))
  return { publicKey, signMessage: async (message: Uint8Array) => new Uint8Array(sign(null, message, key)) }
}

function solanaSecretKey(seed: Uint8Array): Uint8Array {
  const out = new Uint8Array(64)
  out.set(seed, 0)
  out.set(ed25519.getPublicKey(seed), 32)
  return out
}

function payloadOf(card: string): Buffer {
  return Buffer.from(card.slice(DELEGATE_CARD_PREFIX.length), 'base64url')
}

function cardFromPayload(payload: Uint8Array): string {
  return DELEGATE_CARD_PREFIX + Buffer.from(payload).toString('base64url')
}

describe('delegate card', () => {
  test('a card carries the wallet, its derived encryption key and the wallet signature of the documented message', () => {
    const card = createDelegateCardFromSolanaSecretKey(solanaSecretKey(SEED))
    assert.ok(card.startsWith('data-market-delegate-card:'))
    assert.equal(card.length, 198)
    assert.match(card.slice(DELEGATE_CARD_PREFIX.length), /^[A-Za-z0-9_-]{172}$/)
    const parsed = parseDelegateCard(`  ${card}\n`)
    const wallet = ed25519.getPublicKey(SEED)
    assert.equal(toHex(parsed.wallet), toHex(wallet))
    assert.equal(toHex(parsed.encryptionKey), toHex(deriveEncryptionKeyPairFromSolanaSecretKey(SEED).publicKey))

    const payload = payloadOf(card)
    assert.equal(payload.length, 129)
    assert.equal(payload[0], 1)
    const message = Buffer.from(
      `data-market: delivery delegate encryption key v1\nwallet: ${toHex(wallet)}\nencryption key: ${toHex(parsed.encryptionKey)}`,
      'utf8',
    )
    assert.ok(Buffer.from(delegateCardMessage(wallet, parsed.encryptionKey)).equals(message))
    // Checked with node:crypto alone, from the layout in FORMAT.md.
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519, payload.subarray(1, 33)]), format: 'der', type: 'spki' })
    assert.ok(verify(null, message, publicKey, payload.subarray(65, 129)))
  })

  test('a browser-style wallet (signMessage) makes the same card as the keypair file', async () => {
    const wallet = nodeWallet(SEED)
    const { publicKey } = await deriveEncryptionKeyPairWithWallet(wallet)
    assert.equal(await createDelegateCard(wallet, publicKey), createDelegateCardFromSolanaSecretKey(SEED))
  })

  test('a wallet that signs something other than the card message is refused', async () => {
    const honest = nodeWallet(SEED)
    const lying = { publicKey: honest.publicKey, signMessage: async (m: Uint8Array) => honest.signMessage(new Uint8Array([...m, 0])) }
    await rejectsWith(createDelegateCard(lying, random(32)), 'INVALID_SIGNATURE')
  })

  test('every altered byte, a foreign key and a wrong form are refused', () => {
    const card = createDelegateCardFromSolanaSecretKey(solanaSecretKey(SEED))
    const payload = payloadOf(card)
    for (const at of [1, 20, 32, 33, 50, 64, 65, 100, 128]) {
      const altered = Buffer.from(payload)
      altered[at]! ^= 0x01
      assert.throws(() => parseDelegateCard(cardFromPayload(altered)), (e: unknown) => {
        assertCryptoError(e, 'DELEGATE_CARD_BAD_SIGNATURE')
        return true
      })
    }
    // Another wallet's key put on this wallet's card (a swapped key): the signature does not cover it.
    const other = deriveEncryptionKeyPairFromSolanaSecretKey(random(32)).publicKey
    const swapped = Buffer.from(payload)
    swapped.set(other, 33)
    assert.throws(() => parseDelegateCard(cardFromPayload(swapped)), /signature does not verify/)

    const version2 = Buffer.from(payload)
    version2[0] = 2
    assert.throws(() => parseDelegateCard(cardFromPayload(version2)), (e: unknown) => {
      assertCryptoError(e, 'DELEGATE_CARD_UNSUPPORTED_VERSION')
      return true
    })
    for (const text of [
      card.slice(0, -1),
      `${card}A`,
      card.replace(DELEGATE_CARD_PREFIX, 'data-market-card:'),
      card.slice(DELEGATE_CARD_PREFIX.length),
      `${card.slice(0, -2)}+/`,
      '',
      ed25519.getPublicKey(SEED).toString(),
    ]) {
      assert.throws(() => parseDelegateCard(text), (e: unknown) => {
        assertCryptoError(e, 'DELEGATE_CARD_MALFORMED')
        return true
      })
    }
  })

  test('a signed card for a low-order X25519 key is refused', () => {
    const wallet = ed25519.getPublicKey(SEED)
    const zero = new Uint8Array(32)
    const signature = ed25519.sign(delegateCardMessage(wallet, zero), SEED)
    assert.throws(() => parseDelegateCard(encodeDelegateCard({ wallet, encryptionKey: zero, signature })), (e: unknown) => {
      assertCryptoError(e, 'INVALID_PUBLIC_KEY')
      return true
    })
  })
})

describe('the content key sealed to a delegate', () => {
  test('only the delegate opens its copy: not the owner, not a buyer', async () => {
    const owner = deriveEncryptionKeyPairFromSolanaSecretKey(random(32))
    const delegateSeed = random(32)
    const delegate = deriveEncryptionKeyPairFromSolanaSecretKey(delegateSeed)
    const buyer = deriveEncryptionKeyPairFromSolanaSecretKey(random(32))
    const card = parseDelegateCard(createDelegateCardFromSolanaSecretKey(delegateSeed))
    const contentKey = generateContentKey()

    const ownerCopy = await sealContentKey(contentKey, owner.publicKey)
    const delegateCopy = await sealContentKey(contentKey, card.encryptionKey)
    assert.equal(delegateCopy.length, 96)
    assert.deepEqual(await openSealedContentKey(delegateCopy, delegate), contentKey)
    assert.deepEqual(await openSealedContentKey(ownerCopy, owner), contentKey)
    await rejectsWith(openSealedContentKey(delegateCopy, owner), 'SEALED_KEY_AUTH_FAILED')
    await rejectsWith(openSealedContentKey(delegateCopy, buyer), 'SEALED_KEY_AUTH_FAILED')
    await rejectsWith(openSealedContentKey(ownerCopy, delegate), 'SEALED_KEY_AUTH_FAILED')

    // The delegate re-seals to a buyer exactly as the owner would.
    const opened = await openSealedContentKey(delegateCopy, delegate)
    assert.deepEqual(await openSealedContentKey(await sealContentKey(opened, buyer.publicKey), buyer), contentKey)
  })
})

describe('key commitment check', () => {
  test('the right key matches the header; another key, an altered header or a short one do not', async () => {
    const contentKey = generateContentKey()
    const stream = encryptStream(pieces(random(5000)), contentKey, { chunkSize: 1024 })
    const ciphertext = await collect(stream)
    const header = ciphertext.subarray(0, HEADER_LEN)
    assert.equal(contentKeyMatchesHeader(header, contentKey), true)
    assert.equal(contentKeyMatchesHeader(ciphertext, contentKey), true, 'more than the header is fine')
    assert.equal(contentKeyMatchesHeader(header, generateContentKey()), false)
    for (const at of [12, 23, 24, 55]) {
      const altered = Uint8Array.from(header)
      altered[at]! ^= 0x80
      assert.equal(contentKeyMatchesHeader(altered, contentKey), false, `byte ${at}`)
    }
    for (const [bytes, code] of [
      [header.subarray(0, HEADER_LEN - 1), 'TRUNCATED_HEADER'],
      [Uint8Array.from(header).fill(0x41, 0, 4), 'NOT_DMC1'],
    ] as const) {
      assert.throws(() => contentKeyMatchesHeader(bytes, contentKey), (e: unknown) => {
        assertCryptoError(e, code)
        return true
      })
    }
  })
})
