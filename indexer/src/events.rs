//! Every event the program emits, decoded with the program crate's own event types into the
//! activity feed's rows (name, the dataset and licence it concerns, every field as JSON).
//!
//! The list below destructures each event without `..`, so an event gaining or losing a field
//! fails to compile here; a test checks the list against the IDL's events.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use data_market::constants::MAX_PREVIEW_CHUNKS;
use data_market::events::*;
use data_market::state::UsagePurpose;
use data_market::domain::disputes::{DisputeReason, Ruling};
use data_market::domain::listing::DatasetState;
use serde_json::{Map, Value};

use crate::decode::{hex, variant_name};

/// One decoded event.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedEvent {
    /// The event type's name, as in the IDL (`LicensePurchased`).
    pub name: &'static str,
    /// The dataset it concerns, when it concerns one.
    pub dataset: Option<String>,
    /// The licence it concerns, when it concerns one.
    pub license: Option<String>,
    /// Every field: keys are usually addresses as base58, amounts (u64) as decimal strings, hashes
    /// as hex, enums as snake_case variant names.
    pub fields: Value,
}

/// A field's JSON value.
trait FieldJson {
    fn field_json(&self) -> Value;
    /// The address, when the field is one (for the `dataset` and `license` columns).
    fn as_address(&self) -> Option<String> {
        None
    }
}

impl FieldJson for Pubkey {
    fn field_json(&self) -> Value {
        Value::String(self.to_string())
    }
    fn as_address(&self) -> Option<String> {
        Some(self.to_string())
    }
}

macro_rules! number_fields {
    ($($t:ty),*) => { $(impl FieldJson for $t {
        fn field_json(&self) -> Value { Value::from(*self) }
    })* };
}
number_fields!(u8, u16, u32, i64, bool);

impl FieldJson for u64 {
    // decimal strings, as everywhere in the API: JSON numbers lose precision past 2^53
    fn field_json(&self) -> Value {
        Value::String(self.to_string())
    }
}

impl FieldJson for [u8; 32] {
    fn field_json(&self) -> Value {
        Value::String(hex(self))
    }
}

impl FieldJson for [u32; MAX_PREVIEW_CHUNKS] {
    fn field_json(&self) -> Value {
        Value::from(self.to_vec())
    }
}

impl FieldJson for String {
    fn field_json(&self) -> Value {
        Value::String(self.clone())
    }
}

macro_rules! enum_fields {
    ($($t:ty),*) => { $(impl FieldJson for $t {
        fn field_json(&self) -> Value { Value::String(variant_name(self)) }
    })* };
}
enum_fields!(DatasetState, DisputeReason, UsagePurpose);

impl FieldJson for Ruling {
    // unit variants as names, the split with its share (serde's externally tagged form)
    fn field_json(&self) -> Value {
        match self {
            Ruling::Split { buyer_bps } => serde_json::json!({ "split": { "buyer_bps": buyer_bps } }),
            other => Value::String(variant_name(other)),
        }
    }
}

fn address_of<T: FieldJson>(value: &T) -> Option<String> {
    value.as_address()
}

macro_rules! program_events {
    ($($event:ident { $($field:ident),* $(,)? }),* $(,)?) => {
        /// The names of every event this module decodes.
        pub const EVENT_NAMES: &[&str] = &[$(stringify!($event)),*];

        /// Decodes one event (`Program data:` payload: discriminator + borsh fields); `None` for
        /// bytes that are no event of the program.
        pub fn decode_event(bytes: &[u8]) -> Option<DecodedEvent> {
            let (discriminator, body) = bytes.split_at_checked(8)?;
            $(
                if discriminator == <$event as Discriminator>::DISCRIMINATOR {
                    let $event { $($field),* } = <$event as AnchorDeserialize>::try_from_slice(body).ok()?;
                    let mut fields = Map::new();
                    #[allow(unused_mut, unused_assignments)]
                    let (mut dataset, mut license) = (None::<String>, None::<String>);
                    $(
                        fields.insert(stringify!($field).to_owned(), $field.field_json());
                        match stringify!($field) {
                            "dataset" => dataset = address_of(&$field),
                            "license" => license = address_of(&$field),
                            _ => {}
                        }
                    )*
                    return Some(DecodedEvent {
                        name: stringify!($event),
                        dataset,
                        license,
                        fields: Value::Object(fields),
                    });
                }
            )*
            None
        }
    };
}

