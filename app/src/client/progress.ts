// Progress of long work (encrypting, uploading, downloading), reported in bytes; the CLI draws bars
// from these events, the web dapp its own widgets.
export type ProgressPhase = "encrypt" | "upload" | "download";

export interface ProgressEvent {
  phase: ProgressPhase;
  done: number;
  total: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** Passes `source` through, reporting the bytes seen so far; stops with an AbortError on `signal`. */
export async function* countBytes(
  source: AsyncIterable<Uint8Array>,
  phase: ProgressPhase,
  total: number,
  onProgress: ProgressListener | undefined,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let done = 0;
  onProgress?.({ phase, done, total });
  for await (const piece of source) {
    signal?.throwIfAborted();
    done += piece.length;
    onProgress?.({ phase, done, total });
    yield piece;
  }
}
