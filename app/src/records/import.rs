//! Bulk import of whole patient records in one transaction, for loading a synthetic cohort or
//! migrating records from another system.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::access::validate_purpose;
use super::appointments::{
    NewAppointment, NewCareTeamMember, appointment_row, care_team_row, insert_appointments,
    insert_care_team,
};
use super::entries::{NewClinicalEntry, encrypt_entry, insert_entries};
use super::infants::{NewInfant, encrypt_infant, insert_infants};
use super::message_import::{ImportedThread, ThreadRows};
use super::observations::{NewObservation, encrypt_observation, insert_observations};
use super::patients::{NewPatient, encrypt_patient, insert_patients};
use super::{RecordKeys, RecordsError};
use crate::audit::{AccessAction, AccessOutcome, ClientInfo, NewAccessEvent, record_accesses};
use crate::ids::{ClinicId, PatientId, UserId};

/// One patient's whole record to import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPatient {
    pub patient: NewPatient,
    /// Author of the patient's observations and clinical entries.
    pub author: UserId,
    pub infants: Vec<ImportedInfant>,
    /// Observations of the mother; their `infant_id` must be `None`.
    pub observations: Vec<NewObservation>,
    /// Entries about the mother; their `infant_id` must be `None`.
    pub entries: Vec<NewClinicalEntry>,
    pub care_team: Vec<NewCareTeamMember>,
    pub appointments: Vec<NewAppointment>,
    /// Message threads with members of her care team; they need `patient.user_id`.
    pub threads: Vec<ImportedThread>,
}

/// An infant with the observations and entries about her or him. Their `infant_id` is set to
/// the new infant's id.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedInfant {
    pub infant: NewInfant,
    pub observations: Vec<NewObservation>,
    pub entries: Vec<NewClinicalEntry>,
}

/// Rows of every table for a batch of patients.
#[derive(Default)]
struct Batch {
    patients: Vec<super::patients::PatientRow>,
    tokens: Vec<super::patients::NameTokenRow>,
    infants: Vec<super::infants::InfantRow>,
    observations: Vec<super::observations::ObservationRow>,
    entries: Vec<super::entries::EntryRow>,
    care_team: Vec<super::appointments::CareTeamRow>,
    appointments: Vec<super::appointments::AppointmentRow>,
    threads: ThreadRows,
}

/// Imports whole patient records into `clinic_id` in one transaction, recording one write event
/// per patient with no actor (the system) and `purpose`. Nothing is stored if any record is
/// invalid.
pub async fn import_patients(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    clinic_id: ClinicId,
    purpose: &str,
    records: &[ImportedPatient],
) -> Result<Vec<PatientId>, RecordsError> {
    validate_purpose(purpose)?;

    let mut batch = Batch::default();
    let mut ids = Vec::with_capacity(records.len());
    for record in records {
        ids.push(encrypt_record(keys, clinic_id, record, &mut batch).await?);
    }

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        insert_patients(conn, &batch.patients, &batch.tokens).await?;
        insert_infants(conn, &batch.infants).await?;
        insert_observations(conn, &batch.observations).await?;
        insert_entries(conn, &batch.entries).await?;
        insert_care_team(conn, &batch.care_team).await?;
        insert_appointments(conn, &batch.appointments).await?;
        batch.threads.insert(conn).await?;
        let events = ids
            .iter()
            .map(|patient_id| import_event(clinic_id, *patient_id, purpose))
            .collect();
        record_accesses(conn, events).await?;
        Ok(ids)
    })
    .await
}

async fn encrypt_record(
    keys: RecordKeys<'_>,
    clinic_id: ClinicId,
    record: &ImportedPatient,
    batch: &mut Batch,
) -> Result<PatientId, RecordsError> {
    let encrypted = encrypt_patient(keys, clinic_id, &record.patient).await?;
    let key = &encrypted.key;
    let patient_id = key.patient_id;

    for imported in &record.infants {
        let (infant_id, row) = encrypt_infant(key, clinic_id, &imported.infant)?;
        batch.infants.push(row);
        for observation in &imported.observations {
            let observation = NewObservation {
                infant_id: Some(infant_id),
                ..observation.clone()
            };
            let row = encrypt_observation(key, clinic_id, record.author, &observation)?;
            batch.observations.push(row);
        }
        for entry in &imported.entries {
            let entry = NewClinicalEntry {
                infant_id: Some(infant_id),
                ..entry.clone()
            };
            batch
                .entries
                .push(encrypt_entry(key, clinic_id, record.author, &entry)?);
        }
    }
    for observation in &record.observations {
        if observation.infant_id.is_some() {
            return Err(RecordsError::InvalidInput(
                "list an infant's observations under the infant".to_owned(),
            ));
        }
        let row = encrypt_observation(key, clinic_id, record.author, observation)?;
        batch.observations.push(row);
    }
    for entry in &record.entries {
        if entry.infant_id.is_some() {
            return Err(RecordsError::InvalidInput(
                "list an infant's entries under the infant".to_owned(),
            ));
        }
        batch
            .entries
            .push(encrypt_entry(key, clinic_id, record.author, entry)?);
    }
    for member in &record.care_team {
        batch
            .care_team
            .push(care_team_row(clinic_id, patient_id, member)?);
    }
    for appointment in &record.appointments {
        batch
            .appointments
            .push(appointment_row(clinic_id, patient_id, appointment)?);
    }

    if !record.threads.is_empty() {
        let Some(patient_user) = record.patient.user_id else {
            return Err(RecordsError::InvalidInput(
                "message threads need the patient's own account".to_owned(),
            ));
        };
        let team: Vec<UserId> = record
            .care_team
            .iter()
            .map(|member| member.provider)
            .collect();
        for thread in &record.threads {
            batch
                .threads
                .add(key, clinic_id, patient_user, &team, thread)?;
        }
    }

    batch.patients.push(encrypted.row);
    batch.tokens.extend(encrypted.tokens);
    Ok(patient_id)
}

fn import_event(clinic_id: ClinicId, patient_id: PatientId, purpose: &str) -> NewAccessEvent {
    NewAccessEvent {
        clinic_id,
        actor_user_id: None,
        actor_roles: Vec::new(),
        patient_id: Some(patient_id),
        action: AccessAction::Write,
        purpose: purpose.trim().to_owned(),
        data_elements: vec!["patient.record".to_owned()],
        outcome: AccessOutcome::Allowed,
        emergency: false,
        client: ClientInfo::default(),
    }
}
