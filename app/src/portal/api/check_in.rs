//! Mood check-ins: the questionnaires assigned to the patient, their assignment by her care
//! team, and the submission of a completed questionnaire.

use leptos::prelude::*;

use crate::clinical::screening::Instrument;
use crate::error::AppError;
use crate::ids::PatientId;
use crate::portal::{AssignedScreening, CheckInOutcome};

/// Lists the questionnaires that the signed-in patient's care team asked her to complete.
#[server(prefix = "/api", endpoint = "portal/screenings")]
pub async fn my_assigned_screenings() -> Result<Vec<AssignedScreening>, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::identity::support::timestamp;
    use crate::portal::{assignments, server};

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let authorization = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::MentalHealth,
        Action::Read,
    )
    .await?;

    let open = assignments::list_open(&mut conn, &authorization, actor.clinic).await?;
    let mut names = server::StaffNames::new(&services);
    let mut assigned = Vec::with_capacity(open.len());
    for assignment in open {
        assigned.push(AssignedScreening {
            instrument: assignment.instrument,
            assigned_by: names.of(&mut conn, assignment.assigned_by).await?,
            assigned_at: timestamp(assignment.assigned_at),
        });
    }
    Ok(assigned)
}

/// Asks a patient to complete `instrument` in the portal. The access policy decides who may:
/// care-team members whose role writes mental health data and a clinician under break-glass
/// access. A patient may not assign herself a questionnaire: her care team decides which ones
/// she is asked, so the request is rejected with 403 and the refusal is audited. Assigning an
/// instrument that is already open keeps the open assignment. Returns the assignment's id.
#[server(prefix = "/api", endpoint = "screenings/assign")]
pub async fn assign_screening(
    patient_id: PatientId,
    instrument: Instrument,
    purpose: String,
) -> Result<String, AppError> {
    use crate::access::policy::Basis;
    use crate::access::{Action, DataCategory, authorize, guard};
    use crate::error::ErrorCode;
    use crate::portal::{assignments, server};

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let category = DataCategory::MentalHealth;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Write,
        &purpose,
    )
    .await?;
    if authorization.basis() == Basis::OwnRecord {
        let refused = guard::deny(
            &mut conn,
            &actor,
            Some(patient_id),
            category,
            Action::Write,
            &purpose,
        )
        .await;
        if refused.code != ErrorCode::NotFound {
            return Err(refused);
        }
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Questionnaires are assigned by your care team. Ask them if you would like one.",
        ));
    }

    let id = assignments::assign(
        &mut conn,
        &authorization,
        actor.clinic,
        actor.user,
        instrument,
    )
    .await?;
    Ok(id.to_string())
}

/// Scores and stores a completed questionnaire of the signed-in patient. `answers` is a JSON
/// array with the 0-based position of the chosen answer of each item, as printed, and `null`
/// for an unanswered item; a form with any unanswered item is rejected and nothing is stored.
/// The care protocols run on the stored screen, and an open assignment of the instrument is
/// completed with it.
#[server(prefix = "/api", endpoint = "portal/check-in")]
pub async fn submit_check_in(
    instrument: Instrument,
    answers: String,
) -> Result<CheckInOutcome, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::portal::server;

    let (services, actor) = server::begin().await?;
    let answers = check_in_server::complete_answers(instrument, &answers)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let authorization = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::MentalHealth,
        Action::Write,
    )
    .await?;

    check_in_server::store(
        &mut conn,
        &services,
        &authorization,
        actor.clinic,
        instrument,
        answers,
    )
    .await
}

#[cfg(feature = "ssr")]
mod check_in_server {
    use diesel_async::{AsyncConnection, AsyncPgConnection};

    use crate::access::Authorization;
    use crate::clinical::screening::{
        EpdsThresholds, Instrument, ScreeningFlag, score_epds, score_gad7, score_phq9,
    };
    use crate::error::AppError;
    use crate::ids::ClinicId;
    use crate::portal::{CheckInOutcome, assignments};
    use crate::protocols;
    use crate::records::{self, NewObservation, ObservationValue, RecordKeys};
    use crate::services::Services;

