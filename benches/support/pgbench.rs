//! The webhooks' ceiling as the issue defines it: PostgreSQL's own pgbench running the app's
//! transaction (the dedupe insert and the versioned upsert, the very statements the app sends)
//! at the same concurrency, with no Rust client at all.

use std::time::Duration;
use warden::users::versioned::upsert_clerk_version_sql;
use warden::webhooks::dedupe::RECORD_SQL;

/// Gives each transaction a version above the round's base, so every upsert applies.
const VERSION_SEQUENCE: &str = "warden_bench_versions";

/// pgbench's figures for one run.
pub struct PgbenchRun {
    pub transactions: u64,
    pub tps: f64,
    pub latency_average: Duration,
}

/// The transaction of a steady-state `user.updated` (the users exist, their metadata matches),
/// as a pgbench script. Client `c` of `clients` touches only the users `n` with
/// `n % clients == c`, as the other phases' workers do, so no two clients wait on one row.
pub fn script(clients: usize, users: usize) -> String {
    let dedupe = RECORD_SQL
        .replace("$1", "'msg_pgbench_' || gen_random_uuid()")
        .replace("$2", "'user.updated'");
    let upsert = upsert_clerk_version_sql()
        .replace("$1", "'user_bench_' || :n")
        .replace("$2", "'Bench' || :n || ' User'")
        .replace("$3", "'bench' || :n || '@example.com'")
        .replace("$4", "'https://img.clerk.com/x'")
        .replace("$5", "NULL")
        .replace("$6", &format!("(:base + nextval('{VERSION_SEQUENCE}'))"));
    let per_client = users / clients - 1;
    format!(
        "\\set n :client_id + {clients} * random(0, {per_client})\nBEGIN;\n{dedupe};\n{upsert};\nCOMMIT;\n"
    )
}

/// Runs `transactions` transactions of [`script`] over `clients` connections to `url`, with
/// versions above `base`.
pub async fn run(
    pool: &sqlx::PgPool,
    url: &str,
    clients: usize,
    users: usize,
    transactions: usize,
    base: i64,
) -> PgbenchRun {
    sqlx::query(&format!("CREATE SEQUENCE IF NOT EXISTS {VERSION_SEQUENCE}"))
        .execute(pool)
        .await
        .expect("the version sequence");
    let path = std::env::temp_dir().join(format!("warden-pgbench-{}.sql", std::process::id()));
    std::fs::write(&path, script(clients, users)).expect("writing the pgbench script");
    let before = pgbench_events(pool).await;
    let output = tokio::process::Command::new("pgbench")
        .args(["--no-vacuum", "--protocol=prepared"])
        .arg(format!("--client={clients}"))
        .arg("--jobs=2")
        .arg(format!("--transactions={}", transactions / clients))
        .arg(format!("--define=base={base}"))
        .arg(format!("--file={}", path.display()))
        .arg(url)
        .output()
        .await
        .expect("pgbench (scripts/bench installs it)");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let errors = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "pgbench failed: {text}{errors}");
    let number = |prefix: &str| -> f64 {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.split('/').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("pgbench printed no `{prefix}`: {text}"))
    };
    let run = PgbenchRun {
        transactions: number("number of transactions actually processed:") as u64,
        tps: number("tps ="),
        latency_average: Duration::from_secs_f64(number("latency average =") / 1e3),
    };
    // The script did the app's work: every transaction recorded its event, and the upserts
    // applied this round's versions.
    let recorded = pgbench_events(pool).await - before;
    assert_eq!(
        recorded, run.transactions as i64,
        "each pgbench transaction records one event"
    );
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(clerk_updated_at) FROM users")
        .fetch_one(pool)
        .await
        .expect("the newest version");
    assert!(
        newest.is_some_and(|newest| newest > base),
        "pgbench's upserts applied"
    );
    run
}

async fn pgbench_events(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE svix_id LIKE 'msg_pgbench_%'")
        .fetch_one(pool)
        .await
        .expect("counting pgbench's events")
}
