//! `warden users set-role`, run as the real binary against a test database.

use crate::helpers::database::fresh_database;
use std::process::Output;

async fn warden(database_url: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("running the warden binary")
}

#[tokio::test]
async fn set_role_by_email_and_by_clerk_id_is_audited_as_cli() {
    let db = fresh_database().await;
    sqlx::query(
        "INSERT INTO users (clerk_user_id, name, email) VALUES
            ('user_first', 'First Admin', 'first@example.com'),
            ('user_second', 'Second', 'second@example.com')",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    let out = warden(
        &db.url,
        &[
            "users",
            "set-role",
            "--email",
            "FIRST@example.com",
            "--role",
            "admin",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("First Admin is now an admin (was user)"),
        "{stdout}"
    );

    let out = warden(
        &db.url,
        &[
            "users",
            "set-role",
            "--clerk-id",
            "user_second",
            "--role",
            "admin",
            "--reason",
            "on call",
        ],
    )
    .await;
    assert!(out.status.success());

    let rows: Vec<(String, Option<uuid::Uuid>, String, Option<String>)> = sqlx::query_as(
        "SELECT actor_kind, actor_user_id, to_role::text, reason FROM role_changes ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("cli".into(), None, "admin".into(), None),
            ("cli".into(), None, "admin".into(), Some("on call".into())),
        ]
    );

    // Again: nothing to do, and it says so.
    let out = warden(
        &db.url,
        &[
            "users",
            "set-role",
            "--email",
            "first@example.com",
            "--role",
            "admin",
        ],
    )
    .await;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already is an admin"));
}

#[tokio::test]
async fn unknown_users_roles_and_arguments_fail_clearly() {
    let db = fresh_database().await;
    sqlx::query("INSERT INTO users (clerk_user_id, name, email, role) VALUES ('user_a', 'A', 'a@example.com', 'admin')")
        .execute(&db.pool)
        .await
        .unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "users",
                "set-role",
                "--email",
                "nobody@example.com",
                "--role",
                "admin",
            ],
            "No active user has the email",
        ),
        (
            &[
                "users",
                "set-role",
                "--clerk-id",
                "user_zzz",
                "--role",
                "admin",
            ],
            "No user has the Clerk id",
        ),
        (
            &[
                "users",
                "set-role",
                "--email",
                "a@example.com",
                "--role",
                "root",
            ],
            "unknown role",
        ),
        (
            &["users", "set-role", "--role", "admin"],
            "--email or --clerk-id",
        ),
        (
            &[
                "users",
                "set-role",
                "--email",
                "a@example.com",
                "--role",
                "user",
            ],
            "A is the last admin",
        ),
    ];
    for (args, expected) in cases {
        let out = warden(&db.url, args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
