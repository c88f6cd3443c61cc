//! SIGTERM in the middle of a webhook storm: requests in flight finish, new ones are refused
//! (never a 5xx), the process exits cleanly and promptly, and every acknowledged delivery is in
//! the database with all of its effect, none with part of it.

use crate::helpers::clerk::now_secs;
use crate::helpers::process::Deployment;
use crate::helpers::webhooks::{created, updated};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const USERS: usize = 200;
/// Acknowledged deliveries before the signal.
const SIGNAL_AFTER: usize = 120;
/// How long the process may take to exit after the signal.
const EXIT_BOUND: Duration = Duration::from_secs(15);

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
    ConnectionError(String),
}

struct Sent {
    event: usize,
    /// Sent once the signal was on its way (a request sent just before it may still find its
    /// connection closed unread, which a client cannot tell apart).
    after_signal: bool,
    answer: Answer,
}

fn events() -> Vec<Event> {
    // Distinct versions per user, the update newer than the creation.
    let base = 1_800_000_000_000i64;
    let mut events = Vec::new();
    for n in 0..USERS {
        let clerk_id = format!("user_storm_{n}");
        let name = format!("storm{n}");
        for (kind, version) in [
            ("created", base + 10 * n as i64),
            ("updated", base + 10 * n as i64 + 5),
        ] {
            let body = match kind {
                "created" => created(&clerk_id, &name, version),
                _ => updated(&clerk_id, &name, version),
            };
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
    let mut app = deployment.spawn(0).await;
    let secret = deployment
        .emulator()
        .config()
        .webhook_signing_secret
        .clone();
    let events = Arc::new(events());
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let signalled = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));

    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (events, next, acknowledged, signalled, sent) = (
            events.clone(),
            next.clone(),
            acknowledged.clone(),
            signalled.clone(),
            sent.clone(),
        );
        let (base_url, secret) = (app.base_url.clone(), secret.clone());
        clients.spawn(async move {
            // A connection pool of its own, as each Svix worker has.
            let client = reqwest::Client::new();
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(event) = events.get(index) else {
                    break;
                };
                let after_signal = signalled.load(Ordering::SeqCst);
                let answer = match client
                    .post(format!("{base_url}/api/webhooks/clerk"))
                    .header("content-type", "application/json")
                    .header("svix-id", &event.svix_id)
                    .header("svix-timestamp", now_secs().to_string())
                    .header(
                        "svix-signature",
                        clerk_emulator::svix_signature(
                            &secret,
                            &event.svix_id,
                            now_secs(),
                            &event.body,
                        ),
                    )
                    .body(event.body.clone())
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                {
                    Ok(response) => Answer::Status(response.status().as_u16()),
                    Err(error) => Answer::ConnectionError(format!("{error:?}")),
                };
                if matches!(answer, Answer::Status(200..=299)) {
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
                sent.lock().unwrap().push(Sent {
                    event: index,
                    after_signal,
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
    let status = app.wait(EXIT_BOUND).await;
    let exit_took = signal_at.elapsed();
    while let Some(result) = clients.join_next().await {
        result.expect("a client task");
    }
    let status = status.unwrap_or_else(|| panic!("still running {EXIT_BOUND:?} after SIGTERM"));
    assert!(status.success(), "exit status after SIGTERM: {status}");

    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let server_errors: Vec<&Sent> = sent
        .iter()
        .filter(|s| matches!(s.answer, Answer::Status(500..)))
        .collect();
    assert!(
        server_errors.is_empty(),
        "{} deliveries got a 5xx, e.g. {:?}",
        server_errors.len(),
        server_errors.first().map(|s| (&s.answer, s.after_signal))
    );
    let other: Vec<&Answer> = sent
        .iter()
        .map(|s| &s.answer)
        .filter(|a| matches!(a, Answer::Status(code) if !(200..300).contains(code)))
        .collect();
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    let refused = sent
        .iter()
        .filter(|s| matches!(s.answer, Answer::ConnectionError(_)))
        .count();
    let ok: Vec<usize> = sent
        .iter()
        .filter(|s| matches!(s.answer, Answer::Status(_)))
        .map(|s| s.event)
        .collect();
    assert!(ok.len() >= SIGNAL_AFTER, "{} acknowledged", ok.len());
    assert!(
        refused > 0,
        "the signal came mid-storm, so some deliveries found the door closed ({} of {} acknowledged, exit after {exit_took:?})",
        ok.len(),
        events.len()
    );
    check_database(&deployment, &events, &ok).await;
}

/// Every acknowledged delivery is recorded; every recorded delivery has its effect on the user
/// row (a version at least its own) and its outbox job; every row comes from a recorded one.
async fn check_database(deployment: &Deployment, events: &[Event], acknowledged: &[usize]) {
    let pool = &deployment.db.pool;
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
