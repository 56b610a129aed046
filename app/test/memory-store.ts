// IPFS as a map in memory, and throwaway wallets: for tests that exercise the client without a node.
import { createHash } from "node:crypto";

import { ed25519 } from "@noble/curves/ed25519.js";
import { createKeyPairSignerFromBytes } from "@solana/kit";

import { keypairWallet, type MarketWallet } from "../src/client/index.js";
import { ContentNotFoundError, canonicalJson, type ContentStore } from "../src/storage/index.js";
import { random } from "./helpers.js";

/**
 * Content-addressed by sha256 (enough for tests); hands files out in pieces of `pieceSize` bytes, like
 * a network stream, and counts the bytes each `cat` hands out.
 */
export class MemoryStore implements ContentStore {
  readonly files = new Map<string, Uint8Array>();
  readonly bytesRead = new Map<string, number>();

  constructor(private readonly pieceSize = 64 * 1024) {}

  async addFile(input: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | string): Promise<string> {
    if (typeof input === "string") throw new Error("paths are not supported here");
    const parts: Uint8Array[] = [];
    for await (const piece of input as AsyncIterable<Uint8Array>) parts.push(piece);
    return this.put(new Uint8Array(Buffer.concat(parts)));
  }
  async addJson(value: unknown): Promise<string> {
    return this.put(canonicalJson(value));
  }
  put(bytes: Uint8Array): string {
    const cid = `bafk${createHash("sha256").update(bytes).digest("hex").slice(0, 52)}`;
    this.files.set(cid, bytes);
    return cid;
  }
  async *cat(cid: string): AsyncIterable<Uint8Array> {
    const bytes = this.files.get(cid);
    if (!bytes) throw new ContentNotFoundError(cid, "not in this test store");
    for (let i = 0; i < bytes.length; i += this.pieceSize) {
      const piece = bytes.slice(i, i + this.pieceSize);
      this.bytesRead.set(cid, (this.bytesRead.get(cid) ?? 0) + piece.length);
      yield piece;
    }
  }
  async has(cid: string) {
    return this.files.has(cid);
  }
  async stop() {}
}

/** A wallet with a fresh random key. */
export async function randomWallet(): Promise<MarketWallet> {
  const seed = random(32);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed);
  secretKey.set(ed25519.getPublicKey(seed), 32);
  return keypairWallet({ signer: await createKeyPairSignerFromBytes(secretKey), secretKey });
}
