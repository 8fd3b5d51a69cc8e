//! Reading secure messages: a thread with its messages, which marks them read, and the unread
//! counts of the caller's threads.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, AccessContext, PatientKey, RecordKeys, version_from_db};
use super::messages::{
    MESSAGES, Message, THREADS, Thread, ThreadHead, UnreadCount, participant_thread,
};
use super::schema::{message_participants, message_threads, messages};
use crate::audit::AccessAction;
use crate::ids::{ClinicId, MessageId, PatientId, ThreadId, UserId};

/// Reads a thread the caller takes part in, with every message, and marks them read for her.
pub async fn read_thread(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    thread_id: ThreadId,
) -> Result<Thread, RecordsError> {
    access.validate()?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let (patient_id, head) = participant_thread(conn, access, thread_id).await?;
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        let data_class = head.classification.data_class();
        let (version, subject): (i32, Vec<u8>) = message_threads::table
            .find((access.clinic_id.0, thread_id.0))
            .select((
                message_threads::data_key_version,
                message_threads::subject_ciphertext,
            ))
            .first(conn)
            .await?;
        let mut context = key.context(THREADS, "subject_ciphertext", thread_id.0, data_class);
        context.data_key_version = version_from_db(version);
        let subject = key.decrypt_text(&context, &subject)?;
        let messages = load_messages(conn, &key, access.clinic_id, &head).await?;
        let participants = load_participants(conn, access.clinic_id, thread_id).await?;
        mark_read(conn, access, thread_id, &messages).await?;

        let elements = vec![
            "message_thread.subject".to_owned(),
            "message.body".to_owned(),
        ];
        access::record(conn, access, patient_id, AccessAction::Read, elements).await?;
        Ok(Thread {
            id: thread_id,
            patient_id,
            classification: head.classification,
            subject,
            participants,
            messages,
        })
    })
    .await
}

async fn load_messages(
    conn: &mut AsyncPgConnection,
    key: &PatientKey,
    clinic_id: ClinicId,
    thread: &ThreadHead,
) -> Result<Vec<Message>, RecordsError> {
    type Row = (uuid::Uuid, i64, uuid::Uuid, DateTime<Utc>, i32, Vec<u8>);
    let rows: Vec<Row> = messages::table
        .filter(messages::clinic_id.eq(clinic_id.0))
        .filter(messages::thread_id.eq(thread.id.0))
        .order(messages::sequence)
        .select((
            messages::id,
            messages::sequence,
            messages::sender_user_id,
            messages::sent_at,
            messages::data_key_version,
            messages::body_ciphertext,
        ))
        .load(conn)
        .await?;
    let data_class = thread.classification.data_class();
    let mut found = Vec::with_capacity(rows.len());
    for (id, sequence, sender, sent_at, version, ciphertext) in rows {
        let mut context = key.context(MESSAGES, "body_ciphertext", id, data_class);
        context.data_key_version = version_from_db(version);
        found.push(Message {
            id: MessageId(id),
            sequence,
            sender: UserId(sender),
            sent_at,
            body: key.decrypt_text(&context, &ciphertext)?,
        });
    }
    Ok(found)
}

async fn load_participants(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    thread_id: ThreadId,
) -> Result<Vec<UserId>, RecordsError> {
    let users: Vec<uuid::Uuid> = message_participants::table
        .filter(message_participants::clinic_id.eq(clinic_id.0))
        .filter(message_participants::thread_id.eq(thread_id.0))
        .order(message_participants::user_id)
        .select(message_participants::user_id)
        .load(conn)
        .await?;
    Ok(users.into_iter().map(UserId).collect())
}

/// Moves the caller's read state to the last message she was shown, never backwards.
async fn mark_read(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    thread_id: ThreadId,
    shown: &[Message],
) -> Result<(), RecordsError> {
    let Some(last) = shown.last() else {
        return Ok(());
    };
    diesel::update(message_participants::table.find((
        access.clinic_id.0,
        thread_id.0,
        access.actor.0,
    )))
    .filter(message_participants::read_through.lt(last.sequence))
    .set(message_participants::read_through.eq(last.sequence))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct UnreadRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    thread_id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    patient_id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    unread: i64,
}

/// Counts, for every thread the caller takes part in, the messages others sent after the last
/// one she read. Nothing is decrypted and no audit event is recorded: the counts reveal no
/// message content, only which patients' threads the caller already belongs to.
pub async fn unread_counts(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
) -> Result<Vec<UnreadCount>, RecordsError> {
    let rows: Vec<UnreadRow> = crate::db::KeptSql::new(
        "SELECT participant.thread_id, thread.patient_id, count(message.id) AS unread \
         FROM message_participants AS participant \
         JOIN message_threads AS thread \
             ON thread.clinic_id = participant.clinic_id AND thread.id = participant.thread_id \
         LEFT JOIN messages AS message \
             ON message.clinic_id = participant.clinic_id \
             AND message.thread_id = participant.thread_id \
             AND message.sequence > participant.read_through \
             AND message.sender_user_id <> participant.user_id \
         WHERE participant.clinic_id = $1 AND participant.user_id = $2 \
         GROUP BY participant.thread_id, thread.patient_id, thread.created_at \
         ORDER BY thread.created_at, participant.thread_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(access.clinic_id.0)
    .bind::<diesel::sql_types::Uuid, _>(access.actor.0)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| UnreadCount {
            thread_id: ThreadId(row.thread_id),
            patient_id: PatientId(row.patient_id),
            unread: row.unread,
        })
        .collect())
}
