//! Database bootstrap: create the database when missing, run the migrations, build the pool,
//! and report whether the schema is current.

use std::fmt;
use std::time::Duration;

use app::db::{DbPool, MIGRATIONS};
use diesel::QueryableByName;
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use url::Url;

use crate::config::DatabaseConfig;

/// Key of the PostgreSQL advisory lock held while migrations run, so that several server
/// processes starting at once migrate one after another.
const MIGRATION_LOCK_KEY: i64 = 0x6e75_7274_7572_6501;

/// A PostgreSQL connection URL whose `Display` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Url);

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text)
            .map_err(|_| "is not a URL such as postgres://user@host:5432/name".to_owned())?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(format!("scheme {:?} is not postgres://", url.scheme()));
        }
        let database = Self(url);
        database.database_name()?;
        Ok(database)
    }

    /// Name of the database, which must be a plain identifier so it can be created safely.
    pub fn database_name(&self) -> Result<&str, String> {
        let name = self.0.path().trim_start_matches('/');
        let plain = !name.is_empty()
            && name.len() <= 63
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if plain {
            Ok(name)
        } else {
            Err(format!(
                "database name {name:?} must be 1 to 63 letters, digits or underscores, not starting with a digit"
            ))
        }
    }

    /// Returns the same server and credentials with another database name.
    pub fn with_database(&self, name: &str) -> Self {
        let mut url = self.0.clone();
        url.set_path(name);
        Self(url)
    }

    /// Returns the full URL including any password. Pass it to a driver, never to a log.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// A failure to prepare the database at startup.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(
        "PostgreSQL is not reachable at {url}: {reason}. Start PostgreSQL (scripts/demo does) or set DATABASE_URL"
    )]
    Unreachable { url: DatabaseUrl, reason: String },
    #[error("{0}")]
    InvalidUrl(String),
    #[error("cannot create database {name}: {reason}")]
    Create { name: String, reason: String },
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("updating the planner's statistics failed: {0}")]
    Analyze(String),
}

/// Creates the database if missing and runs pending migrations, both through the migration
/// connection, and returns a pool of runtime connections.
///
/// Without a migration connection, `DATABASE_URL` migrates only when migrations are pending, so
/// a runtime role on a database that the owner migrated separately starts without needing
/// the right to create tables.
pub async fn prepare(config: &DatabaseConfig) -> Result<DbPool, DatabaseError> {
    let pool = build_pool(config);
    if let Some(owner) = &config.migration_url {
        ensure_database_exists(owner).await?;
        run_migrations(owner).await?;
        return Ok(pool);
    }
    ensure_database_exists(&config.url).await?;
    let status = schema_status(&pool, config.acquire_timeout)
        .await
        .map_err(|error| DatabaseError::Migration(error.to_string()))?;
    if status == SchemaStatus::Pending {
        run_migrations(&config.url).await?;
    }
    Ok(pool)
}

/// Tells whether the pool's role owns the audit tables (or belongs to their owner), in which
/// case it could disable their append-only triggers.
pub async fn runtime_owns_audit_tables(pool: &DbPool) -> Result<bool, DatabaseError> {
    #[derive(QueryableByName)]
    struct Owns {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        owns: bool,
    }
    let failed = |error: &dyn fmt::Display| DatabaseError::Migration(error.to_string());
    let mut connection = pool.get().await.map_err(|error| failed(&error))?;
    let row: Owns = diesel::sql_query(
        "SELECT bool_or(pg_has_role(current_user, relowner, 'USAGE')) AS owns FROM pg_class \
         WHERE oid IN ('data_access_audit'::regclass, 'security_events'::regclass)",
    )
    .get_result(&mut connection)
    .await
    .map_err(|error| failed(&error))?;
    Ok(row.owns)
}

/// Setting that each pooled connection applies when it opens, so that its prepared statements
/// use their generic plans. The server's queries look rows up by clinic and id, so one plan
/// suits every execution.
/// PostgreSQL's default plans the first five executions anew, and often every one on a
/// partitioned table, which cost the policy's care-team lookup 0.2 ms per page (BENCHMARKS.md).
pub const CONNECTION_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan";

/// Builds a pool without connecting. Connections are opened on first use, with
/// [`CONNECTION_SETTINGS`].
///
/// A connection is checked at each checkout without a round trip: it is discarded when its
/// socket was closed (PostgreSQL restarted, or the backend was terminated) or a transaction
/// was left open. The default check sent `SELECT 1` at each checkout, four times per page
/// (BENCHMARKS.md). A peer that vanished without closing the socket is found by the first
/// query instead, which then fails.
pub fn build_pool(config: &DatabaseConfig) -> DbPool {
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    manager_config.custom_setup = Box::new(|url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut connection = AsyncPgConnection::establish(&url).await?;
            diesel_async::SimpleAsyncConnection::batch_execute(
                &mut connection,
                CONNECTION_SETTINGS,
            )
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(connection)
        })
    });
    manager_config.recycling_method = RecyclingMethod::CustomFunction(Box::new(|connection| {
        let broken = PoolableConnection::is_broken(connection);
        Box::pin(async move {
            if broken {
                Err(diesel::result::Error::BrokenTransactionManager)
            } else {
                Ok(())
            }
        })
    }));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        config.url.expose(),
        manager_config,
    );
    Pool::builder()
        .max_size(config.pool_size)
        .connection_timeout(config.acquire_timeout)
        .build_unchecked(manager)
}

