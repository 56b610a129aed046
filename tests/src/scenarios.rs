//! Steps shared by scenario tests: a one-dataset shop, buyers at each stage of a sale, and the
//! checks that a rejected transaction changed nothing.
use anchor_lang::prelude::Pubkey;
use data_market::instructions::RegisterDatasetArgs;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::backend::Backend;
use crate::fixtures::*;
use crate::market::Outcome;

/// A marketplace with one dataset sold at PRICE, wholly owned by `owner`.
pub struct Shop {
    pub w: World,
    pub owner: Keypair,
    pub d: DatasetHandle,
}

pub fn shop(backend: Backend) -> Shop {
    shop_with(backend, |_| {})
}

pub fn shop_with(backend: Backend, tweak: impl FnOnce(&mut RegisterDatasetArgs)) -> Shop {
    let mut w = World::new(backend);
    let owner = w.wallet();
    let mut args = dataset_args("shop", single_owner(&owner.pubkey()));
    tweak(&mut args);
    let d = w.register_with(&owner, args);
    Shop { w, owner, d }
}

/// A buyer funded with exactly the current price who bought a licence.
pub fn bought(w: &mut World, d: &DatasetHandle, referrer: Option<Pubkey>) -> Keypair {
    let price = w.dataset(&d.address).price;
    let buyer = w.buyer(price);
    w.buy(d, &buyer, referrer).succeeds();
    buyer
}

pub fn delivered(w: &mut World, d: &DatasetHandle, owner: &Keypair, referrer: Option<Pubkey>) -> Keypair {
    let buyer = bought(w, d, referrer);
    w.deliver(d, owner, &buyer.pubkey()).succeeds();
    buyer
}

/// Bought, delivered and settled (the clock moves by the dispute window).
pub fn settled(w: &mut World, d: &DatasetHandle, owner: &Keypair, referrer: Option<Pubkey>) -> Keypair {
    let buyer = delivered(w, d, owner, referrer);
    w.warp(i64::from(DISPUTE_WINDOW));
    w.settle(d, &buyer.pubkey()).succeeds();
    buyer
}

/// The raw bytes of some accounts, to prove a rejected transaction left them alone.
pub struct Snapshot(Vec<(Pubkey, Option<Vec<u8>>)>);

pub fn snapshot(w: &World, addresses: &[Pubkey]) -> Snapshot {
    Snapshot(addresses.iter().map(|a| (*a, w.svm.get_account(a).map(|account| account.data))).collect())
}

pub fn assert_unchanged(w: &World, before: &Snapshot) {
    for (address, data) in &before.0 {
        let now = w.svm.get_account(address).map(|account| account.data);
        assert!(now == *data, "account {address} changed by a rejected transaction");
    }
}

/// The same instruction with `key` no longer marked as a signer.
pub fn unsigned(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for meta in ix.accounts.iter_mut().filter(|meta| meta.pubkey == *key) {
        meta.is_signer = false;
    }
    ix
}
