//! SQLite-only store and query tests on account bytes built with the program's types (no chain);
//! the tests both stores share are in `backends.rs`.

use indexer::decode::{Account, Header, Kind};
use indexer::fixtures::{dataset_bytes, key, license_bytes, review_bytes, DatasetSpec};
use indexer::query::{self, Search};
use indexer::store::{Fts5, Store, TextIndex, Update};
use data_market::state::{DatasetCategory, DatasetState};
use proptest::prelude::*;

fn upsert(address: &str, slot: u64, data: Vec<u8>) -> Update {
    Update::Upsert { address: address.into(), slot, data }
}

fn close(address: &str, slot: u64) -> Update {
    Update::Close { address: address.into(), slot }
}

fn spec(revision: u64, title: &str) -> DatasetSpec {
    DatasetSpec { revision, title: title.into(), ..Default::default() }
}

fn titles(result: &serde_json::Value) -> Vec<String> {
    result["items"].as_array().unwrap().iter().map(|item| item["title"].as_str().unwrap().to_owned()).collect()
}

fn search(store: &Store, search: Search) -> serde_json::Value {
    query::search(&store.conn, store.text.as_ref(), &search).unwrap()
}

#[test]
fn decodes_every_fixture_with_the_program_types() {
    let data = dataset_bytes(&DatasetSpec { tags: vec!["chat".into(), "en".into()], ..spec(3, "Chats") });
    let Account::Dataset(dataset) = Account::decode(&data).unwrap() else { panic!("not a dataset") };
    assert_eq!(dataset.title, "Chats");
    assert_eq!(indexer::decode::tags(&dataset), ["chat", "en"]);
    assert_eq!(Header::read(&data[..16]), Some(Header { kind: Some(Kind::Dataset), revision: 3 }));
    let license = license_bytes(2, key(5), key(6));
    assert_eq!(Account::decode(&license).unwrap().kind(), Kind::License);
    assert!(Account::decode(&[1, 2, 3]).is_err());
    // a known discriminator over a truncated body is malformed, not a panic
    assert!(matches!(Account::decode(&data[..40]), Err(indexer::decode::DecodeError::Malformed(Kind::Dataset, _))));
}

#[test]
fn an_account_closed_event_closes_the_account_and_enters_the_feed_once() {
    use indexer::activity::{page, Scope, TransactionEvents};
    let mut store = Store::in_memory().unwrap();
    let address = key(4).to_string();
    store
        .apply(&[Update::Upsert { address: address.clone(), slot: 10, data: dataset_bytes(&DatasetSpec::default()) }])
        .unwrap();
    let event = data_market::events::AccountClosed { account: key(4), rent_to: key(1), lamports: 42 };
    let decoded = indexer::events::decode_event(&anchor_lang::Event::data(&event)).expect("decodes");
    let tx = TransactionEvents { signature: "sig".into(), slot: 11, events: vec![decoded] };
    let (new, applied) = store.record_events(&[tx.clone()]).unwrap();
    assert_eq!((new, applied.closed), (1, 1));
    let (new, applied) = store.record_events(&[tx]).unwrap();
    assert_eq!((new, applied.closed, applied.stale), (0, 0, 1));
    assert!(!store.open_accounts().unwrap().contains_key(&address));
    let feed = page(&store.conn, &Scope::All, None, None, None).unwrap();
    assert_eq!(feed["items"][0]["name"], "AccountClosed");
    // the close is in the closed dataset's own feed
    let own = page(&store.conn, &Scope::Dataset(address.clone()), None, None, None).unwrap();
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
}

#[test]
fn user_queries_are_sanitised() {
    let fts = Fts5;
    assert_eq!(fts.sanitise("chat logs").as_deref(), Some("\"chat\" \"logs\"*"));
    assert_eq!(fts.sanitise("title:x OR \"y\" NEAR(").as_deref(), Some("\"title\" \"x\" \"or\" \"y\" \"near\"*"));
    assert_eq!(fts.sanitise("  ---  "), None);
    // nothing a user types makes the text query fail
    let mut store = Store::in_memory().unwrap();
    store.apply(&[upsert("D", 1, dataset_bytes(&spec(1, "Support chats")))]).unwrap();
    for q in ["\"", "*", "AND", "NEAR(a b", "title:", "a\"b", "^x", "((((", "-x", "héllo wörld"] {
        query::search(&store.conn, &fts, &Search { q: Some(q.into()), ..Default::default() }).unwrap();
    }
    assert_eq!(titles(&search(&store, Search { q: Some("SUPP".into()), ..Default::default() })), ["Support chats"]);
}

