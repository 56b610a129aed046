// On the dataset page: the uses recorded under its licences, by purpose, and each review's text
// (read from IPFS and shown only when it matches the hash on chain).
import { useEffect, useState } from "react";

import type { Dataset, Review, UsagePurpose } from "../../../src/sdk/index.js";
import { PURPOSE_NAMES } from "../format.js";
import { useMarket } from "../market.js";
import { readReviewText } from "../review-text.js";

export function UsageByPurpose({ dataset }: { dataset: Dataset }) {
  const counts = dataset.usageByPurpose.map((n, purpose) => ({ purpose: purpose as UsagePurpose, n })).filter((c) => c.n > 0n);
  const total = counts.reduce((sum, c) => sum + c.n, 0n);
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Recorded uses</h2>
      {total === 0n ? (
        <p>No use recorded yet.</p>
      ) : (
        <>
          <p>{total.toString()} {total === 1n ? "use" : "uses"} recorded on chain by licence holders:</p>
          <ul aria-label="Uses by purpose">
            {counts.map((c) => <li key={c.purpose}>{PURPOSE_NAMES[c.purpose]}: {c.n.toString()}</li>)}
          </ul>
        </>
      )}
    </section>
  );
}

export function ReviewText({ review }: { review: Review }) {
  const { config } = useMarket();
  const [text, setText] = useState<string | null>(null);
  const gateway = config.ipfsGateway;
  useEffect(() => {
    if (!gateway) return;
    const controller = new AbortController();
    void readReviewText(gateway, review.uri, new Uint8Array(review.textHash), controller.signal).then(setText);
    return () => controller.abort();
  }, [gateway, review.uri, review.textHash]);
  return text === null ? null : <blockquote className="review-text">{text}</blockquote>;
}
