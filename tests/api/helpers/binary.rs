//! The real `warden` binary as a child process, with its output captured.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// A free port on 127.0.0.1 (free when asked; the binary binds it a moment later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `warden` serving with exactly `env` (nothing inherited but `PATH`), its stdout and stderr
/// collected until it exits.
pub struct RunningBinary {
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
    /// What it has written so far, stdout then stderr, for failure messages.
    seen: Arc<Mutex<Vec<u8>>>,
}

impl RunningBinary {
    pub fn start(env: &[(String, String)]) -> RunningBinary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting the warden binary");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let collect = |mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut all = Vec::new();
                let mut chunk = [0u8; 8192];
                while let Ok(read) = pipe.read(&mut chunk).await {
                    if read == 0 {
                        break;
                    }
                    all.extend_from_slice(&chunk[..read]);
                    seen.lock().unwrap().extend_from_slice(&chunk[..read]);
                }
                all
            })
        };
        let stdout = collect(Box::new(child.stdout.take().expect("stdout")));
        let stderr = collect(Box::new(child.stderr.take().expect("stderr")));
        RunningBinary {
            child,
            stdout,
            stderr,
            seen,
        }
    }

    /// Waits until `url` answers 200 (the binary is up), or fails with what it wrote.
    pub async fn wait_until_serving(&mut self, url: &str) {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client.get(url).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("warden exited with {status}:\n{}", self.seen_so_far());
            }
            if tokio::time::Instant::now() > deadline {
                panic!("warden did not serve {url}:\n{}", self.seen_so_far());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn seen_so_far(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Stops it as an orchestrator does (SIGTERM) and returns (stdout, stderr).
    pub async fn stop(mut self) -> (String, String) {
        let pid = self.child.id().expect("a running child");
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("running kill");
        assert!(killed.success(), "kill -TERM {pid}");
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("warden stops within 30 s of SIGTERM")
            .expect("waiting for warden");
        assert!(status.success(), "warden exited with {status}");
        let stdout = self.stdout.await.expect("stdout");
        let stderr = self.stderr.await.expect("stderr");
        (
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }
}
