//! Per-request values that the HTTP layer hands to page rendering.

use leptos::prelude::*;

/// Content-Security-Policy nonce of one response.
///
/// The server's security middleware puts it in the request extensions and names it in the
/// `Content-Security-Policy` header; the page gives it to the hydration script so that this
/// script, and no other inline script, may run.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// Makes the request's CSP nonce available to `<HydrationScripts>` and Leptos' inline scripts.
pub fn provide_request_nonce() {
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(value)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(value));
    }
}
