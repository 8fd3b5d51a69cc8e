//! Care-team facts for the access policy and the end of a membership.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::access::{self, AccessContext, ensure_active_patient};
use super::schema::care_team_members;
use crate::access::policy::Membership;
use crate::audit::AccessAction;
use crate::identity::Role;
use crate::ids::{ClinicId, PatientId, UserId};

/// Returns every membership of a patient's care team, past, present and future, for the
/// policy to check against the request's instant. Reads no clinical content and writes no audit
/// event; the policy's decision is audited instead.
pub async fn care_team_memberships(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
) -> Result<Vec<Membership>, RecordsError> {
    let mut teams = care_teams_memberships(conn, clinic_id, &[patient_id]).await?;
    Ok(teams.remove(&patient_id).unwrap_or_default())
}

/// Returns [`care_team_memberships`] of each of `patient_ids`, patients of `clinic_id`, in one
/// query. A patient without any membership is left out.
pub async fn care_teams_memberships(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_ids: &[PatientId],
) -> Result<HashMap<PatientId, Vec<Membership>>, RecordsError> {
    type Row = (
        uuid::Uuid,
        uuid::Uuid,
        uuid::Uuid,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let ids: Vec<uuid::Uuid> = patient_ids.iter().map(|patient| patient.0).collect();
    let rows: Vec<Row> = care_team_members::table
        .filter(care_team_members::clinic_id.eq(clinic_id.0))
        .filter(care_team_members::patient_id.eq_any(ids))
        .select((
            care_team_members::id,
            care_team_members::patient_id,
            care_team_members::provider_user_id,
            care_team_members::role,
            care_team_members::starts_at,
            care_team_members::ends_at,
        ))
        .load(conn)
        .await?;
    let mut teams: HashMap<PatientId, Vec<Membership>> = HashMap::new();
    for (id, patient, user, role, starts_at, ends_at) in rows {
        let role = Role::parse(&role).ok_or(RecordsError::CorruptValue {
            table: "care_team_members",
            column: "role",
            row_id: id,
        })?;
        teams
            .entry(PatientId(patient))
            .or_default()
            .push(Membership {
                user: UserId(user),
                role,
                starts_at,
                ends_at,
            });
    }
    Ok(teams)
}

/// Ends a care-team membership at `ends_at`, which must be after its start and no later than
/// an end it already has. The caller checks that the actor manages care teams.
pub async fn end_care_team_membership(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient_id: PatientId,
    membership_id: uuid::Uuid,
    ends_at: DateTime<Utc>,
) -> Result<(), RecordsError> {
    access.validate()?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        ensure_active_patient(conn, access.clinic_id, patient_id).await?;
        let found: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = care_team_members::table
            .find((access.clinic_id.0, membership_id))
            .filter(care_team_members::patient_id.eq(patient_id.0))
            .select((care_team_members::starts_at, care_team_members::ends_at))
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some((starts_at, current_end)) = found else {
            return Err(RecordsError::NotFound);
        };
        if ends_at <= starts_at || current_end.is_some_and(|end| ends_at > end) {
            return Err(RecordsError::InvalidInput(
                "the end must be after the membership's start and no later than its current end"
                    .to_owned(),
            ));
        }
        diesel::update(care_team_members::table.find((access.clinic_id.0, membership_id)))
            .set(care_team_members::ends_at.eq(Some(ends_at)))
            .execute(conn)
            .await?;
        let elements = vec!["care_team".to_owned()];
        access::record(conn, access, patient_id, AccessAction::Write, elements).await
    })
    .await
}
