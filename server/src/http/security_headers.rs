//! Security headers on every response, with a fresh Content-Security-Policy nonce per request.

use app::security::CspNonce;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Settings of the security-headers middleware.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// Send `Strict-Transport-Security`; only meaningful when the site is served over HTTPS.
    pub hsts: bool,
}

/// Adds the nonce to the request and the security headers to the response.
///
/// The policy lets scripts load only from this origin, plus the one inline hydration script that
/// carries the nonce; `'wasm-unsafe-eval'` lets that script compile the wasm bundle. Styles,
/// images, fonts and connections are limited to this origin, and no site may frame the pages.
pub async fn add_security_headers(
    State(settings): State<SecurityHeaders>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));

    let mut response = next.run(request).await;
    let headers = response.headers_mut();

    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if settings.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }

    // Pages and server-function responses may contain patient data, so no cache may keep them.
    if !headers.contains_key(header::CACHE_CONTROL) && is_dynamic(headers) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Returns true for HTML, JSON and plain-text responses, which are generated per request;
/// static files (scripts, styles, wasm, images) may be cached.
fn is_dynamic(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|content_type| {
            ["text/html", "application/json", "text/plain"]
                .iter()
                .any(|dynamic| content_type.starts_with(dynamic))
        })
}

/// Returns 128 random bits in base64, as CSP nonces should carry.
fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    BASE64.encode(bytes)
}
