// The chunk tree from publication to download, on the real program (embedded SVM) with IPFS as a map
// in memory: publishing writes the tree into the metadata and returns its root and chunk count; a
// download checks each chunk against the tree as it decrypts and, when the metadata's tree was made
// from other bytes, stops at the first chunk that differs without reading the rest. Then the checks
// of the metadata's tree itself.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import type { Address } from "@solana/kit";

import {
  ChunkTreeError,
  ChunkTreeRootMismatchError,
  ClientError,
  METADATA_FORMAT,
  buyLicense,
  chunkLeavesToCheck,
  cidOfUri,
  deliverPendingKeys,
  downloadDataset,
  encodeChunkTree,
  licenseTerms,
  publishDataset,
  readMetadata,
  type DatasetMetadata,
  type MarketWallet,
} from "../src/client/index.js";
import { SvmConnection } from "../src/client/svm.js";
import { DEFAULT_CHUNK_SIZE, HEADER_LEN, TAG_LEN, chunkLeaf, chunkTreeRoot, toHex } from "../src/crypto/index.js";
import { USDC, provisionMarket } from "../src/localnet/provision.js";
import { DatasetCategory } from "../src/sdk/index.js";
import { canonicalJson } from "../src/storage/index.js";
import { random } from "./helpers.js";
import { MemoryStore, randomWallet } from "./memory-store.js";


const chunksOf = (bytes: Uint8Array): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += DEFAULT_CHUNK_SIZE) out.push(bytes.subarray(at, at + DEFAULT_CHUNK_SIZE));
  return out;
};

function verificationFailure(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ClientError, `expected a ClientError, got ${String(error)}`);
    assert.equal(error.kind, "verification");
    assert.match(error.message, pattern);
    return true;
  };
}

