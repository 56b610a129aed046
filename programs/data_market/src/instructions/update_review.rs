use anchor_lang::prelude::*;

use super::submit_review::ReviewArgs;
use crate::domain::lifecycle::LicenseState;
use crate::errors::MarketError;
use crate::events::ReviewSubmitted;
use crate::state::{Dataset, License, Review, Revision};

#[derive(Accounts)]
pub struct UpdateReview<'info> {
    pub reviewer: Signer<'info>,
    #[account(mut)]
    pub dataset: Box<Account<'info, Dataset>>,
    /// The review's licence: a refunded one's review can no longer change.
    #[account(has_one = dataset)]
    pub license: Box<Account<'info, License>>,
    /// Only its author edits it.
    #[account(mut, has_one = dataset, has_one = license, has_one = reviewer @ MarketError::NotReviewAuthor)]
    pub review: Box<Account<'info, Review>>,
}

impl UpdateReview<'_> {
    #[inline(never)]
    pub fn handler(ctx: Context<Self>, args: ReviewArgs) -> Result<()> {
        args.check()?;
        // as for a first review: only a delivered, not refunded licence (a licence bought again at
        // the same address is waiting for its key until delivered)
        match ctx.accounts.license.state {
            LicenseState::Delivered | LicenseState::Settled | LicenseState::Disputed => {}
            LicenseState::AwaitingKey => return err!(MarketError::LicenseNotDelivered),
            LicenseState::Refunded => return err!(MarketError::LicenseVoid),
        }
        let review = &mut ctx.accounts.review;
        ctx.accounts.dataset.ratings.replace(review.rating, args.rating, review.paid)?;
        review.rating = args.rating;
        review.text_hash = args.text_hash;
        review.uri = args.uri;
        review.updated_at = Clock::get()?.unix_timestamp;
        review.touch()?;
        ctx.accounts.dataset.touch()?;
        emit!(ReviewSubmitted {
            dataset: review.dataset,
            license: review.license,
            review: review.key(),
            rating: review.rating,
            paid: review.paid,
            edited: true
        });
        Ok(())
    }
}
