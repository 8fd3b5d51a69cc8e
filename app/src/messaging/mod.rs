//! Secure messaging between a patient and members of her care team, for the patient portal and
//! the clinician dashboard: the server functions, their wire types and the pages.
//!
//! A thread is about one patient and has a topic, one of the clinical data categories, under
//! which the access policy decides every read and write of its subject and messages. Each
//! server function that touches a thread authorizes through
//! [`crate::access::guard::authorize`] and is listed in [`crate::chart::PATIENT_DATA_FUNCTIONS`].
//! The unread total for the badge counts messages without reading any, like
//! [`crate::records::unread_counts`], and records no audit event.

mod api;
pub mod pages;
#[cfg(feature = "ssr")]
mod server;

pub use api::*;

use serde::{Deserialize, Serialize};

use crate::access::DataCategory;
use crate::ids::{MessageId, PatientId, ThreadId, UserId};

/// Maximum length of a message body, in characters.
pub const MAX_BODY_CHARS: usize = 5_000;
/// Maximum length of a thread's subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 120;
/// Maximum number of care-team members chosen for a new thread.
pub const MAX_CHOSEN_MEMBERS: usize = 10;

/// Topics a thread can have: the clinical data categories.
pub const TOPICS: [DataCategory; 4] = [
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::FamilyHistory,
];

/// Someone who takes part in a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub user_id: UserId,
    pub name: String,
    /// Whether this is the signed-in user.
    pub is_me: bool,
}

/// A thread in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub id: ThreadId,
    pub patient_id: PatientId,
    pub topic: DataCategory,
    pub subject: String,
    pub participants: Vec<Participant>,
    pub message_count: i64,
    pub unread: i64,
    /// RFC 3339 instant of the latest message.
    pub last_message_at: Option<String>,
}

/// One message as its reader sees it. The body is plain text, to be shown as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MessageId,
    pub sender_name: String,
    pub from_me: bool,
    /// RFC 3339 instant.
    pub sent_at: String,
    pub body: String,
}

/// An opened thread with every message, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    pub id: ThreadId,
    pub patient_id: PatientId,
    pub topic: DataCategory,
    pub subject: String,
    pub participants: Vec<Participant>,
    pub messages: Vec<MessageView>,
}

/// A current member of the patient's care team whom a new thread can include.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub user_id: UserId,
    pub name: String,
    /// Her roles on the care team, as shown to people, such as "Midwife".
    pub roles: String,
    /// Topics whose messages her roles may read.
    pub topics: Vec<DataCategory>,
}

/// Checks a message body as typed: not blank and at most [`MAX_BODY_CHARS`] characters.
pub fn body_problem(body: &str) -> Option<String> {
    let length = body.chars().count();
    if body.trim().is_empty() {
        Some("Write a message before sending.".to_owned())
    } else if length > MAX_BODY_CHARS {
        Some(format!(
            "A message can be at most {MAX_BODY_CHARS} characters; this one has {length}."
        ))
    } else {
        None
    }
}

/// Checks a subject as typed: not blank and at most [`MAX_SUBJECT_CHARS`] characters.
pub fn subject_problem(subject: &str) -> Option<String> {
    let length = subject.chars().count();
    if subject.trim().is_empty() {
        Some("Give the conversation a subject.".to_owned())
    } else if length > MAX_SUBJECT_CHARS {
        Some(format!(
            "A subject can be at most {MAX_SUBJECT_CHARS} characters; this one has {length}."
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_oversized_bodies_rejected() {
        assert!(body_problem("").is_some());
        assert!(body_problem(" \n\t ").is_some());
        assert!(body_problem(&"a".repeat(MAX_BODY_CHARS + 1)).is_some());
        assert_eq!(body_problem(&"é".repeat(MAX_BODY_CHARS)), None);
        assert_eq!(body_problem("<b>hello</b>"), None);
    }

    #[test]
    fn blank_and_oversized_subjects_rejected() {
        assert!(subject_problem("  ").is_some());
        assert!(subject_problem(&"s".repeat(MAX_SUBJECT_CHARS + 1)).is_some());
        assert_eq!(subject_problem("Evening feeds"), None);
    }
}
