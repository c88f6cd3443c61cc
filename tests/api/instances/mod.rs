//! Several `warden` processes on one PostgreSQL, as a deployment behind a load balancer runs
//! them: a change made through one is honoured by the others on their next request, their
//! outbox workers never write the same job twice, and SIGTERM loses nothing.

mod coherence;
mod outbox;
mod shutdown;

use crate::helpers::process::{Deployment, ORIGIN};
use std::time::Duration;

/// A page navigation by a signed-in browser.
async fn navigate(
    client: &reqwest::Client,
    base_url: &str,
    cookie: &str,
    path: &str,
) -> reqwest::Response {
    client
        .get(format!("{base_url}{path}"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("sec-fetch-dest", "document")
        .header("cookie", cookie)
        .send()
        .await
        .expect("a page request")
}

/// The no-JS role form of the admin's user page, posted to an instance by the admin's browser;
/// returns the status (302 when the change was made).
async fn post_role(
    client: &reqwest::Client,
    base_url: &str,
    admin_cookie: &str,
    user_id: uuid::Uuid,
    role: &str,
    expected: &str,
) -> u16 {
    let form = [
        ("user_id", user_id.to_string()),
        ("role", role.to_owned()),
        ("expected_role", expected.to_owned()),
        ("reason", "instances test".to_owned()),
    ];
    client
        .post(format!("{base_url}/api/admin_set_user_role"))
        .header("origin", ORIGIN)
        .header("accept", "text/html")
        .header("referer", format!("{ORIGIN}/admin/users/{user_id}"))
        .header("cookie", admin_cookie)
        .form(&form)
        .send()
        .await
        .expect("the role form")
        .status()
        .as_u16()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// A Clerk user (through the provider, which sends `user.created` to the first instance),
/// once that instance has stored them; returns (Clerk id, our id).
async fn person(deployment: &Deployment, first: &str, email: &str) -> (String, uuid::Uuid) {
    let user = deployment
        .emulator()
        .create_user(clerk_emulator::NewUser {
            first_name: Some(first.into()),
            last_name: Some("Tester".into()),
            email: email.into(),
            ..Default::default()
        })
        .await
        .expect("a Clerk user");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let id: Option<uuid::Uuid> =
            sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1")
                .bind(&user.id)
                .fetch_optional(&deployment.db.pool)
                .await
                .expect("reading users");
        if let Some(id) = id {
            return (user.id, id);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "user.created for {email} never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `warden users set-role`, as an operator makes the first admin.
async fn cli_set_role(deployment: &Deployment, clerk_user_id: &str, role: &str) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "users",
            "set-role",
            "--clerk-id",
            clerk_user_id,
            "--role",
            role,
        ])
        .env("DATABASE_URL", &deployment.db.url)
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("running warden users set-role");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
