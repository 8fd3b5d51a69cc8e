//! The demo patient, whom a visitor can sign in as, and synthetic care consents for cohort
//! patients whose charts a demonstration or a benchmark opens.

use app::access::DataCategory;
use app::consent::{
    self, ConsentKind, NewConsentGrant, SignatureEvidence, add_template_version, create_template,
};
use app::error::{AppError, ErrorCode};
use app::identity::Role;
use app::identity::server::accounts::{self, NewAccount};
use app::identity::server::email::normalize_email;
use app::ids::{ClinicId, PatientId, UserId};
use app::records::{NewCareTeamMember, RecordKeys, import_patients};
use app::services::Services;
use chrono::Utc;
use diesel_async::AsyncConnection;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{PURPOSE, Staff, messages, plan_patient};

/// Mixed into the seed of the random stream that plans the demo patient.
const DEMO_STREAM: u64 = 0x6465_6d6f_5f6d_756d;

/// Text of the synthetic care-coordination consent.
const CARE_CONSENT_TEXT: &str = "I agree that my care team may use my record to coordinate my \
    postnatal care. (Synthetic consent of a generated demonstration record.)";

/// Email of the clinic's demo patient. The .invalid top-level domain is reserved, so the
/// address can never receive mail.
pub fn demo_patient_email(clinic_slug: &str) -> Result<String, String> {
    let email = format!("patient.1@{clinic_slug}.synthetic.invalid");
    normalize_email(&email).map_err(|message| format!("{email:?}: {message}"))
}

/// Creates the clinic's demo patient unless she exists, and returns her email. She gets a portal
/// account with the email of [`demo_patient_email`] and a record with EPDS screens, vitals, her
/// infant's growth and feeding log and message threads. The first member of each role in
/// `staff` joins her care team, and a care-coordination consent covers all of them.
pub async fn ensure_demo_patient(
    services: &Services,
    clinic_id: ClinicId,
    clinic_slug: &str,
    staff: &Staff,
    seed: u64,
) -> Result<String, String> {
    let email = demo_patient_email(clinic_slug)?;
    let mut conn = app::db::connection(&services.pool)
        .await
        .map_err(|error| error.message)?;
    let existing = accounts::find_by_email(&mut conn, &services.blind_index, &email)
        .await
        .map_err(|error| format!("looking up the demo patient failed: {error}"))?;
    if existing.is_some() {
        return Ok(email);
    }

    let team = first_members(staff)?;
    let mut rng = StdRng::seed_from_u64(seed ^ DEMO_STREAM);
    let mut record = plan_patient(&mut rng, &team)
        .map_err(|error| format!("planning the demo patient failed: {error}"))?;
    let born_at = record
        .care_team
        .first()
        .map(|member| member.starts_at)
        .ok_or("the planned demo patient has no care team")?;
    record.care_team = whole_team(&team, born_at);
    record.threads = messages::plan_threads_for(&mut rng, &record);

    let keys = RecordKeys::from_services(services);
    let patient = conn
        .transaction::<_, AppError, _>(async |conn| {
            let account = NewAccount {
                clinic_id,
                display_name: &record.patient.full_name,
                email: &email,
                roles: &[Role::Patient],
                granted_by: None,
            };
            let user =
                accounts::create_user(conn, keys.provider, keys.blind_index, account).await?;
            record.patient.user_id = Some(user);
            let ids = import_patients(
                conn,
                keys,
                clinic_id,
                PURPOSE,
                std::slice::from_ref(&record),
            )
            .await
            .map_err(|error| AppError::new(ErrorCode::Internal, error.to_string()))?;
            Ok(ids[0])
        })
        .await
        .map_err(|error| format!("creating the demo patient failed: {}", error.message))?;
    grant_synthetic_care_consents(services, clinic_id, team.midwives[0], &[patient]).await?;
    Ok(email)
}

/// Returns a staff list with only the first member of each role, the ones with demo links.
fn first_members(staff: &Staff) -> Result<Staff, String> {
    let first = |members: &[UserId], role: &str| {
        members
            .first()
            .map(|member| vec![*member])
            .ok_or(format!("the cohort has no synthetic {role}"))
    };
    Ok(Staff {
        midwives: first(&staff.midwives, "midwife")?,
        gps: first(&staff.gps, "GP")?,
        lactation_consultants: first(&staff.lactation_consultants, "lactation consultant")?,
        mental_health_specialists: first(
            &staff.mental_health_specialists,
            "mental health specialist",
        )?,
        care_coordinators: first(&staff.care_coordinators, "care coordinator")?,
    })
}

/// Returns a care-team membership for every care role, from the birth on and with no end, so
/// that each demo clinician can open her chart.
fn whole_team(team: &Staff, born_at: chrono::DateTime<Utc>) -> Vec<NewCareTeamMember> {
    [
        (team.midwives[0], Role::Midwife),
        (team.gps[0], Role::PrimaryCareProvider),
        (team.lactation_consultants[0], Role::LactationConsultant),
        (
            team.mental_health_specialists[0],
            Role::MentalHealthSpecialist,
        ),
        (team.care_coordinators[0], Role::CareCoordinator),
    ]
    .into_iter()
    .map(|(provider, role)| NewCareTeamMember {
        provider,
        role,
        starts_at: born_at,
        ends_at: None,
    })
    .collect()
}

/// Grants each of `patients` a care-coordination consent for every data category and every
/// care role, under one new synthetic consent template of the clinic created by `author`.
///
/// NOTE: the signature evidence is synthetic (no passkey assertion exists for generated
/// patients) and says so in its assertion text, so these grants must stay in demo and
/// benchmark databases.
pub async fn grant_synthetic_care_consents(
    services: &Services,
    clinic_id: ClinicId,
    author: UserId,
    patients: &[PatientId],
) -> Result<(), String> {
    let failed =
        |error: app::consent::ConsentError| format!("granting synthetic consents failed: {error}");
    let mut conn = app::db::connection(&services.pool)
        .await
        .map_err(|error| error.message)?;
    let kind = ConsentKind::CareCoordination;
    let template = create_template(
        &mut conn,
        clinic_id,
        kind,
        "Care coordination (synthetic)",
        author,
    )
    .await
    .map_err(failed)?;
    let version = add_template_version(&mut conn, clinic_id, template, CARE_CONSENT_TEXT, author)
        .await
        .map_err(failed)?;
    let care_roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|role| role.may_invite_patients())
        .collect();
    for patient in patients {
        let owner = app::records::patient_owner(&mut conn, *patient)
            .await
            .map_err(|error| format!("looking up a synthetic patient failed: {error}"))?
            .ok_or("a synthetic patient to grant a consent to does not exist")?;
        let grant = NewConsentGrant {
            clinic_id,
            patient_id: *patient,
            version_id: version,
            categories: DataCategory::ALL.to_vec(),
            recipient_roles: care_roles.clone(),
            named_parties: Vec::new(),
            purpose: "coordinating my postnatal care".to_owned(),
            starts_at: Utc::now(),
            expires_at: None,
            signature: SignatureEvidence {
                signer_name: "Synthetic signer".to_owned(),
                credential_id: vec![0; 16],
                text_hash: consent::text_hash(CARE_CONSENT_TEXT),
                assertion: r#"{"synthetic":"generated without a passkey"}"#.to_owned(),
            },
            witness_name: None,
            granted_by: owner.user.unwrap_or(author),
        };
        consent::grant_consent(&mut conn, services.keys.as_ref(), &grant)
            .await
            .map_err(failed)?;
    }
    Ok(())
}
