//! SIGTERM in the middle of a webhook storm: requests in flight finish, new ones are refused
//! (never a 5xx), the process exits cleanly and promptly, and every acknowledged delivery is in
//! the database with all of its effect, none with part of it. With the PostgreSQL the app
//! started itself, that PostgreSQL stops last, and cleanly.

use crate::helpers::clerk::now_secs;
use crate::helpers::process::{AppProcess, Deployment};
use crate::helpers::webhooks::{created, updated};
use sqlx::PgPool;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const USERS: usize = 200;
/// Acknowledged deliveries before the signal.
const SIGNAL_AFTER: usize = 120;
/// How long the process may take to exit after the signal (its own PostgreSQL included).
const EXIT_BOUND: Duration = Duration::from_secs(20);

struct Event {
    svix_id: String,
    clerk_id: String,
    version: i64,
    body: Vec<u8>,
}

/// What became of one delivery.
#[derive(Debug)]
enum Answer {
    Status(u16),
    /// No answer: the connection was refused or closed.
    ConnectionError {
        timed_out: bool,
        detail: String,
    },
}

struct Sent {
    event: usize,
    /// Answered once the signal was on its way: the request was in flight or arrived after.
    answered_after_signal: bool,
    answer: Answer,
}

/// A `user.created` and a newer `user.updated` for each of `USERS` users, distinct svix ids.
fn events() -> Vec<Event> {
    let base = 1_800_000_000_000i64;
    let mut events = Vec::new();
    for n in 0..USERS {
        let clerk_id = format!("user_storm_{n}");
        let name = format!("storm{n}");
        let version = base + 10 * n as i64;
        for (kind, version, body) in [
            ("created", version, created(&clerk_id, &name, version)),
            (
                "updated",
                version + 5,
                updated(&clerk_id, &name, version + 5),
            ),
        ] {
            events.push(Event {
                svix_id: format!("msg_storm_{kind}_{n}"),
                clerk_id: clerk_id.clone(),
                version,
                body,
            });
        }
    }
    events
}

#[tokio::test]
async fn sigterm_mid_storm_loses_nothing_and_half_applies_nothing() {
    let deployment = Deployment::start(1).await;
    let app = deployment.spawn(0).await;
    let events = events();
    let acknowledged = storm(app, &deployment, &events).await;
    check_database(&deployment.db.pool, &events, &acknowledged).await;
}

#[tokio::test]
async fn sigterm_stops_the_postgresql_the_app_started_last() {
    let deployment = Deployment::start(1).await;
    let data = DataDir::new();
    let mut env = deployment.env(0);
    // No DATABASE_URL: the app runs (and stops) a cluster of its own, as `cargo run` does.
    env.retain(|(name, _)| name != "DATABASE_URL" && name != "APP_ENV");
    env.push(("WARDEN_DATA_DIR".into(), data.0.display().to_string()));
    let app = deployment.spawn_with_env(0, env).await;
    let events = events();
    let acknowledged = storm(app, &deployment, &events).await;

    let root = data.0.join("postgres");
    assert!(
        !root.join("pgdata/postmaster.pid").exists(),
        "the app's PostgreSQL still runs after the app exited"
    );
    // Started again (by the test), it holds everything the app acknowledged.
    let (cluster, started) = warden::db::cluster::LocalCluster::start_or_reuse(&root)
        .await
        .expect("starting the app's cluster again");
    assert!(started, "it was stopped");
    let pool = PgPool::connect_with(cluster.connect_options("warden"))
        .await
        .expect("connecting");
    check_database(&pool, &events, &acknowledged).await;
    pool.close().await;
    cluster.stop().await.expect("stopping the cluster");
}

