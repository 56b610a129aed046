// The page's side of a browser download: the licence checks and key opening of the client layer
// (the CLI's own), then the worker (download.worker.ts) streams, decrypts and verifies into OPFS.
import type { Address } from "@solana/kit";

import {
  checkDownloadable,
  checkSealedTo,
  openLicenceKey,
  readMetadata,
  type MarketConnection,
  type MarketWallet,
} from "../../../src/client/universal.js";
import { trustlessCatStore } from "../../../src/storage/trustless-reader.js";
import { DOWNLOADS_DIR, type DownloadEvent, type DownloadFailureKind, type DownloadRequest } from "./protocol.js";

/** The worker's failure, for explainForPeople. */
export class DownloadFailedError extends Error {
  override name = "DownloadFailedError";

  constructor(
    readonly kind: DownloadFailureKind,
    message: string,
    readonly gateway: string,
  ) {
    super(message);
  }
}

/** No IPFS gateway in the settings: nothing to download from. */
export class NoGatewayError extends Error {
  override name = "NoGatewayError";
}

export interface DownloadProgress {
  ciphertextBytes: number;
  plaintextBytes: number;
  /** The ciphertext's size (from its root block), or null before it is known. */
  totalBytes: number | null;
}

export interface VerifiedDownload {
  file: File;
  /** The name the publisher's file had (from the dataset's metadata), else one made from the title. */
  fileName: string;
  sha256: string;
}

/** A name safe to suggest for saving: no path, no control characters. */
export function safeFileName(name: string, fallback: string): string {
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, "_").replace(/^[.\s]+/, "").trim().slice(0, 120);
  return cleaned || fallback;
}

export async function downloadLicence(input: {
  connection: MarketConnection;
  wallet: MarketWallet;
  dataset: Address;
  gateway: string | null;
  onStarted(): void;
  onProgress(progress: DownloadProgress): void;
  signal: AbortSignal;
}): Promise<VerifiedDownload> {
  // The same checks, in the same order, as the CLI's download; the key is compared before anything is fetched.
  const checked = await checkDownloadable(input.connection, input.wallet.signer.address, input.dataset);
  if (!input.gateway) throw new NoGatewayError("no IPFS gateway is configured");
  const gateway = input.gateway;
  const keyPair = await input.wallet.encryptionKeyPair();
  checkSealedTo(checked, keyPair);
  const contentKey = await openLicenceKey(checked, keyPair);

  const title = checked.dataset.data.title || "dataset";
  let fileName = safeFileName(title, "dataset");
  try {
    const metadata = await readMetadata(trustlessCatStore(gateway), checked.metadataUri, { timeoutMs: 30_000 });
    fileName = safeFileName(metadata.fileName, fileName);
  } catch {
    // The name is a nicety; the content's own fetch reports an unreachable gateway.
  }

  const opfsName = `${checked.licenseAddress}.download`;
  const worker = new Worker(new URL("./download.worker.ts", import.meta.url), { type: "module", name: "dataset download" });
  try {
    const done = new Promise<{ sha256: string }>((resolve, reject) => {
      let totalBytes: number | null = null;
      worker.onmessage = (event: MessageEvent<DownloadEvent>) => {
        const message = event.data;
        if (message.type === "size") totalBytes = message.ciphertextBytes;
        else if (message.type === "progress") input.onProgress({ ciphertextBytes: message.ciphertextBytes, plaintextBytes: message.plaintextBytes, totalBytes });
        else if (message.type === "done") resolve({ sha256: message.sha256 });
        else reject(new DownloadFailedError(message.kind, message.message, gateway));
      };
      worker.onerror = (event) => reject(new DownloadFailedError("unknown", event.message || "the download worker failed", gateway));
      input.signal.addEventListener("abort", () => reject(new DOMException("the download was stopped", "AbortError")), { once: true });
    });
    const request: DownloadRequest = { gateway, cid: checked.ciphertextCid, contentKey, expectedSha256: checked.expectedSha256, opfsName };
    worker.postMessage(request);
    input.onStarted();
    const { sha256 } = await done;
    const directory = await (await navigator.storage.getDirectory()).getDirectoryHandle(DOWNLOADS_DIR);
    const file = await (await directory.getFileHandle(opfsName)).getFile();
    return { file, fileName, sha256 };
  } finally {
    // postMessage copied the key into the worker, which zeroes its copy.
    contentKey.fill(0);
    worker.terminate();
  }
}

/** Deletes earlier downloads left in OPFS; files still being written (locked) are skipped. */
export async function cleanOldDownloads(keep: ReadonlySet<string> = new Set()): Promise<void> {
  const root = await navigator.storage.getDirectory();
  let directory: FileSystemDirectoryHandle;
  try {
    directory = await root.getDirectoryHandle(DOWNLOADS_DIR);
  } catch {
    return;
  }
  const names: string[] = [];
  for await (const name of (directory as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
  await Promise.all(names.filter((n) => !keep.has(n)).map((n) => directory.removeEntry(n).catch(() => {})));
}

interface SaveFilePickerWindow {
  showSaveFilePicker(options: { suggestedName: string }): Promise<FileSystemFileHandle>;
}

export function canPickSaveFile(): boolean {
  return typeof (window as unknown as Partial<SaveFilePickerWindow>).showSaveFilePicker === "function";
}

/** Copies the verified OPFS file into a file the person picks (streamed, never whole in memory). */
export async function saveWithPicker(download: VerifiedDownload): Promise<void> {
  const handle = await (window as unknown as SaveFilePickerWindow).showSaveFilePicker({ suggestedName: download.fileName });
  const writable = await handle.createWritable();
  await download.file.stream().pipeTo(writable);
}
