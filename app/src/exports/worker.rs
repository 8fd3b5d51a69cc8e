//! The export worker: a task in every server process that builds queued exports.
//!
//! A request wakes the worker of its own process at once. Workers also look at the queue every
//! [`INTERVAL`], so exports queued through another node are built too. A worker claims an
//! export with `FOR UPDATE SKIP LOCKED`, so two workers never build the same one.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use super::ExportStatus;
use super::lifecycle::build_export_at;
use super::store;
use crate::db::DbPool;
use crate::error::AppError;
use crate::ids::ExportId;
use crate::records::RecordKeys;
use crate::services::Services;

/// Time between two looks at the queue when nothing wakes the worker.
const INTERVAL: Duration = Duration::from_secs(10);

/// Exports claimed per look at the queue.
const BATCH: i64 = 20;

static WAKE: Notify = Notify::const_new();

/// Wakes this process's worker after an export was queued.
pub fn wake() {
    WAKE.notify_one();
}

/// Runs forever, building queued exports. Failures are logged and retried at the next look,
/// because the database may be briefly unavailable.
pub async fn run(services: Arc<Services>) {
    loop {
        match process_queued(&services.pool, &services).await {
            Ok(built) if !built.is_empty() => {
                tracing::info!(count = built.len(), "processed queued exports");
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(?error, "processing queued exports failed"),
        }
        let _ = tokio::time::timeout(INTERVAL, WAKE.notified()).await;
    }
}

/// Builds or withholds up to one batch of queued exports and returns each one's new status.
/// Tests call it directly in place of the background task.
pub async fn process_queued(
    pool: &DbPool,
    services: &Services,
) -> Result<Vec<(ExportId, ExportStatus)>, AppError> {
    let mut conn = crate::db::connection(pool).await?;
    let keys = RecordKeys::from_services(services);
    let mut processed = Vec::new();
    for id in store::queued(&mut conn, BATCH).await? {
        // One export that fails to build must not hold up the others; it stays queued and is
        // tried again at the next look.
        match build_export_at(&mut conn, keys, id, Utc::now()).await {
            Ok(Some(status)) => processed.push((id, status)),
            Ok(None) => {}
            Err(error) => tracing::warn!(export = %id, ?error, "building an export failed"),
        }
    }
    Ok(processed)
}
