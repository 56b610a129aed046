// Messages between the licences page and the download worker (download.worker.ts).

/** The OPFS directory downloads are written into (one file per licence). */
export const DOWNLOADS_DIR = "data-market-downloads";

export interface DownloadRequest {
  gateway: string;
  cid: string;
  /** The opened content key: it lives only in the two threads' memory, never in storage. */
  contentKey: Uint8Array;
  expectedSha256: Uint8Array;
  /** The file's name inside DOWNLOADS_DIR. */
  opfsName: string;
}

/** Why a download failed, as the page explains it (errors.ts). */
export type DownloadFailureKind = "tampered" | "gateway-unreachable" | "content-missing" | "storage" | "unknown";

export type DownloadEvent =
  | { type: "size"; ciphertextBytes: number }
  | { type: "progress"; ciphertextBytes: number; plaintextBytes: number }
  | { type: "done"; plaintextBytes: number; sha256: string }
  | { type: "failed"; kind: DownloadFailureKind; message: string };
