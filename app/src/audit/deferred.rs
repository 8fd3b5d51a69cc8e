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
/// read, so that the reads and their record commit together. Events that differ only in the
/// data elements they name become one event naming all of them (see [`merge_elements`]).
pub async fn collecting<F: Future>(work: F) -> (F::Output, Vec<NewAccessEvent>) {
    COLLECTED
        .scope(RefCell::new(Vec::new()), async move {
            let output = work.await;
            let events = COLLECTED.with(|collected| collected.take());
            (output, merge_elements(events))
        })
        .await
}

/// Merges events that differ only in their data elements into the first of them, which then
/// names the elements of all, each once, in the order recorded. A chart that reads ten
/// sections for one purpose is one access of ten elements: one row to append, hash and show
/// to the patient instead of ten. Events that differ in anything else, such as emergency
/// access or the outcome, stay apart.
pub fn merge_elements(events: Vec<NewAccessEvent>) -> Vec<NewAccessEvent> {
    let mut merged: Vec<NewAccessEvent> = Vec::with_capacity(events.len());
    for event in events {
        let same = merged.iter_mut().find(|kept| {
            kept.clinic_id == event.clinic_id
                && kept.actor_user_id == event.actor_user_id
                && kept.actor_roles == event.actor_roles
                && kept.patient_id == event.patient_id
                && kept.action == event.action
                && kept.purpose == event.purpose
                && kept.outcome == event.outcome
                && kept.emergency == event.emergency
                && kept.client == event.client
        });
        match same {
            Some(kept) => {
                for element in event.data_elements {
                    if !kept.data_elements.contains(&element) {
                        kept.data_elements.push(element);
                    }
                }
            }
            None => merged.push(event),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::merge_elements;
    use crate::audit::{AccessAction, AccessOutcome, ClientInfo, NewAccessEvent};
    use crate::ids::{ClinicId, PatientId, UserId};

    fn read(elements: &[&str]) -> NewAccessEvent {
        NewAccessEvent {
            clinic_id: ClinicId(uuid::Uuid::from_u128(1)),
            actor_user_id: Some(UserId(uuid::Uuid::from_u128(2))),
            actor_roles: vec!["midwife".to_owned()],
            patient_id: Some(PatientId(uuid::Uuid::from_u128(3))),
            action: AccessAction::Read,
            purpose: "postnatal visit".to_owned(),
            data_elements: elements
                .iter()
                .map(|element| (*element).to_owned())
                .collect(),
            outcome: AccessOutcome::Allowed,
            emergency: false,
            client: ClientInfo::default(),
        }
    }

    #[test]
    fn reads_of_one_access_become_one_event() {
        let merged = merge_elements(vec![
            read(&["vitals"]),
            read(&["clinical_note.maternal", "vitals"]),
            read(&["care_task"]),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0].data_elements,
            ["vitals", "clinical_note.maternal", "care_task"]
        );
    }

    #[test]
    fn events_that_differ_stay_apart() {
        let mut emergency = read(&["vitals"]);
        emergency.emergency = true;
        let mut other_patient = read(&["vitals"]);
        other_patient.patient_id = Some(PatientId(uuid::Uuid::from_u128(4)));
        let mut denied = read(&["contact"]);
        denied.outcome = AccessOutcome::Denied;
        let events = vec![
            read(&["notes"]),
            emergency,
            other_patient,
            denied,
            read(&["tasks"]),
        ];

        let merged = merge_elements(events);

        assert_eq!(merged.len(), 4);
        assert_eq!(merged[0].data_elements, ["notes", "tasks"]);
        assert!(merged[1].emergency);
        assert_eq!(merged[3].outcome, AccessOutcome::Denied);
    }
}
