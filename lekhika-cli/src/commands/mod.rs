pub mod cache;
pub mod fleet;
pub mod info;
pub mod run;
pub mod wallet;
pub mod worker;
