//! A generator of clearly synthetic patient cohorts for demonstrations, tests and load
//! measurements.
//!
//! Every name, address and phone number is invented and marked "(synthetic)", and phone numbers
//! are in a range reserved for drama. The content is deterministic for a seed: the same seed and
//! size give the same records in the same order, although ids, nonces and data keys are fresh
//! random values on every run. The staff accounts the cohort needs are created in the clinic, or
//! reused when a previous run created them. They get no invitation, so nobody can sign in as
//! them until an operator issues one with [`staff_links`] (`generate-cohort --staff-links`).
//! `generate-cohort --demo-patient` adds a demo patient with a known email ([`ensure_demo_patient`]).
//!
//! About 40% of the mothers use the portal: each gets her own account (role patient, an email
//! under the reserved `.invalid` domain with a random id, no invitation) and message threads
//! with members of her care team.

mod demo;
mod infant;
mod messages;
mod plan;
mod random;
mod screening;

use std::time::Instant;

use app::identity::IssuedLink;
use app::identity::Role;
use app::identity::server::accounts::{self, NewAccount};
use app::identity::server::admin::reissue_by_operator;
use app::identity::server::email::normalize_email;
use app::ids::{ClinicId, PatientId, UserId};
use app::records::{ImportedPatient, RecordKeys, import_patients};
use app::services::Services;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub use demo::{demo_patient_email, ensure_demo_patient, grant_synthetic_care_consents};
pub use plan::{Staff, plan_patient};
pub use screening::epds_answers;

/// Largest cohort one run generates.
pub const MAX_PATIENTS: u32 = 50_000;
/// Patients imported per transaction.
const BATCH_SIZE: usize = 200;
/// Patients per synthetic staff member of each role.
const PATIENTS_PER_STAFF: u32 = 500;
/// Mixed into the seed of the random stream that plans message threads.
const MESSAGE_STREAM: u64 = 0x6d65_7373_6167_6573;
/// Purpose recorded in the audit trail for every generated record.
const PURPOSE: &str = "synthetic cohort generation";

/// Options of one generator run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortOptions {
    pub clinic_slug: String,
    pub patients: u32,
    pub seed: u64,
}

/// Progress after each batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
    pub patients_per_second: f64,
}

/// Ids and counts of what one run created.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSummary {
    pub clinic_id: ClinicId,
    /// The patients in generation order.
    pub patients: Vec<PatientId>,
    pub staff: Staff,
    /// Emails of the staff accounts, in the order [`staff_links`] prints them.
    pub staff_emails: Vec<String>,
    pub infants: usize,
    pub observations: usize,
    pub appointments: usize,
    /// Mothers with a portal account, and their message threads and messages.
    pub portal_accounts: usize,
    pub threads: usize,
    pub messages: usize,
    pub seconds: f64,
}

