//! Server-side steps of the reading functions: classification of vital signs and scoring of
//! questionnaires with the clinic's thresholds in force, and the infants' growth and feeding.

use chrono::{Duration, Utc};
use diesel_async::AsyncPgConnection;

use crate::access::Authorization;
use crate::chart::{FeedingSummary, InfantChartView, ScreeningScore, VitalFlag, VitalReading};
use crate::clinical::screening::{
    EpdsBand, Gad7Band, Instrument, Phq9Band, ScreeningFlag, score_epds, score_gad7, score_phq9,
};
use crate::clinical::units::{Entered, PressureUnit, TemperatureUnit};
use crate::clinical::vitals::{
    BloodPressureCategory, BloodPressureReading, assess_blood_pressure, assess_temperature,
};
use crate::error::AppError;
use crate::identity::support::timestamp;
use crate::ids::ClinicId;
use crate::portal::server::{decimal, describe};
use crate::portal::{GROWTH_KINDS, growth_view};
use crate::protocols::{self, ProtocolSettings};
use crate::records::{
    self, FeedingMethod, Infant, NewObservation, Observation, ObservationKind, ObservationValue,
    RecordKeys,
};
use crate::services::Services;

/// Returns the clinic's care-protocol thresholds in force.
pub async fn thresholds(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
) -> Result<ProtocolSettings, AppError> {
    protocols::current_settings(conn, clinic)
        .await
        .map(|versioned| versioned.settings)
        .map_err(|error| {
            tracing::error!(%error, "reading the clinic's protocol settings failed");
            AppError::internal()
        })
}

fn invalid_stored(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "a stored observation failed its own validation");
    AppError::internal()
}

/// Observation kinds of the vital-signs section.
pub const VITAL_KINDS: [ObservationKind; 2] =
    [ObservationKind::BloodPressure, ObservationKind::Temperature];

/// Observation kinds of the screenings section.
pub const SCREENING_KINDS: [ObservationKind; 3] = [
    ObservationKind::Epds,
    ObservationKind::Phq9,
    ObservationKind::Gad7,
];

/// Observation kinds of the infants section: growth, feeds and nappies.
pub const INFANT_KINDS: [ObservationKind; 5] = [
    GROWTH_KINDS[0],
    GROWTH_KINDS[1],
    GROWTH_KINDS[2],
    ObservationKind::Feeding,
    ObservationKind::Nappy,
];

/// Returns the maternal blood pressure and temperature readings, newest first.
pub async fn vitals(
    conn: &mut AsyncPgConnection,
    services: &Services,
    settings: &ProtocolSettings,
    authorization: &Authorization,
) -> Result<Vec<VitalReading>, AppError> {
    let keys = RecordKeys::from_services(services);
    let observations = records::list_observations(conn, keys, authorization, &VITAL_KINDS).await?;
    vital_readings(observations, settings)
}

/// Marks vital-sign observations, oldest first, against the clinic's thresholds and returns
/// them newest first.
pub fn vital_readings(
    observations: Vec<Observation>,
    settings: &ProtocolSettings,
) -> Result<Vec<VitalReading>, AppError> {
    let mut readings = Vec::with_capacity(observations.len());
    for observation in observations.into_iter().rev() {
        let (flag, entered) = match &observation.value {
            ObservationValue::BloodPressure { reading, .. } => {
                blood_pressure_flag(*reading, settings)?
            }
            ObservationValue::Temperature { entered, .. } => temperature_flag(*entered, settings)?,
            _ => continue,
        };
        readings.push(VitalReading {
            id: observation.id.to_string(),
            observed_at: timestamp(observation.observed_at),
            reading: describe(&observation.value),
            entered,
            flag,
        });
    }
    Ok(readings)
}

