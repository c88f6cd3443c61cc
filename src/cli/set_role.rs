//! `warden users set-role`: how the first admin comes to be, and a way to fix roles when no
//! admin can sign in. It goes through the same [`set_user_role`] as the admin pages (same
//! rules, same audit row and outbox job), with the actor "cli".

use crate::admin::roles::{find_user_for_cli, set_user_role, RoleChangeRequest, UserLookup};
use crate::admin::AdminError;
use crate::cache::CacheTags;
use crate::models::roles::{RoleActor, RoleChangeOutcome};
use crate::models::{ClerkUserId, Role};
use crate::users::UserStore;
use sqlx::PgPool;
use std::time::Duration;

pub const USAGE: &str = "usage: warden users set-role (--email EMAIL | --clerk-id CLERK_ID) --role (admin|user) [--reason TEXT]";

/// The parsed arguments of `warden users set-role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRoleArgs {
    pub lookup: UserLookup,
    pub role: Role,
    pub reason: Option<String>,
}

/// Parses the arguments that follow `users set-role`. Accepts `--flag value` and `--flag=value`.
pub fn parse_set_role(args: &[String]) -> Result<SetRoleArgs, String> {
    let mut email = None;
    let mut clerk_id = None;
    let mut role = None;
    let mut reason = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "--email" => &mut email,
            "--clerk-id" => &mut clerk_id,
            "--role" => &mut role,
            "--reason" => &mut reason,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
        let value = match inline {
            Some(value) => value,
            None => rest
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?,
        };
        if slot.replace(value).is_some() {
            return Err(format!("{flag} was given twice\n{USAGE}"));
        }
    }
    let lookup = match (email, clerk_id) {
        (Some(email), None) if !email.trim().is_empty() => UserLookup::Email(email.trim().into()),
        (None, Some(id)) if !id.trim().is_empty() => {
            UserLookup::ClerkId(ClerkUserId::new(id.trim()))
        }
        (Some(_), Some(_)) => return Err(format!("give --email or --clerk-id, not both\n{USAGE}")),
        _ => return Err(format!("name the user with --email or --clerk-id\n{USAGE}")),
    };
    let role = role
        .ok_or_else(|| format!("--role is required\n{USAGE}"))?
        .parse::<Role>()?;
    Ok(SetRoleArgs {
        lookup,
        role,
        reason,
    })
}

/// Runs the change and returns the sentence to print. A running server sees it on the person's
/// next request: the database announces every change to `users`, and every app process
/// invalidates its cached copy.
pub async fn set_role(pool: &PgPool, args: SetRoleArgs) -> Result<String, String> {
    let ttl = Duration::from_secs(60);
    let users = UserStore::new(pool.clone(), CacheTags::new(ttl), 16, ttl);
    let target = find_user_for_cli(&users, &args.lookup)
        .await
        .map_err(|error| error.to_string())?;
    let outcome = set_user_role(
        &users,
        RoleChangeRequest {
            actor: RoleActor::Cli,
            target,
            new_role: args.role,
            reason: args.reason,
            expected_current_role: None,
        },
    )
    .await
    .map_err(|error| match error {
        AdminError::Database(error) => crate::db::describe_error(&error),
        other => other.to_string(),
    })?;
    Ok(match &outcome {
        RoleChangeOutcome::Changed {
            user_id,
            clerk_user_id,
            ..
        } => format!(
            "{} (user {user_id}, Clerk id {clerk_user_id}; audited as \"cli\")",
            outcome.describe()
        ),
        RoleChangeOutcome::Unchanged { .. } => outcome.describe(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_both_ways_of_naming_a_user() {
        let parsed = parse_set_role(&args(&["--email", "a@b.c", "--role", "admin"])).unwrap();
        assert_eq!(parsed.lookup, UserLookup::Email("a@b.c".into()));
        assert_eq!(parsed.role, Role::Admin);
        let parsed = parse_set_role(&args(&[
            "--clerk-id=user_1",
            "--role=user",
            "--reason",
            "left",
        ]))
        .unwrap();
        assert_eq!(
            parsed.lookup,
            UserLookup::ClerkId(ClerkUserId::new("user_1"))
        );
        assert_eq!(parsed.reason.as_deref(), Some("left"));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for bad in [
            &["--email", "a@b.c"][..],
            &["--role", "admin"],
            &["--email", "a@b.c", "--role", "root"],
            &[
                "--email",
                "a@b.c",
                "--clerk-id",
                "user_1",
                "--role",
                "admin",
            ],
            &["--email"],
            &["--verbose"],
        ] {
            assert!(parse_set_role(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
