//! Observation kinds and typed values, with their validation and normalisation to mmHg, °C, kg
//! and cm.

use serde::{Deserialize, Serialize};

use super::RecordsError;
use crate::clinical::feeding::BreastSide;
use crate::clinical::growth::{HEAD_CIRCUMFERENCE_RANGE_CM, LENGTH_RANGE_CM};
use crate::clinical::screening::{EpdsThresholds, score_epds, score_gad7, score_phq9};
use crate::clinical::units::{Entered, LengthUnit, MassUnit, TemperatureUnit};
use crate::clinical::vitals::{
    BloodPressureReading, BloodPressureThresholds, TemperatureThresholds, assess_blood_pressure,
    assess_temperature,
};
use crate::crypto::DataClass;

/// Plausible body weight in kg of a mother or an infant.
const WEIGHT_RANGE_KG: (f64, f64) = (0.2, 300.0);
/// Maximum length of a feed or expression session that is plausible, in minutes.
const MAX_FEEDING_MINUTES: u16 = 240;
/// Maximum plausible volume of one feed, in ml.
const MAX_FEEDING_ML: u16 = 500;

macro_rules! observation_kinds {
    ($($variant:ident => $text:literal,)+) => {
        /// Kind of observation, stored unencrypted so that lists can filter by it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ObservationKind {
            $($variant),+
        }

        impl ObservationKind {
            pub const ALL: &'static [ObservationKind] = &[$(ObservationKind::$variant),+];

            /// Value stored in `observations.kind`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ObservationKind::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(ObservationKind::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

observation_kinds! {
    BloodPressure => "blood_pressure",
    Temperature => "temperature",
    Weight => "weight",
    Length => "length",
    HeadCircumference => "head_circumference",
    Feeding => "feeding",
    Nappy => "nappy",
    Epds => "epds",
    Phq9 => "phq9",
    Gad7 => "gad7",
}

/// Method of one infant feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedingMethod {
    Breast,
    ExpressedBreastMilk,
    Formula,
}

/// A typed observation value. Build one with the constructors, which compute the normalised
/// values; [`add_observation`] recomputes them from the entered values before storing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObservationValue {
    BloodPressure {
        reading: BloodPressureReading,
        systolic_mmhg: f64,
        diastolic_mmhg: f64,
    },
    Temperature {
        entered: Entered<TemperatureUnit>,
        celsius: f64,
    },
    Weight {
        entered: Entered<MassUnit>,
        kilograms: f64,
    },
    Length {
        entered: Entered<LengthUnit>,
        centimetres: f64,
    },
    HeadCircumference {
        entered: Entered<LengthUnit>,
        centimetres: f64,
    },
    Feeding {
        method: FeedingMethod,
        /// Breast given, for a breastfeed; values stored before the side was recorded have none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        breast_side: Option<BreastSide>,
        duration_minutes: Option<u16>,
        volume_ml: Option<u16>,
    },
    Nappy {
        wet: bool,
        dirty: bool,
    },
    /// Answer positions as printed on the form, and the total when every item is answered.
    Epds {
        answers: Vec<Option<u8>>,
        total: Option<u8>,
    },
    Phq9 {
        answers: Vec<Option<u8>>,
        total: Option<u8>,
    },
    Gad7 {
        answers: Vec<Option<u8>>,
        total: Option<u8>,
    },
}

impl ObservationValue {
    pub fn blood_pressure(reading: BloodPressureReading) -> Result<Self, RecordsError> {
        Self::BloodPressure {
            reading,
            systolic_mmhg: 0.0,
            diastolic_mmhg: 0.0,
        }
        .normalized()
    }

    pub fn temperature(entered: Entered<TemperatureUnit>) -> Result<Self, RecordsError> {
        Self::Temperature {
            entered,
            celsius: 0.0,
        }
        .normalized()
    }

    pub fn weight(entered: Entered<MassUnit>) -> Result<Self, RecordsError> {
        Self::Weight {
            entered,
            kilograms: 0.0,
        }
        .normalized()
    }

    pub fn length(entered: Entered<LengthUnit>) -> Result<Self, RecordsError> {
        Self::Length {
            entered,
            centimetres: 0.0,
        }
        .normalized()
    }

    pub fn head_circumference(entered: Entered<LengthUnit>) -> Result<Self, RecordsError> {
        Self::HeadCircumference {
            entered,
            centimetres: 0.0,
        }
        .normalized()
    }

    /// An EPDS form: one answer position per item, `None` for an unanswered item.
    pub fn epds(answers: Vec<Option<u8>>) -> Result<Self, RecordsError> {
        Self::Epds {
            answers,
            total: None,
        }
        .normalized()
    }

    pub fn phq9(answers: Vec<Option<u8>>) -> Result<Self, RecordsError> {
        Self::Phq9 {
            answers,
            total: None,
        }
        .normalized()
    }

