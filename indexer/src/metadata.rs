//! The off-chain metadata of datasets: a queue of fetch jobs, one per dataset and `metadata_uri`,
//! worked off by a task that downloads each `ipfs://<cid>` from IPFS trustless gateways (raw blocks
//! and CARv1), checks every byte against its CID, reassembles UnixFS files, parses the metadata
//! JSON and hands its text to the store's text index.
//!
//! Nothing a gateway sends is trusted: a raw CID's bytes must hash to its multihash; for a dag-pb
//! CID every block of the CAR must hash to the CID it is filed under, and only blocks reached from
//! the requested CID through verified links are read.
//!
//! A job is keyed by (dataset, uri): a new uri resets the job, and a result is written only if the
//! dataset still names the uri it was fetched for (see `IndexStore::complete_metadata`), so a slow
//! fetch of an old uri never overwrites a newer one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::db::IndexStore;

/// The `format` field of the metadata file (app/src/client/metadata.ts).
pub const METADATA_FORMAT: &str = "data-market/dataset-metadata/v1";
/// Largest metadata file indexed; a larger one is `too_large`.
pub const MAX_METADATA_BYTES: usize = 1 << 20;
/// The IPFS block limit: a raw block answer longer than this is no block.
pub const MAX_BLOCK_BYTES: usize = 2 << 20;
/// What a CAR may carry beyond the file's bytes (dag-pb nodes, CIDs, framing).
const CAR_OVERHEAD_BYTES: usize = 1 << 20;
/// Longest CAR header read (a dag-cbor map of the roots).
const MAX_CAR_HEADER_BYTES: u64 = 64 << 10;
/// Deepest UnixFS tree walked (a balanced DAG of 1,024 links a node is depth 2 at 1 GiB).
const MAX_DAG_DEPTH: usize = 8;
/// Longest description kept for the API (the whole text is indexed).
pub const MAX_DESCRIPTION_CHARS: usize = 16_384;

const CODEC_RAW: u64 = 0x55;
const CODEC_DAG_PB: u64 = 0x70;
const HASH_SHA2_256: u64 = 0x12;

/// A dataset's metadata status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a (first or next) fetch.
    Pending,
    /// Fetched, verified against its CID, parsed and indexed.
    Ok,
    /// The bytes do not hash to the CID, or are not a metadata file (JSON, format), or the uri is
    /// `ipfs://` with something that is not a CID.
    Mismatch,
    /// No gateway answered after repeated attempts; retried later.
    Unreachable,
    /// The uri is not `ipfs://`.
    NotIpfs,
    /// The file (its verified size) exceeds `MAX_METADATA_BYTES`.
    TooLarge,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Pending, Status::Ok, Status::Mismatch, Status::Unreachable, Status::NotIpfs, Status::TooLarge];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ok => "ok",
            Status::Mismatch => "mismatch",
            Status::Unreachable => "unreachable",
            Status::NotIpfs => "not_ipfs",
            Status::TooLarge => "too_large",
        }
    }

    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == name)
    }
}

/// Why a metadata file was not indexed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataError {
    InvalidCid(String),
    UnsupportedCodec(u64),
    UnsupportedHash(u64),
    /// The bytes do not hash to the CID's digest.
    HashMismatch(String),
    BadCar(String),
    BadUnixfs(String),
    /// A gateway sent more than a valid answer can hold.
    Oversized(String),
    /// The verified file is larger than `MAX_METADATA_BYTES`.
    TooLarge(u64),
    NotJson(String),
    NotMetadata(String),
    /// No answer (connection, timeout, HTTP status, a CAR missing blocks).
    Unreachable(String),
}

impl std::fmt::Display for MetadataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetadataError::InvalidCid(why) => write!(f, "invalid CID: {why}"),
            MetadataError::UnsupportedCodec(code) => write!(f, "unsupported codec 0x{code:x} (raw or dag-pb only)"),
            MetadataError::UnsupportedHash(code) => write!(f, "unsupported multihash 0x{code:x} (sha2-256 only)"),
            MetadataError::HashMismatch(cid) => write!(f, "the bytes do not hash to {cid}"),
            MetadataError::BadCar(why) => write!(f, "invalid CAR: {why}"),
            MetadataError::BadUnixfs(why) => write!(f, "invalid UnixFS: {why}"),
            MetadataError::Oversized(why) => write!(f, "oversized answer: {why}"),
            MetadataError::TooLarge(bytes) => write!(f, "{bytes} bytes, more than {MAX_METADATA_BYTES}"),
            MetadataError::NotJson(why) => write!(f, "not JSON: {why}"),
            MetadataError::NotMetadata(why) => write!(f, "not a {METADATA_FORMAT} file: {why}"),
            MetadataError::Unreachable(why) => write!(f, "unreachable: {why}"),
        }
    }
}

impl std::error::Error for MetadataError {}

impl MetadataError {
    /// The status a failed attempt leaves (unreachable ones are retried first, see `Queue`).
    pub fn status(&self) -> Status {
        match self {
            MetadataError::Unreachable(_) => Status::Unreachable,
            MetadataError::TooLarge(_) => Status::TooLarge,
            _ => Status::Mismatch,
        }
    }
}

