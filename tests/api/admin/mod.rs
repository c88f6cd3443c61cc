mod cli;
mod http;
mod list;
mod roles;
