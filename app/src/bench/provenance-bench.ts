/**
 * Bill-of-data and Solana Actions benchmark against a local solana-test-validator, through the CLI
 * and the actions handler as a user meets them:
 *
 *   1. An owner publishes 3 datasets; a model builder buys each, the owner delivers, and the builder
 *      records 10 uses of one model (4 + 3 + 3).
 *   2. `provenance export` (read the receipts, licences and datasets, sign) and `provenance verify`
 *      (every claim re-read on chain), BENCH_ROUNDS times each (5 by default): wall time p50 / max,
 *      and the document's size.
 *   3. The dataset's action: GET (what a blink shows) and POST (the unsigned purchase, simulated for
 *      its compute budget) for a returning buyer, BENCH_ROUNDS times each.
 *
 * Prints a table and writes target/bench/provenance.json. Needs solana-test-validator on PATH and
 * target/deploy/data_market.so.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";

import { actionsHandler } from "../actions/server.js";
import { runCli } from "../cli/program.js";
import { startLocalStack } from "../localnet/stack.js";
import { HeliaContentStore } from "../storage/index.js";
import { percentile } from "./stats.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const OUTPUT = join(REPO_ROOT, "target", "bench", "provenance.json");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RPC_PORT = 43_899;

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void) {
    this.text += chunk.toString();
    callback();
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

const dir = await mkdtemp(join(tmpdir(), "data-market-provenance-bench-"));
const stack = await startLocalStack({ dir, rpcPort: RPC_PORT, faucetPort: RPC_PORT + 71 });
const store = await HeliaContentStore.open({ directory: join(dir, "ipfs") });
try {
  const cli = async (keypair: string, argv: string[]): Promise<string> => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["--url", stack.url, "--keypair", keypair, "--json", ...argv], { streams: { stdout, stderr }, store, env: {} });
    if (code !== 0) throw new Error(`data-market ${argv.join(" ")} exited ${code}: ${stderr.text}`);
    return stdout.text;
  };
  const owner = stack.wallets.owner.keypairPath;
  const builder = stack.wallets.buyer.keypairPath;
  const model = randomBytes(32).toString("hex");
  const datasets: string[] = [];
  for (const [i, price] of ["10", "4", "2.5"].entries()) {
    const file = join(dir, `dataset-${i}.bin`);
    await writeFile(file, randomBytes(64 * 1024));
    const published = JSON.parse(await cli(owner, ["dataset", "publish", file, "--title", `Dataset ${i + 1}`, "--price", price, "--mint", stack.market.usdc.address])) as { dataset: string };
    datasets.push(published.dataset);
    await cli(builder, ["license", "buy", published.dataset, "--max-price", price]);
  }
  await cli(owner, ["deliver"]);
  for (let i = 0; i < 10; i++) {
    await cli(builder, ["usage", "record", datasets[i < 4 ? 0 : i < 7 ? 1 : 2]!, "--model", model, "--run-id", `run-${i}`]);
  }

  const bill = join(dir, "bill.json");
  const exports: number[] = [];
  const verifies: number[] = [];
  let claims = 0;
  for (let round = 0; round < ROUNDS; round++) {
    exports.push((await timed(() => cli(builder, ["provenance", "export", "--model", model, "-o", bill]))).ms);
    const verified = await timed(() => cli(owner, ["provenance", "verify", bill]));
    verifies.push(verified.ms);
    claims = (JSON.parse(verified.value) as { claims: number }).claims;
  }
  const billBytes = (await stat(bill)).size;

  // The actions: a returning buyer (it holds licences, so its key is on chain) asks for a 4th dataset.
  const file = join(dir, "for-sale.bin");
  await writeFile(file, randomBytes(64 * 1024));
  const forSale = (JSON.parse(await cli(owner, ["dataset", "publish", file, "--title", "For sale", "--price", "1", "--mint", stack.market.usdc.address])) as { dataset: string }).dataset;
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const handle = actionsHandler({ connection: stack.connection, origin, symbols: { [stack.market.usdc.address]: "USDC" } });
  server.on("request", (req, res) => void handle(req, res, new URL(req.url ?? "/", origin).pathname).then((handled) => handled || res.writeHead(404).end()));
  const gets: number[] = [];
  const posts: number[] = [];
  let transactionBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    gets.push((await timed(async () => (await fetch(`${origin}/api/actions/dataset/${forSale}`)).json())).ms);
    const post = await timed(async () => {
      const response = await fetch(`${origin}/api/actions/dataset/${forSale}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ account: stack.wallets.buyer.wallet.signer.address }),
      });
      if (response.status !== 200) throw new Error(`the action refused: ${await response.text()}`);
      return (await response.json()) as { transaction: string };
    });
    posts.push(post.ms);
    transactionBytes = Buffer.from(post.value.transaction, "base64").length;
  }
  await new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok())));

  const ms = (values: number[]) => ({ p50: Math.round(percentile(values, 0.5)), max: Math.round(Math.max(...values)) });
  const report = {
    datasets: 3,
    uses: 10,
    rounds: ROUNDS,
    claims,
    billBytes,
    exportMs: ms(exports),
    verifyMs: ms(verifies),
    actionGetMs: ms(gets),
    actionPostMs: ms(posts),
    purchaseTransactionBytes: transactionBytes,
  };
  await mkdir(dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, JSON.stringify(report, null, 2) + "\n");
  const row = (label: string, value: string) => console.log(`${label.padEnd(44)}${value.padStart(20)}`);
  console.log(`\nbill of data and actions on a local validator, ${ROUNDS} rounds (wall ms p50 / max)`);
  row("provenance export (3 datasets, 10 uses)", `${report.exportMs.p50} / ${report.exportMs.max}`);
  row(`provenance verify (${claims} claims)`, `${report.verifyMs.p50} / ${report.verifyMs.max}`);
  row("bill of data size (bytes)", String(billBytes));
  row("action GET (blink metadata)", `${report.actionGetMs.p50} / ${report.actionGetMs.max}`);
  row("action POST (purchase transaction)", `${report.actionPostMs.p50} / ${report.actionPostMs.max}`);
  row("purchase transaction (bytes)", String(transactionBytes));
  console.log(`\nwritten to ${OUTPUT}`);
} finally {
  await store.stop();
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}
