// `npm run localnet`: starts the local stack in the foreground and prints how to use it; Ctrl-C
// stops the validator.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { DATA_MARKET_PROGRAM_ADDRESS } from "../sdk/index.js";
import { formatDuration, parseDuration } from "../client/index.js";
import { LOCAL_MIN_WINDOW_SECS, startLocalStack } from "./stack.js";

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
  },
});
const dir = resolve(values.dir!);

try {
  process.stderr.write("starting solana-test-validator with the data market program...\n");
  const stack = await startLocalStack({
    dir,
    rpcPort: Number(values["rpc-port"]),
    keepLedger: values["keep-ledger"],
    minWindowSecs: parseDuration(values["min-window"]!),
    indexer: values["no-indexer"] ? undefined : { port: values["indexer-port"] === undefined ? undefined : Number(values["indexer-port"]) },
    ipfs: values["no-ipfs"]
      ? undefined
      : {
          port: values["ipfs-port"] === undefined ? undefined : Number(values["ipfs-port"]),
          allowedOrigins: values["ipfs-allow-origin"],
        },
  });
  if (stack.indexerMissing) process.stderr.write(`continuing without an indexer: ${stack.indexerMissing}\n`);
  const windows = `delivery ${formatDuration(stack.market.minDeliveryWindowSecs)}, dispute ${formatDuration(stack.market.minDisputeWindowSecs)}`;
  const { owner, buyer, operator } = stack.wallets;
  const ipfsFlag = stack.ipfs ? ` --ipfs ${stack.ipfs.url}` : "";
  const parts = ["the validator", ...(stack.indexer ? ["the indexer"] : []), ...(stack.ipfs ? ["the IPFS node"] : [])];
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
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  await stack.stop();
  process.stderr.write(`${stopped} stopped\n`);
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
