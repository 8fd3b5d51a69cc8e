//! Access control: which role may do what with which class of patient data, the policy
//! decision that combines role permission, data scope, time window and consent, and the entry
//! point that applies it to every request for patient data.
//!
//! Access is granted only when every condition holds, so any single "no" denies.

pub mod api;
#[cfg(feature = "ssr")]
pub mod emergency;
#[cfg(feature = "ssr")]
pub mod gate;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod pages;
pub mod permissions;
#[cfg(feature = "ssr")]
pub mod policy;
#[cfg(feature = "ssr")]
pub mod settings;
#[cfg(feature = "ssr")]
mod tables;

#[cfg(feature = "ssr")]
pub use guard::{Actor, Authorization, authorize};
pub use permissions::{Action, DataCategory, PermissionTable};

use serde::{Deserialize, Serialize};

/// Urgency that a clinician states in a break-glass emergency access request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyLevel {
    /// Life or limb at risk now; granted at once when the clinic allows it.
    Critical,
    /// Needed soon; waits for a compliance officer or admin.
    Urgent,
}

impl EmergencyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            EmergencyLevel::Critical => "critical",
            EmergencyLevel::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [EmergencyLevel::Critical, EmergencyLevel::Urgent]
            .into_iter()
            .find(|level| level.as_str() == text)
    }
}

/// State of a break-glass request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyStatus {
    Pending,
    Granted,
    Denied,
}

impl EmergencyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmergencyStatus::Pending => "pending",
            EmergencyStatus::Granted => "granted",
            EmergencyStatus::Denied => "denied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            EmergencyStatus::Pending,
            EmergencyStatus::Granted,
            EmergencyStatus::Denied,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

impl DataCategory {
    /// Name stored in the database and sent on the wire, as its serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCategory::Maternal => "maternal",
            DataCategory::Infant => "infant",
            DataCategory::MentalHealth => "mental_health",
            DataCategory::FamilyHistory => "family_history",
            DataCategory::Contact => "contact",
            DataCategory::CareLogistics => "care_logistics",
        }
    }

    /// Reads a name written by [`DataCategory::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        DataCategory::ALL
            .into_iter()
            .find(|category| category.as_str() == text)
    }

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            DataCategory::Maternal => "Maternal health",
            DataCategory::Infant => "Infant feeding and growth",
            DataCategory::MentalHealth => "Mental health",
            DataCategory::FamilyHistory => "Family history",
            DataCategory::Contact => "Contact and identity details",
            DataCategory::CareLogistics => "Appointments and care team",
        }
    }
}
