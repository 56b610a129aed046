//! The store's behaviour through `IndexStore`, on SQLite and on PostgreSQL alike: the slot guard,
//! tombstones, the checkpoint, every query shape, sanitised text search and the convergence
//! property. PostgreSQL needs INDEXER_TEST_POSTGRES (see support/backends.rs); its query plans are
//! checked at the end.

#[path = "support/backends.rs"]
mod backends;

use backends::{runtime, Backend, TestStore};
use data_market::state::{DatasetCategory, DatasetState};
use indexer::db::{IndexStore, SqliteStore};
use indexer::fixtures::{dataset_bytes, key, license_bytes, receipt_bytes, review_bytes, DatasetSpec};
use indexer::query::{self, Search, Sort};
use indexer::store::{Applied, Update};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

fn upsert(address: &str, slot: u64, data: Vec<u8>) -> Update {
    Update::Upsert { address: address.into(), slot, data }
}

fn close(address: &str, slot: u64) -> Update {
    Update::Close { address: address.into(), slot }
}

fn spec(revision: u64, title: &str) -> DatasetSpec {
    DatasetSpec { revision, title: title.into(), ..Default::default() }
}

fn titles(result: &Value) -> Vec<String> {
    result["items"].as_array().unwrap().iter().map(|item| item["title"].as_str().unwrap().to_owned()).collect()
}

async fn search(store: &dyn IndexStore, search: Search) -> Value {
    store.search(&search).await.unwrap()
}

fn text(q: &str) -> Search {
    Search { q: Some(q.into()), ..Default::default() }
}

/// Runs `$test(store)` on a fresh store of each backend: `sqlite::$test`, `postgres::$test`.
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $test() {
                super::run(super::Backend::Sqlite, stringify!($test), |store| Box::pin(super::$test(store)));
            })*
        }
        mod postgres {
            $(#[test]
            fn $test() {
                super::run(super::Backend::Postgres, stringify!($test), |store| Box::pin(super::$test(store)));
            })*
        }
    };
}

type Body = for<'a> fn(&'a dyn IndexStore) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

fn run(backend: Backend, test: &str, body: Body) {
    let runtime = runtime();
    runtime.block_on(async {
        let Some(store) = TestStore::new(backend, test).await else { return };
        body(store.store.as_ref()).await;
        store.finish().await;
    });
}

on_both_stores!(
    slot_guard_keeps_the_newest_observation,
    a_close_removes_the_row_and_a_stale_update_cannot_bring_it_back,
    undecodable_data_is_counted_and_skipped,
    checkpoint_only_moves_forward,
    user_queries_never_fail_and_match_as_typed,
    search_filters_sorts_and_counts_facets,
    cursor_pages_through_every_result_once,
    related_lists_page_newest_first,
    bench_query_shapes_run_and_find_results,
    the_activity_feed_keeps_each_event_once_and_files_closes_under_their_dataset,
);

