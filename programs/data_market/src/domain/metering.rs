//! Metered licences sell credits: one credit is one recorded use of the data.
use super::DomainResult;
use crate::constants::MAX_CREDITS_PER_PURCHASE;
use crate::errors::MarketError;

/// What `credits` cost at `price_per_credit`; unmetered licences are bought one at a time.
pub fn purchase_total(price: u64, metered: bool, credits: u32) -> DomainResult<u64> {
    if !metered {
        return if credits == 1 { Ok(price) } else { Err(MarketError::InvalidCreditAmount) };
    }
    if credits == 0 || credits > MAX_CREDITS_PER_PURCHASE {
        return Err(MarketError::InvalidCreditAmount);
    }
    price.checked_mul(u64::from(credits)).ok_or(MarketError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals() {
        assert_eq!(purchase_total(7, false, 1), Ok(7));
        assert_eq!(purchase_total(7, false, 2), Err(MarketError::InvalidCreditAmount));
        assert_eq!(purchase_total(7, true, 10), Ok(70));
        assert_eq!(purchase_total(7, true, 0), Err(MarketError::InvalidCreditAmount));
        assert_eq!(purchase_total(7, true, MAX_CREDITS_PER_PURCHASE + 1), Err(MarketError::InvalidCreditAmount));
        assert_eq!(purchase_total(u64::MAX, true, 2), Err(MarketError::Overflow));
    }
}
