pub mod avatar;
pub mod layout;