/// The feed on both stores: idempotent by (signature, index), a close applied and filed under the
/// closed dataset, newest-first pages by cursor, one event name, the backfill mark.
async fn the_activity_feed_keeps_each_event_once_and_files_closes_under_their_dataset(store: &dyn IndexStore) {
    use indexer::activity::{PageRequest, Scope, TransactionEvents};
    use indexer::events::decode_event;
    let dataset = indexer::fixtures::key(4);
    store.apply(&[upsert(&dataset.to_string(), 10, dataset_bytes(&spec(1, "feed")))]).await.unwrap();
    let state_changed = data_market::events::DatasetStateChanged {
        dataset,
        state: data_market::state::DatasetState::Retired,
        reason: 0,
    };
    let closed = data_market::events::AccountClosed { account: dataset, rent_to: indexer::fixtures::key(1), lamports: 9 };
    let transactions: Vec<TransactionEvents> = (0..5u64)
        .map(|i| TransactionEvents {
            signature: format!("sig{i}"),
            slot: 11 + i,
            events: if i < 4 {
                vec![decode_event(&anchor_lang::Event::data(&state_changed)).unwrap(); 2]
            } else {
                vec![decode_event(&anchor_lang::Event::data(&closed)).unwrap()]
            },
        })
        .collect();
    let (new, applied) = store.record_events(&transactions).await.unwrap();
    assert_eq!((new, applied.closed), (9, 1));
    let (new, _) = store.record_events(&transactions).await.unwrap();
    assert_eq!(new, 0);
    assert!(store.dataset(&dataset.to_string()).await.unwrap().is_none());
    assert!(store.has_transaction("sig3").await.unwrap());
    assert!(!store.has_transaction("sig9").await.unwrap());

    let page = |cursor: Option<String>, name: Option<&str>| PageRequest {
        scope: Scope::Dataset(dataset.to_string()),
        name: name.map(str::to_owned),
        cursor,
        limit: Some(4),
    };
    let first = store.activity(&page(None, None)).await.unwrap();
    let names: Vec<&str> = first["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["AccountClosed", "DatasetStateChanged", "DatasetStateChanged", "DatasetStateChanged"]);
    assert_eq!(first["items"][1]["fields"]["state"], "retired");
    let mut seen = first["items"].as_array().unwrap().len();
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let more = store.activity(&page(Some(next), None)).await.unwrap();
        seen += more["items"].as_array().unwrap().len();
        cursor = more["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 9);
    let closes = store.activity(&page(None, Some("AccountClosed"))).await.unwrap();
    assert_eq!(closes["items"].as_array().unwrap().len(), 1);

    assert_eq!(store.backfilled_until().await.unwrap(), None);
    store.set_backfilled_until("sig4").await.unwrap();
    assert_eq!(store.backfilled_until().await.unwrap().as_deref(), Some("sig4"));
}

async fn slot_guard_keeps_the_newest_observation(store: &dyn IndexStore) {
    let applied = store.apply(&[upsert("D", 10, dataset_bytes(&spec(2, "new title")))]).await.unwrap();
    assert_eq!(applied.upserted, 1);
    // an older slot is ignored
    let applied = store.apply(&[upsert("D", 9, dataset_bytes(&spec(1, "old title")))]).await.unwrap();
    assert_eq!(applied, Applied { stale: 1, ..Default::default() });
    // same slot: the higher revision wins, a lower one is ignored, an equal one applies again
    assert_eq!(store.apply(&[upsert("D", 10, dataset_bytes(&spec(1, "older")))]).await.unwrap().stale, 1);
    assert_eq!(store.apply(&[upsert("D", 10, dataset_bytes(&spec(3, "newer")))]).await.unwrap().upserted, 1);
    assert_eq!(store.apply(&[upsert("D", 10, dataset_bytes(&spec(3, "newer")))]).await.unwrap().upserted, 1);
    assert_eq!(titles(&search(store, Search::default()).await), ["newer"]);
    // the text index follows the row
    assert_eq!(titles(&search(store, text("newer")).await), ["newer"]);
    assert!(titles(&search(store, text("title")).await).is_empty());
    let held = store.open_accounts().await.unwrap();
    assert_eq!(held["D"], (indexer::decode::Kind::Dataset, 3));
}

async fn a_close_removes_the_row_and_a_stale_update_cannot_bring_it_back(store: &dyn IndexStore) {
    store.apply(&[upsert("D", 10, dataset_bytes(&spec(1, "gone soon")))]).await.unwrap();
    assert_eq!(store.apply(&[close("D", 12)]).await.unwrap().closed, 1);
    assert!(store.dataset("D").await.unwrap().is_none());
    assert!(titles(&search(store, text("gone")).await).is_empty());
    assert_eq!(store.apply(&[upsert("D", 11, dataset_bytes(&spec(2, "gone soon")))]).await.unwrap().stale, 1);
    // a close wins a tie
    assert_eq!(store.apply(&[upsert("D", 12, dataset_bytes(&spec(9, "gone soon")))]).await.unwrap().stale, 1);
    assert!(store.open_accounts().await.unwrap().is_empty());
    // re-created later at the same address (e.g. a licence bought again after closing one)
    assert_eq!(store.apply(&[upsert("D", 13, dataset_bytes(&spec(1, "back")))]).await.unwrap().upserted, 1);
    assert_eq!(titles(&search(store, Search::default()).await), ["back"]);
    assert_eq!(store.dataset("D").await.unwrap().unwrap()["slot"], 13);
    // a close seen before any upsert leaves a tombstone that older upserts respect
    let applied = store.apply(&[close("L", 20), upsert("L", 19, license_bytes(1, key(5), key(6)))]).await.unwrap();
    assert_eq!(applied, Applied { closed: 1, stale: 1, ..Default::default() });
    // an account that changes kind at the same address leaves no row of the old kind behind
    store.apply(&[upsert("K", 30, dataset_bytes(&spec(1, "was a dataset")))]).await.unwrap();
    store.apply(&[upsert("K", 31, license_bytes(1, key(20), key(6)))]).await.unwrap();
    assert!(store.dataset("K").await.unwrap().is_none());
    assert!(titles(&search(store, text("dataset")).await).is_empty());
}

async fn undecodable_data_is_counted_and_skipped(store: &dyn IndexStore) {
    let applied = store.apply(&[upsert("X", 1, vec![0; 40])]).await.unwrap();
    assert_eq!(applied.undecodable, 1);
    assert!(store.open_accounts().await.unwrap().is_empty());
}

async fn checkpoint_only_moves_forward(store: &dyn IndexStore) {
    assert_eq!(store.indexed_slot().await.unwrap(), None);
    store.checkpoint(50).await.unwrap();
    store.checkpoint(40).await.unwrap();
    assert_eq!(store.indexed_slot().await.unwrap(), Some(50));
    // past 2^32 and compared as numbers, not as text
    store.checkpoint(100_000_000_000).await.unwrap();
    store.checkpoint(99_999_999_999).await.unwrap();
    assert_eq!(store.indexed_slot().await.unwrap(), Some(100_000_000_000));
}

async fn user_queries_never_fail_and_match_as_typed(store: &dyn IndexStore) {
    store
        .apply(&[
            upsert("D1", 1, dataset_bytes(&spec(1, "Support chats"))),
            upsert("D2", 1, dataset_bytes(&spec(1, "Café données météo"))),
            upsert("D3", 1, dataset_bytes(&spec(1, "support-desk e-mails (2024)"))),
        ])
        .await
        .unwrap();
    // nothing a user types makes the text query fail
    for q in [
        "\"",
        "*",
        "AND",
        "NEAR(a b",
        "title:",
        "a\"b",
        "^x",
        "((((",
        "-x",
        "héllo wörld",
        "'",
        "''",
        "a'b",
        "!",
        "&",
        "|",
        ":*",
        "a & b",
        "a | !b",
        "<->",
        "a <-> b",
        "\\",
        "%",
        "_",
        ";",
        "--",
        "/*",
        "DROP TABLE datasets;",
        "\0",
        "🙂",
        "a:*b",
        "x:A",
        "é'é",
    ] {
        store.search(&text(q)).await.unwrap_or_else(|e| panic!("{q:?}: {e:?}"));
    }
    // prefix of the last term, any case
    let mut found = titles(&search(store, text("SUPP")).await);
    found.sort();
    assert_eq!(found, ["Support chats", "support-desk e-mails (2024)"]);
    assert_eq!(titles(&search(store, text("support chat")).await), ["Support chats"]);
    // punctuation splits words, as the sanitiser splits what users type
    assert_eq!(titles(&search(store, text("desk mails 2024")).await), ["support-desk e-mails (2024)"]);
    // diacritics folded both ways
    assert_eq!(titles(&search(store, text("cafe donnees")).await), ["Café données météo"]);
    assert_eq!(titles(&search(store, text("météo")).await), ["Café données météo"]);
    // only punctuation: no text query at all (newest first)
    assert_eq!(search(store, text("  ---  ")).await["items"].as_array().unwrap().len(), 3);
}

async fn market(store: &dyn IndexStore) {
    let rows = [
        ("D1", "Support chats English", vec!["chat", "en"], 5_000_000, 3, (2, 9), 100, key(1)),
        ("D2", "Support chats French", vec!["chat", "fr"], 1_000_000, 10, (1, 3), 200, key(1)),
        ("D3", "Street images", vec!["vision"], 9_000_000, 1, (0, 0), 300, key(2)),
        ("D4", "Python code", vec!["code", "chat"], 2_000_000, 7, (3, 15), 400, key(2)),
    ];
    let updates: Vec<Update> = rows
        .iter()
        .map(|(address, title, tags, price, sold, ratings, created, owner)| {
            upsert(
                address,
                1,
                dataset_bytes(&DatasetSpec {
                    title: title.to_string(),
                    tags: tags.iter().map(|t| t.to_string()).collect(),
                    price: *price,
                    licenses_sold: *sold,
                    ratings: *ratings,
                    created_at: *created,
                    owner: *owner,
                    ..Default::default()
                }),
            )
        })
        .collect();
    store.apply(&updates).await.unwrap();
}

async fn search_filters_sorts_and_counts_facets(store: &dyn IndexStore) {
    market(store).await;
    let all = search(store, Search { facets: true, ..Default::default() }).await;
    assert_eq!(titles(&all), ["Python code", "Street images", "Support chats French", "Support chats English"]);
    assert_eq!(all["facets"]["tag"]["chat"], 3);
    assert_eq!(all["facets"]["category"]["text"], 4);
    assert_eq!(all["facets"]["state"]["active"], 4);
    assert_eq!(all["sort"], "newest");
    let chat = Search { tags: vec!["chat".into()], ..Default::default() };
    assert_eq!(
        titles(&search(store, Search { sort: Some(Sort::Price), ..chat.clone() }).await)[0],
        "Support chats French"
    );
    assert_eq!(
        titles(&search(store, Search { sort: Some(Sort::Sales), ..chat.clone() }).await)[0],
        "Support chats French"
    );
    assert_eq!(titles(&search(store, Search { sort: Some(Sort::Rating), ..chat.clone() }).await)[0], "Python code");
    let priced = Search { min_price: Some(2_000_000), max_price: Some(5_000_000), ..chat.clone() };
    assert_eq!(titles(&search(store, priced).await), ["Python code", "Support chats English"]);
    let owned = Search { owner: Some(key(2).to_string()), sort: Some(Sort::PriceDesc), ..Default::default() };
    assert_eq!(titles(&search(store, owned).await), ["Street images", "Python code"]);
    let tags = Search { tags: vec!["CHAT".into(), "en".into()], ..Default::default() };
    assert_eq!(titles(&search(store, tags).await), ["Support chats English"]);
    assert!(titles(&search(store, Search { category: Some("image".into()), ..Default::default() }).await).is_empty());
    assert!(titles(&search(store, Search { state: Some("unlisted".into()), ..Default::default() }).await).is_empty());
    let mint = Search { payment_mint: Some(key(9).to_string()), ..Default::default() };
    assert_eq!(titles(&search(store, mint).await).len(), 4);
    let found = search(store, Search { q: Some("support english".into()), facets: true, ..Default::default() }).await;
    assert_eq!(titles(&found), ["Support chats English"]);
    assert_eq!(found["facets"]["tag"]["en"], 1);
    assert_eq!(found["sort"], "relevance");
    assert!(found["items"][0]["score"].as_f64().unwrap() > 0.0);
    assert_eq!(found["items"][0]["slot"], 1);
    assert_eq!(found["items"][0]["price"], "5000000");
    assert_eq!(found["items"][0]["rating"]["average"], 4.5);
    // the title weighs more than tags: "chat" is in two titles and in D4's tags only
    let ranked = search(store, Search { q: Some("chat".into()), ..Default::default() }).await;
    assert_eq!(titles(&ranked).last().map(String::as_str), Some("Python code"));
    let detail = store.dataset("D4").await.unwrap().unwrap();
    assert_eq!(detail["account"]["ratings"]["paid"]["sum"], 15);
    assert_eq!(detail["tags"], serde_json::json!(["chat", "code"]));
    assert_eq!(detail["price"], "2000000");
    assert!(store.dataset("nothing").await.unwrap().is_none());
}

async fn cursor_pages_through_every_result_once(store: &dyn IndexStore) {
    // equal sort keys on purpose: the address breaks ties
    let updates: Vec<Update> = (0..25)
        .map(|i| {
            let spec = DatasetSpec {
                title: format!("set {i}"),
                price: (i % 3) as u64,
                ratings: (1, (i % 2) as u64 + 3),
                ..Default::default()
            };
            upsert(&format!("A{i:02}"), 1, dataset_bytes(&spec))
        })
        .collect();
    store.apply(&updates).await.unwrap();
    for sort in [Sort::Price, Sort::PriceDesc, Sort::Newest, Sort::Rating, Sort::Sales, Sort::Relevance] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let q = if sort == Sort::Relevance { Some("set".to_string()) } else { None };
            let page = search(
                store,
                Search { q, sort: Some(sort), limit: Some(7), cursor: cursor.clone(), ..Default::default() },
            )
            .await;
            seen.extend(titles(&page));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (25, 25), "{sort:?}");
    }
    let bad = store.search(&Search { cursor: Some("!!".into()), ..Default::default() }).await;
    assert_eq!(bad.unwrap_err(), query::QueryError::BadCursor);
}

