//! Periodic clean-up of expired sessions, WebAuthn ceremonies and rate-limit windows.

use std::time::Duration;

use app::db::DbPool;
use app::identity::server::ceremonies;
use app::identity::server::session_store::PgSessionStore;
use diesel_async::RunQueryDsl;

const INTERVAL: Duration = Duration::from_secs(300);

/// Runs forever, deleting expired rows every five minutes. Failures are logged and retried at
/// the next tick, because the database may be briefly unavailable.
pub async fn run(pool: DbPool) {
    let store = PgSessionStore::new(pool.clone());
    let mut ticker = tokio::time::interval(INTERVAL);
    loop {
        ticker.tick().await;
        if let Err(error) = store.delete_expired().await {
            tracing::warn!(%error, "deleting expired sessions failed");
        }
        match pool.get().await {
            Ok(mut connection) => {
                if let Err(error) = ceremonies::delete_expired(&mut connection).await {
                    tracing::warn!(%error, "deleting expired ceremonies failed");
                }
                let stale = diesel::sql_query(
                    "DELETE FROM rate_limits WHERE window_started_at < now() - interval '1 day'",
                );
                if let Err(error) = stale.execute(&mut connection).await {
                    tracing::warn!(%error, "deleting old rate-limit windows failed");
                }
            }
            Err(error) => tracing::warn!(%error, "clean-up skipped: database unavailable"),
        }
    }
}
