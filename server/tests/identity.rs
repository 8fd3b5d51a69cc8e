//! Passkey identity through the real router against real PostgreSQL, with a software
//! authenticator: enrollment, sign-in, replay, counters, user verification, origins, sessions,
//! invitations, deactivation and rate limits.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use support::browser::{
    Browser, begin_sign_in, bootstrap_admin, enroll, enroll_from, finish_sign_in, origin,
    parse_options, sign_in, soft_registration_options,
};
use support::{ORIGIN, TestApp};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::RequestChallengeResponse;

const SIGN_IN_FAILED: &str =
    "Sign-in failed. Try again with your passkey, or ask your clinic for help.";

async fn security_event_count(app: &TestApp, kind: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let mut connection = app.pool.get().await.unwrap();
    diesel::sql_query("SELECT count(*) AS count FROM security_events WHERE kind = $1")
        .bind::<diesel::sql_types::Text, _>(kind)
        .get_result::<Count>(&mut connection)
        .await
        .unwrap()
        .count
}

async fn execute(app: &TestApp, statement: &str) -> usize {
    let mut connection = app.pool.get().await.unwrap();
    diesel::sql_query(statement)
        .execute(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn enrollment_signs_in_and_records_events() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut browser = Browser::new(&app);

    let account = enroll(&mut browser, &token, &mut SoftPasskey::new(true)).await;

    assert_eq!(account["display_name"], "Ada Admin");
    assert_eq!(account["clinic_name"], "North Clinic");
    assert_eq!(account["roles"], json!(["admin"]));
    assert_eq!(browser.account().await["display_name"], "Ada Admin");
    assert_eq!(security_event_count(&app, "invitation_created").await, 1);
    assert_eq!(security_event_count(&app, "invitation_used").await, 1);
    assert_eq!(security_event_count(&app, "passkey_added").await, 1);
}

#[tokio::test]
async fn email_sign_in_works() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut authenticator = SoftPasskey::new(true);
    enroll(&mut Browser::new(&app), &token, &mut authenticator).await;

    let mut browser = Browser::new(&app);
    let (status, body) = sign_in(&mut browser, Some(" ADA@example.org "), &mut authenticator).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(browser.account().await["display_name"], "Ada Admin");
    assert_eq!(security_event_count(&app, "sign_in_succeeded").await, 1);
}

/// Replaces every string and number in `value` with a placeholder, keeping the structure.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), shape(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(_) => Value::from("s"),
        Value::Number(_) => Value::from(0),
        other => other.clone(),
    }
}

#[tokio::test]
async fn unknown_email_looks_like_known_email() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    enroll(&mut Browser::new(&app), &token, &mut SoftPasskey::new(true)).await;
    let mut browser = Browser::new(&app);

    let (_, known) = browser
        .call("identity/sign-in/begin", &[("email", "ada@example.org")])
        .await;
    let (_, unknown) = browser
        .call("identity/sign-in/begin", &[("email", "nobody@example.org")])
        .await;
    let (_, again) = browser
        .call("identity/sign-in/begin", &[("email", "nobody@example.org")])
        .await;
    let options =
        |body: &Value| serde_json::from_str::<Value>(body["options"].as_str().unwrap()).unwrap();
    let decoy = |body: &Value| options(body)["publicKey"]["allowCredentials"][0]["id"].clone();

    assert_eq!(shape(&options(&known)), shape(&options(&unknown)));
    assert_eq!(decoy(&unknown), decoy(&again));
    assert_ne!(decoy(&known), decoy(&unknown));
    assert_eq!(
        decoy(&known).as_str().unwrap().len(),
        decoy(&unknown).as_str().unwrap().len()
    );
}

#[tokio::test]
async fn unknown_user_and_wrong_credential_look_alike() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    enroll(&mut Browser::new(&app), &token, &mut SoftPasskey::new(true)).await;

    // An assertion from an authenticator whose passkey is no longer registered anywhere.
    let stranger_link = app::identity::server::admin::bootstrap_admin(
        &app.state.services,
        "south-clinic",
        "South Clinic",
        "Sam Stranger",
        "sam@example.org",
    )
    .await
    .unwrap();
    let mut stranger = SoftPasskey::new(true);
    enroll(
        &mut Browser::new(&app),
        stranger_link.link.split_once('#').unwrap().1,
        &mut stranger,
    )
    .await;
    let (_, options) = begin_sign_in(&mut Browser::new(&app), Some("sam@example.org")).await;
    let stray =
        serde_json::to_string(&stranger.do_authentication(origin(), options).unwrap()).unwrap();
    execute(
        &app,
        &format!(
            "DELETE FROM passkeys WHERE user_id = '{}'",
            stranger_link.user_id
        ),
    )
    .await;

    let mut browser = Browser::new(&app);
    let (ceremony_id, _) = begin_sign_in(&mut browser, Some("nobody@example.org")).await;
    let (unknown_user, unknown_body) = finish_sign_in(&mut browser, &ceremony_id, &stray).await;
    let (ceremony_id, _) = begin_sign_in(&mut browser, Some("ada@example.org")).await;
    let (wrong_key, wrong_body) = finish_sign_in(&mut browser, &ceremony_id, &stray).await;
    let (ceremony_id, _) = begin_sign_in(&mut browser, Some("ada@example.org")).await;
    let (garbled, garbled_body) =
        finish_sign_in(&mut browser, &ceremony_id, "{\"id\":\"x\"}").await;

    for (status, body) in [
        (unknown_user, unknown_body),
        (wrong_key, wrong_body),
        (garbled, garbled_body),
    ] {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["message"], SIGN_IN_FAILED);
    }
}