#[test]
fn related_accounts_land_in_their_tables() {
    let mut store = Store::in_memory().unwrap();
    let dataset = key(20);
    let license = key(21);
    store
        .apply(&[
            upsert(&license.to_string(), 5, license_bytes(1, dataset, key(6))),
            upsert(&key(22).to_string(), 6, review_bytes(1, license, dataset, 4)),
        ])
        .unwrap();
    let count = |table: &str| -> i64 {
        store.conn.query_row(&format!("SELECT count(*) FROM {table} WHERE dataset = ?1"), [dataset.to_string()], |r| r.get(0)).unwrap()
    };
    assert_eq!((count("licenses"), count("reviews")), (1, 1));
    let kinds: Vec<Kind> = store.open_accounts().unwrap().values().map(|(kind, _)| *kind).collect();
    assert_eq!(kinds.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Convergence: shuffled, duplicated and stale streams give the in-order result.

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
                let tags = vec![format!("t{}", title % 3), format!("u{}", title % 2)];
                let state = [DatasetState::Active, DatasetState::Unlisted, DatasetState::Retired, DatasetState::Revoked]
                    [(*title as usize / 3) % 4];
                let category = [DatasetCategory::Text, DatasetCategory::Image][(*title as usize / 5) % 2];
                let spec = DatasetSpec {
                    revision,
                    title: format!("title {title}"),
                    tags,
                    price: *title as u64,
                    state,
                    category,
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

fn dump(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for (table, columns) in [
        ("accounts", "address, kind, slot, revision, closed"),
        ("datasets", "address, slot, revision, title, price, hex(data)"),
        ("dataset_tags", "address, tag"),
        ("dataset_text", "address, title, tags"),
        ("listed_facets", "facet, value, count"),
    ] {
        let only_counted = if table == "listed_facets" { "WHERE count > 0" } else { "" };
        let sql = format!("SELECT {columns} FROM {table} {only_counted} ORDER BY 1, 2");
        let mut statement = store.conn.prepare(&sql).unwrap();
        let count = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                let values: Vec<String> = (0..count)
                    .map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                Ok(format!("{table}: {}", values.join(" | ")))
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_order_converges_to_the_in_order_result(
        histories in prop::collection::vec(prop::collection::vec(step(), 1..12), 1..5),
        order_seed in any::<u64>(),
        duplicates in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        batch in 1..8usize,
    ) {
        let in_order: Vec<Update> = histories.iter().enumerate()
            .flat_map(|(i, steps)| history(&format!("ACC{i}"), steps))
            .collect();
        prop_assume!(!in_order.is_empty());

        let mut expected = Store::in_memory().unwrap();
        for update in &in_order {
            expected.apply(std::slice::from_ref(update)).unwrap();
        }

        // the same observations, some repeated, in a shuffled order, applied in batches
        let mut stream = in_order.clone();
        for index in &duplicates {
            stream.push(in_order[index.index(in_order.len())].clone());
        }
        let mut rng = order_seed;
        for i in (1..stream.len()).rev() {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            stream.swap(i, (rng >> 33) as usize % (i + 1));
        }
        let mut actual = Store::in_memory().unwrap();
        for chunk in stream.chunks(batch) {
            actual.apply(chunk).unwrap();
        }
        prop_assert_eq!(dump(&actual), dump(&expected));
        // the running facet counts equal a recount of the rows
        let running = dump(&actual);
        indexer::store::rebuild_listed_facets(&actual.conn).unwrap();
        prop_assert_eq!(running, dump(&actual));
    }
}

/// Relevance pages rank inside the text index and join only its best matches: paging through
/// every page gives exactly the order of ranking every match, filters included.
#[test]
fn relevance_pages_equal_ranking_every_match() {
    let mut store = Store::in_memory().unwrap();
    let words = ["alpha", "beta", "gamma", "delta", "epsilon"];
    let updates: Vec<Update> = (0..700u64)
        .map(|i| {
            // title length (so the score) varies; one in five unlisted, one in seven retired
            let extra: Vec<&str> = (0..(i % 6)).map(|w| words[((i + w) % 5) as usize]).collect();
            let title = format!("corpus {} {}", extra.join(" "), if i % 3 == 0 { "corpus" } else { "" });
            let state = match i {
                i if i % 5 == 0 => DatasetState::Unlisted,
                i if i % 7 == 0 => DatasetState::Retired,
                _ => DatasetState::Active,
            };
            upsert(&format!("R{i:04}"), 1, dataset_bytes(&DatasetSpec { title, state, ..Default::default() }))
        })
        .collect();
    store.apply(&updates).unwrap();
    // datasets found by their fetched metadata's text only (its column weighs least)
    for i in 0..60u64 {
        let file = format!("{{\"format\":\"{}\",\"description\":\"corpus {}\"}}", indexer::metadata::METADATA_FORMAT, words[(i % 5) as usize]);
        let cid = indexer::metadata::encode::raw_cid(file.as_bytes()).to_string();
        let uri = format!("ipfs://{cid}");
        let address = format!("M{i:04}");
        let title = format!("described {}", words[(i % 3) as usize]);
        store.apply(&[upsert(&address, 1, dataset_bytes(&DatasetSpec { title, metadata_uri: uri.clone(), ..Default::default() }))]).unwrap();
        let job = indexer::metadata::Job { address, uri, cid, attempts: 0 };
        let done = indexer::metadata::Completion {
            status: indexer::metadata::Status::Ok,
            attempts: 1,
            last_error: None,
            next_attempt_ms: 0,
            fetched_at: Some(1),
            parsed: Some(indexer::metadata::parse_metadata(file.as_bytes()).unwrap()),
        };
        assert!(store.complete_metadata(&job, &done).unwrap());
    }

    let reference = |filter: &str| -> Vec<String> {
        let sql = format!(
            "SELECT d.address FROM ({}) m CROSS JOIN datasets d ON d.address = m.address WHERE {filter} \
             ORDER BY m.score, d.address",
            Fts5.matches_sql()
        );
        let mut statement = store.conn.prepare(&sql).unwrap();
        let rows = statement.query_map(["\"corpus\"*"], |row| row.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    for (state, filter, limit) in [
        (None, "d.state NOT IN ('unlisted', 'revoked')", 7),
        (Some("retired"), "d.state = 'retired'", 3),
        (Some("unlisted"), "d.state = 'unlisted'", 100),
    ] {
        let mut paged = Vec::new();
        let mut counted: std::collections::BTreeMap<String, u64> = Default::default();
        let mut cursor = None;
        loop {
            let page = search(
                &store,
                Search { q: Some("corpus".into()), state: state.map(str::to_owned), limit: Some(limit), cursor, ..Default::default() },
            );
            for item in page["items"].as_array().unwrap() {
                paged.push(item["address"].as_str().unwrap().to_owned());
                for facet in ["category", "state"] {
                    *counted.entry(format!("{facet}:{}", item[facet].as_str().unwrap())).or_default() += 1;
                }
            }
            assert!(paged.len() <= 700, "{filter}: the pages repeat");
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let expected = reference(filter);
        assert!(expected.len() > 50, "{filter}: {}", expected.len());
        if state.is_none() {
            assert_eq!(expected.iter().filter(|a| a.starts_with('M')).count(), 60, "found by metadata text");
        }
        assert_eq!(paged, expected, "{filter}");
        // the facets of a text result count every match, not the page
        let faceted =
            search(&store, Search { q: Some("corpus".into()), state: state.map(str::to_owned), facets: true, ..Default::default() });
        let mut facets: std::collections::BTreeMap<String, u64> = Default::default();
        for facet in ["category", "state"] {
            for (value, count) in faceted["facets"][facet].as_object().unwrap() {
                facets.insert(format!("{facet}:{value}"), count.as_u64().unwrap());
            }
        }
        assert_eq!(facets, counted, "{filter}");
    }

    // the whole catalogue's facets come from running counts: the same as counting the rows
    let whole = search(&store, Search { facets: true, ..Default::default() });
    let counted = search(&store, Search { facets: true, min_price: Some(0), ..Default::default() });
    assert_eq!(whole["facets"], counted["facets"]);
    assert_eq!(whole["facets"]["state"]["active"].as_u64().unwrap() + whole["facets"]["state"]["retired"].as_u64().unwrap(), 760 - 140);
}

/// The plans SQLite picks for the API's query shapes: every statement a search runs is traced and
/// explained; the text index, tag index and sort indexes must carry them, never a scan of the
/// datasets table.
#[test]
fn query_shapes_use_their_indexes() {
    use rusqlite::trace::{TraceEvent, TraceEventCodes};
    use std::sync::{Arc, Mutex};
    let mut store = Store::in_memory().unwrap();
    let updates: Vec<Update> = (0..300u64)
        .map(|i| {
            let spec = DatasetSpec {
                title: format!("corpus {} {}", ["chat", "vision", "speech"][(i % 3) as usize], i),
                tags: vec![["en", "fr"][(i % 2) as usize].to_owned()],
                price: i * 1_000,
                owner: key((i % 7) as u8),
                created_at: i as i64,
                ..Default::default()
            };
            upsert(&format!("P{i:04}"), 1, dataset_bytes(&spec))
        })
        .collect();
    store.apply(&updates).unwrap();
    store.conn.execute_batch("ANALYZE").unwrap();

    let mut plans = |search: Search| -> Vec<String> {
        let statements = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = statements.clone();
        let conn = &mut store.conn;
        conn.trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |event: TraceEvent<'_>| {
                if let TraceEvent::Stmt(statement, _) = event {
                    if let Some(sql) = statement.expanded_sql() {
                        sink.lock().unwrap().push(sql);
                    }
                }
            }),
        )
        .unwrap();
        query::search(conn, &Fts5, &search).unwrap();
        conn.trace_v2(TraceEventCodes::empty(), None::<fn(TraceEvent<'_>)>).unwrap();
        let statements = statements.lock().unwrap().clone();
        let mut out = Vec::new();
        for sql in statements.iter().filter(|sql| sql.trim_start().starts_with("SELECT")) {
            let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let details = explain.query_map([], |row| row.get::<_, String>(3)).unwrap();
            out.push(details.map(Result::unwrap).collect::<Vec<_>>().join(" | "));
        }
        assert!(!out.is_empty(), "the search ran no statement");
        out
    };
    let no_table_scan = |plans: &[String]| {
        for plan in plans {
            // walking a sort index in order ("SCAN d USING INDEX ...") is the intended plan
            assert!(plan.split(" | ").all(|step| step != "SCAN d"), "a scan of the datasets table: {plan}");
        }
    };

    let text = plans(Search { q: Some("vision".into()), ..Default::default() });
    assert!(text.iter().all(|p| p.contains("VIRTUAL TABLE INDEX")), "{text:?}");
    no_table_scan(&text);
    let owner = plans(Search { owner: Some(key(3).to_string()), ..Default::default() });
    assert!(owner.iter().any(|p| p.contains("datasets_owner")), "{owner:?}");
    no_table_scan(&owner);
    let tag = plans(Search { tags: vec!["fr".into()], sort: Some(query::Sort::Price), ..Default::default() });
    assert!(tag.iter().any(|p| p.contains("dataset_tags") || p.contains("datasets_price")), "{tag:?}");
    let newest = plans(Search::default());
    assert!(newest.iter().any(|p| p.contains("datasets_created")), "{newest:?}");
    no_table_scan(&newest);
    let price = plans(Search { min_price: Some(10_000), max_price: Some(50_000), sort: Some(query::Sort::Price), ..Default::default() });
    assert!(price.iter().any(|p| p.contains("datasets_price")), "{price:?}");
    no_table_scan(&price);
    let facets = plans(Search { facets: true, ..Default::default() });
    assert!(facets.iter().any(|p| p.contains("listed_facets")), "{facets:?}");
    // an item's metadata, and the metadata status filter, look the job up by its key
    let by_status = plans(Search { metadata_status: Some("mismatch".into()), ..Default::default() });
    no_table_scan(&by_status);
    for shape in [&text, &owner, &newest, &by_status] {
        assert!(shape.iter().any(|p| p.contains("SEARCH dm USING INDEX sqlite_autoindex_dataset_metadata_1")), "{shape:?}");
        assert!(shape.iter().all(|p| p.split(" | ").all(|step| !step.starts_with("SCAN dm"))), "{shape:?}");
    }
}

/// A store from before the metadata queue (schema version 2) queues every dataset's uri once when
/// opened, then leaves the jobs alone.
#[test]
fn upgrading_to_schema_3_queues_every_dataset() {
    let path = std::env::temp_dir().join(format!("indexer-upgrade-{}.sqlite", std::process::id()));
    let cid = indexer::metadata::encode::raw_cid(b"{}").to_string();
    {
        let mut store = Store::open(&path).unwrap();
        store
            .apply(&[
                upsert("A", 1, dataset_bytes(&DatasetSpec { metadata_uri: format!("ipfs://{cid}"), ..Default::default() })),
                upsert("B", 1, dataset_bytes(&DatasetSpec { metadata_uri: "ar://elsewhere".into(), ..Default::default() })),
            ])
            .unwrap();
        // what a version 2 store held: no jobs
        store.conn.execute_batch("DELETE FROM dataset_metadata; UPDATE meta SET value = '2' WHERE key = 'schema_version'").unwrap();
    }
    let jobs = |store: &Store| -> Vec<(String, String)> {
        let mut statement = store.conn.prepare("SELECT address, status FROM dataset_metadata ORDER BY 1").unwrap();
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(jobs(&store), [("A".to_owned(), "pending".to_owned()), ("B".to_owned(), "not_ipfs".to_owned())]);
    let version: String = store.conn.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(version, "3");
    store.conn.execute("UPDATE dataset_metadata SET status = 'ok' WHERE address = 'A'", []).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(jobs(&store)[0].1, "ok", "a store at version 3 is not queued again");
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
