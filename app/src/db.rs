//! Database access shared by server functions: the connection pool type and the migrations.

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::bb8;
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
