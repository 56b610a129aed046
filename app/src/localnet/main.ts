// `npm run localnet`: starts the local stack in the foreground and prints how to use it; Ctrl-C
// stops the validator.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { DATA_MARKET_PROGRAM_ADDRESS } from "../sdk/index.js";
import { formatDuration, parseDuration } from "../client/index.js";
import { BLINK_PATH, datasetBlinkUrl, watchDatasets } from "../actions/dataset-action.js";
import { actionsHandler } from "../actions/server.js";
import { serveSite, stackSiteConfig, WEB_DIST_DIR, type StaticSite } from "./site.js";
import { LOCAL_MIN_WINDOW_SECS, startLocalStack } from "./stack.js";

/** The dapp's port relative to the RPC port (the indexer's is + 81, the IPFS node's + 82). */
const WEB_PORT_OFFSET = 84;

const { values } = parseArgs({
  options: {
    dir: { type: "string", default: fileURLToPath(new URL("../../../target/localnet", import.meta.url)) },
    "rpc-port": { type: "string", default: "8899" },
    "keep-ledger": { type: "boolean", default: false },
    "min-window": { type: "string", default: `${LOCAL_MIN_WINDOW_SECS}s` },
    "indexer-port": { type: "string" },
    "no-indexer": { type: "boolean", default: false },
    "ipfs-port": { type: "string" },
    "ipfs-allow-origin": { type: "string", multiple: true, default: [] },
    "no-ipfs": { type: "boolean", default: false },
    "web-port": { type: "string" },
    "no-web": { type: "boolean", default: false },
  },
});
const dir = resolve(values.dir!);
const rpcPort = Number(values["rpc-port"]);
const webPort = values["web-port"] === undefined ? rpcPort + WEB_PORT_OFFSET : Number(values["web-port"]);
const webBuilt = existsSync(join(WEB_DIST_DIR, "index.html"));
const serveWeb = !values["no-web"] && webBuilt;
const webOrigin = `http://127.0.0.1:${webPort}`;

try {
  process.stderr.write("starting solana-test-validator with the data market program...\n");
  const stack = await startLocalStack({
    dir,
    rpcPort,
    keepLedger: values["keep-ledger"],
    minWindowSecs: parseDuration(values["min-window"]!),
    indexer: values["no-indexer"] ? undefined : { port: values["indexer-port"] === undefined ? undefined : Number(values["indexer-port"]) },
    ipfs: values["no-ipfs"]
      ? undefined
      : {
          port: values["ipfs-port"] === undefined ? undefined : Number(values["ipfs-port"]),
          // the dapp served here publishes through the node's RPC
          allowedOrigins: [...values["ipfs-allow-origin"]!, ...(serveWeb ? [webOrigin] : [])],
        },
  });
  if (stack.indexerMissing) process.stderr.write(`continuing without an indexer: ${stack.indexerMissing}\n`);
  let site: StaticSite | null = null;
  if (serveWeb) {
    try {
      const config = stackSiteConfig(stack);
      site = await serveSite(WEB_DIST_DIR, config, webPort, {
        handle: actionsHandler({ connection: stack.connection, origin: webOrigin, symbols: config.tokens as Record<string, string> }),
      });
    } catch (error) {
      await stack.stop();
      throw (error as NodeJS.ErrnoException).code === "EADDRINUSE"
        ? new Error(`port ${webPort} on 127.0.0.1 is in use: the dapp cannot be served (choose another with --web-port, or --no-web)`)
        : error;
    }
  }
  const windows = `delivery ${formatDuration(stack.market.minDeliveryWindowSecs)}, dispute ${formatDuration(stack.market.minDisputeWindowSecs)}`;
  const { owner, buyer, operator } = stack.wallets;
  const ipfsFlag = stack.ipfs ? ` --ipfs ${stack.ipfs.url}` : "";
  const parts = ["the validator", ...(stack.indexer ? ["the indexer"] : []), ...(stack.ipfs ? ["the IPFS node"] : []), ...(site ? ["the dapp"] : [])];
  const stopped = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0]!;
  process.stdout.write(
    [
      `local stack ready on ${stack.url} (validator log: ${stack.validator.logFile})`,
      stack.indexer
        ? `  indexer      ${stack.indexer.url} (log: ${stack.indexer.logFile}); the CLI uses it with --indexer ${stack.indexer.url}`
        : "  indexer      not running",
      stack.ipfs
        ? `  ipfs         ${stack.ipfs.url}: trustless gateway ${stack.ipfs.url}/ipfs/<cid>, Kubo RPC ${stack.ipfs.url}/api/v0 ` +
          `(node in ${stack.ipfs.directory}); the CLI uses it with --ipfs ${stack.ipfs.url}`
        : "  ipfs         not running (the CLI uses its own embedded node)",
      site
        ? `  web dapp     ${site.url} (open it in a browser with Phantom pointed at the local validator; see README)\n` +
          `  actions      ${webOrigin}/actions.json; a blink per dataset is printed below as datasets are registered`
        : values["no-web"]
          ? "  web dapp     not served"
          : "  web dapp     not built (`npm run web:build`, or start with `npm run dapp`)",
      `  program      ${DATA_MARKET_PROGRAM_ADDRESS}, marketplace ${stack.market.marketplace}`,
      `  test USDC    ${stack.market.usdc.address} (6 decimals; the operator mints it)`,
      `  min windows  ${windows} (datasets may set windows this short; --min-window changes it)`,
      `  operator     ${operator.wallet.signer.address}  ${operator.keypairPath}  (upgrade authority, treasury, arbiter)`,
      `  owner        ${owner.wallet.signer.address}  ${owner.keypairPath}`,
      `  buyer        ${buyer.wallet.signer.address}  ${buyer.keypairPath}  (1000 test USDC)`,
      `  details      ${dir}/stack.json`,
      "",
      "try:",
      `  app/bin/data-market --url localnet${ipfsFlag} --keypair ${owner.keypairPath} dataset publish <file> --title "My data" --price 10 --mint ${stack.market.usdc.address} --dispute-window ${formatDuration(stack.market.minDisputeWindowSecs)}`,
      `  app/bin/data-market --url localnet${ipfsFlag} --keypair ${owner.keypairPath} deliver --watch`,
      `  app/bin/data-market --url localnet --keypair ${buyer.keypairPath} license buy <dataset> --max-price 10`,
      `  app/bin/data-market --url localnet${ipfsFlag} --keypair ${buyer.keypairPath} download <dataset> -o <file>`,
      ...(stack.indexer ? [`  app/bin/data-market --url localnet --indexer ${stack.indexer.url} dataset search <words>`] : []),
      `Ctrl-C stops ${stopped}.`,
      "",
    ].join("\n"),
  );
  // Each dataset's blink, now and as datasets are registered.
  const stopWatching = new AbortController();
  if (site) {
    void watchDatasets(
      { connection: stack.connection },
      (dataset, title) => process.stdout.write(`blink for "${title}": ${datasetBlinkUrl(webOrigin, dataset)} (or the link ${webOrigin}${BLINK_PATH}${dataset})\n`),
      stopWatching.signal,
    );
  }
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  stopWatching.abort();
  await site?.close();
  await stack.stop();
  process.stderr.write(`${stopped} stopped\n`);
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