async fn related_lists_page_newest_first(store: &dyn IndexStore) {
    let dataset = key(20);
    let license = key(21);
    let mut updates: Vec<Update> = (0..3u8)
        .map(|i| upsert(&key(30 + i).to_string(), 5, license_bytes(1 + u64::from(i), dataset, key(6 + i % 2))))
        .collect();
    updates.push(upsert(&key(22).to_string(), 6, review_bytes(1, license, dataset, 4)));
    updates.push(upsert(&dataset.to_string(), 4, dataset_bytes(&DatasetSpec { owner: key(7), ..spec(1, "Owned") })));
    store.apply(&updates).await.unwrap();
    let list = |name: &str, value: String, cursor: Option<String>, limit: Option<usize>| {
        let (table, filter, order) = query::list_kind(name).unwrap();
        query::List { table, filter, value, order, cursor, limit }
    };
    let page = store.list(&list("dataset_licenses", dataset.to_string(), None, Some(2))).await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["price_paid"], "1000000");
    assert_eq!(page["items"][0]["state"], "awaiting_key");
    assert!(page["items"][0].get("data").is_none());
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = store.list(&list("dataset_licenses", dataset.to_string(), Some(cursor), Some(2))).await.unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    let mut addresses: Vec<Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|i| i["address"].clone())
        .collect();
    addresses.dedup();
    assert_eq!(addresses.len(), 3);
    let reviews = store.list(&list("dataset_reviews", dataset.to_string(), None, None)).await.unwrap();
    assert_eq!((reviews["items"][0]["rating"].as_u64(), reviews["items"][0]["paid"].as_bool()), (Some(4), Some(true)));
    let mine = store.list(&list("licensee_licenses", key(7).to_string(), None, None)).await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let pending = store.list(&list("owner_pending_deliveries", key(7).to_string(), None, None)).await.unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 3);
    let owned = store.list(&list("owner_datasets", key(7).to_string(), None, None)).await.unwrap();
    assert_eq!(owned["items"][0]["title"], "Owned");
    assert_eq!(owned["items"][0]["price"], "1000000");
    let receipts: Vec<Update> = [(key(30), [0xab; 32], 0), (key(30), [0xcd; 32], 1), (key(31), [0xab; 32], 0)]
        .iter()
        .enumerate()
        .map(|(n, (license, model, index))| {
            let at = 1_700_000_300 + n as i64;
            upsert(&key(40 + n as u8).to_string(), 7, receipt_bytes(*license, dataset, *model, *index, at))
        })
        .collect();
    store.apply(&receipts).await.unwrap();
    let addresses = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|i| i["address"].as_str().unwrap().to_owned()).collect()
    };
    let by_model = store.list(&list("model_receipts", "ab".repeat(32), None, None)).await.unwrap();
    assert_eq!(addresses(&by_model), [key(42).to_string(), key(40).to_string()], "newest first, only model ab…");
    let by_license = store.list(&list("license_receipts", key(30).to_string(), None, None)).await.unwrap();
    assert_eq!(addresses(&by_license), [key(41).to_string(), key(40).to_string()]);
    let bad = store.list(&list("owner_datasets", key(7).to_string(), Some("??".into()), None)).await;
    assert_eq!(bad.unwrap_err(), query::QueryError::BadCursor);
}

