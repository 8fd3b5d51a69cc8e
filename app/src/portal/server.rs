//! Server-side steps shared by the portal's server functions: the signed-in patient's own
//! record, her infants, and the wording of stored values.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;

use crate::access::{Action, Actor, Authorization, DataCategory, authorize};
use crate::chart::PORTAL_PURPOSE;
use crate::error::AppError;
use crate::identity::server::{accounts, auth};
use crate::ids::{InfantId, PatientId, UserId};
use crate::portal::InfantSummary;
use crate::records::{self, AppointmentKind, FeedingMethod, Infant, ObservationValue, RecordKeys};
use crate::services::Services;

/// Returns the services and the signed-in actor of the request, or 401.
pub async fn begin() -> Result<(Arc<Services>, Actor), AppError> {
    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    Ok((services, Actor::from_signed_in(&user)))
}

/// Returns the record linked to the signed-in account. An account without a record gets the
/// same answer as a record it may not use.
pub async fn own_patient(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
) -> Result<PatientId, AppError> {
    records::patient_of_account(conn, actor.clinic, actor.user)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Authorizes `action` on `category` of the patient's own record, for the portal's purpose.
pub async fn authorize_own(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    category: DataCategory,
    action: Action,
) -> Result<Authorization, AppError> {
    authorize(conn, actor, patient, category, action, PORTAL_PURPOSE).await
}

/// Returns the patient's infants, each with its age today.
pub async fn infants(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    authorization: &Authorization,
) -> Result<Vec<Infant>, AppError> {
    Ok(records::list_infants(conn, keys, authorization).await?)
}

/// Finds one of the patient's infants; another patient's infant looks like a missing one.
pub fn find_infant(infants: Vec<Infant>, infant_id: InfantId) -> Result<Infant, AppError> {
    infants
        .into_iter()
        .find(|infant| infant.id == infant_id)
        .ok_or_else(AppError::not_found)
}

/// Completed days from birth to `today`, zero for a birth date in the future.
pub fn age_days(birth_date: NaiveDate, today: NaiveDate) -> u32 {
    u32::try_from((today - birth_date).num_days()).unwrap_or(0)
}

pub fn infant_summary(infant: &Infant) -> InfantSummary {
    InfantSummary {
        id: infant.id,
        name: infant.name.clone(),
        birth_date: infant.birth_date.to_string(),
        age_days: age_days(infant.birth_date, Utc::now().date_naive()),
    }
}

/// Display names of staff members, decrypted once each.
pub struct StaffNames<'a> {
    services: &'a Services,
    known: HashMap<UserId, String>,
}

impl<'a> StaffNames<'a> {
    pub fn new(services: &'a Services) -> Self {
        Self {
            services,
            known: HashMap::new(),
        }
    }

    /// Loads the names of `users` that are not known yet, in one query.
    pub async fn load(
        &mut self,
        conn: &mut AsyncPgConnection,
        users: impl IntoIterator<Item = UserId>,
    ) -> Result<(), AppError> {
        let mut missing: Vec<UserId> = Vec::new();
        for user in users {
            if !self.known.contains_key(&user) && !missing.contains(&user) {
                missing.push(user);
            }
        }
        let found =
            accounts::load_display_names(conn, self.services.keys.as_ref(), &missing).await?;
        self.known.extend(found);
        Ok(())
    }

    pub async fn of(
        &mut self,
        conn: &mut AsyncPgConnection,
        user: UserId,
    ) -> Result<String, AppError> {
        if let Some(name) = self.known.get(&user) {
            return Ok(name.clone());
        }
        let profile = accounts::load_profile(conn, self.services.keys.as_ref(), user).await?;
        self.known.insert(user, profile.display_name.clone());
        Ok(profile.display_name)
    }
}

/// Describes what an appointment is for.
pub fn appointment_purpose(kind: AppointmentKind) -> &'static str {
    match kind {
        AppointmentKind::PostnatalVisit => "Postnatal visit",
        AppointmentKind::GpReview => "GP review",
        AppointmentKind::LactationConsultation => "Feeding support",
        AppointmentKind::MentalHealthSession => "Wellbeing session",
        AppointmentKind::InfantCheck => "Baby check",
        AppointmentKind::CareCoordination => "Care planning",
    }
}

/// Formats a number with at most one decimal, without a trailing ".0".
pub fn decimal(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// Describes a feeding, nappy or vital-sign observation in words.
pub fn describe(value: &ObservationValue) -> String {
    match value {
        ObservationValue::Feeding {
            method,
            breast_side,
            duration_minutes,
            volume_ml,
        } => {
            let mut text = match method {
                FeedingMethod::Breast => "Breastfeed".to_owned(),
                FeedingMethod::ExpressedBreastMilk => "Bottle of expressed breast milk".to_owned(),
                FeedingMethod::Formula => "Bottle of formula".to_owned(),
            };
            if let Some(side) = breast_side {
                text.push_str(&format!(", {}", side.label().to_lowercase()));
            }
            if let Some(minutes) = duration_minutes {
                text.push_str(&format!(", {minutes} min"));
            }
            if let Some(ml) = volume_ml {
                text.push_str(&format!(", {ml} ml"));
            }
            text
        }
        ObservationValue::Nappy { wet, dirty } => match (wet, dirty) {
            (true, true) => "Nappy: wet and dirty".to_owned(),
            (true, false) => "Nappy: wet".to_owned(),
            (false, true) => "Nappy: dirty".to_owned(),
            (false, false) => "Nappy: dry".to_owned(),
        },
        ObservationValue::BloodPressure {
            systolic_mmhg,
            diastolic_mmhg,
            ..
        } => format!(
            "Blood pressure {}/{} mmHg",
            decimal(*systolic_mmhg),
            decimal(*diastolic_mmhg)
        ),
        ObservationValue::Temperature { celsius, .. } => {
            format!("Temperature {} °C", decimal(*celsius))
        }
        other => other.kind().as_str().replace('_', " "),
    }
}
