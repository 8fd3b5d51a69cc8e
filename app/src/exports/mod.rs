//! Data-sharing exports: one patient's record, in the categories a clinician chooses, released
//! to a party that the patient's data-sharing consent names.
//!
//! A clinician on the patient's care team requests an export, and the request waits in the
//! `data_exports` queue. The worker ([`worker`]) builds it into a bundle encrypted under the
//! patient's data key, and the requester then downloads it once. The access policy and the
//! data-sharing consent are checked at each step, each at its own instant: when the request is
//! made, when the bundle is built, and when it is released. If either no longer allows the
//! export, nothing is released, the stored bundle is deleted and the export is withheld with
//! the reason. Every step is audited as an export of the patient's data, so it is listed in her
//! access history.

mod api;
#[cfg(feature = "ssr")]
mod bundle;
#[cfg(feature = "ssr")]
mod lifecycle;
pub mod pages;
#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
pub mod worker;

pub use api::*;
#[cfg(feature = "ssr")]
pub use lifecycle::{NewExport, build_export_at, queue_export, release_export_at};
#[cfg(feature = "ssr")]
pub use store::ExportRow;

use serde::{Deserialize, Serialize};

use crate::access::DataCategory;
use crate::ids::{ExportId, PatientId};

/// Categories an export may contain: the clinical classes and contact details. Care logistics
/// stay inside the clinic.
pub const EXPORTABLE: &[DataCategory] = &[
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::FamilyHistory,
    DataCategory::Contact,
];

/// State of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    /// Waiting for the worker.
    Queued,
    /// Built and stored encrypted, waiting for the requester to download it.
    Ready,
    /// Downloaded; the stored bundle is deleted.
    Released,
    /// Not released, because the policy or the consent stopped allowing it.
    Withheld,
}

impl ExportStatus {
    pub const ALL: [ExportStatus; 4] = [
        ExportStatus::Queued,
        ExportStatus::Ready,
        ExportStatus::Released,
        ExportStatus::Withheld,
    ];

    /// Value stored in `data_exports.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Ready => "ready",
            ExportStatus::Released => "released",
            ExportStatus::Withheld => "withheld",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// An export, as shown to its requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportView {
    pub id: ExportId,
    pub patient_id: PatientId,
    pub recipient: String,
    pub purpose: String,
    pub categories: Vec<DataCategory>,
    pub status: ExportStatus,
    pub requested_at: String,
    pub built_at: Option<String>,
    pub released_at: Option<String>,
    pub withheld_reason: Option<String>,
}

/// A released bundle: the JSON document handed to the recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportBundle {
    pub id: ExportId,
    pub recipient: String,
    pub categories: Vec<DataCategory>,
    /// The bundle as JSON text.
    pub content: String,
}
