use anchor_lang::prelude::*;

/// A front-end (a web site or app that sells datasets) the operator registered. Only registered
/// front-ends can be named as referrer of a purchase and earn the dataset's referral fee, so a
/// buyer cannot take the fee out of the recipients' share by naming a second wallet of its own.
#[account]
#[derive(InitSpace, Debug)]
pub struct FrontEnd {
    /// Bumped on every write (see `Revision`).
    pub revision: u64,
    pub wallet: Pubkey,
    pub registered_at: i64,
    pub bump: u8,
}
