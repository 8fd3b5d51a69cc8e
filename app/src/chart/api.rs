//! Server functions of the clinician chart and the patient portal. Each one authorizes through
//! the access policy in its first lines, before it reads or writes anything.

use leptos::prelude::*;

use crate::access::DataCategory;
use crate::chart::{AppointmentView, EntryView, NoteView, ObservationView, PatientSummary};
use crate::error::AppError;
use crate::ids::{InfantId, PatientId};

/// Purpose recorded when a patient uses her own record in the portal.
pub const PORTAL_PURPOSE: &str = "patient portal";

/// Reads a patient's name and date of birth.
#[server(prefix = "/api", endpoint = "chart/summary")]
pub async fn read_patient_summary(
    patient_id: PatientId,
    purpose: String,
) -> Result<PatientSummary, AppError> {
    use crate::access::{Action, authorize};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::Contact,
        Action::Read,
        &purpose,
    )
    .await?;
    super::open_server::summary(&mut conn, &services, &authorization).await
}

/// Lists a patient's clinical entries of one category.
#[server(prefix = "/api", endpoint = "chart/entries")]
pub async fn list_chart_entries(
    patient_id: PatientId,
    category: DataCategory,
    purpose: String,
) -> Result<Vec<EntryView>, AppError> {
    use crate::access::{Action, authorize};
    use crate::records::{self, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let classification = super::server::classification(category)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Read,
        &purpose,
    )
    .await?;

    let keys = RecordKeys::from_services(&services);
    let entries =
        records::list_clinical_entries(&mut conn, keys, &authorization, classification).await?;
    Ok(entries.into_iter().map(super::server::entry_view).collect())
}

/// Adds a structured clinical entry; `payload` is a JSON object.
#[server(prefix = "/api", endpoint = "chart/entries/add")]
pub async fn add_chart_entry(
    patient_id: PatientId,
    category: DataCategory,
    entry_type: String,
    payload: String,
    purpose: String,
) -> Result<String, AppError> {
    use crate::access::{Action, authorize};
    use crate::records::{self, NewClinicalEntry, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let classification = super::server::classification(category)?;
    let payload: serde_json::Value = serde_json::from_str(&payload)
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or_else(|| AppError::invalid_input("The entry's content must be a JSON object."))?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Write,
        &purpose,
    )
    .await?;

    let new = NewClinicalEntry {
        classification,
        infant_id: None,
        entry_type,
        recorded_at: chrono::Utc::now(),
        payload,
    };
    let keys = RecordKeys::from_services(&services);
    let id = records::add_clinical_entry(&mut conn, keys, &authorization, &new).await?;
    Ok(id.to_string())
}

