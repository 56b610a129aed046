//! Domain logic with no accounts or runtime in it: fee and split math, the escrow ledger, the licence
//! state machine and input validation. Instruction handlers are thin wrappers over these functions,
//! which carry their own unit and property tests.
pub mod disputes;
pub mod fees;
pub mod ledger;
pub mod lifecycle;
pub mod listing;
pub mod metering;
pub mod preview;
pub mod reviews;
pub mod validation;

/// Domain functions fail with the program's named errors.
pub type DomainResult<T> = std::result::Result<T, crate::errors::MarketError>;
