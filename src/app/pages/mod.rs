pub mod error;
pub mod home;
