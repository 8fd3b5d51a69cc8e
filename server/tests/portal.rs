//! The patient portal's server functions through the real router: feeding, growth, vitals,
//! mood check-ins and screening assignments, each on the signed-in patient's own record.

mod support;

use app::access::DataCategory;
use app::clinical::growth::Sex;
use app::clinical::units::{Entered, MassUnit};
use app::identity::Role;
use app::ids::{ClinicId, PatientId};
use app::protocols::{self, Rule};
use app::records::{ImportedInfant, ImportedPatient, NewCareTeamMember, NewInfant, NewPatient};
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::Value;
use support::TestApp;
use support::matrix::{Consent, count_rows};
use support::personas::{Persona, call_as, persona};

/// A clinic with two mothers, each with her own account and one infant, and a mental health
/// specialist on the first mother's care team.
struct Portal {
    app: TestApp,
    conn: AsyncPgConnection,
    clinic: ClinicId,
    mother: Persona,
    patient: PatientId,
    infant: String,
    other_patient: PatientId,
    other_infant: String,
    specialist: Persona,
}

async fn import_mother(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    account: &Persona,
    care_team: Vec<NewCareTeamMember>,
) -> PatientId {
    let record = ImportedPatient {
        patient: NewPatient {
            user_id: Some(account.user),
            full_name: "Ada Portalson (synthetic)".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(1992, 3, 14).unwrap(),
            address: "2 Example Lane, Testville (synthetic)".to_owned(),
            phone: "+44 7700 900002".to_owned(),
        },
        author: account.user,
        infants: vec![ImportedInfant {
            infant: NewInfant {
                name: "Ivy Portalson (synthetic)".to_owned(),
                birth_date: Utc::now().date_naive() - Duration::days(30),
                birth_weight: Entered::new(3300.0, MassUnit::Grams),
                sex: Sex::Female,
            },
            observations: Vec::new(),
            entries: Vec::new(),
        }],
        observations: Vec::new(),
        entries: Vec::new(),
        care_team,
        appointments: Vec::new(),
        threads: Vec::new(),
    };
    let keys = app::records::RecordKeys::from_services(&app.state.services);
    app::records::import_patients(conn, keys, clinic, "synthetic test data", &[record])
        .await
        .unwrap()
        .remove(0)
}

async fn infant_of(portal_app: &TestApp, cookie: &str) -> String {
    let (status, body) =
        call_as(&portal_app.router, cookie, "portal/infants", &[], "infants").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body[0]["id"].as_str().unwrap().to_owned()
}

impl Portal {
    async fn build() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic = support::create_clinic(&mut conn, "meadow").await;

        let mother = persona(
            &app,
            &mut conn,
            clinic,
            "Ada Portalson",
            &[Role::Patient],
            0,
        )
        .await;
        let other = persona(&app, &mut conn, clinic, "Bea Other", &[Role::Patient], 0).await;
        let specialist = persona(
            &app,
            &mut conn,
            clinic,
            "Mia Mind",
            &[Role::MentalHealthSpecialist],
            0,
        )
        .await;

        let team = vec![NewCareTeamMember {
            provider: specialist.user,
            role: Role::MentalHealthSpecialist,
            starts_at: Utc::now() - Duration::days(5),
            ends_at: None,
        }];
        let patient = import_mother(&app, &mut conn, clinic, &mother, team).await;
        let other_patient = import_mother(&app, &mut conn, clinic, &other, Vec::new()).await;
        support::consents::set_consent(&app, &mut conn, patient, Consent::Granted).await;

        let infant = infant_of(&app, &mother.cookie).await;
        let other_infant = infant_of(&app, &other.cookie).await;
        Self {
            app,
            conn,
            clinic,
            mother,
            patient,
            infant,
            other_patient,
            other_infant,
            specialist,
        }
    }

    async fn call(&self, endpoint: &str, arguments: &[(&str, String)]) -> (StatusCode, Value) {
        call_as(
            &self.app.router,
            &self.mother.cookie,
            endpoint,
            arguments,
            "portal-test",
        )
        .await
    }

    async fn observations(&mut self, patient: PatientId) -> i64 {
        count_rows(&mut self.conn, "observations", patient).await
    }
}

fn pairs(items: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    items
        .iter()
        .map(|(key, value)| (*key, (*value).to_owned()))
        .collect()
}

#[tokio::test]
async fn feed_is_logged_and_listed() {
    let portal = Portal::build().await;
    let mut arguments = pairs(&[
        ("kind", "breastfeed"),
        ("breast_side", "left"),
        ("duration_minutes", "15"),
    ]);
    arguments.push(("infant_id", portal.infant.clone()));

    let (status, body) = portal.call("portal/feeding/add", &arguments).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["summary"], "Breastfeed, left, 15 min");

    let infant = vec![("infant_id", portal.infant.clone())];
    let (status, body) = portal.call("portal/feeding", &infant).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["summary"], "Breastfeed, left, 15 min");
}