/// Stores a maternal vital sign taken now and returns it marked against the clinic's
/// thresholds.
pub async fn record_vital(
    conn: &mut AsyncPgConnection,
    services: &Services,
    clinic: ClinicId,
    authorization: &Authorization,
    value: ObservationValue,
) -> Result<VitalReading, AppError> {
    let settings = thresholds(conn, clinic).await?;
    let (flag, entered) = match &value {
        ObservationValue::BloodPressure { reading, .. } => {
            blood_pressure_flag(*reading, &settings)?
        }
        ObservationValue::Temperature { entered, .. } => temperature_flag(*entered, &settings)?,
        _ => {
            return Err(AppError::invalid_input(
                "Record a blood pressure or a temperature.",
            ));
        }
    };
    let new = NewObservation {
        infant_id: None,
        observed_at: Utc::now(),
        value,
    };
    let keys = RecordKeys::from_services(services);
    let id = records::add_observation(conn, keys, authorization, &new).await?;
    Ok(VitalReading {
        id: id.to_string(),
        observed_at: timestamp(new.observed_at),
        reading: describe(&new.value),
        entered,
        flag,
    })
}

/// Classifies a blood pressure reading. Returns the flag, and the reading as entered when it
/// was entered in kPa.
fn blood_pressure_flag(
    reading: BloodPressureReading,
    settings: &ProtocolSettings,
) -> Result<(VitalFlag, Option<String>), AppError> {
    let assessed =
        assess_blood_pressure(reading, &settings.vitals.blood_pressure).map_err(invalid_stored)?;
    let flag = match assessed.category {
        BloodPressureCategory::Normal => VitalFlag::Normal,
        BloodPressureCategory::Raised => VitalFlag::Raised,
        BloodPressureCategory::SevereRange => VitalFlag::SevereRange,
    };
    let entered = (reading.unit == PressureUnit::Kilopascals).then(|| {
        format!(
            "entered as {}/{} kPa",
            decimal(reading.systolic),
            decimal(reading.diastolic)
        )
    });
    Ok((flag, entered))
}

/// Classifies a temperature. Returns the flag, and the value as entered when it was in °F.
fn temperature_flag(
    entered: Entered<TemperatureUnit>,
    settings: &ProtocolSettings,
) -> Result<(VitalFlag, Option<String>), AppError> {
    let assessed =
        assess_temperature(entered, &settings.vitals.temperature).map_err(invalid_stored)?;
    let flag = if assessed.assess_for_infection {
        VitalFlag::Fever
    } else {
        VitalFlag::Normal
    };
    let as_entered = (entered.unit == TemperatureUnit::Fahrenheit)
        .then(|| format!("entered as {} °F", decimal(entered.value)));
    Ok((flag, as_entered))
}

/// Returns the scored questionnaires, oldest first.
pub async fn screenings(
    conn: &mut AsyncPgConnection,
    services: &Services,
    settings: &ProtocolSettings,
    authorization: &Authorization,
) -> Result<Vec<ScreeningScore>, AppError> {
    let keys = RecordKeys::from_services(services);
    let observations =
        records::list_observations(conn, keys, authorization, &SCREENING_KINDS).await?;
    screening_scores(&observations, settings)
}

/// Scores questionnaire observations with the clinic's thresholds, in their order.
pub fn screening_scores(
    observations: &[Observation],
    settings: &ProtocolSettings,
) -> Result<Vec<ScreeningScore>, AppError> {
    let mut scores = Vec::with_capacity(observations.len());
    for observation in observations {
        if let Some(score) = score(observation, settings)? {
            scores.push(score);
        }
    }
    Ok(scores)
}

/// Scores one stored questionnaire with the clinic's EPDS thresholds in force.
fn score(
    observation: &Observation,
    settings: &ProtocolSettings,
) -> Result<Option<ScreeningScore>, AppError> {
    let (instrument, total, band, flags) = match &observation.value {
        ObservationValue::Epds { answers, .. } => {
            let scored = score_epds(answers, settings.epds)
                .map_err(invalid_stored)?
                .result;
            let band = scored.band.map(epds_band);
            (Instrument::Epds, scored.total, band, scored.flags)
        }
        ObservationValue::Phq9 { answers, .. } => {
            let scored = score_phq9(answers).map_err(invalid_stored)?;
            let band = scored.band.map(phq9_band);
            (Instrument::Phq9, scored.total, band, scored.flags)
        }
        ObservationValue::Gad7 { answers, .. } => {
            let scored = score_gad7(answers).map_err(invalid_stored)?;
            let band = scored.band.map(gad7_band);
            (Instrument::Gad7, scored.total, band, scored.flags)
        }
        _ => return Ok(None),
    };
    Ok(Some(ScreeningScore {
        id: observation.id.to_string(),
        instrument,
        observed_at: timestamp(observation.observed_at),
        total,
        max_total: 3 * instrument.definition().items.len() as u8,
        band: band.map(str::to_owned),
        flags: flags
            .into_iter()
            .map(flag_label)
            .map(str::to_owned)
            .collect(),
    }))
}

