pub mod avatar;
pub mod chart;
pub mod layout;
