//! Wire types of the portal's server functions.

use serde::{Deserialize, Serialize};

use crate::clinical::screening::Instrument;
use crate::growth_chart::GrowthChartData;
use crate::identity::Role;
use crate::ids::InfantId;

/// A member of the patient's care team, as shown to her.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareTeamContact {
    pub name: String,
    pub role: Role,
}

/// An appointment that has not started yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpcomingAppointment {
    /// RFC 3339 start time.
    pub starts_at: String,
    /// Purpose of the appointment, in words.
    pub purpose: String,
    pub clinician_name: String,
}

/// A task that waits for the patient in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AwaitingItem {
    /// A questionnaire her care team assigned.
    AssignedScreening {
        instrument: Instrument,
        assigned_by: String,
    },
    /// No EPDS check-in within the check-in interval.
    EpdsDue,
    /// Her record has no infant yet, so the feeding and growth logs cannot be used.
    AddInfant,
}

/// One of the patient's infants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfantSummary {
    pub id: InfantId,
    pub name: String,
    /// ISO 8601 date.
    pub birth_date: String,
    pub age_days: u32,
}

/// Everything the portal home shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalHome {
    pub care_team: Vec<CareTeamContact>,
    pub appointments: Vec<UpcomingAppointment>,
    pub awaiting: Vec<AwaitingItem>,
    pub infants: Vec<InfantSummary>,
    /// Completed weeks since her most recent delivery, when an infant is recorded.
    pub weeks_postpartum: Option<u32>,
}

/// A screening questionnaire waiting for the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedScreening {
    pub instrument: Instrument,
    pub assigned_by: String,
    /// RFC 3339.
    pub assigned_at: String,
}

/// Result of a submitted questionnaire, as shown to the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInOutcome {
    pub instrument: Instrument,
    pub total: u8,
    pub max_total: u8,
    /// Whether the self-harm item scored above 0, so that crisis resources are shown.
    pub crisis: bool,
    /// Whether a care protocol fired, so that her care team follows the answers up.
    pub follow_up: bool,
}

/// Kind of entry in the feeding log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedingLogKind {
    Breastfeed,
    ExpressedMilkBottle,
    FormulaBottle,
    Nappy,
}

/// An entry of the feeding log or the vitals list, described in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// RFC 3339.
    pub observed_at: String,
    pub summary: String,
}

/// Sex of an infant, which selects the WHO growth table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InfantSex {
    Female,
    Male,
}

/// A growth measurement the patient can enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthMeasure {
    Weight,
    Length,
    HeadCircumference,
}

impl GrowthMeasure {
    pub const ALL: [GrowthMeasure; 3] = [
        GrowthMeasure::Weight,
        GrowthMeasure::Length,
        GrowthMeasure::HeadCircumference,
    ];

    pub fn label(self) -> &'static str {
        match self {
            GrowthMeasure::Weight => "Weight",
            GrowthMeasure::Length => "Length",
            GrowthMeasure::HeadCircumference => "Head circumference",
        }
    }
}

/// A growth measurement compared with the WHO standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowthResult {
    pub measure: GrowthMeasure,
    /// The value in kg or cm, as shown, such as "4.2 kg".
    pub value: String,
    /// ISO 8601 date of the measurement.
    pub date: String,
    /// z-score to two decimals, never "-0.00".
    pub z_score: String,
    pub percentile: String,
}

/// An infant's growth: the latest result of each measure and a chart per measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthView {
    pub infant: InfantSummary,
    pub latest: Vec<GrowthResult>,
    pub charts: Vec<GrowthChartData>,
}

/// Result of a recorded vital sign, as shown to the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VitalsOutcome {
    /// The reading in words, such as "Blood pressure 142/91 mmHg".
    pub summary: String,
    /// Whether a care protocol fired, so that her care team follows the reading up.
    pub follow_up: bool,
    /// Whether the reading is in the range that needs care at once.
    pub urgent: bool,
}

/// Unit in which a growth measurement is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthUnit {
    Kilograms,
    Grams,
    Pounds,
    Centimetres,
    Inches,
}

impl GrowthUnit {
    /// Units offered for a measure: mass units for weight, length units otherwise.
    pub fn for_measure(measure: GrowthMeasure) -> &'static [GrowthUnit] {
        match measure {
            GrowthMeasure::Weight => {
                &[GrowthUnit::Kilograms, GrowthUnit::Grams, GrowthUnit::Pounds]
            }
            _ => &[GrowthUnit::Centimetres, GrowthUnit::Inches],
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            GrowthUnit::Kilograms => "kg",
            GrowthUnit::Grams => "g",
            GrowthUnit::Pounds => "lb",
            GrowthUnit::Centimetres => "cm",
            GrowthUnit::Inches => "in",
        }
    }
}
