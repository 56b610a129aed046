pub mod dataset;
pub mod license;
pub mod marketplace;
pub mod seeds;

pub use dataset::*;
pub use license::*;
pub use marketplace::*;
