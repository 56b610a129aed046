//! `indexer bench`: builds a store of synthetic datasets (encoded with the program's types, as the
//! chain would deliver them) and times ingest and the API's query shapes.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use data_market::state::{DatasetCategory, DatasetState};
use serde_json::{json, Value};

use crate::fixtures::{dataset_bytes, DatasetSpec};
use crate::db::IndexStore;
use crate::query::{Search, Sort};
use crate::store::Update;

const WORDS: [&str; 48] = [
    "support", "chat", "medical", "legal", "finance", "images", "street", "audio", "speech", "code", "python",
    "rust", "weather", "traffic", "retail", "sales", "reviews", "news", "english", "french", "german", "spanish",
    "satellite", "drone", "genome", "protein", "music", "podcast", "invoices", "receipts", "contracts", "emails",
    "tickets", "forum", "wiki", "books", "patents", "sensor", "lidar", "radar", "faces", "cars", "birds", "plants",
    "math", "physics", "games", "sports",
];
const CATEGORIES: [DatasetCategory; 8] = [
    DatasetCategory::Text,
    DatasetCategory::Image,
    DatasetCategory::Audio,
    DatasetCategory::Video,
    DatasetCategory::Code,
    DatasetCategory::Tabular,
    DatasetCategory::Multimodal,
    DatasetCategory::Other,
];

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn address(i: u64) -> String {
    let mut bytes = [7u8; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    Pubkey::new_from_array(bytes).to_string()
}

fn owner(i: usize) -> Pubkey {
    let mut bytes = [9u8; 32];
    bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Pubkey::new_from_array(bytes)
}

pub(crate) fn synthetic(i: u64, rng: &mut Rng) -> DatasetSpec {
    let title: Vec<&str> = (0..3 + rng.below(4)).map(|_| WORDS[rng.below(WORDS.len())]).collect();
    let tags = (0..1 + rng.below(5)).map(|_| WORDS[rng.below(WORDS.len())].to_owned()).collect();
    let ratings = rng.below(20) as u32;
    DatasetSpec {
        revision: 1,
        owner: owner(rng.below(1_000)),
        title: title.join(" "),
        tags,
        category: CATEGORIES[rng.below(CATEGORIES.len())],
        state: if rng.below(20) == 0 { DatasetState::Unlisted } else { DatasetState::Active },
        price: rng.below(100_000) as u64 * 1_000,
        payment_mint: Pubkey::new_from_array([1; 32]),
        licenses_sold: rng.below(500) as u64,
        ratings: (ratings, u64::from(ratings) * (1 + rng.below(5)) as u64),
        created_at: 1_700_000_000 + i as i64,
        ..Default::default()
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1_000.0
}

/// Fills `store` (SQLite or PostgreSQL) with `datasets` synthetic datasets and times `rounds` runs
/// of each query shape.
pub async fn run(store: &dyn IndexStore, datasets: u64, rounds: usize) -> Value {
    let mut rng = Rng(42);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(1_000);
    let mut bytes = 0usize;
    for i in 0..datasets {
        let data = dataset_bytes(&synthetic(i, &mut rng));
        bytes += data.len();
        batch.push(Update::Upsert { address: address(i), slot: 1 + i / 1_000, data });
        if batch.len() == 1_000 {
            store.apply(&batch).await.expect("apply");
            batch.clear();
        }
    }
    store.apply(&batch).await.expect("apply");
    store.checkpoint(1 + datasets / 1_000).await.expect("checkpoint");
    let ingest = started.elapsed();
    let started = Instant::now();
    store.after_bulk_load().await.expect("statistics");
    let statistics = started.elapsed();

    let started = Instant::now();
    let held = store.open_accounts().await.expect("open accounts").len();
    let registry = started.elapsed();

    // a cursor deep into the newest-first listing
    let mut deep_cursor = None;
    for _ in 0..10 {
        let page = store
            .search(&Search { cursor: deep_cursor.clone(), limit: Some(20), ..Default::default() })
            .await
            .expect("page");
        deep_cursor = page["next_cursor"].as_str().map(str::to_owned);
    }

    type Shape = Box<dyn Fn(&mut Rng) -> Search>;
    let shapes: Vec<(&str, Shape)> = vec![
        ("text_one_word", Box::new(|r| Search { q: Some(WORDS[r.below(48)].into()), ..Default::default() })),
        (
            "text_two_words",
            Box::new(|r| Search { q: Some(format!("{} {}", WORDS[r.below(48)], WORDS[r.below(48)])), ..Default::default() }),
        ),
        (
            "text_prefix_with_facets",
            Box::new(|r| Search { q: Some(WORDS[r.below(48)][..3].into()), facets: true, ..Default::default() }),
        ),
        (
            "tag_sorted_by_price",
            Box::new(|r| Search { tags: vec![WORDS[r.below(48)].into()], sort: Some(Sort::Price), ..Default::default() }),
        ),
        (
            "category_sorted_by_rating",
            Box::new(|r| Search {
                category: Some(crate::decode::variant_name(&CATEGORIES[r.below(8)])),
                sort: Some(Sort::Rating),
                ..Default::default()
            }),
        ),
        ("newest_with_facets", Box::new(|_| Search { facets: true, ..Default::default() })),
        ("owner", Box::new(|r| Search { owner: Some(owner(r.below(1_000)).to_string()), ..Default::default() })),
        (
            "price_range_by_sales",
            Box::new(|r| {
                let low = r.below(90_000) as u64 * 1_000;
                Search { min_price: Some(low), max_price: Some(low + 5_000_000), sort: Some(Sort::Sales), ..Default::default() }
            }),
        ),
        ("page_11_newest", {
            let cursor = deep_cursor.clone();
            Box::new(move |_| Search { cursor: cursor.clone(), limit: Some(20), ..Default::default() })
        }),
    ];
    let mut queries = serde_json::Map::new();
    for (name, shape) in &shapes {
        let mut samples = Vec::with_capacity(rounds);
        let mut hits = 0usize;
        for _ in 0..rounds {
            let search = shape(&mut rng);
            let started = Instant::now();
            let result = store.search(&search).await.expect("search");
            samples.push(started.elapsed());
            hits += result["items"].as_array().map_or(0, Vec::len);
        }
        queries.insert(
            (*name).into(),
            json!({ "p50_ms": percentile(&mut samples, 0.5), "p95_ms": percentile(&mut samples, 0.95),
                    "mean_items": hits as f64 / rounds as f64 }),
        );
    }
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let target = address(rng.below(datasets.max(1) as usize) as u64);
        let started = Instant::now();
        store.dataset(&target).await.expect("detail");
        samples.push(started.elapsed());
    }
    queries.insert("detail".into(), json!({ "p50_ms": percentile(&mut samples, 0.5), "p95_ms": percentile(&mut samples, 0.95) }));
    json!({
        "datasets": datasets,
        "account_bytes": bytes,
        "ingest_s": ingest.as_secs_f64(),
        "ingest_per_s": datasets as f64 / ingest.as_secs_f64(),
        "statistics_s": statistics.as_secs_f64(),
        "registry_read_ms": registry.as_secs_f64() * 1_000.0,
        "registry_rows": held,
        "rounds": rounds,
        "queries": queries,
    })
}
