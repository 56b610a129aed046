/**
 * Node entry point of the crypto layer. The DMC1 stream functions here use node:crypto; the
 * WebCrypto ones are under `web` (and in ./web.ts for browser bundles).
 */
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
  decryptToFile,
  encryptFile,
  encryptStream,
  generateContentKey,
  sha256Stream,
  writeFileAtomically,
  type FileOutputOptions,
} from './stream-node.js'
export * as web from './stream-web.js'
export * from './chunk-tree.js'
export * from './buyer-key.js'
export * from './seal.js'
export * from './delegate-card.js'
export * from './key-commitment.js'
