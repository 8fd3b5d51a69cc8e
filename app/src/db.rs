//! Database access shared by server functions: the connection pool type and the migrations.

use std::future::Future;

use diesel_async::pooled_connection::bb8;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

use crate::error::AppError;

/// Pool of PostgreSQL connections, provided to server functions as context.
pub type DbPool = bb8::Pool<AsyncPgConnection>;

/// A connection checked out of [`DbPool`].
pub type DbConnection<'a> = bb8::PooledConnection<'a, AsyncPgConnection>;

/// The Diesel migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Checks out a connection, answering "unavailable" when the database cannot be reached.
pub async fn connection(pool: &DbPool) -> Result<DbConnection<'_>, AppError> {
    pool.get().await.map_err(|error| {
        tracing::error!(%error, "database connection unavailable");
        AppError::unavailable()
    })
}

/// Work that [`in_transaction`] runs on a connection: a closure, usually `async move |conn|`,
/// whose future may cross threads. The bound names the future's type, which `AsyncFnOnce`
/// alone does not let a caller require to be `Send`.
pub trait ConnectionWork<'c, R>: FnOnce(&'c mut AsyncPgConnection) -> Self::Running {
    type Running: Future<Output = R> + Send;
}

impl<'c, F, Running, R> ConnectionWork<'c, R> for F
where
    F: FnOnce(&'c mut AsyncPgConnection) -> Running,
    Running: Future<Output = R> + Send,
{
    type Running = Running;
}

/// Runs `work` in a transaction: its own, or the caller's when `conn` is already inside one, so
/// that the chart's many reads pay no savepoint each. Writes keep `AsyncConnection::transaction`,
/// whose savepoint lets a failed write inside a larger transaction undo only itself.
pub async fn in_transaction<F, R, E>(conn: &mut AsyncPgConnection, work: F) -> Result<R, E>
where
    F: for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<R, E>
        + for<'c> ConnectionWork<'c, Result<R, E>>
        + Send,
    E: From<diesel::result::Error> + Send,
    R: Send,
{
    type Manager = AnsiTransactionManager;
    let depth =
        <Manager as TransactionManager<AsyncPgConnection>>::transaction_manager_status_mut(conn)
            .transaction_depth()?;
    if depth.is_some() {
        return work(conn).await;
    }
    Manager::begin_transaction(conn).await?;
    match work(conn).await {
        Ok(value) => {
            Manager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn).await {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}
