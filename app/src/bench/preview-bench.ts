/**
 * Verifiable random preview benchmark on a local solana-test-validator: an owner publishes a 1 GiB
 * dataset (1,024 chunks of 1 MiB) with previews of 8 chunks; then BENCH_ROUNDS times (5 by default)
 * a buyer asks for a preview, the owner's daemon pass answers it and the buyer fetches and verifies
 * the bundle against the on-chain root and draw. Reported (wall ms p50 / max):
 *
 *   serve      the daemon's work for one request: the 8 chunks read from the IPFS ciphertext by
 *              range, decrypted, proved and the bundle added to IPFS;
 *   verify     the buyer's: the request and policy read from the chain, the bundle fetched from
 *              IPFS and every chunk checked;
 *   answer tx  the daemon's whole pass including the answer transaction's confirmation.
 *
 * Prints a table and writes target/bench/preview.json. Needs solana-test-validator on PATH and
 * target/deploy/data_market.so. BENCH_PREVIEW_MIB sets the dataset's size (default 1024).
 */
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import {
  answerPendingPreviews,
  fetchVerifiedPreview,
  keypairWallet,
  publishDataset,
  requestPreview,
  licenseTerms,
  type PreviewEvent,
} from "../client/index.js";
import { startLocalStack } from "../localnet/stack.js";
import { DatasetCategory, fetchDataset, fetchPreviewRequest, findSlotHash, SLOT_HASHES_SYSVAR_ADDRESS } from "../sdk/index.js";
import { HeliaContentStore } from "../storage/index.js";
import { percentile } from "./stats.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const OUTPUT = join(REPO_ROOT, "target", "bench", "preview.json");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MIB = Number(process.env.BENCH_PREVIEW_MIB ?? 1024);
const CHUNKS_PER_PREVIEW = 8;
const RPC_PORT = 46_899;

async function writeCorpus(path: string, mib: number): Promise<void> {
  const out = createWriteStream(path);
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mib; i += 1) {
    // distinct blocks, so no two chunks share a leaf
    block.fill(`block ${i} of a training corpus; `);
    if (!out.write(block)) await new Promise<void>((ok) => out.once("drain", () => ok()));
  }
  await new Promise<void>((ok, fail) => out.end((error?: Error | null) => (error ? fail(error) : ok())));
}

const dir = await mkdtemp(join(tmpdir(), "data-market-preview-bench-"));
const stack = await startLocalStack({ dir, rpcPort: RPC_PORT, faucetPort: RPC_PORT + 71 });
const store = await HeliaContentStore.open({ directory: join(dir, "ipfs") });
try {
  const owner = keypairWallet(stack.wallets.owner.wallet);
  const buyer = keypairWallet(stack.wallets.buyer.wallet);
  const file = join(dir, "corpus.bin");
  await writeCorpus(file, MIB);
  const publishStarted = performance.now();
  const published = await publishDataset(stack.connection, store, owner, {
    file,
    title: "Preview benchmark corpus",
    description: "",
    category: DatasetCategory.Text,
    tags: [],
    price: 1_000_000n,
    paymentMint: stack.market.usdc.address,
    terms: licenseTerms({}),
    referralFeeBps: 0,
    deliveryWindowSecs: 3600,
    disputeWindowSecs: 3600,
    allowListEnabled: false,
    preview: { chunksPerPreview: CHUNKS_PER_PREVIEW, maxPerPeriod: ROUNDS + 1, periodSecs: 3600 },
  });
  const publishMs = performance.now() - publishStarted;
  const dataset = await fetchDataset(stack.connection, published.dataset);

  const serve: number[] = [];
  const verify: number[] = [];
  const pass: number[] = [];
  let bundleBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const asked = await requestPreview(stack.connection, buyer, { dataset: published.dataset });
    const request = await fetchPreviewRequest(stack.connection, asked.request);
    // the draw needs the request slot's hash: wait until the chain has it
    for (;;) {
      const [sysvar] = await stack.connection.getAccounts([SLOT_HASHES_SYSVAR_ADDRESS]);
      if (sysvar?.exists && findSlotHash(sysvar.data, request.data.requestedSlot)) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    let answered: Extract<PreviewEvent, { kind: "answered" }> | undefined;
    const passStarted = performance.now();
    const result = await answerPendingPreviews(stack.connection, store, owner, {
      datasets: [dataset],
      onEvent: (event) => {
        if (event.kind === "answered") answered = event;
      },
    });
    pass.push(performance.now() - passStarted);
    if (!answered || result.answered !== 1) throw new Error(`the daemon did not answer: ${JSON.stringify(result.events)}`);
    serve.push(answered.prepareMs);
    const verifyStarted = performance.now();
    const preview = await fetchVerifiedPreview(stack.connection, store, await fetchPreviewRequest(stack.connection, asked.request));
    verify.push(performance.now() - verifyStarted);
    bundleBytes = preview.chunks.reduce((n, c) => n + c.bytes.length, 0);
  }

  const ms = (values: number[]) => ({ p50: Math.round(percentile(values, 0.5)), max: Math.round(Math.max(...values)) });
  const both = serve.map((s, i) => s + verify[i]!);
  const report = {
    datasetBytes: published.plaintextBytes,
    chunkCount: published.chunkCount,
    chunksPerPreview: CHUNKS_PER_PREVIEW,
    rounds: ROUNDS,
    publishMs: Math.round(publishMs),
    revealedBytes: bundleBytes,
    serveMs: ms(serve),
    verifyMs: ms(verify),
    serveAndVerifyMs: ms(both),
    answerPassMs: ms(pass),
  };
  await mkdir(dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, JSON.stringify(report, null, 2) + "\n");
  const row = (label: string, value: string) => console.log(`${label.padEnd(52)}${value.padStart(16)}`);
  console.log(`\npreview of ${CHUNKS_PER_PREVIEW} of ${published.chunkCount} chunks (${MIB} MiB) on a local validator, ${ROUNDS} rounds (wall ms p50 / max)`);
  row("serve (read by range, decrypt, prove, add to IPFS)", `${report.serveMs.p50} / ${report.serveMs.max}`);
  row("verify (read chain, fetch bundle, check chunks)", `${report.verifyMs.p50} / ${report.verifyMs.max}`);
  row("serve + verify", `${report.serveAndVerifyMs.p50} / ${report.serveAndVerifyMs.max}`);
  row("daemon pass with the answer transaction", `${report.answerPassMs.p50} / ${report.answerPassMs.max}`);
  row("revealed bytes per preview", String(bundleBytes));
  row("publish (encrypt, IPFS, register, enable previews)", String(report.publishMs));
  console.log(`\nwritten to ${OUTPUT}`);
} finally {
  await store.stop();
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}
