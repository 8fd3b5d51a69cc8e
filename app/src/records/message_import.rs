//! Message threads imported with a patient's record, such as a synthetic cohort's.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{PatientKey, version_to_db};
use super::entries::Classification;
use super::messages::{MAX_BODY_CHARS, MAX_SUBJECT_CHARS, MESSAGES, THREADS, validate_text};
use super::schema::{message_participants, message_threads, messages};
use crate::ids::{ClinicId, UserId};

/// Sender of an imported message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSender {
    /// The patient, through her own account.
    Patient,
    /// A member of her care team who takes part in the thread.
    Staff(UserId),
}

/// A thread to import between the patient and some members of her care team. Its `Debug`
/// output hides the text.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportedThread {
    pub classification: Classification,
    pub subject: String,
    /// Care team members who take part besides the patient, who always does.
    pub staff: Vec<UserId>,
    /// Oldest first.
    pub messages: Vec<ImportedMessage>,
    /// How many of the first messages the patient has read.
    pub read_by_patient: usize,
    /// How many of the first messages each staff participant has read.
    pub read_by_staff: usize,
}

/// One imported message. Its `Debug` output hides the body.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportedMessage {
    pub sender: MessageSender,
    pub sent_at: DateTime<Utc>,
    /// Plain text.
    pub body: String,
}

impl std::fmt::Debug for ImportedThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedThread")
            .field("classification", &self.classification)
            .field("staff", &self.staff)
            .field("messages", &self.messages)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ImportedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedMessage")
            .field("sender", &self.sender)
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = message_threads)]
pub(super) struct ThreadRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    classification: &'static str,
    data_key_version: i32,
    subject_ciphertext: Vec<u8>,
    created_by: uuid::Uuid,
    created_at: DateTime<Utc>,
    message_count: i64,
}

#[derive(Insertable)]
#[diesel(table_name = message_participants)]
pub(super) struct ParticipantRow {
    clinic_id: uuid::Uuid,
    thread_id: uuid::Uuid,
    user_id: uuid::Uuid,
    read_through: i64,
}

#[derive(Insertable)]
#[diesel(table_name = messages)]
pub(super) struct MessageRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    thread_id: uuid::Uuid,
    sequence: i64,
    sender_user_id: uuid::Uuid,
    sent_at: DateTime<Utc>,
    data_key_version: i32,
    body_ciphertext: Vec<u8>,
}

/// Rows of the imported threads of a batch of patients.
#[derive(Default)]
pub(super) struct ThreadRows {
    pub threads: Vec<ThreadRow>,
    pub participants: Vec<ParticipantRow>,
    pub messages: Vec<MessageRow>,
}

impl ThreadRows {
    /// Validates and encrypts one thread of the patient whose account is `patient_user`, and
    /// adds its rows. `care_team` lists the providers on her care team.
    pub fn add(
        &mut self,
        key: &PatientKey,
        clinic_id: ClinicId,
        patient_user: UserId,
        care_team: &[UserId],
        thread: &ImportedThread,
    ) -> Result<(), RecordsError> {
        validate_text(&thread.subject, "the subject", MAX_SUBJECT_CHARS)?;
        if let Some(user) = thread.staff.iter().find(|user| !care_team.contains(user)) {
            return Err(RecordsError::InvalidInput(format!(
                "thread participant {user} is not on the patient's care team"
            )));
        }
        let Some(first) = thread.messages.first() else {
            return Err(RecordsError::InvalidInput(
                "a thread needs a message".to_owned(),
            ));
        };
        let sender_of = |sender: MessageSender| match sender {
            MessageSender::Patient => Ok(patient_user),
            MessageSender::Staff(user) if thread.staff.contains(&user) => Ok(user),
            MessageSender::Staff(user) => Err(RecordsError::InvalidInput(format!(
                "message sender {user} does not take part in the thread"
            ))),
        };
        let thread_id = uuid::Uuid::new_v4();
        let data_class = thread.classification.data_class();
        let version = version_to_db(key.version)?;
        let count = |read: usize| i64::try_from(read.min(thread.messages.len())).unwrap_or(0);

        let context = key.context(THREADS, "subject_ciphertext", thread_id, data_class);
        self.threads.push(ThreadRow {
            id: thread_id,
            clinic_id: clinic_id.0,
            patient_id: key.patient_id.0,
            classification: thread.classification.as_str(),
            data_key_version: version,
            subject_ciphertext: key.encrypt(&context, thread.subject.as_bytes())?,
            created_by: sender_of(first.sender)?.0,
            created_at: first.sent_at,
            message_count: count(thread.messages.len()),
        });
        let participants = std::iter::once((patient_user, thread.read_by_patient)).chain(
            thread
                .staff
                .iter()
                .map(|user| (*user, thread.read_by_staff)),
        );
        for (user, read) in participants {
            self.participants.push(ParticipantRow {
                clinic_id: clinic_id.0,
                thread_id,
                user_id: user.0,
                read_through: count(read),
            });
        }
        for (index, message) in thread.messages.iter().enumerate() {
            validate_text(&message.body, "a message", MAX_BODY_CHARS)?;
            let id = uuid::Uuid::new_v4();
            let context = key.context(MESSAGES, "body_ciphertext", id, data_class);
            self.messages.push(MessageRow {
                id,
                clinic_id: clinic_id.0,
                thread_id,
                sequence: count(index + 1),
                sender_user_id: sender_of(message.sender)?.0,
                sent_at: message.sent_at,
                data_key_version: version,
                body_ciphertext: key.encrypt(&context, message.body.as_bytes())?,
            });
        }
        Ok(())
    }

    /// Inserts every row, threads before participants before messages.
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> Result<(), RecordsError> {
        for chunk in self.threads.chunks(2_000) {
            diesel::insert_into(message_threads::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        for chunk in self.participants.chunks(5_000) {
            diesel::insert_into(message_participants::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        for chunk in self.messages.chunks(5_000) {
            diesel::insert_into(messages::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        Ok(())
    }
}
