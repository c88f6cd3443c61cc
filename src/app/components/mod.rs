pub mod avatar;
pub mod badges;
pub mod chart;
pub mod dates;
pub mod layout;
