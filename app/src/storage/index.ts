/** Opens the ContentStore a configuration asks for: a Kubo daemon when a URL is given, else the embedded node. */
import { fileURLToPath } from 'node:url'
import type { ContentStore } from './content-store.js'
import { HeliaContentStore, type HeliaStoreOptions } from './helia-store.js'
import { KuboContentStore, type KuboStoreOptions } from './kubo-store.js'

export * from './content-store.js'
export { HeliaContentStore, type HeliaNetworkOptions, type HeliaStoreOptions } from './helia-store.js'
export { KuboContentStore, type KuboStoreOptions } from './kubo-store.js'

export type ContentStoreOptions = ({ kind?: 'helia' } & HeliaStoreOptions) | ({ kind: 'kubo' } & KuboStoreOptions)

export async function openContentStore(options: ContentStoreOptions): Promise<ContentStore> {
  if (options.kind === 'kubo') return new KuboContentStore(options)
  return HeliaContentStore.open(options)
}

/**
 * From a URL-style setting: `http(s)://host:port` selects a Kubo RPC API, anything else is the
 * embedded node's repository directory (a plain path or `file://` URL).
 */
export async function openContentStoreFromUrl(location: string): Promise<ContentStore> {
  if (/^https?:\/\//i.test(location)) return new KuboContentStore({ url: location })
  const directory = location.startsWith('file://') ? fileURLToPath(location) : location
  return HeliaContentStore.open({ directory })
}
