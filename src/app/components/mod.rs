pub mod chart;
pub mod layout;
