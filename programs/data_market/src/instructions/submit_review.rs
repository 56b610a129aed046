use anchor_lang::prelude::*;

use crate::constants::MAX_REVIEW_URI_LEN;
use crate::domain::lifecycle::LicenseState;
use crate::domain::reviews::check_rating;
use crate::domain::validation::bounded_text;
use crate::errors::MarketError;
use crate::events::ReviewSubmitted;
use crate::pda::{self, create_program_account};
use crate::state::{seeds, Dataset, License, Review, Revision};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ReviewArgs {
    /// 1 to 5.
    pub rating: u8,
    /// sha256 of the review text.
    pub text_hash: [u8; 32],
    /// Where the text is kept (at most MAX_REVIEW_URI_LEN bytes).
    pub uri: String,
}

impl ReviewArgs {
    pub fn check(&self) -> Result<()> {
        check_rating(self.rating)?;
        bounded_text(&self.uri, MAX_REVIEW_URI_LEN, MarketError::InvalidReviewUri)?;
        Ok(())
    }
}

#[derive(Accounts)]
pub struct SubmitReview<'info> {
    /// The licence's buyer; pays the review's rent.
    #[account(mut)]
    pub reviewer: Signer<'info>,
    /// Keeps the rating count and sum.
    #[account(mut)]
    pub dataset: Box<Account<'info, Dataset>>,
    #[account(has_one = dataset, constraint = license.buyer == reviewer.key() @ MarketError::NotReviewAuthor)]
    pub license: Box<Account<'info, License>>,
    /// CHECK: the licence's review PDA (address checked against its seeds by pda::canonical_bump; created in the handler, so a
    /// second review fails and lamports sent there beforehand cannot block it).
    #[account(mut)]
    pub review: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> SubmitReview<'info> {
    fn validate(&self, args: &ReviewArgs) -> Result<()> {
        match self.license.state {
            LicenseState::Delivered | LicenseState::Settled | LicenseState::Disputed => {}
            LicenseState::AwaitingKey => return err!(MarketError::LicenseNotDelivered),
            LicenseState::Refunded => return err!(MarketError::LicenseVoid),
        }
        require_keys_neq!(*self.review.owner, crate::ID, MarketError::ReviewAlreadyExists);
        args.check()
    }

    /// One review per licence, by its buyer, once the data was delivered.
    #[inline(never)]
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<'info, Self>, args: ReviewArgs) -> Result<()> {
        let accounts = ctx.accounts;
        let license_key = accounts.license.key();
        let bump = pda::canonical_bump(&accounts.review.key(), &[seeds::REVIEW, license_key.as_ref()])?;
        let review_seeds: [&[u8]; 3] = [seeds::REVIEW, license_key.as_ref(), &[bump]];
        let now = Clock::get()?.unix_timestamp;
        let paid = accounts.license.price_paid > 0;
        let review = Review {
            revision: 0,
            license: license_key,
            dataset: accounts.dataset.key(),
            reviewer: accounts.reviewer.key(),
            rating: args.rating,
            paid,
            text_hash: args.text_hash,
            created_at: now,
            updated_at: now,
            bump,
            uri: args.uri,
        };
        create_program_account(
            &accounts.reviewer.to_account_info(),
            &accounts.review.to_account_info(),
            &accounts.system_program.to_account_info(),
            &review_seeds,
            &review,
        )?;
        let info = accounts.review.to_account_info();
        accounts.dataset.ratings.add(args.rating, paid)?;
        accounts.dataset.touch()?;
        emit!(ReviewSubmitted {
            dataset: review.dataset,
            license: license_key,
            review: info.key(),
            rating: args.rating,
            paid,
            edited: false
        });
        Ok(())
    }
}
