//! Server functions of consent management and the values they send to the browser.

mod admin;
mod patient;

pub use admin::*;
pub use patient::*;

use serde::{Deserialize, Serialize};

use super::ConsentKind;
use crate::access::DataCategory;
use crate::identity::Role;
use crate::ids::{ConsentGrantId, ConsentTemplateId, ConsentVersionId};

/// The newest text of a consent template, as a patient reads it before signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentText {
    pub version_id: ConsentVersionId,
    pub kind: ConsentKind,
    pub title: String,
    pub version: i32,
    pub body: String,
    /// SHA-256 of the body in hexadecimal: the value her passkey signs.
    pub text_hash: String,
    /// Whether she has an applying grant of this version.
    pub signed: bool,
    /// Whether she has an applying grant of an older version only, so she is asked to consent
    /// again.
    pub reconsent_needed: bool,
}

/// State of a grant at the time of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Starts later.
    Scheduled,
    Active,
    Expired,
    Revoked,
}

impl ConsentStatus {
    pub fn label(self) -> &'static str {
        match self {
            ConsentStatus::Scheduled => "Starts later",
            ConsentStatus::Active => "Active",
            ConsentStatus::Expired => "Expired",
            ConsentStatus::Revoked => "Revoked",
        }
    }
}

/// One of the patient's grants as shown to her. Instants are RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub id: ConsentGrantId,
    pub kind: ConsentKind,
    pub title: String,
    pub version: i32,
    /// Whether a newer version of the template exists.
    pub superseded: bool,
    pub categories: Vec<DataCategory>,
    pub recipient_roles: Vec<Role>,
    pub named_parties: Vec<String>,
    pub purpose: String,
    pub starts_at: String,
    pub expires_at: Option<String>,
    pub signer_name: String,
    pub witness_name: Option<String>,
    pub granted_at: String,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<String>,
    pub status: ConsentStatus,
}

/// A patient's request to grant a consent, with the passkey assertion that signs its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRequest {
    pub ceremony_id: String,
    /// The assertion as JSON from `PublicKeyCredential.toJSON()`.
    pub credential: String,
    pub version_id: ConsentVersionId,
    pub categories: Vec<DataCategory>,
    pub recipient_roles: Vec<Role>,
    pub named_parties: Vec<String>,
    pub purpose: String,
    /// Last day the consent applies, as `YYYY-MM-DD`; it expires at the following midnight UTC.
    pub expires_on: Option<String>,
    pub signer_name: String,
    pub witness_name: Option<String>,
}

/// Result of recomputing the patient's consent ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentHistoryCheck {
    pub entries: usize,
    pub intact: bool,
    /// The first broken link, when the chain is not intact.
    pub problem: Option<String>,
}

/// A template as an admin manages it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSummary {
    pub id: ConsentTemplateId,
    pub kind: ConsentKind,
    pub title: String,
    pub current_version: Option<i32>,
    /// Text of the newest version.
    pub body: Option<String>,
}

/// How many patients hold an applying grant of one template; never a grant's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCoverage {
    pub template_id: ConsentTemplateId,
    pub kind: ConsentKind,
    pub title: String,
    pub current_version: Option<i32>,
    pub patients: i64,
    pub consenting: i64,
    pub consenting_current: i64,
}

/// Name of a data category shown to people.
pub fn category_label(category: DataCategory) -> &'static str {
    match category {
        DataCategory::Maternal => "Maternal health (birth, vitals, postnatal visits)",
        DataCategory::Infant => "Baby's growth and feeding",
        DataCategory::MentalHealth => "Mental health (screenings, therapy notes)",
        DataCategory::FamilyHistory => "Family history",
        DataCategory::Contact => "Contact and identity details",
        DataCategory::CareLogistics => "Appointments and care team",
    }
}

/// Roles a care-coordination consent can admit.
pub const CARE_ROLES: [Role; 5] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
    Role::CareCoordinator,
];
