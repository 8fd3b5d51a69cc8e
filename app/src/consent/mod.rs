//! Consent management: templates with versioned texts, the patients' signed grants, and the
//! consent ledger.
//!
//! A template has a kind ([`ConsentKind`]) and numbered versions. Each version's text is stored
//! with its SHA-256, and a patient signs that hash with a passkey when she grants the consent.
//! A grant names the data categories, the recipient roles or named parties, the purpose, the
//! start and an optional expiry. It applies from its start until it expires or is revoked, each
//! at its instant, and it stays valid after a newer version of its template is published.
//!
//! The ledger records every grant, revocation and expiry as an append-only entry. Each entry
//! carries the hash of the patient's previous entry and of the clinic's previous entry, and
//! a digest of the grant's fields, so [`verify_ledger`] detects an edited grant or entry.
//!
//! The repository functions take already-verified signature evidence: the server function
//! checks the passkey assertion before it calls [`grant_consent`].

#[cfg(feature = "ssr")]
mod access;
mod api;
#[cfg(feature = "ssr")]
pub mod coverage;
#[cfg(feature = "ssr")]
mod error;
#[cfg(feature = "ssr")]
mod grants;
#[cfg(feature = "ssr")]
mod hash;
#[cfg(feature = "ssr")]
mod ledger;
pub mod pages;
#[cfg(feature = "ssr")]
mod schema;
#[cfg(feature = "ssr")]
mod sharing;
#[cfg(feature = "ssr")]
pub mod signature;
#[cfg(feature = "ssr")]
mod templates;
#[cfg(feature = "ssr")]
mod verify;

#[cfg(feature = "ssr")]
pub use error::ConsentError;
#[cfg(feature = "ssr")]
pub use grants::{
    ConsentGrant, NewConsentGrant, SignatureEvidence, applying_versions, care_consents,
    grant_consent, list_patient_grants, patients_care_consents, revoke_consent,
};
#[cfg(feature = "ssr")]
pub use hash::text_hash;
#[cfg(feature = "ssr")]
pub use ledger::{LedgerEvent, record_expiries};
#[cfg(feature = "ssr")]
pub use sharing::sharing_consent_covers;
#[cfg(feature = "ssr")]
pub use templates::{
    ConsentTemplate, ConsentVersion, add_template_version, create_template, current_versions,
    find_version, list_templates,
};
#[cfg(feature = "ssr")]
pub use verify::{LedgerBreak, LedgerReport, verify_ledger, verify_patient_ledger};

pub use api::*;

use serde::{Deserialize, Serialize};

/// Kind of a consent template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Lets the patient's care team use the chosen data categories for her care. The access
    /// policy reads only grants of this kind.
    CareCoordination,
    /// Includes the patient's anonymized data in research cohorts.
    ResearchParticipation,
    /// Shares the chosen data categories with parties outside the clinic, named in the grant.
    DataSharing,
}

impl ConsentKind {
    pub const ALL: [ConsentKind; 3] = [
        ConsentKind::CareCoordination,
        ConsentKind::ResearchParticipation,
        ConsentKind::DataSharing,
    ];

    /// Value stored in `consent_templates.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::CareCoordination => "care_coordination",
            ConsentKind::ResearchParticipation => "research_participation",
            ConsentKind::DataSharing => "data_sharing",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ConsentKind::CareCoordination => "Care coordination",
            ConsentKind::ResearchParticipation => "Research participation",
            ConsentKind::DataSharing => "Data sharing with named parties",
        }
    }
}