async fn bench_query_shapes_run_and_find_results(store: &dyn IndexStore) {
    let result = indexer::bench::run(store, 400, 2).await;
    assert_eq!(result["registry_rows"], 400);
    for shape in ["text_one_word", "tag_sorted_by_price", "newest_with_facets", "page_11_newest"] {
        assert!(result["queries"][shape]["mean_items"].as_f64().unwrap() > 0.0, "{shape}: {result}");
    }
}

// ---------------------------------------------------------------------------------------------
// Convergence: shuffled, duplicated and stale streams give the in-order result, on both stores,
// and both stores hold the same rows for the same stream.

/// One account's true history: writes with rising revisions, closes, re-creations (a re-created
/// account starts again at revision 1), at non-decreasing slots. A re-creation never shares a slot
/// with the close before it (the one case the store resolves only at the next observation).
#[derive(Clone, Debug)]
enum Step {
    Write { slot_gap: u64, title: u8 },
    Close { slot_gap: u64 },
}

fn history(address: &str, steps: &[Step]) -> Vec<Update> {
    let mut slot = 1;
    let mut revision = 0;
    let mut open = false;
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Write { slot_gap, title } => {
                slot += if open { *slot_gap } else { (*slot_gap).max(1) };
                if !open {
                    revision = 0;
                }
                revision += 1;
                open = true;
                // tags, state and category move with the title, so facet counts go up and down
                let tags = (0..title % 3).map(|n| format!("t{}", (title / 3 + n) % 4)).collect();
                let state = [DatasetState::Active, DatasetState::Unlisted, DatasetState::OrderingPaused, DatasetState::Revoked]
                    [usize::from(title / 7 % 4)];
                let category = [DatasetCategory::Text, DatasetCategory::Image][usize::from(title / 11 % 2)];
                let spec = DatasetSpec {
                    revision,
                    title: format!("title {title}"),
                    tags,
                    state,
                    category,
                    price: *title as u64,
                    ratings: (u32::from(*title % 4), u64::from(*title)),
                    ..Default::default()
                };
                out.push(upsert(address, slot, dataset_bytes(&spec)));
            }
            Step::Close { slot_gap } => {
                if open {
                    slot += slot_gap;
                    open = false;
                    out.push(close(address, slot));
                }
            }
        }
    }
    out
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3u64, any::<u8>()).prop_map(|(slot_gap, title)| Step::Write { slot_gap, title }),
        1 => (0..3u64).prop_map(|slot_gap| Step::Close { slot_gap }),
    ]
}

