//! Server-side steps of the messaging server functions: authorizing a thread or a listing,
//! checking a new thread's members, and turning stored threads into wire types.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::api::MESSAGING_PURPOSE;
use super::{Contact, MessageView, Participant, TOPICS, ThreadSummary, ThreadView};
use crate::access::policy::Membership;
use crate::access::{Action, Actor, Authorization, DataCategory, authorize, guard, settings};
use crate::error::{AppError, ErrorCode};
use crate::events::{self, CareEventKind, NewCareEvent, Priority};
use crate::identity::support::timestamp;
use crate::ids::{ClinicId, MessageId, PatientId, ThreadId, UserId};
use crate::portal::server::StaffNames;
use crate::records::{self, Classification, NewThread, RecordKeys, ThreadListing};
use crate::services::Services;

/// Returns the patient a request names, or the signed-in user's own record when it names none.
/// An account without a record gets the same "not found" error as a record it may not use.
pub async fn target_patient(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient_id: Option<PatientId>,
) -> Result<PatientId, AppError> {
    match patient_id {
        Some(patient) => Ok(patient),
        None => crate::portal::server::own_patient(conn, actor).await,
    }
}

/// Authorizes `action` on a thread for its participant. An unknown thread fails with "not
/// found" at once. A thread the caller does not take part in fails the same way after its
/// denial is audited, and so does a participant whom the policy denies, such as a member whose
/// care-team membership ended.
pub async fn authorize_thread(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    thread_id: ThreadId,
    action: Action,
) -> Result<Authorization, AppError> {
    let Some(owner) = records::thread_owner(conn, thread_id, actor.user).await? else {
        return Err(AppError::not_found());
    };
    let category = owner.classification.category();
    if !owner.participant {
        let patient = Some(owner.patient_id);
        return Err(guard::deny(conn, actor, patient, category, action, MESSAGING_PURPOSE).await);
    }
    authorize(
        conn,
        actor,
        owner.patient_id,
        category,
        action,
        MESSAGING_PURPOSE,
    )
    .await
}

