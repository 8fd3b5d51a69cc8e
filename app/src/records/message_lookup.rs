//! Message threads as the messaging server functions need them around the policy check: whose
//! thread an id names and whether the caller takes part, the caller's threads with their unread
//! counts, who is notified of a new message, and the subjects of a listing. Only
//! [`thread_subjects`] decrypts anything, under an authorization, and records the read; the
//! other functions read metadata only and their callers authorize what they show.
//!
//! A participant "may take part" while she is the patient herself or a current member of the
//! patient's care team, as when the thread was started. Listings and notifications leave out
//! participants who no longer may, such as a member whose membership ended.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, RecordKeys, version_from_db};
use super::entries::Classification;
use super::messages::THREADS;
use super::schema::{message_participants, message_threads};
use crate::access::Authorization;
use crate::db::KeptSql;
use crate::ids::{ClinicId, PatientId, ThreadId, UserId};

/// SQL condition that the participant row `p` of thread `t` may still take part.
macro_rules! may_take_part {
    () => {
        "(EXISTS (SELECT 1 FROM patients AS pa \
              WHERE pa.clinic_id = t.clinic_id AND pa.id = t.patient_id \
              AND pa.user_id = p.user_id) \
          OR EXISTS (SELECT 1 FROM care_team_members AS c \
              WHERE c.clinic_id = t.clinic_id AND c.patient_id = t.patient_id \
              AND c.provider_user_id = p.user_id \
              AND c.starts_at <= now() AND (c.ends_at IS NULL OR c.ends_at > now())))"
    };
}

/// The patient and classification of a thread, and whether a given user takes part in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadOwner {
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub classification: Classification,
    pub participant: bool,
}

/// One of the caller's threads in a listing, without its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadListing {
    pub id: ThreadId,
    pub patient_id: PatientId,
    pub classification: Classification,
    /// Everyone who takes part, the caller included, in id order.
    pub participants: Vec<UserId>,
    pub message_count: i64,
    /// Messages that others sent after the last one the caller read.
    pub unread: i64,
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// Returns the patient and classification of a thread in any clinic, with whether `user` takes
/// part in it, or `None` if there is no such thread. A thread of another clinic is found too,
/// so that the policy denies and audits the attempt.
pub async fn thread_owner(
    conn: &mut AsyncPgConnection,
    thread_id: ThreadId,
    user: UserId,
) -> Result<Option<ThreadOwner>, RecordsError> {
    let row: Option<(uuid::Uuid, uuid::Uuid, String)> = message_threads::table
        .filter(message_threads::id.eq(thread_id.0))
        .select((
            message_threads::clinic_id,
            message_threads::patient_id,
            message_threads::classification,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((clinic, patient, classification)) = row else {
        return Ok(None);
    };
    let classification =
        Classification::parse(&classification).ok_or(RecordsError::CorruptValue {
            table: THREADS,
            column: "classification",
            row_id: thread_id.0,
        })?;
    let participants: i64 = message_participants::table
        .filter(message_participants::clinic_id.eq(clinic))
        .filter(message_participants::thread_id.eq(thread_id.0))
        .filter(message_participants::user_id.eq(user.0))
        .count()
        .get_result(conn)
        .await?;
    Ok(Some(ThreadOwner {
        clinic_id: ClinicId(clinic),
        patient_id: PatientId(patient),
        classification,
        participant: participants > 0,
    }))
}

#[derive(QueryableByName)]
struct ListingRow {
    #[diesel(sql_type = SqlUuid)]
    thread_id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    patient_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    classification: String,
    #[diesel(sql_type = BigInt)]
    message_count: i64,
    #[diesel(sql_type = BigInt)]
    unread: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_sent_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Array<SqlUuid>)]
    participants: Vec<uuid::Uuid>,
}

