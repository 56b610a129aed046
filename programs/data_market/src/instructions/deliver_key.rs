use anchor_lang::prelude::*;

use crate::constants::SEALED_KEY_LEN;
use crate::domain::lifecycle;
use crate::domain::validation::non_zero;
use crate::errors::MarketError;
use crate::events::KeyDelivered;
use crate::state::{Dataset, License, Revision};

#[derive(Accounts)]
pub struct DeliverKey<'info> {
    /// The dataset owner or its delivery delegate.
    pub deliverer: Signer<'info>,
    pub dataset: Box<Account<'info, Dataset>>,
    /// A licence of this dataset.
    #[account(mut, has_one = dataset)]
    pub license: Box<Account<'info, License>>,
}

impl DeliverKey<'_> {
    fn validate(&self, sealed_key: &[u8; SEALED_KEY_LEN]) -> Result<()> {
        require!(self.dataset.may_deliver(&self.deliverer.key()), MarketError::NotDeliveryAuthority);
        non_zero(sealed_key, MarketError::InvalidSealedKey)?;
        Ok(())
    }

    /// Writes the content key sealed to the buyer's X25519 key; the dispute window starts now.
    #[inline(never)]
    #[access_control(ctx.accounts.validate(&sealed_key))]
    pub fn handler(ctx: Context<Self>, sealed_key: [u8; SEALED_KEY_LEN]) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let license = &mut ctx.accounts.license;
        license.state =
            lifecycle::deliver(license.state, &license.clock(), ctx.accounts.dataset.delivery_window_secs, now)?;
        license.sealed_key = sealed_key;
        license.delivered_at = now;
        license.expires_at = lifecycle::delivered_expiry(now, ctx.accounts.dataset.terms.duration_secs)?;
        license.touch()?;
        emit!(KeyDelivered {
            dataset: ctx.accounts.dataset.key(),
            license: license.key(),
            delivered_by: ctx.accounts.deliverer.key(),
            delivered_at: now,
            expires_at: license.expires_at,
        });
        Ok(())
    }
}
