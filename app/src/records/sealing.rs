//! Encryption of a patient's values that other modules store in their own tables, such as the
//! name she types to sign a consent, under her data key.

use diesel_async::AsyncPgConnection;

use super::RecordsError;
use super::access::{patient_key, version_to_db};
use crate::crypto::{DataClass, KeyProvider};
use crate::ids::{ClinicId, PatientId};

/// Location of a sealed value. Its additional authenticated data names it, so a ciphertext
/// copied to another row or column fails to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedLocation {
    pub table: &'static str,
    pub column: &'static str,
    pub row_id: uuid::Uuid,
}

/// Encrypts `plaintext` as contact data of a patient of `clinic_id`. Returns the ciphertext and
/// the data-key version to store beside it. Fails with [`RecordsError::NotFound`] for a patient
/// of another clinic and [`RecordsError::Erased`] for an erased one.
pub async fn seal_patient_value(
    conn: &mut AsyncPgConnection,
    provider: &dyn KeyProvider,
    clinic_id: ClinicId,
    patient_id: PatientId,
    location: SealedLocation,
    plaintext: &str,
) -> Result<(Vec<u8>, i32), RecordsError> {
    let key = patient_key(conn, provider, clinic_id, patient_id).await?;
    let context = key.context(
        location.table,
        location.column,
        location.row_id,
        DataClass::Contact,
    );
    let ciphertext = key.encrypt(&context, plaintext.as_bytes())?;
    Ok((ciphertext, version_to_db(key.version)?))
}

/// Decrypts values sealed by [`seal_patient_value`] for one patient, unwrapping her key once.
pub async fn open_patient_values(
    conn: &mut AsyncPgConnection,
    provider: &dyn KeyProvider,
    clinic_id: ClinicId,
    patient_id: PatientId,
    values: &[(SealedLocation, &[u8])],
) -> Result<Vec<String>, RecordsError> {
    let key = patient_key(conn, provider, clinic_id, patient_id).await?;
    values
        .iter()
        .map(|(location, ciphertext)| {
            let context = key.context(
                location.table,
                location.column,
                location.row_id,
                DataClass::Contact,
            );
            key.decrypt_text(&context, ciphertext)
        })
        .collect()
}
