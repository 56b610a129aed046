// Verifiable random previews over JSON-RPC on a local validator, every step the CLI a user types:
// the owner publishes with previews, its delivery daemon answers, the buyer's `dataset preview`
// checks every chunk against the registered root and the chain's draw; an owner that serves a wrong
// chunk is caught, the period's quota refuses a buyer who keeps asking for other chunks, a preview
// nobody answers ends expired on chain, and a download checks its chunks against the same root.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { address } from "@solana/kit";

import { chunkLeaf, chunkTreeRoot } from "../../src/crypto/index.js";
import {
  buildPreviewBundle,
  encodePreviewBundle,
  parsePreviewBundle,
  keypairWallet,
  requestPreview,
  type LoadedWallet,
} from "../../src/client/index.js";
import { EXIT } from "../../src/cli/failure.js";
import { USDC } from "../../src/localnet/provision.js";
import { startLocalStack, type LocalStack } from "../../src/localnet/stack.js";
import {
  PreviewState,
  answerPreviewInstruction,
  fetchPreviewPolicy,
  fetchPreviewRequest,
  findSlotHash,
  drawPreviewChunks,
  SLOT_HASHES_SYSVAR_ADDRESS,
} from "../../src/sdk/index.js";
import { HeliaContentStore, type ContentStore } from "../../src/storage/index.js";
import { cliPeople, waitFor, type CliRun } from "./helpers.js";

const MIB = 1024 * 1024;

/** Text-like content (so a preview shows something readable), `mib` MiB and a bit, distinct per seed. */
function corpus(mib: number, seed: string): Buffer {
  const line = (i: number) => `${seed} record ${i}: the quick brown fox jumps over the lazy dog\n`;
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < mib * MIB + 1000; i += 1) {
    const text = line(i);
    parts.push(text);
    size += text.length;
  }
  return Buffer.from(parts.join(""));
}

