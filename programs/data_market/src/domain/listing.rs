//! A dataset's lifecycle: which states its owner may move it between, what each state allows, and
//! the operator's moderation.
//!
//! Active <-> OrderingPaused <-> Unlisted (any order), any of them -> Deprecated -> Retired.
//! The operator may revoke a dataset from any state; Retired and Revoked are final.
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize, InitSpace};

use super::DomainResult;
use crate::errors::MarketError;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum DatasetState {
    /// Listed and open for sales.
    Active,
    /// Listed, but new sales and renewals are paused; existing licences stay valid.
    OrderingPaused,
    /// Open for sales to whoever has its address, hidden from listings.
    Unlisted,
    /// Superseded (usually by a new version): no new sales, existing licences stay valid.
    Deprecated,
    /// Withdrawn for good: no new sales; can be closed once nothing is owed.
    Retired,
    /// Removed by the operator (moderation): no sales and no recorded use of it.
    Revoked,
}

/// New licences, renewals and credit top-ups.
pub fn sales_open(state: DatasetState) -> bool {
    matches!(state, DatasetState::Active | DatasetState::Unlisted)
}

/// Licensees may keep recording use of the data.
pub fn usage_allowed(state: DatasetState) -> bool {
    state != DatasetState::Revoked
}

/// The owner moves its dataset to `to`.
pub fn owner_transition(from: DatasetState, to: DatasetState) -> DomainResult<DatasetState> {
    use DatasetState::*;
    let allowed = match (from, to) {
        (Revoked, _) => return Err(MarketError::DatasetRevoked),
        (Retired, _) => return Err(MarketError::DatasetRetired),
        (_, Revoked) => return Err(MarketError::NotMarketplaceAuthority),
        (Active | OrderingPaused | Unlisted, Active | OrderingPaused | Unlisted | Deprecated) => from != to,
        (Deprecated, Retired) | (Active | OrderingPaused | Unlisted, Retired) => true,
        (Deprecated, _) => false,
    };
    if !allowed {
        return Err(MarketError::InvalidStateTransition);
    }
    Ok(to)
}

/// The operator revokes a dataset (moderation).
pub fn revoke(from: DatasetState) -> DomainResult<DatasetState> {
    match from {
        DatasetState::Revoked => Err(MarketError::DatasetRevoked),
        _ => Ok(DatasetState::Revoked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use DatasetState::*;

    const ALL: [DatasetState; 6] = [Active, OrderingPaused, Unlisted, Deprecated, Retired, Revoked];

    #[test]
    fn owner_moves() {
        assert_eq!(owner_transition(Active, OrderingPaused), Ok(OrderingPaused));
        assert_eq!(owner_transition(OrderingPaused, Active), Ok(Active));
        assert_eq!(owner_transition(Unlisted, Deprecated), Ok(Deprecated));
        assert_eq!(owner_transition(Deprecated, Retired), Ok(Retired));
        assert_eq!(owner_transition(Deprecated, Active), Err(MarketError::InvalidStateTransition));
        assert_eq!(owner_transition(Active, Active), Err(MarketError::InvalidStateTransition));
        assert_eq!(owner_transition(Retired, Active), Err(MarketError::DatasetRetired));
        assert_eq!(owner_transition(Revoked, Active), Err(MarketError::DatasetRevoked));
        assert_eq!(owner_transition(Active, Revoked), Err(MarketError::NotMarketplaceAuthority));
        assert_eq!(revoke(Retired), Ok(Revoked));
        assert_eq!(revoke(Revoked), Err(MarketError::DatasetRevoked));
    }

    proptest! {
        /// Whatever the owner does, Retired and Revoked never leave, and only Active/Unlisted sell.
        #[test]
        fn final_states_are_final(path in proptest::collection::vec(0usize..6, 1..20)) {
            let mut state = Active;
            for i in path {
                if let Ok(next) = owner_transition(state, ALL[i]) {
                    prop_assert!(state != Retired && state != Revoked);
                    state = next;
                }
                prop_assert_eq!(sales_open(state), matches!(state, Active | Unlisted));
            }
        }
    }
}
