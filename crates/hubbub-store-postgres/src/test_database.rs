//! Throwaway databases for tests (of this crate and of the binary): each [`TestDatabase`] is a
//! fresh database with hubbub's schema, dropped when the value is dropped.
//!
//! The server is named by `HUBBUB_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); that database is only used to create
//! and drop others. Creating one is cheap: the schema is migrated once into a template
//! database (named after the migrations' checksums, built under an advisory lock so
//! parallel test processes take turns), and each test database is
//! `CREATE DATABASE … TEMPLATE` of it. Databases left behind by killed test runs are
//! dropped once they are two hours old.
//!
//! An unreachable server fails the test with a message saying so — with `CI=true`
//! that is the rule (a missing service is a failure, never a skip), and without it
//! the message says how to point the tests at a server.

use crate::PostgresOptions;
use crate::store::MIGRATOR;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable naming the test server.
pub const URL_VARIABLE: &str = "HUBBUB_TEST_DATABASE_URL";
/// The server tests use without [`URL_VARIABLE`].
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

const PREFIX: &str = "hubbub_t_";
const TEMPLATE_PREFIX: &str = "hubbub_tmpl_";
/// Serialises template builds and clean-ups across test processes.
const TEMPLATE_LOCK: i64 = 0x6875_6262_7562;
/// Test databases older than this are leftovers of killed runs.
const STALE_AFTER: Duration = Duration::from_secs(2 * 3600);

/// A fresh database with hubbub's schema; dropped (connections and all) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    server_url: String,
    admin: PgConnectOptions,
}

/// The test server's URL.
pub fn server_url() -> String {
    std::env::var(URL_VARIABLE)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `url` with its database replaced by `database` (query parameters kept).
pub fn url_with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{database}?{q}"),
        None => format!("{host_part}/{database}"),
    }
}

fn unreachable(url: &str, e: impl std::fmt::Display) -> ! {
    let how = if in_ci() {
        "CI=true: PostgreSQL is required, the PostgreSQL tests cannot be skipped"
    } else {
        "start PostgreSQL (trust auth) or point HUBBUB_TEST_DATABASE_URL at a server"
    };
    // The server only, never the password a URL may hold.
    let shown = PgConnectOptions::from_str(url).map_or_else(
        |_| "an invalid URL".to_owned(),
        |o| format!("{}:{}", o.get_host(), o.get_port()),
    );
    eprintln!("\n*** PostgreSQL test server unreachable ({shown}): {e}\n*** {how}\n");
    panic!("PostgreSQL test server unreachable ({shown}): {e} — {how}");
}

/// The template's name: it changes whenever a migration does.
fn template_name() -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for migration in MIGRATOR.iter() {
        migration.version.hash(&mut hasher);
        migration.checksum.hash(&mut hasher);
    }
    format!("{TEMPLATE_PREFIX}{:016x}", hasher.finish())
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{PREFIX}{}_{}_{}_{}",
        now.as_secs(),
        std::process::id(),
        now.subsec_nanos(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn exec(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

/// Builds the template if missing and drops leftovers, under the advisory lock.
async fn prepare(admin: &mut PgConnection, server: &PgConnectOptions) -> Result<String, String> {
    let template = template_name();
    let fail = |what: &str, e: sqlx::Error| format!("{what}: {e}");
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await
        .map_err(|e| fail("taking the template lock", e))?;
    let result = async {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'hubbub\\_t%'")
                .fetch_all(&mut *admin)
                .await
                .map_err(|e| fail("listing databases", e))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        for name in &names {
            let stale = if let Some(rest) = name.strip_prefix(PREFIX) {
                rest.split('_')
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|created| now.saturating_sub(created) > STALE_AFTER.as_secs())
            } else {
                name.starts_with(TEMPLATE_PREFIX) && *name != template
            };
            if stale {
                let _ = exec(
                    admin,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )
                .await;
            }
        }
        if names.contains(&template) {
            return Ok(());
        }
        // Built under another name and renamed when complete, so a clone never sees a
        // half-migrated template.
        let building = format!("{template}_building");
        exec(
            admin,
            &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
        )
        .await
        .map_err(|e| fail("dropping an unfinished template", e))?;
        exec(admin, &format!("CREATE DATABASE {building}"))
            .await
            .map_err(|e| fail("creating the template", e))?;
        let mut conn = server
            .clone()
            .database(&building)
            .connect()
            .await
            .map_err(|e| fail("connecting to the template", e))?;
        MIGRATOR
            .run(&mut conn)
            .await
            .map_err(|e| format!("migrating the template: {e}"))?;
        let _ = conn.close().await;
        exec(
            admin,
            &format!("ALTER DATABASE {building} RENAME TO {template}"),
        )
        .await
        .map_err(|e| fail("renaming the template", e))?;
        Ok(())
    }
    .await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await;
    result.map(|()| template)
}

impl TestDatabase {
    /// Creates a fresh database; panics (see the module docs) if the server cannot be
    /// reached or the database cannot be made.
    pub async fn create() -> Self {
        let url = server_url();
        let server = match PgConnectOptions::from_str(&url) {
            Ok(o) => o,
            Err(e) => panic!("{URL_VARIABLE} is not a PostgreSQL URL: {e}"),
        };
        let connect = tokio::time::timeout(Duration::from_secs(10), server.connect()).await;
        let mut admin = match connect {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => unreachable(&url, e),
            Err(_) => unreachable(&url, "no answer within 10 s"),
        };
        let template = match prepare(&mut admin, &server).await {
            Ok(t) => t,
            Err(e) => panic!("preparing the PostgreSQL test template: {e}"),
        };
        let name = unique_name();
        let mut attempt = 0;
        loop {
            let created = exec(
                &mut admin,
                &format!("CREATE DATABASE {name} TEMPLATE {template}"),
            )
            .await;
            match created {
                Ok(()) => break,
                // 55006: the template is in use (a clone running at the same instant
                // in another session): take turns.
                Err(e)
                    if attempt < 50
                        && crate::driver_error::sqlstate(&e).as_deref() == Some("55006") =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => panic!("creating test database {name}: {e}"),
            }
        }
        let _ = admin.close().await;
        Self {
            name,
            server_url: url,
            admin: server,
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL of the database (the server's URL with this database).
    pub fn url(&self) -> String {
        url_with_database(&self.server_url, &self.name)
    }

    /// Store options for the database, with a small pool (tests run in parallel).
    pub fn options(&self) -> PostgresOptions {
        let connect = self.admin.clone().database(&self.name);
        let mut options = PostgresOptions::new(connect);
        options.max_connections = 4;
        options
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop cannot await: a thread with its own runtime does the dropping (and the
        // test waits for it, so databases do not pile up while the suite runs).
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = admin.connect().await {
                    let _ = exec(&mut conn, &sql).await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            url_with_database("postgres://u:p@h/db?sslmode=disable", "y"),
            "postgres://u:p@h/y?sslmode=disable"
        );
        assert_eq!(url_with_database("postgres://h", "z"), "postgres://h/z");
    }

    #[test]
    fn names_are_plain_identifiers() {
        let name = unique_name();
        assert!(name.starts_with(PREFIX));
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{name}"
        );
        assert_ne!(unique_name(), name);
        assert!(template_name().starts_with(TEMPLATE_PREFIX));
    }
}
