/** Browser entry point of the crypto layer: nothing here imports a Node module. */
export * from './errors.js'
export * from './bytes.js'
export * from './format.js'
export { ByteReader, type ByteSource } from './framing.js'
export type {
  DecryptOptions,
  DecryptSummary,
  EncryptOptions,
  EncryptSummary,
  ProcessingStream,
} from './stream-engine.js'
export {
  decryptDmc1Chunk,
  decryptStream,
  encryptStream,
  generateContentKey,
  iterateReadable,
  sha256Stream,
  toReadableStream,
} from './stream-web.js'
export * from './chunk-tree.js'
export * from './buyer-key.js'
export * from './seal.js'
export * from './delegate-card.js'
export * from './key-commitment.js'
