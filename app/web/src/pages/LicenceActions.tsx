// What can be done with one licence now, given its state and the cluster's clock: a refund once the
// key is overdue (anyone), and for its holder recording a use, reviewing, disputing the delivery,
// renewing and buying credits. Each action goes through the client layer, as the CLI's commands do.
import { useState } from "react";
import type { Account } from "@solana/kit";

import { buyCredits, purchaseTotal, recordUsage, renewLicense, runIdBytes, submitReview, USAGE_PURPOSES, DISPUTE_REASONS } from "../../../src/client/universal.js";
import { toHex } from "../../../src/crypto/web.js";
import {
  DatasetState,
  LicenseState,
  buildOpenDispute,
  buildRefundLicense,
  type Dataset,
  type DisputeReason,
  type License,
  type Review,
  type UsagePurpose,
} from "../../../src/sdk/index.js";
import { ActionStatus, useAction, type Action } from "../actions.js";
import { PURPOSE_NAMES, REASON_NAMES, countdown } from "../format.js";
import { useMarket } from "../market.js";
import { ModelHashInput } from "../ModelHash.js";
import { addReviewText } from "../review-text.js";
import { useMarketWallet } from "../wallet.js";

export interface LicenceFacts {
  license: Account<License>;
  dataset: Account<Dataset>;
  review: Account<Review> | null;
}

/** What the program would accept now (the same checks it makes), for the buttons shown. */
export function licenceAllows(l: License, d: Dataset, now: number) {
  const t = BigInt(Math.floor(now));
  const expired = l.expiresAt !== 0n && t >= l.expiresAt;
  const live = l.state === LicenseState.Delivered || l.state === LicenseState.Settled;
  const onSale = d.state === DatasetState.Active;
  return {
    expired,
    refund: l.state === LicenseState.AwaitingKey && t > l.boughtAt + BigInt(d.deliveryWindowSecs),
    dispute: l.state === LicenseState.Delivered && t < l.deliveredAt + BigInt(d.disputeWindowSecs),
    use: live && !expired && d.state !== DatasetState.Revoked && (!d.terms.metered || l.usageCount < l.credits),
    review: live || l.state === LicenseState.Disputed,
    renew: l.state === LicenseState.Settled && l.expiresAt !== 0n && !d.terms.metered && onSale,
    credits: l.state === LicenseState.Settled && d.terms.metered && !expired && onSale,
  };
}

