//! The patient's own logs: blood pressure and temperature, and her infant's feeds and nappies.

use leptos::prelude::*;

use crate::clinical::feeding::BreastSide;
use crate::clinical::units::{PressureUnit, TemperatureUnit};
use crate::error::AppError;
use crate::ids::InfantId;
use crate::portal::{FeedingLogKind, LogEntry, VitalsOutcome};

/// Entries shown in a recent-entries list.
pub const RECENT_ENTRIES: usize = 20;

/// Lists the signed-in patient's recent blood pressure and temperature readings, newest first.
#[server(prefix = "/api", endpoint = "portal/vitals")]
pub async fn my_vitals() -> Result<Vec<LogEntry>, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::portal::server;
    use crate::records::ObservationKind;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let authorization = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::Maternal,
        Action::Read,
    )
    .await?;

    let kinds = [ObservationKind::BloodPressure, ObservationKind::Temperature];
    logs_server::recent(&mut conn, &services, &authorization, &kinds, None).await
}

/// Records a blood pressure reading of the signed-in patient. An implausible reading, or a
/// diastolic pressure not below the systolic one, is rejected with a message naming the value.
#[server(prefix = "/api", endpoint = "portal/vitals/blood-pressure")]
pub async fn record_blood_pressure(
    systolic: f64,
    diastolic: f64,
    unit: PressureUnit,
) -> Result<VitalsOutcome, AppError> {
    use crate::clinical::vitals::BloodPressureReading;
    use crate::records::ObservationValue;

    let value = ObservationValue::blood_pressure(BloodPressureReading {
        systolic,
        diastolic,
        unit,
    })?;
    logs_server::record_vital(value).await
}

/// Records a body temperature of the signed-in patient, in °C or °F.
#[server(prefix = "/api", endpoint = "portal/vitals/temperature")]
pub async fn record_temperature(
    value: f64,
    unit: TemperatureUnit,
) -> Result<VitalsOutcome, AppError> {
    use crate::clinical::units::Entered;
    use crate::records::ObservationValue;

    let value = ObservationValue::temperature(Entered::new(value, unit))?;
    logs_server::record_vital(value).await
}

/// Lists the recent feeds and nappies of one of the signed-in patient's infants, newest first.
#[server(prefix = "/api", endpoint = "portal/feeding")]
pub async fn infant_feeding_log(infant_id: InfantId) -> Result<Vec<LogEntry>, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::portal::server;
    use crate::records::{ObservationKind, RecordKeys};

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let authorization = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::Infant,
        Action::Read,
    )
    .await?;

    let keys = RecordKeys::from_services(&services);
    let infants = server::infants(&mut conn, keys, &authorization).await?;
    server::find_infant(infants, infant_id)?;
    let kinds = [ObservationKind::Feeding, ObservationKind::Nappy];
    logs_server::recent(
        &mut conn,
        &services,
        &authorization,
        &kinds,
        Some(infant_id),
    )
    .await
}

/// Records a feed or a nappy change of one of the signed-in patient's infants. A breastfeed
/// needs its duration (and takes a side), a bottle its volume, a nappy at least one of wet and
/// dirty.
#[server(prefix = "/api", endpoint = "portal/feeding/add")]
pub async fn log_feeding(
    infant_id: InfantId,
    kind: FeedingLogKind,
    breast_side: Option<BreastSide>,
    duration_minutes: Option<u16>,
    volume_ml: Option<u16>,
    wet: Option<bool>,
    dirty: Option<bool>,
) -> Result<LogEntry, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::identity::support::timestamp;
    use crate::portal::server;
    use crate::records::{self, NewObservation, RecordKeys};

    let (services, actor) = server::begin().await?;
    let entry = logs_server::FeedingEntry {
        kind,
        breast_side,
        duration_minutes,
        volume_ml,
        wet: wet.unwrap_or(false),
        dirty: dirty.unwrap_or(false),
    };
    let value = logs_server::feeding_value(entry)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let authorization = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::Infant,
        Action::Write,
    )
    .await?;

    let new = NewObservation {
        infant_id: Some(infant_id),
        observed_at: chrono::Utc::now(),
        value,
    };
    let keys = RecordKeys::from_services(&services);
    records::add_observation(&mut conn, keys, &authorization, &new).await?;
    Ok(LogEntry {
        observed_at: timestamp(new.observed_at),
        summary: server::describe(&new.value),
    })
}

#[cfg(feature = "ssr")]
mod logs_server {
    use diesel_async::AsyncPgConnection;

