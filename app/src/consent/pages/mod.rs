//! Consent pages: the patient's consents and the admin's templates and coverage.

mod admin;
mod grant_form;
mod patient;

pub use admin::AdminConsentsPage;
pub use patient::PatientConsentsPage;
