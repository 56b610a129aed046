// The operator's page (#/operator): the marketplace's settings for everyone to read; changing them,
// pausing purchases and revoking a dataset for its authority; ruling open disputes for its arbiter;
// sweeping protocol fees to the treasury for anyone. Each action is the instruction the CLI's
// `market update`, `dataset revoke`, `dispute rule` and `sweep` send.
import { useEffect, useState } from "react";
import { isAddress, type Account, type Address } from "@solana/kit";

import { formatDuration, parseDuration } from "../../../src/client/universal.js";
import {
  buildRevokeDataset,
  buildRuleDispute,
  buildSweepProtocolFees,
  buildUpdateMarketplace,
  MIN_WINDOW_CAP_SECS,
  MIN_WINDOW_FLOOR_SECS,
  decodeProgramAccount,
  fetchAllOfKind,
  fetchMarketplace,
  findDatasets,
  findProgramAccounts,
  queries,
  ruling,
  type Dataset,
  type Dispute,
  type License,
  type Marketplace,
  type RulingArgs,
} from "../../../src/sdk/index.js";
import { ActionStatus, useAction, type Action } from "../actions.js";
import { explainForPeople } from "../errors.js";
import { REASON_NAMES, dateTime, shortAddress } from "../format.js";
import { useTokenAmount } from "../hooks.js";
import { useMarket } from "../market.js";
import { useMarketWallet } from "../wallet.js";

interface OpenDispute {
  dispute: Account<Dispute>;
  license: Account<License> | null;
  dataset: Account<Dataset> | null;
}

interface Loaded {
  marketplace: Account<Marketplace>;
  disputes: OpenDispute[];
  owing: Account<Dataset>[];
}

export function Operator() {
  const { connection, revision } = useMarket();
  const { connected } = useMarketWallet();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  // One transaction at a time, its outcome shown at the top (a ruled dispute's form goes away).
  const action = useAction();

  useEffect(() => {
    let current = true;
    setError(null);
    (async () => {
      const marketplace = await fetchMarketplace(connection);
      const disputes = (await findProgramAccounts(connection, queries.allDisputes()))
        .map((a) => decodeProgramAccount("Dispute", a))
        .filter((d) => d.data.ruledAt === 0n)
        .sort((a, b) => Number(a.data.openedAt - b.data.openedAt));
      const [licenses, datasets, all] = await Promise.all([
        fetchAllOfKind(connection, "License", disputes.map((d) => d.data.license)),
        fetchAllOfKind(connection, "Dataset", [...new Set(disputes.map((d) => d.data.dataset))]),
        findDatasets(connection, queries.allDatasets()),
      ]);
      const open = disputes.map((dispute) => ({
        dispute,
        license: licenses.find((l) => l.address === dispute.data.license) ?? null,
        dataset: datasets.find((d) => d.address === dispute.data.dataset) ?? null,
      }));
      const owing = all.filter((d) => d.data.ledger.protocolFeesOwed > 0n);
      if (current) setLoaded({ marketplace, disputes: open, owing });
    })().catch((e: unknown) => current && setError(explainForPeople(e, { rpcUrl: connection.url }).message));
    return () => {
      current = false;
    };
  }, [connection, revision]);

  if (error) return <section><h1>Operator</h1><p role="alert" className="error">{error}</p></section>;
  if (!loaded) return <section><h1>Operator</h1><p>Loading…</p></section>;
  const m = loaded.marketplace.data;
  const me = connected?.account.address ?? null;
  const isAuthority = me === m.authority;
  const isArbiter = me === m.arbiter;
  return (
    <article aria-labelledby="operator-title">
      <h1 id="operator-title">Operator</h1>
      <p>
        {me === null
          ? "Connect the marketplace authority's or arbiter's wallet to act; everyone may read the settings and sweep fees to the treasury."
          : isAuthority && isArbiter
            ? "The connected wallet is the marketplace authority and its arbiter."
            : isAuthority
              ? "The connected wallet is the marketplace authority."
              : isArbiter
                ? "The connected wallet is the marketplace's arbiter."
                : "The connected wallet is neither the marketplace authority nor its arbiter: only the sweep is open to it."}
      </p>
      <ActionStatus action={action} />
      <section aria-labelledby="settings-title">
        <h2 id="settings-title">Marketplace</h2>
        <dl className="facts" data-testid="marketplace">
          <dt>Purchases</dt>
          <dd>{m.purchasesPaused ? "Paused" : "Open"}</dd>
          <dt>Protocol fee</dt>
          <dd>{(m.protocolFeeBps / 100).toFixed(2)} % (referral fees up to {(m.maxReferralFeeBps / 100).toFixed(2)} %)</dd>
          <dt>Authority</dt>
          <dd><code>{m.authority}</code></dd>
          <dt>Arbiter</dt>
          <dd><code>{m.arbiter}</code></dd>
          <dt>Treasury</dt>
          <dd><code>{m.treasury}</code></dd>
          <dt>Shortest windows for new datasets</dt>
          <dd>delivery {formatDuration(m.minDeliveryWindowSecs)}, dispute {formatDuration(m.minDisputeWindowSecs)}</dd>
        </dl>
        <PauseButton paused={m.purchasesPaused} enabled={isAuthority} action={action} />
        <SettingsForm marketplace={m} enabled={isAuthority} action={action} />
      </section>
      <section aria-labelledby="disputes-title">
        <h2 id="disputes-title">Open disputes</h2>
        {!isArbiter ? <p className="muted">Only the arbiter ({shortAddress(m.arbiter)}) may rule.</p> : null}
        {loaded.disputes.length === 0 ? <p>No dispute is waiting for a ruling.</p> : loaded.disputes.map((d) => <DisputeRuling key={d.dispute.address} item={d} enabled={isArbiter} action={action} />)}
      </section>
      <section aria-labelledby="sweep-title">
        <h2 id="sweep-title">Protocol fees</h2>
        {loaded.owing.length === 0 ? (
          <p>No dataset owes protocol fees.</p>
        ) : (
          <ul className="plain">
            {loaded.owing.map((d) => <SweepItem key={d.address} dataset={d} enabled={me !== null} action={action} />)}
          </ul>
        )}
      </section>
      <RevokeForm enabled={isAuthority} action={action} />
    </article>
  );
}

