//! Decoding program accounts and events with the program crate's own types: the discriminator picks
//! the type, Anchor's `AccountDeserialize` checks it and reads the borsh layout. No layout is copied
//! here; when the program changes an account, this module changes with it at compile time.

use anchor_lang::{AccountDeserialize, Discriminator};
use data_market::state::{
    AllowListEntry, ContentHashRecord, Dataset, Dispute, FrontEnd, License, Marketplace, Review, UsageReceipt,
    REVISION_OFFSET,
};

/// Every account type the program owns, in the order the store creates their tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Marketplace,
    FrontEnd,
    ContentHashRecord,
    Dataset,
    AllowListEntry,
    License,
    UsageReceipt,
    Review,
    Dispute,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Marketplace,
        Kind::FrontEnd,
        Kind::ContentHashRecord,
        Kind::Dataset,
        Kind::AllowListEntry,
        Kind::License,
        Kind::UsageReceipt,
        Kind::Review,
        Kind::Dispute,
    ];

    pub fn discriminator(self) -> &'static [u8] {
        match self {
            Kind::Marketplace => Marketplace::DISCRIMINATOR,
            Kind::FrontEnd => FrontEnd::DISCRIMINATOR,
            Kind::ContentHashRecord => ContentHashRecord::DISCRIMINATOR,
            Kind::Dataset => Dataset::DISCRIMINATOR,
            Kind::AllowListEntry => AllowListEntry::DISCRIMINATOR,
            Kind::License => License::DISCRIMINATOR,
            Kind::UsageReceipt => UsageReceipt::DISCRIMINATOR,
            Kind::Review => Review::DISCRIMINATOR,
            Kind::Dispute => Dispute::DISCRIMINATOR,
        }
    }

    /// The store's table of this account type.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Marketplace => "marketplaces",
            Kind::FrontEnd => "front_ends",
            Kind::ContentHashRecord => "content_hash_records",
            Kind::Dataset => "datasets",
            Kind::AllowListEntry => "allow_list_entries",
            Kind::License => "licenses",
            Kind::UsageReceipt => "usage_receipts",
            Kind::Review => "reviews",
            Kind::Dispute => "disputes",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Marketplace => "marketplace",
            Kind::FrontEnd => "front_end",
            Kind::ContentHashRecord => "content_hash_record",
            Kind::Dataset => "dataset",
            Kind::AllowListEntry => "allow_list_entry",
            Kind::License => "license",
            Kind::UsageReceipt => "usage_receipt",
            Kind::Review => "review",
            Kind::Dispute => "dispute",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The type whose discriminator starts `data`, if any.
    pub fn of(data: &[u8]) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| data.len() >= 8 && &data[..8] == kind.discriminator())
    }
}

/// A decoded program account.
#[derive(Debug)]
pub enum Account {
    Marketplace(Marketplace),
    FrontEnd(FrontEnd),
    ContentHashRecord(ContentHashRecord),
    Dataset(Box<Dataset>),
    AllowListEntry(AllowListEntry),
    License(Box<License>),
    UsageReceipt(UsageReceipt),
    Review(Review),
    Dispute(Dispute),
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than a discriminator, or a discriminator of no account type of this program.
    UnknownDiscriminator,
    /// The discriminator matched but the body did not deserialize.
    Malformed(Kind, String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownDiscriminator => write!(f, "not an account of the data market program"),
            DecodeError::Malformed(kind, why) => write!(f, "malformed {}: {why}", kind.name()),
        }
    }
}

impl std::error::Error for DecodeError {}

fn read<T: AccountDeserialize>(kind: Kind, data: &[u8]) -> Result<T, DecodeError> {
    let mut slice = data;
    T::try_deserialize(&mut slice).map_err(|error| DecodeError::Malformed(kind, error.to_string()))
}

impl Account {
    pub fn decode(data: &[u8]) -> Result<Account, DecodeError> {
        let kind = Kind::of(data).ok_or(DecodeError::UnknownDiscriminator)?;
        Ok(match kind {
            Kind::Marketplace => Account::Marketplace(read(kind, data)?),
            Kind::FrontEnd => Account::FrontEnd(read(kind, data)?),
            Kind::ContentHashRecord => Account::ContentHashRecord(read(kind, data)?),
            Kind::Dataset => Account::Dataset(Box::new(read(kind, data)?)),
            Kind::AllowListEntry => Account::AllowListEntry(read(kind, data)?),
            Kind::License => Account::License(Box::new(read(kind, data)?)),
            Kind::UsageReceipt => Account::UsageReceipt(read(kind, data)?),
            Kind::Review => Account::Review(read(kind, data)?),
            Kind::Dispute => Account::Dispute(read(kind, data)?),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Account::Marketplace(_) => Kind::Marketplace,
            Account::FrontEnd(_) => Kind::FrontEnd,
            Account::ContentHashRecord(_) => Kind::ContentHashRecord,
            Account::Dataset(_) => Kind::Dataset,
            Account::AllowListEntry(_) => Kind::AllowListEntry,
            Account::License(_) => Kind::License,
            Account::UsageReceipt(_) => Kind::UsageReceipt,
            Account::Review(_) => Kind::Review,
            Account::Dispute(_) => Kind::Dispute,
        }
    }

    pub fn revision(&self) -> u64 {
        match self {
            Account::Marketplace(a) => a.revision,
            Account::FrontEnd(a) => a.revision,
            Account::ContentHashRecord(a) => a.revision,
            Account::Dataset(a) => a.revision,
            Account::AllowListEntry(a) => a.revision,
            Account::License(a) => a.revision,
            Account::UsageReceipt(a) => a.revision,
            Account::Review(a) => a.revision,
            Account::Dispute(a) => a.revision,
        }
    }
}

/// The 16-byte header every account of the program starts with: what a reconcile pass downloads
/// (a `dataSlice` of offset 0, length 16) to learn which accounts changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub kind: Option<Kind>,
    pub revision: u64,
}

pub const HEADER_LEN: usize = REVISION_OFFSET + 8;

impl Header {
    pub fn read(data: &[u8]) -> Option<Header> {
        let revision = data.get(REVISION_OFFSET..REVISION_OFFSET + 8)?;
        Some(Header { kind: Kind::of(data), revision: u64::from_le_bytes(revision.try_into().ok()?) })
    }
}

/// A program enum's variant as an API value: `OrderingPaused` becomes `ordering_paused`.
pub fn variant_name(value: &impl std::fmt::Debug) -> String {
    let debug = format!("{value:?}");
    let head = debug.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
    let mut out = String::new();
    for (i, c) in head.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A dataset's tags: the fixed, zero-padded tag slots as strings, empty slots left out.
pub fn tags(dataset: &Dataset) -> Vec<String> {
    dataset
        .tags
        .iter()
        .map(|slot| {
            let end = slot.iter().position(|&b| b == 0).unwrap_or(slot.len());
            String::from_utf8_lossy(&slot[..end]).into_owned()
        })
        .filter(|tag| !tag.is_empty())
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
