//! Server functions that read the patient's measurements in readable form: maternal vital
//! signs marked against the clinic's thresholds, scored screening questionnaires, and her
//! infants' growth and feeding.

use leptos::prelude::*;

use crate::chart::{InfantChartView, ScreeningScore, VitalReading};
use crate::clinical::units::{PressureUnit, TemperatureUnit};
use crate::error::AppError;
use crate::ids::PatientId;

/// Lists a patient's blood pressure and temperature readings, newest first, each marked
/// against the thresholds in force in her clinic.
#[server(prefix = "/api", endpoint = "chart/vitals")]
pub async fn list_chart_vitals(
    patient_id: PatientId,
    purpose: String,
) -> Result<Vec<VitalReading>, AppError> {
    use crate::access::{Action, DataCategory, authorize};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::Maternal,
        Action::Read,
        &purpose,
    )
    .await?;

    let settings = super::readings_server::thresholds(&mut conn, actor.clinic).await?;
    super::readings_server::vitals(&mut conn, &services, &settings, &authorization).await
}

/// Records a blood pressure reading of the patient, taken now, and returns it marked against
/// the clinic's thresholds. An implausible reading, or a diastolic pressure not below the
/// systolic one, is rejected with 400 and nothing is stored. The care protocols run on it.
#[server(prefix = "/api", endpoint = "chart/vitals/blood-pressure")]
pub async fn record_chart_blood_pressure(
    patient_id: PatientId,
    systolic: f64,
    diastolic: f64,
    unit: PressureUnit,
    purpose: String,
) -> Result<VitalReading, AppError> {
    use crate::access::{Action, DataCategory, authorize};
    use crate::clinical::vitals::BloodPressureReading;
    use crate::records::ObservationValue;

    let (services, actor) = super::server::begin().await?;
    let reading = BloodPressureReading {
        systolic,
        diastolic,
        unit,
    };
    let value = ObservationValue::blood_pressure(reading)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::Maternal,
        Action::Write,
        &purpose,
    )
    .await?;

    super::readings_server::record_vital(&mut conn, &services, actor.clinic, &authorization, value)
        .await
}

/// Records a body temperature of the patient, in °C or °F, taken now, and returns it marked
/// against the clinic's fever threshold. An implausible value is rejected with 400.
#[server(prefix = "/api", endpoint = "chart/vitals/temperature")]
pub async fn record_chart_temperature(
    patient_id: PatientId,
    value: f64,
    unit: TemperatureUnit,
    purpose: String,
) -> Result<VitalReading, AppError> {
    use crate::access::{Action, DataCategory, authorize};
    use crate::clinical::units::Entered;
    use crate::records::ObservationValue;

    let (services, actor) = super::server::begin().await?;
    let value = ObservationValue::temperature(Entered::new(value, unit))?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::Maternal,
        Action::Write,
        &purpose,
    )
    .await?;

    super::readings_server::record_vital(&mut conn, &services, actor.clinic, &authorization, value)
        .await
}

/// Lists a patient's scored EPDS, PHQ-9 and GAD-7 questionnaires, oldest first, with the band
/// of each total and the follow-up that an answer requires.
#[server(prefix = "/api", endpoint = "chart/screenings")]
pub async fn list_chart_screenings(
    patient_id: PatientId,
    purpose: String,
) -> Result<Vec<ScreeningScore>, AppError> {
    use crate::access::{Action, DataCategory, authorize};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::MentalHealth,
        Action::Read,
        &purpose,
    )
    .await?;

    let settings = super::readings_server::thresholds(&mut conn, actor.clinic).await?;
    super::readings_server::screenings(&mut conn, &services, &settings, &authorization).await
}

/// Lists a patient's infants, each with her growth against the WHO standard and a summary of
/// the last 24 hours of feeds and nappies.
#[server(prefix = "/api", endpoint = "chart/infants")]
pub async fn list_chart_infants(
    patient_id: PatientId,
    purpose: String,
) -> Result<Vec<InfantChartView>, AppError> {
    use crate::access::{Action, DataCategory, authorize};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::Infant,
        Action::Read,
        &purpose,
    )
    .await?;

    super::readings_server::infants(&mut conn, &services, &authorization).await
}
