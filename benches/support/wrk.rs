//! `wrk`, the load generator, run and read.

use std::process::Command;

pub fn require() {
    let found = Command::new("wrk").arg("--version").output().is_ok();
    assert!(
        found,
        "wrk is not on PATH: run scripts/bench, or apt-get install wrk"
    );
}

/// What one `wrk` run printed.
#[derive(Debug, Clone, Default)]
pub struct WrkRun {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
}

impl WrkRun {
    /// Each figure's median over `runs`.
    pub fn median_of(runs: &[WrkRun]) -> WrkRun {
        let pick = |f: fn(&WrkRun) -> f64| {
            let mut values: Vec<f64> = runs.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied().unwrap_or_default()
        };
        WrkRun {
            requests_per_second: pick(|r| r.requests_per_second),
            p50_ms: pick(|r| r.p50_ms),
            p99_ms: pick(|r| r.p99_ms),
            non_2xx: runs.iter().map(|r| r.non_2xx).sum(),
        }
    }

    pub fn print(&self, label: &str) {
        println!(
            "{label:<40} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
            self.requests_per_second, self.p50_ms, self.p99_ms
        );
    }
}

/// `wrk` with two threads (one a core) for `seconds` at `connections`.
pub fn run(url: &str, headers: &[String], connections: u32, seconds: u64) -> WrkRun {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    for header in headers {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output().expect("running wrk");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    parse(&text)
}

fn parse(text: &str) -> WrkRun {
    let mut run = WrkRun::default();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            run.requests_per_second = rest.trim().parse().unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("50%") {
            run.p50_ms = millis(rest.trim());
        } else if let Some(rest) = line.strip_prefix("99%") {
            run.p99_ms = millis(rest.trim());
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            run.non_2xx = rest.trim().parse().unwrap_or(0);
        }
    }
    run
}

/// `wrk`'s durations: `812.00us`, `1.23ms`, `2.01s`.
fn millis(value: &str) -> f64 {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => f64::NAN,
    }
}
