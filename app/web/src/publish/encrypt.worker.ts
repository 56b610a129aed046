// Encrypts and hashes the chosen file off the page's thread, into a file of the origin private file
// system, so a file of any size passes with a few MiB of memory: DMC1 with a fresh content key
// (crypto/web.ts) and, in the same pass, the plaintext's incremental sha256. Only the ciphertext is
// written; the content key goes back to the page in the final message.
import { countBytes } from "../../../src/client/progress.js";
import { encryptStream, generateContentKey, iterateReadable } from "../../../src/crypto/web.js";
import type { EncryptReply, EncryptRequest, SyncAccessHandle } from "./protocol.js";

interface WorkerScope {
  onmessage: ((event: MessageEvent<EncryptRequest>) => void) | null;
  postMessage(message: EncryptReply, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const PROGRESS_EVERY_MS = 100;

scope.onmessage = (event) => {
  void encrypt(event.data).catch((error: unknown) =>
    scope.postMessage({
      kind: "failed",
      name: error instanceof Error ? error.name : "Error",
      message: error instanceof Error ? error.message : String(error),
    }),
  );
};

async function encrypt({ file, opfsName }: EncryptRequest): Promise<void> {
  const started = performance.now();
  const directory = await navigator.storage.getDirectory();
  const fileHandle = (await directory.getFileHandle(opfsName, { create: true })) as unknown as {
    createSyncAccessHandle(): Promise<SyncAccessHandle>;
  };
  const handle = await fileHandle.createSyncAccessHandle();
  const contentKey = generateContentKey();
  try {
    handle.truncate(0);
    let last = 0;
    const plaintext = countBytes(iterateReadable(file.stream()), "encrypt", file.size, ({ done, total }) => {
      const now = performance.now();
      if (now - last >= PROGRESS_EVERY_MS || done === total) {
        last = now;
        scope.postMessage({ kind: "progress", done, total });
      }
    });
    const encryption = encryptStream(plaintext, contentKey);
    let at = 0;
    for await (const piece of encryption) at += handle.write(piece, { at });
    handle.flush();
    const summary = await encryption.summary;
    scope.postMessage(
      {
        kind: "done",
        contentKey,
        sha256: summary.sha256,
        plaintextBytes: summary.plaintextBytes,
        ciphertextBytes: summary.ciphertextBytes,
        chunkLeaves: summary.chunkLeaves,
        elapsedMs: performance.now() - started,
      },
      [contentKey.buffer as ArrayBuffer],
    );
  } catch (error) {
    contentKey.fill(0);
    throw error;
  } finally {
    handle.close();
  }
}
