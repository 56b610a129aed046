// A licence's Download: checks, key opening and the verified download in a worker (download/run.ts),
// with its progress; once the sha256 matches the chain, the verified file can be saved.
import { useEffect, useRef, useState } from "react";
import type { Account } from "@solana/kit";

import { LicenseState, isKeyDelivered, type Dataset, type License } from "../../../src/sdk/index.js";
import { canPickSaveFile, cleanOldDownloads, downloadLicence, saveWithPicker, type DownloadProgress, type VerifiedDownload } from "../download/run.js";
import { explainForPeople, isWalletRejection } from "../errors.js";
import { useMarket } from "../market.js";
import { useMarketWallet } from "../wallet.js";

type Step =
  | { kind: "idle" }
  | { kind: "checking" }
  | { kind: "downloading"; progress: DownloadProgress; startedAt: number; now: number }
  | { kind: "ready"; download: VerifiedDownload; url: string; saved: boolean }
  | { kind: "failed"; message: string };

/** OPFS files this page still needs (being written, or verified and not yet saved). */
const inUse = new Set<string>();
let cleaned = false;

const CANNOT_SIGN_MESSAGES =
  "Downloading needs your wallet to sign one message: the key your licence was sealed to is derived from that signature. This wallet cannot sign messages; connect the wallet you bought with.";

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

export function LicenceDownload({ license, dataset }: { license: Account<License>; dataset: Account<Dataset> | null }) {
  const { connection, config } = useMarket();
  const { marketWallet, canSignMessage } = useMarketWallet();
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const abort = useRef<AbortController | null>(null);
  const l = license.data;
  const title = dataset?.data.title || "this dataset";
  const opfsName = `${license.address}.download`;

  useEffect(() => {
    if (!cleaned) {
      cleaned = true;
      cleanOldDownloads(inUse).catch(() => {});
    }
    return () => {
      abort.current?.abort();
      inUse.delete(opfsName);
    };
  }, [opfsName]);

  const url = step.kind === "ready" ? step.url : null;
  useEffect(() => (url ? () => URL.revokeObjectURL(url) : undefined), [url]);

  if (l.state === LicenseState.Refunded) return null;
  if (!isKeyDelivered(l)) {
    return <p className="muted download-note">Download: possible once the owner delivers the key.</p>;
  }

  async function start() {
    if (!marketWallet || !dataset) return;
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    inUse.add(opfsName);
    setStep({ kind: "checking" });
    cleanOldDownloads(inUse).catch(() => {});
    try {
      const download = await downloadLicence({
        connection,
        wallet: marketWallet,
        dataset: dataset.address,
        gateway: config.ipfsGateway,
        signal: controller.signal,
        onStarted: () => {
          const now = performance.now();
          setStep({ kind: "downloading", progress: { ciphertextBytes: 0, plaintextBytes: 0, totalBytes: null }, startedAt: now, now });
        },
        onProgress: (progress) => setStep((s) => (s.kind === "downloading" ? { ...s, progress, now: performance.now() } : s)),
      });
      if (controller.signal.aborted) return;
      setStep({ kind: "ready", download, url: URL.createObjectURL(download.file), saved: false });
    } catch (error) {
      inUse.delete(opfsName);
      if (controller.signal.aborted) return;
      const message = !canSignMessage && !isWalletRejection(error) && /cannot sign messages/.test(String(error)) ? CANNOT_SIGN_MESSAGES : explainForPeople(error, { rpcUrl: connection.url }).message;
      setStep({ kind: "failed", message });
    }
  }

  async function save(download: VerifiedDownload) {
    try {
      await saveWithPicker(download);
      setStep((s) => (s.kind === "ready" ? { ...s, saved: true } : s));
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return; // the person closed the picker
      setStep({ kind: "failed", message: explainForPeople(error).message });
    }
  }

  const busy = step.kind === "checking" || step.kind === "downloading";
  return (
    <div className="download" role="group" aria-label={`Download of ${title}`}>
      {step.kind === "ready" ? null : (
        <button type="button" disabled={busy || !marketWallet || !dataset} onClick={start}>
          {busy ? "Downloading…" : "Download"}
          <span className="visually-hidden"> {title}</span>
        </button>
      )}
      {step.kind === "checking" ? <p role="status">Checking the licence and opening the key…</p> : null}
      {step.kind === "downloading" ? <Progress title={title} step={step} /> : null}
      {step.kind === "failed" ? <p role="alert" className="error">{step.message}</p> : null}
      {step.kind === "ready" ? (
        <div role="status" className="success">
          <p>
            Verified: {megabytes(step.download.file.size)}, its sha256 matches the dataset's content hash on chain.
            {step.saved ? " Saved." : null}
          </p>
          {canPickSaveFile() ? (
            <button type="button" onClick={() => save(step.download)}>
              Save {step.download.fileName}
            </button>
          ) : (
            <a className="button" href={step.url} download={step.download.fileName}>
              Save {step.download.fileName}
            </a>
          )}
        </div>
      ) : null}
    </div>
  );
}

function Progress({ title, step }: { title: string; step: Extract<Step, { kind: "downloading" }> }) {
  const { ciphertextBytes, totalBytes } = step.progress;
  const seconds = (step.now - step.startedAt) / 1000;
  const rate = seconds > 0 ? ciphertextBytes / 1_000_000 / seconds : 0;
  const text = `${megabytes(ciphertextBytes)}${totalBytes ? ` of ${megabytes(totalBytes)}` : ""}, ${rate.toFixed(1)} MB/s`;
  const percent = totalBytes ? Math.min(100, (ciphertextBytes / totalBytes) * 100) : 0;
  return (
    <div className="download-progress">
      <div
        role="progressbar"
        aria-label={`Downloading ${title}`}
        aria-valuemin={0}
        aria-valuemax={totalBytes ?? undefined}
        aria-valuenow={totalBytes ? ciphertextBytes : undefined}
        aria-valuetext={text}
        className="bar"
      >
        <span style={{ width: `${percent}%` }} />
      </div>
      <p className="muted">{text}</p>
    </div>
  );
}
