use anchor_lang::prelude::*;

use crate::domain::lifecycle::{self, LicenseState};
use crate::errors::MarketError;
use crate::events::ReferralFeeForfeited;
use crate::state::{Dataset, License, Revision};

#[derive(Accounts)]
pub struct ForfeitReferralFee<'info> {
    /// Anyone: an absent referrer must not keep a licence or its dataset from closing.
    pub caller: Signer<'info>,
    #[account(mut)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset)]
    pub license: Box<Account<'info, License>>,
}

impl ForfeitReferralFee<'_> {
    fn validate(&self) -> Result<()> {
        let license = &self.license;
        require!(license.state == LicenseState::Settled, MarketError::LicenseNotSettled);
        require!(license.referral_fee > 0 && !license.referral_fee_resolved, MarketError::ReferralFeeResolved);
        let closed = lifecycle::referral_claim_window_closed(license.settled_at, Clock::get()?.unix_timestamp)?;
        require!(closed, MarketError::ReferralClaimWindowOpen);
        Ok(())
    }

    /// Hands a referral fee left unclaimed past its claim window to the dataset's recipients.
    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let license = &mut ctx.accounts.license;
        let amount = license.referral_fee;
        ctx.accounts.dataset.forfeit_referral(amount)?;
        license.referral_fee_resolved = true;
        license.touch()?;
        ctx.accounts.dataset.touch()?;
        emit!(ReferralFeeForfeited {
            dataset: license.dataset,
            license: license.key(),
            referrer: license.referrer,
            amount,
        });
        Ok(())
    }
}
