//! The integration tests, in one binary: black-box tests over real HTTP and a real PostgreSQL
//! (one throwaway cluster for the whole run, a fresh database per test), against a local
//! Clerk-compatible provider per app.
//!
//! `helpers` holds what they share; each other module is one area of the app.

mod admin;
mod auth;
mod database;
mod helpers;
mod hydration;
mod instances;
mod ops;
mod pages;
mod reconcile;
mod users;
mod webhooks;