    use super::RECENT_ENTRIES;
    use crate::access::{Action, Authorization, DataCategory};
    use crate::clinical::feeding::BreastSide;
    use crate::error::AppError;
    use crate::identity::support::timestamp;
    use crate::ids::InfantId;
    use crate::portal::{FeedingLogKind, LogEntry, VitalsOutcome, server};
    use crate::protocols::{self, Rule};
    use crate::records::{
        self, FeedingMethod, NewObservation, ObservationKind, ObservationValue, RecordKeys,
    };
    use crate::services::Services;

    /// Lists the newest observations of `kinds`, of one infant or of the mother.
    pub async fn recent(
        conn: &mut AsyncPgConnection,
        services: &Services,
        authorization: &Authorization,
        kinds: &[ObservationKind],
        infant: Option<InfantId>,
    ) -> Result<Vec<LogEntry>, AppError> {
        let keys = RecordKeys::from_services(services);
        let observations = records::list_observations(conn, keys, authorization, kinds).await?;
        Ok(observations
            .iter()
            .rev()
            .filter(|observation| observation.infant_id == infant)
            .take(RECENT_ENTRIES)
            .map(|observation| LogEntry {
                observed_at: timestamp(observation.observed_at),
                summary: server::describe(&observation.value),
            })
            .collect())
    }

    /// Stores a vital sign of the signed-in patient and reports which protocols fired.
    pub async fn record_vital(value: ObservationValue) -> Result<VitalsOutcome, AppError> {
        let (services, actor) = server::begin().await?;
        let mut conn = crate::db::connection(&services.pool).await?;
        let patient = server::own_patient(&mut conn, &actor).await?;
        let authorization = server::authorize_own(
            &mut conn,
            &actor,
            patient,
            DataCategory::Maternal,
            Action::Write,
        )
        .await?;

        let summary = server::describe(&value);
        let new = NewObservation {
            infant_id: None,
            observed_at: chrono::Utc::now(),
            value,
        };
        let keys = RecordKeys::from_services(&services);
        let id = records::add_observation(&mut conn, keys, &authorization, &new).await?;
        let firings = protocols::firings_of_observation(&mut conn, actor.clinic, id)
            .await
            .map_err(|error| {
                tracing::error!(%error, "reading the reading's protocol firings failed");
                AppError::internal()
            })?;
        Ok(VitalsOutcome {
            summary,
            follow_up: !firings.is_empty(),
            urgent: firings
                .iter()
                .any(|firing| firing.rule == Rule::SevereBloodPressure),
        })
    }

    /// A feeding-log entry as the form sends it.
    pub struct FeedingEntry {
        pub kind: FeedingLogKind,
        pub breast_side: Option<BreastSide>,
        pub duration_minutes: Option<u16>,
        pub volume_ml: Option<u16>,
        pub wet: bool,
        pub dirty: bool,
    }

    /// Checks that the entry has the fields its kind needs, and none of another kind's.
    pub fn feeding_value(entry: FeedingEntry) -> Result<ObservationValue, AppError> {
        let invalid = |message: &str| Err(AppError::invalid_input(message));
        let positive = |value: Option<u16>| value.filter(|value| *value > 0);
        let value = match entry.kind {
            FeedingLogKind::Breastfeed => {
                if entry.volume_ml.is_some() {
                    return invalid("A breastfeed has a duration, not a volume.");
                }
                let Some(minutes) = positive(entry.duration_minutes) else {
                    return invalid("Enter how many minutes the breastfeed lasted.");
                };
                ObservationValue::Feeding {
                    method: FeedingMethod::Breast,
                    breast_side: entry.breast_side,
                    duration_minutes: Some(minutes),
                    volume_ml: None,
                }
            }
            FeedingLogKind::ExpressedMilkBottle | FeedingLogKind::FormulaBottle => {
                if entry.breast_side.is_some() {
                    return invalid("A bottle feed has no breast side.");
                }
                let Some(ml) = positive(entry.volume_ml) else {
                    return invalid("Enter how many ml the baby drank from the bottle.");
                };
                let method = if entry.kind == FeedingLogKind::FormulaBottle {
                    FeedingMethod::Formula
                } else {
                    FeedingMethod::ExpressedBreastMilk
                };
                ObservationValue::Feeding {
                    method,
                    breast_side: None,
                    duration_minutes: entry.duration_minutes,
                    volume_ml: Some(ml),
                }
            }
            FeedingLogKind::Nappy => {
                if !entry.wet && !entry.dirty {
                    return invalid("Choose wet, dirty or both for the nappy.");
                }
                ObservationValue::Nappy {
                    wet: entry.wet,
                    dirty: entry.dirty,
                }
            }
        };
        Ok(value.normalized()?)
    }
}
