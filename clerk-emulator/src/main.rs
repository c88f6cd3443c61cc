//! `clerk-emulator` binary: serve a local Clerk-compatible instance.
//!
//! ```text
//! clerk-emulator [--addr 127.0.0.1:4001] [--url http://127.0.0.1:4001] [--data state.json]
//!                [--allow-origin http://127.0.0.1:3000]... [--webhook URL]...
//!                [--secret-key sk_live_…] [--webhook-secret whsec_…]
//!                [--token-lifetime SECS] [--webhook-time-scale F]
//!                [--instance production|development]
//! ```
//! Every flag has an environment variable: CLERK_EMULATOR_ADDR, CLERK_EMULATOR_URL,
//! CLERK_EMULATOR_DATA, CLERK_EMULATOR_ALLOWED_ORIGINS (comma-separated),
//! CLERK_EMULATOR_WEBHOOKS (comma-separated), CLERK_EMULATOR_SECRET_KEY,
//! CLERK_EMULATOR_WEBHOOK_SECRET, CLERK_EMULATOR_TOKEN_LIFETIME,
//! CLERK_EMULATOR_WEBHOOK_TIME_SCALE, CLERK_EMULATOR_INSTANCE. `--addr 127.0.0.1:0` picks a free port.

use clerk_emulator::{Config, Emulator, Storage};
use std::time::Duration;

const USAGE: &str =
    "usage: clerk-emulator [--addr HOST:PORT] [--url PUBLIC_URL] [--data FILE.json] \
[--allow-origin ORIGIN]... [--webhook URL]... [--secret-key SK] [--webhook-secret WHSEC] \
[--token-lifetime SECS] [--webhook-time-scale F] [--instance production|development]";

fn env_list(name: &str) -> Vec<String> {
    std::env::var(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn fail(msg: &str) -> ! {
    eprintln!("clerk-emulator: {msg}\n{USAGE}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut addr = std::env::var("CLERK_EMULATOR_ADDR").unwrap_or_else(|_| "127.0.0.1:4001".into());
    let mut url = std::env::var("CLERK_EMULATOR_URL").ok();
    let mut data = std::env::var("CLERK_EMULATOR_DATA").ok();
    let mut origins = env_list("CLERK_EMULATOR_ALLOWED_ORIGINS");
    let mut webhooks = env_list("CLERK_EMULATOR_WEBHOOKS");
    let mut secret = std::env::var("CLERK_EMULATOR_SECRET_KEY").unwrap_or_default();
    let mut whsec = std::env::var("CLERK_EMULATOR_WEBHOOK_SECRET").unwrap_or_default();
    let mut lifetime = std::env::var("CLERK_EMULATOR_TOKEN_LIFETIME").ok();
    let mut scale = std::env::var("CLERK_EMULATOR_WEBHOOK_TIME_SCALE").ok();
    let mut instance = std::env::var("CLERK_EMULATOR_INSTANCE").ok();

    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "-h" || a == "--help" {
            println!("{USAGE}");
            return;
        }
        let Some(v) = args.next() else {
            fail(&format!("missing value for {a}"));
        };
        match a.as_str() {
            "--addr" => addr = v,
            "--url" => url = Some(v),
            "--data" => data = Some(v),
            "--allow-origin" => origins.push(v),
            "--webhook" => webhooks.push(v),
            "--secret-key" => secret = v,
            "--webhook-secret" => whsec = v,
            "--token-lifetime" => lifetime = Some(v),
            "--webhook-time-scale" => scale = Some(v),
            "--instance" => instance = Some(v),
            other => fail(&format!("unknown argument {other}")),
        }
    }

    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => fail(&format!("cannot bind {addr}: {e}")),
    };
    let local = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => fail(&e.to_string()),
    };
    let mut config = Config::new(
        url.unwrap_or_else(|| format!("http://{local}"))
            .trim_end_matches('/')
            .to_string(),
    );
    config.secret_key = secret;
    config.webhook_signing_secret = whsec;
    config.allowed_redirect_origins = origins;
    config.webhook_endpoints = webhooks;
    if let Some(d) = data {
        config.storage = Storage::File(d.into());
    }
    if let Some(l) = lifetime {
        match l.parse::<u64>() {
            Ok(s) if s > 0 => config.token_lifetime = Duration::from_secs(s),
            _ => fail("--token-lifetime must be a positive number of seconds"),
        }
    }
    if let Some(s) = scale {
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= 0.0 => config.webhook_retry_time_scale = f,
            _ => fail("--webhook-time-scale must be a non-negative number"),
        }
    }
    match instance.as_deref() {
        None | Some("production") => {}
        Some("development") => config.instance_type = clerk_emulator::InstanceType::Development,
        Some(_) => fail("--instance must be production or development"),
    }
    let emu = match Emulator::new(config).await {
        Ok(e) => e,
        Err(e) => fail(&e.to_string()),
    };
    let c = emu.config();
    println!("{}", c.frontend_api_url);
    eprintln!("clerk-emulator listening on http://{local}");
    eprintln!("  frontend API / issuer : {}", c.frontend_api_url);
    eprintln!("  CLERK_PUBLISHABLE_KEY : {}", c.publishable_key);
    eprintln!("  CLERK_SECRET_KEY      : {}", c.secret_key);
    eprintln!(
        "  CLERK_WEBHOOK_SIGNING_SECRET : {}",
        c.webhook_signing_secret
    );
    eprintln!("  sign-in page          : {}/sign-in", c.frontend_api_url);
    eprintln!("  dashboard             : {}/dashboard", c.frontend_api_url);
    let app = emu.router();
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("clerk-emulator: server error: {e}");
        std::process::exit(1);
    }
}
