pub mod allow_list_entry;
pub mod content_hash_record;
pub mod dataset;
pub mod dispute;
pub mod front_end;
pub mod license;
pub mod marketplace;
pub mod preview;
pub mod review;
pub mod seeds;
pub mod usage_receipt;

pub use allow_list_entry::*;
pub use content_hash_record::*;
pub use dataset::*;
pub use dispute::*;
pub use front_end::*;
pub use license::*;
pub use marketplace::*;
pub use preview::*;
pub use review::*;
pub use usage_receipt::*;

use anchor_lang::prelude::*;

/// Every account this program owns starts with `revision: u64` at this offset, right after the
/// discriminator: bumped on every write, so an indexer learns which accounts changed from a 16-byte
/// slice of each (discriminator + revision) instead of downloading them whole.
pub const REVISION_OFFSET: usize = 8;

pub trait Revision {
    fn revision_mut(&mut self) -> &mut u64;

    /// Marks one write of the account.
    fn touch(&mut self) -> Result<()> {
        let revision = self.revision_mut();
        *revision = revision.checked_add(1).ok_or(crate::errors::MarketError::Overflow)?;
        Ok(())
    }
}

macro_rules! impl_revision {
    ($($account:ty),*) => {
        $(impl Revision for $account {
            fn revision_mut(&mut self) -> &mut u64 {
                &mut self.revision
            }
        })*
    };
}

impl_revision!(
    AllowListEntry,
    ContentHashRecord,
    Dataset,
    Dispute,
    FrontEnd,
    License,
    Marketplace,
    PreviewPolicy,
    PreviewRequest,
    Review,
    UsageReceipt
);

/// Bumps the revision of an account written in place (see `REVISION_OFFSET`).
pub fn touch_in_place(data: &mut [u8]) -> Result<()> {
    let slot: &mut [u8; 8] = (&mut data[REVISION_OFFSET..REVISION_OFFSET + 8])
        .try_into()
        .map_err(|_| error!(crate::errors::MarketError::Overflow))?;
    let revision = u64::from_le_bytes(*slot).checked_add(1).ok_or(crate::errors::MarketError::Overflow)?;
    *slot = revision.to_le_bytes();
    Ok(())
}
