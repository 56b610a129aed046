//! A small JSON-RPC client for what the indexer asks of a node: getSlot, getProgramAccounts (with
//! context slot, filters and dataSlice) and getMultipleAccounts, all at `confirmed`.

use base64::Engine;
use serde_json::{json, Value};

pub const COMMITMENT: &str = "confirmed";
/// getMultipleAccounts takes at most this many addresses per call.
pub const MULTIPLE_ACCOUNTS_MAX: usize = 100;

#[derive(Debug)]
pub enum RpcError {
    Transport(String),
    /// The node answered with a JSON-RPC error.
    Node { code: i64, message: String },
    /// The answer did not have the expected shape.
    Shape(String),
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcError::Transport(why) => write!(f, "rpc transport: {why}"),
            RpcError::Node { code, message } => write!(f, "rpc error {code}: {message}"),
            RpcError::Shape(why) => write!(f, "unexpected rpc answer: {why}"),
        }
    }
}

impl std::error::Error for RpcError {}

#[derive(Clone)]
pub struct Rpc {
    client: reqwest::Client,
    url: String,
}

/// An account as getProgramAccounts or getMultipleAccounts return it.
#[derive(Clone, Debug)]
pub struct RemoteAccount {
    pub owner: String,
    pub data: Vec<u8>,
}

fn shape(what: &str) -> RpcError {
    RpcError::Shape(what.to_owned())
}

fn decode_account(value: &Value) -> Result<RemoteAccount, RpcError> {
    let owner = value["owner"].as_str().ok_or_else(|| shape("account owner"))?.to_owned();
    let encoded = value["data"][0].as_str().ok_or_else(|| shape("account data"))?;
    let data = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| shape("account data base64"))?;
    Ok(RemoteAccount { owner, data })
}

impl Rpc {
    pub fn new(url: &str) -> Rpc {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("http client");
        Rpc { client, url: url.to_owned() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let response = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| RpcError::Transport(e.to_string()))?;
        let answer: Value = response.json().await.map_err(|e| RpcError::Transport(e.to_string()))?;
        if let Some(error) = answer.get("error") {
            return Err(RpcError::Node {
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or("").to_owned(),
            });
        }
        answer.get("result").cloned().ok_or_else(|| shape("no result"))
    }

    pub async fn slot(&self) -> Result<u64, RpcError> {
        self.call("getSlot", json!([{ "commitment": COMMITMENT }])).await?.as_u64().ok_or_else(|| shape("slot"))
    }

    /// The program's accounts matching `filters`, or only `data_slice` (offset, length) of each,
    /// and the slot the answer reflects.
    pub async fn program_accounts(
        &self,
        program: &str,
        filters: Value,
        data_slice: Option<(usize, usize)>,
    ) -> Result<(u64, Vec<(String, RemoteAccount)>), RpcError> {
        let mut config = json!({
            "commitment": COMMITMENT,
            "encoding": "base64",
            "withContext": true,
            "filters": filters,
        });
        if let Some((offset, length)) = data_slice {
            config["dataSlice"] = json!({ "offset": offset, "length": length });
        }
        let result = self.call("getProgramAccounts", json!([program, config])).await?;
        let slot = result["context"]["slot"].as_u64().ok_or_else(|| shape("context slot"))?;
        let list = result["value"].as_array().ok_or_else(|| shape("account list"))?;
        let mut accounts = Vec::with_capacity(list.len());
        for entry in list {
            let address = entry["pubkey"].as_str().ok_or_else(|| shape("pubkey"))?.to_owned();
            accounts.push((address, decode_account(&entry["account"])?));
        }
        Ok((slot, accounts))
    }

    /// The accounts at `addresses` (None where there is none), and the lowest context slot of the
    /// calls it took.
    pub async fn multiple_accounts(&self, addresses: &[String]) -> Result<(u64, Vec<Option<RemoteAccount>>), RpcError> {
        let mut slot = u64::MAX;
        let mut out = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(MULTIPLE_ACCOUNTS_MAX) {
            let result = self
                .call("getMultipleAccounts", json!([chunk, { "commitment": COMMITMENT, "encoding": "base64" }]))
                .await?;
            slot = slot.min(result["context"]["slot"].as_u64().ok_or_else(|| shape("context slot"))?);
            let list = result["value"].as_array().ok_or_else(|| shape("account list"))?;
            if list.len() != chunk.len() {
                return Err(shape("account count"));
            }
            for value in list {
                out.push(if value.is_null() { None } else { Some(decode_account(value)?) });
            }
        }
        Ok((if slot == u64::MAX { 0 } else { slot }, out))
    }

    /// The program's transaction signatures newer than `until`, newest first, one page of at most
    /// 1,000 before `before`; each with its slot and whether it failed.
    pub async fn signatures(
        &self,
        address: &str,
        before: Option<&str>,
        until: Option<&str>,
    ) -> Result<Vec<SignatureInfo>, RpcError> {
        let mut config = json!({ "commitment": COMMITMENT, "limit": SIGNATURES_PAGE });
        if let Some(before) = before {
            config["before"] = json!(before);
        }
        if let Some(until) = until {
            config["until"] = json!(until);
        }
        let result = self.call("getSignaturesForAddress", json!([address, config])).await?;
        let list = result.as_array().ok_or_else(|| shape("signature list"))?;
        list.iter()
            .map(|entry| {
                Ok(SignatureInfo {
                    signature: entry["signature"].as_str().ok_or_else(|| shape("signature"))?.to_owned(),
                    slot: entry["slot"].as_u64().ok_or_else(|| shape("slot"))?,
                    failed: !entry["err"].is_null(),
                })
            })
            .collect()
    }

    /// A confirmed transaction's log messages (None when the node no longer has it).
    pub async fn transaction_logs(&self, signature: &str) -> Result<Option<(u64, Vec<String>)>, RpcError> {
        let result = self
            .call(
                "getTransaction",
                json!([signature, { "commitment": COMMITMENT, "encoding": "json", "maxSupportedTransactionVersion": 0 }]),
            )
            .await?;
        if result.is_null() {
            return Ok(None);
        }
        let slot = result["slot"].as_u64().ok_or_else(|| shape("slot"))?;
        let logs = result["meta"]["logMessages"]
            .as_array()
            .map(|lines| lines.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(Some((slot, logs)))
    }
}

pub const SIGNATURES_PAGE: usize = 1_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureInfo {
    pub signature: String,
    pub slot: u64,
    pub failed: bool,
}
