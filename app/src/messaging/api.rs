//! Server functions of secure messaging. Each one that touches a thread or a care team
//! authorizes through the access policy in its first lines, before it reads or writes anything.

use leptos::prelude::*;

use super::{Contact, ThreadSummary, ThreadView};
use crate::access::DataCategory;
use crate::error::AppError;
use crate::ids::{MessageId, PatientId, ThreadId, UserId};

/// Purpose recorded in the audit trail for every messaging access.
pub const MESSAGING_PURPOSE: &str = "secure messaging";

/// Lists the signed-in user's threads with their subjects and unread counts, most recent first:
/// a patient's own threads, or the threads a clinician takes part in, of one patient when
/// `patient_id` is given and on one topic when `topic` is. Threads whose patient and topic the
/// policy denies her are left out, unless she named both, which then get the same "not found"
/// as an unknown patient.
#[server(prefix = "/api", endpoint = "messages/threads")]
pub async fn list_message_threads(
    patient_id: Option<PatientId>,
    topic: Option<DataCategory>,
) -> Result<Vec<ThreadSummary>, AppError> {
    use super::server;
    use crate::records;

    let (services, actor) = crate::portal::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let mut threads =
        records::list_threads(&mut conn, actor.clinic, actor.user, patient_id).await?;
    threads.retain(|thread| topic.is_none_or(|topic| thread.classification.category() == topic));
    let authorizations =
        server::authorize_listing(&mut conn, &actor, patient_id, topic, &threads).await?;

    server::list_threads(&mut conn, &services, &actor, &authorizations, threads).await
}

/// Opens a thread the signed-in user takes part in, with every message, and marks its messages
/// read for her. An unknown thread and one she may not read get the same "not found".
#[server(prefix = "/api", endpoint = "messages/thread")]
pub async fn read_message_thread(thread_id: ThreadId) -> Result<ThreadView, AppError> {
    use super::server;
    use crate::access::Action;

    let (services, actor) = crate::portal::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization =
        server::authorize_thread(&mut conn, &actor, thread_id, Action::Read).await?;

    server::read_thread(&mut conn, &services, &actor, &authorization, thread_id).await
}

/// Sends a message in a thread the signed-in user takes part in, and publishes a message event
/// to the other participants in the same transaction.
#[server(prefix = "/api", endpoint = "messages/send")]
pub async fn send_message(thread_id: ThreadId, body: String) -> Result<MessageId, AppError> {
    use super::server;
    use crate::access::Action;

    let (services, actor) = crate::portal::server::begin().await?;
    if let Some(problem) = super::body_problem(&body) {
        return Err(AppError::invalid_input(problem));
    }
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization =
        server::authorize_thread(&mut conn, &actor, thread_id, Action::Write).await?;

    server::send(&mut conn, &services, &authorization, thread_id, &body).await
}

/// Starts a thread about a patient on `topic` with a first message. A patient leaves out
/// `patient_id` and writes to the chosen `members` of her care team. A clinician names the
/// patient, who always takes part when she has an account, and may add other members. The
/// sender and each chosen member must be on the care team now, the members in a role that may
/// read the topic.
#[server(prefix = "/api", endpoint = "messages/start")]
pub async fn start_message_thread(
    patient_id: Option<PatientId>,
    topic: DataCategory,
    subject: String,
    body: String,
    #[server(default)] members: Vec<UserId>,
) -> Result<ThreadId, AppError> {
    use super::server;
    use crate::access::{Action, authorize};

    let (services, actor) = crate::portal::server::begin().await?;
    let new = server::new_thread(topic, subject, body, &members)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::target_patient(&mut conn, &actor, patient_id).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient,
        topic,
        Action::Write,
        MESSAGING_PURPOSE,
    )
    .await?;
    server::ensure_may_take_part(&mut conn, &actor, &authorization).await?;

    server::start(&mut conn, &services, &authorization, new, members).await
}

/// Lists the current members of a patient's care team whom a new thread can include, with the
/// topics each may read: the signed-in patient's own team, or the team of `patient_id`.
#[server(prefix = "/api", endpoint = "messages/contacts")]
pub async fn message_contacts(patient_id: Option<PatientId>) -> Result<Vec<Contact>, AppError> {
    use super::server;
    use crate::access::{Action, authorize};

    let (services, actor) = crate::portal::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::target_patient(&mut conn, &actor, patient_id).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient,
        DataCategory::CareLogistics,
        Action::Read,
        MESSAGING_PURPOSE,
    )
    .await?;

    server::contacts(&mut conn, &services, &actor, &authorization).await
}

/// Counts the messages that others sent in the signed-in user's threads after she last read
/// them, for the badge. Only threads she still may take part in count. It reads no subject or
/// body, so it is not audited.
#[server(prefix = "/api", endpoint = "messages/unread")]
pub async fn unread_message_count() -> Result<i64, AppError> {
    use crate::records;

    let (services, actor) = crate::portal::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let threads = records::list_threads(&mut conn, actor.clinic, actor.user, None).await?;
    Ok(threads.iter().map(|thread| thread.unread).sum())
}
