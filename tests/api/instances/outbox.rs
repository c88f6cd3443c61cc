//! Two outbox workers (one per instance) on one `metadata_outbox`: every job is written into
//! Clerk exactly once, whichever worker claims it.

use super::{browser, cli_set_role, person, post_role};
use crate::helpers::database::count;
use crate::helpers::outbox::{job_counts, settle};
use crate::helpers::process::Deployment;
use sqlx::PgPool;

const PEOPLE: usize = 50;

/// How many jobs of this user the outbox shows delivered.
async fn delivered(pool: &PgPool, id: uuid::Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM metadata_outbox WHERE user_id = $1 AND status = 'delivered'",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("counting jobs")
}

#[tokio::test]
async fn two_workers_write_each_job_into_clerk_exactly_once() {
    let deployment = Deployment::start(2).await;
    let a = deployment.spawn(0).await;
    let b = deployment.spawn(1).await;
    let emulator = deployment.emulator();
    let pool = &deployment.db.pool;
    let (ada, _) = person(&deployment, "Ada", "ada@example.com").await;
    cli_set_role(&deployment, &ada, "admin").await;
    let mut people = Vec::new();
    for n in 0..PEOPLE {
        people.push(person(&deployment, &format!("P{n}"), &format!("p{n}@example.com")).await);
    }

    // Each user.created queued one job ({dbId, role} is not in Clerk yet).
    settle(emulator, pool).await;
    for (clerk_id, id) in &people {
        assert_eq!(
            emulator.metadata_writes(clerk_id),
            1,
            "{clerk_id}'s first job"
        );
        assert_eq!(delivered(pool, *id).await, 1, "{clerk_id}'s first job");
    }

    // Now a role change each, through both instances at once: 50 jobs due together.
    let ada_cookie = deployment.session_cookie(&ada).await;
    let client = browser();
    let mut changes = tokio::task::JoinSet::new();
    for (n, (_, id)) in people.iter().enumerate() {
        let url = if n % 2 == 0 { &a } else { &b }.base_url.clone();
        let (client, cookie, id) = (client.clone(), ada_cookie.clone(), *id);
        changes.spawn(async move { post_role(&client, &url, &cookie, id, "admin", "user").await });
    }
    while let Some(status) = changes.join_next().await {
        assert_eq!(status.expect("a role change"), 302);
    }
    settle(emulator, pool).await;

    let mut twice = Vec::new();
    for (clerk_id, id) in &people {
        let writes = emulator.metadata_writes(clerk_id);
        if writes != 2 || delivered(pool, *id).await != 2 {
            twice.push(format!("{clerk_id}: {writes} writes"));
        }
        let metadata = emulator
            .get_user(clerk_id)
            .await
            .expect("in Clerk")
            .public_metadata;
        assert_eq!(metadata["role"], "admin", "{clerk_id}");
        assert_eq!(metadata["dbId"], id.to_string(), "{clerk_id}");
    }
    assert!(
        twice.is_empty(),
        "not written exactly once per job: {twice:?}"
    );
    let (pending, _, parked) = job_counts(pool).await;
    assert_eq!((pending, parked), (0, 0));
    assert_eq!(
        count(pool, "SELECT count(*) FROM role_changes").await,
        PEOPLE as i64 + 1,
        "one audit row per change, the CLI's included"
    );
}
