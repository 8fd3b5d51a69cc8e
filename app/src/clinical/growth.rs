//! Infant and child growth z-scores and percentiles by the WHO Child Growth Standards (2006).
//!
//! A measurement is compared with the LMS row for the child's sex and age in completed days
//! (or, for weight-for-length and weight-for-height, for the child's length). Beyond ±3 SD,
//! weight-based indicators use WHO's restricted z-score, which counts the excess in units of the
//! distance between the 2 SD and 3 SD curves on that side. Length, height and head circumference
//! have L = 1 in every table row, so their z-scores need no restriction.

mod chart;
mod flags;
mod normal;
mod tables;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use chart::growth_chart;
pub use flags::{FlagThresholdError, GrowthFlagThresholds, WeightLossCheck, check_weight_loss};
pub use normal::standard_normal_cdf;
pub use tables::Lms;

use tables::Table;

/// Last age in days that the WHO tables cover (5 years).
pub const MAX_AGE_DAYS: u32 = 1856;

/// First age in days measured standing: from here weight-for-height replaces weight-for-length,
/// and length-for-age becomes height-for-age.
pub const STANDING_FROM_AGE_DAYS: u32 = 731;

/// Plausible weight in kg. The range admits extremely preterm newborns and the heaviest children
/// of the ages the tables cover, and rejects values typed in grams.
pub const WEIGHT_RANGE_KG: (f64, f64) = (0.2, 60.0);
/// Plausible recumbent length or standing height in cm.
pub const LENGTH_RANGE_CM: (f64, f64) = (20.0, 150.0);
/// Plausible head circumference in cm.
pub const HEAD_CIRCUMFERENCE_RANGE_CM: (f64, f64) = (15.0, 70.0);

/// Sex of the child, which selects the WHO table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
}

/// A WHO growth indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    WeightForAge,
    /// Recumbent length below 731 days, standing height from 731 days.
    LengthHeightForAge,
    HeadCircumferenceForAge,
    /// Weight by recumbent length, 45 to 110 cm, below 731 days.
    WeightForLength,
    /// Weight by standing height, 65 to 120 cm, from 731 days.
    WeightForHeight,
}

impl Indicator {
    /// Tells whether WHO restricts this indicator's z-scores beyond ±3 SD.
    pub fn is_weight_based(self) -> bool {
        matches!(
            self,
            Self::WeightForAge | Self::WeightForLength | Self::WeightForHeight
        )
    }

    fn table(self) -> &'static Table {
        match self {
            Self::WeightForAge => &tables::WEIGHT_FOR_AGE,
            Self::LengthHeightForAge => &tables::LENGTH_HEIGHT_FOR_AGE,
            Self::HeadCircumferenceForAge => &tables::HEAD_CIRCUMFERENCE_FOR_AGE,
            Self::WeightForLength => &tables::WEIGHT_FOR_LENGTH,
            Self::WeightForHeight => &tables::WEIGHT_FOR_HEIGHT,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::WeightForAge => "weight-for-age",
            Self::LengthHeightForAge => "length/height-for-age",
            Self::HeadCircumferenceForAge => "head-circumference-for-age",
            Self::WeightForLength => "weight-for-length",
            Self::WeightForHeight => "weight-for-height",
        }
    }
}

impl std::fmt::Display for Indicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A measurement or date that cannot be compared with the WHO tables.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GrowthError {
    #[error("Measurement date {measured} is before the birth date {birth}. Check both dates.")]
    MeasuredBeforeBirth {
        birth: NaiveDate,
        measured: NaiveDate,
    },
    #[error(
        "Age {age_days} days is beyond the WHO growth standards, which end at {MAX_AGE_DAYS} \
         days (5 years)."
    )]
    AgeBeyondTable { age_days: i64 },
    #[error(
        "Weight {kg} kg is outside the plausible range 0.2 to 60 kg. Check the value and its unit."
    )]
    ImplausibleWeight { kg: f64 },
    #[error(
        "Length {cm} cm is outside the plausible range 20 to 150 cm. Check the value and its unit."
    )]
    ImplausibleLength { cm: f64 },
    #[error(
        "Head circumference {cm} cm is outside the plausible range 15 to 70 cm. Check the value \
         and its unit."
    )]
    ImplausibleHeadCircumference { cm: f64 },
    #[error("Length {cm} cm is outside the {indicator} table, which covers {first} to {last} cm.")]
    LengthBeyondTable {
        indicator: Indicator,
        cm: f64,
        first: f64,
        last: f64,
    },
}

