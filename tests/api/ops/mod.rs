//! What operators rely on: the probes, `/metrics`, and log lines that carry request ids and
//! never a secret.

mod logs;
mod metrics;
mod probes;
