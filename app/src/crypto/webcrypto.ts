/** Access to WebCrypto (global `crypto.subtle`), typed from the global so no DOM lib is needed. */
export type Subtle = typeof globalThis.crypto.subtle
export type WebCryptoKey = Awaited<ReturnType<Subtle['importKey']>>

export function subtle(): Subtle {
  const s = globalThis.crypto?.subtle
  if (s === undefined) throw new Error('WebCrypto (crypto.subtle) is not available: a secure context is required')
  return s
}