/// A measurement compared with the WHO standard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GrowthAssessment {
    pub indicator: Indicator,
    /// The measured value: weight in kg, or length, height or head circumference in cm.
    pub value: f64,
    /// The table row used, interpolated for a length between two rows.
    pub reference: Lms,
    /// z-score, restricted beyond ±3 SD for weight-based indicators.
    pub z_score: f64,
    /// Standard normal percentile of the z-score, 0 to 100.
    pub percentile: f64,
}

impl GrowthAssessment {
    fn new(indicator: Indicator, value: f64, reference: Lms) -> Self {
        let z_score = if indicator.is_weight_based() {
            restricted_z_score(&reference, value)
        } else {
            reference.z_score(value)
        };
        Self {
            indicator,
            value,
            reference,
            z_score,
            percentile: 100.0 * standard_normal_cdf(z_score),
        }
    }

    /// Formats the z-score for display with [`format_z_score`].
    pub fn z_score_text(&self) -> String {
        format_z_score(self.z_score)
    }

    /// Formats the percentile for display with [`format_percentile`].
    pub fn percentile_text(&self) -> String {
        format_percentile(self.percentile)
    }
}

/// Computes the age in completed days between the birth date and the measurement date.
///
/// Rejects a measurement before birth and an age beyond the last table row (1856 days).
pub fn age_in_days(birth: NaiveDate, measured: NaiveDate) -> Result<u32, GrowthError> {
    let days = (measured - birth).num_days();
    if days < 0 {
        return Err(GrowthError::MeasuredBeforeBirth { birth, measured });
    }
    if days > i64::from(MAX_AGE_DAYS) {
        return Err(GrowthError::AgeBeyondTable { age_days: days });
    }

    Ok(days as u32)
}

/// Returns the LMS row of an age-based indicator for the sex and age in completed days, or
/// `None` beyond the last row and for weight-for-length and weight-for-height, whose rows are
/// keyed by length. With [`Lms::measurement_at`] it gives the value on a z-score track.
pub fn lms_for_age(indicator: Indicator, sex: Sex, age_days: u32) -> Option<Lms> {
    let by_age = matches!(
        indicator,
        Indicator::WeightForAge
            | Indicator::LengthHeightForAge
            | Indicator::HeadCircumferenceForAge
    );
    if !by_age || age_days > MAX_AGE_DAYS {
        return None;
    }
    indicator.table().lookup(sex, f64::from(age_days))
}

/// Computes the weight-for-age z-score and percentile.
pub fn weight_for_age(
    sex: Sex,
    age_days: u32,
    weight_kg: f64,
) -> Result<GrowthAssessment, GrowthError> {
    check_weight(weight_kg)?;
    by_age(Indicator::WeightForAge, sex, age_days, weight_kg)
}

/// Computes the length-for-age (below 731 days) or height-for-age z-score and percentile.
///
/// The table expects recumbent length below 731 days and standing height from 731 days.
// NOTE: a value measured in the other position is used as given, with no conversion between
// recumbent length and standing height.
pub fn length_height_for_age(
    sex: Sex,
    age_days: u32,
    length_cm: f64,
) -> Result<GrowthAssessment, GrowthError> {
    check_length(length_cm)?;
    by_age(Indicator::LengthHeightForAge, sex, age_days, length_cm)
}

/// Computes the head-circumference-for-age z-score and percentile.
pub fn head_circumference_for_age(
    sex: Sex,
    age_days: u32,
    head_circumference_cm: f64,
) -> Result<GrowthAssessment, GrowthError> {
    let (low, high) = HEAD_CIRCUMFERENCE_RANGE_CM;
    if !(low..=high).contains(&head_circumference_cm) {
        return Err(GrowthError::ImplausibleHeadCircumference {
            cm: head_circumference_cm,
        });
    }
    by_age(
        Indicator::HeadCircumferenceForAge,
        sex,
        age_days,
        head_circumference_cm,
    )
}

