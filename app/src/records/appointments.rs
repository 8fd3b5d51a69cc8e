//! Appointments and care-team membership. Neither contains free text, so nothing here is
//! encrypted, but every access is still recorded, because both reveal who is in care.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::RecordsError;
use super::access::{self, AccessContext, ensure_active_patient};
use super::schema::{appointments, care_team_members};
use crate::access::{Action, Authorization, DataCategory};
use crate::audit::AccessAction;
use crate::identity::Role;
use crate::ids::{ClinicId, PatientId, UserId};

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Value stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

text_enum!(
    /// Purpose of an appointment.
    AppointmentKind {
        PostnatalVisit => "postnatal_visit",
        GpReview => "gp_review",
        LactationConsultation => "lactation_consultation",
        MentalHealthSession => "mental_health_session",
        InfantCheck => "infant_check",
        CareCoordination => "care_coordination",
    }
);

text_enum!(
    /// State of an appointment.
    AppointmentStatus {
        Scheduled => "scheduled",
        Completed => "completed",
        Cancelled => "cancelled",
        NoShow => "no_show",
    }
);

/// A new appointment of the patient with a clinician of the clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAppointment {
    pub clinician: UserId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub kind: AppointmentKind,
    pub status: AppointmentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub id: uuid::Uuid,
    pub patient_id: PatientId,
    pub clinician: UserId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub kind: AppointmentKind,
    pub status: AppointmentStatus,
}

/// A provider to add to the patient's care team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCareTeamMember {
    pub provider: UserId,
    /// A clinical or coordinating role: GP, midwife, lactation consultant, mental health
    /// specialist or care coordinator.
    pub role: Role,
    pub starts_at: DateTime<Utc>,
    /// `None` while the membership is open-ended.
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareTeamMember {
    pub id: uuid::Uuid,
    pub patient_id: PatientId,
    pub provider: UserId,
    pub role: Role,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = appointments)]
pub(super) struct AppointmentRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    clinician_user_id: uuid::Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    kind: &'static str,
    status: &'static str,
}

#[derive(Insertable)]
#[diesel(table_name = care_team_members)]
pub(super) struct CareTeamRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    provider_user_id: uuid::Uuid,
    role: &'static str,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
}

pub(super) fn appointment_row(
    clinic_id: ClinicId,
    patient_id: PatientId,
    new: &NewAppointment,
) -> Result<AppointmentRow, RecordsError> {
    if new.ends_at <= new.starts_at {
        return Err(RecordsError::InvalidInput(
            "an appointment must end after it starts".to_owned(),
        ));
    }
    Ok(AppointmentRow {
        id: uuid::Uuid::new_v4(),
        clinic_id: clinic_id.0,
        patient_id: patient_id.0,
        clinician_user_id: new.clinician.0,
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        kind: new.kind.as_str(),
        status: new.status.as_str(),
    })
}

pub(super) fn care_team_row(
    clinic_id: ClinicId,
    patient_id: PatientId,
    new: &NewCareTeamMember,
) -> Result<CareTeamRow, RecordsError> {
    let clinical = matches!(
        new.role,
        Role::PrimaryCareProvider
            | Role::Midwife
            | Role::LactationConsultant
            | Role::MentalHealthSpecialist
            | Role::CareCoordinator
    );
    if !clinical {
        return Err(RecordsError::InvalidInput(format!(
            "role {} cannot be a care-team member",
            new.role.as_str()
        )));
    }
    if new.ends_at.is_some_and(|ends_at| ends_at <= new.starts_at) {
        return Err(RecordsError::InvalidInput(
            "a care-team membership must end after it starts".to_owned(),
        ));
    }
    Ok(CareTeamRow {
        id: uuid::Uuid::new_v4(),
        clinic_id: clinic_id.0,
        patient_id: patient_id.0,
        provider_user_id: new.provider.0,
        role: new.role.as_str(),
        starts_at: new.starts_at,
        ends_at: new.ends_at,
    })
}

