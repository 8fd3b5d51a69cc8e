//! Rejects state-changing requests that do not come from the site's own pages.
//!
//! Leptos performs no cross-site request forgery check of its own, so every request other
//! than GET, HEAD and OPTIONS must name this site as its origin.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

/// The one origin, such as `http://localhost:3000`, allowed to send state-changing requests.
#[derive(Debug, Clone)]
pub struct AllowedOrigin(pub Arc<str>);

/// Rejects with 403 a state-changing request whose `Origin` (or, lacking it, `Referer`) is not
/// the site's own origin, or that has neither header.
pub async fn check_origin(
    State(allowed): State<AllowedOrigin>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }

    let sender = request_origin(&request);
    if sender.as_deref() == Some(&*allowed.0) {
        return next.run(request).await;
    }

    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        origin = sender.as_deref().unwrap_or("none"),
        "rejected request from another origin"
    );
    (
        StatusCode::FORBIDDEN,
        "Request rejected: it did not come from this site. Reload the page and try again.",
    )
        .into_response()
}

/// Returns the origin that sent the request, from `Origin` or else from `Referer`.
fn request_origin(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        // Browsers send "null" for opaque origins such as sandboxed frames; it never matches.
        return origin.to_str().ok().map(|value| value.to_ascii_lowercase());
    }
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let url = Url::parse(referer).ok()?;
    Some(url.origin().ascii_serialization())
}
