//! Deferred appends for a request that reads many parts of one record in one transaction, such
//! as the chart. It collects the access events of its reads and appends them in one statement
//! before it commits, instead of appending once per read.

use std::cell::RefCell;
use std::future::Future;

use diesel_async::AsyncPgConnection;

use super::{AuditError, NewAccessEvent, record_accesses};

tokio::task_local! {
    /// Events recorded inside [`collecting`], in the order recorded.
    static COLLECTED: RefCell<Vec<NewAccessEvent>>;
}

/// Records an access inside the caller's transaction. Inside [`collecting`] the event is kept
/// for the caller to append with [`record_accesses`] before the transaction commits; anywhere
/// else it is appended at once.
pub async fn record_in_transaction(
    conn: &mut AsyncPgConnection,
    event: NewAccessEvent,
) -> Result<(), AuditError> {
    if COLLECTED.try_with(|_| ()).is_ok() {
        COLLECTED.with(|collected| collected.borrow_mut().push(event));
        return Ok(());
    }
    record_accesses(conn, vec![event]).await.map(drop)
}

/// Runs `work` and returns its output with the access events that it recorded through
/// [`record_in_transaction`]. The caller must append them in the transaction in which `work`
/// read, so that the reads and their record commit together.
pub async fn collecting<F: Future>(work: F) -> (F::Output, Vec<NewAccessEvent>) {
    COLLECTED
        .scope(RefCell::new(Vec::new()), async move {
            let output = work.await;
            let events = COLLECTED.with(|collected| collected.take());
            (output, events)
        })
        .await
}
