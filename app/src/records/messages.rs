//! Secure messaging: threads about one patient between her and members of her care team.
//!
//! A thread's subject and every message body are encrypted under the patient's data key, with
//! the thread's classification as their data class. Bodies are plain text: they are stored and
//! returned exactly as written and must be shown as text, never interpreted as HTML.
//!
//! Participants are user accounts: the patient's own account and current members of her care
//! team. Only a participant can send, read or count a thread's messages; to anyone else the
//! thread does not exist. Reading a thread marks every message in it as read for the reader, so
//! her unread count is the number of later messages sent by others. Every start, send and read
//! records one audit event.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, AccessContext, PatientKey, RecordKeys, version_to_db};
use super::entries::Classification;
use super::schema::{care_team_members, message_participants, message_threads, messages, patients};
use crate::audit::AccessAction;
use crate::ids::{ClinicId, MessageId, PatientId, ThreadId, UserId};

pub(super) const THREADS: &str = "message_threads";
pub(super) const MESSAGES: &str = "messages";
/// Maximum length of a subject, in characters.
pub(super) const MAX_SUBJECT_CHARS: usize = 200;
/// Maximum length of a message body, in characters.
pub(super) const MAX_BODY_CHARS: usize = 10_000;
/// Maximum number of participants in one thread, the caller included.
const MAX_PARTICIPANTS: usize = 20;

/// A new thread with its first message, sent by the caller. Its `Debug` output hides the text.
#[derive(Clone, PartialEq, Eq)]
pub struct NewThread {
    pub classification: Classification,
    pub subject: String,
    /// Participants besides the caller: the patient's own account or members of her care team.
    pub participants: Vec<UserId>,
    pub first_message: String,
}

/// A thread as its participant reads it. Its `Debug` output hides the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: ThreadId,
    pub patient_id: PatientId,
    pub classification: Classification,
    pub subject: String,
    pub participants: Vec<UserId>,
    /// Oldest first.
    pub messages: Vec<Message>,
}

/// One message of a thread. Its `Debug` output hides the body.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    /// Position in the thread, from 1.
    pub sequence: i64,
    pub sender: UserId,
    pub sent_at: DateTime<Utc>,
    /// Plain text, exactly as sent.
    pub body: String,
}

/// Number of messages in a thread that others sent after the last one the caller read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadCount {
    pub thread_id: ThreadId,
    pub patient_id: PatientId,
    pub unread: i64,
}

impl std::fmt::Debug for NewThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewThread")
            .field("classification", &self.classification)
            .field("participants", &self.participants)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thread")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("classification", &self.classification)
            .field("participants", &self.participants)
            .field("messages", &self.messages)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("sequence", &self.sequence)
            .field("sender", &self.sender)
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

