//! Does caching verified session tokens pay? Verifies one Clerk session token many times with
//! and without the verified-token cache and prints the figures.
//!
//! `cargo bench --bench token_verify`

use std::sync::Arc;
use std::time::{Duration, Instant};
use warden::clerk::api::ClerkApi;
use warden::clerk::jwks::KeyStore;
use warden::clerk::keys::Secret;
use warden::clerk::session::SessionVerifier;

const ROUNDS: usize = 5_000;

#[tokio::main]
async fn main() {
    let provider = clerk_emulator::Emulator::spawn(clerk_emulator::Config::for_tests())
        .await
        .expect("the local Clerk provider");
    let user = provider
        .emulator
        .create_user(clerk_emulator::NewUser {
            email: "bench@example.com".into(),
            ..Default::default()
        })
        .await
        .expect("a user");
    let token = provider
        .emulator
        .sign_in(&user.id)
        .await
        .expect("a session")
        .session_token;
    let verifier = |cached: bool| {
        let api = ClerkApi::new(
            &provider.url,
            Secret::new(provider.emulator.config().secret_key.clone()),
        )
        .expect("client");
        let verifier = SessionVerifier::new(
            Arc::new(KeyStore::from_jwks(api)),
            vec![provider.url.clone()],
            Vec::new(),
        );
        if cached {
            verifier
        } else {
            verifier.without_cache()
        }
    };
    println!("verifying one RS256 session token {ROUNDS} times (after one warm-up)");
    let mut results = Vec::new();
    for (label, cached) in [("without cache", false), ("with cache", true)] {
        let verifier = verifier(cached);
        verifier.verify(&token).await.expect("the token verifies");
        let mut samples = Vec::with_capacity(ROUNDS);
        let started = Instant::now();
        for _ in 0..ROUNDS {
            let at = Instant::now();
            verifier.verify(&token).await.expect("the token verifies");
            samples.push(at.elapsed());
        }
        let total = started.elapsed();
        samples.sort();
        let p50 = samples[ROUNDS / 2];
        let p99 = samples[ROUNDS * 99 / 100];
        let per_second = ROUNDS as f64 / total.as_secs_f64();
        println!(
            "{label:>14}: p50 {:>8.1} µs  p99 {:>8.1} µs  {:>10.0} verifications/s",
            micros(p50),
            micros(p99),
            per_second
        );
        results.push(per_second);
    }
    println!("speed-up from the cache: {:.1}x", results[1] / results[0]);
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
