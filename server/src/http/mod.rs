//! HTTP middleware: security headers, the origin check and server-function error statuses.

pub mod errors;
pub mod origin;
pub mod security_headers;
