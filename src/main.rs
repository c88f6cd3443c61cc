//! The warden binary: `warden` (or `warden serve`) runs the app; `warden migrate` only applies
//! the migrations; `warden users set-role …` sets a role from the command line.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    use warden::config::Config;

    warden::server::init_tracing();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("warden: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => warden::server::run(config).await,
        Some("migrate") => warden::server::migrate_only(config).await,
        Some("users") => users_command(config, &args[1..]).await,
        Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("warden: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `warden users …`: today only `set-role` (see README, "Admins and roles").
#[cfg(feature = "ssr")]
async fn users_command(config: warden::config::Config, args: &[String]) -> Result<(), String> {
    use warden::admin::cli;
    match args.first().map(String::as_str) {
        Some("set-role") => {
            let parsed = cli::parse_set_role(&args[1..])?;
            let done = warden::server::with_migrated_pool(config, |pool| async move {
                cli::set_role(&pool, parsed).await
            })
            .await?;
            println!("{done}");
            Ok(())
        }
        _ => Err(format!("unknown users command\n{}", cli::USAGE)),
    }
}

#[cfg(feature = "ssr")]
const USAGE: &str = "usage: warden [serve | migrate | users set-role … | help]
  serve      run the app (the default)
  migrate    apply the database migrations and exit
  users set-role (--email EMAIL | --clerk-id CLERK_ID) --role (admin|user) [--reason TEXT]
             set a user's role (audited as \"cli\"); this is how the first admin comes to be";

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser build has no binary: see `hydrate` in lib.rs.
}