    pub fn gad7(answers: Vec<Option<u8>>) -> Result<Self, RecordsError> {
        Self::Gad7 {
            answers,
            total: None,
        }
        .normalized()
    }

    pub fn kind(&self) -> ObservationKind {
        match self {
            Self::BloodPressure { .. } => ObservationKind::BloodPressure,
            Self::Temperature { .. } => ObservationKind::Temperature,
            Self::Weight { .. } => ObservationKind::Weight,
            Self::Length { .. } => ObservationKind::Length,
            Self::HeadCircumference { .. } => ObservationKind::HeadCircumference,
            Self::Feeding { .. } => ObservationKind::Feeding,
            Self::Nappy { .. } => ObservationKind::Nappy,
            Self::Epds { .. } => ObservationKind::Epds,
            Self::Phq9 { .. } => ObservationKind::Phq9,
            Self::Gad7 { .. } => ObservationKind::Gad7,
        }
    }

    /// Validates the entered values and recomputes the normalised ones from them.
    pub fn normalized(self) -> Result<Self, RecordsError> {
        let invalid = |error: &dyn std::fmt::Display| RecordsError::InvalidInput(error.to_string());
        Ok(match self {
            Self::BloodPressure { reading, .. } => {
                let assessed = assess_blood_pressure(reading, &BloodPressureThresholds::default())
                    .map_err(|error| invalid(&error))?;
                Self::BloodPressure {
                    reading,
                    systolic_mmhg: assessed.systolic_mmhg,
                    diastolic_mmhg: assessed.diastolic_mmhg,
                }
            }
            Self::Temperature { entered, .. } => {
                let assessed = assess_temperature(entered, &TemperatureThresholds::default())
                    .map_err(|error| invalid(&error))?;
                Self::Temperature {
                    entered,
                    celsius: assessed.celsius,
                }
            }
            Self::Weight { entered, .. } => Self::Weight {
                entered,
                kilograms: within(entered.to_kilograms(), WEIGHT_RANGE_KG, "weight", "kg")?,
            },
            Self::Length { entered, .. } => Self::Length {
                entered,
                centimetres: within(entered.to_centimetres(), LENGTH_RANGE_CM, "length", "cm")?,
            },
            Self::HeadCircumference { entered, .. } => Self::HeadCircumference {
                entered,
                centimetres: within(
                    entered.to_centimetres(),
                    HEAD_CIRCUMFERENCE_RANGE_CM,
                    "head circumference",
                    "cm",
                )?,
            },
            Self::Feeding {
                method,
                breast_side,
                duration_minutes,
                volume_ml,
            } => {
                if breast_side.is_some() && method != FeedingMethod::Breast {
                    return Err(RecordsError::InvalidInput(
                        "a breast side applies only to a breastfeed".to_owned(),
                    ));
                }
                if duration_minutes.is_some_and(|minutes| minutes > MAX_FEEDING_MINUTES)
                    || volume_ml.is_some_and(|ml| ml > MAX_FEEDING_ML)
                {
                    return Err(RecordsError::InvalidInput(format!(
                        "a feed lasts at most {MAX_FEEDING_MINUTES} minutes and {MAX_FEEDING_ML} ml"
                    )));
                }
                Self::Feeding {
                    method,
                    breast_side,
                    duration_minutes,
                    volume_ml,
                }
            }
            nappy @ Self::Nappy { .. } => nappy,
            Self::Epds { answers, .. } => {
                let scored = score_epds(&answers, EpdsThresholds::default())
                    .map_err(|error| invalid(&error))?;
                let total = scored.result.total;
                Self::Epds { answers, total }
            }
            Self::Phq9 { answers, .. } => {
                let total = score_phq9(&answers).map_err(|error| invalid(&error))?.total;
                Self::Phq9 { answers, total }
            }
            Self::Gad7 { answers, .. } => {
                let total = score_gad7(&answers).map_err(|error| invalid(&error))?.total;
                Self::Gad7 { answers, total }
            }
        })
    }
}

fn within(
    value: f64,
    (low, high): (f64, f64),
    name: &str,
    unit: &str,
) -> Result<f64, RecordsError> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(RecordsError::InvalidInput(format!(
            "{name} must be {low} to {high} {unit}; check the value and its unit"
        )))
    }
}

/// Data class of an observation: screening questionnaires are mental health, anything about an
/// infant is infant data, and the rest is maternal.
pub(super) fn data_class(kind: ObservationKind, infant: bool) -> DataClass {
    match kind {
        ObservationKind::Epds | ObservationKind::Phq9 | ObservationKind::Gad7 => {
            DataClass::MentalHealth
        }
        _ if infant => DataClass::Infant,
        _ => DataClass::Maternal,
    }
}
