//! Review ratings and the dataset's running aggregate (count and sum, so the average is one read).
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize, InitSpace};

use super::DomainResult;
use crate::errors::MarketError;

pub const MIN_RATING: u8 = 1;
pub const MAX_RATING: u8 = 5;

pub fn check_rating(rating: u8) -> DomainResult<()> {
    if !(MIN_RATING..=MAX_RATING).contains(&rating) {
        return Err(MarketError::InvalidRating);
    }
    Ok(())
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct RatingAggregate {
    pub count: u32,
    pub sum: u64,
}

impl RatingAggregate {
    pub fn add(&mut self, rating: u8) -> DomainResult<()> {
        check_rating(rating)?;
        self.count = self.count.checked_add(1).ok_or(MarketError::Overflow)?;
        self.sum = self.sum.checked_add(u64::from(rating)).ok_or(MarketError::Overflow)?;
        Ok(())
    }

    pub fn replace(&mut self, old: u8, new: u8) -> DomainResult<()> {
        check_rating(new)?;
        self.sum = self
            .sum
            .checked_sub(u64::from(old))
            .and_then(|sum| sum.checked_add(u64::from(new)))
            .ok_or(MarketError::Overflow)?;
        Ok(())
    }

    pub fn remove(&mut self, rating: u8) -> DomainResult<()> {
        self.count = self.count.checked_sub(1).ok_or(MarketError::Overflow)?;
        self.sum = self.sum.checked_sub(u64::from(rating)).ok_or(MarketError::Overflow)?;
        Ok(())
    }
}

/// A dataset's ratings, reviews of paid licences apart from those of free ones: a free licence costs
/// nothing to obtain from a fresh wallet, so its reviews cannot be allowed to inflate the rating.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct Ratings {
    pub paid: RatingAggregate,
    pub free: RatingAggregate,
}

impl Ratings {
    fn bucket(&mut self, paid: bool) -> &mut RatingAggregate {
        if paid {
            &mut self.paid
        } else {
            &mut self.free
        }
    }

    pub fn add(&mut self, rating: u8, paid: bool) -> DomainResult<()> {
        self.bucket(paid).add(rating)
    }

    pub fn replace(&mut self, old: u8, new: u8, paid: bool) -> DomainResult<()> {
        self.bucket(paid).replace(old, new)
    }

    pub fn remove(&mut self, rating: u8, paid: bool) -> DomainResult<()> {
        self.bucket(paid).remove(rating)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ratings_are_bounded() {
        assert_eq!(check_rating(0), Err(MarketError::InvalidRating));
        assert_eq!(check_rating(6), Err(MarketError::InvalidRating));
        let mut aggregate = RatingAggregate::default();
        assert_eq!(aggregate.add(9), Err(MarketError::InvalidRating));
        assert_eq!(aggregate.remove(1), Err(MarketError::Overflow));
    }

    #[test]
    fn free_reviews_are_counted_apart() {
        let mut ratings = Ratings::default();
        ratings.add(5, false).unwrap();
        ratings.add(5, false).unwrap();
        ratings.add(2, true).unwrap();
        assert_eq!(ratings.paid, RatingAggregate { count: 1, sum: 2 });
        assert_eq!(ratings.free, RatingAggregate { count: 2, sum: 10 });
        ratings.replace(5, 1, false).unwrap();
        ratings.remove(2, true).unwrap();
        assert_eq!(ratings.paid, RatingAggregate::default());
        assert_eq!(ratings.free, RatingAggregate { count: 2, sum: 6 });
    }

    proptest! {
        /// After any adds, edits and removals the aggregate equals the live reviews.
        #[test]
        fn aggregate_matches_reviews(ops in proptest::collection::vec((0u8..3, 1u8..=5, any::<usize>()), 1..50)) {
            let mut aggregate = RatingAggregate::default();
            let mut live: Vec<u8> = Vec::new();
            for (op, rating, pick) in ops {
                match op {
                    0 => { aggregate.add(rating).unwrap(); live.push(rating); }
                    1 if !live.is_empty() => { let i = pick % live.len(); aggregate.replace(live[i], rating).unwrap(); live[i] = rating; }
                    2 if !live.is_empty() => { let old = live.swap_remove(pick % live.len()); aggregate.remove(old).unwrap(); }
                    _ => {}
                }
                prop_assert_eq!(aggregate.count as usize, live.len());
                prop_assert_eq!(aggregate.sum, live.iter().map(|r| u64::from(*r)).sum::<u64>());
            }
        }
    }
}
