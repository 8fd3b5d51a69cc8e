//! Consent server functions through the real router. An admin publishes a template, and a
//! patient signs it with a passkey and revokes it. Further tests check that a patient reaches
//! only her own consents and that her signature is bound to the text she read.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use support::{ORIGIN, TestApp, body_text};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

/// A browser: a cookie jar for the session cookie, talking to the router in process.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
    passkey: SoftPasskey,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookie: None,
            passkey: SoftPasskey::new(true),
        }
    }

    async fn send(
        &mut self,
        endpoint: &str,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::USER_AGENT, "consent-test");
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

    /// Calls a server function with form-encoded arguments.
    async fn call(&mut self, endpoint: &str, arguments: &[(&str, &str)]) -> (StatusCode, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(arguments)
            .finish();
        self.send(endpoint, "application/x-www-form-urlencoded", body)
            .await
    }

    async fn call_ok(&mut self, endpoint: &str, arguments: &[(&str, &str)]) -> Value {
        let (status, body) = self.call(endpoint, arguments).await;
        assert_eq!(status, StatusCode::OK, "{endpoint}: {body}");
        body
    }

    /// Enrolls this browser's passkey with an enrollment link.
    async fn enroll(&mut self, link: &str) {
        let token = link.split_once('#').unwrap().1.to_owned();
        let body = self
            .call_ok("identity/enroll/begin", &[("token", &token)])
            .await;
        let (ceremony_id, mut options): (String, Value) = parse_options(&body);
        // The software authenticator cannot hold discoverable credentials.
        options["publicKey"]["authenticatorSelection"]["residentKey"] = Value::from("discouraged");
        options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = Value::from(false);
        let options: CreationChallengeResponse = serde_json::from_value(options).unwrap();
        let credential = self.passkey.do_registration(origin(), options).unwrap();
        let credential = serde_json::to_string(&credential).unwrap();
        self.call_ok(
            "identity/enroll/finish",
            &[
                ("ceremony_id", &ceremony_id),
                ("credential", &credential),
                ("passkey_name", "Test key"),
            ],
        )
        .await;
    }

    /// Starts a signature of `version_id` and returns the ceremony id and the signed assertion.
    async fn sign(&mut self, version_id: &str) -> (String, String) {
        let body = self
            .call_ok("consent/sign/begin", &[("version_id", version_id)])
            .await;
        let (ceremony_id, options): (String, RequestChallengeResponse) = parse_options(&body);
        let credential = self.passkey.do_authentication(origin(), options).unwrap();
        (ceremony_id, serde_json::to_string(&credential).unwrap())
    }

    async fn grant(&mut self, request: Value) -> (StatusCode, Value) {
        let body = json!({ "request": request }).to_string();
        self.send("consent/grant", "application/json", body).await
    }
}

fn origin() -> Url {
    Url::parse(ORIGIN).unwrap()
}

fn parse_options<T: serde::de::DeserializeOwned>(body: &Value) -> (String, T) {
    let ceremony_id = body["ceremony_id"].as_str().unwrap().to_owned();
    let options = serde_json::from_str(body["options"].as_str().unwrap()).unwrap();
    (ceremony_id, options)
}

fn grant_request(ceremony_id: &str, credential: &str, version_id: &str) -> Value {
    json!({
        "ceremony_id": ceremony_id,
        "credential": credential,
        "version_id": version_id,
        "categories": ["maternal", "infant"],
        "recipient_roles": ["midwife"],
        "named_parties": [],
        "purpose": "coordinating my postnatal care",
        "expires_on": null,
        "signer_name": "Pat Example",
        "witness_name": null,
    })
}

/// A clinic with a signed-in admin, a midwife and patients invited by the midwife.
struct Clinic<'a> {
    admin: Browser<'a>,
    midwife: Browser<'a>,
}

impl<'a> Clinic<'a> {
    async fn new(app: &'a TestApp) -> Self {
        let issued = app::identity::server::admin::bootstrap_admin(
            &app.state.services,
            "lake-clinic",
            "Lake Clinic",
            "Ada Admin",
            "ada@lake.example",
        )
        .await
        .unwrap();
        let mut admin = Browser::new(app);
        admin.enroll(&issued.link).await;
        let invited = admin
            .call_ok(
                "admin/users/invite",
                &[
                    ("display_name", "Mia Midwife"),
                    ("email", "mia@lake.example"),
                    ("roles[0]", "midwife"),
                ],
            )
            .await;
        let mut midwife = Browser::new(app);
        midwife.enroll(invited["link"].as_str().unwrap()).await;
        Self { admin, midwife }
    }