describe("the chunk tree from publication to download", () => {
  const store = new MemoryStore();
  // 6 chunks of 1 MiB, the final one 123 bytes.
  const content = random(5 * DEFAULT_CHUNK_SIZE + 123);
  const leaves = chunksOf(content).map(chunkLeaf);
  let dir: string;
  let connection: SvmConnection;
  let buyer: MarketWallet;
  let dataset: Address;
  let metadataCid: string;
  let metadata: DatasetMetadata;
  let ciphertextCid: string;
  let published: Awaited<ReturnType<typeof publishDataset>>;

  /** Serves `forged` as the dataset's metadata (a lying store or gateway) during `run`. */
  async function withMetadata<T>(forged: DatasetMetadata, run: () => Promise<T>): Promise<T> {
    const real = store.files.get(metadataCid)!;
    store.files.set(metadataCid, canonicalJson(forged));
    try {
      return await run();
    } finally {
      store.files.set(metadataCid, real);
    }
  }

  /** Downloads, expecting a refusal that leaves nothing behind; returns the ciphertext bytes read. */
  async function refusedDownload(name: string, pattern: RegExp, expectedChunkTreeRoot?: Uint8Array): Promise<number> {
    store.bytesRead.delete(ciphertextCid);
    const output = join(dir, name);
    await assert.rejects(downloadDataset(connection, store, buyer, { dataset, output, expectedChunkTreeRoot }), verificationFailure(pattern));
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes(name)), [], "no output file, no partial file");
    return store.bytesRead.get(ciphertextCid) ?? 0;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "data-market-chunk-tree-"));
    const operator = await randomWallet();
    const owner = await randomWallet();
    buyer = await randomWallet();
    connection = await SvmConnection.start({ upgradeAuthority: operator.signer.address });
    const market = await provisionMarket(connection, {
      operator: operator.signer,
      wallets: [
        { address: owner.signer.address, usdc: 0n },
        { address: buyer.signer.address, usdc: 10n * USDC },
      ],
    });
    const file = join(dir, "corpus.bin");
    await writeFile(file, content);
    published = await publishDataset(connection, store, owner, {
      file,
      title: "Chunk tree corpus",
      category: DatasetCategory.Text,
      tags: [],
      price: USDC,
      paymentMint: market.usdc.address,
      terms: licenseTerms(),
      deliveryWindowSecs: 86_400,
      disputeWindowSecs: market.minDisputeWindowSecs,
    });
    dataset = published.dataset;
    metadataCid = cidOfUri(published.metadataUri);
    ciphertextCid = published.ciphertextCid;
    metadata = await readMetadata(store, published.metadataUri);
    await buyLicense(connection, buyer, { dataset, maxPrice: USDC });
    const pass = await deliverPendingKeys(connection, store, owner);
    assert.equal(pass.delivered, 1, JSON.stringify(pass.events));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("publishing returns the root and the chunk count, and writes every leaf into the metadata", () => {
    assert.equal(published.chunkCount, 6);
    assert.deepEqual(published.chunkTreeRoot, chunkTreeRoot(leaves));
    assert.deepEqual(metadata.chunkTree, { root: toHex(chunkTreeRoot(leaves)), leaves: leaves.map((l) => toHex(l)) });
    assert.equal(metadata.chunkSize, DEFAULT_CHUNK_SIZE);
  });

  test("a download checks every chunk against the tree, with the metadata's root or the one the caller has", async () => {
    for (const [name, root] of [["plain.out", undefined], ["rooted.out", published.chunkTreeRoot]] as const) {
      const output = join(dir, name);
      const result = await downloadDataset(connection, store, buyer, { dataset, output, expectedChunkTreeRoot: root });
      assert.equal(result.chunkTreeVerified, true);
      assert.deepEqual(new Uint8Array(await readFile(output)), content);
    }
  });

  test("a tree made from other bytes stops the download at the first chunk that differs, without reading the rest", async () => {
    const other = Uint8Array.from(content);
    other[2 * DEFAULT_CHUNK_SIZE + 77]! ^= 0x01;
    other[4 * DEFAULT_CHUNK_SIZE]! ^= 0x01;
    const forged = { ...metadata, chunkTree: encodeChunkTree(chunksOf(other).map(chunkLeaf)) };
    const read = await withMetadata(forged, () => refusedDownload("forged.out", /^chunk 2 of 6 does not match the dataset's chunk tree$/));
    const record = DEFAULT_CHUNK_SIZE + TAG_LEN;
    // Chunk 2 is read whole and then one piece of look-ahead; chunks 3 to 5 never are.
    assert.ok(read >= HEADER_LEN + 3 * record, `read ${read}`);
    assert.ok(read <= HEADER_LEN + 3 * record + 64 * 1024, `read ${read} bytes of ${store.files.get(ciphertextCid)!.length}`);

    // With the root registered on chain, that metadata is refused before any ciphertext is read.
    const early = await withMetadata(forged, () =>
      refusedDownload("forged-rooted.out", /the metadata's chunk tree has the root [0-9a-f]{64}, but the dataset registers [0-9a-f]{64}/, published.chunkTreeRoot),
    );
    assert.equal(early, 0);
  });

  test("a metadata tree that does not check out, or is missing when a root is expected, is refused before any ciphertext is read", async () => {
    const leavesHex = leaves.map((l) => toHex(l));
    const inconsistent = { ...metadata, chunkTree: { root: toHex(chunkTreeRoot(leaves.slice(1))), leaves: leavesHex } };
    assert.equal(await withMetadata(inconsistent, () => refusedDownload("inconsistent.out", /the leaves do not hash to the root/)), 0);
    const short = { ...metadata, chunkTree: { root: toHex(chunkTreeRoot(leaves.slice(1))), leaves: leavesHex.slice(1) } };
    assert.equal(await withMetadata(short, () => refusedDownload("short.out", /has 5 leaves, but 5243003 bytes in chunks of 1048576 are 6 chunks/)), 0);

    const { chunkTree: _, ...legacy } = metadata;
    assert.equal(
      await withMetadata(legacy, () => refusedDownload("legacy-rooted.out", /registers the chunk tree root [0-9a-f]{64}, but its metadata has no chunk tree/, published.chunkTreeRoot)),
      0,
    );
    // Without a root to expect, a metadata without a tree is downloaded as before: the sha256 checks it.
    const output = join(dir, "legacy.out");
    const result = await withMetadata(legacy, () => downloadDataset(connection, store, buyer, { dataset, output }));
    assert.equal(result.chunkTreeVerified, false);
    assert.deepEqual(new Uint8Array(await readFile(output)), content);
  });
});

describe("the metadata's chunk tree", () => {
  const store = new MemoryStore();
  const leaves = [random(100), random(100), random(36)].map(chunkLeaf);
  const base: DatasetMetadata = {
    format: METADATA_FORMAT,
    name: "License: t",
    symbol: "DLIC",
    title: "t",
    description: "",
    fileName: "t.bin",
    plaintextBytes: 236,
    sha256: "00".repeat(32),
    ciphertextCid: "bafk",
    ciphertextBytes: 0,
    chunkSize: 100,
    ownerSealedKey: "",
  };
  const read = (chunkTree: unknown, more: Partial<DatasetMetadata> = {}) =>
    readMetadata(store, `ipfs://${store.put(canonicalJson({ ...base, ...more, chunkTree }))}`);

  test("a tree of one leaf per chunk that hashes to its root is read", async () => {
    const metadata = await read(encodeChunkTree(leaves));
    assert.deepEqual(chunkLeavesToCheck(metadata), leaves);
    assert.deepEqual(chunkLeavesToCheck(metadata, chunkTreeRoot(leaves)), leaves);
    assert.equal(chunkLeavesToCheck((({ chunkTree: _, ...rest }) => rest)(metadata) as DatasetMetadata), undefined);
    const empty = await read(encodeChunkTree([chunkLeaf(new Uint8Array(0))]), { plaintextBytes: 0 });
    assert.equal(empty.chunkTree?.leaves.length, 1);
  });

  test("values that are not 32 bytes of hex, another number of leaves, or leaves that miss the root are refused by name", async () => {
    const good = encodeChunkTree(leaves);
    const refused = async (chunkTree: unknown, pattern: RegExp, more: Partial<DatasetMetadata> = {}, kind: typeof ChunkTreeError = ChunkTreeError) =>
      assert.rejects(read(chunkTree, more), (error: unknown) => {
        assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`);
        assert.match(error.message, pattern);
        return true;
      });
    await refused("tree", /is not \{ root, leaves \}/);
    await refused({ root: good.root }, /is not \{ root, leaves \}/);
    await refused({ ...good, root: good.root.slice(2) }, /the root is not 64 lowercase hex digits/);
    await refused({ ...good, root: good.root.toUpperCase() }, /the root is not 64 lowercase hex digits/);
    await refused({ ...good, leaves: [good.leaves[0], `${good.leaves[1]}00`, good.leaves[2]] }, /leaf 1 is not 64 lowercase hex digits/);
    await refused({ ...good, leaves: [good.leaves[0], 7, good.leaves[2]] }, /leaf 1 is not/);
    await refused(encodeChunkTree(leaves.slice(0, 2)), /has 2 leaves, but 236 bytes in chunks of 100 are 3 chunks/);
    await refused(good, /invalid size/, { chunkSize: 0 });
    await refused({ ...good, root: toHex(chunkTreeRoot([...leaves].reverse())) }, /the leaves do not hash to the root/, {}, ChunkTreeRootMismatchError);
    await refused({ ...good, leaves: [good.leaves[1], good.leaves[0], good.leaves[2]] }, /do not hash to the root/, {}, ChunkTreeRootMismatchError);
  });

  test("a caller's root that is not the metadata's is a verification failure", async () => {
    const metadata = await read(encodeChunkTree(leaves));
    assert.throws(() => chunkLeavesToCheck(metadata, chunkTreeRoot(leaves.slice(0, 2))), verificationFailure(/but the dataset registers/));
  });
});
