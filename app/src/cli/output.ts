// What the CLI writes: results on stdout (human lines, or one JSON document with --json), progress
// and notices on stderr. Amounts in JSON are strings (they are u64s).
import type { Writable } from "node:stream";

import type { ProgressEvent, SentTransaction } from "../client/index.js";

export interface CliStreams {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

export class Output {
  /** Transactions sent since the last result or event, reported with it in --json mode. */
  private sent: SentTransaction[] = [];

  constructor(
    readonly streams: CliStreams,
    readonly json: boolean,
  ) {}

  /** Records a transaction the command sent: its JSON result gets a `transactions` list. */
  transaction(sent: SentTransaction): void {
    this.sent.push(sent);
  }

  /** The command's result: `human` lines, or `value` as JSON. */
  result(value: unknown, human: string | readonly string[]): void {
    if (this.json) {
      this.streams.stdout.write(`${toJson(this.withTransactions(value))}\n`);
    } else {
      const lines = typeof human === "string" ? [human] : human;
      for (const line of lines) this.streams.stdout.write(`${line}\n`);
    }
  }

  /** A line for people while work goes on (stderr, so JSON on stdout stays clean). */
  note(line: string): void {
    this.streams.stderr.write(`${line}\n`);
  }

  /** A JSON line per event in --json mode (daemons), a human line otherwise. */
  event(value: unknown, human: string): void {
    if (this.json) this.streams.stdout.write(`${toJson(this.withTransactions(value))}\n`);
    else this.streams.stdout.write(`${human}\n`);
  }

  /**
   * An object result gets `transactions`: each one's signature, compute-unit limit, priority fee
   * (micro-lamports per CU), where they came from, and the retries it took. Lists stay as they are.
   */
  private withTransactions(value: unknown): unknown {
    if (this.sent.length === 0 || value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const transactions = this.sent.map((sent) => ({
      signature: sent.signature,
      computeUnitLimit: sent.budget?.computeUnitLimit ?? null,
      priorityFeeMicroLamports: sent.budget?.priorityFeeMicroLamports ?? null,
      limitSource: sent.budget?.limitSource ?? null,
      simulatedUnits: sent.budget?.simulatedUnits ?? null,
      feeSource: sent.budget?.feeSource ?? null,
      computeUnitsConsumed: sent.computeUnits ?? null,
      retries: sent.retries ?? null,
    }));
    this.sent = [];
    return { ...value, transactions };
  }

  /** A progress listener drawing one bar per phase on stderr. */
  progress(): (event: ProgressEvent) => void {
    return progressBar(this.streams.stderr);
  }
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
    return v;
  });
}

const LABELS = { encrypt: "encrypting", upload: "adding to IPFS", download: "downloading" } as const;
const WIDTH = 30;

/**
 * On a terminal, a bar redrawn in place (at most every 100 ms); elsewhere (logs, CI) one line when
 * a phase starts and one when it ends.
 */
function progressBar(stream: CliStreams["stderr"]): (event: ProgressEvent) => void {
  let phase: string | null = null;
  let lastDraw = 0;
  let finished = false;
  return (event) => {
    const label = LABELS[event.phase];
    if (event.phase !== phase) {
      phase = event.phase;
      finished = false;
      lastDraw = 0;
      if (!stream.isTTY) stream.write(`${label} ${formatBytes(event.total)}...\n`);
    }
    const complete = event.total > 0 ? event.done >= event.total : false;
    if (!stream.isTTY) {
      if (complete && !finished) {
        finished = true;
        stream.write(`${label}: done (${formatBytes(event.done)})\n`);
      }
      return;
    }
    const now = Date.now();
    if (!complete && now - lastDraw < 100) return;
    lastDraw = now;
    const fraction = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
    const filled = Math.round(fraction * WIDTH);
    const bar = `${"#".repeat(filled)}${".".repeat(WIDTH - filled)}`;
    const size = event.total > 0 ? `${formatBytes(event.done)} / ${formatBytes(event.total)}` : formatBytes(event.done);
    stream.write(`\r${label.padEnd(15)} [${bar}] ${String(Math.round(fraction * 100)).padStart(3)}% ${size}   `);
    if (complete && !finished) {
      finished = true;
      stream.write("\n");
    }
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
