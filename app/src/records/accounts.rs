//! The link between a patient's record and her portal account.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::RecordsError;
use super::schema::patients;
use crate::ids::{ClinicId, PatientId, UserId};

/// Returns the record of the patient whose portal account is `user_id` in `clinic_id`, or
/// `None` if she has none or it was erased.
pub async fn patient_of_account(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    user_id: UserId,
) -> Result<Option<PatientId>, RecordsError> {
    let id: Option<uuid::Uuid> = patients::table
        .filter(patients::clinic_id.eq(clinic_id.0))
        .filter(patients::user_id.eq(user_id.0))
        .filter(patients::erased_at.is_null())
        .select(patients::id)
        .first(conn)
        .await
        .optional()?;
    Ok(id.map(PatientId))
}
