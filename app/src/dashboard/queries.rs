//! The dashboard's reads of alerts, tasks and care events: one statement per kind for all the
//! listed patients. None of these tables contains encrypted or clinical free text. The caller
//! authorizes the patients first and records the access.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::KeptSql;
use crate::ids::{ClinicId, PatientId, UserId};

/// Maximum number of alerts or tasks one list returns.
// NOTE: a clinician with more open tasks than this gets lower task counts in the patient list,
// because the counts are taken from the same capped query.
const MAX_ITEMS: i64 = 200;

/// Open alerts of one patient for the clinician's roles.
#[derive(QueryableByName)]
pub struct AlertCount {
    #[diesel(sql_type = SqlUuid)]
    pub patient_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub open_alerts: i64,
    #[diesel(sql_type = SmallInt)]
    pub highest: i16,
}

/// An unacknowledged alert routed to one of the clinician's roles.
#[derive(QueryableByName)]
pub struct OpenAlert {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub patient_id: Uuid,
    #[diesel(sql_type = Text)]
    pub rule: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = SmallInt)]
    pub priority: i16,
    #[diesel(sql_type = Timestamptz)]
    pub raised_at: DateTime<Utc>,
}

/// A task that the clinician owns and that is still open or in progress.
#[derive(QueryableByName)]
pub struct OpenTask {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub patient_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = SmallInt)]
    pub priority: i16,
    #[diesel(sql_type = Timestamptz)]
    pub due_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub status: String,
}

/// The newest care event for the clinician about one patient.
#[derive(QueryableByName)]
pub struct LastActivity {
    #[diesel(sql_type = SqlUuid)]
    pub patient_id: Uuid,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub at: Option<DateTime<Utc>>,
}

/// The condition that an alert `a` is for a role in which `$3` serves on the patient's care
/// team now: the alert's routing names that role.
const FOR_HER_ROLES: &str = "EXISTS (SELECT 1 FROM care_team_members m \
     WHERE m.clinic_id = a.clinic_id AND m.patient_id = a.patient_id \
       AND m.provider_user_id = $3 AND m.role = ANY(a.roles) \
       AND m.starts_at <= now() AND (m.ends_at IS NULL OR m.ends_at > now()))";

fn ids(patients: &[PatientId]) -> Vec<Uuid> {
    patients.iter().map(|patient| patient.0).collect()
}

/// Counts the unacknowledged alerts of each of `patients` that are routed to a role in which
/// `user` serves on the patient's care team.
pub async fn alert_counts(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patients: &[PatientId],
    user: UserId,
) -> Result<Vec<AlertCount>, diesel::result::Error> {
    KeptSql::new(format!(
        "SELECT a.patient_id, count(*) AS open_alerts, max(a.priority) AS highest \
         FROM care_alerts a \
         WHERE a.clinic_id = $1 AND a.patient_id = ANY($2) AND a.acknowledged_at IS NULL \
           AND {FOR_HER_ROLES} \
         GROUP BY a.patient_id"
    ))
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<Array<SqlUuid>, _>(ids(patients))
    .bind::<SqlUuid, _>(user.0)
    .load(conn)
    .await
}

/// Lists the unacknowledged alerts routed to `user`'s roles on the care teams of her current
/// patients, most urgent first, then newest first.
pub async fn open_alerts(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patients: &[PatientId],
    user: UserId,
) -> Result<Vec<OpenAlert>, diesel::result::Error> {
    KeptSql::new(format!(
        "SELECT a.id, a.patient_id, f.rule, a.category, a.priority, a.raised_at \
         FROM care_alerts a \
         JOIN protocol_firings f ON f.clinic_id = a.clinic_id AND f.id = a.firing_id \
         WHERE a.clinic_id = $1 AND a.patient_id = ANY($2) AND a.acknowledged_at IS NULL \
           AND {FOR_HER_ROLES} \
         ORDER BY a.priority DESC, a.raised_at DESC, a.id \
         LIMIT $4"
    ))
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<Array<SqlUuid>, _>(ids(patients))
    .bind::<SqlUuid, _>(user.0)
    .bind::<BigInt, _>(MAX_ITEMS)
    .load(conn)
    .await
}

/// Lists the open and in-progress tasks that `user` owns, overdue and earliest due first.
pub async fn open_tasks(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    user: UserId,
) -> Result<Vec<OpenTask>, diesel::result::Error> {
    KeptSql::new(
        "SELECT id, patient_id, kind, category, priority, due_at, status FROM care_tasks \
         WHERE clinic_id = $1 AND owner_user_id = $2 AND status IN ('open', 'in_progress') \
         ORDER BY due_at, priority DESC, id \
         LIMIT $3",
    )
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<SqlUuid, _>(user.0)
    .bind::<BigInt, _>(MAX_ITEMS)
    .load(conn)
    .await
}

/// Returns the time of the newest care event addressed to `user` about each of `patients`.
pub async fn last_activity(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patients: &[PatientId],
    user: UserId,
) -> Result<Vec<LastActivity>, diesel::result::Error> {
    KeptSql::new(
        "SELECT patient_id, max(created_at) AS at FROM care_events \
         WHERE clinic_id = $1 AND patient_id = ANY($2) AND recipients @> ARRAY[$3] \
         GROUP BY patient_id",
    )
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<Array<SqlUuid>, _>(ids(patients))
    .bind::<SqlUuid, _>(user.0)
    .load(conn)
    .await
}