function useOperatorWallet() {
  const { marketWallet } = useMarketWallet();
  return marketWallet;
}

function PauseButton({ paused, enabled, action }: { paused: boolean; enabled: boolean; action: Action }) {
  const { connection } = useMarket();
  const wallet = useOperatorWallet();
  return (
    <div>
      <button
        type="button"
        disabled={!enabled || !wallet || action.busy}
        onClick={() =>
          action.run("Waiting for your wallet, then for the cluster…", async () => {
            await connection.send(wallet!.signer, await buildUpdateMarketplace({ authority: wallet!.signer, purchasesPaused: !paused }));
            return paused ? "Purchases are open again." : "Purchases and renewals are paused.";
          })
        }
      >
        {paused ? "Resume purchases" : "Pause purchases"}
      </button>
    </div>
  );
}

function SettingsForm({ marketplace, enabled, action }: { marketplace: Marketplace; enabled: boolean; action: Action }) {
  const { connection } = useMarket();
  const wallet = useOperatorWallet();
  const [fee, setFee] = useState(String(marketplace.protocolFeeBps));
  const [referral, setReferral] = useState(String(marketplace.maxReferralFeeBps));
  const [treasury, setTreasury] = useState<string>(marketplace.treasury);
  const [arbiter, setArbiter] = useState<string>(marketplace.arbiter);
  const [delivery, setDelivery] = useState(formatDuration(marketplace.minDeliveryWindowSecs));
  const [disputeWindow, setDisputeWindow] = useState(formatDuration(marketplace.minDisputeWindowSecs));
  const off = !enabled || !wallet || action.busy;
  const bps = (text: string) => (/^\d+$/.test(text) && Number(text) <= 10_000 ? Number(text) : null);
  const windowSecs = (text: string) => {
    try {
      const secs = parseDuration(text);
      return secs >= MIN_WINDOW_FLOOR_SECS && secs <= MIN_WINDOW_CAP_SECS ? secs : null;
    } catch {
      return null;
    }
  };
  const valid = bps(fee) !== null && bps(referral) !== null && isAddress(treasury) && isAddress(arbiter) && windowSecs(delivery) !== null && windowSecs(disputeWindow) !== null;
  return (
    <form
      aria-labelledby="settings-form-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid) return;
        void action.run("Waiting for your wallet, then for the cluster…", async () => {
          const changed = <T,>(value: T, was: T) => (value === was ? undefined : value);
          await connection.send(
            wallet!.signer,
            await buildUpdateMarketplace({
              authority: wallet!.signer,
              protocolFeeBps: changed(bps(fee)!, marketplace.protocolFeeBps),
              maxReferralFeeBps: changed(bps(referral)!, marketplace.maxReferralFeeBps),
              treasury: changed(treasury as Address, marketplace.treasury),
              arbiter: changed(arbiter as Address, marketplace.arbiter),
              minDeliveryWindowSecs: changed(windowSecs(delivery)!, marketplace.minDeliveryWindowSecs),
              minDisputeWindowSecs: changed(windowSecs(disputeWindow)!, marketplace.minDisputeWindowSecs),
            }),
          );
          return "The marketplace settings are updated.";
        });
      }}
    >
      <h3 id="settings-form-title">Change the settings</h3>
      <div className="filters">
        <div>
          <label htmlFor="op-fee">Protocol fee (basis points, at most 1000)</label>
          <input id="op-fee" inputMode="numeric" value={fee} disabled={off} onChange={(e) => setFee(e.target.value)} />
        </div>
        <div>
          <label htmlFor="op-referral">Highest referral fee (basis points, at most 2000)</label>
          <input id="op-referral" inputMode="numeric" value={referral} disabled={off} onChange={(e) => setReferral(e.target.value)} />
        </div>
        <div>
          <label htmlFor="op-treasury">Treasury wallet</label>
          <input id="op-treasury" className="hex" value={treasury} disabled={off} onChange={(e) => setTreasury(e.target.value.trim())} />
        </div>
        <div>
          <label htmlFor="op-arbiter">Arbiter wallet</label>
          <input id="op-arbiter" className="hex" value={arbiter} disabled={off} onChange={(e) => setArbiter(e.target.value.trim())} />
        </div>
        <div>
          <label htmlFor="op-delivery">Shortest delivery window for new datasets (5s to 7d)</label>
          <input id="op-delivery" value={delivery} disabled={off} aria-invalid={windowSecs(delivery) === null} onChange={(e) => setDelivery(e.target.value)} />
        </div>
        <div>
          <label htmlFor="op-dispute">Shortest dispute window for new datasets (5s to 7d)</label>
          <input id="op-dispute" value={disputeWindow} disabled={off} aria-invalid={windowSecs(disputeWindow) === null} onChange={(e) => setDisputeWindow(e.target.value)} />
        </div>
      </div>
      <p>
        <button type="submit" disabled={off || !valid}>Save the settings</button>
      </p>
    </form>
  );
}