type Result<T> = std::result::Result<T, MetadataError>;

// ---------------------------------------------------------------------------------------------
// CIDs and multihashes.

/// An unsigned LEB128 varint (multiformats), at most 9 bytes (63 bits).
fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value: u64 = 0;
    for shift in 0..9u32 {
        let byte = *bytes.get(*pos)?;
        *pos = pos.checked_add(1)?;
        value |= u64::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A content identifier: version 0 (base58btc `Qm…`, dag-pb, sha2-256) or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cid {
    pub version: u8,
    pub codec: u64,
    pub hash_code: u64,
    pub digest: Vec<u8>,
    /// The binary form (what CARs and dag-pb links carry).
    pub bytes: Vec<u8>,
}

impl Cid {
    /// The text form: `Qm…` (v0), or multibase `b` (base32 lower case) or `z` (base58btc) of v1.
    pub fn parse(text: &str) -> Result<Cid> {
        if text.len() > 256 {
            return Err(MetadataError::InvalidCid("longer than 256 characters".into()));
        }
        if text.len() == 46 && text.starts_with("Qm") {
            let bytes = bs58::decode(text).into_vec().map_err(|e| MetadataError::InvalidCid(e.to_string()))?;
            return Cid::from_exact_bytes(&bytes);
        }
        let bytes = match text.split_at_checked(1) {
            Some(("b", rest)) => data_encoding::BASE32_NOPAD
                .decode(rest.to_ascii_uppercase().as_bytes())
                .map_err(|e| MetadataError::InvalidCid(format!("base32: {e}")))?,
            Some(("z", rest)) => {
                bs58::decode(rest).into_vec().map_err(|e| MetadataError::InvalidCid(format!("base58: {e}")))?
            }
            _ => return Err(MetadataError::InvalidCid(format!("{text:?} is not a CIDv0 or a base32/base58 CIDv1"))),
        };
        let cid = Cid::from_exact_bytes(&bytes)?;
        if cid.version != 1 {
            return Err(MetadataError::InvalidCid("a multibase CID must be version 1".into()));
        }
        Ok(cid)
    }

    fn from_exact_bytes(bytes: &[u8]) -> Result<Cid> {
        let (cid, used) = Cid::read(bytes)?;
        if used != bytes.len() {
            return Err(MetadataError::InvalidCid("trailing bytes".into()));
        }
        Ok(cid)
    }

    /// Reads a binary CID at the start of `bytes`; returns it and the bytes it took.
    pub fn read(bytes: &[u8]) -> Result<(Cid, usize)> {
        let invalid = |why: &str| MetadataError::InvalidCid(why.to_owned());
        // v0: a bare sha2-256 multihash
        if bytes.starts_with(&[0x12, 0x20]) {
            let digest = bytes.get(2..34).ok_or_else(|| invalid("short v0 digest"))?;
            let cid = Cid {
                version: 0,
                codec: CODEC_DAG_PB,
                hash_code: HASH_SHA2_256,
                digest: digest.to_vec(),
                bytes: bytes[..34].to_vec(),
            };
            return Ok((cid, 34));
        }
        let mut pos = 0;
        let version = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated version"))?;
        if version != 1 {
            return Err(MetadataError::InvalidCid(format!("version {version}")));
        }
        let codec = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated codec"))?;
        let hash_code = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated multihash code"))?;
        let length = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated multihash length"))?;
        let length = usize::try_from(length).ok().filter(|&n| n <= 128).ok_or_else(|| invalid("digest too long"))?;
        let end = pos.checked_add(length).ok_or_else(|| invalid("digest length"))?;
        let digest = bytes.get(pos..end).ok_or_else(|| invalid("truncated digest"))?;
        let cid = Cid { version: 1, codec, hash_code, digest: digest.to_vec(), bytes: bytes[..end].to_vec() };
        Ok((cid, end))
    }

    /// Checks that `block` is what this CID names: sha2-256 of the bytes equals the digest.
    pub fn verify(&self, block: &[u8]) -> Result<()> {
        if self.hash_code != HASH_SHA2_256 {
            return Err(MetadataError::UnsupportedHash(self.hash_code));
        }
        if self.digest.len() != 32 || Sha256::digest(block).as_slice() != self.digest.as_slice() {
            return Err(MetadataError::HashMismatch(self.to_string()));
        }
        Ok(())
    }
}

impl std::fmt::Display for Cid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.version == 0 {
            write!(f, "{}", bs58::encode(&self.bytes).into_string())
        } else {
            write!(f, "b{}", data_encoding::BASE32_NOPAD.encode(&self.bytes).to_ascii_lowercase())
        }
    }
}

