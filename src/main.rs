//! The warden binary: `warden` (or `warden serve`) runs the app; `warden migrate` only applies
//! the migrations; `warden users set-role …` sets a role from the command line; `warden users
//! reconcile [--apply]` brings every user of an existing Clerk instance in.

// A page render allocates and frees many small objects across threads, where glibc's allocator
// spent about a third of the profile page's CPU time.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Before anything else, so that every later line is written in the chosen format.
    match warden::config::log_format(&warden::config::env_lookup) {
        Ok(format) => warden::server::init_tracing(format),
        Err(error) => {
            eprintln!("warden: {error}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match warden::cli::run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("warden: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser build has no binary: see `hydrate` in lib.rs.
}
