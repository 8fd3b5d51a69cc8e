//! Liveness and readiness endpoints for load balancers and orchestrators.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::database::{self, SchemaStatus};
use crate::state::AppState;

/// How long `/readyz` waits for the database before returning 503.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3);

/// `/healthz`: the process is up and serving HTTP.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `/readyz`: 200 when the database responds and every compiled-in migration is applied,
/// otherwise 503 with the reason. The process keeps running either way, and the pool
/// reconnects by itself when the database comes back.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match database::schema_status(&state.pool, READINESS_TIMEOUT).await {
        Ok(SchemaStatus::Current) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(SchemaStatus::Pending) => {
            tracing::warn!("not ready: database migrations are pending");
            not_ready("database migrations are pending")
        }
        Err(error) => {
            tracing::warn!(%error, "not ready: database unreachable");
            not_ready("database unreachable")
        }
    }
}

fn not_ready(reason: &str) -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": reason })),
    )
}