/// What a `metadata_uri` asks for: the CID of `ipfs://<cid>`, or the status it gets at once.
pub fn classify(uri: &str) -> std::result::Result<Cid, (Status, String)> {
    let Some(rest) = uri.strip_prefix("ipfs://") else {
        return Err((Status::NotIpfs, "not an ipfs:// uri".into()));
    };
    if rest.contains('/') || rest.contains('?') {
        return Err((Status::Mismatch, "ipfs:// uri with a path: only a bare CID is fetched".into()));
    }
    Cid::parse(rest).map_err(|error| (Status::Mismatch, error.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Protobuf (dag-pb and UnixFS): only the fields a file needs.

/// The fields of one protobuf message: (field number, value).
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn fields(message: &[u8]) -> Result<Vec<(u64, Field<'_>)>> {
    let bad = |why: &str| MetadataError::BadUnixfs(why.to_owned());
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < message.len() {
        let key = read_varint(message, &mut pos).ok_or_else(|| bad("truncated field key"))?;
        let number = key >> 3;
        match key & 7 {
            0 => out.push((number, Field::Varint(read_varint(message, &mut pos).ok_or_else(|| bad("truncated varint"))?))),
            2 => {
                let length = read_varint(message, &mut pos).ok_or_else(|| bad("truncated length"))?;
                let end = usize::try_from(length).ok().and_then(|n| pos.checked_add(n)).ok_or_else(|| bad("length"))?;
                out.push((number, Field::Bytes(message.get(pos..end).ok_or_else(|| bad("truncated bytes"))?)));
                pos = end;
            }
            1 => pos = pos.checked_add(8).filter(|&end| end <= message.len()).ok_or_else(|| bad("truncated fixed64"))?,
            5 => pos = pos.checked_add(4).filter(|&end| end <= message.len()).ok_or_else(|| bad("truncated fixed32"))?,
            wire => return Err(MetadataError::BadUnixfs(format!("wire type {wire}"))),
        }
    }
    Ok(out)
}

/// A dag-pb node: its links' CIDs in order and its `Data`.
struct PbNode<'a> {
    links: Vec<Cid>,
    data: &'a [u8],
}

fn decode_pb_node(block: &[u8]) -> Result<PbNode<'_>> {
    let mut node = PbNode { links: Vec::new(), data: &[] };
    for (number, field) in fields(block)? {
        match (number, field) {
            (1, Field::Bytes(data)) => node.data = data,
            (2, Field::Bytes(link)) => {
                let hash = fields(link)?.into_iter().find_map(|(n, f)| match (n, f) {
                    (1, Field::Bytes(hash)) => Some(hash),
                    _ => None,
                });
                let hash = hash.ok_or_else(|| MetadataError::BadUnixfs("a link without a hash".into()))?;
                node.links.push(Cid::from_exact_bytes(hash)?);
            }
            _ => return Err(MetadataError::BadUnixfs(format!("unexpected PBNode field {number}"))),
        }
    }
    Ok(node)
}

/// A UnixFS `Data` message of a file: its inline bytes and declared size.
struct UnixfsFile<'a> {
    data: &'a [u8],
    filesize: Option<u64>,
}

const UNIXFS_RAW: u64 = 0;
const UNIXFS_FILE: u64 = 2;

fn decode_unixfs_file(data: &[u8]) -> Result<UnixfsFile<'_>> {
    let mut kind = None;
    let mut file = UnixfsFile { data: &[], filesize: None };
    for (number, field) in fields(data)? {
        match (number, field) {
            (1, Field::Varint(k)) => kind = Some(k),
            (2, Field::Bytes(bytes)) => file.data = bytes,
            (3, Field::Varint(size)) => file.filesize = Some(size),
            _ => {} // blocksizes, hashType, fanout, mode, mtime: not needed to read a file
        }
    }
    match kind {
        Some(UNIXFS_FILE | UNIXFS_RAW) => Ok(file),
        Some(other) => Err(MetadataError::BadUnixfs(format!("UnixFS type {other} is not a file"))),
        None => Err(MetadataError::BadUnixfs("no UnixFS type".into())),
    }
}

// ---------------------------------------------------------------------------------------------
// CARv1 and the file walk.

/// The blocks of a CARv1, each verified against its CID, by binary CID. The header (dag-cbor roots)
/// is skipped: the walk starts from the CID asked for, not from what the CAR claims.
pub fn read_car(car: &[u8]) -> Result<HashMap<Vec<u8>, Vec<u8>>> {
    let bad = |why: &str| MetadataError::BadCar(why.to_owned());
    let mut pos = 0;
    let header = read_varint(car, &mut pos).ok_or_else(|| bad("truncated header length"))?;
    if header == 0 || header > MAX_CAR_HEADER_BYTES {
        return Err(bad("header length"));
    }
    pos = usize::try_from(header).ok().and_then(|n| pos.checked_add(n)).filter(|&end| end <= car.len()).ok_or_else(|| bad("truncated header"))?;
    let mut blocks = HashMap::new();
    while pos < car.len() {
        let length = read_varint(car, &mut pos).ok_or_else(|| bad("truncated section length"))?;
        let end = usize::try_from(length).ok().and_then(|n| pos.checked_add(n)).filter(|&end| end <= car.len()).ok_or_else(|| bad("truncated section"))?;
        let section = &car[pos..end];
        let (cid, used) = Cid::read(section).map_err(|e| MetadataError::BadCar(e.to_string()))?;
        let block = &section[used..];
        cid.verify(block)?;
        blocks.insert(cid.bytes, block.to_vec());
        pos = end;
    }
    Ok(blocks)
}

