//! The encrypted clinical record store: patients, infants, care teams, clinical entries,
//! observations, appointments, clinical notes and secure messages.
//!
//! Every function that reads or writes an existing patient's data takes an
//! [`crate::access::Authorization`] from the access policy, which names the patient, the data
//! category and the action; the other functions (creating, erasing, searching, importing and
//! managing care teams) take an [`AccessContext`] and their callers check the actor's role.
//! Every public function performs one meaningful operation, decrypts
//! only the fields it returns, and records one event in the audit trail in the same database
//! transaction. If the audit event cannot be written, the whole operation rolls back, so no
//! access goes unrecorded.
//!
//! Values are encrypted under the patient's data key (see [`crate::crypto`]) with a
//! [`FieldContext`] naming the table, column, row id, patient id, data class and data-key
//! version. Names and dates of birth are also stored as keyed blind indexes (see [`names`]), so
//! that [`search_patients`] needs no decryption. [`erase_patient`] destroys the wrapped data key,
//! after which every read of the patient fails with [`RecordsError::Erased`].
//!
//! The table definitions are private to this module, so no other code can reach an encrypted
//! column without going through these functions.

mod access;
mod accounts;
mod appointments;
mod care_team;
mod entries;
mod error;
mod import;
mod infants;
mod lookup;
mod message_import;
mod message_lookup;
mod message_reads;
mod messages;
pub mod names;
mod observation_values;
mod observations;
mod patients;
mod roster;
pub mod rotation;
mod schema;
mod sealing;
mod search;

pub use access::{AccessContext, RecordKeys, remembering_keys, validate_purpose};
pub use accounts::patient_of_account;
pub use appointments::{
    Appointment, AppointmentKind, AppointmentStatus, CareTeamMember, NewAppointment,
    NewCareTeamMember, add_care_team_member, list_appointments, list_care_team,
    list_care_team_for_management, provider_cares_for_account, schedule_appointment,
};
pub use care_team::{care_team_memberships, care_teams_memberships, end_care_team_membership};
pub use entries::{
    Classification, ClinicalEntry, ClinicalNote, NewClinicalEntry, NewClinicalNote,
    add_clinical_entry, add_note, list_clinical_entries, list_notes, list_notes_by_classification,
};
pub use error::RecordsError;
pub use import::{ImportedInfant, ImportedPatient, import_patients};
pub use infants::{Infant, NewInfant, add_infant, list_infants};
pub use lookup::{entry_owner, observation_owner, read_clinical_entry, read_observation};
pub use message_import::{ImportedMessage, ImportedThread, MessageSender};
pub use message_lookup::{
    ThreadListing, ThreadOwner, list_threads, thread_owner, thread_recipients, thread_subjects,
};
pub use message_reads::{read_thread, unread_counts};
pub use messages::{Message, NewThread, Thread, UnreadCount, send_message, start_thread};
pub use observation_values::{FeedingMethod, ObservationKind, ObservationValue};
pub use observations::{
    NewObservation, Observation, add_observation, list_observations, list_observations_by_category,
    observation_category,
};
pub use patients::{
    NewPatient, PatientField, PatientIdentity, PatientOwner, PatientQuery, create_patient,
    erase_patient, patient_owner, patient_owners, read_patient_identity,
};
pub use roster::{
    Assignment, ListedIdentity, assigned_patients, patients_named, read_listed_identities,
};
pub use sealing::{SealedLocation, open_patient_values, seal_patient_value};
pub use search::search_patients;