/// Sends `events` from `CLIENTS` concurrent clients, SIGTERM after `SIGNAL_AFTER`
/// acknowledgements; checks the exit and the answers. Returns the acknowledged events.
async fn storm(mut app: AppProcess, deployment: &Deployment, events: &[Event]) -> Vec<usize> {
    let secret = Arc::new(
        deployment
            .emulator()
            .config()
            .webhook_signing_secret
            .clone(),
    );
    let bodies: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        events
            .iter()
            .map(|e| (e.svix_id.clone(), e.body.clone()))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let signalled = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (bodies, next, acknowledged, signalled, sent, secret) = (
            bodies.clone(),
            next.clone(),
            acknowledged.clone(),
            signalled.clone(),
            sent.clone(),
            secret.clone(),
        );
        let url = app.url("/api/webhooks/clerk");
        clients.spawn(async move {
            // A connection pool of its own, as each Svix worker has.
            let client = reqwest::Client::new();
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some((svix_id, body)) = bodies.get(index) else {
                    break;
                };
                let timestamp = now_secs();
                let signature = clerk_emulator::svix_signature(&secret, svix_id, timestamp, body);
                let answer = match client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("svix-id", svix_id)
                    .header("svix-timestamp", timestamp.to_string())
                    .header("svix-signature", signature)
                    .body(body.clone())
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                {
                    Ok(response) => Answer::Status(response.status().as_u16()),
                    Err(error) => Answer::ConnectionError {
                        timed_out: error.is_timeout(),
                        detail: format!("{error:?}"),
                    },
                };
                if matches!(answer, Answer::Status(200..=299)) {
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
                sent.lock().unwrap().push(Sent {
                    event: index,
                    answered_after_signal: signalled.load(Ordering::SeqCst),
                    answer,
                });
            }
        });
    }
    while acknowledged.load(Ordering::SeqCst) < SIGNAL_AFTER {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    signalled.store(true, Ordering::SeqCst);
    app.terminate();
    let signal_at = Instant::now();
    let status: Option<ExitStatus> = app.wait(EXIT_BOUND).await;
    let exit_took = signal_at.elapsed();
    while let Some(result) = clients.join_next().await {
        result.expect("a client task");
    }
    let status = status.unwrap_or_else(|| panic!("still running {EXIT_BOUND:?} after SIGTERM"));
    assert!(status.success(), "exit status after SIGTERM: {status}");

    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let not_2xx: Vec<&Answer> = sent
        .iter()
        .map(|s| &s.answer)
        .filter(|a| matches!(a, Answer::Status(code) if !(200..300).contains(code)))
        .collect();
    assert!(not_2xx.is_empty(), "answers other than 2xx: {not_2xx:?}");
    let hung: Vec<&String> = sent
        .iter()
        .filter_map(|s| match &s.answer {
            Answer::ConnectionError {
                timed_out: true,
                detail,
            } => Some(detail),
            _ => None,
        })
        .collect();
    assert!(hung.is_empty(), "deliveries left hanging: {hung:?}");
    let ok: Vec<usize> = sent
        .iter()
        .filter(|s| matches!(s.answer, Answer::Status(_)))
        .map(|s| s.event)
        .collect();
    let finished_in_flight = sent
        .iter()
        .filter(|s| s.answered_after_signal && matches!(s.answer, Answer::Status(_)))
        .count();
    assert!(
        finished_in_flight > 0,
        "the requests in flight at the signal were answered"
    );
    assert!(
        ok.len() < events.len(),
        "the signal came mid-storm, so some deliveries found the door closed \
         ({} of {} acknowledged, exit {exit_took:?} after the signal)",
        ok.len(),
        events.len()
    );
    ok
}

/// Every acknowledged delivery is recorded; every recorded delivery has its effect on the user
/// row (a version at least its own) and its outbox job; every row comes from a recorded one.
async fn check_database(pool: &PgPool, events: &[Event], acknowledged: &[usize]) {
    let recorded: Vec<String> = sqlx::query_scalar("SELECT svix_id FROM webhook_events")
        .fetch_all(pool)
        .await
        .unwrap();
    for index in acknowledged {
        assert!(
            recorded.contains(&events[*index].svix_id),
            "{} was acknowledged but is not recorded",
            events[*index].svix_id
        );
    }
    let rows: HashMap<String, (Option<i64>, i64)> =
        sqlx::query_as::<_, (String, Option<i64>, i64)>(
            "SELECT u.clerk_user_id, u.clerk_updated_at,
                (SELECT count(*) FROM metadata_outbox o WHERE o.user_id = u.id)
             FROM users u",
        )
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(clerk_id, version, jobs)| (clerk_id, (version, jobs)))
        .collect();
    let by_id: HashMap<&str, &Event> = events.iter().map(|e| (e.svix_id.as_str(), e)).collect();
    for svix_id in &recorded {
        let event = by_id[svix_id.as_str()];
        let (version, jobs) = rows
            .get(&event.clerk_id)
            .unwrap_or_else(|| panic!("{svix_id} is recorded but {} has no row", event.clerk_id));
        assert!(
            version.is_some_and(|v| v >= event.version),
            "{svix_id} is recorded but the row is at {version:?}"
        );
        assert!(*jobs >= 1, "{svix_id} is recorded but queued no job");
    }
    for (clerk_id, (version, _)) in &rows {
        assert!(
            events.iter().any(|e| &e.clerk_id == clerk_id
                && Some(e.version) == *version
                && recorded.contains(&e.svix_id)),
            "{clerk_id}'s row (at {version:?}) comes from no recorded delivery"
        );
    }
}

/// A data folder of the test's own; whatever the test's fate, its PostgreSQL is stopped and the
/// folder removed when dropped.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> DataDir {
        let path =
            std::env::temp_dir().join(format!("warden-data-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("a data folder");
        DataDir(path)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        stop_postmaster(&self.0.join("postgres/pgdata"));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fast shutdown of the postmaster of `pgdata`, if one runs (its pid is the first line of
/// `postmaster.pid`), waiting up to 10 s for it to remove that file.
fn stop_postmaster(pgdata: &Path) {
    let pid_file = pgdata.join("postmaster.pid");
    let Some(pid) = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|text| text.lines().next().map(str::to_owned))
    else {
        return;
    };
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_file.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}
