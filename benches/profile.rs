//! The signed-in profile page against a bare axum handler serving the same bytes, measured from
//! outside with `wrk`, plus the app's memory and its start-up time.
//!
//! `cargo bench --bench profile` starts a throwaway PostgreSQL and a local Clerk provider, then
//! runs the release `warden` binary as its own process (as a deployment runs it) and:
//! 1. signs a user in and loads `/profile` once, to check the page and take its body;
//! 2. serves that very body from a bare axum handler in this process: the ceiling;
//! 3. alternates `wrk` runs against the two (`PROFILE_BENCH_RUNS`, default 3, of
//!    `PROFILE_BENCH_SECONDS`, default 10, at 64 connections) and prints each run and the medians;
//! 4. prints the app's resident memory idle (before the load) and peak (after it), and the time
//!    from spawning the binary to its first 200 on `/health`, the median of three starts.
//!
//! `wrk` must be on PATH (`scripts/bench` installs it).

mod support;

use std::time::{Duration, Instant};
use support::median;
use support::wrk::{self, WrkRun};

const CONNECTIONS: u32 = 64;

#[tokio::main]
async fn main() {
    let runs: usize = support::env_or("PROFILE_BENCH_RUNS", 3);
    let seconds: u64 = support::env_or("PROFILE_BENCH_SECONDS", 10);
    wrk::require();

    let setup = support::Setup::start("profile").await;
    let starts: Vec<Duration> = {
        let mut starts = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let app = setup.spawn_app(&[]).await;
            starts.push(started.elapsed());
            app.stop().await;
        }
        starts
    };

    let app = setup.spawn_app(&[]).await;
    let cookie = setup.signed_in_cookie(&app, "Ada", "Lovelace").await;
    let client = reqwest::Client::new();
    let page = client
        .get(format!("{}/profile", app.base_url))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .send()
        .await
        .expect("the profile page");
    assert_eq!(page.status(), 200, "the signed-in profile page");
    let body = page.text().await.expect("the page body");
    assert!(body.contains("Lovelace"), "the profile shows the user");
    let ceiling = support::serve_static(body.clone()).await;

    let idle_kib = app.resident_kib();
    let profile_url = format!("{}/profile", app.base_url);
    let headers = [format!("cookie: {cookie}"), "accept: text/html".to_owned()];
    let mut profile_runs: Vec<WrkRun> = Vec::new();
    let mut ceiling_runs: Vec<WrkRun> = Vec::new();
    // Warm both, untimed.
    wrk::run(&profile_url, &headers, CONNECTIONS, 2);
    wrk::run(&ceiling, &[], CONNECTIONS, 2);
    for round in 1..=runs {
        let profile = wrk::run(&profile_url, &headers, CONNECTIONS, seconds);
        let bare = wrk::run(&ceiling, &[], CONNECTIONS, seconds);
        profile.print(&format!("run {round}: GET /profile (signed in)"));
        bare.print(&format!("run {round}: bare axum, same bytes"));
        profile_runs.push(profile);
        ceiling_runs.push(bare);
    }
    let peak_kib = app.peak_resident_kib();

    let profile = WrkRun::median_of(&profile_runs);
    let bare = WrkRun::median_of(&ceiling_runs);
    println!();
    println!(
        "profile bench: {} bytes a page, {CONNECTIONS} connections, {runs} runs of {seconds} s, medians",
        body.len()
    );
    profile.print("GET /profile (signed in)");
    bare.print("bare axum, same bytes");
    println!(
        "profile / ceiling = {:.2} (goal >= 0.5), p99 {:.2} ms (goal <= 5 ms)",
        profile.requests_per_second / bare.requests_per_second,
        profile.p99_ms
    );
    println!(
        "memory: {:.1} MB idle, {:.1} MB peak (goals <= 64 / <= 150 MB)",
        idle_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0
    );
    println!(
        "start-up to ready: median {:.0} ms of {:?}",
        median(&starts).as_secs_f64() * 1e3,
        starts
            .iter()
            .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
    );
    let non_2xx = profile_runs.iter().map(|r| r.non_2xx).sum::<u64>();
    assert_eq!(non_2xx, 0, "every profile response was a 200");
    app.stop().await;
    setup.stop().await;
}