    async fn patient(&mut self, app: &'a TestApp, name: &str, email: &str) -> Browser<'a> {
        let invited = self
            .midwife
            .call_ok(
                "patients/invite",
                &[
                    ("display_name", name),
                    ("email", email),
                    ("date_of_birth", "1994-05-06"),
                ],
            )
            .await;
        let mut patient = Browser::new(app);
        patient.enroll(invited["link"].as_str().unwrap()).await;
        patient
    }

    /// Creates a care-coordination template and returns its first version's id.
    async fn template(&mut self, title: &str, body: &str) -> String {
        let version = self
            .admin
            .call_ok(
                "admin/consent/templates/create",
                &[
                    ("kind", "care_coordination"),
                    ("title", title),
                    ("body", body),
                ],
            )
            .await;
        version.as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn patient_grants_and_revokes() {
    let app = TestApp::new().await;
    let mut clinic = Clinic::new(&app).await;
    let version = clinic
        .template("Care coordination", "My care team may share my record.")
        .await;
    let mut patient = clinic
        .patient(&app, "Pat Example", "pat@lake.example")
        .await;

    let texts = patient.call_ok("consent/texts", &[]).await;
    let (ceremony_id, credential) = patient.sign(&version).await;
    let (status, grant_id) = patient
        .grant(grant_request(&ceremony_id, &credential, &version))
        .await;
    let signed_texts = patient.call_ok("consent/texts", &[]).await;
    let granted = patient.call_ok("consent/mine", &[]).await;
    let coverage = clinic.admin.call_ok("admin/consent/coverage", &[]).await;
    let grant_id = grant_id.as_str().unwrap().to_owned();
    patient
        .call_ok(
            "consent/revoke",
            &[("grant_id", &grant_id), ("reason", "moving away")],
        )
        .await;
    let revoked = patient.call_ok("consent/mine", &[]).await;
    let history = patient.call_ok("consent/verify", &[]).await;
    let audited = audited_elements(&app).await;

    assert_eq!(status, StatusCode::OK, "{grant_id}");
    assert_eq!(texts[0]["signed"], false);
    assert_eq!(signed_texts[0]["signed"], true);
    assert_eq!(granted[0]["status"], "active");
    assert_eq!(granted[0]["signer_name"], "Pat Example");
    assert_eq!(granted[0]["categories"], json!(["maternal", "infant"]));
    assert_eq!(coverage[0]["patients"], 1);
    assert_eq!(coverage[0]["consenting"], 1);
    assert!(coverage[0].get("signer_name").is_none());
    assert_eq!(revoked[0]["status"], "revoked");
    assert_eq!(revoked[0]["revocation_reason"], "moving away");
    assert_eq!(history["intact"], true);
    assert_eq!(history["entries"], 2);
    for element in [
        "consent.status",
        "consent.grant",
        "consent.grants",
        "consent.revocation",
        "consent.ledger",
    ] {
        assert!(
            audited.iter().any(|audited| audited == element),
            "{element} not audited"
        );
    }
}

/// Returns the data elements of every access event recorded for consent management.
async fn audited_elements(app: &TestApp) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Element {
        #[diesel(sql_type = diesel::sql_types::Text)]
        element: String,
    }
    let mut connection = app.pool.get().await.unwrap();
    let rows: Vec<Element> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT unnest(data_elements) AS element FROM data_access_audit \
             WHERE purpose = 'consent management' AND outcome = 'allowed'",
        ),
        &mut connection,
    )
    .await
    .unwrap();
    rows.into_iter().map(|row| row.element).collect()
}

#[tokio::test]
async fn signature_over_other_text_rejected() {
    let app = TestApp::new().await;
    let mut clinic = Clinic::new(&app).await;
    let read = clinic
        .template("Care coordination", "My care team may share my record.")
        .await;
    let other = clinic
        .template(
            "Care coordination, wider",
            "Anyone at the clinic may read it.",
        )
        .await;
    let mut patient = clinic
        .patient(&app, "Pat Example", "pat@lake.example")
        .await;

    let (ceremony_id, credential) = patient.sign(&read).await;
    let (status, body) = patient
        .grant(grant_request(&ceremony_id, &credential, &other))
        .await;
    let mine = patient.call_ok("consent/mine", &[]).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("does not match this consent text")
    );
    assert_eq!(mine, json!([]));
}

