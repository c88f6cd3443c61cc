//! A PostgreSQL cluster that the app (or a test) runs for itself.
//!
//! `cargo run` without `DATABASE_URL` uses a persistent cluster under the data folder; the tests
//! use throwaway ones under the temp folder. `initdb` and `postgres` refuse to run as root, and
//! sessions and CI run as root: then every PostgreSQL program runs as the `postgres` OS user
//! (through `setpriv`), and the cluster folder belongs to that user.
//!
//! The server listens on 127.0.0.1 only, on a port picked at start, with no Unix socket (whose
//! path length limit a deep checkout could exceed), and requires a password that is generated
//! once per cluster and kept next to it (mode 0600).

use sqlx::postgres::PgConnectOptions;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

const SUPERUSER: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found on PATH or in \
         /usr/lib/postgresql/*/bin. Install them with `apt-get install postgresql` (Debian/Ubuntu) \
         or set DATABASE_URL to an existing database."
    )]
    MissingBinaries,
    #[error("running as root, but there is no `postgres` OS user to run PostgreSQL as ({0})")]
    NoPostgresUser(String),
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |error| ClusterError::Io(context, error)
}

/// A running cluster.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    root: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    password: String,
    as_postgres_user: Option<(u32, u32)>,
}

impl LocalCluster {
    /// Starts the cluster kept under `root` (creating it on first use), or reuses it when it is
    /// already running. The returned flag says whether this call started the server, i.e. whether
    /// the caller should stop it.
    pub async fn start_or_reuse(root: &Path) -> Result<(LocalCluster, bool), ClusterError> {
        let bin_dir = find_bin_dir()?;
        let as_postgres_user = postgres_user_if_root()?;
        std::fs::create_dir_all(root).map_err(io(format!("creating {}", root.display())))?;
        let root = root
            .canonicalize()
            .map_err(io(format!("resolving {}", root.display())))?;
        let mut cluster = LocalCluster {
            root,
            bin_dir,
            port: 0,
            password: String::new(),
            as_postgres_user,
        };
        if !cluster.pgdata().join("PG_VERSION").exists() {
            cluster.init().await?;
        }
        cluster.password = std::fs::read_to_string(cluster.password_file())
            .map_err(io("reading the cluster's password file"))?
            .trim()
            .to_owned();
        if let Some(port) = cluster.running_port().await {
            cluster.port = port;
            return Ok((cluster, false));
        }
        cluster.port = free_port()?;
        cluster.start().await?;
        Ok((cluster, true))
    }

    /// A new cluster in a fresh temporary folder, stopped and removed when the process `owner`
    /// exits, however it exits (a small watchdog process outlives it to clean up).
    pub async fn start_throwaway(owner: u32) -> Result<LocalCluster, ClusterError> {
        let root = std::env::temp_dir().join(format!(
            "warden-pg-{}-{}",
            owner,
            uuid::Uuid::new_v4().simple()
        ));
        let (cluster, _) = Self::start_or_reuse(&root).await?;
        cluster.remove_when_process_exits(owner)?;
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }

    fn password_file(&self) -> PathBuf {
        self.root.join("password")
    }

    /// Options to connect as the superuser to `database`.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(SUPERUSER)
            .password(&self.password)
            .database(database)
    }

    /// A URL for `database`, password included: for child processes and tests, never for logs.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    async fn init(&self) -> Result<(), ClusterError> {
        let password = random_password();
        let pgdata = self.pgdata();
        // initdb runs as the postgres user, so the folder and the password file it reads must
        // be theirs; the password file is removed again right after.
        let pwfile = self.root.join("initdb-pwfile");
        std::fs::write(&pwfile, &password).map_err(io("writing initdb's password file"))?;
        self.give_to_postgres(&self.root)?;
        self.give_to_postgres(&pwfile)?;
        let result = self
            .run(
                "initdb",
                &[
                    "-D".as_ref(),
                    pgdata.as_os_str(),
                    "-U".as_ref(),
                    SUPERUSER.as_ref(),
                    "--auth=scram-sha-256".as_ref(),
                    format!("--pwfile={}", pwfile.display()).as_ref(),
                    "-E".as_ref(),
                    "UTF8".as_ref(),
                    "--locale=C".as_ref(),
                ],
            )
            .await;
        let _ = std::fs::remove_file(&pwfile);
        result.map_err(|error| match (error, self.as_postgres_user) {
            (ClusterError::Command { action, detail }, Some(_))
                if detail.contains("Permission denied") =>
            {
                ClusterError::Command {
                    action,
                    detail: format!(
                        "{detail}\n(hint: PostgreSQL runs as the `postgres` OS user because this \
                         process is root; that user must be able to enter every parent folder of {})",
                        self.root.display()
                    ),
                }
            }
            (error, _) => error,
        })?;
        let password_file = self.password_file();
        std::fs::write(&password_file, &password).map_err(io("writing the password file"))?;
        std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600))
            .map_err(io("protecting the password file"))?;
        Ok(())
    }

    /// Starts the server (again) on its port.
    pub async fn start(&self) -> Result<(), ClusterError> {
        let pgdata = self.pgdata();
        let log = pgdata.join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
             -c max_connections=200 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off",
            self.port
        );
        self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-D".as_ref(),
                pgdata.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
            ],
        )
        .await
    }

    /// Stops the server, letting running transactions finish quickly ("fast" mode).
    pub async fn stop(&self) -> Result<(), ClusterError> {
        let pgdata = self.pgdata();
        self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-D".as_ref(),
                pgdata.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
            ],
        )
        .await
    }

    /// The port of the server running on this cluster, if one runs.
    async fn running_port(&self) -> Option<u16> {
        let pgdata = self.pgdata();
        let status = self
            .command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&pgdata)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .ok()?;
        if !status.success() {
            return None;
        }
        // Line 4 of postmaster.pid is the port.
        let pid_file = std::fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    fn remove_when_process_exits(&self, owner: u32) -> Result<(), ClusterError> {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let stop = match self.as_postgres_user {
            Some(_) => format!(
                "setpriv --reuid={SUPERUSER} --regid={SUPERUSER} --init-groups '{}' stop -D '{}' -m immediate",
                pg_ctl.display(),
                self.pgdata().display()
            ),
            None => format!(
                "'{}' stop -D '{}' -m immediate",
                pg_ctl.display(),
                self.pgdata().display()
            ),
        };
        let script = format!(
            "while kill -0 {owner} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
            self.root.display()
        );
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C aimed at the tests must not kill the cleaner.
            .process_group(0)
            .spawn()
            .map_err(io("starting the cluster's cleanup watchdog"))?;
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        let mut command = match self.as_postgres_user {
            Some(_) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={SUPERUSER}"))
                    .arg(format!("--regid={SUPERUSER}"))
                    .arg("--init-groups")
                    .arg(path);
                command
            }
            None => Command::new(path),
        };
        // The server gets its own process group: Ctrl-C on the app must let the app stop it
        // cleanly instead of reaching PostgreSQL directly.
        command.process_group(0).kill_on_drop(false);
        command
    }

    async fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), ClusterError> {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(io(format!("running {program}")))?;
        if output.status.success() {
            return Ok(());
        }
        let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if detail.is_empty() {
            detail = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        }
        let log = self.pgdata().join("server.log");
        if let Ok(server_log) = std::fs::read_to_string(&log) {
            let tail: Vec<&str> = server_log.lines().rev().take(5).collect();
            detail.push_str("\nserver log (last lines):\n");
            detail.push_str(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
        Err(ClusterError::Command {
            action: program.to_owned(),
            detail,
        })
    }

    fn give_to_postgres(&self, path: &Path) -> Result<(), ClusterError> {
        if let Some((uid, gid)) = self.as_postgres_user {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io(format!(
                "giving {} to the postgres user",
                path.display()
            )))?;
        }
        Ok(())
    }
}

fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    find_bin_dir_in(&on_path, Path::new("/usr/lib/postgresql"))
}

/// PATH first; Debian links initdb and pg_ctl into /usr/local/bin but not postgres, so follow
/// the link to the folder that has all three. Then the newest `<versions>/*/bin`.
fn find_bin_dir_in(on_path: &[PathBuf], versions_root: &Path) -> Result<PathBuf, ClusterError> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    for dir in on_path {
        let Ok(initdb) = dir.join("initdb").canonicalize() else {
            continue;
        };
        if let Some(real_dir) = initdb.parent().filter(|d| has_all(d)) {
            return Ok(real_dir.to_path_buf());
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(versions_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_all(dir))
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, dir)| dir)
        .ok_or(ClusterError::MissingBinaries)
}

/// When this process runs as root, the uid and gid of the `postgres` OS user.
fn postgres_user_if_root() -> Result<Option<(u32, u32)>, ClusterError> {
    // /proc/self belongs to the effective uid of the process: no libc needed.
    let euid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX);
    if euid != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(io("reading /etc/passwd"))?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&SUPERUSER) && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .map(Some)
        .ok_or_else(|| {
            ClusterError::NoPostgresUser("create it with `useradd --system postgres`".into())
        })
}

fn free_port() -> Result<u16, ClusterError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(io("finding a free port"))
}

fn random_password() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_are_reported_in_one_line_that_says_how_to_install_them() {
        let empty = std::env::temp_dir().join(format!("warden-no-pg-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let error = find_bin_dir_in(std::slice::from_ref(&empty), &empty).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, ClusterError::MissingBinaries));
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("apt-get install postgresql"), "{message}");
        std::fs::remove_dir_all(&empty).unwrap();
    }

    #[test]
    fn the_binaries_on_this_machine_are_found() {
        let dir = find_bin_dir().expect("PostgreSQL's server programs are installed here");
        assert!(dir.join("postgres").is_file());
    }
}
