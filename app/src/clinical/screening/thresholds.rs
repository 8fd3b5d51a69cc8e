//! A clinic's EPDS cut-offs, validated when built and when deserialized.

use serde::{Deserialize, Serialize};

use super::EPDS_MAX_TOTAL;

/// A clinic's EPDS cut-offs, which differ between guidelines.
///
/// The defaults are 10 for possible depression and 13 for probable depression. Every value is
/// valid, including one read by serde: both cut-offs lie within the EPDS range 0 to 30, and the
/// possible-depression cut-off is below the probable-depression one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EpdsThresholdFields")]
pub struct EpdsThresholds {
    possible_depression: u8,
    probable_depression: u8,
}

/// Unvalidated form of [`EpdsThresholds`], as stored in clinic settings.
#[derive(Deserialize)]
struct EpdsThresholdFields {
    possible_depression: u8,
    probable_depression: u8,
}

impl TryFrom<EpdsThresholdFields> for EpdsThresholds {
    type Error = ThresholdError;

    fn try_from(fields: EpdsThresholdFields) -> Result<Self, Self::Error> {
        Self::new(fields.possible_depression, fields.probable_depression)
    }
}

/// EPDS cut-offs that break the rules in [`EpdsThresholds`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("EPDS cut-off {value} for {name} is above the maximum total of {EPDS_MAX_TOTAL}.")]
    AboveMaximum { name: &'static str, value: u8 },
    #[error(
        "The EPDS cut-off for possible depression ({possible}) must be below the cut-off for \
         probable depression ({probable})."
    )]
    NotAscending { possible: u8, probable: u8 },
}

impl EpdsThresholds {
    /// Checks and builds a clinic's cut-offs: a total at or above a cut-off falls in its band.
    pub fn new(possible_depression: u8, probable_depression: u8) -> Result<Self, ThresholdError> {
        for (name, value) in [
            ("possible depression", possible_depression),
            ("probable depression", probable_depression),
        ] {
            if value > EPDS_MAX_TOTAL {
                return Err(ThresholdError::AboveMaximum { name, value });
            }
        }
        if possible_depression >= probable_depression {
            return Err(ThresholdError::NotAscending {
                possible: possible_depression,
                probable: probable_depression,
            });
        }

        Ok(Self {
            possible_depression,
            probable_depression,
        })
    }

    /// Lowest total that counts as possible depression.
    pub fn possible_depression(&self) -> u8 {
        self.possible_depression
    }

    /// Lowest total that counts as probable depression.
    pub fn probable_depression(&self) -> u8 {
        self.probable_depression
    }
}

impl Default for EpdsThresholds {
    fn default() -> Self {
        Self {
            possible_depression: 10,
            probable_depression: 13,
        }
    }
}
