//! The read-only JSON API, versioned under `/v1`, with CORS open to every origin (it serves public
//! chain data and takes no credentials). Every read goes through the store (`db::IndexStore`): with
//! SQLite each request opens its own read-only connection (WAL: readers never wait for the ingest
//! writer) on a blocking thread; with PostgreSQL it takes a pooled connection.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::cors::{Any, CorsLayer};

use crate::activity;
use crate::db::{BoxFuture, IndexStore};
use crate::query::{self, QueryError, Search, Sort};
use crate::rpc::Rpc;

pub struct Api {
    pub store: Arc<dyn IndexStore>,
    /// Where the health check reads the chain's slot (None: `serve` without a node).
    pub rpc: Option<Rpc>,
}

pub fn router(api: Arc<Api>) -> Router {
    let cors = CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::OPTIONS]).allow_headers(Any);
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/datasets", get(datasets))
        .route("/v1/datasets/{address}", get(dataset))
        .route("/v1/datasets/{key}/{list}", get(dataset_lists))
        .route("/v1/owners/{key}/{list}", get(owner_lists))
        .route("/v1/licensees/{key}/{list}", get(licensee_lists))
        .route("/v1/models/{key}/{list}", get(model_lists))
        .route("/v1/licenses/{key}/{list}", get(license_lists))
        .route("/v1/activity", get(all_activity))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .layer(cors)
        .with_state(api)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

fn store_error(e: impl std::fmt::Display) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string())
}

fn query_error(e: QueryError) -> Response {
    match e {
        QueryError::BadCursor => error(StatusCode::BAD_REQUEST, "bad_cursor", "cursor is not one this API gave"),
        QueryError::Sql(message) => error(StatusCode::INTERNAL_SERVER_ERROR, "store", &message),
    }
}

/// `min_slot`: the caller has seen the chain at this slot (e.g. its own transaction) and wants an
/// answer at least that fresh; until the indexer gets there the API answers 503 with Retry-After.
async fn require_slot(api: &Api, min_slot: Option<u64>) -> Result<Option<u64>, Response> {
    let indexed = api.store.indexed_slot().await.map_err(store_error)?;
    if let Some(min_slot) = min_slot {
        if indexed.is_none_or(|indexed| indexed < min_slot) {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "min_slot_not_reached", "min_slot": min_slot, "indexed_slot": indexed })),
            )
                .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return Err(response);
        }
    }
    Ok(indexed)
}

async fn health(State(api): State<Arc<Api>>) -> Response {
    let indexed = match api.store.indexed_slot().await.map_err(store_error) {
        Ok(indexed) => indexed,
        Err(response) => return response,
    };
    let chain = match &api.rpc {
        Some(rpc) => tokio::time::timeout(std::time::Duration::from_secs(3), rpc.slot()).await.ok().and_then(Result::ok),
        None => None,
    };
    let lag = match (indexed, chain) {
        (Some(indexed), Some(chain)) => Some(chain.saturating_sub(indexed)),
        _ => None,
    };
    let metadata = match api.store.metadata_health().await {
        Ok(metadata) => metadata,
        Err(error) => return store_error(error),
    };
    Json(json!({ "api": "v1", "indexed_slot": indexed, "chain_slot": chain, "lag": lag, "metadata": metadata }))
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    q: Option<String>,
    category: Option<String>,
    /// Comma-separated; every one must match.
    tags: Option<String>,
    owner: Option<String>,
    state: Option<String>,
    min_price: Option<u64>,
    max_price: Option<u64>,
    payment_mint: Option<String>,
    metadata_status: Option<String>,
    sort: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    facets: Option<bool>,
    min_slot: Option<u64>,
}

async fn datasets(State(api): State<Arc<Api>>, Query(params): Query<SearchParams>) -> Response {
    let sort = match params.sort.as_deref().map(Sort::parse) {
        Some(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_sort",
                "sort is one of relevance, rating, sales, price, price_desc, newest",
            )
        }
        Some(sort) => sort,
        None => None,
    };
    if let Some(status) = &params.metadata_status {
        if crate::metadata::Status::parse(status).is_none() {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_metadata_status",
                "metadata_status is one of pending, ok, mismatch, unreachable, not_ipfs, too_large",
            );
        }
    }
    let search = Search {
        q: params.q,
        category: params.category,
        tags: params
            .tags
            .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default(),
        owner: params.owner,
        state: params.state,
        min_price: params.min_price,
        max_price: params.max_price,
        payment_mint: params.payment_mint,
        metadata_status: params.metadata_status,
        sort,
        limit: params.limit,
        cursor: params.cursor,
        facets: params.facets.unwrap_or(false),
    };
    fresh_read(&api, params.min_slot, api.store.search(&search)).await
}