/// Lists the threads of the caller's clinic that `user` takes part in and still may, optionally
/// of one patient only, with the most recent activity first.
pub async fn list_threads(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    user: UserId,
    patient: Option<PatientId>,
) -> Result<Vec<ThreadListing>, RecordsError> {
    let rows: Vec<ListingRow> = KeptSql::new(concat!(
        "SELECT t.id AS thread_id, t.patient_id, t.classification, t.message_count, \
             (SELECT count(*) FROM messages AS m \
                 WHERE m.clinic_id = p.clinic_id AND m.thread_id = p.thread_id \
                 AND m.sequence > p.read_through AND m.sender_user_id <> p.user_id) AS unread, \
             (SELECT max(m.sent_at) FROM messages AS m \
                 WHERE m.clinic_id = t.clinic_id AND m.thread_id = t.id) AS last_sent_at, \
             ARRAY(SELECT o.user_id FROM message_participants AS o \
                 WHERE o.clinic_id = t.clinic_id AND o.thread_id = t.id \
                 ORDER BY o.user_id) AS participants \
         FROM message_participants AS p \
         JOIN message_threads AS t ON t.clinic_id = p.clinic_id AND t.id = p.thread_id \
         WHERE p.clinic_id = $1 AND p.user_id = $2 \
           AND ($3::uuid IS NULL OR t.patient_id = $3) AND ",
        may_take_part!(),
        " ORDER BY last_sent_at DESC NULLS LAST, t.created_at DESC, t.id"
    ))
    .bind::<SqlUuid, _>(clinic_id.0)
    .bind::<SqlUuid, _>(user.0)
    .bind::<Nullable<SqlUuid>, _>(patient.map(|patient| patient.0))
    .load(conn)
    .await?;
    rows.into_iter().map(listing).collect()
}

fn listing(row: ListingRow) -> Result<ThreadListing, RecordsError> {
    let classification =
        Classification::parse(&row.classification).ok_or(RecordsError::CorruptValue {
            table: THREADS,
            column: "classification",
            row_id: row.thread_id,
        })?;
    Ok(ThreadListing {
        id: ThreadId(row.thread_id),
        patient_id: PatientId(row.patient_id),
        classification,
        participants: row.participants.into_iter().map(UserId).collect(),
        message_count: row.message_count,
        unread: row.unread,
        last_sent_at: row.last_sent_at,
    })
}

#[derive(QueryableByName)]
struct Recipient {
    #[diesel(sql_type = SqlUuid)]
    user_id: uuid::Uuid,
}

/// Returns the participants of a thread other than `sender` who still may take part, so that
/// only they are notified of a new message.
pub async fn thread_recipients(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    thread_id: ThreadId,
    sender: UserId,
) -> Result<Vec<UserId>, RecordsError> {
    let rows: Vec<Recipient> = KeptSql::new(concat!(
        "SELECT p.user_id FROM message_participants AS p \
         JOIN message_threads AS t ON t.clinic_id = p.clinic_id AND t.id = p.thread_id \
         WHERE p.clinic_id = $1 AND p.thread_id = $2 AND p.user_id <> $3 AND ",
        may_take_part!(),
        " ORDER BY p.user_id"
    ))
    .bind::<SqlUuid, _>(clinic_id.0)
    .bind::<SqlUuid, _>(thread_id.0)
    .bind::<SqlUuid, _>(sender.0)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| UserId(row.user_id)).collect())
}

/// Decrypts the subjects of `threads` that are about the authorized patient and in the
/// authorized category, skipping any other, and records one read of them even when there are
/// none, because the caller was shown the listing.
pub async fn thread_subjects(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
    threads: &[ThreadId],
) -> Result<Vec<(ThreadId, String)>, RecordsError> {
    let (access, patient, action) = authorization.read_scope(authorization.category())?;
    let classification =
        Classification::from_category(authorization.category()).ok_or(RecordsError::NotFound)?;
    let ids: Vec<uuid::Uuid> = threads.iter().map(|thread| thread.0).collect();

    crate::db::in_transaction(conn, async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient).await?;
        let rows: Vec<(uuid::Uuid, i32, Vec<u8>)> = message_threads::table
            .filter(message_threads::clinic_id.eq(access.clinic_id.0))
            .filter(message_threads::patient_id.eq(patient.0))
            .filter(message_threads::classification.eq(classification.as_str()))
            .filter(message_threads::id.eq_any(ids))
            .select((
                message_threads::id,
                message_threads::data_key_version,
                message_threads::subject_ciphertext,
            ))
            .load(conn)
            .await?;
        let data_class = classification.data_class();
        let mut subjects = Vec::with_capacity(rows.len());
        for (id, version, ciphertext) in rows {
            let mut context = key.context(THREADS, "subject_ciphertext", id, data_class);
            context.data_key_version = version_from_db(version);
            subjects.push((ThreadId(id), key.decrypt_text(&context, &ciphertext)?));
        }

        let elements = vec!["message_thread.subject".to_owned()];
        access::record(conn, access, patient, action, elements).await?;
        Ok(subjects)
    })
    .await
}