/// Creates the database named in `url` unless a connection to it already succeeds.
pub async fn ensure_database_exists(url: &DatabaseUrl) -> Result<(), DatabaseError> {
    let first_error = match AsyncPgConnection::establish(url.expose()).await {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };

    let name = url.database_name().map_err(DatabaseError::InvalidUrl)?;
    let maintenance_url = url.with_database("postgres");
    let mut connection = AsyncPgConnection::establish(maintenance_url.expose())
        .await
        .map_err(|_| DatabaseError::Unreachable {
            url: url.clone(),
            reason: first_error.to_string(),
        })?;

    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let existing: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name)
            .get_result(&mut connection)
            .await
            .map_err(|error| DatabaseError::Create {
                name: name.to_owned(),
                reason: error.to_string(),
            })?;
    if existing.exists {
        return Err(DatabaseError::Unreachable {
            url: url.clone(),
            reason: first_error.to_string(),
        });
    }

    // The name was checked to be a plain identifier, so quoting it is enough.
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut connection)
        .await
        .map_err(|error| DatabaseError::Create {
            name: name.to_owned(),
            reason: error.to_string(),
        })?;
    tracing::info!(database = name, "created database");
    Ok(())
}

/// Refreshes the planner's statistics of every table, as the role that owns them, after a bulk
/// load. Without them PostgreSQL guesses row counts, and picked a plan that read every patient
/// of the clinic to find one mother's record. Autovacuum would analyze the tables later, where
/// it runs.
pub async fn analyze(config: &DatabaseConfig) -> Result<(), DatabaseError> {
    let url = config.migration_url.as_ref().unwrap_or(&config.url);
    let mut connection = AsyncPgConnection::establish(url.expose())
        .await
        .map_err(|error| DatabaseError::Unreachable {
            url: url.clone(),
            reason: error.to_string(),
        })?;
    diesel_async::SimpleAsyncConnection::batch_execute(&mut connection, ANALYZE_OWN_TABLES)
        .await
        .map_err(|error| DatabaseError::Analyze(error.to_string()))
}

/// Analyzes the tables of the public schema that the current role owns, a partitioned table
/// with its partitions. A plain `ANALYZE` would also warn about each system catalog.
const ANALYZE_OWN_TABLES: &str = "DO $$
DECLARE
    own regclass;
BEGIN
    FOR own IN
        SELECT c.oid FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND pg_has_role(c.relowner, 'USAGE')
            AND (c.relkind = 'p' OR (c.relkind = 'r' AND NOT c.relispartition))
    LOOP
        EXECUTE format('ANALYZE %s', own);
    END LOOP;
END
$$";

/// Runs pending migrations while holding an advisory lock.
pub async fn run_migrations(url: &DatabaseUrl) -> Result<(), DatabaseError> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let mut connection: AsyncConnectionWrapper<AsyncPgConnection> =
            diesel::Connection::establish(url.expose()).map_err(|error| {
                DatabaseError::Unreachable {
                    url: url.clone(),
                    reason: error.to_string(),
                }
            })?;
        let migration_error =
            |error: &dyn fmt::Display| DatabaseError::Migration(error.to_string());

        connection
            .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .map_err(|error| migration_error(&error))?;
        let applied = connection
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.len())
            .map_err(|error| migration_error(&error));
        let unlocked =
            connection.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));

        let applied = applied?;
        unlocked.map_err(|error| migration_error(&error))?;
        if applied > 0 {
            tracing::info!(applied, "applied database migrations");
        }
        Ok(())
    })
    .await
    .map_err(|error| DatabaseError::Migration(error.to_string()))?
}

/// State of the schema compared with the migrations compiled into this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaStatus {
    Current,
    /// Some compiled-in migrations have not been applied.
    Pending,
}

/// Error while checking readiness; the message is for logs only.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReadinessError(String);

/// Compares the applied migrations with the compiled-in ones, within `timeout`.
pub async fn schema_status(
    pool: &DbPool,
    timeout: Duration,
) -> Result<SchemaStatus, ReadinessError> {
    tokio::time::timeout(timeout, query_schema_status(pool))
        .await
        .map_err(|_| ReadinessError(format!("no response from the database within {timeout:?}")))?
}

async fn query_schema_status(pool: &DbPool) -> Result<SchemaStatus, ReadinessError> {
    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = Text)]
        version: String,
    }

    let mut connection = pool
        .get()
        .await
        .map_err(|error| ReadinessError(error.to_string()))?;
    let query_error = |error: diesel::result::Error| ReadinessError(error.to_string());

    let applied: Vec<Applied> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load(&mut connection)
        .await
        .or_else(|error| match error {
            // A database that was never migrated has no migrations table yet.
            diesel::result::Error::DatabaseError(_, ref info)
                if info.message().contains("does not exist") =>
            {
                Ok(Vec::new())
            }
            other => Err(other),
        })
        .map_err(query_error)?;

    let migrations = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|error| ReadinessError(error.to_string()))?;
    let all_applied = migrations.iter().all(|migration| {
        let version = migration.name().version().to_string();
        applied.iter().any(|row| row.version == version)
    });
    Ok(if all_applied {
        SchemaStatus::Current
    } else {
        SchemaStatus::Pending
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_password() {
        let url = DatabaseUrl::parse("postgres://nurture:s3cret@localhost:5432/nurture").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://nurture:***@localhost:5432/nurture"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(url.expose().contains("s3cret"));
    }

    #[test]
    fn unusual_database_name_rejected() {
        let error = DatabaseUrl::parse("postgres://localhost/bad%22name").unwrap_err();
        assert!(error.starts_with("database name"), "{error}");
        assert!(DatabaseUrl::parse("postgres://localhost/").is_err());
        assert!(DatabaseUrl::parse("mysql://localhost/nurture").is_err());
    }

    #[test]
    fn with_database_keeps_server() {
        let url = DatabaseUrl::parse("postgres://a:b@db.internal:6543/nurture").unwrap();
        assert_eq!(
            url.with_database("postgres").expose(),
            "postgres://a:b@db.internal:6543/postgres"
        );
    }
}