#[tokio::test]
async fn replayed_challenge_fails() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut authenticator = SoftPasskey::new(true);
    enroll(&mut Browser::new(&app), &token, &mut authenticator).await;
    let mut browser = Browser::new(&app);

    let (ceremony_id, options) = begin_sign_in(&mut browser, Some("ada@example.org")).await;
    let credential =
        serde_json::to_string(&authenticator.do_authentication(origin(), options).unwrap())
            .unwrap();
    let (first, _) = finish_sign_in(&mut browser, &ceremony_id, &credential).await;
    let (second, body) = finish_sign_in(&mut Browser::new(&app), &ceremony_id, &credential).await;

    assert_eq!(first, StatusCode::OK);
    assert_eq!(second, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], SIGN_IN_FAILED);
}

#[tokio::test]
async fn invitation_reuse_and_expiry_rejected() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    enroll(&mut Browser::new(&app), &token, &mut SoftPasskey::new(true)).await;

    let (status, body) = Browser::new(&app)
        .call("identity/enroll/begin", &[("token", &token)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("This invitation was already used."),
        "{body}"
    );

    let second = app::identity::server::admin::bootstrap_admin(
        &app.state.services,
        "north-clinic",
        "North Clinic",
        "Bea Admin",
        "bea@example.org",
    )
    .await
    .unwrap();
    let second_token = second.link.split_once('#').unwrap().1.to_owned();
    execute(&app, "UPDATE invitations SET created_at = now() - interval '4 days', expires_at = now() - interval '1 second' WHERE used_at IS NULL").await;
    let (status, body) = Browser::new(&app)
        .call("identity/invitation", &[("token", &second_token)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        "This invitation has expired. Ask your clinic for a new one."
    );

    let (status, _) = Browser::new(&app)
        .call("identity/invitation", &[("token", "not-a-token")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invitation_used_once_when_enrolling_twice() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut browser = Browser::new(&app);

    // Two registrations started from the same link: only the first may finish.
    let (_, first_body) = browser
        .call("identity/enroll/begin", &[("token", &token)])
        .await;
    let (_, second_body) = browser
        .call("identity/enroll/begin", &[("token", &token)])
        .await;
    let mut authenticator = SoftPasskey::new(true);
    let mut finish = async |body: &Value| {
        let (ceremony_id, options) = soft_registration_options(body);
        let credential =
            serde_json::to_string(&authenticator.do_registration(origin(), options).unwrap())
                .unwrap();
        Browser::new(&app)
            .call(
                "identity/enroll/finish",
                &[
                    ("ceremony_id", &ceremony_id),
                    ("credential", &credential),
                    ("passkey_name", "Key"),
                ],
            )
            .await
    };
    let (first, _) = finish(&first_body).await;
    let (second, body) = finish(&second_body).await;

    assert_eq!(first, StatusCode::OK);
    assert_eq!(second, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn credential_id_unique_across_accounts() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    enroll(&mut Browser::new(&app), &token, &mut SoftPasskey::new(true)).await;
    let other = app::identity::server::admin::bootstrap_admin(
        &app.state.services,
        "north-clinic",
        "North Clinic",
        "Bea Admin",
        "bea@example.org",
    )
    .await
    .unwrap();
    let mut connection = app.pool.get().await.unwrap();
    let ada = app::identity::server::accounts::find_by_email(
        &mut connection,
        &app.state.services.blind_index,
        "ada@example.org",
    )
    .await
    .unwrap()
    .unwrap();
    let mut stored = app::identity::server::passkeys::for_user(&mut connection, ada.id)
        .await
        .unwrap();

    let error = app::identity::server::passkeys::insert(
        &mut connection,
        other.user_id,
        &stored.remove(0).passkey,
        "Copy",
    )
    .await
    .unwrap_err();

    assert_eq!(error.code, app::error::ErrorCode::Conflict);
}

#[tokio::test]
async fn counter_regression_refused_and_recorded() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut authenticator = SoftPasskey::new(true);
    let mut admin = Browser::new(&app);
    enroll(&mut admin, &token, &mut authenticator).await;
    let (status, _) = sign_in(
        &mut Browser::new(&app),
        Some("ada@example.org"),
        &mut authenticator,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The stored counter is ahead of the authenticator's, as if a clone had been used.
    execute(
        &app,
        "UPDATE passkeys SET sign_count = 10, credential = jsonb_set(credential, '{cred,counter}', '10')",
    )
    .await;
    let (status, body) = sign_in(
        &mut Browser::new(&app),
        Some("ada@example.org"),
        &mut authenticator,
    )
    .await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], SIGN_IN_FAILED);
    assert_eq!(security_event_count(&app, "counter_regression").await, 1);
    let (status, alerts) = admin.call("admin/security-alerts", &[]).await;
    assert_eq!(status, StatusCode::OK, "{alerts}");
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    assert_eq!(alerts[0]["kind"], "counter_regression");
    assert!(
        alerts[0]["message"].as_str().unwrap().contains("Ada Admin"),
        "{alerts}"
    );
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        sign_count: i64,
    }
    let mut connection = app.pool.get().await.unwrap();
    let stored: Count = diesel::sql_query("SELECT sign_count FROM passkeys")
        .get_result(&mut connection)
        .await
        .unwrap();
    assert_eq!(stored.sign_count, 10);
}

#[tokio::test]
async fn sign_count_never_decreases_in_database() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    enroll(&mut Browser::new(&app), &token, &mut SoftPasskey::new(true)).await;
    execute(&app, "UPDATE passkeys SET sign_count = 10").await;

    let mut connection = app.pool.get().await.unwrap();
    let lowered = diesel::sql_query("UPDATE passkeys SET sign_count = 7")
        .execute(&mut connection)
        .await;

    assert!(lowered.is_err());
}