program_events! {
    MarketplaceInitialized { authority, treasury, arbiter, protocol_fee_bps, max_referral_fee_bps,
        min_delivery_window_secs, min_dispute_window_secs },
    MarketplaceUpdated { treasury, arbiter, protocol_fee_bps, max_referral_fee_bps, purchases_paused,
        min_delivery_window_secs, min_dispute_window_secs },
    AuthorityProposed { authority, proposed },
    AuthorityTransferred { previous, authority },
    DatasetRegistered { dataset, owner, content_hash, license_mint, payment_mint, price,
        previous_version, payment_mint_freezable },
    DatasetUpdated { dataset, price, delivery_delegate, allow_list_enabled },
    DatasetStateChanged { dataset, state, reason },
    AllowListChanged { dataset, buyer, allowed },
    UsageRecorded { dataset, license, receipt, holder, attestor, purpose, model_hash, run_id, index },
    CreditsPurchased { dataset, license, credits, price_paid },
    ReviewSubmitted { dataset, license, review, rating, paid, edited },
    DisputeOpened { dataset, license, dispute, reason },
    DisputeRuled { dataset, license, ruling, buyer_refund, released },
    AccountClosed { account, rent_to, lamports },
    LicensePurchased { dataset, license, buyer, price_paid, protocol_fee, referral_fee, referrer,
        credits, duration_secs },
    LicenseRenewed { dataset, license, price_paid, expires_at },
    KeyDelivered { dataset, license, delivered_by, delivered_at, expires_at },
    LicenseRefunded { dataset, license, buyer, amount },
    LicenseSettled { dataset, license, gross, protocol_fee, referral_fee, net },
    RevenueClaimed { dataset, recipient, amount },
    ReferralFeeClaimed { dataset, license, referrer, amount },
    ProtocolFeesSwept { dataset, treasury_account, amount },
    ReferralFeeForfeited { dataset, license, referrer, amount },
    FrontEndChanged { wallet, registered },
    ContentHashReleased { content_hash, revoked_dataset, claimant },
    PreviewPolicySet { dataset, chunk_tree_root, chunk_size, chunk_count, chunks_per_preview,
        max_per_period, period_secs },
    PreviewRequested { dataset, request, buyer, requested_slot, answer_deadline_slot, chunks_requested },
    PreviewAnswered { dataset, request, chunks, chunks_requested, answer_cid },
    PreviewExpired { dataset, request, buyer },
}

/// The program's events in one transaction's log messages, in order (`Program data: <base64>`
/// lines; lines of other programs' data that happen not to decode are skipped).
pub fn events_in_logs<'a>(logs: impl IntoIterator<Item = &'a str>) -> Vec<DecodedEvent> {
    logs.into_iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .filter_map(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .filter_map(|bytes| decode_event(&bytes))
        .collect()
}

/// The account an `AccountClosed` event names.
pub fn closed_account(event: &DecodedEvent) -> Option<&str> {
    (event.name == "AccountClosed").then(|| event.fields["account"].as_str()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Event;

    fn encoded(event: &impl Event) -> Vec<u8> {
        event.data()
    }

    #[test]
    fn every_idl_event_is_decoded() {
        let idl: Value =
            serde_json::from_str(include_str!("../../idl/data_market.json")).expect("the IDL parses");
        let mut in_idl: Vec<&str> =
            idl["events"].as_array().expect("events").iter().filter_map(|e| e["name"].as_str()).collect();
        let mut here = EVENT_NAMES.to_vec();
        in_idl.sort();
        here.sort();
        assert_eq!(here, in_idl);
    }

    #[test]
    fn decodes_fields_subjects_and_names() {
        let dataset = Pubkey::new_unique();
        let license = Pubkey::new_unique();
        let event = LicensePurchased {
            dataset,
            license,
            buyer: Pubkey::new_unique(),
            price_paid: u64::MAX,
            protocol_fee: 7,
            referral_fee: 0,
            referrer: Pubkey::default(),
            credits: 3,
            duration_secs: 0,
        };
        let decoded = decode_event(&encoded(&event)).expect("decodes");
        assert_eq!(decoded.name, "LicensePurchased");
        assert_eq!(decoded.dataset, Some(dataset.to_string()));
        assert_eq!(decoded.license, Some(license.to_string()));
        assert_eq!(decoded.fields["price_paid"], "18446744073709551615");
        assert_eq!(decoded.fields.as_object().expect("object").len(), 9);

        let ruled = DisputeRuled { dataset, license, ruling: Ruling::Refund, buyer_refund: 5, released: 0 };
        let decoded = decode_event(&encoded(&ruled)).expect("decodes");
        assert_eq!(decoded.fields["ruling"], "refund");
        let split = DisputeRuled { ruling: Ruling::Split { buyer_bps: 2_500 }, ..ruled };
        let decoded = decode_event(&encoded(&split)).expect("decodes");
        assert_eq!(decoded.fields["ruling"]["split"]["buyer_bps"], 2_500);

        let answered = PreviewAnswered {
            dataset,
            request: Pubkey::new_unique(),
            chunks: [346, 205, 797, 263, 0, 0, 0, 0],
            chunks_requested: 4,
            answer_cid: "bafyanswer".to_owned(),
        };
        let decoded = decode_event(&encoded(&answered)).expect("decodes");
        assert_eq!(decoded.dataset, Some(dataset.to_string()));
        assert_eq!(decoded.fields["chunks"], serde_json::json!([346, 205, 797, 263, 0, 0, 0, 0]));
        assert_eq!(decoded.fields["answer_cid"], "bafyanswer");
    }

    #[test]
    fn reads_program_data_lines_and_skips_the_rest() {
        let closed = AccountClosed { account: Pubkey::new_unique(), rent_to: Pubkey::new_unique(), lamports: 9 };
        let line = format!("Program data: {}", base64::engine::general_purpose::STANDARD.encode(encoded(&closed)));
        let truncated = {
            let mut bytes = encoded(&closed);
            bytes.truncate(20);
            format!("Program data: {}", base64::engine::general_purpose::STANDARD.encode(bytes))
        };
        let mut unknown = vec![1u8; 8];
        unknown.extend(9u64.to_le_bytes());
        let unknown = format!("Program data: {}", base64::engine::general_purpose::STANDARD.encode(unknown));
        let logs = ["Program log: Instruction: Close", &truncated, &unknown, &line, "Program data: !!"];
        let events = events_in_logs(logs.iter().copied());
        assert_eq!(events.len(), 1);
        assert_eq!(closed_account(&events[0]), Some(closed.account.to_string().as_str()));
    }
}
