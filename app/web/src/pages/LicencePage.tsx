// One licence (#/licence/<address>): its state and times, its dispute, its usage receipts, and what
// can be done with it now (LicenceActions).
import { useEffect, useState } from "react";
import type { Account, Address } from "@solana/kit";

import { toHex } from "../../../src/crypto/web.js";
import {
  accountLists,
  fetchDisputeOfLicense,
  fetchMaybeDataset,
  fetchMaybeLicense,
  fetchReviewOfLicense,
  type Dispute,
  type UsageReceipt,
} from "../../../src/sdk/index.js";
import { explainForPeople } from "../errors.js";
import { LICENSE_STATE_NAMES, PURPOSE_NAMES, REASON_NAMES, dateTime } from "../format.js";
import { useClusterNow, useTokenAmount } from "../hooks.js";
import { readList } from "../lists.js";
import { useMarket } from "../market.js";
import { LicenceActions, type LicenceFacts } from "./LicenceActions.js";

interface Loaded extends LicenceFacts {
  dispute: Account<Dispute> | null;
  receipts: Account<UsageReceipt>[];
}

export function LicencePage({ address }: { address: Address }) {
  const { config, connection, revision } = useMarket();
  const [loaded, setLoaded] = useState<Loaded | "missing" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useClusterNow();
  const price = useTokenAmount(loaded && loaded !== "missing" ? loaded.dataset.data.paymentMint : null);

  useEffect(() => {
    let current = true;
    setError(null);
    (async () => {
      const license = await fetchMaybeLicense(connection, address);
      const dataset = license ? await fetchMaybeDataset(connection, license.data.dataset) : null;
      if (!license || !dataset) return current && setLoaded("missing");
      const [review, dispute, receipts] = await Promise.all([
        fetchReviewOfLicense(connection, address),
        license.data.hasDispute ? fetchDisputeOfLicense(connection, address) : Promise.resolve(null),
        readList(config, connection, accountLists.receiptsByLicense(address)),
      ]);
      receipts.sort((a, b) => Number(a.data.index - b.data.index));
      if (current) setLoaded({ license, dataset, review, dispute, receipts });
    })().catch((e: unknown) => current && setError(explainForPeople(e, { rpcUrl: connection.url }).message));
    return () => {
      current = false;
    };
  }, [config, connection, address, revision]);

  if (error) return <section><h1>Licence</h1><p role="alert" className="error">{error}</p></section>;
  if (loaded === null || !price) return <section><h1>Licence</h1><p>Loading…</p></section>;
  if (loaded === "missing") {
    return (
      <section>
        <h1>Licence not found</h1>
        <p>No licence lives at {address} on {connection.url} (or its dataset was closed).</p>
      </section>
    );
  }
  const { license, dataset, dispute, receipts } = loaded;
  const l = license.data;
  const d = dataset.data;
  return (
    <article aria-labelledby="licence-title">
      <h1 id="licence-title">Licence of {d.title || "(untitled)"}</h1>
      <p className="muted">Address: <code>{address}</code> · <a href={`#/dataset/${dataset.address}`}>the dataset's page</a> · <a href="#/licences">My licences</a></p>
      <dl className="facts" data-testid="licence-facts">
        <dt>State</dt>
        <dd>{LICENSE_STATE_NAMES[l.state]}</dd>
        <dt>Holder</dt>
        <dd><code>{l.buyer}</code></dd>
        <dt>Paid</dt>
        <dd>{price(l.pricePaid)}{l.refundedAmount > 0n ? ` (${price(l.refundedAmount)} refunded)` : ""}</dd>
        <dt>Bought</dt>
        <dd>{dateTime(l.boughtAt)}</dd>
        <dt>Key delivered</dt>
        <dd>{l.deliveredAt === 0n ? "not yet" : dateTime(l.deliveredAt)}</dd>
        <dt>Expires</dt>
        <dd>{l.expiresAt === 0n ? "never" : dateTime(l.expiresAt)}</dd>
        <dt>Uses recorded</dt>
        <dd>{l.usageCount.toString()}{d.terms.metered ? ` of ${l.credits} credits` : ""}</dd>
      </dl>
      {dispute ? (
        <section aria-labelledby="dispute-record-title">
          <h2 id="dispute-record-title">Dispute</h2>
          <p>
            Opened {dateTime(dispute.data.openedAt)}: {REASON_NAMES[dispute.data.reason]}. Evidence: <code>{dispute.data.evidenceUri}</code>.{" "}
            {dispute.data.ruledAt === 0n ? "Waiting for the arbiter." : `Ruled ${dateTime(dispute.data.ruledAt)}.`}
          </p>
        </section>
      ) : null}
      <LicenceActions facts={loaded} now={now} formatPrice={price} />
      <section aria-labelledby="receipts-title">
        <h2 id="receipts-title">Usage receipts</h2>
        {receipts.length === 0 ? (
          <p>No use recorded yet.</p>
        ) : (
          <table>
            <caption className="visually-hidden">Uses recorded under this licence</caption>
            <thead>
              <tr><th scope="col">Recorded</th><th scope="col">Purpose</th><th scope="col">Model sha256</th></tr>
            </thead>
            <tbody>
              {receipts.map((r) => (
                <tr key={r.address} data-receipt={r.address}>
                  <td>{dateTime(r.data.recordedAt)}</td>
                  <td>{PURPOSE_NAMES[r.data.purpose]}</td>
                  <td><code className="hex">{toHex(r.data.modelHash)}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </article>
  );
}
