// Browse and search: the SDK's discovery layer (the chain, or an indexer checked against it),
// filters, sort and cursor pages.
import { useEffect, useId, useState, type FormEvent } from "react";
import { isAddress, type Account, type Address } from "@solana/kit";

import { parseAmount } from "../../../src/client/universal.js";
import { DatasetCategory, DatasetState, datasetAverageRating, type Dataset, type DatasetQuery, type DatasetSort } from "../../../src/sdk/index.js";
import { explainForPeople } from "../errors.js";
import { CATEGORY_NAMES, STATE_NAMES } from "../format.js";
import { useMint, useTokenAmount } from "../hooks.js";
import { useMarket } from "../market.js";

interface Filters {
  text: string;
  category: string;
  tag: string;
  minPrice: string;
  maxPrice: string;
  paymentMint: string;
  state: string;
  sort: DatasetSort;
}

const EMPTY: Filters = { text: "", category: "", tag: "", minPrice: "", maxPrice: "", paymentMint: "", state: "listed", sort: "newest" };
const PAGE_SIZE = 10;
/** Price bounds are typed in tokens; without a payment mint they are read with USDC's 6 decimals. */
const DEFAULT_DECIMALS = 6;

function toQuery(f: Filters, decimals: number): DatasetQuery {
  const query: DatasetQuery = { sort: f.sort };
  if (f.text.trim()) query.text = f.text.trim();
  if (f.category !== "") query.category = Number(f.category) as DatasetCategory;
  if (f.tag.trim()) query.tags = [f.tag.trim()];
  if (f.minPrice.trim()) query.minPrice = parseAmount(f.minPrice.trim(), decimals);
  if (f.maxPrice.trim()) query.maxPrice = parseAmount(f.maxPrice.trim(), decimals);
  if (f.paymentMint.trim()) {
    if (!isAddress(f.paymentMint.trim())) throw new RangeError("the payment mint is not a Solana address");
    query.paymentMint = f.paymentMint.trim() as Address;
  }
  query.state = f.state === "listed" || f.state === "any" ? f.state : (Number(f.state) as DatasetState);
  return query;
}

export function Browse() {
  const { discovery, health, revision } = useMarket();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [result, setResult] = useState<{ datasets: Account<Dataset>[]; next: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const mintFilter = isAddress(filters.paymentMint.trim()) ? (filters.paymentMint.trim() as Address) : null;
  const filterMint = useMint(mintFilter);
  const ids = useId();
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    if (health.status !== "ready") return;
    let current = true;
    setLoading(true);
    setError(null);
    (async () => {
      const query = toQuery(filters, filterMint?.decimals ?? DEFAULT_DECIMALS);
      const page = await discovery.searchDatasets(query, { limit: PAGE_SIZE, cursor });
      if (current) setResult({ datasets: page.datasets, next: page.nextCursor });
    })()
      .catch((e: unknown) => current && setError(e instanceof RangeError ? e.message : explainForPeople(e).message))
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
  }, [discovery, filters, cursor, health.status, revision, filterMint]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
    setCursors([undefined]);
  };
  const field = (name: keyof Filters) => ({
    id: `${ids}-${name}`,
    value: draft[name],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }),
  });

  return (
    <section aria-labelledby={`${ids}-title`}>
      <h1 id={`${ids}-title`}>Datasets</h1>
      <form className="filters" onSubmit={submit} aria-label="Search and filters">
        <label htmlFor={`${ids}-text`}>Search titles and tags</label>
        <input type="search" {...field("text")} />
        <label htmlFor={`${ids}-category`}>Category</label>
        <select {...field("category")}>
          <option value="">Any category</option>
          {Object.entries(CATEGORY_NAMES).map(([value, name]) => (
            <option key={value} value={value}>{name}</option>
          ))}
        </select>
        <label htmlFor={`${ids}-tag`}>Tag</label>
        <input {...field("tag")} />
        <label htmlFor={`${ids}-minPrice`}>Minimum price (tokens)</label>
        <input inputMode="decimal" {...field("minPrice")} />
        <label htmlFor={`${ids}-maxPrice`}>Maximum price (tokens)</label>
        <input inputMode="decimal" {...field("maxPrice")} />
        <label htmlFor={`${ids}-paymentMint`}>Payment mint</label>
        <input {...field("paymentMint")} placeholder="any" />
        <label htmlFor={`${ids}-state`}>State</label>
        <select {...field("state")}>
          <option value="listed">Listed (on sale, paused, deprecated, retired)</option>
          <option value="any">Any state</option>
          {Object.entries(STATE_NAMES).map(([value, name]) => (
            <option key={value} value={value}>{name}</option>
          ))}
        </select>
        <label htmlFor={`${ids}-sort`}>Sort by</label>
        <select {...field("sort")}>
          <option value="newest">Newest</option>
          <option value="rating">Rating</option>
          <option value="sales">Sales</option>
          <option value="price">Price, lowest first</option>
          <option value="price_desc">Price, highest first</option>
          <option value="relevance">Relevance (with search words)</option>
        </select>
        <button type="submit">Search</button>
      </form>
      <p className="muted">Searching {discovery.source === "indexer" ? `${discovery.label}, every result checked on the chain` : `the chain through ${discovery.label}`}.</p>
      {error ? <p role="alert" className="error">{error}</p> : null}
      <div aria-live="polite" aria-busy={loading}>
        {loading ? <p>Loading…</p> : null}
        {result && !loading ? (
          result.datasets.length === 0 ? (
            <p>No dataset matches.</p>
          ) : (
            <ul className="results">
              {result.datasets.map((d) => (
                <DatasetRow key={d.address} dataset={d} />
              ))}
            </ul>
          )
        ) : null}
      </div>
      <nav aria-label="Pages" className="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!result?.next} onClick={() => result?.next && setCursors([...cursors, result.next])}>
          Next page
        </button>
      </nav>
    </section>
  );
}

function DatasetRow({ dataset }: { dataset: Account<Dataset> }) {
  const price = useTokenAmount(dataset.data.paymentMint)!;
  const rating = datasetAverageRating(dataset.data);
  return (
    <li className="result">
      <a href={`#/dataset/${dataset.address}`}>{dataset.data.title || "(untitled)"}</a>
      <span>{CATEGORY_NAMES[dataset.data.category]}</span>
      <span>{STATE_NAMES[dataset.data.state]}</span>
      <span>{dataset.data.price === 0n ? "Free" : price(dataset.data.price)}{dataset.data.terms.metered ? " per use" : ""}</span>
      <span>{rating === null ? "No ratings yet" : `Rated ${rating.toFixed(1)} / 5 (${dataset.data.ratings.paid.count})`}</span>
      <span>{dataset.data.licensesSold.toString()} sold</span>
    </li>
  );
}
