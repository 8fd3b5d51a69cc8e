//! Infant growth: measurements compared with the WHO Child Growth Standards.

use leptos::prelude::*;

use crate::error::AppError;
use crate::ids::InfantId;
use crate::portal::{GrowthMeasure, GrowthResult, GrowthUnit, GrowthView};

/// Loads one of the signed-in patient's infants with the latest z-score and percentile of each
/// measure and a chart of each measure against the WHO percentile curves.
#[server(prefix = "/api", endpoint = "portal/growth")]
pub async fn infant_growth(infant_id: InfantId) -> Result<GrowthView, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::portal::server;
    use crate::records::{self, RecordKeys};

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
    let infant = server::find_infant(
        server::infants(&mut conn, keys, &authorization).await?,
        infant_id,
    )?;
    let kinds = growth_server::KINDS;
    let observations = records::list_observations(&mut conn, keys, &authorization, &kinds).await?;
    Ok(growth_server::view(&infant, &observations))
}

/// Records a weight, length or head circumference of one of the signed-in patient's infants,
/// measured today, and returns its WHO z-score and percentile. A value outside the plausible
/// range, or in a unit that does not fit the measure, is rejected and nothing is stored.
#[server(prefix = "/api", endpoint = "portal/growth/add")]
pub async fn record_growth(
    infant_id: InfantId,
    measure: GrowthMeasure,
    value: f64,
    unit: GrowthUnit,
) -> Result<GrowthResult, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::portal::server;
    use crate::records::{self, NewObservation, RecordKeys};

    let (services, actor) = server::begin().await?;
    let observation_value = growth_server::observation_value(measure, value, unit)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let write = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::Infant,
        Action::Write,
    )
    .await?;
    let read = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::Infant,
        Action::Read,
    )
    .await?;

    let keys = RecordKeys::from_services(&services);
    let infant = server::find_infant(server::infants(&mut conn, keys, &read).await?, infant_id)?;
    let new = NewObservation {
        infant_id: Some(infant_id),
        observed_at: chrono::Utc::now(),
        value: observation_value,
    };
    let result = growth_server::assess(&infant, &new)?;
    records::add_observation(&mut conn, keys, &write, &new).await?;
    Ok(result)
}

/// The growth view of one infant and the observation kinds it reads, for the clinician chart.
#[cfg(feature = "ssr")]
pub use growth_server::{KINDS as GROWTH_KINDS, view as growth_view};

#[cfg(feature = "ssr")]
mod growth_server {
    use chrono::NaiveDate;

    use crate::clinical::growth::{
        self, GrowthAssessment, Indicator, format_percentile, format_z_score, growth_chart,
    };
    use crate::clinical::units::{Entered, LengthUnit, MassUnit};
    use crate::error::AppError;
    use crate::portal::server::{decimal, infant_summary};
    use crate::portal::{GrowthMeasure, GrowthResult, GrowthUnit, GrowthView};
    use crate::records::{Infant, NewObservation, Observation, ObservationKind, ObservationValue};

    /// Observation kinds of the growth page.
    pub const KINDS: [ObservationKind; 3] = [
        ObservationKind::Weight,
        ObservationKind::Length,
        ObservationKind::HeadCircumference,
    ];

    /// Builds the observation value of a measurement entered in `unit`.
    pub fn observation_value(
        measure: GrowthMeasure,
        value: f64,
        unit: GrowthUnit,
    ) -> Result<ObservationValue, AppError> {
        if !GrowthUnit::for_measure(measure).contains(&unit) {
            let units: Vec<&str> = GrowthUnit::for_measure(measure)
                .iter()
                .map(|unit| unit.symbol())
                .collect();
            return Err(AppError::invalid_input(format!(
                "{} is entered in {}, not {}.",
                measure.label(),
                units.join(", "),
                unit.symbol()
            )));
        }
        let mass = |unit| Entered::new(value, unit);
        let length = |unit| Entered::new(value, unit);
        let length_unit = if unit == GrowthUnit::Inches {
            LengthUnit::Inches
        } else {
            LengthUnit::Centimetres
        };
        let built = match (measure, unit) {
            (GrowthMeasure::Weight, GrowthUnit::Grams) => {
                ObservationValue::weight(mass(MassUnit::Grams))
            }
            (GrowthMeasure::Weight, GrowthUnit::Pounds) => {
                ObservationValue::weight(mass(MassUnit::Pounds))
            }
            (GrowthMeasure::Weight, _) => ObservationValue::weight(mass(MassUnit::Kilograms)),
            (GrowthMeasure::Length, _) => ObservationValue::length(length(length_unit)),
            (GrowthMeasure::HeadCircumference, _) => {
                ObservationValue::head_circumference(length(length_unit))
            }
        };
        Ok(built?)
    }

