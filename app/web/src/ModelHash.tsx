// A model's sha256: pasted as hex, or computed here from a chosen file, read piece by piece
// (File.stream()), so memory stays small whatever the model's size. The file never leaves the page.
import { useId, useState } from "react";

import { modelHashFromHex } from "../../src/client/universal.js";
import { iterateReadable, sha256Stream, toHex } from "../../src/crypto/web.js";

/** Progress is redrawn at most once per this many bytes. */
const PROGRESS_STEP = 4 * 1024 * 1024;

export function ModelHashInput({ onChange, disabled }: { onChange(hash: Uint8Array | null): void; disabled?: boolean }) {
  const id = useId();
  const [hex, setHex] = useState("");
  const [hashing, setHashing] = useState<{ name: string; done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const hash = modelHashFromHex(hex);
  const update = (value: string) => {
    setHex(value);
    onChange(modelHashFromHex(value));
  };

  async function hashFile(file: File) {
    setError(null);
    update("");
    setHashing({ name: file.name, done: 0, total: file.size });
    let shown = 0;
    try {
      const digest = await sha256Stream(iterateReadable(file.stream()), (done) => {
        if (done - shown >= PROGRESS_STEP || done === file.size) {
          shown = done;
          setHashing({ name: file.name, done, total: file.size });
        }
      });
      update(toHex(digest));
    } catch (e) {
      setError(`The file could not be read: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setHashing(null);
    }
  }

  return (
    <fieldset className="model-hash">
      <legend>Model</legend>
      <label htmlFor={`${id}-file`}>Model file (its sha256 is computed in this page; the file is not uploaded)</label>
      <input
        id={`${id}-file`}
        type="file"
        disabled={disabled || hashing !== null}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void hashFile(file);
        }}
      />
      {hashing ? (
        <p>
          <label htmlFor={`${id}-progress`}>Hashing {hashing.name}</label>
          <progress id={`${id}-progress`} max={hashing.total || 1} value={hashing.done} />{" "}
          {hashing.total ? `${Math.floor((hashing.done / hashing.total) * 100)} %` : ""}
        </p>
      ) : null}
      <label htmlFor={`${id}-hex`}>Model sha256 (64 hex characters)</label>
      <input
        id={`${id}-hex`}
        className="hex"
        value={hex}
        disabled={disabled || hashing !== null}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={hex !== "" && hash === null}
        aria-describedby={`${id}-hint`}
        onChange={(e) => update(e.target.value.trim())}
      />
      <span id={`${id}-hint`} className={hex !== "" && hash === null ? "error" : "muted"}>
        {hex !== "" && hash === null ? " Not a sha256: it takes 64 hex characters." : " Choose the file above, or paste its hash."}
      </span>
      {error ? <p role="alert" className="error">{error}</p> : null}
    </fieldset>
  );
}