/// Rejects text that is empty, too long, or contains control characters other than line breaks
/// and tabs. `what` names the field in the error.
pub(super) fn validate_text(text: &str, what: &str, max_chars: usize) -> Result<(), RecordsError> {
    let length = text.trim().chars().count();
    if length == 0 || text.chars().count() > max_chars {
        return Err(RecordsError::InvalidInput(format!(
            "{what} must be 1 to {max_chars} characters"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(RecordsError::InvalidInput(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(())
}

/// Fails unless every user may take part in the patient's threads: her own account or a
/// member of her care team now.
async fn ensure_may_participate(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    users: &[UserId],
) -> Result<(), RecordsError> {
    let own: Option<Option<uuid::Uuid>> = patients::table
        .find((clinic_id.0, patient_id.0))
        .select(patients::user_id)
        .first(conn)
        .await
        .optional()?;
    let Some(own) = own else {
        return Err(RecordsError::NotFound);
    };
    let now = Utc::now();
    let team: Vec<uuid::Uuid> = care_team_members::table
        .filter(care_team_members::clinic_id.eq(clinic_id.0))
        .filter(care_team_members::patient_id.eq(patient_id.0))
        .filter(care_team_members::starts_at.le(now))
        .filter(
            care_team_members::ends_at
                .is_null()
                .or(care_team_members::ends_at.gt(now)),
        )
        .select(care_team_members::provider_user_id)
        .load(conn)
        .await?;
    let allowed = |user: &UserId| own == Some(user.0) || team.contains(&user.0);
    if let Some(user) = users.iter().find(|user| !allowed(user)) {
        return Err(RecordsError::InvalidInput(format!(
            "participant {user} is neither the patient nor a current member of her care team"
        )));
    }
    Ok(())
}

/// Starts a thread about a patient with its first message from the caller, who becomes a
/// participant with the users in `new.participants`.
pub async fn start_thread(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    patient_id: PatientId,
    new: &NewThread,
) -> Result<ThreadId, RecordsError> {
    access.validate()?;
    validate_text(&new.subject, "the subject", MAX_SUBJECT_CHARS)?;
    validate_text(&new.first_message, "a message", MAX_BODY_CHARS)?;
    let mut participants = vec![access.actor];
    for user in &new.participants {
        if !participants.contains(user) {
            participants.push(*user);
        }
    }
    if participants.len() > MAX_PARTICIPANTS {
        return Err(RecordsError::InvalidInput(format!(
            "a thread has at most {MAX_PARTICIPANTS} participants"
        )));
    }

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        ensure_may_participate(conn, access.clinic_id, patient_id, &participants).await?;
        let thread_id = ThreadId::new_random();
        let subject_context = key.context(
            THREADS,
            "subject_ciphertext",
            thread_id.0,
            new.classification.data_class(),
        );
        diesel::insert_into(message_threads::table)
            .values((
                message_threads::id.eq(thread_id.0),
                message_threads::clinic_id.eq(access.clinic_id.0),
                message_threads::patient_id.eq(patient_id.0),
                message_threads::classification.eq(new.classification.as_str()),
                message_threads::data_key_version.eq(version_to_db(key.version)?),
                message_threads::subject_ciphertext
                    .eq(key.encrypt(&subject_context, new.subject.as_bytes())?),
                message_threads::created_by.eq(access.actor.0),
                message_threads::created_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
        let rows: Vec<_> = participants
            .iter()
            .map(|user| {
                (
                    message_participants::clinic_id.eq(access.clinic_id.0),
                    message_participants::thread_id.eq(thread_id.0),
                    message_participants::user_id.eq(user.0),
                )
            })
            .collect();
        diesel::insert_into(message_participants::table)
            .values(rows)
            .execute(conn)
            .await?;
        let thread = ThreadHead {
            id: thread_id,
            classification: new.classification,
        };
        append_message(conn, &key, access, &thread, &new.first_message).await?;

        let elements = vec![
            "message_thread.subject".to_owned(),
            "message.body".to_owned(),
        ];
        access::record(conn, access, patient_id, AccessAction::Write, elements).await?;
        Ok(thread_id)
    })
    .await
}

/// Sends a message from the caller, who must take part in the thread.
pub async fn send_message(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    thread_id: ThreadId,
    body: &str,
) -> Result<MessageId, RecordsError> {
    access.validate()?;
    validate_text(body, "a message", MAX_BODY_CHARS)?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let (patient_id, thread) = participant_thread(conn, access, thread_id).await?;
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        let id = append_message(conn, &key, access, &thread, body).await?;

        let elements = vec!["message.body".to_owned()];
        access::record(conn, access, patient_id, AccessAction::Write, elements).await?;
        Ok(id)
    })
    .await
}

/// The fields of a thread that encrypting or decrypting its messages needs.
pub(super) struct ThreadHead {
    pub id: ThreadId,
    pub classification: Classification,
}

/// Takes the thread's next sequence number, which locks the thread row until the transaction
/// ends, and stores the caller's message under it.
async fn append_message(
    conn: &mut AsyncPgConnection,
    key: &PatientKey,
    access: &AccessContext,
    thread: &ThreadHead,
    body: &str,
) -> Result<MessageId, RecordsError> {
    let sequence: i64 =
        diesel::update(message_threads::table.find((access.clinic_id.0, thread.id.0)))
            .set(message_threads::message_count.eq(message_threads::message_count + 1))
            .returning(message_threads::message_count)
            .get_result(conn)
            .await?;
    let id = MessageId::new_random();
    let context = key.context(
        MESSAGES,
        "body_ciphertext",
        id.0,
        thread.classification.data_class(),
    );
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq(id.0),
            messages::clinic_id.eq(access.clinic_id.0),
            messages::thread_id.eq(thread.id.0),
            messages::sequence.eq(sequence),
            messages::sender_user_id.eq(access.actor.0),
            messages::sent_at.eq(Utc::now()),
            messages::data_key_version.eq(version_to_db(key.version)?),
            messages::body_ciphertext.eq(key.encrypt(&context, body.as_bytes())?),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// Loads the thread's patient and classification if the caller takes part in it; otherwise
/// fails with [`RecordsError::NotFound`], as for a thread that does not exist.
pub(super) async fn participant_thread(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    thread_id: ThreadId,
) -> Result<(PatientId, ThreadHead), RecordsError> {
    let row: Option<(uuid::Uuid, String)> = message_threads::table
        .inner_join(
            message_participants::table.on(message_participants::clinic_id
                .eq(message_threads::clinic_id)
                .and(message_participants::thread_id.eq(message_threads::id))),
        )
        .filter(message_threads::clinic_id.eq(access.clinic_id.0))
        .filter(message_threads::id.eq(thread_id.0))
        .filter(message_participants::user_id.eq(access.actor.0))
        .select((message_threads::patient_id, message_threads::classification))
        .first(conn)
        .await
        .optional()?;
    let Some((patient_id, classification)) = row else {
        return Err(RecordsError::NotFound);
    };
    let classification = Classification::ALL
        .into_iter()
        .find(|candidate| candidate.as_str() == classification)
        .ok_or(RecordsError::CorruptValue {
            table: THREADS,
            column: "classification",
            row_id: thread_id.0,
        })?;
    let thread = ThreadHead {
        id: thread_id,
        classification,
    };
    Ok((PatientId(patient_id), thread))
}
