//! A browser for tests: a cookie jar that calls server functions on the router in process, and
//! the passkey ceremonies of enrollment and sign-in with a software authenticator.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use super::{ORIGIN, TestApp, body_text};

/// A browser: a cookie jar for the session cookie, talking to the router in process.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self { app, cookie: None }
    }

    /// Calls a server function with form-encoded arguments; returns the status and JSON body.
    pub async fn call(
        &mut self,
        endpoint: &str,
        arguments: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(arguments)
            .finish();
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header(header::ORIGIN, self.app.config.http.public_origin())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::USER_AGENT,
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
            );
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, format!("nurture_session={cookie}"));
        }
        let response = self.app.send(request.body(Body::from(body)).unwrap()).await;
        let status = response.status();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            if let Some(rest) = text.strip_prefix("nurture_session=") {
                let session = rest.split(';').next().unwrap();
                self.cookie = (!session.is_empty() && !text.contains("Max-Age=0"))
                    .then(|| session.to_owned());
            }
        }
        let text = body_text(response).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn account(&mut self) -> Value {
        let (status, body) = self.call("identity/account", &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

pub fn origin() -> Url {
    Url::parse(ORIGIN).unwrap()
}

/// Creates a clinic with an admin through the bootstrap path and returns the link's token.
pub async fn bootstrap_admin(app: &TestApp, email: &str) -> String {
    let issued = app::identity::server::admin::bootstrap_admin(
        &app.state.services,
        "north-clinic",
        "North Clinic",
        "Ada Admin",
        email,
    )
    .await
    .expect("bootstrap succeeds");
    issued.link.split_once('#').unwrap().1.to_owned()
}

/// Registration options for the software authenticator, which cannot store discoverable
/// credentials: the server requests one, but cannot verify that it got one, so the test drops
/// the request. Usernameless sign-in is covered by the browser tests.
pub fn soft_registration_options(body: &Value) -> (String, CreationChallengeResponse) {
    let (ceremony_id, mut options): (String, Value) = parse_options(body);
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    options["publicKey"]["authenticatorSelection"]["residentKey"] = Value::from("discouraged");
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = Value::from(false);
    (ceremony_id, serde_json::from_value(options).unwrap())
}

pub fn parse_options<T: serde::de::DeserializeOwned>(body: &Value) -> (String, T) {
    let ceremony_id = body["ceremony_id"].as_str().unwrap().to_owned();
    let options = serde_json::from_str(body["options"].as_str().unwrap()).unwrap();
    (ceremony_id, options)
}

/// Enrolls `authenticator` with the invitation `token` from `origin_url`; returns the finish
/// call's status and body.
pub async fn enroll_from(
    browser: &mut Browser<'_>,
    token: &str,
    authenticator: &mut SoftPasskey,
    origin_url: Url,
) -> (StatusCode, Value) {
    let (status, body) = browser
        .call("identity/enroll/begin", &[("token", token)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (ceremony_id, options) = soft_registration_options(&body);
    let Ok(credential) = authenticator.do_registration(origin_url, options) else {
        // The authenticator, like a browser, rejected the request for this origin.
        return (StatusCode::BAD_REQUEST, Value::Null);
    };
    let credential = serde_json::to_string(&credential).unwrap();
    browser
        .call(
            "identity/enroll/finish",
            &[
                ("ceremony_id", &ceremony_id),
                ("credential", &credential),
                ("passkey_name", "Test key"),
            ],
        )
        .await
}

pub async fn enroll(
    browser: &mut Browser<'_>,
    token: &str,
    authenticator: &mut SoftPasskey,
) -> Value {
    let (status, body) = enroll_from(browser, token, authenticator, origin()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Starts a sign-in and returns the ceremony id and the options.
pub async fn begin_sign_in(
    browser: &mut Browser<'_>,
    email: Option<&str>,
) -> (String, RequestChallengeResponse) {
    let arguments: Vec<(&str, &str)> = email.map(|email| ("email", email)).into_iter().collect();
    let (status, body) = browser.call("identity/sign-in/begin", &arguments).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    parse_options(&body)
}

pub async fn finish_sign_in(
    browser: &mut Browser<'_>,
    ceremony_id: &str,
    credential: &str,
) -> (StatusCode, Value) {
    browser
        .call(
            "identity/sign-in/finish",
            &[("ceremony_id", ceremony_id), ("credential", credential)],
        )
        .await
}

pub async fn sign_in(
    browser: &mut Browser<'_>,
    email: Option<&str>,
    authenticator: &mut SoftPasskey,
) -> (StatusCode, Value) {
    let (ceremony_id, options) = begin_sign_in(browser, email).await;
    let credential = authenticator
        .do_authentication(origin(), options)
        .expect("assertion");
    finish_sign_in(
        browser,
        &ceremony_id,
        &serde_json::to_string(&credential).unwrap(),
    )
    .await
}
