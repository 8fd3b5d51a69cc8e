//! Classification of postpartum maternal blood pressure and temperature.
//!
//! Default thresholds: a systolic pressure of 160 mmHg or more, or a diastolic pressure of 110
//! mmHg or more, is severe-range hypertension that needs urgent treatment (ACOG Committee Opinion
//! 767, 2019). A systolic pressure of 140 mmHg or more, or a diastolic pressure of 90 mmHg or
//! more, is raised and needs follow-up. A temperature of 38.0 °C or more after birth needs
//! assessment for infection. Clinics may set other thresholds, and each result carries the
//! thresholds that classified it.

#[cfg(test)]
mod tests;
mod thresholds;

use serde::{Deserialize, Serialize};

use super::units::{Entered, PressureUnit, TemperatureUnit};

pub use thresholds::{
    BloodPressureThresholds, TemperatureThresholds, ThresholdError, VitalSignThresholds,
};

/// Plausible systolic pressure in mmHg. A value outside it is an entry or unit error.
pub const SYSTOLIC_RANGE_MMHG: (f64, f64) = (50.0, 300.0);
/// Plausible diastolic pressure in mmHg.
pub const DIASTOLIC_RANGE_MMHG: (f64, f64) = (20.0, 200.0);
/// Plausible body temperature in °C.
pub const TEMPERATURE_RANGE_CELSIUS: (f64, f64) = (30.0, 45.0);

/// One blood pressure reading as entered, with one unit for both pressures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BloodPressureReading {
    pub systolic: f64,
    pub diastolic: f64,
    pub unit: PressureUnit,
}

/// Blood pressure class of a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BloodPressureCategory {
    /// Below both raised thresholds.
    Normal,
    /// At or above a raised threshold and below both severe-range thresholds.
    Raised,
    /// At or above a severe-range threshold.
    SevereRange,
}

/// Time frame in which a clinician needs to act on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// No action beyond routine care.
    Routine,
    /// Arrange a follow-up check.
    FollowUp,
    /// Act now.
    Urgent,
}

impl BloodPressureCategory {
    /// Urgency that this class of reading requires.
    pub fn urgency(self) -> Urgency {
        match self {
            Self::Normal => Urgency::Routine,
            Self::Raised => Urgency::FollowUp,
            Self::SevereRange => Urgency::Urgent,
        }
    }
}

/// Classified blood pressure reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BloodPressureAssessment {
    /// The reading as entered.
    pub reading: BloodPressureReading,
    /// Systolic pressure in mmHg, rounded to 0.1 mmHg.
    pub systolic_mmhg: f64,
    /// Diastolic pressure in mmHg, rounded to 0.1 mmHg.
    pub diastolic_mmhg: f64,
    pub category: BloodPressureCategory,
    pub urgency: Urgency,
    /// Thresholds in force when the reading was classified.
    pub thresholds: BloodPressureThresholds,
}

/// Classified temperature reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TemperatureAssessment {
    /// The reading as entered.
    pub entered: Entered<TemperatureUnit>,
    /// Temperature in °C, rounded to 0.01 °C.
    pub celsius: f64,
    /// Whether the temperature is at or above the fever threshold, so that the mother needs
    /// assessment for infection.
    pub assess_for_infection: bool,
    /// Thresholds in force when the reading was classified.
    pub thresholds: TemperatureThresholds,
}

/// A reading that is implausible after conversion, so it cannot be classified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VitalSignError {
    #[error(
        "Systolic pressure {mmhg:.1} mmHg is outside the plausible range 50 to 300 mmHg. \
         Check the value and its unit."
    )]
    SystolicOutOfRange { mmhg: f64 },
    #[error(
        "Diastolic pressure {mmhg:.1} mmHg is outside the plausible range 20 to 200 mmHg. \
         Check the value and its unit."
    )]
    DiastolicOutOfRange { mmhg: f64 },
    #[error(
        "Diastolic pressure {diastolic_mmhg:.1} mmHg is not below systolic pressure \
         {systolic_mmhg:.1} mmHg. Check whether the two values are swapped."
    )]
    DiastolicNotBelowSystolic {
        systolic_mmhg: f64,
        diastolic_mmhg: f64,
    },
    #[error(
        "Temperature {celsius:.1} °C is outside the plausible range 30 to 45 °C. \
         Check the value and its unit."
    )]
    TemperatureOutOfRange { celsius: f64 },
}

/// Validates a blood pressure reading and classifies it against the clinic's thresholds.
///
/// A reading is severe-range when either pressure reaches its severe threshold, and raised when
/// either reaches its raised threshold, so the higher class of the two pressures wins.
pub fn assess_blood_pressure(
    reading: BloodPressureReading,
    thresholds: &BloodPressureThresholds,
) -> Result<BloodPressureAssessment, VitalSignError> {
    let systolic_mmhg = round_to_tenths(Entered::new(reading.systolic, reading.unit).to_mmhg());
    let diastolic_mmhg = round_to_tenths(Entered::new(reading.diastolic, reading.unit).to_mmhg());
    if !within(systolic_mmhg, SYSTOLIC_RANGE_MMHG) {
        return Err(VitalSignError::SystolicOutOfRange {
            mmhg: systolic_mmhg,
        });
    }
    if !within(diastolic_mmhg, DIASTOLIC_RANGE_MMHG) {
        return Err(VitalSignError::DiastolicOutOfRange {
            mmhg: diastolic_mmhg,
        });
    }
    if diastolic_mmhg >= systolic_mmhg {
        return Err(VitalSignError::DiastolicNotBelowSystolic {
            systolic_mmhg,
            diastolic_mmhg,
        });
    }

    let reaches = |systolic_threshold: u16, diastolic_threshold: u16| {
        systolic_mmhg >= f64::from(systolic_threshold)
            || diastolic_mmhg >= f64::from(diastolic_threshold)
    };
    let category = if reaches(thresholds.severe_systolic(), thresholds.severe_diastolic()) {
        BloodPressureCategory::SevereRange
    } else if reaches(thresholds.raised_systolic(), thresholds.raised_diastolic()) {
        BloodPressureCategory::Raised
    } else {
        BloodPressureCategory::Normal
    };

    Ok(BloodPressureAssessment {
        reading,
        systolic_mmhg,
        diastolic_mmhg,
        category,
        urgency: category.urgency(),
        thresholds: *thresholds,
    })
}

/// Validates a temperature reading and checks it against the clinic's fever threshold.
pub fn assess_temperature(
    entered: Entered<TemperatureUnit>,
    thresholds: &TemperatureThresholds,
) -> Result<TemperatureAssessment, VitalSignError> {
    let celsius = round_to_hundredths(entered.to_celsius());
    if !within(celsius, TEMPERATURE_RANGE_CELSIUS) {
        return Err(VitalSignError::TemperatureOutOfRange { celsius });
    }

    Ok(TemperatureAssessment {
        entered,
        celsius,
        assess_for_infection: celsius >= thresholds.infection_celsius(),
        thresholds: *thresholds,
    })
}

/// Tells whether `value` lies in the inclusive range, which NaN never does.
fn within(value: f64, (low, high): (f64, f64)) -> bool {
    (low..=high).contains(&value)
}

// Converted values are rounded to a resolution finer than any clinical instrument, so that a
// reading entered as the exact conversion of a threshold (100.4 °F, 21.33 kPa) is classified like
// the threshold itself instead of by binary floating-point error.
fn round_to_tenths(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn round_to_hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
