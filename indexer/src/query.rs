//! Read queries behind the API: dataset search (text, filters, sort, keyset cursor, facets) and
//! dataset detail. Every item carries the slot it was observed at.

use std::collections::BTreeMap;

use base64::Engine;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value as Json};

use crate::store::TextIndex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Best text match first (needs `q`; without one, newest).
    Relevance,
    /// Highest average rating first (unrated last).
    Rating,
    /// Most licences sold first.
    Sales,
    /// Cheapest first.
    Price,
    /// Dearest first.
    PriceDesc,
    /// Most recently registered first.
    Newest,
}

impl Sort {
    pub fn parse(value: &str) -> Option<Sort> {
        Some(match value {
            "relevance" => Sort::Relevance,
            "rating" => Sort::Rating,
            "sales" => Sort::Sales,
            "price" => Sort::Price,
            "price_desc" => Sort::PriceDesc,
            "newest" => Sort::Newest,
            _ => return None,
        })
    }

    /// The sort key's SQL and whether it descends.
    fn key(self, text: bool) -> (&'static str, bool) {
        match self {
            Sort::Relevance if text => ("m.score", false),
            Sort::Relevance | Sort::Newest => ("d.created_at", true),
            Sort::Rating => ("COALESCE(d.rating_avg, -1.0)", true),
            Sort::Sales => ("d.licenses_sold", true),
            Sort::Price => ("d.price", false),
            Sort::PriceDesc => ("d.price", true),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Search {
    pub q: Option<String>,
    pub category: Option<String>,
    /// Every tag must be present.
    pub tags: Vec<String>,
    pub owner: Option<String>,
    /// One state; without it, the listed states (everything but `unlisted` and `revoked`).
    pub state: Option<String>,
    pub min_price: Option<u64>,
    pub max_price: Option<u64>,
    pub payment_mint: Option<String>,
    /// Only datasets whose off-chain metadata has this status (`metadata::Status` names).
    pub metadata_status: Option<String>,
    pub sort: Option<Sort>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    pub facets: bool,
}

impl Search {
    /// No filter but the default (listed states): the browse page's facets come from the store's
    /// running counts.
    pub fn is_whole_catalogue(&self) -> bool {
        self.category.is_none()
            && self.tags.is_empty()
            && self.owner.is_none()
            && self.state.is_none()
            && self.min_price.is_none()
            && self.max_price.is_none()
            && self.payment_mint.is_none()
            && self.metadata_status.is_none()
    }
}

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, PartialEq)]
pub enum QueryError {
    BadCursor,
    Sql(String),
}

impl From<rusqlite::Error> for QueryError {
    fn from(error: rusqlite::Error) -> Self {
        QueryError::Sql(error.to_string())
    }
}

pub fn encode_cursor(key: &Value, address: &str) -> String {
    let key = match key {
        Value::Integer(i) => json!(i),
        // by its bits: a decimal float may not parse back to the same double (nor then compare
        // equal to the row it came from)
        Value::Real(r) => json!({ "real": format!("{:016x}", r.to_bits()) }),
        Value::Text(t) => json!(t),
        _ => Json::Null,
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!([key, address]).to_string())
}

pub fn decode_cursor(cursor: &str) -> Result<(Value, String), QueryError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| QueryError::BadCursor)?;
    let parsed: Json = serde_json::from_slice(&bytes).map_err(|_| QueryError::BadCursor)?;
    let [key, Json::String(address)] = parsed.as_array().map(|a| a.as_slice()).unwrap_or(&[]) else {
        return Err(QueryError::BadCursor);
    };
    let key = match key {
        Json::Number(n) if n.is_i64() => Value::Integer(n.as_i64().unwrap_or(0)),
        Json::Object(real) => match real.get("real").and_then(Json::as_str).map(|bits| u64::from_str_radix(bits, 16)) {
            Some(Ok(bits)) => Value::Real(f64::from_bits(bits)),
            _ => return Err(QueryError::BadCursor),
        },
        _ => return Err(QueryError::BadCursor),
    };
    Ok((key, address.clone()))
}