type Case = (Vec<Vec<Step>>, u64, Vec<prop::sample::Index>, usize);

fn cases() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(prop::collection::vec(step(), 1..12), 1..5),
        any::<u64>(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        1..8usize,
    )
}

/// The in-order stream, and the same observations, some repeated, in a shuffled order.
fn streams((histories, order_seed, duplicates, _): &Case) -> (Vec<Update>, Vec<Update>) {
    let in_order: Vec<Update> =
        histories.iter().enumerate().flat_map(|(i, steps)| history(&format!("ACC{i}"), steps)).collect();
    let mut stream = in_order.clone();
    if in_order.is_empty() {
        return (in_order, stream);
    }
    for index in duplicates {
        stream.push(in_order[index.index(in_order.len())].clone());
    }
    let mut rng = *order_seed;
    for i in (1..stream.len()).rev() {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        stream.swap(i, (rng >> 33) as usize % (i + 1));
    }
    (in_order, stream)
}

async fn in_order_dump(in_order: &[Update]) -> Vec<String> {
    let expected = SqliteStore::in_memory().unwrap();
    for update in in_order {
        expected.apply(std::slice::from_ref(update)).await.unwrap();
    }
    expected.dump().await.unwrap()
}

/// The whole listed catalogue's facets as the store keeps them (triggers), and as a filter that
/// keeps every row (price >= 0) makes it count them over the result.
async fn listed_facets_both_ways(store: &dyn IndexStore) -> (Value, Value) {
    let kept = store.search(&Search { facets: true, ..Default::default() }).await.unwrap();
    let counted = store.search(&Search { facets: true, min_price: Some(0), ..Default::default() }).await.unwrap();
    (kept["facets"].clone(), counted["facets"].clone())
}

