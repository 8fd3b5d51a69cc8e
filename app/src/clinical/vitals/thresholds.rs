//! A clinic's vital-sign thresholds, validated when built and when deserialized.

use serde::{Deserialize, Serialize};

use super::{DIASTOLIC_RANGE_MMHG, SYSTOLIC_RANGE_MMHG};

/// Range allowed for the fever threshold in °C. It rejects a threshold entered in °F, which would
/// otherwise switch the infection check off.
const FEVER_THRESHOLD_RANGE_CELSIUS: (f64, f64) = (37.0, 40.0);

/// All vital-sign thresholds of one clinic.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct VitalSignThresholds {
    pub blood_pressure: BloodPressureThresholds,
    pub temperature: TemperatureThresholds,
}

/// Blood pressure thresholds in whole mmHg. A pressure at or above a threshold reaches it.
///
/// Defaults: raised at 140 systolic or 90 diastolic, severe range at 160 systolic or 110
/// diastolic (ACOG Committee Opinion 767). Every value lies in the plausible range for its
/// pressure and each raised threshold is below its severe-range threshold, including after
/// deserialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BloodPressureThresholdFields")]
pub struct BloodPressureThresholds {
    raised_systolic: u16,
    raised_diastolic: u16,
    severe_systolic: u16,
    severe_diastolic: u16,
}

#[derive(Deserialize)]
struct BloodPressureThresholdFields {
    raised_systolic: u16,
    raised_diastolic: u16,
    severe_systolic: u16,
    severe_diastolic: u16,
}

impl TryFrom<BloodPressureThresholdFields> for BloodPressureThresholds {
    type Error = ThresholdError;

    fn try_from(fields: BloodPressureThresholdFields) -> Result<Self, Self::Error> {
        Self::new(
            fields.raised_systolic,
            fields.raised_diastolic,
            fields.severe_systolic,
            fields.severe_diastolic,
        )
    }
}

/// Thresholds that break the rules of [`BloodPressureThresholds`] or [`TemperatureThresholds`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    #[error("{name} threshold {value} {unit} is outside the allowed range {low} to {high} {unit}.")]
    OutOfRange {
        name: &'static str,
        value: f64,
        low: f64,
        high: f64,
        unit: &'static str,
    },
    #[error(
        "Raised {pressure} threshold ({raised} mmHg) must be below the severe-range threshold \
         ({severe} mmHg)."
    )]
    RaisedNotBelowSevere {
        pressure: &'static str,
        raised: u16,
        severe: u16,
    },
}

impl BloodPressureThresholds {
    /// Checks and builds a clinic's blood pressure thresholds, all in mmHg.
    pub fn new(
        raised_systolic: u16,
        raised_diastolic: u16,
        severe_systolic: u16,
        severe_diastolic: u16,
    ) -> Result<Self, ThresholdError> {
        let checks = [
            ("Raised systolic", raised_systolic, SYSTOLIC_RANGE_MMHG),
            ("Severe systolic", severe_systolic, SYSTOLIC_RANGE_MMHG),
            ("Raised diastolic", raised_diastolic, DIASTOLIC_RANGE_MMHG),
            ("Severe diastolic", severe_diastolic, DIASTOLIC_RANGE_MMHG),
        ];
        for (name, value, (low, high)) in checks {
            let value = f64::from(value);
            if !(low..=high).contains(&value) {
                return Err(ThresholdError::OutOfRange {
                    name,
                    value,
                    low,
                    high,
                    unit: "mmHg",
                });
            }
        }
        let pairs = [
            ("systolic", raised_systolic, severe_systolic),
            ("diastolic", raised_diastolic, severe_diastolic),
        ];
        for (pressure, raised, severe) in pairs {
            if raised >= severe {
                return Err(ThresholdError::RaisedNotBelowSevere {
                    pressure,
                    raised,
                    severe,
                });
            }
        }

        Ok(Self {
            raised_systolic,
            raised_diastolic,
            severe_systolic,
            severe_diastolic,
        })
    }

    /// Lowest systolic pressure in mmHg that counts as raised.
    pub fn raised_systolic(&self) -> u16 {
        self.raised_systolic
    }

    /// Lowest diastolic pressure in mmHg that counts as raised.
    pub fn raised_diastolic(&self) -> u16 {
        self.raised_diastolic
    }

    /// Lowest systolic pressure in mmHg that counts as severe-range.
    pub fn severe_systolic(&self) -> u16 {
        self.severe_systolic
    }

    /// Lowest diastolic pressure in mmHg that counts as severe-range.
    pub fn severe_diastolic(&self) -> u16 {
        self.severe_diastolic
    }
}

impl Default for BloodPressureThresholds {
    fn default() -> Self {
        Self {
            raised_systolic: 140,
            raised_diastolic: 90,
            severe_systolic: 160,
            severe_diastolic: 110,
        }
    }
}

/// Fever threshold in °C. A temperature at or above it calls for assessment for infection.
///
/// The default is 38.0 °C. The value always lies between 37.0 and 40.0 °C, including after
/// deserialization.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TemperatureThresholdFields")]
pub struct TemperatureThresholds {
    infection_celsius: f64,
}

#[derive(Deserialize)]
struct TemperatureThresholdFields {
    infection_celsius: f64,
}

impl TryFrom<TemperatureThresholdFields> for TemperatureThresholds {
    type Error = ThresholdError;

    fn try_from(fields: TemperatureThresholdFields) -> Result<Self, Self::Error> {
        Self::new(fields.infection_celsius)
    }
}

impl TemperatureThresholds {
    /// Checks and builds a clinic's fever threshold in °C.
    pub fn new(infection_celsius: f64) -> Result<Self, ThresholdError> {
        let (low, high) = FEVER_THRESHOLD_RANGE_CELSIUS;
        if !(low..=high).contains(&infection_celsius) {
            return Err(ThresholdError::OutOfRange {
                name: "Fever",
                value: infection_celsius,
                low,
                high,
                unit: "°C",
            });
        }

        Ok(Self { infection_celsius })
    }

    /// Lowest temperature in °C that calls for assessment for infection.
    pub fn infection_celsius(&self) -> f64 {
        self.infection_celsius
    }
}

impl Default for TemperatureThresholds {
    fn default() -> Self {
        Self {
            infection_celsius: 38.0,
        }
    }
}
