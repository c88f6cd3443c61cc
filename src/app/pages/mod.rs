pub mod admin;
pub mod error;
pub mod home;
pub mod profile;
pub mod sign_out;
