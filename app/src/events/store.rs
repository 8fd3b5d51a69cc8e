//! The `care_events` table: publishing an event and reading the ones a user missed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{CareEvent, CareEventKind, Priority};
use crate::identity::Role;
use crate::ids::{ClinicId, PatientId, UserId};

/// PostgreSQL channel on which the database announces each new event's id when it commits.
pub const CHANNEL: &str = "nurture_care_events";

/// Most recipients one event may have; a care team is far smaller.
const MAX_RECIPIENTS: usize = 200;

diesel::table! {
    care_events (id) {
        id -> BigInt,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        kind -> Text,
        priority -> SmallInt,
        recipients -> Array<Uuid>,
        subject_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("an event needs 1 to {MAX_RECIPIENTS} recipients")]
    Recipients,
    #[error("the stored event {0} is malformed")]
    Malformed(i64),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// An event to publish.
#[derive(Debug, Clone)]
pub struct NewCareEvent {
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub kind: CareEventKind,
    pub priority: Priority,
    pub subject_id: Option<Uuid>,
    pub recipients: Vec<UserId>,
}

#[derive(Insertable)]
#[diesel(table_name = care_events)]
struct EventInsert<'a> {
    clinic_id: Uuid,
    patient_id: Uuid,
    kind: &'a str,
    priority: i16,
    recipients: Vec<Uuid>,
    subject_id: Option<Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = care_events, check_for_backend(diesel::pg::Pg))]
struct EventRow {
    id: i64,
    patient_id: Uuid,
    kind: String,
    priority: i16,
    subject_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl EventRow {
    fn into_event(self) -> Result<CareEvent, EventsError> {
        let malformed = || EventsError::Malformed(self.id);
        Ok(CareEvent {
            id: self.id,
            patient_id: PatientId(self.patient_id),
            kind: CareEventKind::parse(&self.kind).ok_or_else(malformed)?,
            priority: Priority::from_level(self.priority).ok_or_else(malformed)?,
            subject_id: self.subject_id,
            created_at_ms: self.created_at.timestamp_millis(),
        })
    }
}

/// Records `event` and returns its id, or `None` when it has nobody to tell. Call it inside the
/// transaction that records the change: the announcement goes out only if that transaction
/// commits, so no node hears of a change that was rolled back.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    event: &NewCareEvent,
) -> Result<Option<i64>, EventsError> {
    let mut recipients: Vec<Uuid> = event.recipients.iter().map(|user| user.0).collect();
    recipients.sort_unstable();
    recipients.dedup();
    if recipients.is_empty() {
        return Ok(None);
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(EventsError::Recipients);
    }
    let id = diesel::insert_into(care_events::table)
        .values(EventInsert {
            clinic_id: event.clinic_id.0,
            patient_id: event.patient_id.0,
            kind: event.kind.as_str(),
            priority: event.priority.level(),
            recipients,
            subject_id: event.subject_id,
        })
        .returning(care_events::id)
        .get_result(conn)
        .await?;
    Ok(Some(id))
}

/// Returns the providers on the patient's care team at `at` who hold one of `roles` there.
pub async fn care_team_audience(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    roles: &[Role],
    at: DateTime<Utc>,
) -> Result<Vec<UserId>, EventsError> {
    #[derive(QueryableByName)]
    struct Member {
        #[diesel(sql_type = SqlUuid)]
        provider_user_id: Uuid,
    }
    let roles: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    let members: Vec<Member> = crate::db::KeptSql::new(
        "SELECT DISTINCT provider_user_id FROM care_team_members \
         WHERE clinic_id = $1 AND patient_id = $2 AND role = ANY($3) \
           AND starts_at <= $4 AND (ends_at IS NULL OR ends_at > $4)",
    )
    .bind::<SqlUuid, _>(clinic_id.0)
    .bind::<SqlUuid, _>(patient_id.0)
    .bind::<Array<Text>, _>(roles)
    .bind::<Timestamptz, _>(at)
    .load(conn)
    .await?;
    Ok(members
        .into_iter()
        .map(|member| UserId(member.provider_user_id))
        .collect())
}

