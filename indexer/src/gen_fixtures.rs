//! `gen-fixtures`: writes synthetic datasets as real program accounts, one JSON file each in the
//! form `solana-test-validator --account-dir` loads (the same form `solana account --output json`
//! prints): the program's own `Dataset` type serialised by Anchor, at its PDA (content hash +
//! owner), with its bump, padded to the space `register_dataset` allocates and rent-exempt
//! lamports, owned by the program. A validator started with them serves a catalogue of any size to
//! the indexer and to the `getProgramAccounts` path alike.

use std::path::Path;

use anchor_lang::prelude::{Pubkey, Rent};
use anchor_lang::Space;
use base64::Engine;
use data_market::state::{seeds, Dataset};
use serde_json::json;

use crate::bench::{synthetic, Rng};
use crate::fixtures::{dataset, serialize};

/// The bytes a registered dataset's account holds: discriminator + fields, then zeros up to the
/// allocated space.
pub fn account_data(dataset: &Dataset) -> Vec<u8> {
    let mut data = serialize(dataset);
    data.resize((8 + Dataset::INIT_SPACE).max(data.len()), 0);
    data
}

/// The `i`th synthetic dataset of a seeded catalogue, at its PDA.
pub(crate) fn fixture(i: u64, rng: &mut Rng, seed: u64) -> (Pubkey, Dataset) {
    let mut account = dataset(&synthetic(i, rng));
    let mut content_hash = [0u8; 32];
    content_hash[..8].copy_from_slice(&i.to_le_bytes());
    content_hash[8..16].copy_from_slice(&seed.to_le_bytes());
    content_hash[16] = 0xfe; // not a hash of any real content
    account.content_hash = content_hash;
    let (address, bump) =
        Pubkey::find_program_address(&[seeds::DATASET, &content_hash, account.owner.as_ref()], &data_market::ID);
    account.bump = bump;
    (address, account)
}

/// The account file `--account-dir` reads.
pub fn account_file(address: &Pubkey, data: &[u8]) -> serde_json::Value {
    json!({
        "pubkey": address.to_string(),
        "account": {
            "lamports": Rent::default().minimum_balance(data.len()),
            "data": [base64::engine::general_purpose::STANDARD.encode(data), "base64"],
            "owner": data_market::ID.to_string(),
            "executable": false,
            "rentEpoch": u64::MAX,
            "space": data.len(),
        }
    })
}

/// Writes `datasets` account files into `dir` (created if missing); returns the bytes of account
/// data written.
pub fn write(dir: &Path, datasets: u64, seed: u64, mut progress: impl FnMut(u64)) -> std::io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(seed);
    let mut bytes = 0u64;
    for i in 0..datasets {
        let (address, account) = fixture(i, &mut rng, seed);
        let data = account_data(&account);
        bytes += data.len() as u64;
        std::fs::write(dir.join(format!("{address}.json")), account_file(&address, &data).to_string())?;
        if (i + 1) % 10_000 == 0 {
            progress(i + 1);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Account, Header, Kind};

    #[test]
    fn fixtures_are_decodable_accounts_at_their_pdas() {
        let dir = std::env::temp_dir().join(format!("indexer-fixtures-{}", std::process::id()));
        let written = write(&dir, 25, 7, |_| {}).expect("write");
        let files: Vec<_> = std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").path()).collect();
        assert_eq!(files.len(), 25);
        assert_eq!(written, 25 * (8 + Dataset::INIT_SPACE) as u64);
        for file in files {
            let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
            let account = &json["account"];
            assert_eq!(account["owner"], data_market::ID.to_string());
            let data = base64::engine::general_purpose::STANDARD
                .decode(account["data"][0].as_str().expect("data"))
                .expect("base64");
            assert_eq!(account["lamports"].as_u64(), Some(Rent::default().minimum_balance(data.len())));
            let Ok(Account::Dataset(dataset)) = Account::decode(&data) else { panic!("not a dataset") };
            assert_eq!(Header::read(&data).and_then(|h| h.kind), Some(Kind::Dataset));
            let (pda, bump) = Pubkey::find_program_address(
                &[seeds::DATASET, &dataset.content_hash, dataset.owner.as_ref()],
                &data_market::ID,
            );
            assert_eq!((json["pubkey"].as_str(), dataset.bump), (Some(pda.to_string().as_str()), bump));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
