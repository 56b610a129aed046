//! JSON views of decoded accounts (the program's types derive no serde). Amounts are strings: u64
//! base units exceed what a JSON number keeps exactly in JavaScript.

use data_market::state::Dataset;
use serde_json::{json, Value};

use crate::decode::{hex, tags, variant_name};

pub fn dataset(d: &Dataset) -> Value {
    let none_if_default = |key: &anchor_lang::prelude::Pubkey| {
        if *key == anchor_lang::prelude::Pubkey::default() {
            Value::Null
        } else {
            json!(key.to_string())
        }
    };
    json!({
        "revision": d.revision,
        "owner": d.owner.to_string(),
        "content_hash": hex(&d.content_hash),
        "category": variant_name(&d.category),
        "state": variant_name(&d.state),
        "tags": tags(d),
        "payment_mint": d.payment_mint.to_string(),
        "license_mint": d.license_mint.to_string(),
        "escrow_vault": d.escrow_vault.to_string(),
        "price": d.price.to_string(),
        "terms": {
            "duration_secs": d.terms.duration_secs,
            "max_supply": d.terms.max_supply,
            "metered": d.terms.metered,
            "transferable": d.terms.transferable,
            "ai_training": d.terms.ai_training,
            "commercial_use": d.terms.commercial_use,
            "derivative_models": d.terms.derivative_models,
            "attribution_required": d.terms.attribution_required,
        },
        "referral_fee_bps": d.referral_fee_bps,
        "delivery_window_secs": d.delivery_window_secs,
        "dispute_window_secs": d.dispute_window_secs,
        "delivery_delegate": none_if_default(&d.delivery_delegate),
        "recipients": d.active_recipients().iter()
            .map(|r| json!({ "wallet": r.wallet.to_string(), "bps": r.bps }))
            .collect::<Vec<_>>(),
        "licenses_outstanding": d.licenses_outstanding,
        "licenses_sold": d.licenses_sold,
        "licenses_pending": d.licenses_pending,
        "open_disputes": d.open_disputes,
        "revoke_reason": d.revoke_reason,
        "allow_list_enabled": d.allow_list_enabled,
        "previous_version": none_if_default(&d.previous_version),
        "next_version": none_if_default(&d.next_version),
        "usage_by_purpose": d.usage_by_purpose,
        "ratings": {
            "paid": { "count": d.ratings.paid.count, "sum": d.ratings.paid.sum },
            "free": { "count": d.ratings.free.count, "sum": d.ratings.free.sum },
        },
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "title": d.title,
        "metadata_uri": d.metadata_uri,
        "ciphertext_cid": d.ciphertext_cid,
    })
}
