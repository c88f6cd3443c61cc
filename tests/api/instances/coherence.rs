//! What one instance changes, the other shows on its very next request: its users cache never
//! serves a row older than the request.

use super::{browser, cli_set_role, navigate, person, post_role};
use crate::helpers::clerk::now_secs;
use crate::helpers::outbox::settle;
use crate::helpers::process::Deployment;
use crate::helpers::webhooks::{clerk_user, envelope, post_signed_at};
use serde_json::json;

/// Enough round trips for a lost race between a notification and the next request to show.
const ROUNDS: usize = 25;

#[tokio::test]
async fn a_role_changed_through_one_instance_holds_on_the_other_at_once() {
    let deployment = Deployment::start(2).await;
    let a = deployment.spawn(0).await;
    let b = deployment.spawn(1).await;
    let client = browser();
    let (ada, _) = person(&deployment, "Ada", "ada@example.com").await;
    let (pat, pat_id) = person(&deployment, "Pat", "pat@example.com").await;
    cli_set_role(&deployment, &ada, "admin").await;
    let ada_cookie = deployment.session_cookie(&ada).await;
    let pat_cookie = deployment.session_cookie(&pat).await;

    let mut role = "user";
    for round in 0..ROUNDS {
        // Both instances have just served Pat, so each holds Pat's row in its cache.
        for app in [&a, &b] {
            let expected = if role == "admin" { 200 } else { 403 };
            let status = navigate(&client, &app.base_url, &pat_cookie, "/admin")
                .await
                .status();
            assert_eq!(
                status, expected,
                "round {round}: {} as {role}",
                app.base_url
            );
        }
        // Alternate which instance writes and which one must show it.
        let (writer, reader) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let new_role = if role == "user" { "admin" } else { "user" };
        let changed = post_role(
            &client,
            &writer.base_url,
            &ada_cookie,
            pat_id,
            new_role,
            role,
        )
        .await;
        assert_eq!(
            changed, 302,
            "round {round}: the role form on {}",
            writer.base_url
        );
        role = new_role;

        let admin_page = navigate(&client, &reader.base_url, &pat_cookie, "/admin")
            .await
            .status();
        let expected = if role == "admin" { 200 } else { 403 };
        assert_eq!(
            admin_page, expected,
            "round {round}: {} did not honour the change made on {} at once",
            reader.base_url, writer.base_url
        );
        let profile = navigate(&client, &reader.base_url, &pat_cookie, "/profile").await;
        assert_eq!(profile.status(), 200);
        let badge = format!(">{role}</span>");
        assert!(
            profile.text().await.unwrap().contains(&badge),
            "round {round}: the profile on {} shows {role}",
            reader.base_url
        );
    }
}

#[tokio::test]
async fn a_webhook_applied_by_one_instance_shows_on_the_other_at_once() {
    let deployment = Deployment::start(2).await;
    let a = deployment.spawn(0).await;
    let b = deployment.spawn(1).await;
    let client = browser();
    let (pat, pat_id) = person(&deployment, "Pat", "pat@example.com").await;
    // Once Clerk holds Pat's {dbId, role}, nothing but this test sends a newer Pat.
    settle(deployment.emulator(), &deployment.db.pool).await;
    let cookie = deployment.session_cookie(&pat).await;
    let metadata = json!({"dbId": pat_id.to_string(), "role": "user"});
    let secret = deployment
        .emulator()
        .config()
        .webhook_signing_secret
        .clone();

    for round in 0..ROUNDS {
        let shown = navigate(&client, &b.base_url, &cookie, "/profile").await;
        assert_eq!(shown.status(), 200);
        let name = format!("Patricia{round}");
        assert!(!shown.text().await.unwrap().contains(&name));
        // A newer version of Pat, as Clerk sends it after an edit in its dashboard.
        let version = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let data = clerk_user(
            &pat,
            Some("pat@example.com"),
            &name,
            version,
            metadata.clone(),
        );
        let body = envelope("user.updated", data, version);
        let svix_id = format!("msg_coherence_{round}");
        let applied =
            post_signed_at(&client, &a.base_url, &secret, &svix_id, now_secs(), &body).await;
        assert_eq!(applied.status(), 200);
        assert_eq!(applied.text().await.unwrap(), "updated", "round {round}");

        let page = navigate(&client, &b.base_url, &cookie, "/profile").await;
        assert_eq!(page.status(), 200);
        assert!(
            page.text()
                .await
                .unwrap()
                .contains(&format!("{name} Tester")),
            "round {round}: {} did not show what {} applied",
            b.base_url,
            a.base_url
        );
    }
}
