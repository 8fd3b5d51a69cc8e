//! Periodic clean-up of expired sessions, WebAuthn ceremonies and rate-limit windows, and the
//! consent ledger's expiry entries.

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
                consent_upkeep(&mut connection).await;
            }
            Err(error) => tracing::warn!(%error, "clean-up skipped: database unavailable"),
        }
    }
}

/// Appends the ledger entries of consents that expired since the last run and deletes expired
/// consent signature ceremonies. Expiry applies at its instant without this; the entries only
/// record it.
async fn consent_upkeep(connection: &mut diesel_async::AsyncPgConnection) {
    match app::consent::record_expiries(connection, None, chrono::Utc::now()).await {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "recorded consent expiries in the ledger"),
        Err(error) => tracing::warn!(%error, "recording consent expiries failed"),
    }
    if let Err(error) = app::consent::signature::delete_expired_ceremonies(connection).await {
        tracing::warn!(%error, "deleting expired consent signature ceremonies failed");
    }
}