#[derive(Deserialize, Default)]
pub struct DetailParams {
    min_slot: Option<u64>,
    /// Also answer the account's bytes as stored (`raw`, base64).
    #[serde(default)]
    raw: bool,
}

async fn dataset(
    State(api): State<Arc<Api>>,
    Path(address): Path<String>,
    Query(params): Query<DetailParams>,
) -> Response {
    let result = async {
        let indexed = require_slot(&api, params.min_slot).await?;
        let found = api.store.dataset(&address).await.map_err(|e| store_error(format!("{e:?}")))?;
        Ok::<_, Response>(found.map(|mut value: Value| {
            value["indexed_slot"] = json!(indexed);
            if !params.raw {
                value.as_object_mut().map(|fields| fields.remove("raw"));
            }
            value
        }))
    }
    .await;
    match result {
        Ok(Some(value)) => Json(value).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "no such dataset (or it was closed)"),
        Err(response) => response,
    }
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    /// Activity only: events of this name (`LicensePurchased`).
    name: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
    min_slot: Option<u64>,
}

type ListPath = Path<(String, String)>;

async fn dataset_lists(state: State<Arc<Api>>, path: ListPath, params: Query<ListParams>) -> Response {
    lists("dataset", state, path, params).await
}

async fn owner_lists(state: State<Arc<Api>>, path: ListPath, params: Query<ListParams>) -> Response {
    lists("owner", state, path, params).await
}

async fn licensee_lists(state: State<Arc<Api>>, path: ListPath, params: Query<ListParams>) -> Response {
    lists("licensee", state, path, params).await
}

async fn license_lists(state: State<Arc<Api>>, path: ListPath, params: Query<ListParams>) -> Response {
    lists("license", state, path, params).await
}

async fn model_lists(state: State<Arc<Api>>, path: ListPath, params: Query<ListParams>) -> Response {
    lists("model", state, path, params).await
}

/// `/v1/datasets/{address}/licenses|receipts|reviews|disputes|activity`, `/v1/owners/{owner}/
/// datasets|pending-deliveries`, `/v1/licensees/{buyer}/licenses`, `/v1/licenses/{license}/
/// receipts|activity`, `/v1/models/{model_hash}/datasets|receipts`.
async fn lists(
    scope: &str,
    State(api): State<Arc<Api>>,
    Path((key, list)): ListPath,
    Query(params): Query<ListParams>,
) -> Response {
    match (scope, list.as_str()) {
        ("dataset", "activity") => return activity_page(&api, activity::Scope::Dataset(key), params).await,
        ("license", "activity") => return activity_page(&api, activity::Scope::License(key), params).await,
        _ => {}
    }
    let Some((table, filter, order)) = query::list_kind(&format!("{scope}_{}", list.replace('-', "_"))) else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such list");
    };
    let list = query::List { table, filter, value: key, order, cursor: params.cursor, limit: params.limit };
    fresh_read(&api, params.min_slot, api.store.list(&list)).await
}

async fn all_activity(State(api): State<Arc<Api>>, Query(params): Query<ListParams>) -> Response {
    activity_page(&api, activity::Scope::All, params).await
}

/// The activity feed (every event of the program), newest first, whole or one dataset's or
/// licence's, optionally one event name.
async fn activity_page(api: &Api, scope: activity::Scope, params: ListParams) -> Response {
    let page = activity::PageRequest { scope, name: params.name, cursor: params.cursor, limit: params.limit };
    fresh_read(api, params.min_slot, api.store.activity(&page)).await
}

/// A read answered only once the indexer has reached `min_slot`, stamped with its indexed slot.
async fn fresh_read(
    api: &Api,
    min_slot: Option<u64>,
    read: BoxFuture<'_, Result<Value, QueryError>>,
) -> Response {
    let result = async {
        let indexed = require_slot(api, min_slot).await?;
        let mut value = read.await.map_err(query_error)?;
        value["indexed_slot"] = json!(indexed);
        Ok::<_, Response>(value)
    }
    .await;
    match result {
        Ok(value) => Json(value).into_response(),
        Err(response) => response,
    }
}
