//! Screening assignments: a questionnaire that the patient's care team asks her to complete.
//! Each change is recorded in the audit trail in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::access::guard::{self, Authorization};
use crate::access::{Action, DataCategory};
use crate::clinical::screening::Instrument;
use crate::error::AppError;

mod schema {
    diesel::table! {
        screening_assignments (clinic_id, id) {
            id -> Uuid,
            clinic_id -> Uuid,
            patient_id -> Uuid,
            instrument -> Text,
            assigned_by -> Uuid,
            assigned_at -> Timestamptz,
            completed_at -> Nullable<Timestamptz>,
            observation_id -> Nullable<Uuid>,
        }
    }
}

use schema::screening_assignments as assignments;

/// An open assignment: the questionnaire, who asked for it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAssignment {
    pub id: Uuid,
    pub instrument: Instrument,
    pub assigned_by: crate::ids::UserId,
    pub assigned_at: DateTime<Utc>,
}

/// Returns the stored name of an instrument.
fn instrument_name(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::Epds => "epds",
        Instrument::Phq9 => "phq9",
        Instrument::Gad7 => "gad7",
    }
}

fn parse_instrument(name: &str) -> Option<Instrument> {
    Instrument::ALL
        .into_iter()
        .find(|instrument| instrument_name(*instrument) == name)
}

/// Fails unless the authorization covers `action` on the patient's mental health data.
fn check_scope(authorization: &Authorization, action: Action) -> Result<(), AppError> {
    if authorization.category() == DataCategory::MentalHealth && authorization.action() == action {
        Ok(())
    } else {
        tracing::error!("screening assignment used with an authorization for something else");
        Err(AppError::not_found())
    }
}

/// Assigns `instrument` to the authorized patient. An open assignment of the same instrument
/// stays as it is and its id is returned, so that assigning twice asks her once.
pub async fn assign(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
    clinic: crate::ids::ClinicId,
    actor: crate::ids::UserId,
    instrument: Instrument,
) -> Result<Uuid, AppError> {
    check_scope(authorization, Action::Write)?;
    let patient = authorization.patient();

    conn.transaction::<_, AppError, _>(async move |conn| {
        let open: Option<Uuid> = assignments::table
            .filter(assignments::clinic_id.eq(clinic.0))
            .filter(assignments::patient_id.eq(patient.0))
            .filter(assignments::instrument.eq(instrument_name(instrument)))
            .filter(assignments::completed_at.is_null())
            .select(assignments::id)
            .first(conn)
            .await
            .optional()?;
        let id = match open {
            Some(id) => id,
            None => {
                let id = Uuid::new_v4();
                diesel::insert_into(assignments::table)
                    .values((
                        assignments::id.eq(id),
                        assignments::clinic_id.eq(clinic.0),
                        assignments::patient_id.eq(patient.0),
                        assignments::instrument.eq(instrument_name(instrument)),
                        assignments::assigned_by.eq(actor.0),
                        assignments::assigned_at.eq(Utc::now()),
                    ))
                    .execute(conn)
                    .await?;
                id
            }
        };
        let elements = vec![format!(
            "screening_assignment.{}",
            instrument_name(instrument)
        )];
        guard::record_allowed(conn, authorization, elements).await?;
        Ok(id)
    })
    .await
}

/// Lists the authorized patient's open assignments, oldest first, and records the read.
pub async fn list_open(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
    clinic: crate::ids::ClinicId,
) -> Result<Vec<OpenAssignment>, AppError> {
    check_scope(authorization, Action::Read)?;
    let patient = authorization.patient();

    conn.transaction::<_, AppError, _>(async move |conn| {
        let rows: Vec<(Uuid, String, Uuid, DateTime<Utc>)> = assignments::table
            .filter(assignments::clinic_id.eq(clinic.0))
            .filter(assignments::patient_id.eq(patient.0))
            .filter(assignments::completed_at.is_null())
            .order((assignments::assigned_at, assignments::id))
            .select((
                assignments::id,
                assignments::instrument,
                assignments::assigned_by,
                assignments::assigned_at,
            ))
            .load(conn)
            .await?;
        let mut open = Vec::with_capacity(rows.len());
        for (id, instrument, assigned_by, assigned_at) in rows {
            let instrument = parse_instrument(&instrument).ok_or_else(|| {
                tracing::error!(%id, "screening assignment names an unknown instrument");
                AppError::internal()
            })?;
            open.push(OpenAssignment {
                id,
                instrument,
                assigned_by: crate::ids::UserId(assigned_by),
                assigned_at,
            });
        }
        guard::record_allowed(conn, authorization, vec!["screening_assignment".to_owned()]).await?;
        Ok(open)
    })
    .await
}

/// Marks the authorized patient's open assignment of `instrument`, if any, as completed by
/// observation `observation_id`. Call it in the transaction that stores the observation.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
    clinic: crate::ids::ClinicId,
    instrument: Instrument,
    observation_id: Uuid,
) -> Result<bool, AppError> {
    check_scope(authorization, Action::Write)?;
    let completed = diesel::update(
        assignments::table
            .filter(assignments::clinic_id.eq(clinic.0))
            .filter(assignments::patient_id.eq(authorization.patient().0))
            .filter(assignments::instrument.eq(instrument_name(instrument)))
            .filter(assignments::completed_at.is_null()),
    )
    .set((
        assignments::completed_at.eq(Some(Utc::now())),
        assignments::observation_id.eq(Some(observation_id)),
    ))
    .execute(conn)
    .await?;
    Ok(completed > 0)
}
