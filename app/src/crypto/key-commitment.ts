/**
 * Checking a content key against a DMC1 stream's header, without decrypting anything: the header's
 * 32-byte key commitment (FORMAT.md, *Keys*) is HKDF-SHA256 of the key over the header prefix. A
 * delivery daemon uses it to refuse a copy of the key that does not open the dataset's ciphertext
 * before sealing that key to any buyer.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { equalBytes } from './bytes.js'
import { CryptoError } from './errors.js'
import { checkContentKey, COMMITMENT_INFO, HEADER_LEN, HEADER_PREFIX_LEN, parseHeaderPrefix } from './format.js'

/**
 * Whether `contentKey` is the key of the DMC1 stream that starts with `header` (its first 56 bytes
 * or more). Throws for a header that is not DMC1 (`TRUNCATED_HEADER`, `NOT_DMC1`,
 * `UNSUPPORTED_VERSION`, `INVALID_HEADER`).
 */
export function contentKeyMatchesHeader(header: Uint8Array, contentKey: Uint8Array): boolean {
  checkContentKey(contentKey)
  if (header.length < HEADER_LEN) throw new CryptoError('TRUNCATED_HEADER', 'input ends inside the DMC1 header')
  const prefix = header.subarray(0, HEADER_PREFIX_LEN)
  parseHeaderPrefix(prefix)
  const commitment = hkdf(sha256, contentKey, prefix, COMMITMENT_INFO, 32)
  return equalBytes(commitment, header.subarray(HEADER_PREFIX_LEN, HEADER_LEN))
}
