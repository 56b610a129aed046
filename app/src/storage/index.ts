/** Opens the ContentStore a configuration asks for: a Kubo daemon when a URL is given, else the embedded node. */
import { fileURLToPath } from 'node:url'
import { StorageError, type ContentStore } from './content-store.js'
import { HeliaContentStore, type HeliaP2POptions, type HeliaStoreOptions } from './helia-store.js'
import { KuboContentStore, type KuboStoreOptions } from './kubo-store.js'

export * from './content-store.js'
export {
  HeliaContentStore,
  MAX_CHUNK_SIZE,
  type HeliaNetworkOptions,
  type HeliaP2POptions,
  type HeliaStoreOptions,
  type ImportedFile,
} from './helia-store.js'
export { KuboContentStore, type KuboStoreOptions } from './kubo-store.js'

export type ContentStoreOptions = ({ kind?: 'helia' } & HeliaStoreOptions) | ({ kind: 'kubo' } & KuboStoreOptions)

export async function openContentStore(options: ContentStoreOptions): Promise<ContentStore> {
  if (options.kind === 'kubo') return new KuboContentStore(options)
  return HeliaContentStore.open(options)
}

/**
 * From a URL-style setting: `http(s)://host:port` selects a Kubo RPC API, anything else is the
 * embedded node's repository directory (a plain path or `file://` URL). `p2p` puts the embedded
 * node online with known peers (a Kubo daemon has its own networking).
 */
export async function openContentStoreFromUrl(location: string, options: { p2p?: HeliaP2POptions } = {}): Promise<ContentStore> {
  if (/^https?:\/\//i.test(location)) {
    if (options.p2p?.listen?.length || options.p2p?.peers?.length) {
      throw new StorageError('INVALID_PEER', 'listen and peer addresses apply to the embedded node, not to a Kubo daemon')
    }
    return new KuboContentStore({ url: location })
  }
  const directory = location.startsWith('file://') ? fileURLToPath(location) : location
  const p2p = options.p2p?.listen?.length || options.p2p?.peers?.length ? options.p2p : undefined
  return HeliaContentStore.open({ directory, p2p })
}
export { startGateway, type GatewayOptions, type RunningGateway } from './gateway.js'
export * from './trustless-reader.js'