function DisputeRuling({ item, enabled, action }: { item: OpenDispute; enabled: boolean; action: Action }) {
  const { connection } = useMarket();
  const wallet = useOperatorWallet();
  const price = useTokenAmount(item.dataset?.data.paymentMint ?? null);
  const [kind, setKind] = useState<"Refund" | "Release" | "Split">("Split");
  const [share, setShare] = useState("50");
  const { dispute, license, dataset } = item;
  const d = dispute.data;
  const id = dispute.address;
  const sharePercent = Number(share);
  const shareValid = /^\d+(\.\d{1,2})?$/.test(share) && sharePercent >= 0 && sharePercent <= 100;
  const paid = license?.data.pricePaid ?? 0n;
  const buyerBps = Math.round(sharePercent * 100);
  const toBuyer = kind === "Refund" ? paid : kind === "Release" ? 0n : (paid * BigInt(shareValid ? buyerBps : 0)) / 10_000n;
  return (
    <form
      className="card"
      aria-label={`Dispute on the licence of ${dataset?.data.title ?? d.dataset}`}
      data-dispute={id}
      onSubmit={(e) => {
        e.preventDefault();
        const decision: RulingArgs = kind === "Split" ? ruling("Split", { buyerBps }) : kind === "Refund" ? ruling("Refund") : ruling("Release");
        void action.run("Waiting for your wallet, then for the cluster to record the ruling…", async () => {
          await connection.send(wallet!.signer, await buildRuleDispute(connection, { arbiter: wallet!.signer, license: d.license, ruling: decision }));
          return `Ruled: ${price ? price(toBuyer) : toBuyer.toString()} back to the buyer.`;
        });
      }}
    >
      <p>
        <strong>{dataset ? <a href={`#/dataset/${dataset.address}`}>{dataset.data.title || "(untitled)"}</a> : <code>{d.dataset}</code>}</strong>: licence{" "}
        <a href={`#/licence/${d.license}`}>{shortAddress(d.license)}</a>, buyer <code>{shortAddress(d.buyer)}</code>, paid {price ? price(paid) : paid.toString()}.
      </p>
      <p>
        Opened {dateTime(d.openedAt)}: {REASON_NAMES[d.reason]}. Evidence: <code>{d.evidenceUri}</code>
      </p>
      <fieldset disabled={!enabled || !wallet || action.busy}>
        <legend>Ruling</legend>
        {(["Refund", "Release", "Split"] as const).map((k) => (
          <label key={k} className="inline">
            <input type="radio" name={`ruling-${id}`} value={k} checked={kind === k} onChange={() => setKind(k)} />{" "}
            {k === "Refund" ? "Refund the buyer in full" : k === "Release" ? "Release everything to the owner" : "Split"}
          </label>
        ))}
        {kind === "Split" ? (
          <>
            <label htmlFor={`share-${id}`}>Share back to the buyer (%)</label>
            <input id={`share-${id}`} inputMode="decimal" value={share} aria-invalid={!shareValid} onChange={(e) => setShare(e.target.value.trim())} />
          </>
        ) : null}
        <p>The buyer gets {price ? price(toBuyer) : toBuyer.toString()} back; the rest settles to the owner (fees apply to it).</p>
        <button type="submit" disabled={kind === "Split" && !shareValid}>Rule</button>
      </fieldset>
    </form>
  );
}

