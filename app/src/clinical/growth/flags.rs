//! Growth findings that prompt clinical action, with thresholds that each clinic may set.

use serde::{Deserialize, Serialize};

use super::{GrowthAssessment, GrowthError, Indicator, check_weight};

/// A clinic's thresholds for growth flags.
///
/// Defaults: a weight-for-age z-score below −2 flags underweight, and a loss of more than 10% of
/// birth weight within the first 14 days of life flags a feeding assessment. Every value is valid,
/// including one read by serde: the z-score cut-off lies between −4 and 0, the loss percentage
/// between 1 and 30, and the window between 1 and 28 days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GrowthFlagThresholdFields")]
pub struct GrowthFlagThresholds {
    underweight_z_score: f64,
    weight_loss_percent: u8,
    weight_loss_window_days: u32,
}

#[derive(Deserialize)]
struct GrowthFlagThresholdFields {
    underweight_z_score: f64,
    weight_loss_percent: u8,
    weight_loss_window_days: u32,
}

impl TryFrom<GrowthFlagThresholdFields> for GrowthFlagThresholds {
    type Error = FlagThresholdError;

    fn try_from(fields: GrowthFlagThresholdFields) -> Result<Self, Self::Error> {
        Self::new(
            fields.underweight_z_score,
            fields.weight_loss_percent,
            fields.weight_loss_window_days,
        )
    }
}

/// Growth flag thresholds outside their allowed ranges.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlagThresholdError {
    #[error("Underweight z-score cut-off {0} is outside the allowed range -4 to 0.")]
    UnderweightZScore(f64),
    #[error("Weight-loss threshold {0}% is outside the allowed range 1% to 30%.")]
    WeightLossPercent(u8),
    #[error("Weight-loss window of {0} days is outside the allowed range 1 to 28 days.")]
    WeightLossWindow(u32),
}

impl GrowthFlagThresholds {
    /// Checks and builds a clinic's growth flag thresholds.
    pub fn new(
        underweight_z_score: f64,
        weight_loss_percent: u8,
        weight_loss_window_days: u32,
    ) -> Result<Self, FlagThresholdError> {
        if !(-4.0..=0.0).contains(&underweight_z_score) {
            return Err(FlagThresholdError::UnderweightZScore(underweight_z_score));
        }
        if !(1..=30).contains(&weight_loss_percent) {
            return Err(FlagThresholdError::WeightLossPercent(weight_loss_percent));
        }
        if !(1..=28).contains(&weight_loss_window_days) {
            return Err(FlagThresholdError::WeightLossWindow(
                weight_loss_window_days,
            ));
        }

        Ok(Self {
            underweight_z_score,
            weight_loss_percent,
            weight_loss_window_days,
        })
    }

    /// Weight-for-age z-score below which a child is underweight.
    pub fn underweight_z_score(&self) -> f64 {
        self.underweight_z_score
    }

    /// Percentage of birth weight whose loss, when exceeded, calls for a feeding assessment.
    pub fn weight_loss_percent(&self) -> u8 {
        self.weight_loss_percent
    }

    /// Last age in completed days at which weight loss is checked.
    pub fn weight_loss_window_days(&self) -> u32 {
        self.weight_loss_window_days
    }

    /// Tells whether a weight-for-age assessment is below the underweight cut-off. Any other
    /// indicator returns false.
    pub fn is_underweight(&self, assessment: &GrowthAssessment) -> bool {
        assessment.indicator == Indicator::WeightForAge
            && assessment.z_score < self.underweight_z_score
    }
}

impl Default for GrowthFlagThresholds {
    fn default() -> Self {
        Self {
            underweight_z_score: -2.0,
            weight_loss_percent: 10,
            weight_loss_window_days: 14,
        }
    }
}

/// Weight change since birth and whether it calls for a feeding assessment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightLossCheck {
    /// Loss as a percentage of birth weight, negative when the infant has gained weight.
    pub loss_percent: f64,
    pub feeding_assessment: bool,
    /// Thresholds in force when the check ran.
    pub thresholds: GrowthFlagThresholds,
}

/// Compares the current weight with the birth weight and flags a feeding assessment when more
/// than the threshold percentage is lost by an infant within the window (age 0 to 14 completed
/// days by default).
///
/// Weights are compared in whole grams, so a loss of exactly the threshold does not flag,
/// whatever the binary rounding of the kilogram values.
pub fn check_weight_loss(
    birth_weight_kg: f64,
    current_weight_kg: f64,
    age_days: u32,
    thresholds: &GrowthFlagThresholds,
) -> Result<WeightLossCheck, GrowthError> {
    check_weight(birth_weight_kg)?;
    check_weight(current_weight_kg)?;

    // Both weights lie within 0.2 to 60 kg, so whole grams fit an i64 without loss.
    let birth_grams = (birth_weight_kg * 1000.0).round() as i64;
    let current_grams = (current_weight_kg * 1000.0).round() as i64;
    let lost_grams = birth_grams - current_grams;
    let exceeds = lost_grams * 100 > i64::from(thresholds.weight_loss_percent) * birth_grams;
    let in_window = age_days <= thresholds.weight_loss_window_days;

    Ok(WeightLossCheck {
        loss_percent: 100.0 * lost_grams as f64 / birth_grams as f64,
        feeding_assessment: in_window && exceeds,
        thresholds: *thresholds,
    })
}
