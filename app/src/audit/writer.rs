//! Group commit for access events that are committed on their own, such as denials: events
//! from concurrent requests share one transaction and one WAL flush.
//!
//! An event that belongs with a write must still be recorded with [`super::record_access`] in
//! the write's own transaction. The writer is for an event that is the whole of what must
//! become durable before the request may go on: [`AuditWriter::record`] returns only after the
//! transaction holding the event has committed, or with the error that kept it from
//! committing, so a caller that waits for it before answering is as fail-closed as one that
//! commits the event itself. What changes is the cost: on a small machine, a durable
//! transaction costs PostgreSQL far more than the rows in it, and under load a transaction
//! here carries the events of every request that arrived while the previous one committed.

use std::sync::Arc;

use diesel::result::Error::NotFound;
use diesel_async::AsyncConnection;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{AuditError, AuditEventId, NewAccessEvent, record_clinic_accesses};
use crate::db::DbPool;
use crate::ids::ClinicId;

/// Maximum number of events in one transaction: what one append statement takes.
const MAX_BATCH: usize = super::APPEND_CHUNK;

/// Events waiting for a writer task; a request that finds the queue full waits for room.
const QUEUE_CAPACITY: usize = 4 * MAX_BATCH;

/// Number of writer tasks. While one commits a batch, another collects the next, so a slow
/// commit does not hold up every event behind it.
const WORKERS: usize = 3;

/// Handle to the group-commit writer; cheap to clone. The tasks stop when every handle is gone.
#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Pending>,
}

struct Pending {
    event: NewAccessEvent,
    reply: oneshot::Sender<Result<AuditEventId, AuditError>>,
}

impl AuditWriter {
    /// Connections the writer uses at most: give it a pool of its own with this many. Sharing
    /// the requests' pool could deadlock: requests that hold every connection while they wait
    /// for their events would leave the writer none to commit them with.
    pub const CONNECTIONS: u32 = WORKERS as u32;

    /// Starts the writer tasks on the current Tokio runtime, writing through `pool`.
    pub fn start(pool: DbPool) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..WORKERS {
            tokio::spawn(run(pool.clone(), Arc::clone(&receiver)));
        }
        Self { queue }
    }

    /// Records `event` and returns once it is committed. The event is checked as
    /// [`record_accesses`] checks it, and an event that fails alone does not fail the others
    /// that shared its transaction.
    pub async fn record(&self, event: NewAccessEvent) -> Result<AuditEventId, AuditError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { event, reply })
            .await
            .map_err(|_| AuditError::WriterStopped)?;
        answer.await.map_err(|_| AuditError::WriterStopped)?
    }
}

async fn run(pool: DbPool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        write(&pool, batch).await;
    }
}

/// Commits `batch` in one transaction and replies to each sender. If that fails, each event is
/// retried in a transaction of its own, so that each sender gets its own event's outcome.
async fn write(pool: &DbPool, batch: Vec<Pending>) {
    let (events, replies): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|pending| (pending.event, pending.reply))
        .unzip();
    if events.len() > 1 {
        if let Ok(ids) = commit(pool, events.clone()).await {
            for (reply, id) in replies.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
            return;
        }
        tracing::warn!(
            events = events.len(),
            "a batch of audit events failed; committing them one by one"
        );
    }
    for (event, reply) in events.into_iter().zip(replies) {
        let outcome = commit(pool, vec![event])
            .await
            .and_then(|ids| ids.into_iter().next().ok_or(AuditError::Database(NotFound)));
        let _ = reply.send(outcome);
    }
}

/// Records `events` in one transaction, grouped by clinic in the order of clinic ids, so that
/// two batches that have to lock chain heads lock them in the same order. Returns the ids in
/// the order of `events`.
async fn commit(
    pool: &DbPool,
    events: Vec<NewAccessEvent>,
) -> Result<Vec<AuditEventId>, AuditError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|error| AuditError::Unavailable(error.to_string()))?;
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&index| events[index].clinic_id.0);
    let mut by_clinic: Vec<(ClinicId, Vec<usize>)> = Vec::new();
    for index in order {
        let clinic_id = events[index].clinic_id;
        match by_clinic.last_mut() {
            Some((last, indexes)) if *last == clinic_id => indexes.push(index),
            _ => by_clinic.push((clinic_id, vec![index])),
        }
    }
    let groups: Vec<Vec<NewAccessEvent>> = by_clinic
        .iter()
        .map(|(_, indexes)| indexes.iter().map(|&index| events[index].clone()).collect())
        .collect();
    let recorded = conn
        .transaction(async |conn| record_clinic_accesses(conn, groups).await)
        .await?;
    let mut ids = vec![None; events.len()];
    for ((_, indexes), group_ids) in by_clinic.iter().zip(recorded) {
        for (&index, id) in indexes.iter().zip(group_ids) {
            ids[index] = Some(id);
        }
    }
    ids.into_iter()
        .map(|id| id.ok_or(AuditError::Database(NotFound)))
        .collect()
}
