//! Signed-in users for tests that call server functions as many people: an account with roles,
//! made active, and a session created directly in the session store, as sign-in leaves it.

use app::identity::Role;
use app::identity::server::accounts::{self, NewAccount, UserStatus};
use app::identity::server::session_store::{PgSessionStore, USER_ID_KEY};
use app::ids::{ClinicId, UserId};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

use super::{TestApp, body_text};

/// A user with a live session.
#[derive(Debug, Clone)]
pub struct Persona {
    pub user: UserId,
    pub clinic: ClinicId,
    pub roles: Vec<Role>,
    /// Value of the `nurture_session` cookie.
    pub cookie: String,
}

/// Creates an active account with `roles` in `clinic` and signs it in. `step_up_age_secs` says
/// how long ago the last passkey assertion was; sign-in itself counts as one.
pub async fn persona(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    name: &str,
    roles: &[Role],
    step_up_age_secs: i64,
) -> Persona {
    let services = &app.state.services;
    let email = format!("{}@example.test", uuid::Uuid::new_v4().simple());
    let account = NewAccount {
        clinic_id: clinic,
        display_name: name,
        email: &email,
        roles,
        granted_by: None,
    };
    let user = accounts::create_user(conn, services.keys.as_ref(), &services.blind_index, account)
        .await
        .unwrap();
    accounts::set_status(conn, user, UserStatus::Active)
        .await
        .unwrap();
    let cookie = session_for(app, user, step_up_age_secs).await;
    Persona {
        user,
        clinic,
        roles: roles.to_vec(),
        cookie,
    }
}

/// Stores a signed-in session for `user` and returns its cookie value.
pub async fn session_for(app: &TestApp, user: UserId, step_up_age_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut record = Record {
        id: Id::default(),
        data: [
            (USER_ID_KEY.to_owned(), serde_json::to_value(user).unwrap()),
            ("signed_in_at".to_owned(), Value::from(now)),
            ("last_seen".to_owned(), Value::from(now)),
            ("step_up_at".to_owned(), Value::from(now - step_up_age_secs)),
        ]
        .into_iter()
        .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(30),
    };
    PgSessionStore::new(app.pool.clone())
        .create(&mut record)
        .await
        .unwrap();
    record.id.to_string()
}

/// Calls a server function as `persona` with form arguments and an `x-request-id`, so that the
/// audit events of this one call can be found. Returns the status and the JSON body.
pub async fn call_as(
    router: &axum::Router,
    cookie: &str,
    endpoint: &str,
    arguments: &[(&str, String)],
    request_id: &str,
) -> (StatusCode, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(arguments.iter().map(|(key, value)| (*key, value.as_str())))
        .finish();
    let content_type = "application/x-www-form-urlencoded";
    post_as(router, cookie, endpoint, content_type, body, request_id).await
}

/// Calls a server function whose arguments are JSON, as [`call_as`] does with form arguments.
pub async fn call_json_as(
    router: &axum::Router,
    cookie: &str,
    endpoint: &str,
    body: &Value,
    request_id: &str,
) -> (StatusCode, Value) {
    let body = body.to_string();
    post_as(
        router,
        cookie,
        endpoint,
        "application/json",
        body,
        request_id,
    )
    .await
}

async fn post_as(
    router: &axum::Router,
    cookie: &str,
    endpoint: &str,
    content_type: &str,
    body: String,
    request_id: &str,
) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/{endpoint}"))
        .header(header::ORIGIN, super::ORIGIN)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::USER_AGENT, "authorization-test")
        .header("x-request-id", request_id)
        .header(header::COOKIE, format!("nurture_session={cookie}"))
        .body(Body::from(body))
        .unwrap();
    let response = super::send(router, request).await;
    let status = response.status();
    let text = body_text(response).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