#[tokio::test]
async fn feed_for_other_patients_infant_refused() {
    let mut portal = Portal::build().await;
    let own_before = portal.observations(portal.patient).await;
    let other_before = portal.observations(portal.other_patient).await;
    let mut arguments = pairs(&[("kind", "nappy"), ("wet", "true")]);
    arguments.push(("infant_id", portal.other_infant.clone()));

    let (status, body) = portal.call("portal/feeding/add", &arguments).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = portal
        .call(
            "portal/feeding",
            &[("infant_id", portal.other_infant.clone())],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = portal
        .call(
            "portal/growth",
            &[("infant_id", portal.other_infant.clone())],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(portal.observations(portal.patient).await, own_before);
    assert_eq!(
        portal.observations(portal.other_patient).await,
        other_before
    );
}

#[tokio::test]
async fn incomplete_feed_entries_rejected() {
    let mut portal = Portal::build().await;
    let before = portal.observations(portal.patient).await;
    for entry in [
        &[("kind", "breastfeed"), ("breast_side", "left")][..],
        &[
            ("kind", "formula_bottle"),
            ("breast_side", "left"),
            ("volume_ml", "90"),
        ],
        &[("kind", "nappy")],
        &[("kind", "expressed_milk_bottle"), ("volume_ml", "900")],
    ] {
        let mut arguments = pairs(entry);
        arguments.push(("infant_id", portal.infant.clone()));
        let (status, body) = portal.call("portal/feeding/add", &arguments).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{entry:?}: {body}");
    }
    assert_eq!(portal.observations(portal.patient).await, before);
}

#[tokio::test]
async fn partial_epds_refused() {
    let mut portal = Portal::build().await;
    let before = portal.observations(portal.patient).await;
    let arguments = pairs(&[
        ("instrument", "epds"),
        ("answers", "[0,0,3,null,3,3,3,3,3,3]"),
    ]);

    let (status, body) = portal.call("portal/check-in", &arguments).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("Unanswered: question 4"), "{message}");
    assert_eq!(portal.observations(portal.patient).await, before);

    let short = pairs(&[("instrument", "epds"), ("answers", "[0,0,3]")]);
    let (status, _) = portal.call("portal/check-in", &short).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(portal.observations(portal.patient).await, before);
}

#[tokio::test]
async fn high_epds_creates_referral_and_alert() {
    let mut portal = Portal::build().await;
    // Every item at its most severe answer, item 10 "Sometimes": total 29.
    let arguments = pairs(&[("instrument", "epds"), ("answers", "[3,3,0,3,0,0,0,0,0,1]")]);

    let (status, body) = portal.call("portal/check-in", &arguments).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 29);
    assert_eq!(body["crisis"], true);
    assert_eq!(body["follow_up"], true);

    let categories = [DataCategory::MentalHealth];
    let tasks =
        protocols::patient_tasks(&mut portal.conn, portal.clinic, portal.patient, &categories)
            .await
            .unwrap();
    let referral = tasks
        .iter()
        .find(|task| task.rule == Some(Rule::EpdsReferral))
        .expect("an EPDS referral task");
    assert_eq!(referral.owner_user_id, Some(portal.specialist.user));
    let alerts =
        protocols::patient_alerts(&mut portal.conn, portal.clinic, portal.patient, &categories)
            .await
            .unwrap();
    assert!(alerts.iter().any(|alert| alert.rule == Rule::EpdsSelfHarm));
}

#[tokio::test]
async fn low_epds_outcome_is_calm() {
    let portal = Portal::build().await;
    let arguments = pairs(&[("instrument", "epds"), ("answers", "[0,0,3,0,3,3,3,3,3,3]")]);

    let (status, body) = portal.call("portal/check-in", &arguments).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 0);
    assert_eq!(body["crisis"], false);
    assert_eq!(body["follow_up"], false);
}