/// Reads the UV flag (bit 2 of the flags byte) of an assertion's authenticator data.
fn user_verified_flag(credential: &Value) -> bool {
    use base64::Engine;
    let data = credential["response"]["authenticatorData"]
        .as_str()
        .unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(data)
        .unwrap();
    bytes[32] & 0b0000_0100 != 0
}

#[tokio::test]
async fn user_verification_is_required() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut verifying = SoftPasskey::new(true);
    enroll(&mut Browser::new(&app), &token, &mut verifying).await;

    let mut outcomes = Vec::new();
    for policy in ["required", "preferred", "discouraged"] {
        let mut browser = Browser::new(&app);
        let (ceremony_id, options) = begin_sign_in(&mut browser, Some("ada@example.org")).await;
        // The browser may receive any policy; the server's stored state still requires UV.
        let mut options = serde_json::to_value(options).unwrap();
        options["publicKey"]["userVerification"] = Value::from(policy);
        let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
        let Ok(credential) = verifying.do_authentication(origin(), options) else {
            continue;
        };
        let credential = serde_json::to_value(&credential).unwrap();
        let flag = user_verified_flag(&credential);
        let (status, _) = finish_sign_in(&mut browser, &ceremony_id, &credential.to_string()).await;
        outcomes.push((policy, flag, status));
    }

    assert!(outcomes.iter().any(|(_, flag, _)| *flag), "{outcomes:?}");
    assert!(outcomes.iter().any(|(_, flag, _)| !*flag), "{outcomes:?}");
    for (policy, flag, status) in outcomes {
        let expected = if flag {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, expected, "policy {policy}, UV flag {flag}");
    }
}

