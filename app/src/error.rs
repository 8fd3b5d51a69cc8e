//! The error type that server functions send to the browser.
//!
//! It carries a stable code and a message that is safe to show. The cause of an internal error
//! never crosses the wire: it is logged on the server inside the request's span.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Category of a failed request, mapped to an HTTP status on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or a value is out of range (400).
    InvalidInput,
    /// No session, or the session has ended (401).
    Unauthenticated,
    /// The record does not exist or the caller may not see it; the response is the same for both (404).
    NotFound,
    /// The request conflicts with the current state (409).
    Conflict,
    /// The action needs a fresh passkey assertion first (403).
    StepUpRequired,
    /// The caller may see the record but not perform this action on it (403).
    Forbidden,
    /// Too many attempts in a short time (429).
    RateLimited,
    /// A dependency such as the database is unavailable (503).
    Unavailable,
    /// Anything else; the cause is in the server log (500).
    Internal,
}

impl ErrorCode {
    /// HTTP status code that carries this error.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidInput => 400,
            Self::Unauthenticated => 401,
            Self::NotFound => 404,
            Self::StepUpRequired | Self::Forbidden => 403,
            Self::Conflict => 409,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

/// Error returned by every Nurture server function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// Returns the one error for a missing record and for a record the caller may not see.
    pub fn not_found() -> Self {
        Self::new(
            ErrorCode::NotFound,
            "Not found, or you do not have access to it.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Please try again in a moment.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "Nurture is temporarily unavailable. Please try again in a moment.",
        )
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                Self::invalid_input("The request could not be read. Reload the page and try again.")
            }
            ServerFnErrorErr::Request(_) => Self::new(
                ErrorCode::Unavailable,
                "Nurture could not be reached. Check your connection and try again.",
            ),
            _ => Self::internal(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<diesel::result::Error> for AppError {
    /// Logs a database failure and returns the generic error, so that transactions can use `?`.
    fn from(error: diesel::result::Error) -> Self {
        tracing::error!(%error, "database operation failed");
        Self::internal()
    }
}

#[cfg(feature = "ssr")]
impl From<crate::audit::AuditError> for AppError {
    /// Logs a failure to record an audit event and returns the generic error. The transaction
    /// that the event belongs to then rolls back.
    fn from(error: crate::audit::AuditError) -> Self {
        tracing::error!(%error, "recording an audit event failed");
        Self::internal()
    }
}
