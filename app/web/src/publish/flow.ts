// Publishing from the browser: the CLI's steps (client/publish-core.ts) around the browser's own
// file handling. The wallet signs the key message first (before any heavy work), a worker encrypts
// and hashes into OPFS, the ciphertext and metadata go to the Kubo RPC endpoint, then the wallet
// signs the registration. The OPFS copy is removed and the content key wiped whatever happens.
import type { Address } from "@solana/kit";

import {
  checkPublishInput,
  claimableDatasetAddress,
  datasetMetadata,
  metadataUri,
  registerDataset,
  type DatasetListing,
  type MarketConnection,
  type MarketWallet,
  type WindowPolicy,
} from "../../../src/client/universal.js";
import { toHex } from "../../../src/crypto/web.js";
import { kuboAdd, kuboAddJson, kuboCheck } from "../../../src/storage/kubo-http.js";
import { isWalletRejection } from "../errors.js";
import type { EncryptReply, EncryptRequest } from "./protocol.js";

export type PublishStep =
  | { phase: "key" }
  | { phase: "encrypt"; done: number; total: number }
  | { phase: "upload"; done: number; total: number }
  | { phase: "metadata" }
  | { phase: "register" };

export interface BrowserPublishResult {
  dataset: Address;
  signature: string;
  contentHash: string;
  ciphertextCid: string;
  metadataUri: string;
  plaintextBytes: number;
  ciphertextBytes: number;
  /** Measured here: encryption and hashing in the worker, and the upload (1 MB = 10^6 bytes). */
  encryptMBps: number;
  uploadMBps: number;
}

/** The wallet could not sign the key-derivation message (not a refusal by the person). */
export class CannotSignMessagesError extends Error {
  override name = "CannotSignMessagesError";
}

interface EncryptedFile {
  contentKey: Uint8Array;
  sha256: Uint8Array;
  plaintextBytes: number;
  ciphertextBytes: number;
  chunkLeaves: Uint8Array[];
  elapsedMs: number;
}

function encryptInWorker(file: File, opfsName: string, onProgress: (done: number, total: number) => void): Promise<EncryptedFile> {
  const worker = new Worker(new URL("./encrypt.worker.ts", import.meta.url), { type: "module" });
  return new Promise<EncryptedFile>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<EncryptReply>) => {
      const reply = event.data;
      if (reply.kind === "progress") onProgress(reply.done, reply.total);
      else if (reply.kind === "done") resolve(reply);
      else reject(Object.assign(new Error(reply.message), { name: reply.name }));
    };
    worker.onerror = (event) => reject(new Error(`the encryption worker failed: ${event.message}`));
    worker.postMessage({ file, opfsName } satisfies EncryptRequest);
  }).finally(() => worker.terminate());
}

export async function publishFromBrowser(options: {
  connection: MarketConnection;
  owner: MarketWallet;
  policy: WindowPolicy;
  ipfsApi: string | null;
  file: File;
  listing: DatasetListing;
  onStep(step: PublishStep): void;
}): Promise<BrowserPublishResult> {
  const { connection, owner, listing, file, ipfsApi, onStep } = options;
  checkPublishInput(listing, owner.signer.address, options.policy);
  await kuboCheck(ipfsApi); // not configured, unreachable or refusing: said before anything is asked of the wallet

  onStep({ phase: "key" });
  let ownerKey: Uint8Array;
  try {
    ownerKey = (await owner.encryptionKeyPair()).publicKey;
  } catch (error) {
    if (isWalletRejection(error)) throw error;
    throw new CannotSignMessagesError("this wallet cannot sign messages", { cause: error });
  }

  const opfsName = `publish-${toHex(crypto.getRandomValues(new Uint8Array(8)))}.dmc1`;
  const directory = await navigator.storage.getDirectory();
  let contentKey: Uint8Array | null = null;
  try {
    onStep({ phase: "encrypt", done: 0, total: file.size });
    const encrypted = await encryptInWorker(file, opfsName, (done, total) => onStep({ phase: "encrypt", done, total }));
    contentKey = encrypted.contentKey;
    const dataset = await claimableDatasetAddress(connection, encrypted.sha256, owner.signer.address);

    const ciphertext = await (await directory.getFileHandle(opfsName)).getFile();
    onStep({ phase: "upload", done: 0, total: ciphertext.size });
    const uploadStarted = performance.now();
    const { cid: ciphertextCid } = await kuboAdd(ipfsApi, ciphertext, {
      fileName: `${file.name}.dmc1`,
      onProgress: (done, total) => onStep({ phase: "upload", done, total }),
    });
    const uploadMs = performance.now() - uploadStarted;

    onStep({ phase: "metadata" });
    const metadata = await datasetMetadata(
      listing,
      { ...encrypted, ciphertextCid, fileName: file.name },
      contentKey,
      ownerKey,
      dataset,
    );
    const uri = metadataUri(await kuboAddJson(ipfsApi, metadata));

    onStep({ phase: "register" });
    const registration = await registerDataset(connection, owner, listing, { dataset, sha256: encrypted.sha256, ciphertextCid, metadataUri: uri });
    return {
      dataset,
      signature: registration.signature,
      contentHash: metadata.sha256,
      ciphertextCid,
      metadataUri: uri,
      plaintextBytes: encrypted.plaintextBytes,
      ciphertextBytes: encrypted.ciphertextBytes,
      encryptMBps: encrypted.plaintextBytes / 1e6 / (encrypted.elapsedMs / 1000),
      uploadMBps: encrypted.ciphertextBytes / 1e6 / (uploadMs / 1000),
    };
  } finally {
    contentKey?.fill(0);
    await directory.removeEntry(opfsName).catch(() => {});
  }
}
