//! Errors of the record store. None of them carries plaintext, key material or a patient's
//! identifying details.

use crate::audit::AuditError;
use crate::crypto::CryptoError;
use crate::error::AppError;

/// A failed record operation.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The patient, infant or row does not exist in the caller's clinic.
    #[error("record not found in this clinic")]
    NotFound,
    /// The patient was erased: her data key is destroyed and her data can never be read again.
    #[error("the patient's record was erased and cannot be read")]
    Erased,
    /// A value of the request is invalid; the message names the field, never its content.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A stored value failed to decrypt: it was altered, or copied from another row, column or
    /// patient.
    #[error("{table}.{column} of row {row_id} failed to decrypt: {source}")]
    Decryption {
        table: &'static str,
        column: &'static str,
        row_id: uuid::Uuid,
        source: CryptoError,
    },
    /// Wrapping or unwrapping a data key, or encrypting a value, failed.
    #[error("key operation failed: {0}")]
    Crypto(#[from] CryptoError),
    /// A decrypted value is not in the format this build writes.
    #[error("{table}.{column} of row {row_id} holds an unreadable value")]
    CorruptValue {
        table: &'static str,
        column: &'static str,
        row_id: uuid::Uuid,
    },
    /// Recording the access in the audit trail failed, so the access was rolled back.
    #[error("recording the access failed: {0}")]
    Audit(#[from] AuditError),
    #[error("database operation failed: {0}")]
    Database(#[from] diesel::result::Error),
    /// Running the care protocols on a new observation failed, so the observation was rolled
    /// back with them.
    #[error("care protocols failed: {0}")]
    Protocol(#[from] Box<crate::protocols::ProtocolError>),
}

impl From<RecordsError> for AppError {
    /// Maps to the wire error. An erased patient looks the same as a missing one, and internal
    /// causes are logged here and never sent.
    fn from(error: RecordsError) -> Self {
        match error {
            RecordsError::NotFound | RecordsError::Erased => AppError::not_found(),
            RecordsError::InvalidInput(message) => AppError::invalid_input(message),
            other => {
                tracing::error!(error = %other, "record operation failed");
                AppError::internal()
            }
        }
    }
}
