// `npm run journey [-- --url <rpc>]`: the narrated marketplace journey. By default on an embedded
// SVM running the compiled program (nothing to start); with --url against any cluster where the
// program is deployed and the marketplace exists (e.g. `npm run localnet`).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { generateKeyPairSigner } from "@solana/kit";

import { RpcConnection, type MarketConnection } from "../client/index.js";
import { SvmConnection } from "../client/svm.js";
import { Output } from "../cli/output.js";
import { openContentStoreFromUrl } from "../storage/index.js";
import { runJourney } from "./journey.js";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    "size-mib": { type: "string", default: "8" },
    ipfs: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "usage: npm run journey [-- --url <rpc url|localnet|devnet>] [--size-mib N] [--ipfs <dir|kubo url>]\n" +
      "Without --url the journey runs on an embedded SVM with the compiled program.\n",
  );
  process.exit(0);
}

const scratch = await mkdtemp(join(tmpdir(), "data-market-journey-ipfs-"));
const operator = await generateKeyPairSigner();
let connection: MarketConnection | undefined;
const store = await openContentStoreFromUrl(values.ipfs ?? scratch);
try {
  connection = values.url
    ? new RpcConnection(values.url)
    : await SvmConnection.start({ upgradeAuthority: operator.address });
  const started = Date.now();
  await runJourney({
    connection,
    operator,
    store,
    fileBytes: Math.round(Number(values["size-mib"]) * 1024 * 1024),
    say: (line) => process.stdout.write(`${line}\n`),
    onProgress: new Output({ stdout: process.stdout, stderr: process.stderr }, false).progress(),
  });
  process.stdout.write(`\njourney complete in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await store.stop();
  await connection?.close();
  await rm(scratch, { recursive: true, force: true });
}
