//! Synthetic infants: birth details, growth measurements on WHO percentile tracks, feeds and
//! nappies.
//!
//! Each infant gets a z-score per indicator at birth and keeps close to it, drifting by a small
//! normal step per visit, so the measurements follow a plausible percentile track. A value is
//! the inverse of the LMS z-score at the infant's age: M·(1 + L·S·z)^(1/L). Weight on day 5
//! is 6 % below its track, because newborns lose weight in the first days and regain it by
//! about two weeks.

use app::clinical::growth::{Indicator, Sex, lms_for_age};
use app::clinical::units::{Entered, LengthUnit, MassUnit};
use app::records::{
    FeedingMethod, ImportedInfant, NewInfant, NewObservation, ObservationValue, RecordsError,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::RngExt;
use rand::rngs::StdRng;

use super::random::{clamped_normal, normal, tenths, weighted};

/// Ages in days at which infants are measured.
const VISIT_DAYS: [u32; 5] = [0, 5, 14, 28, 42];
/// Days with a logged feed and nappy change.
const LOG_DAYS: [i64; 6] = [1, 2, 3, 5, 8, 12];
/// Fraction of weight lost by day 5, relative to the birth track.
const DAY_FIVE_WEIGHT_LOSS: f64 = 0.06;

/// How an infant is mostly fed, which decides the method of each logged feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedingPattern {
    Breast,
    Mixed,
    Formula,
}

/// Facts of the birth that the infant plan takes from the mother's plan.
pub struct Birth {
    pub date: NaiveDate,
    pub born_at: DateTime<Utc>,
    pub gestation_weeks: u32,
    pub family_name: &'static str,
    pub given_name: &'static str,
}

fn track_value(indicator: Indicator, sex: Sex, day: u32, z: f64) -> f64 {
    // Ages up to 42 days are always in the tables.
    lms_for_age(indicator, sex, day).map_or(f64::NAN, |lms| lms.measurement_at(z))
}

/// Plans one infant with growth, feeding and nappy observations.
pub fn plan_infant(
    rng: &mut StdRng,
    birth: &Birth,
    pattern: FeedingPattern,
) -> Result<ImportedInfant, RecordsError> {
    let sex = if rng.random_bool(0.5) {
        Sex::Female
    } else {
        Sex::Male
    };
    let preterm_shift = if birth.gestation_weeks < 37 {
        -1.5
    } else {
        0.0
    };
    let mut weight_z = clamped_normal(rng, preterm_shift, 1.0, -3.5, 2.8);
    let mut length_z = clamped_normal(rng, 0.6 * weight_z, 0.8, -3.5, 2.8);
    let mut head_z = clamped_normal(rng, 0.5 * weight_z, 0.8, -3.5, 2.8);

    let birth_weight_kg = track_value(Indicator::WeightForAge, sex, 0, weight_z);
    let infant = NewInfant {
        name: format!("{} {} (synthetic)", birth.given_name, birth.family_name),
        birth_date: birth.date,
        birth_weight: Entered::new((birth_weight_kg * 1000.0).round(), MassUnit::Grams),
        sex,
    };

    let mut observations = Vec::new();
    for day in VISIT_DAYS {
        if day > 0 {
            weight_z += normal(rng, 0.0, 0.12);
            length_z += normal(rng, 0.0, 0.10);
            head_z += normal(rng, 0.0, 0.10);
        }
        let at = birth.born_at + Duration::days(i64::from(day)) + Duration::hours(2);
        let mut weight = track_value(Indicator::WeightForAge, sex, day, weight_z);
        if day == 5 {
            weight *= 1.0 - DAY_FIVE_WEIGHT_LOSS;
        }
        let length = track_value(Indicator::LengthHeightForAge, sex, day, length_z);
        let head = track_value(Indicator::HeadCircumferenceForAge, sex, day, head_z);
        let weight_entered = if rng.random_bool(0.7) {
            Entered::new((weight * 1000.0).round(), MassUnit::Grams)
        } else {
            Entered::new((weight * 100.0).round() / 100.0, MassUnit::Kilograms)
        };
        let length = Entered::new(tenths(length), LengthUnit::Centimetres);
        let head = Entered::new(tenths(head), LengthUnit::Centimetres);
        observations.extend([
            observation(at, ObservationValue::weight(weight_entered)?),
            observation(at, ObservationValue::length(length)?),
            observation(at, ObservationValue::head_circumference(head)?),
        ]);
    }
    observations.extend(feeding_log(rng, birth.born_at, pattern));

    Ok(ImportedInfant {
        infant,
        observations,
        entries: Vec::new(),
    })
}

fn observation(at: DateTime<Utc>, value: ObservationValue) -> NewObservation {
    NewObservation {
        infant_id: None,
        observed_at: at,
        value,
    }
}

fn feeding_log(
    rng: &mut StdRng,
    born_at: DateTime<Utc>,
    pattern: FeedingPattern,
) -> Vec<NewObservation> {
    let mut log = Vec::new();
    for day in LOG_DAYS {
        let at = born_at + Duration::days(day) + Duration::minutes(rng.random_range(0..720));
        let method = match pattern {
            FeedingPattern::Breast => FeedingMethod::Breast,
            FeedingPattern::Formula => FeedingMethod::Formula,
            FeedingPattern::Mixed => weighted(
                rng,
                &[
                    (FeedingMethod::Breast, 0.5),
                    (FeedingMethod::ExpressedBreastMilk, 0.2),
                    (FeedingMethod::Formula, 0.3),
                ],
            ),
        };
        let feed = match method {
            FeedingMethod::Breast => ObservationValue::Feeding {
                method,
                breast_side: None,
                duration_minutes: Some(rng.random_range(8..=45)),
                volume_ml: None,
            },
            _ => ObservationValue::Feeding {
                method,
                breast_side: None,
                duration_minutes: None,
                volume_ml: Some(rng.random_range(6..=24) * 5),
            },
        };
        let nappy = ObservationValue::Nappy {
            wet: rng.random_bool(0.9),
            dirty: rng.random_bool(0.5),
        };
        log.push(observation(at, feed));
        log.push(observation(at + Duration::minutes(20), nappy));
    }
    log
}
