// Starts the app's local stack (solana-test-validator with the program, funded wallets, a test
// USDC mint, the marketplace initialised) on the ports given, prints one line `ready <stack.json>`
// and stops the validator on SIGTERM. Used by the indexer's chain test.
//   node --import <app>/node_modules/tsx/dist/loader.mjs stack.mts <dir> <rpc-port> <faucet-port>
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { startLocalStack } from "../../../app/src/localnet/stack.js";

const [dir, rpcPort, faucetPort] = process.argv.slice(2);
if (!dir || !rpcPort || !faucetPort) throw new Error("usage: stack.mts <dir> <rpc-port> <faucet-port>");
const stack = await startLocalStack({ dir, rpcPort: Number(rpcPort), faucetPort: Number(faucetPort), minWindowSecs: 5 });
const details = await readFile(join(dir, "stack.json"), "utf8");
process.stdout.write(`ready ${JSON.stringify(JSON.parse(details))}\n`);
await new Promise<void>((resolve) => {
  process.once("SIGTERM", resolve);
  process.once("SIGINT", resolve);
});
await stack.stop();
