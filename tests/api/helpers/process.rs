//! The `warden` binary as processes of its own, as a deployment runs them: any number of
//! instances on one migrated database, each configured with Clerk's own variables for one
//! Clerk-compatible provider (served by this test process), all behind one public origin.

use super::database::{fresh_database, TestDb};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The origin of the proxy in front of the instances: every instance is configured with it
/// (`APP_ORIGIN`), as behind a load balancer, so a session and a form work on any of them.
pub const ORIGIN: &str = "http://warden.test";

/// One database and one provider for the instances of a test.
pub struct Deployment {
    pub db: TestDb,
    pub clerk: clerk_emulator::RunningEmulator,
    ports: Vec<u16>,
}

impl Deployment {
    /// A fresh database and a provider for `instances` instances (ports chosen now); the
    /// provider's webhooks go to the first instance.
    pub async fn start(instances: usize) -> Deployment {
        let db = fresh_database().await;
        let ports: Vec<u16> = (0..instances).map(|_| free_port()).collect();
        let mut config = clerk_emulator::Config::for_tests();
        config.allowed_redirect_origins = vec![ORIGIN.to_owned()];
        config.webhook_endpoints =
            vec![format!("http://127.0.0.1:{}/api/webhooks/clerk", ports[0])];
        let clerk = clerk_emulator::Emulator::spawn(config)
            .await
            .expect("starting the local Clerk provider");
        Deployment { db, clerk, ports }
    }

    pub fn emulator(&self) -> &clerk_emulator::Emulator {
        &self.clerk.emulator
    }

    /// Instance `index`'s environment, as a deployment on clerk.com sets it.
    pub fn env(&self, index: usize) -> Vec<(String, String)> {
        let mut env = vec![
            ("APP_ENV".into(), "production".into()),
            ("APP_ORIGIN".into(), ORIGIN.into()),
            (
                "LEPTOS_SITE_ADDR".into(),
                format!("127.0.0.1:{}", self.ports[index]),
            ),
            ("DATABASE_URL".into(), self.db.url.clone()),
            ("DATABASE_MAX_CONNECTIONS".into(), "8".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        env.extend(self.clerk.app_env());
        env
    }

    /// Instance `index`, started and answering `/health`.
    pub async fn spawn(&self, index: usize) -> AppProcess {
        self.spawn_with_env(index, self.env(index)).await
    }

    /// Instance `index` with this environment (and nothing else of the test's but `PATH`).
    pub async fn spawn_with_env(&self, index: usize, env: Vec<(String, String)>) -> AppProcess {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_warden"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            // The guard: a test that fails (panics) still ends its processes.
            .kill_on_drop(true);
        let app = AppProcess {
            base_url: format!("http://127.0.0.1:{}", self.ports[index]),
            child: command.spawn().expect("starting the warden binary"),
        };
        app.wait_ready().await;
        app
    }

    /// The `cookie` header of a browser signed in as this provider user (the token's `azp` is
    /// the public origin, as a browser on it gets).
    pub async fn session_cookie(&self, clerk_user_id: &str) -> String {
        let signed_in = self
            .emulator()
            .sign_in(clerk_user_id)
            .await
            .expect("signing in");
        format!(
            "__session={}; __client_uat={}",
            signed_in.session_token, signed_in.client_uat
        )
    }
}

/// A running `warden` process; killed when dropped.
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
                .get(self.url("/health"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become ready",
                self.base_url
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Sends SIGTERM, as a container runtime or systemd stops a service.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("a running process");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {pid}");
    }

    /// Waits for the process to exit, at most `limit`; `None` when it is still running.
    pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()
            .map(|status| status.expect("waiting for the process"))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}