/// Authorizes reading the subjects of a listing, one patient and topic at a time. A patient and
/// topic that the request names must be allowed; otherwise those that the policy denies are
/// left out of the listing.
pub async fn authorize_listing(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient_id: Option<PatientId>,
    topic: Option<DataCategory>,
    threads: &[ThreadListing],
) -> Result<Vec<Authorization>, AppError> {
    if let Some(topic) = topic
        && !TOPICS.contains(&topic)
    {
        return Err(AppError::invalid_input(
            "Threads are about maternal health, infant feeding and growth, mental health or \
             family history.",
        ));
    }
    if let (Some(patient), Some(topic)) = (patient_id, topic) {
        let authorization = read_topic(conn, actor, patient, topic).await?;
        return Ok(vec![authorization]);
    }
    let mut groups: Vec<(PatientId, DataCategory)> = threads
        .iter()
        .map(|thread| (thread.patient_id, thread.classification.category()))
        .collect();
    groups.sort_unstable_by_key(|(patient, topic)| (*patient, topic.as_str()));
    groups.dedup();
    let mut granted = Vec::with_capacity(groups.len());
    for (patient, topic) in groups {
        match read_topic(conn, actor, patient, topic).await {
            Ok(authorization) => granted.push(authorization),
            Err(error) if error.code == ErrorCode::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(granted)
}

async fn read_topic(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    topic: DataCategory,
) -> Result<Authorization, AppError> {
    authorize(conn, actor, patient, topic, Action::Read, MESSAGING_PURPOSE).await
}

/// Builds the summaries of the threads whose patient and topic are authorized, with their
/// subjects; reading the subjects records one audit event per authorization.
pub async fn list_threads(
    conn: &mut AsyncPgConnection,
    services: &Services,
    actor: &Actor,
    authorizations: &[Authorization],
    threads: Vec<ThreadListing>,
) -> Result<Vec<ThreadSummary>, AppError> {
    let keys = RecordKeys::from_services(services);
    let mut subjects: BTreeMap<ThreadId, String> = BTreeMap::new();
    for authorization in authorizations {
        let covered: Vec<ThreadId> = threads
            .iter()
            .filter(|thread| {
                thread.patient_id == authorization.patient()
                    && thread.classification.category() == authorization.category()
            })
            .map(|thread| thread.id)
            .collect();
        subjects.extend(records::thread_subjects(conn, keys, authorization, &covered).await?);
    }

    let mut names = StaffNames::new(services);
    let mut summaries = Vec::with_capacity(subjects.len());
    for thread in threads {
        let Some(subject) = subjects.remove(&thread.id) else {
            continue;
        };
        summaries.push(ThreadSummary {
            id: thread.id,
            patient_id: thread.patient_id,
            topic: thread.classification.category(),
            subject,
            participants: participants(conn, &mut names, actor, &thread.participants).await?,
            message_count: thread.message_count,
            unread: thread.unread,
            last_message_at: thread.last_sent_at.map(timestamp),
        });
    }
    Ok(summaries)
}

/// Reads an authorized thread, which marks it read for the caller and audits the read.
pub async fn read_thread(
    conn: &mut AsyncPgConnection,
    services: &Services,
    actor: &Actor,
    authorization: &Authorization,
    thread_id: ThreadId,
) -> Result<ThreadView, AppError> {
    let keys = RecordKeys::from_services(services);
    let (access, _) = authorization.scope(authorization.category(), Action::Read)?;
    let thread = records::read_thread(conn, keys, access, thread_id).await?;

    let mut names = StaffNames::new(services);
    let mut messages = Vec::with_capacity(thread.messages.len());
    for message in thread.messages {
        messages.push(MessageView {
            id: message.id,
            sender_name: names.of(conn, message.sender).await?,
            from_me: message.sender == actor.user,
            sent_at: timestamp(message.sent_at),
            body: message.body,
        });
    }
    Ok(ThreadView {
        id: thread.id,
        patient_id: thread.patient_id,
        topic: thread.classification.category(),
        subject: thread.subject,
        participants: participants(conn, &mut names, actor, &thread.participants).await?,
        messages,
    })
}

/// Stores the caller's message and publishes a message event to the other participants who
/// still may take part, in one transaction.
pub async fn send(
    conn: &mut AsyncPgConnection,
    services: &Services,
    authorization: &Authorization,
    thread_id: ThreadId,
    body: &str,
) -> Result<MessageId, AppError> {
    let keys = RecordKeys::from_services(services);
    let (access, patient) = authorization.scope(authorization.category(), Action::Write)?;

    conn.transaction::<_, AppError, _>(async move |conn| {
        let id = records::send_message(conn, keys, access, thread_id, body).await?;
        let recipients =
            records::thread_recipients(conn, access.clinic_id, thread_id, access.actor).await?;
        notify(conn, access.clinic_id, patient, thread_id, recipients).await?;
        Ok(id)
    })
    .await
}

/// Checks a new thread's topic, subject, first message and number of chosen members, before
/// anything is read.
pub fn new_thread(
    topic: DataCategory,
    subject: String,
    body: String,
    members: &[UserId],
) -> Result<NewThread, AppError> {
    let classification = Classification::from_category(topic).ok_or_else(|| {
        AppError::invalid_input(
            "Choose a topic: maternal health, infant feeding and growth, mental health or \
             family history.",
        )
    })?;
    if let Some(problem) = super::subject_problem(&subject) {
        return Err(AppError::invalid_input(problem));
    }
    if let Some(problem) = super::body_problem(&body) {
        return Err(AppError::invalid_input(problem));
    }
    if members.len() > super::MAX_CHOSEN_MEMBERS {
        return Err(AppError::invalid_input(format!(
            "Choose at most {} members of the care team.",
            super::MAX_CHOSEN_MEMBERS
        )));
    }
    Ok(NewThread {
        classification,
        subject: subject.trim().to_owned(),
        participants: Vec::new(),
        first_message: body,
    })
}

/// Denies a new thread, and audits the denial, unless the caller is the patient herself or on
/// her care team now. Only they take part in threads, so break-glass access, which the policy
/// allows for writing, starts none.
pub async fn ensure_may_take_part(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    authorization: &Authorization,
) -> Result<(), AppError> {
    let patient = authorization.patient();
    let owner = records::patient_owner(conn, patient)
        .await?
        .ok_or_else(AppError::not_found)?;
    if owner.user == Some(actor.user) {
        return Ok(());
    }
    let memberships = records::care_team_memberships(conn, owner.clinic, patient).await?;
    let now = Utc::now();
    let member = memberships
        .iter()
        .any(|membership| membership.user == actor.user && is_current(membership, now));
    if member {
        return Ok(());
    }
    let category = authorization.category();
    let purpose = MESSAGING_PURPOSE;
    Err(guard::deny(conn, actor, Some(patient), category, Action::Write, purpose).await)
}

fn is_current(membership: &Membership, now: DateTime<Utc>) -> bool {
    membership.starts_at <= now && membership.ends_at.is_none_or(|end| now < end)
}

/// Starts an authorized thread with the chosen members and the patient's own account, and
/// publishes a message event to everyone but the caller, in one transaction.
pub async fn start(
    conn: &mut AsyncPgConnection,
    services: &Services,
    authorization: &Authorization,
    mut new: NewThread,
    members: Vec<UserId>,
) -> Result<ThreadId, AppError> {
    let keys = RecordKeys::from_services(services);
    let topic = authorization.category();
    let (access, patient) = authorization.scope(topic, Action::Write)?;
    let owner = records::patient_owner(conn, patient)
        .await?
        .ok_or_else(AppError::not_found)?;

    let mut participants: Vec<UserId> = Vec::new();
    for member in members.into_iter().chain(owner.user) {
        if member != access.actor && !participants.contains(&member) {
            participants.push(member);
        }
    }
    let staff: Vec<UserId> = participants
        .iter()
        .copied()
        .filter(|user| Some(*user) != owner.user)
        .collect();
    check_members(conn, access.clinic_id, patient, topic, &staff).await?;
    if participants.is_empty() {
        return Err(AppError::invalid_input(
            "Choose at least one member of the care team to write to.",
        ));
    }
    new.participants = participants.clone();

    conn.transaction::<_, AppError, _>(async move |conn| {
        let id = records::start_thread(conn, keys, access, patient, &new).await?;
        notify(conn, access.clinic_id, patient, id, participants).await?;
        Ok(id)
    })
    .await
}

/// Fails unless every chosen member is on the patient's care team now in a role that the
/// clinic lets read `topic`, so that nobody is added to a thread she could not open.
async fn check_members(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
    topic: DataCategory,
    members: &[UserId],
) -> Result<(), AppError> {
    if members.is_empty() {
        return Ok(());
    }
    let readers = topic_readers(conn, clinic, patient).await?;
    let may_read = |user: &UserId| {
        readers
            .get(user)
            .is_some_and(|(_, topics)| topics.contains(&topic))
    };
    if members.iter().all(may_read) {
        Ok(())
    } else {
        Err(AppError::invalid_input(format!(
            "Each chosen person must be on the care team now, in a role that may read \
             messages about {}.",
            topic.label().to_lowercase()
        )))
    }
}

/// Maps each current member of the patient's care team to her roles there and the topics
/// those roles may read under the clinic's permission table.
async fn topic_readers(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
) -> Result<BTreeMap<UserId, (Vec<&'static str>, Vec<DataCategory>)>, AppError> {
    let memberships = records::care_team_memberships(conn, clinic, patient).await?;
    let table = settings::permission_table(conn, clinic).await?;
    let now = Utc::now();
    let mut readers: BTreeMap<UserId, (Vec<&'static str>, Vec<DataCategory>)> = BTreeMap::new();
    let current = memberships
        .iter()
        .filter(|membership| is_current(membership, now));
    for membership in current {
        let (roles, topics) = readers.entry(membership.user).or_default();
        if !roles.contains(&membership.role.label()) {
            roles.push(membership.role.label());
        }
        for topic in TOPICS {
            if table.allows(membership.role, topic, Action::Read) && !topics.contains(&topic) {
                topics.push(topic);
            }
        }
    }
    Ok(readers)
}

/// Lists the current care-team members other than the caller, for a new thread, and audits
/// the read of the care team.
pub async fn contacts(
    conn: &mut AsyncPgConnection,
    services: &Services,
    actor: &Actor,
    authorization: &Authorization,
) -> Result<Vec<Contact>, AppError> {
    let (access, patient) = authorization.scope(DataCategory::CareLogistics, Action::Read)?;
    let readers = topic_readers(conn, access.clinic_id, patient).await?;

    let mut names = StaffNames::new(services);
    let mut contacts = Vec::with_capacity(readers.len());
    for (user, (roles, mut topics)) in readers {
        if user == actor.user {
            continue;
        }
        topics.sort_by_key(|topic| TOPICS.iter().position(|known| known == topic));
        contacts.push(Contact {
            user_id: user,
            name: names.of(conn, user).await?,
            roles: roles.join(", "),
            topics,
        });
    }
    contacts.sort_by(|a, b| a.name.cmp(&b.name));
    guard::record_allowed(conn, authorization, vec!["care_team.members".to_owned()]).await?;
    Ok(contacts)
}

async fn participants(
    conn: &mut AsyncPgConnection,
    names: &mut StaffNames<'_>,
    actor: &Actor,
    users: &[UserId],
) -> Result<Vec<Participant>, AppError> {
    let mut found = Vec::with_capacity(users.len());
    for user in users {
        found.push(Participant {
            user_id: *user,
            name: names.of(conn, *user).await?,
            is_me: *user == actor.user,
        });
    }
    Ok(found)
}

/// Publishes a message event about the thread to `recipients`; nobody is told when the list is
/// empty. The event carries the thread id, never the text.
async fn notify(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
    thread_id: ThreadId,
    recipients: Vec<UserId>,
) -> Result<(), AppError> {
    let event = NewCareEvent {
        clinic_id: clinic,
        patient_id: patient,
        kind: CareEventKind::Message,
        priority: Priority::Routine,
        subject_id: Some(thread_id.0),
        recipients,
    };
    events::publish(conn, &event).await.map_err(|error| {
        tracing::error!(%error, thread = %thread_id, "publishing a message event failed");
        AppError::internal()
    })?;
    Ok(())
}