/// The bytes of the file `root` names, read from verified `blocks`: a raw block as it is, a dag-pb
/// node's inline data followed by its children in link order. At most `max_bytes`.
pub fn assemble_file(root: &Cid, blocks: &HashMap<Vec<u8>, Vec<u8>>, max_bytes: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    append_file(root, blocks, max_bytes, 0, &mut out)?;
    Ok(out)
}

fn append_file(
    cid: &Cid,
    blocks: &HashMap<Vec<u8>, Vec<u8>>,
    max_bytes: usize,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    if depth > MAX_DAG_DEPTH {
        return Err(MetadataError::BadUnixfs(format!("deeper than {MAX_DAG_DEPTH} levels")));
    }
    let block = blocks.get(&cid.bytes).ok_or_else(|| MetadataError::Unreachable(format!("the CAR lacks block {cid}")))?;
    let push = |bytes: &[u8], out: &mut Vec<u8>| {
        let total = out.len().checked_add(bytes.len()).filter(|&n| n <= max_bytes);
        match total {
            Some(_) => {
                out.extend_from_slice(bytes);
                Ok(())
            }
            None => Err(MetadataError::TooLarge(out.len().saturating_add(bytes.len()) as u64)),
        }
    };
    match cid.codec {
        CODEC_RAW => push(block, out),
        CODEC_DAG_PB => {
            let node = decode_pb_node(block)?;
            let file = decode_unixfs_file(node.data)?;
            let start = out.len();
            push(file.data, out)?;
            for link in &node.links {
                append_file(link, blocks, max_bytes, depth + 1, out)?;
            }
            match file.filesize {
                Some(size) if size != (out.len() - start) as u64 => Err(MetadataError::BadUnixfs(format!(
                    "filesize {size} but the blocks hold {} bytes",
                    out.len() - start
                ))),
                _ => Ok(()),
            }
        }
        other => Err(MetadataError::UnsupportedCodec(other)),
    }
}

// ---------------------------------------------------------------------------------------------
// The metadata file.

/// What the index keeps of a metadata file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub title: Option<String>,
    pub description: Option<String>,
    pub file_name: Option<String>,
    pub plaintext_bytes: Option<u64>,
    pub sha256: Option<String>,
    /// Every textual field (token name, title, description, file name), for the text index.
    pub text: String,
}

/// Parses a metadata file; its textual fields must be strings, its sizes numbers.
pub fn parse_metadata(bytes: &[u8]) -> Result<Parsed> {
    let value: Json = serde_json::from_slice(bytes).map_err(|e| MetadataError::NotJson(e.to_string()))?;
    let object = value.as_object().ok_or_else(|| MetadataError::NotMetadata("not an object".into()))?;
    if object.get("format").and_then(Json::as_str) != Some(METADATA_FORMAT) {
        return Err(MetadataError::NotMetadata("no or another format field".into()));
    }
    let text_field = |name: &str| -> Result<Option<String>> {
        match object.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(MetadataError::NotMetadata(format!("{name} is not a string"))),
        }
    };
    let name = text_field("name")?;
    let title = text_field("title")?;
    let description = text_field("description")?;
    let file_name = text_field("fileName")?;
    let sha256 = text_field("sha256")?;
    if sha256.as_ref().is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(MetadataError::NotMetadata("sha256 is not 64 hex digits".into()));
    }
    let plaintext_bytes = match object.get("plaintextBytes") {
        None | Some(Json::Null) => None,
        // stored as a signed 64-bit integer
        Some(value) => Some(
            value
                .as_u64()
                .filter(|&n| i64::try_from(n).is_ok())
                .ok_or_else(|| MetadataError::NotMetadata("plaintextBytes is not a size".into()))?,
        ),
    };
    let text = [&name, &title, &description, &file_name]
        .into_iter()
        .flatten()
        .filter(|part| !part.trim().is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let description = description.map(|d| d.chars().take(MAX_DESCRIPTION_CHARS).collect());
    Ok(Parsed { title, description, file_name, plaintext_bytes, sha256, text })
}

// ---------------------------------------------------------------------------------------------
// Trustless gateways.

/// Downloads and verifies files from IPFS trustless gateways, tried in order.
pub struct Fetcher {
    gateways: Vec<String>,
    client: reqwest::Client,
    max_bytes: usize,
    timeout: Duration,
}

impl Fetcher {
    /// `timeout` bounds each request, body included (a gateway that hangs counts as unreachable).
    pub fn new(gateways: Vec<String>, timeout: Duration) -> Fetcher {
        let client = reqwest::Client::builder().timeout(timeout).build().expect("HTTP client");
        let gateways = gateways.into_iter().map(|g| g.trim_end_matches('/').to_owned()).collect();
        Fetcher { gateways, client, max_bytes: MAX_METADATA_BYTES, timeout }
    }

    pub fn with_max_bytes(mut self, max_bytes: usize) -> Fetcher {
        self.max_bytes = max_bytes;
        self
    }

    pub fn gateways(&self) -> &[String] {
        &self.gateways
    }

