// Messages between the Publish page and its encryption worker (encrypt.worker.ts).

/** Page → worker: encrypt `file` into the OPFS file `opfsName` (created or truncated). */
export interface EncryptRequest {
  file: File;
  opfsName: string;
}

export type EncryptReply =
  | { kind: "progress"; done: number; total: number }
  | {
      kind: "done";
      /** The fresh content key: handed to the page, never written anywhere. */
      contentKey: Uint8Array;
      sha256: Uint8Array;
      plaintextBytes: number;
      ciphertextBytes: number;
      /** One leaf per plaintext chunk: the metadata's chunk tree, which previews and downloads check against. */
      chunkLeaves: Uint8Array[];
      elapsedMs: number;
    }
  | { kind: "failed"; name: string; message: string };

/** OPFS's synchronous access handle (workers only; not in TypeScript's DOM library). */
export interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
