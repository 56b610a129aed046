use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::AccountClosed;
use crate::state::{Dataset, Review, Revision};

#[derive(Accounts)]
pub struct CloseReview<'info> {
    /// The review's author, who paid its rent.
    #[account(mut)]
    pub reviewer: Signer<'info>,
    #[account(mut, has_one = reviewer @ MarketError::NotReviewAuthor, close = reviewer)]
    pub review: Box<Account<'info, Review>>,
    /// CHECK: the reviewed dataset (address checked), which may already be closed; when it is live
    /// the rating leaves its aggregate.
    #[account(mut, address = review.dataset @ MarketError::WrongDataset)]
    pub dataset: UncheckedAccount<'info>,
}

impl CloseReview<'_> {
    /// Withdraws a review and returns its rent.
    #[inline(never)]
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let review = &ctx.accounts.review;
        let info = ctx.accounts.dataset.to_account_info();
        if *info.owner == crate::ID {
            let mut dataset = Dataset::try_deserialize(&mut &info.try_borrow_data()?[..])?;
            dataset.ratings.remove(review.rating, review.paid)?;
            dataset.touch()?;
            dataset.try_serialize(&mut &mut info.try_borrow_mut_data()?[..])?;
        }
        emit!(AccountClosed {
            account: review.key(),
            rent_to: ctx.accounts.reviewer.key(),
            lamports: review.get_lamports()
        });
        Ok(())
    }
}
