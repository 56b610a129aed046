// Downloads one licensed dataset off the main thread: ciphertext from a trustless gateway (every
// block checked against its CID), DMC1 decryption and the plaintext's sha256, written piece by
// piece into an OPFS file through a synchronous access handle. Memory stays at a few MiB whatever
// the size. The file is kept only when the sha256 equals the chain's content hash; on any failure
// it is deleted.
import { decryptStream, isCryptoError, toHex } from "../../../src/crypto/web.js";
import {
  BlockHashMismatchError,
  BlockNotFoundError,
  GatewayUnreachableError,
  readVerifiedFile,
} from "../../../src/storage/trustless-reader.js";
import { DOWNLOADS_DIR, type DownloadEvent, type DownloadFailureKind, type DownloadRequest } from "./protocol.js";

/** OPFS's synchronous access handle (dedicated workers only; not in TypeScript's DOM library). */
interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

const PROGRESS_EVERY_MS = 100;

function post(event: DownloadEvent): void {
  self.postMessage(event);
}

function classify(error: unknown): { kind: DownloadFailureKind; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof BlockHashMismatchError || isCryptoError(error)) return { kind: "tampered", message };
  if (error instanceof GatewayUnreachableError) return { kind: "gateway-unreachable", message };
  if (error instanceof BlockNotFoundError) return { kind: "content-missing", message };
  if (error instanceof DOMException && /Quota|NoModificationAllowed|InvalidState|NotFound/.test(error.name)) return { kind: "storage", message };
  return { kind: "unknown", message };
}

async function download(request: DownloadRequest): Promise<void> {
  const directory = await (await navigator.storage.getDirectory()).getDirectoryHandle(DOWNLOADS_DIR, { create: true });
  const handle = await directory.getFileHandle(request.opfsName, { create: true });
  const file = await (handle as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }).createSyncAccessHandle();
  let kept = false;
  try {
    file.truncate(0);
    let fetched = 0;
    let written = 0;
    let lastPost = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const block of readVerifiedFile(request.gateway, request.cid, { onSize: (ciphertextBytes) => post({ type: "size", ciphertextBytes }) })) {
        fetched += block.length;
        yield block;
      }
    }
    const plaintext = decryptStream(counted(), request.contentKey, { expectedSha256: request.expectedSha256 });
    for await (const piece of plaintext) {
      written += file.write(piece, { at: written });
      const now = performance.now();
      if (now - lastPost >= PROGRESS_EVERY_MS) {
        lastPost = now;
        post({ type: "progress", ciphertextBytes: fetched, plaintextBytes: written });
      }
    }
    // Reached only when the last chunk authenticated and the sha256 matched.
    const summary = await plaintext.summary;
    file.flush();
    post({ type: "progress", ciphertextBytes: fetched, plaintextBytes: written });
    kept = true;
    file.close();
    post({ type: "done", plaintextBytes: summary.plaintextBytes, sha256: toHex(summary.sha256) });
  } finally {
    request.contentKey.fill(0);
    if (!kept) {
      file.close();
      await directory.removeEntry(request.opfsName).catch(() => {});
    }
  }
}

self.onmessage = (event: MessageEvent<DownloadRequest>) => {
  download(event.data).catch((error: unknown) => post({ type: "failed", ...classify(error) }));
};
