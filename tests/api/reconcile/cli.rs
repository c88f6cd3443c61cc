//! `warden users reconcile`, run as the real binary against a test database and the local Clerk
//! provider: what it prints, and its exit code.

use super::{setup, Setup};
use crate::helpers::clerk::clerk_env;
use std::process::Output;

async fn warden(setup: &Setup, args: &[&str]) -> Output {
    let env = clerk_env(&setup.clerk, "http://127.0.0.1:9");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .envs(env)
        .env("DATABASE_URL", &setup.database_url)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("running the warden binary")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_command_reports_applies_and_fails_when_a_user_could_not_come_in() {
    let setup = setup().await;
    let seeded = setup.seed("cli", 4).await;

    let out = warden(&setup, &["users", "reconcile"]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("reconcile: 4 users in Clerk"), "{stderr}");
    assert!(stderr.contains("reconcile: 4/4 users"), "{stderr}");
    assert!(stdout.contains("Reconciled 4 users from Clerk"), "{stdout}");
    assert!(stdout.contains("created                 4"), "{stdout}");
    assert!(stdout.contains("missing in Clerk        0"), "{stdout}");
    assert!(
        !stdout.contains(&setup.emulator().config().secret_key),
        "{stdout}"
    );

    setup
        .emulator()
        .delete_user(&seeded[2].id)
        .await
        .expect("deleting in Clerk");
    let out = warden(&setup, &["users", "reconcile"]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("missing in Clerk        1"), "{stdout}");
    assert!(
        stdout.contains(&format!("{}  cli2 Tester <cli2@example.com>", seeded[2].id)),
        "{stdout}"
    );
    assert!(stdout.contains("Rerun with --apply"), "{stdout}");
    assert_eq!(setup.active_rows().await, 4);

    let out = warden(&setup, &["users", "reconcile", "--apply"]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("soft-deleted            1"), "{stdout}");
    assert_eq!(setup.active_rows().await, 3);

    // Our rules reject a 300-character name: the run goes on, and the exit code says so.
    setup
        .emulator()
        .seed_users([clerk_emulator::NewUser {
            first_name: Some("N".repeat(300)),
            email: "long@example.com".into(),
            ..Default::default()
        }])
        .await
        .expect("a user with a long name");
    let out = warden(&setup, &["users", "reconcile"]).await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("failed                  1"), "{stdout}");
    assert!(stdout.contains("the profile was rejected"), "{stdout}");
    assert!(stderr.contains("1 user could not be applied"), "{stderr}");
    assert_eq!(setup.active_rows().await, 3);
}

#[tokio::test]
async fn an_unknown_flag_is_refused_before_anything_runs() {
    let setup = setup().await;
    setup.seed("flag", 2).await;
    let out = warden(&setup, &["users", "reconcile", "--force"]).await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("unknown argument \"--force\""), "{stderr}");
    assert!(stderr.contains("usage: warden users reconcile"), "{stderr}");
    assert_eq!(setup.rows().await, 0);
}