export function LicenceActions({ facts, now, formatPrice }: { facts: LicenceFacts; now: number | null; formatPrice(amount: bigint): string }) {
  const { connected, marketWallet } = useMarketWallet();
  // One transaction at a time; its outcome stays shown even when the form that sent it goes away
  // (a refunded licence has no refund form).
  const action = useAction(formatPrice);
  const { license, dataset } = facts;
  const l = license.data;
  const d = dataset.data;
  if (now === null) return <p>Reading the cluster's clock…</p>;
  const allows = licenceAllows(l, d, now);
  const holder = connected?.account.address === l.buyer;
  const notes: string[] = [];
  if (l.state === LicenseState.AwaitingKey && !allows.refund) {
    notes.push(`The owner has ${countdown(l.boughtAt + BigInt(d.deliveryWindowSecs), now) ?? "a moment"} left to deliver the key; if it does not come, a refund becomes possible.`);
  }
  if (l.state === LicenseState.Refunded) notes.push("This licence was refunded: nothing more can be done with it.");
  if (l.state === LicenseState.Disputed) notes.push("A dispute is open: use and payouts are frozen until the arbiter rules.");
  if (allows.expired && l.state !== LicenseState.Refunded) notes.push(d.terms.metered ? "This licence has expired." : "This licence has expired: renew it to record uses again.");
  if (l.state === LicenseState.Delivered && !allows.dispute) notes.push("The dispute window has closed.");
  if (d.terms.metered && (l.state === LicenseState.Delivered || l.state === LicenseState.Settled) && l.usageCount >= l.credits) {
    notes.push("No credits left: buy more to record uses.");
  }

  return (
    <section aria-labelledby="actions-title" className="licence-actions">
      <h2 id="actions-title">What you can do</h2>
      <ActionStatus action={action} />
      {notes.map((n) => <p key={n} className="note">{n}</p>)}
      {!connected ? <p>Connect a wallet (top of the page) to act on this licence.</p> : null}
      {connected && !holder ? <p className="muted">The connected wallet is not this licence's holder: only the refund (open to anyone) is offered.</p> : null}
      {connected && marketWallet && allows.refund ? <RefundForm facts={facts} formatPrice={formatPrice} action={action} /> : null}
      {holder && marketWallet ? (
        <>
          {allows.use ? <UsageForm facts={facts} action={action} /> : null}
          {allows.review ? <ReviewForm facts={facts} action={action} /> : null}
          {allows.dispute ? <DisputeForm facts={facts} now={now} action={action} /> : null}
          {allows.renew ? <RenewForm facts={facts} formatPrice={formatPrice} action={action} /> : null}
          {allows.credits ? <CreditsForm facts={facts} formatPrice={formatPrice} action={action} /> : null}
        </>
      ) : null}
    </section>
  );
}

function RefundForm({ facts, formatPrice, action }: { facts: LicenceFacts; formatPrice(amount: bigint): string; action: Action }) {
  const { connection } = useMarket();
  const { marketWallet } = useMarketWallet();
  const l = facts.license.data;
  return (
    <section aria-labelledby="refund-title">
      <h3 id="refund-title">Refund</h3>
      <p>The key was not delivered in time. Anyone may refund the buyer: {formatPrice(l.pricePaid)} goes back from the escrow and the licence is void.</p>
      <button
        type="button"
        disabled={action.busy}
        onClick={() =>
          action.run("Waiting for your wallet, then for the cluster to confirm the refund…", async () => {
            await connection.send(marketWallet!.signer, await buildRefundLicense(connection, { caller: marketWallet!.signer, license: facts.license.address }));
            return `Refunded ${formatPrice(l.pricePaid)} to the buyer.`;
          })
        }
      >
        Refund {formatPrice(l.pricePaid)}
      </button>
    </section>
  );
}

function UsageForm({ facts, action }: { facts: LicenceFacts; action: Action }) {
  const { connection } = useMarket();
  const { marketWallet } = useMarketWallet();
  const [modelHash, setModelHash] = useState<Uint8Array | null>(null);
  const [purpose, setPurpose] = useState<UsagePurpose>(USAGE_PURPOSES.training);
  const [runId, setRunId] = useState("");
  const runIdTooLong = new TextEncoder().encode(runId).length > 32 && !/^[0-9a-fA-F]{64}$/.test(runId);
  const d = facts.dataset.data;
  const l = facts.license.data;
  return (
    <form
      aria-labelledby="usage-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!modelHash) return;
        const hash = modelHash;
        void action.run("Waiting for your wallet, then for the cluster to record the use…", async () => {
          const recorded = await recordUsage(connection, marketWallet!, { dataset: facts.dataset.address, modelHash: hash, purpose, runId: runIdBytes(runId || undefined) });
          return `Recorded: receipt ${recorded.receipt} for model ${toHex(hash)}.`;
        });
      }}
    >
      <h3 id="usage-title">Record a use</h3>
      <p>
        A receipt on chain says which model this licence's data went into, and for what.
        {d.terms.metered ? ` It spends one credit (${l.credits - l.usageCount} left).` : ""}
      </p>
      <ModelHashInput onChange={setModelHash} disabled={action.busy} />
      <label htmlFor="usage-purpose">Purpose</label>
      <select id="usage-purpose" value={purpose} disabled={action.busy} onChange={(e) => setPurpose(Number(e.target.value) as UsagePurpose)}>
        {Object.values(USAGE_PURPOSES).map((p) => <option key={p} value={p}>{PURPOSE_NAMES[p]}</option>)}
      </select>
      <label htmlFor="usage-run">Run id (optional, up to 32 bytes)</label>
      <input id="usage-run" value={runId} disabled={action.busy} aria-invalid={runIdTooLong} onChange={(e) => setRunId(e.target.value)} />
      {runIdTooLong ? <p className="error">The run id is at most 32 bytes.</p> : null}
      <p>
        <button type="submit" disabled={action.busy || !modelHash || runIdTooLong}>Record the use</button>
      </p>
    </form>
  );
}

function ReviewForm({ facts, action }: { facts: LicenceFacts; action: Action }) {
  const { connection, config } = useMarket();
  const { marketWallet } = useMarketWallet();
  const existing = facts.review?.data ?? null;
  const [rating, setRating] = useState(existing?.rating ?? 5);
  const [text, setText] = useState("");
  const api = config.ipfsApi;
  return (
    <form
      aria-labelledby="review-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim() === "") return;
        void action.run(api ? "Storing the text on IPFS, then waiting for your wallet and the cluster…" : "Waiting for your wallet, then for the cluster…", async () => {
          // Without an IPFS node the text is where the reviewer published it, as `review submit --uri`.
          const uri = api ? await addReviewText(api, text) : text.trim();
          const result = await submitReview(connection, marketWallet!, { dataset: facts.dataset.address, rating, text: api ? text : uri, uri });
          return result.updated ? `Your review now gives ${rating} / 5.` : `Reviewed: ${rating} / 5.`;
        });
      }}
    >
      <h3 id="review-title">{existing ? "Change your review" : "Review the dataset"}</h3>
      {existing ? <p>You gave it {existing.rating} / 5.</p> : null}
      <label htmlFor="review-rating">Rating</label>
      <select id="review-rating" value={rating} disabled={action.busy} onChange={(e) => setRating(Number(e.target.value))}>
        {[5, 4, 3, 2, 1].map((r) => <option key={r} value={r}>{r} / 5</option>)}
      </select>
      <label htmlFor="review-text">{api ? "Your review (stored on IPFS, its hash on chain)" : "Where you published your review (a URI, at most 100 characters)"}</label>
      {api ? (
        <textarea id="review-text" rows={3} value={text} disabled={action.busy} onChange={(e) => setText(e.target.value)} />
      ) : (
        <input id="review-text" value={text} maxLength={100} disabled={action.busy} onChange={(e) => setText(e.target.value)} />
      )}
      <p>
        <button type="submit" disabled={action.busy || text.trim() === ""}>{existing ? "Update the review" : "Submit the review"}</button>
      </p>
    </form>
  );
}

