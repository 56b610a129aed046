// The program's account lists (a licence's receipts, a model's receipts) as the CLI reads them: from
// the indexer in the settings, each item checked on chain, else getProgramAccounts.
import type { Account } from "@solana/kit";

import type { RpcConnection } from "../../src/client/universal.js";
import { IndexerClient, listAccounts, type AccountKindName, type AccountList, type DecodedOf } from "../../src/sdk/index.js";
import type { DappConfig } from "./config.js";

const indexers = new Map<string, IndexerClient>();

export async function readList<K extends AccountKindName>(config: DappConfig, connection: RpcConnection, list: AccountList<K>): Promise<Account<DecodedOf<K>>[]> {
  let indexer: IndexerClient | null = null;
  if (config.indexerUrl) {
    indexer = indexers.get(config.indexerUrl) ?? new IndexerClient(config.indexerUrl);
    indexers.set(config.indexerUrl, indexer);
  }
  return (await listAccounts(list, { chain: connection, indexer })).accounts;
}
