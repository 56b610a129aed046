// One dataset: what the SDK decodes (terms, price and where it goes, ratings, owner and
// contributors), a verifiable random preview when the owner offers one, and the buy panel.
import { useEffect, useState } from "react";
import type { Account, Address } from "@solana/kit";

import { formatDuration } from "../../../src/client/universal.js";
import {
  datasetAverageRating,
  datasetFreeRating,
  datasetRecipients,
  datasetTags,
  fetchMaybeDataset,
  findReviews,
  queries,
  type Dataset,
  type Review,
} from "../../../src/sdk/index.js";
import { explainForPeople } from "../errors.js";
import { CATEGORY_NAMES, STATE_NAMES, bpsOf, termsInWords } from "../format.js";
import { useTokenAmount } from "../hooks.js";
import { useMarket } from "../market.js";
import { BuyPanel } from "./BuyPanel.js";
import { PreviewPanel } from "./PreviewPanel.js";
import { ReviewText, UsageByPurpose } from "./DatasetExtras.js";

export function DatasetPage({ address }: { address: Address }) {
  const { connection, health, revision } = useMarket();
  const [dataset, setDataset] = useState<Account<Dataset> | null | "missing">(null);
  const [reviews, setReviews] = useState<Account<Review>[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const formatAmount = useTokenAmount(dataset && dataset !== "missing" ? dataset.data.paymentMint : null);

  useEffect(() => {
    let current = true;
    setError(null);
    (async () => {
      const found = await fetchMaybeDataset(connection, address);
      if (!current) return;
      setDataset(found ?? "missing");
      if (found) {
        const all = await findReviews(connection, queries.reviewsByDataset(address));
        if (current) setReviews(all);
      }
    })().catch((e: unknown) => current && setError(explainForPeople(e, { rpcUrl: connection.url }).message));
    return () => {
      current = false;
    };
  }, [connection, address, revision, reload]);

  if (error) return <section><h1>Dataset</h1><p role="alert" className="error">{error}</p></section>;
  if (dataset === null) return <section><h1>Dataset</h1><p>Loading…</p></section>;
  if (dataset === "missing") {
    return (
      <section>
        <h1>Dataset not found</h1>
        <p>No dataset lives at {address} on {connection.url}. It may be on another cluster, or closed.</p>
      </section>
    );
  }
  const d = dataset.data;
  const price = formatAmount!;
  const protocolFeeBps = health.status === "ready" ? health.marketplace.protocolFeeBps : null;
  const protocolFee = protocolFeeBps === null ? null : bpsOf(d.price, protocolFeeBps);
  const paidRating = datasetAverageRating(d);
  const freeRating = datasetFreeRating(d);
  const recipients = datasetRecipients(d);
  return (
    <article aria-labelledby="dataset-title">
      <h1 id="dataset-title">{d.title || "(untitled)"}</h1>
      <p>
        {CATEGORY_NAMES[d.category]} · {STATE_NAMES[d.state]} · {d.licensesSold.toString()} sold
        {datasetTags(d).length > 0 ? ` · tags: ${datasetTags(d).join(", ")}` : ""}
      </p>
      <p className="muted">Address: <code>{dataset.address}</code></p>

      <section aria-labelledby="price-title">
        <h2 id="price-title">Price</h2>
        <p className="price" data-testid="price">{d.price === 0n ? "Free" : price(d.price)}{d.terms.metered ? " per use (credit)" : ""}</p>
        {d.price > 0n && protocolFee !== null ? (
          <dl className="breakdown">
            <dt>Marketplace fee ({(protocolFeeBps! / 100).toFixed(2)} %)</dt>
            <dd>{price(protocolFee)}</dd>
            <dt>To the owner and contributors</dt>
            <dd>{price(d.price - protocolFee)}</dd>
          </dl>
        ) : null}
        <p className="muted">
          Your payment stays in the dataset's escrow until the key is delivered and the dispute window has passed. If the key is
          not delivered within {formatDuration(d.deliveryWindowSecs)}, you can ask for a refund. After delivery, you have{" "}
          {formatDuration(d.disputeWindowSecs)} to open a dispute.
        </p>
      </section>

      <section aria-labelledby="terms-title">
        <h2 id="terms-title">Licence terms</h2>
        <ul>{termsInWords(d.terms).map((line) => <li key={line}>{line}</li>)}</ul>
        {d.allowListEnabled ? <p>Only buyers on the owner's allow list may buy.</p> : null}
      </section>

      <section aria-labelledby="ratings-title">
        <h2 id="ratings-title">Ratings and reviews</h2>
        <p>
          {paidRating === null ? "No review by a paying buyer yet." : `Paying buyers: ${paidRating.toFixed(1)} / 5 from ${d.ratings.paid.count} reviews.`}
          {freeRating === null ? "" : ` Free licences: ${freeRating.toFixed(1)} / 5 from ${d.ratings.free.count}.`}
        </p>
        {reviews.length > 0 ? (
          <ul>
            {reviews.map((r) => (
              <li key={r.address}>
                {r.data.rating} / 5 by <code>{r.data.reviewer}</code>{r.data.paid ? "" : " (free licence)"}
                {r.data.uri ? <> · text at <code>{r.data.uri}</code></> : null}
                <ReviewText review={r.data} />
              </li>
            ))}
          </ul>
        ) : null}
      </section>

      <UsageByPurpose dataset={d} />

      <section aria-labelledby="people-title">
        <h2 id="people-title">Owner and contributors</h2>
        <p>Owner: <code>{d.owner}</code></p>
        <ul aria-label="Revenue shares">
          {recipients.map((r) => (
            <li key={r.wallet}>
              <code>{r.wallet}</code>{r.wallet === d.owner ? " (owner)" : ""}: {(r.bps / 100).toFixed(2)} % of the revenue
            </li>
          ))}
        </ul>
      </section>

      <PreviewPanel dataset={dataset} />

      <BuyPanel dataset={dataset} formatPrice={price} onPriceChanged={() => setReload((n) => n + 1)} />
    </article>
  );
}
