/**
 * Every failure of the crypto layer is a `CryptoError` with a stable `code`, so callers (CLI, dapp)
 * can branch on the cause and show a precise message.
 */
export type CryptoErrorCode =
  // content keys and parameters
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  // DMC1 stream
  | 'NOT_DMC1'
  | 'UNSUPPORTED_VERSION'
  | 'INVALID_HEADER'
  | 'TRUNCATED_HEADER'
  | 'WRONG_KEY_OR_HEADER_TAMPERED'
  | 'CHUNK_AUTH_FAILED'
  | 'TRUNCATED'
  | 'TRAILING_DATA'
  | 'TOO_MANY_CHUNKS'
  | 'HASH_MISMATCH'
  | 'STREAM_NOT_CONSUMED'
  // chunk tree (a decrypted chunk against the leaves it must hash to)
  | 'CHUNK_TREE_MISMATCH'
  // buyer key derivation
  | 'INVALID_SIGNATURE'
  // sealed content key
  | 'SEALED_KEY_INVALID_LENGTH'
  | 'SEALED_KEY_NOT_DELIVERED'
  | 'SEALED_KEY_UNSUPPORTED_VERSION'
  | 'SEALED_KEY_RESERVED_NOT_ZERO'
  | 'SEALED_KEY_WRONG_RECIPIENT'
  | 'SEALED_KEY_INVALID_EPHEMERAL_KEY'
  | 'SEALED_KEY_AUTH_FAILED'
  | 'INVALID_PUBLIC_KEY'
  // delegate card
  | 'DELEGATE_CARD_MALFORMED'
  | 'DELEGATE_CARD_UNSUPPORTED_VERSION'
  | 'DELEGATE_CARD_BAD_SIGNATURE'

export class CryptoError extends Error {
  readonly code: CryptoErrorCode

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CryptoError'
    this.code = code
  }
}

/**
 * A decrypted chunk whose leaf is not the expected one, or a stream with another number of chunks
 * than the chunk tree. Raised before the chunk's plaintext is released.
 */
export class ChunkTreeMismatchError extends CryptoError {
  constructor(
    /** The first chunk that does not match (from 0). */
    readonly chunk: number,
    /** The chunk tree's number of leaves. */
    readonly chunkCount: number,
    message = `chunk ${chunk} of ${chunkCount} does not match the dataset's chunk tree`,
  ) {
    super('CHUNK_TREE_MISMATCH', message)
    this.name = 'ChunkTreeMismatchError'
  }
}

export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code)
}