function SweepItem({ dataset, enabled, action }: { dataset: Account<Dataset>; enabled: boolean; action: Action }) {
  const { connection } = useMarket();
  const wallet = useOperatorWallet();
  const price = useTokenAmount(dataset.data.paymentMint);
  const owed = dataset.data.ledger.protocolFeesOwed;
  const amount = price ? price(owed) : owed.toString();
  return (
    <li>
      <a href={`#/dataset/${dataset.address}`}>{dataset.data.title || "(untitled)"}</a> owes {amount}.{" "}
      <button
        type="button"
        aria-label={`Sweep ${amount} from ${dataset.data.title || dataset.address} to the treasury`}
        disabled={!enabled || !wallet || action.busy}
        onClick={() =>
          action.run("Waiting for your wallet, then for the cluster…", async () => {
            await connection.send(wallet!.signer, await buildSweepProtocolFees(connection, { caller: wallet!.signer, dataset: dataset.address }));
            return `Swept ${amount} to the treasury.`;
          })
        }
      >
        Sweep to the treasury
      </button>
    </li>
  );
}

function RevokeForm({ enabled, action }: { enabled: boolean; action: Action }) {
  const { connection } = useMarket();
  const wallet = useOperatorWallet();
  const [dataset, setDataset] = useState("");
  const [reason, setReason] = useState("1");
  const reasonValid = /^\d+$/.test(reason) && Number(reason) >= 1 && Number(reason) <= 255;
  const off = !enabled || !wallet || action.busy;
  return (
    <form
      aria-labelledby="revoke-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (!isAddress(dataset) || !reasonValid) return;
        void action.run("Waiting for your wallet, then for the cluster…", async () => {
          await connection.send(wallet!.signer, await buildRevokeDataset({ authority: wallet!.signer, dataset: dataset as Address, reason: Number(reason) }));
          return `Dataset ${dataset} revoked: no more sales or recorded uses.`;
        });
      }}
    >
      <h2 id="revoke-title">Revoke a dataset</h2>
      <p>For good: it can no longer be sold, and its licences can no longer record uses.</p>
      <label htmlFor="revoke-dataset">Dataset address</label>
      <input id="revoke-dataset" className="hex" value={dataset} disabled={off} onChange={(e) => setDataset(e.target.value.trim())} />
      <label htmlFor="revoke-reason">Reason code (1 to 255)</label>
      <input id="revoke-reason" inputMode="numeric" value={reason} disabled={off} onChange={(e) => setReason(e.target.value)} />
      <p>
        <button type="submit" disabled={off || !isAddress(dataset) || !reasonValid}>Revoke</button>
      </p>
    </form>
  );
}