    /// Returns the measure and its value in kg or cm, for a growth observation.
    fn measured(value: &ObservationValue) -> Option<(GrowthMeasure, f64)> {
        match value {
            ObservationValue::Weight { kilograms, .. } => Some((GrowthMeasure::Weight, *kilograms)),
            ObservationValue::Length { centimetres, .. } => {
                Some((GrowthMeasure::Length, *centimetres))
            }
            ObservationValue::HeadCircumference { centimetres, .. } => {
                Some((GrowthMeasure::HeadCircumference, *centimetres))
            }
            _ => None,
        }
    }

    fn indicator(measure: GrowthMeasure) -> Indicator {
        match measure {
            GrowthMeasure::Weight => Indicator::WeightForAge,
            GrowthMeasure::Length => Indicator::LengthHeightForAge,
            GrowthMeasure::HeadCircumference => Indicator::HeadCircumferenceForAge,
        }
    }

    fn compare(
        infant: &Infant,
        measure: GrowthMeasure,
        value: f64,
        date: NaiveDate,
    ) -> Result<GrowthAssessment, growth::GrowthError> {
        let age = growth::age_in_days(infant.birth_date, date)?;
        match measure {
            GrowthMeasure::Weight => growth::weight_for_age(infant.sex, age, value),
            GrowthMeasure::Length => growth::length_height_for_age(infant.sex, age, value),
            GrowthMeasure::HeadCircumference => {
                growth::head_circumference_for_age(infant.sex, age, value)
            }
        }
    }

    fn result(
        measure: GrowthMeasure,
        value: f64,
        date: NaiveDate,
        assessed: &GrowthAssessment,
    ) -> GrowthResult {
        let unit = if measure == GrowthMeasure::Weight {
            "kg"
        } else {
            "cm"
        };
        GrowthResult {
            measure,
            value: format!("{} {unit}", display_value(value, measure)),
            date: date.to_string(),
            z_score: format_z_score(assessed.z_score),
            percentile: format_percentile(assessed.percentile),
        }
    }

    /// Formats a weight to the gram and a length to the millimetre.
    fn display_value(value: f64, measure: GrowthMeasure) -> String {
        if measure == GrowthMeasure::Weight {
            let text = format!("{value:.3}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            decimal(value)
        }
    }

    /// Compares a new measurement with the WHO standard for the infant's age today; a
    /// measurement the tables cannot place is rejected with the reason.
    pub fn assess(infant: &Infant, new: &NewObservation) -> Result<GrowthResult, AppError> {
        let (measure, value) = measured(&new.value).ok_or_else(|| {
            AppError::invalid_input("Enter a weight, length or head circumference.")
        })?;
        let date = new.observed_at.date_naive();
        let assessed = compare(infant, measure, value, date)
            .map_err(|error| AppError::invalid_input(error.to_string()))?;
        Ok(result(measure, value, date, &assessed))
    }

    /// Builds the growth page of one infant from her growth observations, oldest first.
    pub fn view(infant: &Infant, observations: &[Observation]) -> GrowthView {
        let mine: Vec<(GrowthMeasure, f64, NaiveDate)> = observations
            .iter()
            .filter(|observation| observation.infant_id == Some(infant.id))
            .filter_map(|observation| {
                measured(&observation.value)
                    .map(|(measure, value)| (measure, value, observation.observed_at.date_naive()))
            })
            .collect();
        let mut latest = Vec::new();
        let mut charts = Vec::new();
        for measure in GrowthMeasure::ALL {
            let points: Vec<(NaiveDate, f64)> = mine
                .iter()
                .filter(|(kind, _, _)| *kind == measure)
                .map(|(_, value, date)| (*date, *value))
                .collect();
            if let Some((date, value)) = points.last()
                && let Ok(assessed) = compare(infant, measure, *value, *date)
            {
                latest.push(result(measure, *value, *date, &assessed));
            }
            charts.push(growth_chart(
                indicator(measure),
                infant.sex,
                infant.birth_date,
                &points,
            ));
        }
        GrowthView {
            infant: infant_summary(infant),
            latest,
            charts,
        }
    }
}
