//! Server-side helpers of the chart's server functions: the signed-in actor and the conversion
//! of record-store values to wire types.

use std::sync::Arc;

use crate::access::{Actor, DataCategory};
use crate::chart::{AppointmentView, EntryView, NoteView, ObservationView};
use crate::error::AppError;
use crate::identity::server::auth;
use crate::identity::support::timestamp;
use crate::records::{Appointment, Classification, ClinicalEntry, ClinicalNote, Observation};
use crate::services::Services;

/// Returns the services and the signed-in actor of the request, or 401.
pub async fn begin() -> Result<(Arc<Services>, Actor), AppError> {
    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    Ok((services, Actor::from_signed_in(&user)))
}

/// Returns the classification of a clinical category; contact details and care logistics have
/// no entries or notes.
pub fn classification(category: DataCategory) -> Result<Classification, AppError> {
    Classification::from_category(category).ok_or_else(|| {
        AppError::invalid_input(
            "Entries and notes are maternal, infant, mental health or family history data.",
        )
    })
}

/// Parses row ids sent by the browser; a malformed id gets the same error as a missing row.
pub fn row_ids(ids: &[String]) -> Result<Vec<uuid::Uuid>, AppError> {
    if ids.is_empty() || ids.len() > 100 {
        return Err(AppError::invalid_input(
            "Ask for 1 to 100 records at a time.",
        ));
    }
    ids.iter()
        .map(|id| crate::identity::support::parse_id(id))
        .collect()
}

pub fn entry_view(entry: ClinicalEntry) -> EntryView {
    EntryView {
        id: entry.id.to_string(),
        patient_id: entry.patient_id,
        category: entry.classification.category(),
        infant_id: entry.infant_id,
        entry_type: entry.entry_type,
        recorded_at: timestamp(entry.recorded_at),
        author: entry.author,
        payload: entry.payload.to_string(),
    }
}

pub fn observation_view(observation: Observation) -> ObservationView {
    ObservationView {
        id: observation.id.to_string(),
        patient_id: observation.patient_id,
        infant_id: observation.infant_id,
        kind: observation.value.kind().as_str().to_owned(),
        observed_at: timestamp(observation.observed_at),
        author: observation.author,
        value: serde_json::to_string(&observation.value).unwrap_or_default(),
    }
}

pub fn note_view(note: ClinicalNote) -> NoteView {
    NoteView {
        id: note.id.to_string(),
        category: note.classification.category(),
        written_at: timestamp(note.written_at),
        author: note.author,
        body: note.body,
    }
}

pub fn appointment_view(appointment: Appointment) -> AppointmentView {
    AppointmentView {
        id: appointment.id.to_string(),
        clinician: appointment.clinician,
        starts_at: timestamp(appointment.starts_at),
        ends_at: timestamp(appointment.ends_at),
        kind: appointment.kind.as_str().to_owned(),
        status: appointment.status.as_str().to_owned(),
    }
}
