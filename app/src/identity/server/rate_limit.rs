//! Fixed-window rate limits kept in PostgreSQL, so that every app node counts the same attempts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{AppError, ErrorCode};

/// Counts one attempt in `bucket` and rejects it when the window already contains `limit` attempts.
///
/// Returns the seconds until the window ends when the attempt is rejected.
pub async fn hit(
    connection: &mut AsyncPgConnection,
    bucket: &str,
    limit: u32,
    window: Duration,
) -> Result<Result<(), u64>, diesel::result::Error> {
    #[derive(QueryableByName)]
    struct Window {
        #[diesel(sql_type = Integer)]
        hits: i32,
        #[diesel(sql_type = Timestamptz)]
        window_started_at: DateTime<Utc>,
    }

    let window_seconds = window.as_secs_f64();
    let now = Utc::now();
    let row: Window = diesel::sql_query(
        "INSERT INTO rate_limits AS r (bucket, window_started_at, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
           hits = CASE WHEN r.window_started_at <= $2 - make_interval(secs => $3) THEN 1 ELSE r.hits + 1 END, \
           window_started_at = CASE WHEN r.window_started_at <= $2 - make_interval(secs => $3) \
                               THEN $2 ELSE r.window_started_at END \
         RETURNING hits, window_started_at",
    )
    .bind::<Text, _>(bucket)
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::Double, _>(window_seconds)
    .get_result(connection)
    .await?;

    if row.hits as i64 <= i64::from(limit) {
        return Ok(Ok(()));
    }
    let window_end = row.window_started_at + chrono::Duration::from_std(window).unwrap_or_default();
    let retry_after = (window_end - now).num_seconds().max(1) as u64;
    Ok(Err(retry_after))
}

/// Returns the error for a rejected attempt and sets the `Retry-After` header of the response.
pub fn too_many_attempts(retry_after_seconds: u64) -> AppError {
    use axum::http::{HeaderValue, header::RETRY_AFTER};

    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    }
    let minutes = retry_after_seconds.div_ceil(60);
    AppError::new(
        ErrorCode::RateLimited,
        format!("Too many attempts. Wait {minutes} minute(s), then try again."),
    )
}
