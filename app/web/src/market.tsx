// The dapp's view of the cluster: one RpcConnection (the client layer's, the same the CLI uses),
// the discovery layer (chain, or an indexer checked against the chain), and a health check that
// tells a wrong cluster or an undeployed program apart from an unreachable node.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Address } from "@solana/kit";

import { RpcConnection } from "../../src/client/universal.js";
import {
  DATA_MARKET_PROGRAM_ADDRESS,
  IndexerClient,
  chainDiscovery,
  findMarketplaceAddress,
  fetchMarketplace,
  indexerDiscovery,
  type Discovery,
  type Marketplace,
} from "../../src/sdk/index.js";
import type { DappConfig } from "./config.js";
import { explainForPeople } from "./errors.js";

export type ClusterHealth =
  | { status: "checking" }
  | { status: "ready"; marketplace: Marketplace }
  | { status: "problem"; message: string };

export interface Market {
  config: DappConfig;
  connection: RpcConnection;
  discovery: Discovery;
  health: ClusterHealth;
  /** Bumped after a transaction, so pages read the chain again. */
  revision: number;
  refresh(): void;
}

const MarketContext = createContext<Market | null>(null);

export function useMarket(): Market {
  const market = useContext(MarketContext);
  if (!market) throw new Error("useMarket outside MarketProvider");
  return market;
}

async function checkCluster(connection: RpcConnection, programId: string): Promise<ClusterHealth> {
  if (programId !== DATA_MARKET_PROGRAM_ADDRESS) {
    return {
      status: "problem",
      message: `This build of the dapp speaks to the data market program ${DATA_MARKET_PROGRAM_ADDRESS}; the settings name ${programId}. Set the program id back, or use a build generated for that program.`,
    };
  }
  try {
    const marketplaceAddress = await findMarketplaceAddress();
    const [program, marketplace] = await connection.getAccounts([DATA_MARKET_PROGRAM_ADDRESS as Address, marketplaceAddress]);
    if (!program?.exists || !program.executable) {
      return {
        status: "problem",
        message: `The data market program is not deployed on ${connection.url}. Is this the right cluster? Check the settings (localnet needs \`npm run localnet\` running).`,
      };
    }
    if (!marketplace?.exists) {
      return { status: "problem", message: `The program is deployed on ${connection.url} but its marketplace is not initialized yet.` };
    }
    return { status: "ready", marketplace: (await fetchMarketplace(connection, marketplaceAddress)).data };
  } catch (error) {
    return { status: "problem", message: explainForPeople(error, { rpcUrl: connection.url }).message };
  }
}

export function MarketProvider({ config, children }: { config: DappConfig; children: ReactNode }) {
  const connection = useMemo(
    // Few, short retries: a person is waiting, and an unreachable node should say so quickly.
    () => new RpcConnection(config.rpcUrl, { rpcBackoff: { baseMs: 250, maxMs: 2_000, attempts: 3 }, requestTimeoutMs: 15_000, confirmTimeoutMs: 90_000 }),
    [config.rpcUrl],
  );
  const discovery = useMemo(
    () =>
      config.indexerUrl
        ? indexerDiscovery(new IndexerClient(config.indexerUrl), { reader: connection })
        : chainDiscovery(connection, connection.url),
    [config.indexerUrl, connection],
  );
  const [health, setHealth] = useState<ClusterHealth>({ status: "checking" });
  const [revision, setRevision] = useState(0);
  useEffect(() => {
    let current = true;
    setHealth({ status: "checking" });
    void checkCluster(connection, config.programId).then((h) => current && setHealth(h));
    return () => {
      current = false;
    };
  }, [connection, config.programId, revision]);
  const market = useMemo(
    () => ({ config, connection, discovery, health, revision, refresh: () => setRevision((r) => r + 1) }),
    [config, connection, discovery, health, revision],
  );
  return <MarketContext.Provider value={market}>{children}</MarketContext.Provider>;
}