    /// The file `cid` names, verified. Tries every gateway until one gives a verified answer;
    /// a verified size over the limit ends it (`TooLarge`); otherwise a wrong answer from any
    /// gateway (`Mismatch`-kind error) is reported before an unreachable one.
    pub async fn fetch(&self, cid: &Cid) -> Result<Vec<u8>> {
        let mut wrong = None;
        let mut unreachable = None;
        for gateway in &self.gateways {
            match self.fetch_from(gateway, cid).await {
                Ok(bytes) => return Ok(bytes),
                Err(error @ MetadataError::TooLarge(_)) => return Err(error),
                Err(error @ MetadataError::Unreachable(_)) => unreachable = Some(error),
                Err(error) => wrong = Some(error),
            }
        }
        Err(wrong.or(unreachable).unwrap_or_else(|| MetadataError::Unreachable("no IPFS gateway configured".into())))
    }

    async fn fetch_from(&self, gateway: &str, cid: &Cid) -> Result<Vec<u8>> {
        match cid.codec {
            CODEC_RAW => {
                let block = self.get(gateway, cid, "raw", MAX_BLOCK_BYTES).await?;
                cid.verify(&block)?;
                if block.len() > self.max_bytes {
                    return Err(MetadataError::TooLarge(block.len() as u64));
                }
                Ok(block)
            }
            CODEC_DAG_PB => {
                // the root first: its verified UnixFS size tells whether the file is too large
                // before any of it is downloaded
                let root = self.get(gateway, cid, "raw", MAX_BLOCK_BYTES).await?;
                cid.verify(&root)?;
                let node = decode_pb_node(&root)?;
                let file = decode_unixfs_file(node.data)?;
                let declared = file.filesize.unwrap_or(file.data.len() as u64);
                if declared > self.max_bytes as u64 {
                    return Err(MetadataError::TooLarge(declared));
                }
                let mut blocks = if node.links.is_empty() {
                    HashMap::new()
                } else {
                    let limit = self.max_bytes.saturating_add(CAR_OVERHEAD_BYTES);
                    read_car(&self.get(gateway, cid, "car", limit).await?)?
                };
                blocks.insert(cid.bytes.clone(), root);
                assemble_file(cid, &blocks, self.max_bytes)
            }
            other => Err(MetadataError::UnsupportedCodec(other)),
        }
    }