function DisputeForm({ facts, now, action }: { facts: LicenceFacts; now: number; action: Action }) {
  const { connection } = useMarket();
  const { marketWallet } = useMarketWallet();
  const [reason, setReason] = useState<DisputeReason>(DISPUTE_REASONS["not-as-described"]);
  const [evidence, setEvidence] = useState("");
  const l = facts.license.data;
  const left = countdown(l.deliveredAt + BigInt(facts.dataset.data.disputeWindowSecs), now);
  return (
    <form
      aria-labelledby="dispute-title"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run("Waiting for your wallet, then for the cluster to open the dispute…", async () => {
          await connection.send(
            marketWallet!.signer,
            await buildOpenDispute({ buyer: marketWallet!.signer, dataset: facts.dataset.address, reason, evidenceUri: evidence.trim() }),
          );
          return "Dispute opened: the payment stays in escrow until the arbiter rules.";
        });
      }}
    >
      <h3 id="dispute-title">Dispute the delivery</h3>
      <p>Possible for {left ?? "a moment"} more. The payment stays in escrow until the marketplace's arbiter rules.</p>
      <label htmlFor="dispute-reason">Reason</label>
      <select id="dispute-reason" value={reason} disabled={action.busy} onChange={(e) => setReason(Number(e.target.value) as DisputeReason)}>
        {Object.values(DISPUTE_REASONS).map((r) => <option key={r} value={r}>{REASON_NAMES[r]}</option>)}
      </select>
      <label htmlFor="dispute-evidence">Evidence for the arbiter (a link, at most 200 characters)</label>
      <input id="dispute-evidence" value={evidence} maxLength={200} disabled={action.busy} onChange={(e) => setEvidence(e.target.value)} />
      <p>
        <button type="submit" disabled={action.busy || evidence.trim() === ""}>Open the dispute</button>
      </p>
    </form>
  );
}

function RenewForm({ facts, formatPrice, action }: { facts: LicenceFacts; formatPrice(amount: bigint): string; action: Action }) {
  const { connection } = useMarket();
  const { marketWallet } = useMarketWallet();
  const price = facts.dataset.data.price;
  return (
    <section aria-labelledby="renew-title">
      <h3 id="renew-title">Renew</h3>
      <p>One more term at the current price, counted from the expiry (or from now if it has passed).</p>
      <button
        type="button"
        disabled={action.busy}
        onClick={() =>
          action.run("Waiting for your wallet, then for the cluster to confirm the renewal…", async () => {
            const result = await renewLicense(connection, marketWallet!, { dataset: facts.dataset.address, maxPrice: price });
            return `Renewed for ${formatPrice(result.total)}.`;
          })
        }
      >
        Renew for {formatPrice(price)}
      </button>
    </section>
  );
}

function CreditsForm({ facts, formatPrice, action }: { facts: LicenceFacts; formatPrice(amount: bigint): string; action: Action }) {
  const { connection } = useMarket();
  const { marketWallet } = useMarketWallet();
  const [count, setCount] = useState("1");
  const credits = Math.max(1, Math.floor(Number(count) || 1));
  const total = purchaseTotal(facts.dataset.data.price, true, credits);
  return (
    <form
      aria-labelledby="credits-title"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run("Waiting for your wallet, then for the cluster to confirm the purchase…", async () => {
          const result = await buyCredits(connection, marketWallet!, { dataset: facts.dataset.address, credits, maxPrice: total });
          return `Bought ${credits} credits for ${formatPrice(result.total)}.`;
        });
      }}
    >
      <h3 id="credits-title">Buy credits</h3>
      <label htmlFor="credits-count">Credits</label>
      <input id="credits-count" type="number" min={1} value={count} disabled={action.busy} onChange={(e) => setCount(e.target.value)} />
      <p>
        <button type="submit" disabled={action.busy}>Buy {credits} for {formatPrice(total)}</button>
      </p>
    </form>
  );
}
