//! The router: health endpoints, Leptos pages and server functions, static files, and the
//! middleware stack around them.

use std::sync::{Arc, OnceLock};

use app::identity::server::auth::RequestUser;
use app::identity::server::session_store::PgSessionStore;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

use crate::events;
use crate::health;
use crate::http::errors::set_error_status;
use crate::http::origin::{AllowedOrigin, check_origin};
use crate::http::security_headers::{SecurityHeaders, add_security_headers};
use crate::state::AppState;

/// Builds the complete router for `state`.
pub fn build(state: AppState) -> Router {
    let pool = state.pool.clone();
    let services = state.services.clone();
    let server_context = move || {
        provide_context(pool.clone());
        provide_context(services.clone());
        provide_context(RequestUser::default());
    };
    let options = state.leptos_options.clone();

    let pages = Router::<AppState>::new()
        .route("/api/events", get(events::stream))
        .leptos_routes_with_context(
            &state,
            route_list().to_vec(),
            server_context.clone(),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(server_context, shell))
        .layer(middleware::from_fn(set_error_status))
        .layer(session_layer(&state));

    let http = &state.http;
    let allowed_origin = AllowedOrigin(Arc::from(http.public_origin()));
    let security = SecurityHeaders {
        hsts: http.is_https(),
    };
    let middleware = ServiceBuilder::new()
        .layer(middleware::from_fn(drop_unusable_request_id))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            http.request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            security,
            add_security_headers,
        ))
        .layer(middleware::from_fn_with_state(allowed_origin, check_origin))
        .layer(RequestBodyLimitLayer::new(http.body_limit_bytes));

    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .merge(pages)
        .layer(middleware)
        .with_state(state)
}

/// Returns the application's routes, listed once per process.
///
/// Listing the routes renders the app while Leptos's `SuppressResourceLoad` is set, and that
/// flag is global to the process. A page rendered by another router at that moment creates
/// resources that never load, so its response never ends. Listing once, before the first
/// router serves, keeps a second router (the tests build one per test) from stalling the first.
fn route_list() -> &'static [AxumRouteListing] {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App))
}

/// Sessions in PostgreSQL, in a cookie that scripts cannot read and other sites never send.
/// The store's expiry date is the idle deadline; the absolute lifetime is checked on each
/// request by `app::identity::server::auth`.
fn session_layer(state: &AppState) -> SessionManagerLayer<PgSessionStore> {
    let idle = state.services.settings.session_idle_timeout;
    SessionManagerLayer::new(PgSessionStore::new(state.pool.clone()))
        .with_name("nurture_session")
        .with_http_only(true)
        .with_secure(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(idle.as_secs()).unwrap_or(i64::MAX),
        )))
}

/// Removes an incoming `x-request-id` that is not a short token of letters, digits and hyphens,
/// so that the id set next is always safe to log and to store in the audit trail. A proxy's id
/// of that form is kept, which lets one request be followed across both logs.
async fn drop_unusable_request_id(mut request: Request<Body>, next: middleware::Next) -> Response {
    let usable = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|id| {
            (1..=64).contains(&id.len())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !usable {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// Span of one request. It records the path but not the query string, which may carry tokens.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id,
    )
}