/// Enrolls from each foreign origin and returns how many responses reached the server; every
/// one of them must have been rejected.
async fn assert_origins_rejected(app: &TestApp, token: &str, foreign: &[&str]) -> usize {
    let mut reached_server = 0;
    for origin_text in foreign {
        let mut browser = Browser::new(app);
        let origin_url = Url::parse(origin_text).unwrap();
        let (status, body) =
            enroll_from(&mut browser, token, &mut SoftPasskey::new(true), origin_url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{origin_text}: {body}");
        if body != Value::Null {
            reached_server += 1;
        }
    }
    reached_server
}

#[tokio::test]
async fn foreign_origins_rejected() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let local = [
        "http://localhost:3001",
        "https://localhost:3000",
        "http://evil.example:3000",
    ];

    let reached = assert_origins_rejected(&app, &token, &local).await;

    assert!(reached >= 2, "only {reached} answers reached the server");
    let (status, _) = enroll_from(
        &mut Browser::new(&app),
        &token,
        &mut SoftPasskey::new(true),
        origin(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn look_alike_domains_rejected() {
    let app =
        TestApp::with_overrides(&[("NURTURE_PUBLIC_URL", "https://nurture.example.org")]).await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let foreign = [
        "https://evil.nurture.example.org",
        "https://nurture.example.org.evil.example",
        "http://nurture.example.org",
        "https://nurture.example.org:8443",
    ];

    let reached = assert_origins_rejected(&app, &token, &foreign).await;

    assert!(reached >= 2, "only {reached} answers reached the server");
}

#[tokio::test]
async fn session_id_changes_at_sign_in_and_step_up() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut authenticator = SoftPasskey::new(true);
    let mut browser = Browser::new(&app);
    enroll(&mut browser, &token, &mut authenticator).await;
    let enrolled_cookie = browser.cookie.clone().expect("a session cookie");

    let (status, _) = sign_in(&mut browser, Some("ada@example.org"), &mut authenticator).await;
    assert_eq!(status, StatusCode::OK);
    let signed_in_cookie = browser.cookie.clone().unwrap();
    assert_ne!(enrolled_cookie, signed_in_cookie);

    let mut stale = Browser {
        app: &app,
        cookie: Some(enrolled_cookie),
    };
    assert_eq!(stale.account().await, Value::Null);

    let (status, body) = browser.call("identity/step-up/begin", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (ceremony_id, options): (String, RequestChallengeResponse) = parse_options(&body);
    let credential =
        serde_json::to_string(&authenticator.do_authentication(origin(), options).unwrap())
            .unwrap();
    let (status, body) = browser
        .call(
            "identity/step-up/finish",
            &[("ceremony_id", &ceremony_id), ("credential", &credential)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(browser.cookie.clone().unwrap(), signed_in_cookie);
    let mut before_step_up = Browser {
        app: &app,
        cookie: Some(signed_in_cookie),
    };
    assert_eq!(before_step_up.account().await, Value::Null);
    assert_eq!(browser.account().await["display_name"], "Ada Admin");
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut authenticator = SoftPasskey::new(true);
    let mut idle = Browser::new(&app);
    enroll(&mut idle, &token, &mut authenticator).await;
    let mut old = Browser::new(&app);
    sign_in(&mut old, Some("ada@example.org"), &mut authenticator).await;

    let idle_cookie = idle.cookie.clone().unwrap();
    execute(&app, &format!("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '{idle_cookie}'")).await;
    let old_cookie = old.cookie.clone().unwrap();
    let five_hours_ago = chrono::Utc::now().timestamp() - 5 * 3600;
    execute(
        &app,
        &format!(
            "UPDATE sessions SET data = jsonb_set(data, '{{signed_in_at}}', '{five_hours_ago}') WHERE id = '{old_cookie}'"
        ),
    )
    .await;

    assert_eq!(idle.account().await, Value::Null);
    assert_eq!(old.account().await, Value::Null);
}

#[tokio::test]
async fn sign_out_ends_session() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut browser = Browser::new(&app);
    enroll(&mut browser, &token, &mut SoftPasskey::new(true)).await;
    let cookie = browser.cookie.clone().unwrap();

    let (status, _) = browser.call("identity/sign-out", &[]).await;

    assert_eq!(status, StatusCode::OK);
    let mut reused = Browser {
        app: &app,
        cookie: Some(cookie),
    };
    assert_eq!(reused.account().await, Value::Null);
    assert_eq!(security_event_count(&app, "session_ended").await, 1);
}

#[tokio::test]
async fn deactivation_ends_sessions_and_blocks_sign_in() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin_browser = Browser::new(&app);
    enroll(&mut admin_browser, &token, &mut SoftPasskey::new(true)).await;
    let (status, invited) = admin_browser
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{invited}");
    let midwife_token = invited["link"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .1
        .to_owned();
    let mut midwife_key = SoftPasskey::new(true);
    let mut midwife = Browser::new(&app);
    enroll(&mut midwife, &midwife_token, &mut midwife_key).await;
    assert_eq!(midwife.account().await["roles"], json!(["midwife"]));

    // An assertion prepared before the deactivation must not sign her in after it.
    let mut later = Browser::new(&app);
    let (ceremony_id, options) = begin_sign_in(&mut later, Some("mia@example.org")).await;
    let prepared =
        serde_json::to_string(&midwife_key.do_authentication(origin(), options).unwrap()).unwrap();
    let user_id = invited["user_id"].as_str().unwrap();
    let (status, body) = admin_browser
        .call("admin/users/deactivate", &[("user_id", user_id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(midwife.account().await, Value::Null);
    let (status, _) = finish_sign_in(&mut later, &ceremony_id, &prepared).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(security_event_count(&app, "user_deactivated").await, 1);
}

#[tokio::test]
async fn non_admin_cannot_manage_users() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin_browser = Browser::new(&app);
    enroll(&mut admin_browser, &token, &mut SoftPasskey::new(true)).await;
    let (_, invited) = admin_browser
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    let midwife_token = invited["link"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .1
        .to_owned();
    let mut midwife = Browser::new(&app);
    enroll(&mut midwife, &midwife_token, &mut SoftPasskey::new(true)).await;

    let (list_status, _) = midwife.call("admin/users", &[]).await;
    let (invite_status, _) = midwife
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Eve"),
                ("email", "eve@example.org"),
                ("roles[0]", "admin"),
            ],
        )
        .await;
    let (anonymous_status, _) = Browser::new(&app).call("admin/users", &[]).await;

    assert_eq!(list_status, StatusCode::NOT_FOUND);
    assert_eq!(invite_status, StatusCode::NOT_FOUND);
    assert_eq!(anonymous_status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn role_change_requires_recent_step_up() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin_browser = Browser::new(&app);
    enroll(&mut admin_browser, &token, &mut SoftPasskey::new(true)).await;
    let (_, invited) = admin_browser
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    let user_id = invited["user_id"].as_str().unwrap();
    let cookie = admin_browser.cookie.clone().unwrap();
    let stale = chrono::Utc::now().timestamp() - 10 * 60;
    execute(&app, &format!("UPDATE sessions SET data = jsonb_set(data, '{{step_up_at}}', '{stale}') WHERE id = '{cookie}'")).await;

    let (status, body) = admin_browser
        .call(
            "admin/users/roles",
            &[
                ("user_id", user_id),
                ("roles[0]", "midwife"),
                ("roles[1]", "care_coordinator"),
            ],
        )
        .await;

    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "step_up_required");
}

#[tokio::test]
async fn sign_in_rate_limited_per_address() {
    let app = TestApp::new().await;
    let mut browser = Browser::new(&app);
    let limit = app.state.services.settings.rate_limits.sign_in_per_address;

    for _ in 0..limit {
        let (status, _) = browser.call("identity/sign-in/begin", &[]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let request = Request::post("/api/identity/sign-in/begin")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn sign_in_rate_limited_per_account() {
    let app = TestApp::new().await;
    let mut browser = Browser::new(&app);
    let limit = app.state.services.settings.rate_limits.sign_in_per_account;

    for _ in 0..limit {
        let (status, _) = browser
            .call("identity/sign-in/begin", &[("email", "ada@example.org")])
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = browser
        .call("identity/sign-in/begin", &[("email", "ada@example.org")])
        .await;
    let (other_status, _) = browser
        .call("identity/sign-in/begin", &[("email", "bea@example.org")])
        .await;

    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(other_status, StatusCode::OK);
}

#[tokio::test]
async fn last_passkey_cannot_be_removed() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut browser = Browser::new(&app);
    enroll(&mut browser, &token, &mut SoftPasskey::new(true)).await;
    let (_, passkeys) = browser.call("identity/passkeys", &[]).await;
    let only = passkeys[0]["id"].as_str().unwrap().to_owned();

    let (status, body) = browser
        .call("identity/passkeys/remove", &[("passkey_id", &only)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, body) = browser.call("identity/passkeys/begin", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (ceremony_id, options) = soft_registration_options(&body);
    let credential = serde_json::to_string(
        &SoftPasskey::new(true)
            .do_registration(origin(), options)
            .unwrap(),
    )
    .unwrap();
    let (status, body) = browser
        .call(
            "identity/passkeys/finish",
            &[
                ("ceremony_id", &ceremony_id),
                ("credential", &credential),
                ("passkey_name", "Laptop"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _) = browser
        .call("identity/passkeys/remove", &[("passkey_id", &only)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, passkeys) = browser.call("identity/passkeys", &[]).await;
    assert_eq!(passkeys.as_array().unwrap().len(), 1);
    assert_eq!(passkeys[0]["name"], "Laptop");
}

#[tokio::test]
async fn sessions_listed_and_ended_by_owner() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut authenticator = SoftPasskey::new(true);
    let mut phone = Browser::new(&app);
    enroll(&mut phone, &token, &mut authenticator).await;
    let mut laptop = Browser::new(&app);
    sign_in(&mut laptop, Some("ada@example.org"), &mut authenticator).await;

    let (_, sessions) = laptop.call("identity/sessions", &[]).await;
    let sessions = sessions.as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    let other = sessions
        .iter()
        .find(|session| session["current"] == false)
        .unwrap();
    assert_eq!(other["device"], "Chrome on Linux");
    assert!(
        !other["handle"]
            .as_str()
            .unwrap()
            .contains(phone.cookie.as_deref().unwrap())
    );

    let (status, _) = laptop
        .call(
            "identity/sessions/end",
            &[("handle", other["handle"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(phone.account().await, Value::Null);
    assert_eq!(laptop.account().await["display_name"], "Ada Admin");
}

#[tokio::test]
async fn recovery_link_ends_old_sessions() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin_browser = Browser::new(&app);
    enroll(&mut admin_browser, &token, &mut SoftPasskey::new(true)).await;
    let (_, invited) = admin_browser
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    let first_token = invited["link"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .1
        .to_owned();
    let mut old_device = Browser::new(&app);
    enroll(&mut old_device, &first_token, &mut SoftPasskey::new(true)).await;

    let user_id = invited["user_id"].as_str().unwrap();
    let (status, recovery) = admin_browser
        .call("users/recovery-link", &[("user_id", user_id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{recovery}");
    let recovery_token = recovery["link"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .1
        .to_owned();
    let mut new_device = Browser::new(&app);
    enroll(
        &mut new_device,
        &recovery_token,
        &mut SoftPasskey::new(true),
    )
    .await;

    assert_eq!(old_device.account().await, Value::Null);
    assert_eq!(new_device.account().await["display_name"], "Mia Midwife");
    assert_eq!(security_event_count(&app, "account_recovery").await, 1);
}

#[tokio::test]
async fn email_stored_encrypted() {
    let app = TestApp::new().await;
    bootstrap_admin(&app, "ada@example.org").await;

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        email_ciphertext: Vec<u8>,
    }
    let mut connection = app.pool.get().await.unwrap();
    let row: Row = diesel::sql_query("SELECT email_ciphertext FROM users")
        .get_result(&mut connection)
        .await
        .unwrap();

    let needle = b"ada@example.org";
    assert!(
        !row.email_ciphertext
            .windows(needle.len())
            .any(|window| window == needle)
    );
}

#[tokio::test]
async fn backup_eligibility_change_accepted() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    enroll(&mut Browser::new(&app), &token, &mut SoftPasskey::new(true)).await;
    let mut connection = app.pool.get().await.unwrap();
    let ada = app::identity::server::accounts::find_by_email(
        &mut connection,
        &app.state.services.blind_index,
        "ada@example.org",
    )
    .await
    .unwrap()
    .unwrap();
    let mut stored = app::identity::server::passkeys::for_user(&mut connection, ada.id)
        .await
        .unwrap()
        .remove(0);
    let eligible = |passkey: &webauthn_rs::prelude::Passkey| {
        serde_json::to_value(passkey).unwrap()["cred"]["backup_eligible"].as_bool()
    };
    assert_eq!(eligible(&stored.passkey), Some(false));

    // Authenticator data: a 32-byte RP id hash, then flags UP, UV and BE.
    let mut authenticator_data = vec![0u8; 32];
    authenticator_data.push(0b0000_1101);
    let changed = app::identity::server::passkeys::align_backup_eligibility(
        &mut stored.passkey,
        &authenticator_data,
    );
    let unchanged = app::identity::server::passkeys::align_backup_eligibility(
        &mut stored.passkey,
        &authenticator_data,
    );

    assert!(changed);
    assert!(!unchanged);
    assert_eq!(eligible(&stored.passkey), Some(true));
}

#[tokio::test]
async fn patient_role_not_mixed_with_staff_roles() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin = Browser::new(&app);
    let account = enroll(&mut admin, &token, &mut SoftPasskey::new(true)).await;
    let admin_id = account["id"].as_str().unwrap();

    let (status, body) = admin
        .call(
            "admin/users/roles",
            &[
                ("user_id", admin_id),
                ("roles[0]", "admin"),
                ("roles[1]", "patient"),
            ],
        )
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(security_event_count(&app, "roles_changed").await, 0);
}

#[tokio::test]
async fn clinician_cannot_recover_staff_account() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin = Browser::new(&app);
    let account = enroll(&mut admin, &token, &mut SoftPasskey::new(true)).await;
    let (_, invited) = admin
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    let midwife_token = invited["link"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .1
        .to_owned();
    let mut midwife = Browser::new(&app);
    enroll(&mut midwife, &midwife_token, &mut SoftPasskey::new(true)).await;

    let (status, _) = midwife
        .call(
            "users/recovery-link",
            &[("user_id", account["id"].as_str().unwrap())],
        )
        .await;

    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sensitive_actions_require_step_up() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin = Browser::new(&app);
    enroll(&mut admin, &token, &mut SoftPasskey::new(true)).await;
    let (_, invited) = admin
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    let user_id = invited["user_id"].as_str().unwrap().to_owned();
    let (_, passkeys) = admin.call("identity/passkeys", &[]).await;
    let passkey_id = passkeys[0]["id"].as_str().unwrap().to_owned();
    let cookie = admin.cookie.clone().unwrap();
    let stale = chrono::Utc::now().timestamp() - 10 * 60;
    execute(
        &app,
        &format!("UPDATE sessions SET data = jsonb_set(data, '{{step_up_at}}', '{stale}') WHERE id = '{cookie}'"),
    )
    .await;

    let calls: [(&str, Vec<(&str, &str)>); 5] = [
        (
            "admin/users/invite",
            vec![
                ("display_name", "Eve"),
                ("email", "eve@example.org"),
                ("roles[0]", "admin"),
            ],
        ),
        ("admin/users/deactivate", vec![("user_id", &user_id)]),
        ("users/recovery-link", vec![("user_id", &user_id)]),
        ("identity/passkeys/begin", vec![]),
        (
            "identity/passkeys/remove",
            vec![("passkey_id", &passkey_id)],
        ),
    ];
    for (endpoint, arguments) in calls {
        let (status, body) = admin.call(endpoint, &arguments).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{endpoint}: {body}");
        assert_eq!(body["code"], "step_up_required", "{endpoint}");
    }
}

#[tokio::test]
async fn ended_session_not_written_back() {
    use tower_sessions::SessionStore;

    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut browser = Browser::new(&app);
    enroll(&mut browser, &token, &mut SoftPasskey::new(true)).await;
    let cookie = browser.cookie.clone().unwrap();
    let store = app::identity::server::session_store::PgSessionStore::new(app.pool.clone());
    let id: tower_sessions::session::Id = cookie.parse().unwrap();
    // A request loaded the session before it was ended, and saves it after.
    let loaded = store.load(&id).await.unwrap().unwrap();
    execute(&app, &format!("DELETE FROM sessions WHERE id = '{cookie}'")).await;

    store.save(&loaded).await.unwrap();

    assert!(store.load(&id).await.unwrap().is_none());
    assert_eq!(browser.account().await, Value::Null);
}

#[tokio::test]
async fn control_characters_and_duplicate_roles() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin = Browser::new(&app);
    enroll(&mut admin, &token, &mut SoftPasskey::new(true)).await;
    let (_, passkeys) = admin.call("identity/passkeys", &[]).await;
    let passkey_id = passkeys[0]["id"].as_str().unwrap().to_owned();

    let (rename, _) = admin
        .call(
            "identity/passkeys/rename",
            &[("passkey_id", &passkey_id), ("name", "bad\u{0}name")],
        )
        .await;
    let (name, _) = admin
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia\u{7}"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    let (duplicates, body) = admin
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
                ("roles[1]", "midwife"),
            ],
        )
        .await;

    assert_eq!(rename, StatusCode::BAD_REQUEST);
    assert_eq!(name, StatusCode::BAD_REQUEST);
    assert_eq!(duplicates, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn patient_recovery_only_by_her_care_team() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin = Browser::new(&app);
    let admin_account = enroll(&mut admin, &token, &mut SoftPasskey::new(true)).await;
    let mut midwives = Vec::new();
    for (name, email) in [
        ("Mia Midwife", "mia@example.org"),
        ("Mo Midwife", "mo@example.org"),
    ] {
        let (_, invited) = admin
            .call(
                "admin/users/invite",
                &[
                    ("display_name", name),
                    ("email", email),
                    ("roles[0]", "midwife"),
                ],
            )
            .await;
        let link = invited["link"]
            .as_str()
            .unwrap()
            .split_once('#')
            .unwrap()
            .1
            .to_owned();
        let mut browser = Browser::new(&app);
        let account = enroll(&mut browser, &link, &mut SoftPasskey::new(true)).await;
        midwives.push((browser, account["id"].as_str().unwrap().to_owned()));
    }
    let (invited, patient) = midwives[0]
        .0
        .call(
            "patients/invite",
            &[
                ("display_name", "Pat Patient"),
                ("email", "pat@example.org"),
                ("date_of_birth", "1995-03-14"),
            ],
        )
        .await;
    assert_eq!(invited, StatusCode::OK, "{patient}");
    let patient_user: app::ids::UserId = patient["user_id"].as_str().unwrap().parse().unwrap();

    // The invitation created Pat's record with the inviting midwife on her care team.
    assert!(admin_account["id"].is_string());
    let mut connection = app.pool.get().await.unwrap();
    let pat = app::identity::server::accounts::find_account(&mut connection, patient_user)
        .await
        .unwrap()
        .unwrap();
    let record = app::records::patient_of_account(&mut connection, pat.clinic_id, patient_user)
        .await
        .unwrap();
    assert!(record.is_some(), "the invitation created no record");
    let inviter: app::ids::UserId = midwives[0].1.parse().unwrap();
    let cares = app::records::provider_cares_for_account(
        &mut connection,
        pat.clinic_id,
        patient_user,
        inviter,
    )
    .await
    .unwrap();
    assert!(cares, "the inviting midwife is not on the care team");

    let patient_id_text = patient_user.to_string();
    let (outsider, _) = midwives[1]
        .0
        .call("users/recovery-link", &[("user_id", &patient_id_text)])
        .await;
    let (own_midwife, body) = midwives[0]
        .0
        .call("users/recovery-link", &[("user_id", &patient_id_text)])
        .await;

    assert_eq!(outsider, StatusCode::NOT_FOUND);
    assert_eq!(own_midwife, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn patient_invitation_rejects_bad_birth_date() {
    let app = TestApp::new().await;
    let token = bootstrap_admin(&app, "ada@example.org").await;
    let mut admin = Browser::new(&app);
    enroll(&mut admin, &token, &mut SoftPasskey::new(true)).await;
    let (_, invited) = admin
        .call(
            "admin/users/invite",
            &[
                ("display_name", "Mia Midwife"),
                ("email", "mia@example.org"),
                ("roles[0]", "midwife"),
            ],
        )
        .await;
    let link = invited["link"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .1
        .to_owned();
    let mut midwife = Browser::new(&app);
    enroll(&mut midwife, &link, &mut SoftPasskey::new(true)).await;

    let mut statuses = Vec::new();
    for birth in ["14/03/1995", "2999-01-01", ""] {
        let (status, _) = midwife
            .call(
                "patients/invite",
                &[
                    ("display_name", "Pat Patient"),
                    ("email", "pat@example.org"),
                    ("date_of_birth", birth),
                ],
            )
            .await;
        statuses.push(status);
    }
    let mut connection = app.pool.get().await.unwrap();
    let patients = diesel::sql_query("SELECT id FROM patients")
        .execute(&mut connection)
        .await
        .unwrap();
    let accounts = diesel::sql_query("SELECT id FROM users")
        .execute(&mut connection)
        .await
        .unwrap();

    assert_eq!(statuses, [StatusCode::BAD_REQUEST; 3]);
    assert_eq!(patients, 0);
    assert_eq!(accounts, 2, "only the admin and the midwife exist");
}

/// Checks the account lookup of every signed-in request (roles of the own clinic only, no
/// roles, no account) and the header's name and clinic.
#[tokio::test]
async fn account_lookup_reads_roles_of_own_clinic() {
    use app::identity::Role;
    use app::identity::server::accounts::{self, NewAccount};
    use app::ids::UserId;

    let app = TestApp::new().await;
    let services = &app.state.services;
    let mut connection = support::connect(&app.database.url).await;
    let clinic = accounts::ensure_clinic(&mut connection, "rowan-clinic", "Rowan Clinic")
        .await
        .unwrap();
    let other = accounts::ensure_clinic(&mut connection, "alder-clinic", "Alder Clinic")
        .await
        .unwrap();
    let mut create = async |email: &str, roles: &[Role]| {
        let account = NewAccount {
            clinic_id: clinic,
            display_name: "Synthetic Midwife",
            email,
            roles,
            granted_by: None,
        };
        accounts::create_user(
            &mut connection,
            services.keys.as_ref(),
            &services.blind_index,
            account,
        )
        .await
        .unwrap()
    };
    let midwife = create(
        "mia@rowan.example",
        &[Role::Midwife, Role::PrimaryCareProvider],
    )
    .await;
    let roleless = create("rory@rowan.example", &[Role::Midwife]).await;
    diesel::sql_query(
        "INSERT INTO role_assignments (user_id, clinic_id, role) VALUES ($1, $2, 'admin')",
    )
    .bind::<diesel::sql_types::Uuid, _>(midwife.0)
    .bind::<diesel::sql_types::Uuid, _>(other.0)
    .execute(&mut connection)
    .await
    .unwrap();
    diesel::sql_query("DELETE FROM role_assignments WHERE user_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(roleless.0)
        .execute(&mut connection)
        .await
        .unwrap();

    let (account, roles, sealed) = accounts::find_account_with_roles(&mut connection, midwife)
        .await
        .unwrap()
        .unwrap();
    let mut expected = vec![Role::Midwife, Role::PrimaryCareProvider];
    expected.sort();
    assert_eq!(account.id, midwife);
    assert_eq!(account.clinic_id, clinic);
    assert_eq!(
        roles, expected,
        "the admin role of the other clinic is left out"
    );

    let (account, roles, roleless_sealed) =
        accounts::find_account_with_roles(&mut connection, roleless)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(account.id, roleless);
    assert!(roles.is_empty());
    let (_, roleless_clinic) = roleless_sealed
        .open(services.keys.as_ref(), roleless)
        .await
        .unwrap();
    assert_eq!(
        roleless_clinic, "Rowan Clinic",
        "an account without roles still has a name"
    );

    let missing = accounts::find_account_with_roles(&mut connection, UserId::new_random())
        .await
        .unwrap();
    assert!(missing.is_none());

    let (name, clinic_name) =
        accounts::load_display_name_and_clinic(&mut connection, services.keys.as_ref(), midwife)
            .await
            .unwrap();
    assert_eq!(name, "Synthetic Midwife");
    assert_eq!(clinic_name, "Rowan Clinic");
    assert_eq!(
        sealed.open(services.keys.as_ref(), midwife).await.unwrap(),
        (name, clinic_name),
        "the name read with the account opens to the same text"
    );
    assert!(
        sealed.open(services.keys.as_ref(), roleless).await.is_err(),
        "a sealed name opens only for its own user"
    );
}
