//! What the benches that run the release binary share: a throwaway PostgreSQL, a local Clerk
//! provider, the app as a child process, and the ceiling handler.

#![allow(dead_code)] // each bench uses its own part of this module

pub mod pgbench;
pub mod wrk;

use std::process::Stdio;
use std::time::{Duration, Instant};
use warden::db::cluster::LocalCluster;

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// PostgreSQL and Clerk for the app processes of one bench.
pub struct Setup {
    pub cluster: LocalCluster,
    pub database: String,
    pub pool: sqlx::PgPool,
    pub clerk: clerk_emulator::RunningEmulator,
    pub port: u16,
}

impl Setup {
    pub async fn start(database: &str) -> Setup {
        let cluster = LocalCluster::start_throwaway(std::process::id())
            .await
            .expect("a throwaway PostgreSQL");
        warden::db::ensure_database(&cluster, database)
            .await
            .expect("the bench database");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(cluster.connect_options(database))
            .await
            .expect("connecting");
        warden::db::migrate(&pool).await.expect("migrations");
        let port = free_port();
        let mut config = clerk_emulator::Config::for_tests();
        config.allowed_redirect_origins = vec![format!("http://127.0.0.1:{port}")];
        // Long enough for every run: the bench measures pages, not token refreshes.
        config.token_lifetime = Duration::from_secs(4 * 3600);
        let clerk = clerk_emulator::Emulator::spawn(config)
            .await
            .expect("the local Clerk provider");
        Setup {
            cluster,
            database: database.to_owned(),
            pool,
            clerk,
            port,
        }
    }

    /// The app's environment, as a deployment on real Clerk sets it.
    fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "APP_ORIGIN".into(),
                format!("http://127.0.0.1:{}", self.port),
            ),
            (
                "LEPTOS_SITE_ADDR".into(),
                format!("127.0.0.1:{}", self.port),
            ),
            ("DATABASE_URL".into(), self.cluster.url(&self.database)),
            ("RUST_LOG".into(), "warn".into()),
        ];
        env.extend(self.clerk.app_env());
        env
    }

    /// The release binary, started and answering `/readyz`.
    pub async fn spawn_app(&self, extra_env: &[(&str, &str)]) -> AppProcess {
        self.spawn_instance(self.port, extra_env).await
    }

    /// Another instance of the same deployment, listening on `port`: same database, same
    /// public origin (as behind a load balancer), so the same session works on it.
    pub async fn spawn_instance(&self, port: u16, extra_env: &[(&str, &str)]) -> AppProcess {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_warden"));
        command
            .envs(self.env())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = command.spawn().expect("starting the warden binary");
        let app = AppProcess {
            base_url: format!("http://127.0.0.1:{port}"),
            child,
        };
        app.wait_ready().await;
        app
    }

    /// The `cookie` header of a browser signed in as a new user, synced into our database.
    pub async fn signed_in_cookie(&self, app: &AppProcess, first: &str, last: &str) -> String {
        let emulator = &self.clerk.emulator;
        let user = emulator
            .create_user(clerk_emulator::NewUser {
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                email: format!("{}.{}@example.com", first, last).to_lowercase(),
                ..Default::default()
            })
            .await
            .expect("a Clerk user");
        let signed_in = emulator.sign_in(&user.id).await.expect("signing in");
        let cookie = format!(
            "__session={}; __client_uat={}",
            signed_in.session_token, signed_in.client_uat
        );
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");
        let synced = client
            .get(format!(
                "{}/api/clerk/syncUsers?redirect_url=/",
                app.base_url
            ))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .expect("the sync route");
        assert_eq!(synced.status(), 303, "the sync route");
        cookie
    }

    pub async fn stop(self) {
        self.pool.close().await;
        let _ = self.cluster.stop().await;
    }
}

/// The app as its own process.
pub struct AppProcess {
    pub base_url: String,
    child: tokio::process::Child,
}

impl AppProcess {
    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = client
                .get(format!("{}/readyz", self.base_url))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "the app did not become ready");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn status_kib(&self, field: &str) -> u64 {
        let pid = self.child.id().expect("a running app");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Resident memory now.
    pub fn resident_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The most resident memory the process has had.
    pub fn peak_resident_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("a running app")
    }

    /// SIGTERM, then waits for the exit.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Serves `body` as HTML from a bare axum handler on 127.0.0.1: the ceiling of a page.
pub async fn serve_static(body: String) -> String {
    use axum::http::header::CONTENT_TYPE;
    let body: &'static str = Box::leak(body.into_boxed_str());
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(
            move || async move { ([(CONTENT_TYPE, "text/html; charset=utf-8")], body) },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the ceiling handler");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}/")
}