/// Returns the event with `id` if `user` is one of its recipients.
pub async fn event_by_id(
    conn: &mut AsyncPgConnection,
    id: i64,
    user: UserId,
) -> Result<Option<CareEvent>, EventsError> {
    care_events::table
        .filter(care_events::id.eq(id))
        .filter(care_events::recipients.contains(vec![user.0]))
        .select(EventRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(EventRow::into_event)
        .transpose()
}

/// Returns up to `limit` events for `user` that a client which last saw `after` may have
/// missed, oldest first.
///
/// Ids are drawn when a row is inserted but become visible when its transaction commits, so an
/// event with a smaller id can appear after a larger one was delivered. The answer therefore
/// also covers events with smaller ids recorded in the `overlap` before `after`'s event; the
/// client drops ids it has already seen.
pub async fn events_after(
    conn: &mut AsyncPgConnection,
    user: UserId,
    after: i64,
    overlap: chrono::Duration,
    limit: i64,
) -> Result<Vec<CareEvent>, EventsError> {
    let since: Option<DateTime<Utc>> = care_events::table
        .filter(care_events::id.eq(after))
        .select(care_events::created_at)
        .first(conn)
        .await
        .optional()?;
    let mut query = care_events::table
        .filter(care_events::recipients.contains(vec![user.0]))
        .into_boxed();
    query = match since {
        Some(since) => query.filter(
            care_events::id
                .gt(after)
                .or(care_events::created_at.ge(since - overlap)),
        ),
        None => query.filter(care_events::id.gt(after)),
    };
    query
        .order(care_events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

/// Returns the id of the newest event for `user`, or 0 when she has none yet.
pub async fn latest_event_id(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<i64, EventsError> {
    let latest: Option<i64> = care_events::table
        .filter(care_events::recipients.contains(vec![user.0]))
        .select(diesel::dsl::max(care_events::id))
        .first(conn)
        .await?;
    Ok(latest.unwrap_or(0))
}

/// An event with the users it is for, as a node's listener fans it out to open streams.
#[derive(Debug, Clone)]
pub struct AnnouncedEvent {
    pub event: CareEvent,
    pub recipients: Vec<UserId>,
}

impl AnnouncedEvent {
    pub fn is_for(&self, user: UserId) -> bool {
        self.recipients.contains(&user)
    }
}

/// Returns the event with `id` and its recipients, for a node that heard it announced.
pub async fn announced_event(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<AnnouncedEvent>, EventsError> {
    announced_events(conn, id - 1, id)
        .await
        .map(|mut events| events.pop())
}

/// Returns the events with ids in `(after, up_to]`, oldest first, for a node that lost its
/// listening connection and must pass on what was announced meanwhile.
pub async fn announced_events(
    conn: &mut AsyncPgConnection,
    after: i64,
    up_to: i64,
) -> Result<Vec<AnnouncedEvent>, EventsError> {
    let rows: Vec<(EventRow, Vec<Uuid>)> = care_events::table
        .filter(care_events::id.gt(after).and(care_events::id.le(up_to)))
        .order(care_events::id.asc())
        .select((EventRow::as_select(), care_events::recipients))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(row, recipients)| {
            Ok(AnnouncedEvent {
                event: row.into_event()?,
                recipients: recipients.into_iter().map(UserId).collect(),
            })
        })
        .collect()
}

/// Returns the id of the newest event of all, or 0 when there is none.
pub async fn newest_event_id(conn: &mut AsyncPgConnection) -> Result<i64, EventsError> {
    let newest: Option<i64> = care_events::table
        .select(diesel::dsl::max(care_events::id))
        .first(conn)
        .await?;
    Ok(newest.unwrap_or(0))
}