#[test]
fn sqlite_any_order_converges_to_the_in_order_result() {
    let runtime = runtime();
    let mut runner = TestRunner::new(Config { cases: 128, ..Config::default() });
    runner
        .run(&cases(), |case| {
            let (in_order, stream) = streams(&case);
            runtime.block_on(async {
                let actual = SqliteStore::in_memory().unwrap();
                for chunk in stream.chunks(case.3) {
                    actual.apply(chunk).await.unwrap();
                }
                prop_assert_eq!(actual.dump().await.unwrap(), in_order_dump(&in_order).await);
                let (kept, counted) = listed_facets_both_ways(&actual).await;
                prop_assert_eq!(kept, counted);
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn postgres_any_order_converges_to_the_in_order_result() {
    let runtime = runtime();
    let test = "postgres_any_order_converges_to_the_in_order_result";
    let Some((expected, actual)) = runtime.block_on(async {
        Some((TestStore::new(Backend::Postgres, test).await?, TestStore::new(Backend::Postgres, test).await?))
    }) else {
        return;
    };
    let (expected_pg, actual_pg) = (expected.postgres.clone().unwrap(), actual.postgres.clone().unwrap());
    let mut runner = TestRunner::new(Config { cases: 128, ..Config::default() });
    runner
        .run(&cases(), |case| {
            let (in_order, stream) = streams(&case);
            runtime.block_on(async {
                expected_pg.clear().await.unwrap();
                actual_pg.clear().await.unwrap();
                for update in &in_order {
                    expected_pg.apply(std::slice::from_ref(update)).await.unwrap();
                }
                for chunk in stream.chunks(case.3) {
                    actual_pg.apply(chunk).await.unwrap();
                }
                let dump = actual_pg.dump().await.unwrap();
                prop_assert_eq!(&dump, &expected_pg.dump().await.unwrap());
                // and row for row what SQLite holds for the same observations
                prop_assert_eq!(&dump, &in_order_dump(&in_order).await);
                let (kept, counted) = listed_facets_both_ways(actual_pg.as_ref()).await;
                prop_assert_eq!(kept, counted);
                Ok(())
            })
        })
        .unwrap();
    runtime.block_on(async {
        expected.finish().await;
        actual.finish().await;
    });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL's plans: text search through the GIN index, filters and orders through their btree
// indexes, on a catalogue large enough for the planner to prefer them.

#[test]
fn postgres_queries_use_their_indexes() {
    let runtime = runtime();
    runtime.block_on(async {
        let Some(test) = TestStore::new(Backend::Postgres, "postgres_queries_use_their_indexes").await else { return };
        let store = test.postgres.clone().unwrap();
        // synthetic datasets (bench's), statistics refreshed
        indexer::bench::run(store.as_ref(), 4_000, 1).await;
        let some_owner =
            store.search(&Search::default()).await.unwrap()["items"][0]["owner"].as_str().unwrap().to_owned();
        let page = store.search(&Search { limit: Some(5), ..Default::default() }).await.unwrap();
        let cursor = page["next_cursor"].as_str().map(str::to_owned);
        let shapes: [(&str, Search, &[&str]); 7] = [
            ("two words", text("medical legal"), &["Bitmap Index Scan on dataset_text_document"]),
            ("rare prefix", text("genome prot"), &["Bitmap Index Scan on dataset_text_document"]),
            ("owner", Search { owner: Some(some_owner), ..Default::default() }, &["datasets_owner"]),
            ("newest", Search::default(), &["Index Scan Backward using datasets_created"]),
            ("newest, next page", Search { cursor, limit: Some(5), ..Default::default() }, &["datasets_created"]),
            (
                "narrow price range",
                Search { min_price: Some(5_000_000), max_price: Some(5_100_000), ..Default::default() },
                &["datasets_price"],
            ),
            (
                "two tags by price",
                Search { tags: vec!["genome".into(), "radar".into()], sort: Some(Sort::Price), ..Default::default() },
                &["dataset_tags_tag"],
            ),
        ];
        for (name, search, wanted) in shapes {
            let plan = store.explain_search(&search).await.unwrap();
            for index in wanted {
                assert!(plan.contains(index), "{name}: no {index} in\n{plan}");
            }
            assert!(!plan.contains("Seq Scan on datasets"), "{name}: scans datasets\n{plan}");
            assert!(!plan.contains("Seq Scan on dataset_text"), "{name}: scans the text table\n{plan}");
            // each item's metadata is looked up by its key
            assert!(plan.contains("Index Scan using dataset_metadata_pkey on dataset_metadata dm"), "{name}:\n{plan}");
            assert!(!plan.contains("Seq Scan on dataset_metadata"), "{name}: scans the metadata table\n{plan}");
        }
        test.finish().await;
    });
}