/// Generates the cohort into the clinic, creating the clinic if it does not exist, and calls
/// `progress` after each batch.
pub async fn generate(
    services: &Services,
    options: &CohortOptions,
    mut progress: impl FnMut(Progress),
) -> Result<CohortSummary, String> {
    if !(1..=MAX_PATIENTS).contains(&options.patients) {
        return Err(format!(
            "the number of patients must be 1 to {MAX_PATIENTS}, not {}",
            options.patients
        ));
    }
    let started = Instant::now();
    let mut conn = app::db::connection(&services.pool)
        .await
        .map_err(|error| error.message)?;
    let clinic_name = format!("{} (synthetic)", options.clinic_slug);
    let clinic_id = accounts::ensure_clinic(&mut conn, &options.clinic_slug, &clinic_name)
        .await
        .map_err(|error| {
            format!("cannot create clinic {:?}; a slug is 2 to 63 lower-case letters, digits or hyphens: {error}", options.clinic_slug)
        })?;
    let (staff, staff_emails) = ensure_staff(&mut conn, services, clinic_id, options).await?;

    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut message_rng = StdRng::seed_from_u64(options.seed ^ MESSAGE_STREAM);
    let keys = RecordKeys::from_services(services);
    let mut summary = CohortSummary {
        clinic_id,
        patients: Vec::with_capacity(options.patients as usize),
        staff: staff.clone(),
        staff_emails,
        infants: 0,
        observations: 0,
        appointments: 0,
        portal_accounts: 0,
        threads: 0,
        messages: 0,
        seconds: 0.0,
    };
    let mut remaining = options.patients as usize;
    while remaining > 0 {
        let size = remaining.min(BATCH_SIZE);
        let mut batch = Vec::with_capacity(size);
        for _ in 0..size {
            let mut record = plan_patient(&mut rng, &staff)
                .map_err(|error| format!("planning a synthetic patient failed: {error}"))?;
            record.threads = messages::plan_portal(&mut message_rng, &record);
            summary.infants += record.infants.len();
            summary.observations += record.observations.len()
                + record
                    .infants
                    .iter()
                    .map(|infant| infant.observations.len())
                    .sum::<usize>();
            summary.appointments += record.appointments.len();
            summary.threads += record.threads.len();
            summary.messages += record
                .threads
                .iter()
                .map(|thread| thread.messages.len())
                .sum::<usize>();
            batch.push(record);
        }
        summary.portal_accounts +=
            create_portal_accounts(&mut conn, services, clinic_id, options, &mut batch).await?;
        let ids = import_patients(&mut conn, keys, clinic_id, PURPOSE, &batch)
            .await
            .map_err(|error| {
                format!(
                    "inserting patients failed after {} of {}: {error}",
                    summary.patients.len(),
                    options.patients
                )
            })?;
        summary.patients.extend(ids);
        remaining -= size;

        let elapsed = started.elapsed().as_secs_f64().max(f64::EPSILON);
        let done = summary.patients.len() as u32;
        progress(Progress {
            done,
            total: options.patients,
            patients_per_second: f64::from(done) / elapsed,
        });
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Creates, in one transaction, the own account of every mother in `batch` who has message
/// threads, and links it to her record. Returns how many it created.
async fn create_portal_accounts(
    conn: &mut AsyncPgConnection,
    services: &Services,
    clinic_id: ClinicId,
    options: &CohortOptions,
    batch: &mut [ImportedPatient],
) -> Result<usize, String> {
    conn.transaction::<_, app::error::AppError, _>(async |conn| {
        let mut created = 0;
        for record in batch.iter_mut().filter(|record| !record.threads.is_empty()) {
            let email = format!(
                "mother.{}@{}.synthetic.invalid",
                uuid::Uuid::new_v4().simple(),
                options.clinic_slug
            );
            let account = NewAccount {
                clinic_id,
                display_name: &record.patient.full_name,
                email: &email,
                roles: &[Role::Patient],
                granted_by: None,
            };
            let keys = services.keys.as_ref();
            let user = accounts::create_user(conn, keys, &services.blind_index, account).await?;
            record.patient.user_id = Some(user);
            created += 1;
        }
        Ok(created)
    })
    .await
    .map_err(|error| {
        format!(
            "creating synthetic portal accounts failed: {}",
            error.message
        )
    })
}

/// Issues a new enrollment link (or a recovery link, once enrolled) for each staff account of
/// a cohort, so that the demo can sign in as them. Earlier links of those accounts stop working.
pub async fn staff_links(
    services: &Services,
    emails: &[String],
) -> Result<Vec<(String, IssuedLink)>, String> {
    let mut links = Vec::with_capacity(emails.len());
    for email in emails {
        let issued = reissue_by_operator(services, email)
            .await
            .map_err(|error| format!("issuing a link for {email} failed: {}", error.message))?;
        links.push((email.clone(), issued));
    }
    Ok(links)
}

/// Finds or creates the clinic's synthetic staff: one of each care role per 500 patients, and
/// one compliance officer. Returns the care staff with the emails of all of them.
async fn ensure_staff(
    conn: &mut AsyncPgConnection,
    services: &Services,
    clinic_id: ClinicId,
    options: &CohortOptions,
) -> Result<(Staff, Vec<String>), String> {
    let per_role = 1 + options.patients.saturating_sub(1) / PATIENTS_PER_STAFF;
    let mut staff = Staff {
        midwives: Vec::new(),
        gps: Vec::new(),
        lactation_consultants: Vec::new(),
        mental_health_specialists: Vec::new(),
        care_coordinators: Vec::new(),
    };
    let roles = [
        (Role::Midwife, "Midwife"),
        (Role::PrimaryCareProvider, "GP"),
        (Role::LactationConsultant, "Lactation consultant"),
        (Role::MentalHealthSpecialist, "Mental health specialist"),
        (Role::CareCoordinator, "Care coordinator"),
    ];
    let mut emails = Vec::new();
    for (role, label) in roles {
        for number in 1..=per_role {
            let email = staff_email(options, role, number)?;
            let id =
                ensure_staff_member(conn, services, clinic_id, &email, role, label, number).await?;
            emails.push(email);
            match role {
                Role::Midwife => staff.midwives.push(id),
                Role::PrimaryCareProvider => staff.gps.push(id),
                Role::LactationConsultant => staff.lactation_consultants.push(id),
                Role::MentalHealthSpecialist => staff.mental_health_specialists.push(id),
                _ => staff.care_coordinators.push(id),
            }
        }
    }
    // One compliance officer reviews the whole clinic, however large the cohort.
    let role = Role::ComplianceOfficer;
    let email = staff_email(options, role, 1)?;
    ensure_staff_member(
        conn,
        services,
        clinic_id,
        &email,
        role,
        "Compliance officer",
        1,
    )
    .await?;
    emails.push(email);
    Ok((staff, emails))
}

/// Email of a synthetic staff member. The .invalid top-level domain is reserved, so these
/// addresses can never receive mail.
fn staff_email(options: &CohortOptions, role: Role, number: u32) -> Result<String, String> {
    let email = format!(
        "{}.{number}@{}.synthetic.invalid",
        role.as_str().replace('_', "-"),
        options.clinic_slug
    );
    normalize_email(&email).map_err(|message| format!("{email:?}: {message}"))
}

async fn ensure_staff_member(
    conn: &mut AsyncPgConnection,
    services: &Services,
    clinic_id: ClinicId,
    email: &str,
    role: Role,
    label: &str,
    number: u32,
) -> Result<UserId, String> {
    let existing = accounts::find_by_email(conn, &services.blind_index, email)
        .await
        .map_err(|error| format!("looking up synthetic staff failed: {error}"))?;
    if let Some(account) = existing {
        return Ok(account.id);
    }

    let display_name = format!("{label} {number} (synthetic)");
    conn.transaction::<_, app::error::AppError, _>(async |conn| {
        let account = NewAccount {
            clinic_id,
            display_name: &display_name,
            email,
            roles: &[role],
            granted_by: None,
        };
        accounts::create_user(conn, services.keys.as_ref(), &services.blind_index, account).await
    })
    .await
    .map_err(|error| format!("creating synthetic staff failed: {}", error.message))
}

#[cfg(test)]
mod tests {
    use app::clinical::screening::{EpdsThresholds, ScreeningFlag, score_epds};
    use app::records::ObservationValue;

    use super::*;

    fn staff() -> Staff {
        let ids = |n: u128| vec![UserId(uuid::Uuid::from_u128(n))];
        Staff {
            midwives: ids(1),
            gps: ids(2),
            lactation_consultants: ids(3),
            mental_health_specialists: ids(4),
            care_coordinators: ids(5),
        }
    }

    fn plan(seed: u64, patients: usize) -> Vec<app::records::ImportedPatient> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..patients)
            .map(|_| plan_patient(&mut rng, &staff()).unwrap())
            .collect()
    }

    #[test]
    fn plan_is_deterministic_for_seed() {
        assert_eq!(plan(11, 50), plan(11, 50));
        assert_ne!(plan(11, 50), plan(12, 50));
    }

    #[test]
    fn epds_and_blood_pressure_shares_are_realistic() {
        let records = plan(3, 2000);
        let mut screens = 0;
        let mut high = 0;
        let mut self_harm = 0;
        let mut severe = 0;
        for record in &records {
            for observation in &record.observations {
                match &observation.value {
                    ObservationValue::Epds { answers, total } => {
                        screens += 1;
                        high += usize::from(total.is_some_and(|total| total >= 13));
                        let scored = score_epds(answers, EpdsThresholds::default()).unwrap();
                        let flagged = scored.result.has_flag(ScreeningFlag::UrgentSelfHarm);
                        self_harm += usize::from(flagged);
                    }
                    ObservationValue::BloodPressure {
                        systolic_mmhg,
                        diastolic_mmhg,
                        ..
                    } => {
                        severe += usize::from(*systolic_mmhg >= 160.0 || *diastolic_mmhg >= 110.0);
                    }
                    _ => {}
                }
            }
        }

        let high_share = high as f64 / screens as f64;
        assert_eq!(screens, 4000);
        assert!((0.10..=0.15).contains(&high_share), "{high_share}");
        assert!((20..=200).contains(&self_harm), "{self_harm}");
        assert!((20..=120).contains(&severe), "{severe}");
    }

    #[test]
    fn mothers_aged_16_to_45_with_synthetic_names() {
        for record in plan(5, 500) {
            let delivery = record.infants[0].infant.birth_date;
            let age = delivery.years_since(record.patient.date_of_birth).unwrap();
            assert!((16..=45).contains(&age), "{age}");
            assert!(record.patient.full_name.ends_with("(synthetic)"));
            assert!(record.patient.phone.starts_with("+44 7700 900"));
        }
    }
}