    /// Parses the answers and rejects a form of the wrong length, with an answer out of range
    /// or with an unanswered item.
    pub fn complete_answers(instrument: Instrument, text: &str) -> Result<Vec<u8>, AppError> {
        let answers: Vec<Option<u8>> = serde_json::from_str(text).map_err(|_| {
            AppError::invalid_input(
                "The answers could not be read. Send one entry per question, null when unanswered.",
            )
        })?;
        // Scoring checks the number of items and the range of every answer.
        score(instrument, &answers)?;
        let unanswered: Vec<String> = answers
            .iter()
            .enumerate()
            .filter(|(_, answer)| answer.is_none())
            .map(|(index, _)| (index + 1).to_string())
            .collect();
        if !unanswered.is_empty() {
            return Err(AppError::invalid_input(format!(
                "Answer every question before you submit. Unanswered: question {}. \
                 An unfinished questionnaire has no score, so nothing was saved.",
                unanswered.join(", ")
            )));
        }
        Ok(answers.into_iter().flatten().collect())
    }

    /// Returns the total and whether an answer shows thoughts of self-harm.
    fn score(instrument: Instrument, answers: &[Option<u8>]) -> Result<(u8, bool), AppError> {
        let invalid = |error: crate::clinical::screening::ScreeningError| {
            AppError::invalid_input(error.to_string())
        };
        let (total, flags) = match instrument {
            Instrument::Epds => {
                let scored = score_epds(answers, EpdsThresholds::default()).map_err(invalid)?;
                (scored.result.total, scored.result.flags)
            }
            Instrument::Phq9 => {
                let scored = score_phq9(answers).map_err(invalid)?;
                (scored.total, scored.flags)
            }
            Instrument::Gad7 => {
                let scored = score_gad7(answers).map_err(invalid)?;
                (scored.total, scored.flags)
            }
        };
        let crisis = flags.iter().any(|flag| {
            matches!(
                flag,
                ScreeningFlag::UrgentSelfHarm | ScreeningFlag::SameDaySafetyFollowUp
            )
        });
        Ok((total.unwrap_or(0), crisis))
    }

    /// Stores the screen, completes its assignment and reads back which protocols fired, in
    /// one transaction.
    pub async fn store(
        conn: &mut AsyncPgConnection,
        services: &Services,
        authorization: &Authorization,
        clinic: ClinicId,
        instrument: Instrument,
        answers: Vec<u8>,
    ) -> Result<CheckInOutcome, AppError> {
        let positions: Vec<Option<u8>> = answers.into_iter().map(Some).collect();
        let (total, crisis) = score(instrument, &positions)?;
        let value = match instrument {
            Instrument::Epds => ObservationValue::epds(positions),
            Instrument::Phq9 => ObservationValue::phq9(positions),
            Instrument::Gad7 => ObservationValue::gad7(positions),
        }?;
        let new = NewObservation {
            infant_id: None,
            observed_at: chrono::Utc::now(),
            value,
        };
        let keys = RecordKeys::from_services(services);

        let fired = conn
            .transaction::<_, AppError, _>(async move |conn| {
                let id = records::add_observation(conn, keys, authorization, &new).await?;
                assignments::complete(conn, authorization, clinic, instrument, id).await?;
                let firings = protocols::firings_of_observation(conn, clinic, id)
                    .await
                    .map_err(|error| {
                        tracing::error!(%error, "reading the screen's protocol firings failed");
                        AppError::internal()
                    })?;
                Ok(!firings.is_empty())
            })
            .await?;
        let max_total = 3 * instrument.definition().items.len() as u8;
        Ok(CheckInOutcome {
            instrument,
            total,
            max_total,
            crisis,
            follow_up: fired,
        })
    }
}