/// Reads entries by id, of one or more patients. One entry the caller may not read, or that
/// does not exist, refuses the whole request.
#[server(prefix = "/api", endpoint = "chart/entries/by-id")]
pub async fn read_chart_entries(
    ids: Vec<String>,
    purpose: String,
) -> Result<Vec<EntryView>, AppError> {
    use crate::access::{Action, guard};
    use crate::records::{self, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let ids = super::server::row_ids(&ids)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let mut targets = Vec::with_capacity(ids.len());
    for id in &ids {
        let owner = records::entry_owner(&mut conn, *id).await?;
        targets.push(owner.ok_or_else(AppError::not_found)?);
    }
    let authorizations =
        guard::authorize_all(&mut conn, &actor, &targets, Action::Read, &purpose).await?;

    let keys = RecordKeys::from_services(&services);
    let mut found = Vec::with_capacity(ids.len());
    for (id, authorization) in ids.iter().zip(&authorizations) {
        let entry = records::read_clinical_entry(&mut conn, keys, authorization, *id).await?;
        found.push(super::server::entry_view(entry));
    }
    Ok(found)
}

/// Lists a patient's observations of one category: maternal vitals, infant growth and feeding,
/// or mental health screens.
#[server(prefix = "/api", endpoint = "chart/observations")]
pub async fn list_chart_observations(
    patient_id: PatientId,
    category: DataCategory,
    purpose: String,
) -> Result<Vec<ObservationView>, AppError> {
    use crate::access::{Action, authorize};
    use crate::records::{self, ObservationKind, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    if !super::OBSERVED.contains(&category) {
        return Err(AppError::invalid_input(
            "Observations are maternal, infant or mental health data.",
        ));
    }
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Read,
        &purpose,
    )
    .await?;

    let keys = RecordKeys::from_services(&services);
    let observations =
        records::list_observations(&mut conn, keys, &authorization, ObservationKind::ALL).await?;
    Ok(observations
        .into_iter()
        .map(super::server::observation_view)
        .collect())
}

/// Records an observation of the patient or, with `infant_id`, of her infant. `value` is the
/// JSON of a typed observation value; its kind and subject decide the data category.
#[server(prefix = "/api", endpoint = "chart/observations/add")]
pub async fn add_chart_observation(
    patient_id: PatientId,
    infant_id: Option<InfantId>,
    value: String,
    purpose: String,
) -> Result<String, AppError> {
    use crate::access::{Action, authorize};
    use crate::records::{self, NewObservation, ObservationValue, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let value: ObservationValue = serde_json::from_str(&value)
        .map_err(|_| AppError::invalid_input("The observation value could not be read."))?;
    let category = records::observation_category(value.kind(), infant_id.is_some());
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Write,
        &purpose,
    )
    .await?;

    let new = NewObservation {
        infant_id,
        observed_at: chrono::Utc::now(),
        value,
    };
    let keys = RecordKeys::from_services(&services);
    let id = records::add_observation(&mut conn, keys, &authorization, &new).await?;
    Ok(id.to_string())
}

/// Reads observations by id; one that the caller may not read refuses the whole request.
#[server(prefix = "/api", endpoint = "chart/observations/by-id")]
pub async fn read_chart_observations(
    ids: Vec<String>,
    purpose: String,
) -> Result<Vec<ObservationView>, AppError> {
    use crate::access::{Action, guard};
    use crate::records::{self, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let ids = super::server::row_ids(&ids)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let mut targets = Vec::with_capacity(ids.len());
    for id in &ids {
        let owner = records::observation_owner(&mut conn, *id).await?;
        targets.push(owner.ok_or_else(AppError::not_found)?);
    }
    let authorizations =
        guard::authorize_all(&mut conn, &actor, &targets, Action::Read, &purpose).await?;

    let keys = RecordKeys::from_services(&services);
    let mut found = Vec::with_capacity(ids.len());
    for (id, authorization) in ids.iter().zip(&authorizations) {
        let observation = records::read_observation(&mut conn, keys, authorization, *id).await?;
        found.push(super::server::observation_view(observation));
    }
    Ok(found)
}

/// Lists a patient's notes of one category.
#[server(prefix = "/api", endpoint = "chart/notes")]
pub async fn list_chart_notes(
    patient_id: PatientId,
    category: DataCategory,
    purpose: String,
) -> Result<Vec<NoteView>, AppError> {
    use crate::access::{Action, authorize};
    use crate::records::{self, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let classification = super::server::classification(category)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Read,
        &purpose,
    )
    .await?;

    let keys = RecordKeys::from_services(&services);
    let notes = records::list_notes(&mut conn, keys, &authorization, classification).await?;
    Ok(notes.into_iter().map(super::server::note_view).collect())
}

/// Adds a free-text note of one category.
#[server(prefix = "/api", endpoint = "chart/notes/add")]
pub async fn add_chart_note(
    patient_id: PatientId,
    category: DataCategory,
    body: String,
    purpose: String,
) -> Result<String, AppError> {
    use crate::access::{Action, authorize};
    use crate::records::{self, NewClinicalNote, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let classification = super::server::classification(category)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Write,
        &purpose,
    )
    .await?;

    let new = NewClinicalNote {
        classification,
        written_at: chrono::Utc::now(),
        body,
    };
    let keys = RecordKeys::from_services(&services);
    let id = records::add_note(&mut conn, keys, &authorization, &new).await?;
    Ok(id.to_string())
}

/// Lists a patient's appointments.
#[server(prefix = "/api", endpoint = "chart/appointments")]
pub async fn list_chart_appointments(
    patient_id: PatientId,
    purpose: String,
) -> Result<Vec<AppointmentView>, AppError> {
    use crate::access::{Action, authorize};
    use crate::records;

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::CareLogistics,
        Action::Read,
        &purpose,
    )
    .await?;

    let appointments = records::list_appointments(&mut conn, &authorization).await?;
    Ok(appointments
        .into_iter()
        .map(super::server::appointment_view)
        .collect())
}

/// Reads the signed-in patient's own name and date of birth, with her record's id, which the
/// portal uses for the chart functions.
#[server(prefix = "/api", endpoint = "portal/summary")]
pub async fn my_summary() -> Result<PatientSummary, AppError> {
    use crate::access::{Action, authorize};
    use crate::records::{self, PatientField, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient_id = records::patient_of_account(&mut conn, actor.clinic, actor.user)
        .await?
        .ok_or_else(AppError::not_found)?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::Contact,
        Action::Read,
        PORTAL_PURPOSE,
    )
    .await?;

    let fields = [PatientField::FullName, PatientField::DateOfBirth];
    let keys = RecordKeys::from_services(&services);
    let identity = records::read_patient_identity(&mut conn, keys, &authorization, &fields).await?;
    Ok(PatientSummary {
        patient_id,
        full_name: identity.full_name.unwrap_or_default(),
        date_of_birth: identity
            .date_of_birth
            .map(|date| date.to_string())
            .unwrap_or_default(),
    })
}

/// Finds patients of the clinician's clinic whose name contains every word of `name`, so that
/// a clinician can name the record for a break-glass request. Returns record ids only; each
/// match is audited as a read of the searched name. Clinicians and care coordinators.
#[server(prefix = "/api", endpoint = "chart/find")]
pub async fn find_patients(name: String, purpose: String) -> Result<Vec<PatientId>, AppError> {
    use crate::access::guard;
    use crate::identity::Role;
    use crate::records::{self, PatientQuery, RecordKeys};

    let (services, actor) = super::server::begin().await?;
    if name.split_whitespace().count() < 2 {
        return Err(AppError::invalid_input(
            "Enter the patient's first and last name.",
        ));
    }
    let mut conn = crate::db::connection(&services.pool).await?;
    if !actor.roles.iter().any(|role| role.may_invite_patients())
        || actor.roles.contains(&Role::Patient)
    {
        let category = crate::access::DataCategory::Contact;
        let action = crate::access::Action::Read;
        return Err(guard::deny(&mut conn, &actor, None, category, action, &purpose).await);
    }

    let access = records::AccessContext {
        actor: actor.user,
        actor_roles: actor.roles.clone(),
        clinic_id: actor.clinic,
        purpose,
        emergency: false,
        client: actor.client.clone(),
    };
    let keys = RecordKeys::from_services(&services);
    let query = PatientQuery::Name(name);
    Ok(records::search_patients(&mut conn, keys, &access, &query).await?)
}
