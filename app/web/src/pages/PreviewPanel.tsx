// A verifiable random preview before buying: the wallet asks on chain, the chain's slot hash picks
// the chunks, the owner's daemon reveals them, and this page checks each one against the chunk-tree
// root the owner registered (fetchVerifiedPreview) before showing it.
import { useEffect, useState } from "react";
import type { Account } from "@solana/kit";

import {
  fetchVerifiedPreview,
  formatDuration,
  requestPreview,
  waitForPreview,
  type VerifiedPreview,
} from "../../../src/client/universal.js";
import { toHex } from "../../../src/crypto/bytes.js";
import { DatasetState, fetchPreviewPolicy, type Dataset, type PreviewPolicy } from "../../../src/sdk/index.js";
import { trustlessCatStore } from "../../../src/storage/trustless-reader.js";
import { explainForPeople } from "../errors.js";
import { useMarket } from "../market.js";
import { useMarketWallet } from "../wallet.js";

type Step =
  | { kind: "idle" }
  | { kind: "asking" }
  | { kind: "waiting"; slotsLeft: bigint | null }
  | { kind: "verifying" }
  | { kind: "shown"; preview: VerifiedPreview }
  | { kind: "failed"; message: string };

export function PreviewPanel({ dataset }: { dataset: Account<Dataset> }) {
  const { connection, config, revision, refresh } = useMarket();
  const { connected, marketWallet } = useMarketWallet();
  const [policy, setPolicy] = useState<Account<PreviewPolicy> | null | "loading">("loading");
  const [step, setStep] = useState<Step>({ kind: "idle" });

  useEffect(() => {
    let current = true;
    fetchPreviewPolicy(connection, dataset.address).then(
      (p) => current && setPolicy(p),
      () => current && setPolicy(null),
    );
    return () => {
      current = false;
    };
  }, [connection, dataset.address, revision]);

  if (policy === "loading" || policy === null) return null;
  const p = policy.data;
  const offered = p.chunksPerPreview > 0 && dataset.data.state === DatasetState.Active;

  async function ask() {
    if (!marketWallet) return;
    try {
      setStep({ kind: "asking" });
      const asked = await requestPreview(connection, marketWallet, { dataset: dataset.address });
      setStep({ kind: "waiting", slotsLeft: null });
      const outcome = await waitForPreview(connection, marketWallet, asked.request, {
        onWait: (slotsLeft) => setStep({ kind: "waiting", slotsLeft }),
      });
      if (outcome.state === "expired") {
        setStep({ kind: "failed", message: "The owner did not answer in time. The chain now records this preview as unanswered." });
        refresh();
        return;
      }
      if (!config.ipfsGateway) {
        setStep({ kind: "failed", message: "The owner answered, but no IPFS gateway is set in the settings to fetch the chunks from." });
        return;
      }
      setStep({ kind: "verifying" });
      const preview = await fetchVerifiedPreview(connection, trustlessCatStore(config.ipfsGateway), outcome.request, { timeoutMs: 30_000 });
      setStep({ kind: "shown", preview });
      refresh();
    } catch (error) {
      setStep({ kind: "failed", message: explainForPeople(error, { rpcUrl: connection.url }).message });
    }
  }

  const busy = step.kind === "asking" || step.kind === "waiting" || step.kind === "verifying";
  return (
    <section aria-labelledby="preview-title" className="preview">
      <h2 id="preview-title">Preview</h2>
      {offered ? (
        <>
          <p>
            Ask for {p.chunksPerPreview} random {p.chunksPerPreview === 1 ? "chunk" : "chunks"} of the {p.chunkCount.toString()} in
            this dataset ({Math.round(p.chunkSize / 1024)} KiB each). The chain picks which, from a slot hash neither you nor the owner
            controls; each chunk is checked against the root the owner registered before it is shown. The owner answers at most{" "}
            {p.maxPerPeriod} previews every {formatDuration(BigInt(p.periodSecs))}.
          </p>
          <button type="button" onClick={ask} disabled={busy || !connected || !marketWallet}>
            Ask for a random preview
          </button>
          {!connected ? <span className="muted"> Connect a wallet to ask (a small rent deposit, refundable).</span> : null}
        </>
      ) : (
        <p>The owner has paused previews of this dataset.</p>
      )}
      <p className="muted">
        Previews answered: {p.answered.toString()}, unanswered in time: {p.expired.toString()}. Chunk tree root{" "}
        <code>{toHex(new Uint8Array(p.chunkTreeRoot)).slice(0, 16)}…</code>
      </p>
      <div aria-live="polite">
        {step.kind === "asking" ? <p>Waiting for your wallet to approve the request, then for the cluster to confirm it…</p> : null}
        {step.kind === "waiting" ? (
          <p>Waiting for the owner's answer{step.slotsLeft === null ? "" : ` (${step.slotsLeft.toString()} slots left)`}…</p>
        ) : null}
        {step.kind === "verifying" ? <p>Fetching the chunks and checking each one…</p> : null}
      </div>
      {step.kind === "shown" ? (
        <div role="status" className="success" data-testid="preview-chunks">
          <p>
            {step.preview.chunks.length} chunks verified against the registered root (preview <code>{step.preview.request}</code>).
          </p>
          {step.preview.chunks.map((chunk) => (
            <details key={chunk.index}>
              <summary>
                Chunk {chunk.index} ({chunk.bytes.length.toLocaleString()} bytes)
              </summary>
              {/* focusable, so the scrolling box can be read with the keyboard */}
              <pre className="chunk" tabIndex={0}>
                {new TextDecoder().decode(chunk.bytes.subarray(0, 4096))}
              </pre>
            </details>
          ))}
        </div>
      ) : null}
      {step.kind === "failed" ? <p role="alert" className="error">{step.message}</p> : null}
    </section>
  );
}