#[tokio::test]
async fn signature_ceremony_used_once() {
    let app = TestApp::new().await;
    let mut clinic = Clinic::new(&app).await;
    let version = clinic
        .template("Care coordination", "My care team may share my record.")
        .await;
    let mut patient = clinic
        .patient(&app, "Pat Example", "pat@lake.example")
        .await;

    let (ceremony_id, credential) = patient.sign(&version).await;
    let request = grant_request(&ceremony_id, &credential, &version);
    let (first, _) = patient.grant(request.clone()).await;
    let (replayed, _) = patient.grant(request).await;
    let mine = patient.call_ok("consent/mine", &[]).await;

    assert_eq!(first, StatusCode::OK);
    assert_eq!(replayed, StatusCode::BAD_REQUEST);
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn other_patients_consent_not_found() {
    let app = TestApp::new().await;
    let mut clinic = Clinic::new(&app).await;
    let version = clinic
        .template("Care coordination", "My care team may share my record.")
        .await;
    let mut pat = clinic
        .patient(&app, "Pat Example", "pat@lake.example")
        .await;
    let mut ola = clinic.patient(&app, "Ola Other", "ola@lake.example").await;
    let (ceremony_id, credential) = pat.sign(&version).await;
    let (_, grant_id) = pat
        .grant(grant_request(&ceremony_id, &credential, &version))
        .await;
    let grant_id = grant_id.as_str().unwrap().to_owned();

    let (by_other, other_body) = ola
        .call(
            "consent/revoke",
            &[("grant_id", &grant_id), ("reason", "not mine")],
        )
        .await;
    let (missing, missing_body) = ola
        .call(
            "consent/revoke",
            &[
                ("grant_id", &uuid::Uuid::new_v4().to_string()),
                ("reason", "not mine"),
            ],
        )
        .await;
    let ola_sees = ola.call_ok("consent/mine", &[]).await;
    let pat_sees = pat.call_ok("consent/mine", &[]).await;
    let (staff, _) = clinic.midwife.call("consent/mine", &[]).await;
    let (patient_as_admin, _) = pat.call("admin/consent/coverage", &[]).await;

    assert_eq!(by_other, StatusCode::NOT_FOUND);
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(
        other_body, missing_body,
        "another patient's id looks like a missing one"
    );
    assert_eq!(ola_sees, json!([]));
    assert_eq!(pat_sees[0]["status"], "active");
    assert_eq!(staff, StatusCode::NOT_FOUND);
    assert_eq!(patient_as_admin, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn new_version_asks_to_reconsent() {
    let app = TestApp::new().await;
    let mut clinic = Clinic::new(&app).await;
    let first = clinic
        .template("Care coordination", "My care team may share my record.")
        .await;
    let mut patient = clinic
        .patient(&app, "Pat Example", "pat@lake.example")
        .await;
    let (ceremony_id, credential) = patient.sign(&first).await;
    patient
        .grant(grant_request(&ceremony_id, &credential, &first))
        .await;
    let templates = clinic.admin.call_ok("admin/consent/templates", &[]).await;
    let template_id = templates[0]["id"].as_str().unwrap().to_owned();

    clinic
        .admin
        .call_ok(
            "admin/consent/templates/publish",
            &[
                ("template_id", &template_id),
                (
                    "body",
                    "My care team and its new members may share my record.",
                ),
            ],
        )
        .await;
    let texts = patient.call_ok("consent/texts", &[]).await;
    let mine = patient.call_ok("consent/mine", &[]).await;
    let (stale, _) = patient
        .call("consent/sign/begin", &[("version_id", &first)])
        .await;
    let coverage = clinic.admin.call_ok("admin/consent/coverage", &[]).await;

    assert_eq!(texts[0]["version"], 2);
    assert_eq!(texts[0]["reconsent_needed"], true);
    assert_eq!(mine[0]["status"], "active", "the old grant stays valid");
    assert_eq!(mine[0]["superseded"], true);
    assert_eq!(stale, StatusCode::CONFLICT);
    assert_eq!(coverage[0]["consenting"], 1);
    assert_eq!(coverage[0]["consenting_current"], 0);
}
