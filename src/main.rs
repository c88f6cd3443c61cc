//! The warden binary: `warden` (or `warden serve`) runs the app; `warden migrate` only applies
//! the migrations.

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

#[cfg(feature = "ssr")]
const USAGE: &str = "usage: warden [serve | migrate | help]
  serve     run the app (the default)
  migrate   apply the database migrations and exit";

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser build has no binary: see `hydrate` in lib.rs.
}