#[tokio::test]
async fn assigned_phq9_awaits_until_submitted() {
    let portal = Portal::build().await;
    let assign = vec![
        ("patient_id", portal.patient.to_string()),
        ("instrument", "phq9".to_owned()),
        ("purpose", "follow-up of mood".to_owned()),
    ];
    for request in ["assign-1", "assign-2"] {
        let (status, body) = call_as(
            &portal.app.router,
            &portal.specialist.cookie,
            "screenings/assign",
            &assign,
            request,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, home) = portal.call("portal/home", &[]).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    let assigned: Vec<&Value> = home["awaiting"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item.get("AssignedScreening").is_some())
        .collect();
    assert_eq!(assigned.len(), 1, "assigning twice asks once: {home}");
    assert_eq!(assigned[0]["AssignedScreening"]["instrument"], "phq9");
    assert_eq!(assigned[0]["AssignedScreening"]["assigned_by"], "Mia Mind");

    let answers = pairs(&[("instrument", "phq9"), ("answers", "[1,1,1,1,0,0,0,0,0]")]);
    let (status, body) = portal.call("portal/check-in", &answers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 4);

    let (status, list) = portal.call("portal/screenings", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, Value::Array(Vec::new()));
}

#[tokio::test]
async fn patient_cannot_assign_for_another_patient() {
    let portal = Portal::build().await;
    let assign = vec![
        ("patient_id", portal.other_patient.to_string()),
        ("instrument", "gad7".to_owned()),
        ("purpose", "curiosity".to_owned()),
    ];
    let (status, _) = portal.call("screenings/assign", &assign).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn impossible_vitals_rejected() {
    let mut portal = Portal::build().await;
    let before = portal.observations(portal.patient).await;
    for (endpoint, arguments) in [
        (
            "portal/vitals/blood-pressure",
            &[
                ("systolic", "400"),
                ("diastolic", "80"),
                ("unit", "millimetres_of_mercury"),
            ][..],
        ),
        (
            "portal/vitals/blood-pressure",
            &[
                ("systolic", "80"),
                ("diastolic", "120"),
                ("unit", "millimetres_of_mercury"),
            ],
        ),
        (
            "portal/vitals/temperature",
            &[("value", "50"), ("unit", "celsius")],
        ),
        (
            "portal/vitals/temperature",
            &[("value", "37"), ("unit", "fahrenheit")],
        ),
    ] {
        let (status, body) = portal.call(endpoint, &pairs(arguments)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{arguments:?}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("Check"),
            "{body}"
        );
    }
    assert_eq!(portal.observations(portal.patient).await, before);
}

#[tokio::test]
async fn vitals_in_other_units_normalised() {
    let portal = Portal::build().await;
    let kpa = pairs(&[
        ("systolic", "16"),
        ("diastolic", "10"),
        ("unit", "kilopascals"),
    ]);
    let (status, body) = portal.call("portal/vitals/blood-pressure", &kpa).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["summary"], "Blood pressure 120/75 mmHg");
    assert_eq!(body["follow_up"], false);

    let severe = pairs(&[
        ("systolic", "165"),
        ("diastolic", "95"),
        ("unit", "millimetres_of_mercury"),
    ]);
    let (status, body) = portal.call("portal/vitals/blood-pressure", &severe).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["urgent"], true);

    let fahrenheit = pairs(&[("value", "100.4"), ("unit", "fahrenheit")]);
    let (status, body) = portal.call("portal/vitals/temperature", &fahrenheit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["summary"], "Temperature 38 °C");
    assert_eq!(body["follow_up"], true);

    let (status, list) = portal.call("portal/vitals", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0]["summary"], "Temperature 38 °C");
}

#[tokio::test]
async fn growth_entry_shows_who_z_score() {
    let mut portal = Portal::build().await;
    let mut weight = pairs(&[("measure", "weight"), ("value", "4200"), ("unit", "grams")]);
    weight.push(("infant_id", portal.infant.clone()));

    let (status, body) = portal.call("portal/growth/add", &weight).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], "4.2 kg");
    let z = body["z_score"].as_str().unwrap();
    assert_ne!(z, "-0.00");
    let expected = app::clinical::growth::weight_for_age(Sex::Female, 30, 4.2).unwrap();
    assert_eq!(z, expected.z_score_text());
    assert_eq!(body["percentile"], expected.percentile_text());

    let (status, view) = portal
        .call("portal/growth", &[("infant_id", portal.infant.clone())])
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["charts"].as_array().unwrap().len(), 3);
    assert_eq!(view["charts"][0]["points"].as_array().unwrap().len(), 1);
    assert_eq!(view["latest"][0]["z_score"], z);

    let before = portal.observations(portal.patient).await;
    for (measure, value, unit) in [
        ("weight", "90", "kilograms"),
        ("length", "52", "kilograms"),
        ("head_circumference", "200", "centimetres"),
    ] {
        let mut arguments = pairs(&[("measure", measure), ("value", value), ("unit", unit)]);
        arguments.push(("infant_id", portal.infant.clone()));
        let (status, body) = portal.call("portal/growth/add", &arguments).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{measure} {value} {unit}: {body}"
        );
    }
    assert_eq!(portal.observations(portal.patient).await, before);
}

#[tokio::test]
async fn home_lists_team_and_awaiting_items() {
    let portal = Portal::build().await;
    let (status, home) = portal.call("portal/home", &[]).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    assert_eq!(home["care_team"][0]["name"], "Mia Mind");
    assert_eq!(home["care_team"][0]["role"], "mental_health_specialist");
    assert_eq!(home["weeks_postpartum"], 4);
    assert_eq!(home["awaiting"], serde_json::json!(["EpdsDue"]));

    let added = pairs(&[
        ("name", "Second Baby (synthetic)"),
        ("birth_date", "2999-01-01"),
        ("birth_weight_grams", "3000"),
        ("sex", "male"),
    ]);
    let (status, body) = portal.call("portal/infants/add", &added).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
