pub mod allow_list_entry;
pub mod dataset;
pub mod dispute;
pub mod license;
pub mod marketplace;
pub mod review;
pub mod seeds;
pub mod usage_receipt;

pub use allow_list_entry::*;
pub use dataset::*;
pub use dispute::*;
pub use license::*;
pub use marketplace::*;
pub use review::*;
pub use usage_receipt::*;