    /// `GET <gateway>/ipfs/<cid>?format=raw|car`, the body up to `limit` bytes.
    async fn get(&self, gateway: &str, cid: &Cid, format: &str, limit: usize) -> Result<Vec<u8>> {
        let (url, accept) = match format {
            "raw" => (format!("{gateway}/ipfs/{cid}?format=raw"), "application/vnd.ipld.raw"),
            _ => (format!("{gateway}/ipfs/{cid}?format=car&dag-scope=all"), "application/vnd.ipld.car;version=1"),
        };
        let unreachable = |e: reqwest::Error| {
            if e.is_timeout() {
                return MetadataError::Unreachable(format!("{url}: timed out after {:?}", self.timeout));
            }
            // reqwest's own message names the URL only: the cause (refused, reset) is in its sources
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            MetadataError::Unreachable(message)
        };
        let mut response = self.client.get(&url).header("accept", accept).send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(MetadataError::Unreachable(format!("{url}: HTTP {}", response.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(MetadataError::Oversized(format!("{url}: more than {limit} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

// ---------------------------------------------------------------------------------------------
// The queue.

/// A fetch job: the dataset, the uri it is for (the key results are guarded by), its CID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub address: String,
    pub uri: String,
    pub cid: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// The result of one attempt, as the store records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub status: Status,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When to try again (unix milliseconds), for `pending` and `unreachable`.
    pub next_attempt_ms: i64,
    /// Unix seconds of the successful fetch.
    pub fetched_at: Option<i64>,
    pub parsed: Option<Parsed>,
}

#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// Fetches in flight at once.
    pub concurrency: usize,
    /// How often the queue looks for due jobs.
    pub poll: Duration,
    /// The wait after a first failed attempt; doubles with each further one ...
    pub first_retry: Duration,
    /// ... up to this.
    pub max_retry: Duration,
    /// Failed attempts after which a job shows as `unreachable` (it stays `pending` until then).
    pub unreachable_after: u32,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            concurrency: 4,
            poll: Duration::from_secs(1),
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(3_600),
            unreachable_after: 3,
        }
    }
}

pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

impl QueueConfig {
    /// The wait before attempt `attempts + 1`, after `attempts` failed ones (at least one).
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_retry.checked_mul(1u32 << doublings).unwrap_or(self.max_retry).min(self.max_retry)
    }
}

/// One attempt at a job: fetch, verify, parse; what the store should record.
pub async fn attempt(fetcher: &Fetcher, config: &QueueConfig, job: &Job) -> Completion {
    let attempts = job.attempts.saturating_add(1);
    let result = match Cid::parse(&job.cid) {
        Ok(cid) => fetcher.fetch(&cid).await.and_then(|bytes| parse_metadata(&bytes)),
        Err(error) => Err(error),
    };
    match result {
        Ok(parsed) => Completion {
            status: Status::Ok,
            attempts,
            last_error: None,
            next_attempt_ms: 0,
            fetched_at: Some(now_ms() / 1_000),
            parsed: Some(parsed),
        },
        Err(error) => {
            let status = match error.status() {
                Status::Unreachable if attempts < config.unreachable_after => Status::Pending,
                status => status,
            };
            let retry = matches!(status, Status::Pending | Status::Unreachable);
            let delay = i64::try_from(config.retry_delay(attempts).as_millis()).unwrap_or(i64::MAX);
            Completion {
                status,
                attempts,
                last_error: Some(error.to_string()),
                next_attempt_ms: if retry { now_ms().saturating_add(delay) } else { 0 },
                fetched_at: None,
                parsed: None,
            }
        }
    }
}

/// Works the queue for ever: takes due jobs (pending, or unreachable whose retry time came), up to
/// `concurrency` fetches at once, and records each result (which the store drops if the dataset
/// names another uri by then). `on_done` sees every result and how long its attempt took.
pub async fn run_queue(
    store: Arc<dyn IndexStore>,
    fetcher: Arc<Fetcher>,
    config: QueueConfig,
    on_done: impl Fn(&Job, &Completion, Duration, bool) + Send + 'static,
) {
    let concurrency = config.concurrency.max(1);
    let config = Arc::new(config);
    let mut tasks = tokio::task::JoinSet::new();
    let mut in_flight: HashSet<(String, String)> = HashSet::new();
    loop {
        if tasks.len() < concurrency {
            let wanted = concurrency - tasks.len() + in_flight.len();
            match store.metadata_due(now_ms(), wanted).await {
                Ok(jobs) => {
                    for job in jobs {
                        if tasks.len() >= concurrency {
                            break;
                        }
                        if !in_flight.insert((job.address.clone(), job.uri.clone())) {
                            continue;
                        }
                        let (fetcher, config) = (fetcher.clone(), config.clone());
                        tasks.spawn(async move {
                            let started = Instant::now();
                            let completion = attempt(&fetcher, &config, &job).await;
                            (job, completion, started.elapsed())
                        });
                    }
                }
                Err(error) => eprintln!("metadata queue: {error}"),
            }
        }
        tokio::select! {
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                let Ok((job, completion, took)) = done else { continue };
                in_flight.remove(&(job.address.clone(), job.uri.clone()));
                match store.complete_metadata(&job, &completion).await {
                    Ok(applied) => on_done(&job, &completion, took, applied),
                    Err(error) => eprintln!("metadata {}: {error}", job.address),
                }
            }
            _ = tokio::time::sleep(config.poll) => {}
        }
    }
}

/// The store's `metadata` column of a dataset item (a JSON object the query builds) as the API
/// shows it: fields the file did not give are left out; None (no job yet) stays null.
pub fn api_object(stored: Option<String>) -> Json {
    let Some(mut value) = stored.and_then(|text| serde_json::from_str::<Json>(&text).ok()) else { return Json::Null };
    if let Some(object) = value.as_object_mut() {
        for key in ["title", "description", "file_name", "plaintext_bytes", "sha256"] {
            if object.get(key).is_some_and(Json::is_null) {
                object.remove(key);
            }
        }
    }
    value
}

/// The `metadata` object of `/v1/health`: jobs by status, and the IPFS gateways the ingest process
/// fetches from (null before one has run on this store).
pub fn health_json(mut counts: serde_json::Map<String, Json>, gateways: Option<u64>) -> Json {
    counts.insert("gateways".into(), gateways.into());
    let note = match gateways {
        Some(0) => Some("no IPFS gateway configured (--ipfs-gateway): metadata stays pending"),
        None => Some("no ingest process has started on this store yet"),
        Some(_) => None,
    };
    if let Some(note) = note {
        counts.insert("note".into(), note.into());
    }
    Json::Object(counts)
}

/// Encoders of what `Fetcher` reads (CIDs, dag-pb UnixFS files with raw leaves, CARv1), written
/// from the formats' specifications, for tests here and in `tests/`.
pub mod encode {
    use super::{Cid, CODEC_DAG_PB, CODEC_RAW, HASH_SHA2_256};
    use sha2::{Digest, Sha256};

    pub fn varint(mut value: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    /// The CIDv1 of `block` under `codec`, with a sha2-256 multihash.
    pub fn cid_v1(codec: u64, block: &[u8]) -> Cid {
        let digest = Sha256::digest(block).to_vec();
        let mut bytes = Vec::new();
        varint(1, &mut bytes);
        varint(codec, &mut bytes);
        varint(HASH_SHA2_256, &mut bytes);
        varint(digest.len() as u64, &mut bytes);
        bytes.extend_from_slice(&digest);
        Cid { version: 1, codec, hash_code: HASH_SHA2_256, digest, bytes }
    }

    /// The CIDv0 (dag-pb) of `block`.
    pub fn cid_v0(block: &[u8]) -> Cid {
        let digest = Sha256::digest(block).to_vec();
        let mut bytes = vec![0x12, 0x20];
        bytes.extend_from_slice(&digest);
        Cid { version: 0, codec: CODEC_DAG_PB, hash_code: HASH_SHA2_256, digest, bytes }
    }

    pub fn raw_cid(block: &[u8]) -> Cid {
        cid_v1(CODEC_RAW, block)
    }

    fn bytes_field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
        varint(number << 3, out);
        varint(value, out);
    }

    /// A dag-pb UnixFS file node: links (CID, size of the subtree's file bytes) and inline data.
    /// dag-pb's canonical order: Links (field 2) before Data (field 1).
    pub fn file_node(links: &[(Cid, u64)], inline: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        varint_field(1, 2, &mut data); // Type = File
        if !inline.is_empty() {
            bytes_field(2, inline, &mut data);
        }
        let filesize = inline.len() as u64 + links.iter().map(|(_, size)| size).sum::<u64>();
        varint_field(3, filesize, &mut data);
        for (_, size) in links {
            varint_field(4, *size, &mut data);
        }
        let mut node = Vec::new();
        for (cid, size) in links {
            let mut link = Vec::new();
            bytes_field(1, &cid.bytes, &mut link);
            bytes_field(2, b"", &mut link);
            varint_field(3, *size, &mut link);
            bytes_field(2, &link, &mut node);
        }
        bytes_field(1, &data, &mut node);
        node
    }

    /// A file as @helia/unixfs adds it: raw leaves of `chunk` bytes under one dag-pb root (or a
    /// single raw block when it fits one chunk). Returns the root's CID and every block.
    pub fn unixfs_file(content: &[u8], chunk: usize) -> (Cid, Vec<(Cid, Vec<u8>)>) {
        if content.len() <= chunk {
            return (raw_cid(content), vec![(raw_cid(content), content.to_vec())]);
        }
        let leaves: Vec<(Cid, Vec<u8>)> = content.chunks(chunk).map(|c| (raw_cid(c), c.to_vec())).collect();
        let links: Vec<(Cid, u64)> = leaves.iter().map(|(cid, block)| (cid.clone(), block.len() as u64)).collect();
        let root = file_node(&links, b"");
        let root_cid = cid_v1(CODEC_DAG_PB, &root);
        let mut blocks = vec![(root_cid.clone(), root)];
        blocks.extend(leaves);
        (root_cid, blocks)
    }

    /// A CARv1 of `blocks` with `root` as its root (header: the dag-cbor map
    /// `{"roots": [CID(root)], "version": 1}`).
    pub fn car(root: &Cid, blocks: &[(Cid, Vec<u8>)]) -> Vec<u8> {
        let mut header = vec![0xa2, 0x65];
        header.extend_from_slice(b"roots");
        header.push(0x81); // array of 1
        header.extend_from_slice(&[0xd8, 0x2a]); // tag 42: a CID
        let mut tagged = vec![0x00]; // the multibase identity prefix dag-cbor puts before the CID
        tagged.extend_from_slice(&root.bytes);
        header.push(0x58); // bytes, one-byte length
        header.push(tagged.len() as u8);
        header.extend_from_slice(&tagged);
        header.push(0x67);
        header.extend_from_slice(b"version");
        header.push(0x01);
        let mut out = Vec::new();
        varint(header.len() as u64, &mut out);
        out.extend_from_slice(&header);
        for (cid, block) in blocks {
            varint((cid.bytes.len() + block.len()) as u64, &mut out);
            out.extend_from_slice(&cid.bytes);
            out.extend_from_slice(block);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::encode::{car, cid_v0, cid_v1, file_node, raw_cid, unixfs_file};
    use super::*;

    /// `{"hello":"world"}`-style known vector: the CIDv1 raw of the empty string is fixed by the
    /// specs (sha2-256 of nothing).
    #[test]
    fn cids_parse_print_and_verify() {
        let empty = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
        let cid = Cid::parse(empty).unwrap();
        assert_eq!((cid.version, cid.codec, cid.hash_code), (1, CODEC_RAW, HASH_SHA2_256));
        assert_eq!(cid.to_string(), empty);
        cid.verify(b"").unwrap();
        assert_eq!(cid.verify(b"x"), Err(MetadataError::HashMismatch(empty.into())));
        assert_eq!(raw_cid(b"").to_string(), empty);

        let block = b"some block";
        let v0 = cid_v0(block);
        let text = v0.to_string();
        assert!(text.starts_with("Qm") && text.len() == 46, "{text}");
        assert_eq!(Cid::parse(&text).unwrap(), v0);
        Cid::parse(&text).unwrap().verify(block).unwrap();
        // base58btc multibase of the same v1
        let v1 = cid_v1(CODEC_DAG_PB, block);
        let z = format!("z{}", bs58::encode(&v1.bytes).into_string());
        assert_eq!(Cid::parse(&z).unwrap(), v1);

        for bad in ["", "metadata", "bafy", "Qm123", "b!!!!", &format!("{empty}aa")] {
            assert!(Cid::parse(bad).is_err(), "{bad}");
        }
        // a multihash other than sha2-256 (blake3 = 0x1e) is refused, not trusted
        let mut other = Vec::new();
        for n in [1, CODEC_RAW, 0x1e, 32] {
            encode::varint(n, &mut other);
        }
        other.extend_from_slice(&[0; 32]);
        let cid = Cid::read(&other).unwrap().0;
        assert_eq!(cid.verify(b""), Err(MetadataError::UnsupportedHash(0x1e)));
    }

    #[test]
    fn uris_are_classified() {
        assert_eq!(classify("https://example.test/m.json").unwrap_err().0, Status::NotIpfs);
        assert_eq!(classify("ipfs://metadata").unwrap_err().0, Status::Mismatch);
        let cid = raw_cid(b"{}").to_string();
        assert_eq!(classify(&format!("ipfs://{cid}/file.json")).unwrap_err().0, Status::Mismatch);
        assert_eq!(classify(&format!("ipfs://{cid}")).unwrap().to_string(), cid);
    }

    #[test]
    fn a_chunked_file_is_reassembled_from_a_verified_car() {
        let content: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let (root, blocks) = unixfs_file(&content, 1_024);
        assert_eq!(root.codec, CODEC_DAG_PB);
        assert_eq!(blocks.len(), 11);
        let read = read_car(&car(&root, &blocks)).unwrap();
        assert_eq!(assemble_file(&root, &read, MAX_METADATA_BYTES).unwrap(), content);
        // the same through two levels and inline data in the root
        let (inner, inner_blocks) = unixfs_file(&content[..4_096], 1_024);
        let leaf = raw_cid(&content[4_096..]);
        let top = file_node(&[(inner.clone(), 4_096), (leaf.clone(), (content.len() - 4_096) as u64)], b"head:");
        let top_cid = cid_v1(CODEC_DAG_PB, &top);
        let mut all = vec![(top_cid.clone(), top), (leaf, content[4_096..].to_vec())];
        all.extend(inner_blocks);
        let read = read_car(&car(&top_cid, &all)).unwrap();
        let mut expected = b"head:".to_vec();
        expected.extend_from_slice(&content);
        assert_eq!(assemble_file(&top_cid, &read, MAX_METADATA_BYTES).unwrap(), expected);
        // over the cap
        assert_eq!(assemble_file(&top_cid, &read, 5_000), Err(MetadataError::TooLarge(10_005)));
    }

    #[test]
    fn a_tampered_or_incomplete_car_is_refused() {
        // distinct leaves (equal ones would share a CID and a block)
        let content: Vec<u8> = (0..3_000u32).map(|i| (i % 251) as u8).collect();
        let (root, mut blocks) = unixfs_file(&content, 1_000);
        // one leaf's bytes changed: the CAR is refused on that block
        blocks[2].1[10] ^= 1;
        let bytes = car(&root, &blocks);
        assert!(matches!(read_car(&bytes), Err(MetadataError::HashMismatch(_))));
        // a leaf missing: nothing assembles
        let (root, mut blocks) = unixfs_file(&content, 1_000);
        blocks.pop();
        let read = read_car(&car(&root, &blocks)).unwrap();
        assert!(matches!(assemble_file(&root, &read, MAX_METADATA_BYTES), Err(MetadataError::Unreachable(_))));
        // truncated anywhere: an error, never a panic
        let (root, blocks) = unixfs_file(&content, 1_000);
        let whole = car(&root, &blocks);
        for end in 0..whole.len() {
            let _ = read_car(&whole[..end]);
        }
        assert!(read_car(&whole[..whole.len() - 1]).is_err());
        // a root whose filesize disagrees with its leaves
        let leaf = raw_cid(b"abc");
        let lying = file_node(&[(leaf.clone(), 4)], b"");
        let lying_cid = cid_v1(CODEC_DAG_PB, &lying);
        let read = read_car(&car(&lying_cid, &[(lying_cid.clone(), lying), (leaf, b"abc".to_vec())])).unwrap();
        assert!(matches!(assemble_file(&lying_cid, &read, MAX_METADATA_BYTES), Err(MetadataError::BadUnixfs(_))));
    }

    #[test]
    fn metadata_json_gives_its_text_or_a_named_error() {
        let file = json!({
            "format": METADATA_FORMAT, "name": "License: Chat logs", "symbol": "DLIC", "title": "Chat logs",
            "description": "Anonymised support conversations", "fileName": "chats.jsonl",
            "plaintextBytes": 1234, "sha256": "ab".repeat(32), "ownerSealedKey": "AAAA",
        });
        let parsed = parse_metadata(file.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.description.as_deref(), Some("Anonymised support conversations"));
        assert_eq!(parsed.plaintext_bytes, Some(1234));
        assert_eq!(parsed.text, "License: Chat logs\nChat logs\nAnonymised support conversations\nchats.jsonl");
        assert!(matches!(parse_metadata(b"{not json"), Err(MetadataError::NotJson(_))));
        assert!(matches!(parse_metadata(b"[1]"), Err(MetadataError::NotMetadata(_))));
        for bad in [
            json!({ "format": "other" }),
            json!({ "format": METADATA_FORMAT, "description": 5 }),
            json!({ "format": METADATA_FORMAT, "plaintextBytes": -1 }),
            json!({ "format": METADATA_FORMAT, "sha256": "xyz" }),
        ] {
            assert!(matches!(parse_metadata(bad.to_string().as_bytes()), Err(MetadataError::NotMetadata(_))), "{bad}");
        }
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let config = QueueConfig::default();
        let delays: Vec<u64> = [1, 2, 3, 4, 10, 40].iter().map(|&n| config.retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 2_560, 3_600]);
    }

    use serde_json::json;
}
