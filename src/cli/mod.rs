//! The command line of the `warden` binary: `serve` (the default), `migrate`, `users set-role`,
//! `users reconcile`.
//! Like the server, it sits on top: it puts the lower layers together and calls them.

pub mod reconcile;
pub mod set_role;

use crate::config::Config;
use crate::server::Application;

pub const USAGE: &str =
    "usage: warden [serve | migrate | users set-role … | users reconcile … | help]
  serve      run the app (the default)
  migrate    apply the database migrations and exit
  users set-role (--email EMAIL | --clerk-id CLERK_ID) --role (admin|user) [--reason TEXT]
             set a user's role (audited as \"cli\"); this is how the first admin comes to be
  users reconcile [--apply [--allow-mass-delete]]
             bring every user of the Clerk instance in (same rules as the webhooks) and list
             the users we hold that Clerk no longer has; --apply soft-deletes those (refused
             when they are most of ours, unless --allow-mass-delete)";

/// Runs the command `args` (without the program name) names.
pub async fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            return Ok(());
        }
        None | Some("serve") | Some("migrate") | Some("users") => {}
        Some(other) => return Err(format!("unknown command {other:?}\n\n{USAGE}")),
    }
    let config = Config::from_env().map_err(|error| error.to_string())?;
    match args.first().map(String::as_str) {
        Some("migrate") => {
            with_database(&config, |_| async { Ok(()) }).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some("users") => users_command(&config, &args[1..]).await,
        _ => Application::build(config).await?.run_until_stopped().await,
    }
}

/// `warden users …`: `set-role` (see README, "Admins and roles") and `reconcile` (README,
/// "Bringing an existing Clerk instance in").
async fn users_command(config: &Config, args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("set-role") => {
            let parsed = set_role::parse_set_role(&args[1..])?;
            let done = with_database(config, |pool| async move {
                set_role::set_role(&pool, parsed).await
            })
            .await?;
            println!("{done}");
            Ok(())
        }
        Some("reconcile") => {
            // Both checks come before the database opens: a typo costs nothing.
            let parsed = reconcile::parse_reconcile(&args[1..])?;
            let api = reconcile::clerk_api(config)?;
            with_database(config, |pool| async move {
                reconcile::run(&pool, &api, parsed).await
            })
            .await
        }
        _ => Err(format!(
            "unknown users command\n{}\n{}",
            set_role::USAGE,
            reconcile::USAGE
        )),
    }
}

/// Runs `work` on the configured database, migrated (starting the local cluster when needed,
/// and stopping it again afterwards).
async fn with_database<T, F, Fut>(config: &Config, work: F) -> Result<T, String>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let database = crate::db::open(&config.database, &config.data_dir, 2).await?;
    let result = work(database.pool.clone()).await;
    database.close().await;
    result
}