/// Computes the weight-for-length z-score (below 731 days) or the weight-for-height z-score (from
/// 731 days) and the percentile.
///
/// The age selects the table: recumbent length 45 to 110 cm below 731 days, standing height 65 to
/// 120 cm from 731 days. A length between two 0.1 cm rows uses L, M and S interpolated linearly
/// between them. As for [`length_height_for_age`], the length must be measured in the position
/// the age implies, because no conversion between recumbent length and standing height is applied.
pub fn weight_for_length_or_height(
    sex: Sex,
    age_days: u32,
    length_cm: f64,
    weight_kg: f64,
) -> Result<GrowthAssessment, GrowthError> {
    check_age(age_days)?;
    check_length(length_cm)?;
    check_weight(weight_kg)?;

    let indicator = if age_days < STANDING_FROM_AGE_DAYS {
        Indicator::WeightForLength
    } else {
        Indicator::WeightForHeight
    };
    let table = indicator.table();
    let reference = table
        .lookup(sex, length_cm)
        .ok_or_else(|| GrowthError::LengthBeyondTable {
            indicator,
            cm: length_cm,
            first: table.first_key(),
            last: table.last_key(),
        })?;

    Ok(GrowthAssessment::new(indicator, weight_kg, reference))
}

/// Formats a z-score to two decimals, showing "0.00" for a value that rounds to zero from below,
/// so that the display never reads "-0.00".
///
/// The value is rounded to the nearest hundredth. An exact tie, which only a binary fraction such
/// as 0.125 can produce, goes to the even digit ("0.12"), as Rust's formatter rounds.
pub fn format_z_score(z: f64) -> String {
    let text = format!("{z:.2}");
    if text == "-0.00" {
        "0.00".to_owned()
    } else {
        text
    }
}

/// Formats a percentile to one decimal, with "<0.1" below 0.1 and ">99.9" above 99.9.
///
/// The extremes would otherwise round to the impossible "0.0" and "100.0", or to "0.1" and
/// "99.9" for values beyond them.
pub fn format_percentile(percentile: f64) -> String {
    if percentile < 0.1 {
        "<0.1".to_owned()
    } else if percentile > 99.9 {
        ">99.9".to_owned()
    } else {
        format!("{percentile:.1}")
    }
}

/// Applies WHO's restricted z-score for weight-based indicators. Beyond ±3 SD the distance from
/// the ±3 SD measurement is counted in units of the distance between the 2 SD and 3 SD
/// measurements on the same side, instead of on the stretched LMS scale.
fn restricted_z_score(reference: &Lms, y: f64) -> f64 {
    let z = reference.z_score(y);
    if z > 3.0 {
        let sd3 = reference.measurement_at(3.0);
        let sd2 = reference.measurement_at(2.0);
        3.0 + (y - sd3) / (sd3 - sd2)
    } else if z < -3.0 {
        let sd3_below = reference.measurement_at(-3.0);
        let sd2_below = reference.measurement_at(-2.0);
        -3.0 + (y - sd3_below) / (sd2_below - sd3_below)
    } else {
        z
    }
}

fn by_age(
    indicator: Indicator,
    sex: Sex,
    age_days: u32,
    value: f64,
) -> Result<GrowthAssessment, GrowthError> {
    check_age(age_days)?;
    let reference =
        indicator
            .table()
            .lookup(sex, f64::from(age_days))
            .ok_or(GrowthError::AgeBeyondTable {
                age_days: i64::from(age_days),
            })?;

    Ok(GrowthAssessment::new(indicator, value, reference))
}

fn check_age(age_days: u32) -> Result<(), GrowthError> {
    if age_days > MAX_AGE_DAYS {
        return Err(GrowthError::AgeBeyondTable {
            age_days: i64::from(age_days),
        });
    }
    Ok(())
}

/// Rejects a weight outside [`WEIGHT_RANGE_KG`], and NaN, which is outside every range.
fn check_weight(weight_kg: f64) -> Result<(), GrowthError> {
    let (low, high) = WEIGHT_RANGE_KG;
    if !(low..=high).contains(&weight_kg) {
        return Err(GrowthError::ImplausibleWeight { kg: weight_kg });
    }
    Ok(())
}

fn check_length(length_cm: f64) -> Result<(), GrowthError> {
    let (low, high) = LENGTH_RANGE_CM;
    if !(low..=high).contains(&length_cm) {
        return Err(GrowthError::ImplausibleLength { cm: length_cm });
    }
    Ok(())
}
