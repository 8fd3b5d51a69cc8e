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

/// A statement written in SQL that each connection prepares once and keeps, keyed by its text.
/// The text names its parameters `$1`, `$2`, … and contains no other `$`.
///
/// diesel marks every `sql_query` unsafe to cache, so each call of one is prepared and planned
/// again: a round trip, and often more planning time than the query takes to run. Rows load
/// into `QueryableByName` types, as from a `sql_query`.
pub struct KeptSql<'a> {
    text: std::borrow::Cow<'static, str>,
    binds: Vec<Box<dyn PushBind + Send + 'a>>,
}

impl<'a> KeptSql<'a> {
    /// Starts a statement from its text. The `n`th call of [`KeptSql::bind`] gives the value of
    /// each `$n` in it.
    pub fn new(text: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    /// Binds the next parameter as SQL type `S`.
    pub fn bind<S, T>(mut self, value: T) -> Self
    where
        S: 'static,
        T: diesel::serialize::ToSql<S, diesel::pg::Pg> + Send + 'a,
        diesel::pg::Pg: diesel::sql_types::HasSqlType<S>,
    {
        self.binds.push(Box::new(Bound::<S, T> {
            value,
            sql_type: std::marker::PhantomData,
        }));
        self
    }
}

/// One parameter of a [`KeptSql`], pushed with its SQL type.
trait PushBind {
    fn push<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()>;
}

struct Bound<S, T> {
    value: T,
    sql_type: std::marker::PhantomData<fn() -> S>,
}

impl<S, T> PushBind for Bound<S, T>
where
    T: diesel::serialize::ToSql<S, diesel::pg::Pg>,
    diesel::pg::Pg: diesel::sql_types::HasSqlType<S>,
{
    fn push<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_bind_param::<S, T>(&self.value)
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for KeptSql<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        let mut rest: &str = &self.text;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let after = &rest[at + 1..];
            let digits = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            let number: usize = after[..digits].parse().map_err(|_| {
                diesel::result::Error::QueryBuilderError(
                    "invalid SQL text: a `$` not followed by a parameter number".into(),
                )
            })?;
            let bind = number
                .checked_sub(1)
                .and_then(|index| self.binds.get(index))
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        format!("missing value for parameter ${number}").into(),
                    )
                })?;
            bind.push(&mut out)?;
            rest = &after[digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl diesel::query_builder::QueryId for KeptSql<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for KeptSql<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> diesel_async::RunQueryDsl<Conn> for KeptSql<'_> {}
