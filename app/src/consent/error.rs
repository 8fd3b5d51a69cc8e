//! Errors of consent operations. None of them carries a signer's name or a consent's text.

use crate::audit::AuditError;
use crate::error::{AppError, ErrorCode};
use crate::records::RecordsError;

/// A failed consent operation.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// The template, version, grant or patient does not exist in the caller's clinic, or belongs
    /// to another patient.
    #[error("consent record not found")]
    NotFound,
    /// A value of the request is invalid; the message names the field, never its content.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The request conflicts with the current state, such as revoking a revoked grant.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The signature covers another text than the template version being granted.
    #[error("the signature does not cover this consent text")]
    SignatureMismatch,
    /// Reading or sealing the patient's values failed.
    #[error("patient record operation failed: {0}")]
    Records(#[from] RecordsError),
    /// Recording the operation in the audit trail failed, so it was rolled back.
    #[error("recording the operation failed: {0}")]
    Audit(#[from] AuditError),
    #[error("database operation failed: {0}")]
    Database(#[from] diesel::result::Error),
}

impl From<ConsentError> for AppError {
    /// Maps to the wire error; internal causes are logged here and never sent.
    fn from(error: ConsentError) -> Self {
        match error {
            ConsentError::NotFound => AppError::not_found(),
            ConsentError::InvalidInput(message) => AppError::invalid_input(message),
            ConsentError::Conflict(message) => AppError::new(ErrorCode::Conflict, message),
            ConsentError::SignatureMismatch => AppError::invalid_input(
                "The passkey signature does not match this consent text. Reload the page and sign again.",
            ),
            ConsentError::Records(records) => AppError::from(records),
            other => {
                tracing::error!(error = %other, "consent operation failed");
                AppError::internal()
            }
        }
    }
}
