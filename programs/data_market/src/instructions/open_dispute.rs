use anchor_lang::prelude::*;

use crate::constants::MAX_EVIDENCE_URI_LEN;
use crate::domain::disputes::{self, DisputeReason};
use crate::domain::validation::bounded_text;
use crate::errors::MarketError;
use crate::events::DisputeOpened;
use crate::pda::{self, create_program_account};
use crate::state::{seeds, Dataset, Dispute, License, Revision};

#[derive(Accounts)]
pub struct OpenDispute<'info> {
    /// The licence's buyer; pays the dispute record's rent (returned by close_dispute).
    #[account(mut)]
    pub buyer: Signer<'info>,
    /// Flagged: counts its open disputes.
    #[account(mut)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(mut, has_one = dataset, has_one = buyer @ MarketError::NotLicenseBuyer)]
    pub license: Box<Account<'info, License>>,
    /// CHECK: the licence's dispute PDA (address checked against its seeds by pda::canonical_bump; created in the handler).
    #[account(mut)]
    pub dispute: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> OpenDispute<'info> {
    /// Within the dispute window after delivery: freezes the licence's escrow until the arbiter rules.
    #[inline(never)]
    pub fn handler(ctx: Context<'info, Self>, reason: DisputeReason, evidence_uri: String) -> Result<()> {
        let accounts = ctx.accounts;
        let now = Clock::get()?.unix_timestamp;
        let state = disputes::open(
            accounts.license.state,
            &accounts.license.clock(),
            accounts.dataset.dispute_window_secs,
            now,
        )?;
        bounded_text(&evidence_uri, MAX_EVIDENCE_URI_LEN, MarketError::InvalidEvidenceUri)?;
        let license_key = accounts.license.key();
        let bump = pda::canonical_bump(&accounts.dispute.key(), &[seeds::DISPUTE, license_key.as_ref()])?;
        let dispute_seeds: [&[u8]; 3] = [seeds::DISPUTE, license_key.as_ref(), &[bump]];
        let dispute = Dispute {
            revision: 0,
            license: license_key,
            dataset: accounts.dataset.key(),
            buyer: accounts.buyer.key(),
            reason,
            opened_at: now,
            ruling: None,
            ruled_at: 0,
            bump,
            evidence_uri,
        };
        create_program_account(
            &accounts.buyer.to_account_info(),
            &accounts.dispute.to_account_info(),
            &accounts.system_program.to_account_info(),
            &dispute_seeds,
            &dispute,
        )?;
        let info = accounts.dispute.to_account_info();
        accounts.license.state = state;
        accounts.license.has_dispute = true;
        let dataset = &mut accounts.dataset;
        dataset.open_disputes = dataset.open_disputes.checked_add(1).ok_or(MarketError::Overflow)?;
        accounts.license.touch()?;
        dataset.touch()?;
        emit!(DisputeOpened { dataset: dataset.key(), license: license_key, dispute: info.key(), reason });
        Ok(())
    }
}