describe("verifiable random previews on a local validator", () => {
  let dir: string;
  let stack: LocalStack;
  let store: ContentStore;
  const { wallet, as } = cliPeople(() => ({ dir, stack, store }));
  const ok = async (who: LoadedWallet, argv: string[]): Promise<CliRun> => {
    const run = await as(who, argv);
    assert.equal(run.code, 0, `${argv.join(" ")}: ${run.stderr}`);
    return run;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "data-market-previews-"));
    await mkdir(join(dir, "people"));
    stack = await startLocalStack({ dir, rpcPort: 44_899, faucetPort: 45_900 });
    store = await HeliaContentStore.open({ directory: join(dir, "ipfs") });
  });

  after(async () => {
    await store?.stop();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("asked on chain, drawn by the chain, answered by the daemon, checked by the buyer", async () => {
    const mint = stack.market.usdc.address;
    const owner = await wallet("owner", 0n);
    const silent = await wallet("silent-owner", 0n);
    const buyer = await wallet("buyer", 20n * USDC);
    const publish = async (who: LoadedWallet, title: string, content: Buffer, extra: string[]) => {
      const file = join(dir, `${title}.txt`);
      await writeFile(file, content);
      const run = await ok(who, ["--json", "dataset", "publish", file, "--title", title, "--price", "5", "--mint", mint, ...extra]);
      return address((JSON.parse(run.stdout) as { dataset: string }).dataset);
    };

    // 16 MiB and a bit: 17 chunks of 1 MiB, so a preview may reveal 2 (one chunk in eight at most).
    const content = corpus(16, "alpha");
    const tooMany = await as(owner, ["dataset", "publish", join(dir, "missing.txt"), "--title", "x", "--price", "1", "--mint", mint, "--preview", "3"]);
    assert.equal(tooMany.code, EXIT.usage, tooMany.stderr);
    await writeFile(join(dir, "alpha-probe.txt"), content);
    const refusedSize = await as(owner, ["dataset", "publish", join(dir, "alpha-probe.txt"), "--title", "x", "--price", "1", "--mint", mint, "--preview", "3"]);
    assert.equal(refusedSize.code, EXIT.usage, refusedSize.stderr);
    assert.match(refusedSize.stderr, /1 to 2 of its 17 chunks/);

    const dataset = await publish(owner, "alpha", content, ["--preview", "2", "--previews-per-period", "3", "--preview-period", "1h"]);
    const policy = await fetchPreviewPolicy(stack.connection, dataset);
    assert.ok(policy);
    assert.equal(policy.data.chunkCount, 17);
    assert.equal(policy.data.chunkSize, MIB);
    const leaves = Array.from({ length: 17 }, (_, i) => chunkLeaf(content.subarray(i * MIB, (i + 1) * MIB)));
    assert.deepEqual(new Uint8Array(policy.data.chunkTreeRoot), chunkTreeRoot(leaves), "the registered root is the plaintext's");

    // A second owner that never runs a daemon: the buyer's request to it ends expired on chain. It
    // is asked now so its answer window runs out while the rest goes on.
    const ignored = await publish(silent, "ignored", corpus(16, "beta"), ["--preview", "1"]);
    const unanswered = await requestPreview(stack.connection, keypairWallet(buyer), { dataset: ignored });

    // The owner's daemon runs while the buyer asks.
    const daemon = new AbortController();
    const watching = as(owner, ["deliver", "--watch", "--interval", "1s"], daemon.signal);
    try {
      const started = Date.now();
      const outDir = join(dir, "preview");
      const run = await ok(buyer, ["--json", "dataset", "preview", dataset, "-o", outDir]);
      const elapsed = Date.now() - started;
      const result = JSON.parse(run.stdout) as { request: string; chunks: { index: number; bytes: number; file: string }[] };
      const request = await fetchPreviewRequest(stack.connection, address(result.request));
      assert.equal(request.data.state, PreviewState.Answered);
      const drawn = [...request.data.chunks.slice(0, 2)];
      assert.deepEqual(result.chunks.map((c) => c.index), drawn, "the chunks shown are the chain's draw");
      for (const chunk of result.chunks) {
        assert.deepEqual(await readFile(chunk.file), content.subarray(chunk.index * MIB, (chunk.index + 1) * MIB));
      }
      console.log(`preview of 2 of 17 chunks: asked, answered and verified in ${elapsed} ms over JSON-RPC`);

      // Asking again and again for other chunks: the period's quota (3) refuses the fourth ask.
      await ok(buyer, ["--json", "dataset", "preview", dataset]);
      await ok(buyer, ["--json", "dataset", "preview", dataset]);
      const farmed = await as(buyer, ["dataset", "preview", dataset]);
      assert.equal(farmed.code, EXIT.refused, farmed.stderr);
      assert.match(farmed.stderr, /limit/i);
    } finally {
      daemon.abort();
      await watching;
    }

    // An owner that serves a wrong chunk: the proofs are right, one byte of a chunk is not. The
    // chain accepts the answer (it cannot see the bytes); the buyer's check names the chunk.
    const forgedContent = corpus(16, "gamma");
    const forged = await publish(silent, "forged", forgedContent, ["--preview", "2"]);
    const asked = await requestPreview(stack.connection, keypairWallet(buyer), { dataset: forged });
    const pending = await fetchPreviewRequest(stack.connection, asked.request);
    let slotHash: Uint8Array | null = null;
    await waitFor(async () => {
      const [sysvar] = await stack.connection.getAccounts([SLOT_HASHES_SYSVAR_ADDRESS]);
      slotHash = sysvar?.exists ? findSlotHash(sysvar.data, pending.data.requestedSlot) : null;
      return slotHash !== null;
    }, 30_000);
    const indices = drawPreviewChunks(slotHash!, asked.request, 17, 2);
    const forgedLeaves = Array.from({ length: 17 }, (_, i) => chunkLeaf(forgedContent.subarray(i * MIB, (i + 1) * MIB)));
    const honest = parsePreviewBundle(
      buildPreviewBundle({
        dataset: forged,
        request: asked.request,
        chunkSize: MIB,
        leaves: forgedLeaves,
        chunks: indices.map((index) => ({ index, bytes: forgedContent.subarray(index * MIB, (index + 1) * MIB) })),
      }),
    );
    const wrong = honest.chunks[1]!.bytes.slice();
    wrong[100] = wrong[100]! ^ 0x01;
    const cid = await store.addFile([encodePreviewBundle({ ...honest, chunks: [honest.chunks[0]!, { ...honest.chunks[1]!, bytes: wrong }] })]);
    await stack.connection.send(silent.signer, [
      await answerPreviewInstruction({ deliverer: silent.signer, dataset: forged, request: asked.request, answerCid: cid }),
    ]);
    const caught = await as(buyer, ["dataset", "preview", forged, "--request", asked.request]);
    assert.equal(caught.code, EXIT.verification, caught.stderr);
    assert.match(caught.stderr, new RegExp(`chunk ${indices[1]}`));

    // The silent owner's window has passed by now (or soon): the buyer's client records the expiry.
    const late = await as(buyer, ["dataset", "preview", ignored, "--request", unanswered.request]);
    assert.equal(late.code, EXIT.refused, late.stderr);
    assert.match(late.stderr, /did not answer .* in time/);
    const expired = await fetchPreviewRequest(stack.connection, unanswered.request);
    assert.equal(expired.data.state, PreviewState.Expired);
    const ignoredPolicy = await fetchPreviewPolicy(stack.connection, ignored);
    assert.equal(ignoredPolicy?.data.expired, 1n);
  });
});
