//! Test and benchmark harness for the data_market program. Every scenario runs on two backends in
//! LiteSVM: the compiled SBF `.so` (the real VM: compute units, stack and heap limits) and the
//! program compiled natively (fast, debuggable). Both run against LiteSVM's real SPL Token,
//! Token-2022 and Associated Token programs. Instructions are built once here so tests read as scenarios.
#![allow(deprecated)] // solana-program-test 3.x marks its API deprecated

pub mod backend;
pub mod builders;
pub mod fixtures;
pub mod market;
pub mod scenarios;
pub mod tokens;

pub use backend::Backend;
pub use fixtures::*;
pub use market::*;
pub use scenarios::*;

/// Runs each listed scenario `fn(Backend)` as a test on the SBF build and on the native build.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sbf {
            $( #[test] fn $scenario() { super::$scenario($crate::Backend::Sbf) } )*
        }
        mod native {
            $( #[test] fn $scenario() { super::$scenario($crate::Backend::Native) } )*
        }
    };
}

/// Where an account's own fields start, after the header every program account shares
/// (discriminator + revision): the base of the memcmp offsets clients filter on.
pub const FIELDS: usize = data_market::state::REVISION_OFFSET + 8;
