//! `warden users reconcile [--apply]`: bring the users of an existing Clerk instance in, and
//! report (with `--apply`, soft-delete) the ones Clerk no longer has. The work is
//! [`crate::sync::reconcile`]'s; this module parses the arguments, draws the progress and
//! prints the summary.

use crate::cache::CacheTags;
use crate::clerk::api::ClerkApi;
use crate::clerk::settings::ClerkSettings;
use crate::config::Config;
use crate::sync::reconcile::{
    reconcile, Interrupted, ReconcileEvent, ReconcileOptions, ReconcileReport,
};
use crate::users::UserStore;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

pub const USAGE: &str = "usage: warden users reconcile [--apply [--allow-mass-delete]]";

/// How many missing users the summary names before it says "and N more".
const LISTED_MISSING: usize = 20;

/// The parsed arguments of `warden users reconcile`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileArgs {
    pub apply: bool,
    pub allow_mass_delete: bool,
}

/// Parses the arguments that follow `users reconcile`.
pub fn parse_reconcile(args: &[String]) -> Result<ReconcileArgs, String> {
    let mut parsed = ReconcileArgs::default();
    for arg in args {
        let slot = match arg.as_str() {
            "--apply" => &mut parsed.apply,
            "--allow-mass-delete" => &mut parsed.allow_mass_delete,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
        if std::mem::replace(slot, true) {
            return Err(format!("{arg} was given twice\n{USAGE}"));
        }
    }
    if parsed.allow_mass_delete && !parsed.apply {
        return Err(format!(
            "--allow-mass-delete only goes with --apply\n{USAGE}"
        ));
    }
    Ok(parsed)
}

/// The Backend API client of the configured instance. The built-in local provider lives inside
/// a running server, so there is nothing for a separate process to reconcile with.
pub fn clerk_api(config: &Config) -> Result<ClerkApi, String> {
    match &config.clerk {
        ClerkSettings::Remote(keys) => ClerkApi::new(&keys.api_url, keys.secret_key.clone()),
        ClerkSettings::Local => Err(
            "reconcile needs a Clerk instance: set CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY and \
             CLERK_WEBHOOK_SIGNING_SECRET (the built-in local provider has nothing to bring in)"
                .into(),
        ),
    }
}

/// Runs the reconcile, prints its summary on stdout, and fails when anything did (a user not
/// applied, a refused mass deletion, a run that stopped).
pub async fn run(pool: &PgPool, api: &ClerkApi, args: ReconcileArgs) -> Result<(), String> {
    let ttl = Duration::from_secs(60);
    let users = UserStore::new(pool.clone(), CacheTags::new(ttl), 1024, ttl);
    let options = ReconcileOptions {
        apply: args.apply,
        allow_mass_delete: args.allow_mass_delete,
        ..ReconcileOptions::default()
    };
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let result = reconcile(&users, api, &options, &mut |event| progress.show(event)).await;
    progress.finish();
    match result {
        Ok(report) => {
            println!("{}", summary(&report));
            if report.failed > 0 {
                return Err(format!(
                    "{} could not be applied (reasons above)",
                    count_of_users(report.failed)
                ));
            }
            if report.mass_delete_refused {
                return Err("nothing was soft-deleted (see above)".into());
            }
            Ok(())
        }
        Err(Interrupted { error, partial }) => {
            println!("{}", summary(&partial));
            Err(format!(
                "reconcile stopped: {error}\nwhat it did is kept; run it again to finish"
            ))
        }
    }
}

/// A bar on a terminal; a line per page otherwise (logs, CI).
enum Progress {
    Bar(Option<ProgressBar>),
    Lines,
}

impl Progress {
    fn new(terminal: bool) -> Progress {
        if terminal {
            Progress::Bar(None)
        } else {
            Progress::Lines
        }
    }

    fn show(&mut self, event: ReconcileEvent) {
        match (self, event) {
            (Progress::Bar(bar), ReconcileEvent::Started { total }) => {
                let style = ProgressStyle::with_template(
                    "reconcile {bar:40} {pos}/{len} users ({elapsed}, {eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                *bar = Some(ProgressBar::new(total).with_style(style));
            }
            (Progress::Bar(Some(bar)), ReconcileEvent::Page { done, total }) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            (Progress::Bar(Some(bar)), ReconcileEvent::Confirming { candidates }) => {
                bar.println(checking(candidates));
            }
            (Progress::Bar(None), _) => {}
            (Progress::Lines, ReconcileEvent::Started { total }) => {
                eprintln!("reconcile: {} in Clerk", count_of_users(total));
            }
            (Progress::Lines, ReconcileEvent::Page { done, total }) => {
                eprintln!("reconcile: {done}/{total} users");
            }
            (Progress::Lines, ReconcileEvent::Confirming { candidates }) => {
                eprintln!("{}", checking(candidates));
            }
        }
    }

    fn finish(&mut self) {
        if let Progress::Bar(Some(bar)) = self {
            bar.finish_and_clear();
        }
    }
}

fn checking(candidates: usize) -> String {
    format!(
        "reconcile: checking {} of ours that Clerk did not list",
        count_of_users(candidates)
    )
}

/// "1 user", "2 users": the counts people read most.
fn count_of_users(count: impl TryInto<u64>) -> String {
    match count.try_into().unwrap_or(u64::MAX) {
        1 => "1 user".to_owned(),
        n => format!("{n} users"),
    }
}

/// The summary printed at the end (also after a run that stopped: what it did by then).
pub fn summary(report: &ReconcileReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Reconciled {} from Clerk ({} when the run began):",
        count_of_users(report.seen),
        report.clerk_total
    );
    let rows = [
        ("created", report.created, ""),
        ("updated", report.updated, ""),
        ("unchanged", report.unchanged, ""),
        (
            "kept deleted",
            report.kept_deleted,
            "  (deleted here, still in Clerk: the deletion stands)",
        ),
        (
            "metadata queued",
            report.metadata_queued,
            "  ({dbId, role} to be written into Clerk)",
        ),
        ("missing in Clerk", report.missing.len() as u64, ""),
    ];
    for (label, count, note) in rows {
        let _ = writeln!(out, "  {label:<17}{count:>8}{note}");
    }
    for missing in report.missing.iter().take(LISTED_MISSING) {
        let _ = writeln!(
            out,
            "    {}  {} <{}>",
            missing.clerk_user_id, missing.name, missing.email
        );
    }
    if report.missing.len() > LISTED_MISSING {
        let _ = writeln!(
            out,
            "    and {} more",
            report.missing.len() - LISTED_MISSING
        );
    }
    if report.applied {
        let _ = writeln!(out, "  {:<17}{:>8}", "soft-deleted", report.soft_deleted);
    }
    let _ = writeln!(out, "  {:<17}{:>8}", "failed", report.failed);
    for failure in &report.failures {
        let _ = writeln!(out, "    {}: {}", failure.clerk_user_id, failure.reason);
    }
    if report.failed > report.failures.len() as u64 {
        let _ = writeln!(
            out,
            "    and {} more",
            report.failed - report.failures.len() as u64
        );
    }
    if report.mass_delete_refused {
        let _ = writeln!(
            out,
            "Refused to soft-delete {}, most of ours: check that CLERK_SECRET_KEY names \
             the right instance. To delete them anyway: --apply --allow-mass-delete",
            count_of_users(report.missing.len())
        );
    } else if !report.applied && !report.missing.is_empty() {
        let _ = writeln!(
            out,
            "Nothing was deleted. Rerun with --apply to soft-delete the {} missing in Clerk.",
            count_of_users(report.missing.len())
        );
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ClerkUserId;
    use crate::sync::reconcile::{Failure, MissingUser};

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_the_flags_and_refuses_the_rest() {
        assert_eq!(parse_reconcile(&[]), Ok(ReconcileArgs::default()));
        let parsed = parse_reconcile(&args(&["--apply"])).expect("--apply");
        assert!(parsed.apply && !parsed.allow_mass_delete);
        let parsed =
            parse_reconcile(&args(&["--allow-mass-delete", "--apply"])).expect("both flags");
        assert!(parsed.apply && parsed.allow_mass_delete);

        let unknown = parse_reconcile(&args(&["--aply"])).expect_err("a typo");
        assert!(
            unknown.starts_with("unknown argument \"--aply\""),
            "{unknown}"
        );
        assert!(unknown.contains(USAGE), "{unknown}");
        for bad in [
            &["--apply", "--apply"][..],
            &["--allow-mass-delete"],
            &["apply"],
            &["--apply=yes"],
        ] {
            assert!(parse_reconcile(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_user_is_singular() {
        let report = ReconcileReport {
            clerk_total: 1,
            seen: 1,
            missing: missing(1),
            ..ReconcileReport::default()
        };
        let text = summary(&report);
        assert!(text.starts_with("Reconciled 1 user from Clerk"), "{text}");
        assert!(text.contains("soft-delete the 1 user missing"), "{text}");
        assert_eq!(count_of_users(2_usize), "2 users");
    }

    fn missing(n: usize) -> Vec<MissingUser> {
        (0..n)
            .map(|i| MissingUser {
                clerk_user_id: ClerkUserId::new(format!("user_{i}")),
                name: format!("Person {i}"),
                email: format!("p{i}@example.com"),
            })
            .collect()
    }

    #[test]
    fn the_summary_lists_a_few_missing_users_and_says_how_to_delete_them() {
        let report = ReconcileReport {
            clerk_total: 5000,
            seen: 5000,
            created: 4990,
            unchanged: 10,
            missing: missing(23),
            failed: 7,
            failures: vec![Failure {
                clerk_user_id: "user_x".into(),
                reason: "the user has no email address".into(),
            }],
            ..ReconcileReport::default()
        };
        let text = summary(&report);
        assert!(text.contains("created              4990"), "{text}");
        assert!(text.contains("missing in Clerk       23"), "{text}");
        assert!(
            text.contains("user_19  Person 19 <p19@example.com>"),
            "{text}"
        );
        assert!(!text.contains("user_20"), "{text}");
        assert!(text.contains("and 3 more"), "{text}");
        assert!(
            text.contains("user_x: the user has no email address"),
            "{text}"
        );
        assert!(text.contains("and 6 more"), "{text}");
        assert!(text.contains("Rerun with --apply"), "{text}");
        assert!(!text.contains("soft-deleted"), "{text}");

        let applied = ReconcileReport {
            applied: true,
            soft_deleted: 23,
            ..report
        };
        let text = summary(&applied);
        assert!(text.contains("soft-deleted           23"), "{text}");
        assert!(!text.contains("Rerun with --apply"), "{text}");
    }
}