pub(super) async fn insert_appointments(
    conn: &mut AsyncPgConnection,
    rows: &[AppointmentRow],
) -> Result<(), RecordsError> {
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(appointments::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn insert_care_team(
    conn: &mut AsyncPgConnection,
    rows: &[CareTeamRow],
) -> Result<(), RecordsError> {
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(care_team_members::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Books an appointment for the authorized patient.
pub async fn schedule_appointment(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
    new: &NewAppointment,
) -> Result<uuid::Uuid, RecordsError> {
    let (access, patient_id) = authorization.scope(DataCategory::CareLogistics, Action::Write)?;
    access.validate()?;
    let row = appointment_row(access.clinic_id, patient_id, new)?;
    let id = row.id;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        ensure_active_patient(conn, access.clinic_id, patient_id).await?;
        insert_appointments(conn, &[row]).await?;
        let elements = vec!["appointment".to_owned()];
        access::record(conn, access, patient_id, AccessAction::Write, elements).await
    })
    .await?;
    Ok(id)
}

/// Lists the authorized patient's appointments, earliest first.
pub async fn list_appointments(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
) -> Result<Vec<Appointment>, RecordsError> {
    let (access, patient_id) = authorization.scope(DataCategory::CareLogistics, Action::Read)?;
    access.validate()?;

    crate::db::in_transaction(conn, async move |conn| {
        ensure_active_patient(conn, access.clinic_id, patient_id).await?;
        type Row = (
            uuid::Uuid,
            uuid::Uuid,
            DateTime<Utc>,
            DateTime<Utc>,
            String,
            String,
        );
        let rows: Vec<Row> = appointments::table
            .filter(appointments::clinic_id.eq(access.clinic_id.0))
            .filter(appointments::patient_id.eq(patient_id.0))
            .order((appointments::starts_at, appointments::id))
            .select((
                appointments::id,
                appointments::clinician_user_id,
                appointments::starts_at,
                appointments::ends_at,
                appointments::kind,
                appointments::status,
            ))
            .load(conn)
            .await?;

        let corrupt = |row_id, column| RecordsError::CorruptValue {
            table: "appointments",
            column,
            row_id,
        };
        let mut found = Vec::with_capacity(rows.len());
        for (id, clinician, starts_at, ends_at, kind, status) in rows {
            found.push(Appointment {
                id,
                patient_id,
                clinician: UserId(clinician),
                starts_at,
                ends_at,
                kind: AppointmentKind::parse(&kind).ok_or_else(|| corrupt(id, "kind"))?,
                status: AppointmentStatus::parse(&status).ok_or_else(|| corrupt(id, "status"))?,
            });
        }

        let elements = vec!["appointment".to_owned()];
        access::record(conn, access, patient_id, AccessAction::Read, elements).await?;
        Ok(found)
    })
    .await
}

/// Adds a provider to a patient's care team.
pub async fn add_care_team_member(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient_id: PatientId,
    new: &NewCareTeamMember,
) -> Result<uuid::Uuid, RecordsError> {
    access.validate()?;
    let row = care_team_row(access.clinic_id, patient_id, new)?;
    let id = row.id;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        ensure_active_patient(conn, access.clinic_id, patient_id).await?;
        insert_care_team(conn, &[row]).await?;
        let elements = vec!["care_team".to_owned()];
        access::record(conn, access, patient_id, AccessAction::Write, elements).await
    })
    .await?;
    Ok(id)
}

/// Lists the authorized patient's care team, past and present members, earliest start first.
pub async fn list_care_team(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
) -> Result<Vec<CareTeamMember>, RecordsError> {
    let (access, patient_id) = authorization.scope(DataCategory::CareLogistics, Action::Read)?;
    load_care_team(conn, access, patient_id).await
}

/// Lists a patient's care team for an admin or care coordinator who manages it; audited like
/// [`list_care_team`]. The caller checks the manager's role.
pub async fn list_care_team_for_management(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient_id: PatientId,
) -> Result<Vec<CareTeamMember>, RecordsError> {
    load_care_team(conn, access, patient_id).await
}

async fn load_care_team(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient_id: PatientId,
) -> Result<Vec<CareTeamMember>, RecordsError> {
    access.validate()?;

    crate::db::in_transaction(conn, async move |conn| {
        ensure_active_patient(conn, access.clinic_id, patient_id).await?;
        type Row = (
            uuid::Uuid,
            uuid::Uuid,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<Row> = care_team_members::table
            .filter(care_team_members::clinic_id.eq(access.clinic_id.0))
            .filter(care_team_members::patient_id.eq(patient_id.0))
            .order((care_team_members::starts_at, care_team_members::id))
            .select((
                care_team_members::id,
                care_team_members::provider_user_id,
                care_team_members::role,
                care_team_members::starts_at,
                care_team_members::ends_at,
            ))
            .load(conn)
            .await?;

        let mut found = Vec::with_capacity(rows.len());
        for (id, provider, role, starts_at, ends_at) in rows {
            found.push(CareTeamMember {
                id,
                patient_id,
                provider: UserId(provider),
                role: Role::parse(&role).ok_or(RecordsError::CorruptValue {
                    table: "care_team_members",
                    column: "role",
                    row_id: id,
                })?,
                starts_at,
                ends_at,
            });
        }

        let elements = vec!["care_team".to_owned()];
        access::record(conn, access, patient_id, AccessAction::Read, elements).await?;
        Ok(found)
    })
    .await
}

/// Whether `provider` is now on the care team of the patient whose portal account is
/// `patient_user`. It reads only membership dates, no clinical content, so it writes no audit
/// event; identity uses it to let a patient's own care team issue her a recovery link.
pub async fn provider_cares_for_account(
    conn: &mut AsyncPgConnection,
    clinic_id: crate::ids::ClinicId,
    patient_user: crate::ids::UserId,
    provider: crate::ids::UserId,
) -> Result<bool, RecordsError> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }

    let found: Found = crate::db::KeptSql::new(
        "SELECT EXISTS ( \
           SELECT 1 FROM care_team_members m \
           JOIN patients p ON p.clinic_id = m.clinic_id AND p.id = m.patient_id \
           WHERE m.clinic_id = $1 AND p.user_id = $2 AND m.provider_user_id = $3 \
             AND p.erased_at IS NULL \
             AND m.starts_at <= now() AND (m.ends_at IS NULL OR m.ends_at > now()) \
         ) AS found",
    )
    .bind::<diesel::sql_types::Uuid, _>(clinic_id.0)
    .bind::<diesel::sql_types::Uuid, _>(patient_user.0)
    .bind::<diesel::sql_types::Uuid, _>(provider.0)
    .get_result(conn)
    .await?;
    Ok(found.found)
}