const ITEM_COLUMNS: &str = "d.address, d.slot, d.revision, d.owner, d.title, d.category, d.state, d.price, \
     d.payment_mint, d.licenses_sold, d.rating_avg, d.rating_count, d.created_at, d.updated_at, d.metadata_uri, \
     (SELECT group_concat(tag, ' ') FROM dataset_tags t WHERE t.address = d.address), \
     (SELECT json_object('status', dm.status, 'cid', dm.cid, 'attempts', dm.attempts, 'last_error', dm.last_error, \
         'fetched_at', dm.fetched_at, 'title', dm.title, 'description', dm.description, 'file_name', dm.file_name, \
         'plaintext_bytes', dm.plaintext_bytes, 'sha256', dm.sha256) FROM dataset_metadata dm WHERE dm.address = d.address)";

/// Columns of `ITEM_COLUMNS`: what follows them in a row (a sort key, the account data) starts here.
const ITEM_COLUMN_COUNT: usize = 17;

fn item(row: &rusqlite::Row) -> rusqlite::Result<Json> {
    let tags: Option<String> = row.get(15)?;
    Ok(json!({
        "address": row.get::<_, String>(0)?,
        "slot": row.get::<_, i64>(1)?,
        "revision": row.get::<_, i64>(2)?,
        "owner": row.get::<_, String>(3)?,
        "title": row.get::<_, String>(4)?,
        "category": row.get::<_, String>(5)?,
        "state": row.get::<_, String>(6)?,
        // amounts as strings: u64 base units exceed what a JSON number keeps exactly in JavaScript
        "price": row.get::<_, i64>(7)?.to_string(),
        "payment_mint": row.get::<_, String>(8)?,
        "licenses_sold": row.get::<_, i64>(9)?,
        "rating": { "average": row.get::<_, Option<f64>>(10)?, "count": row.get::<_, i64>(11)? },
        "created_at": row.get::<_, i64>(12)?,
        "updated_at": row.get::<_, i64>(13)?,
        "metadata_uri": row.get::<_, String>(14)?,
        "tags": tags.map(|t| t.split(' ').map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default(),
        "metadata": crate::metadata::api_object(row.get(16)?),
    }))
}

/// Searches datasets; returns `{ items, next_cursor, facets? }`.
pub fn search(conn: &Connection, text: &dyn TextIndex, search: &Search) -> Result<Json, QueryError> {
    let query = search.q.as_deref().and_then(|q| text.sanitise(q));
    let mut params: Vec<Value> = Vec::new();
    let mut from = String::from("datasets d");
    if let Some(query) = &query {
        params.push(Value::Text(query.clone()));
        // rank inside the text index first, then join (CROSS JOIN keeps that order)
        from = format!("(SELECT * FROM ({})) m CROSS JOIN datasets d ON d.address = m.address", text.matches_sql());
    }
    let mut filters: Vec<String> = Vec::new();
    let bind = |params: &mut Vec<Value>, value: Value| {
        params.push(value);
        format!("?{}", params.len())
    };
    match &search.state {
        Some(state) => {
            let p = bind(&mut params, Value::Text(state.clone()));
            filters.push(format!("d.state = {p}"));
        }
        None => filters.push("d.state NOT IN ('unlisted', 'revoked')".into()),
    }
    if let Some(category) = &search.category {
        let p = bind(&mut params, Value::Text(category.clone()));
        filters.push(format!("d.category = {p}"));
    }
    for tag in &search.tags {
        let p = bind(&mut params, Value::Text(tag.to_lowercase()));
        filters.push(format!("EXISTS (SELECT 1 FROM dataset_tags t WHERE t.address = d.address AND t.tag = {p})"));
    }
    if let Some(owner) = &search.owner {
        let p = bind(&mut params, Value::Text(owner.clone()));
        filters.push(format!("d.owner = {p}"));
    }
    if let Some(mint) = &search.payment_mint {
        let p = bind(&mut params, Value::Text(mint.clone()));
        filters.push(format!("d.payment_mint = {p}"));
    }
    if let Some(status) = &search.metadata_status {
        let p = bind(&mut params, Value::Text(status.clone()));
        filters.push(format!("EXISTS (SELECT 1 FROM dataset_metadata dm WHERE dm.address = d.address AND dm.status = {p})"));
    }
    if let Some(min) = search.min_price {
        let p = bind(&mut params, Value::Integer(min.min(i64::MAX as u64) as i64));
        filters.push(format!("d.price >= {p}"));
    }
    if let Some(max) = search.max_price {
        let p = bind(&mut params, Value::Integer(max.min(i64::MAX as u64) as i64));
        filters.push(format!("d.price <= {p}"));
    }
    let filtered_params = params.clone();
    let filtered_where = filters.join(" AND ");

    let sort = search.sort.unwrap_or(if query.is_some() { Sort::Relevance } else { Sort::Newest });
    let (key, descending) = sort.key(query.is_some());
    let mut page_filters = filters.clone();
    if let Some(cursor) = &search.cursor {
        let (after_key, after_address) = decode_cursor(cursor)?;
        let k = bind(&mut params, after_key);
        let a = bind(&mut params, Value::Text(after_address));
        page_filters.push(format!("({key}, d.address) {} ({k}, {a})", if descending { "<" } else { ">" }));
    }
    let limit = search.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let direction = if descending { "DESC" } else { "ASC" };
    let page_sql = |from: &str| {
        format!(
            "SELECT {ITEM_COLUMNS}, {key} FROM {from} WHERE {} ORDER BY {key} {direction}, d.address {direction} LIMIT {}",
            page_filters.join(" AND "),
            limit + 1
        )
    };
    let mut page = None;
    if let (Some(query), true) = (&query, key == "m.score") {
        // Relevance: join only the best `depth` matches (every match scoring no worse than the
        // depth-th, ties included) to the datasets. A full page from them is exact, as every other
        // match ranks after all of them; a short one looks deeper, unless they were every match.
        let mut depth = ((limit + 1) * 8).max(200);
        while depth <= MAX_RANKED_DEPTH {
            let Some((boundary, complete)) = text.score_at_depth(conn, query, depth)? else { break };
            let mut candidate_params = params.clone();
            candidate_params.push(Value::Real(boundary));
            let from = format!(
                "(SELECT * FROM ({}) WHERE score <= ?{}) m CROSS JOIN datasets d ON d.address = m.address",
                text.matches_sql(),
                candidate_params.len()
            );
            let found = run_page(conn, &page_sql(&from), &candidate_params, limit, true)?;
            if complete || found.1 {
                page = Some(found);
                break;
            }
            depth *= 4;
        }
    }
    let (items, more, last) = match page {
        Some(page) => page,
        None => run_page(conn, &page_sql(&from), &params, limit, query.is_some())?,
    };
    let next_cursor = match (more, last) {
        (true, Some((key, address))) => Some(encode_cursor(&key, &address)),
        _ => None,
    };
    let mut out = json!({ "items": items, "next_cursor": next_cursor, "sort": format!("{sort:?}").to_lowercase() });
    if search.facets {
        out["facets"] = if query.is_none() && search.is_whole_catalogue() {
            listed_facets(conn)?
        } else {
            // counting needs the matches, not their scores
            let from = match &query {
                Some(_) => format!("({}) m CROSS JOIN datasets d ON d.address = m.address", text.match_addresses_sql()),
                None => from,
            };
            facets(conn, &from, &filtered_where, &filtered_params)?
        };
    }
    Ok(out)
}

/// Deepest candidate list relevance ranking joins before it falls back to joining every match.
const MAX_RANKED_DEPTH: usize = 20_000;

type Page = (Vec<Json>, bool, Option<(Value, String)>);

/// Runs a page query (item columns, then the sort key); returns the items, whether there are more,
/// and the last item's sort key and address (the next cursor).
fn run_page(conn: &Connection, sql: &str, params: &[Value], limit: usize, scored: bool) -> Result<Page, QueryError> {
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
    let mut items = Vec::new();
    let mut last: Option<(Value, String)> = None;
    let mut more = false;
    while let Some(row) = rows.next()? {
        if items.len() == limit {
            more = true;
            break;
        }
        let mut value = item(row)?;
        let sort_key: Value = row.get(ITEM_COLUMN_COUNT)?;
        if scored {
            if let Value::Real(score) = sort_key {
                value["score"] = json!(-score);
            }
        }
        last = Some((sort_key, value["address"].as_str().unwrap_or_default().to_owned()));
        items.push(value);
    }
    Ok((items, more, last))
}

/// The facets of the listed catalogue, as the store's triggers keep them (same shape and order as
/// `facets`).
fn listed_facets(conn: &Connection) -> Result<Json, QueryError> {
    let mut out = serde_json::Map::new();
    for (name, limit) in [("category", -1), ("state", -1), ("tag", 50)] {
        let mut statement = conn.prepare_cached(
            "SELECT value, count FROM listed_facets WHERE facet = ?1 AND count > 0
             ORDER BY count DESC, value LIMIT ?2",
        )?;
        let rows = statement.query_map(rusqlite::params![name, limit], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut counts = serde_json::Map::new();
        for row in rows {
            let (value, count) = row?;
            counts.insert(value, json!(count));
        }
        out.insert(name.into(), Json::Object(counts));
    }
    Ok(Json::Object(out))
}

/// Counts over the whole filtered result (not just the page): by category, state and tag.
fn facets(conn: &Connection, from: &str, filters: &str, params: &[Value]) -> Result<Json, QueryError> {
    // categories and states in one pass over the result (by pair, summed here), tags in another
    let mut categories: BTreeMap<String, i64> = BTreeMap::new();
    let mut states: BTreeMap<String, i64> = BTreeMap::new();
    let sql = format!("SELECT d.category, d.state, count(*) FROM {from} WHERE {filters} GROUP BY 1, 2");
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
    while let Some(row) = rows.next()? {
        let count: i64 = row.get(2)?;
        *categories.entry(row.get(0)?).or_default() += count;
        *states.entry(row.get(1)?).or_default() += count;
    }
    let sql = format!(
        "SELECT t.tag, count(*) FROM {from} JOIN dataset_tags t ON t.address = d.address \
         WHERE {filters} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50"
    );
    let mut statement = conn.prepare(&sql)?;
    let tags = statement
        .query_map(rusqlite::params_from_iter(params.iter()), |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    // most frequent first, then by value (the tags' query orders them so already)
    let ordered = |counts: Vec<(String, i64)>| {
        let mut counts = counts;
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Json::Object(counts.into_iter().map(|(value, count)| (value, json!(count))).collect())
    };
    let mut out = serde_json::Map::new();
    out.insert("category".into(), ordered(categories.into_iter().collect()));
    out.insert("state".into(), ordered(states.into_iter().collect()));
    out.insert("tag".into(), ordered(tags));
    Ok(Json::Object(out))
}

/// Adds to a dataset's summary every field of its account, decoded from the stored bytes with the
/// program's type, and the bytes themselves (`raw`, base64; the API answers them on request), so a
/// client can compare them with the chain's account at `slot`.
pub fn with_account(summary: &mut Json, data: &[u8]) {
    use base64::Engine;
    if let Ok(crate::decode::Account::Dataset(d)) = crate::decode::Account::decode(data) {
        summary["account"] = crate::json::dataset(&d);
    }
    summary["raw"] = json!(base64::engine::general_purpose::STANDARD.encode(data));
}

/// A dataset's summary plus every field of the account (see `with_account`).
pub fn dataset(conn: &Connection, address: &str) -> Result<Option<Json>, QueryError> {
    let sql = format!("SELECT {ITEM_COLUMNS}, d.data FROM datasets d WHERE d.address = ?1");
    let found = conn
        .query_row(&sql, [address], |row| Ok((item(row)?, row.get::<_, Vec<u8>>(ITEM_COLUMN_COUNT)?)))
        .optional()?;
    let Some((mut summary, data)) = found else { return Ok(None) };
    with_account(&mut summary, &data);
    Ok(Some(summary))
}

/// A list of one account type's rows: `filter` is SQL over the row `x` with the value bound at
/// `?1`; newest first by `order`, then address, with a keyset cursor.
pub struct List {
    pub table: &'static str,
    pub filter: &'static str,
    pub value: String,
    pub order: &'static str,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// Columns holding token amounts: strings in JSON, like `price` in search results.
const AMOUNT_COLUMNS: [&str; 2] = ["price", "price_paid"];

fn row_json(row: &rusqlite::Row, names: &[String]) -> rusqlite::Result<Json> {
    let mut out = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        if name == "data" {
            continue;
        }
        let value = match row.get::<_, Value>(i)? {
            Value::Null => Json::Null,
            Value::Integer(n) if AMOUNT_COLUMNS.contains(&name.as_str()) => json!(n.to_string()),
            Value::Integer(n) if matches!(name.as_str(), "paid" | "purchases_paused") => json!(n != 0),
            Value::Integer(n) => json!(n),
            Value::Real(r) => json!(r),
            Value::Text(t) => json!(t),
            Value::Blob(_) => continue,
        };
        out.insert(if name == "idx" { "index".into() } else { name.clone() }, value);
    }
    Ok(Json::Object(out))
}

pub fn list(conn: &Connection, list: &List) -> Result<Json, QueryError> {
    let mut params: Vec<Value> = vec![Value::Text(list.value.clone())];
    let mut filter = list.filter.to_owned();
    if let Some(cursor) = &list.cursor {
        let (key, address) = decode_cursor(cursor)?;
        params.push(key);
        params.push(Value::Text(address));
        filter = format!("({filter}) AND (x.{order}, x.address) < (?2, ?3)", order = list.order);
    }
    let limit = list.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let sql = format!(
        "SELECT x.*, x.{order} FROM {table} x WHERE {filter} ORDER BY x.{order} DESC, x.address DESC LIMIT {}",
        limit + 1,
        order = list.order,
        table = list.table,
    );
    let mut statement = conn.prepare(&sql)?;
    let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
    let key_index = names.len() - 1;
    let names = &names[..key_index];
    let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
    let mut items = Vec::new();
    let mut last = None;
    let mut more = false;
    while let Some(row) = rows.next()? {
        if items.len() == limit {
            more = true;
            break;
        }
        let item = row_json(row, names)?;
        last = Some((row.get::<_, Value>(key_index)?, item["address"].as_str().unwrap_or_default().to_owned()));
        items.push(item);
    }
    let next_cursor = match (more, last) {
        (true, Some((key, address))) => Some(encode_cursor(&key, &address)),
        _ => None,
    };
    Ok(json!({ "items": items, "next_cursor": next_cursor }))
}

/// The lists the API serves, by name: (table, filter, newest-first order column).
pub fn list_kind(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match name {
        "dataset_licenses" => ("licenses", "x.dataset = ?1", "bought_at"),
        "dataset_receipts" => ("usage_receipts", "x.dataset = ?1", "recorded_at"),
        "license_receipts" => ("usage_receipts", "x.license = ?1", "recorded_at"),
        "model_receipts" => ("usage_receipts", "x.model_hash = ?1", "recorded_at"),
        "dataset_reviews" => ("reviews", "x.dataset = ?1", "created_at"),
        "dataset_disputes" => ("disputes", "x.dataset = ?1", "opened_at"),
        "owner_datasets" => ("datasets", "x.owner = ?1", "created_at"),
        "owner_pending_deliveries" => (
            "licenses",
            "x.state = 'awaiting_key' AND x.dataset IN (SELECT address FROM datasets WHERE owner = ?1)",
            "bought_at",
        ),
        "licensee_licenses" => ("licenses", "x.buyer = ?1", "bought_at"),
        "model_datasets" => {
            ("datasets", "x.address IN (SELECT dataset FROM usage_receipts WHERE model_hash = ?1)", "created_at")
        }
        _ => return None,
    })
}