fn epds_band(band: EpdsBand) -> &'static str {
    match band {
        EpdsBand::BelowThreshold => "Below threshold",
        EpdsBand::PossibleDepression => "Possible depression",
        EpdsBand::ProbableDepression => "Probable depression",
    }
}

fn phq9_band(band: Phq9Band) -> &'static str {
    match band {
        Phq9Band::Minimal => "Minimal",
        Phq9Band::Mild => "Mild",
        Phq9Band::Moderate => "Moderate",
        Phq9Band::ModeratelySevere => "Moderately severe",
        Phq9Band::Severe => "Severe",
    }
}

fn gad7_band(band: Gad7Band) -> &'static str {
    match band {
        Gad7Band::Minimal => "Minimal",
        Gad7Band::Mild => "Mild",
        Gad7Band::Moderate => "Moderate",
        Gad7Band::Severe => "Severe",
    }
}

fn flag_label(flag: ScreeningFlag) -> &'static str {
    match flag {
        ScreeningFlag::UrgentSelfHarm => {
            "Urgent follow-up: an answer indicates thoughts of self-harm"
        }
        ScreeningFlag::SameDaySafetyFollowUp => {
            "Same-day safety follow-up: item 9 answered above 0"
        }
        ScreeningFlag::FurtherEvaluation => "Further evaluation: total of 10 or more",
    }
}

/// Returns the infants with their growth and the last 24 hours of feeds and nappies.
pub async fn infants(
    conn: &mut AsyncPgConnection,
    services: &Services,
    authorization: &Authorization,
) -> Result<Vec<InfantChartView>, AppError> {
    let keys = RecordKeys::from_services(services);
    let observations = records::list_observations(conn, keys, authorization, &INFANT_KINDS).await?;
    infants_with(conn, services, authorization, &observations).await
}

/// Returns the infants with their growth and feeding, built from `observations`: the infants'
/// observations of [`INFANT_KINDS`], oldest first.
pub async fn infants_with(
    conn: &mut AsyncPgConnection,
    services: &Services,
    authorization: &Authorization,
    observations: &[Observation],
) -> Result<Vec<InfantChartView>, AppError> {
    let keys = RecordKeys::from_services(services);
    let infants: Vec<Infant> = records::list_infants(conn, keys, authorization).await?;
    Ok(infants
        .iter()
        .map(|infant| {
            let growth = growth_view(infant, observations);
            InfantChartView {
                infant: growth.infant,
                latest: growth.latest,
                charts: growth.charts,
                feeding: feeding_summary(infant, observations),
            }
        })
        .collect())
}

/// Counts one infant's feeds and nappies of the last 24 hours and describes her last feed.
fn feeding_summary(infant: &Infant, observations: &[Observation]) -> FeedingSummary {
    let since = Utc::now() - Duration::hours(24);
    let mut summary = FeedingSummary {
        feeds: 0,
        breastfeeds: 0,
        bottle_feeds: 0,
        wet_nappies: 0,
        dirty_nappies: 0,
        last_feed: None,
        last_feed_at: None,
    };
    let own = observations
        .iter()
        .filter(|observation| observation.infant_id == Some(infant.id));
    for observation in own {
        let recent = observation.observed_at >= since;
        match &observation.value {
            ObservationValue::Feeding { method, .. } => {
                // Observations come oldest first, so the last one seen is the latest feed.
                summary.last_feed = Some(describe(&observation.value));
                summary.last_feed_at = Some(timestamp(observation.observed_at));
                if recent {
                    summary.feeds += 1;
                    if *method == FeedingMethod::Breast {
                        summary.breastfeeds += 1;
                    } else {
                        summary.bottle_feeds += 1;
                    }
                }
            }
            ObservationValue::Nappy { wet, dirty } if recent => {
                summary.wet_nappies += u32::from(*wet);
                summary.dirty_nappies += u32::from(*dirty);
            }
            _ => {}
        }
    }
    summary
}
