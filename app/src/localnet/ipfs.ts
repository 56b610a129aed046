// The local stack's IPFS node: an embedded Helia node on its own directory, served over HTTP on
// 127.0.0.1 as a trustless gateway (/ipfs/<cid>, for the web dapp and the indexer) and as the Kubo
// RPC subset (/api/v0, for the CLI with --ipfs <url>), both at one URL.
import { HeliaContentStore, startGateway, type RunningGateway } from "../storage/index.js";

export interface StackIpfsOptions {
  /** The node's repository directory (kept between runs: content is addressed by its hash). */
  directory: string;
  port: number;
  /** Browser origins allowed to call the RPC (e.g. the dapp's), besides the server's own. */
  allowedOrigins?: readonly string[];
}

export interface RunningStackIpfs {
  /** The gateway (`<url>/ipfs/<cid>`) and the RPC address (`--ipfs <url>`, Kubo clients' `url`). */
  url: string;
  directory: string;
  store: HeliaContentStore;
  gateway: RunningGateway;
  stop(): Promise<void>;
}

export async function startStackIpfs(options: StackIpfsOptions): Promise<RunningStackIpfs> {
  const store = await HeliaContentStore.open({ directory: options.directory });
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ store, port: options.port, rpcAllowedOrigins: options.allowedOrigins ?? [] });
  } catch (error) {
    await store.stop();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new Error(`port ${options.port} on 127.0.0.1 is in use: the IPFS gateway cannot start (choose another with --ipfs-port)`);
    }
    throw error;
  }
  return {
    url: gateway.url,
    directory: options.directory,
    store,
    gateway,
    async stop() {
      await gateway.close();
      await store.stop();
    },
  };
}
