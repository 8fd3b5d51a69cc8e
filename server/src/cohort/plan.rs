//! The deterministic plan of one synthetic patient record: the mother, her delivery, her
//! infants, vital signs, EPDS screens, care team and appointments.
//!
//! Every value comes from the seeded generator in a fixed order, so one seed gives the same
//! records in the same order. Dates fall in 2026 and do not depend on the clock.

use app::clinical::units::{Entered, PressureUnit, TemperatureUnit};
use app::clinical::vitals::BloodPressureReading;
use app::identity::Role;
use app::ids::UserId;
use app::records::{
    AppointmentKind, AppointmentStatus, Classification, ImportedPatient, NewAppointment,
    NewCareTeamMember, NewClinicalEntry, NewObservation, NewPatient, ObservationValue,
    RecordsError,
};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rand::RngExt;
use rand::rngs::StdRng;

use super::infant::{Birth, FeedingPattern, plan_infant};
use super::random::{clamped_normal, normal, pick, tenths, weighted};
use super::screening::{RAISED_RISK_SHARE, epds_answers};

/// Invented given names. Some carry accents, and two are in Cyrillic and Han script, so that
/// search can be tried on them.
const GIVEN_NAMES: [&str; 16] = [
    "Alvessa",
    "Brimora",
    "Calithe",
    "Daśvina",
    "Elowmé",
    "Farrin",
    "Gwenlyth",
    "Halvéa",
    "Isoldra",
    "Jorvenne",
    "Kestrel",
    "Lunavie",
    "Mirabeth",
    "Nyssa",
    "Анфиса",
    "王芳",
];
/// Invented family names, one of them double-barrelled.
const FAMILY_NAMES: [&str; 12] = [
    "Brambleworth",
    "Quillfeather",
    "Ashgrove-Tamsen",
    "Dunmarrow",
    "Fernhollow",
    "Glimmerton",
    "Harrowgate",
    "Larkspire",
    "Mossbury",
    "Nettlecombe",
    "Thistledown",
    "Wyncliffe",
];
const INFANT_NAMES: [&str; 10] = [
    "Pip", "Rowanel", "Sorrel", "Tamsy", "Umber", "Vireo", "Wilder", "Yarrow", "Zinnia", "Briar",
];
const STREETS: [&str; 6] = [
    "Example Street",
    "Sample Lane",
    "Placeholder Road",
    "Fictional Close",
    "Mock Avenue",
    "Specimen Way",
];
/// First delivery date; deliveries spread over the following 300 days.
const FIRST_DELIVERY: (i32, u32, u32) = (2026, 1, 5);
/// Appointments before this date are in the past: completed or missed.
const CUTOFF: (i32, u32, u32) = (2026, 10, 1);

/// Synthetic staff accounts of the clinic that care for the cohort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub midwives: Vec<UserId>,
    pub gps: Vec<UserId>,
    pub lactation_consultants: Vec<UserId>,
    pub mental_health_specialists: Vec<UserId>,
    pub care_coordinators: Vec<UserId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeliveryType {
    SpontaneousVaginal,
    AssistedVaginal,
    PlannedCaesarean,
    EmergencyCaesarean,
}

impl DeliveryType {
    fn as_str(self) -> &'static str {
        match self {
            Self::SpontaneousVaginal => "spontaneous_vaginal",
            Self::AssistedVaginal => "assisted_vaginal",
            Self::PlannedCaesarean => "planned_caesarean",
            Self::EmergencyCaesarean => "emergency_caesarean",
        }
    }
}

/// Blood pressure course after birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PressureCourse {
    Normal,
    Raised,
    /// Raised, with one severe-range reading (160/110 mmHg or more).
    Severe,
}

fn date(parts: (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(parts.0, parts.1, parts.2).unwrap_or_default()
}

fn at_time(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
    day.and_time(time).and_utc()
}

fn choose(rng: &mut StdRng, staff: &[UserId]) -> UserId {
    *pick(rng, staff)
}

/// Plans the record of one mother and her infants, cared for by `staff`.
pub fn plan_patient(rng: &mut StdRng, staff: &Staff) -> Result<ImportedPatient, RecordsError> {
    let given = *pick(rng, &GIVEN_NAMES);
    let family = *pick(rng, &FAMILY_NAMES);
    let delivery = date(FIRST_DELIVERY) + Duration::days(rng.random_range(0..300));
    let age = clamped_normal(rng, 30.0, 5.5, 16.0, 45.9).floor() as i64;
    let date_of_birth = delivery - Duration::days(age * 365 + age / 4 + rng.random_range(0..365));
    let patient = NewPatient {
        user_id: None,
        full_name: format!("{given} {family} (synthetic)"),
        date_of_birth,
        address: format!(
            "{} {}, Testborough (synthetic)",
            rng.random_range(1..200),
            pick(rng, &STREETS)
        ),
        // Ofcom reserves 07700 900000 to 900999 for drama, so these numbers reach no one.
        phone: format!("+44 7700 900{:03}", rng.random_range(0..1000)),
    };

    let delivery_type = weighted(
        rng,
        &[
            (DeliveryType::SpontaneousVaginal, 0.57),
            (DeliveryType::AssistedVaginal, 0.12),
            (DeliveryType::PlannedCaesarean, 0.13),
            (DeliveryType::EmergencyCaesarean, 0.18),
        ],
    );
    let parity_before = weighted(
        rng,
        &[(0u32, 0.40), (1, 0.35), (2, 0.15), (3, 0.07), (4, 0.03)],
    );
    let gestation_weeks = clamped_normal(rng, 39.2, 1.6, 28.0, 42.0).round() as u32;
    let infant_count = if rng.random_bool(0.015) { 2 } else { 1 };
    let born_at = at_time(delivery, rng.random_range(0..24), rng.random_range(0..60));
    let pattern = weighted(
        rng,
        &[
            (FeedingPattern::Breast, 0.55),
            (FeedingPattern::Mixed, 0.25),
            (FeedingPattern::Formula, 0.20),
        ],
    );

    let mut infants = Vec::with_capacity(infant_count);
    for _ in 0..infant_count {
        let birth = Birth {
            date: delivery,
            born_at,
            gestation_weeks,
            family_name: family,
            given_name: INFANT_NAMES[rng.random_range(0..INFANT_NAMES.len())],
        };
        infants.push(plan_infant(rng, &birth, pattern)?);
    }

    let raised_risk = rng.random_bool(RAISED_RISK_SHARE);
    let midwife = choose(rng, &staff.midwives);
    let mut observations = vital_signs(rng, born_at)?;
    for week in [2, 6] {
        let screened_at = born_at + Duration::weeks(week) + Duration::hours(3);
        observations.push(NewObservation {
            infant_id: None,
            observed_at: screened_at,
            value: ObservationValue::epds(epds_answers(rng, raised_risk))?,
        });
    }

    let outcome = serde_json::json!({
        "delivery_type": delivery_type.as_str(),
        "parity_before_birth": parity_before,
        "gestation_weeks": gestation_weeks,
        "infants_born_alive": infant_count,
        "estimated_blood_loss_ml": (clamped_normal(rng, 400.0, 180.0, 100.0, 2000.0) / 10.0).round() * 10.0,
        "synthetic": true,
    });
    let entries = vec![NewClinicalEntry {
        classification: Classification::Maternal,
        infant_id: None,
        entry_type: "birth_outcome".to_owned(),
        recorded_at: born_at + Duration::hours(1),
        payload: outcome,
    }];

    let care_team = care_team(rng, staff, midwife, born_at, raised_risk, pattern);
    let appointments = appointments(rng, staff, midwife, born_at, raised_risk);
    Ok(ImportedPatient {
        patient,
        author: midwife,
        infants,
        observations,
        entries,
        care_team,
        appointments,
        threads: Vec::new(),
    })
}

/// Blood pressure on days 1, 3, 5 and 10 and temperature on days 1 and 3 after birth.
fn vital_signs(
    rng: &mut StdRng,
    born_at: DateTime<Utc>,
) -> Result<Vec<NewObservation>, RecordsError> {
    let course = weighted(
        rng,
        &[
            (PressureCourse::Normal, 0.85),
            (PressureCourse::Raised, 0.12),
            (PressureCourse::Severe, 0.03),
        ],
    );
    let severe_day = rng.random_range(0..4);
    let mut readings = Vec::new();
    for (index, day) in [1, 3, 5, 10].into_iter().enumerate() {
        let (systolic, diastolic) = match course {
            PressureCourse::Severe if index == severe_day => {
                (rng.random_range(160..=178), rng.random_range(100..=116))
            }
            PressureCourse::Normal => whole_mmhg(normal(rng, 118.0, 10.0), normal(rng, 75.0, 7.0)),
            PressureCourse::Raised | PressureCourse::Severe => {
                whole_mmhg(normal(rng, 146.0, 7.0), normal(rng, 93.0, 5.0))
            }
        };
        let diastolic = diastolic.min(systolic - 25);
        let reading = BloodPressureReading {
            systolic: f64::from(systolic),
            diastolic: f64::from(diastolic),
            unit: PressureUnit::MillimetresOfMercury,
        };
        readings.push(NewObservation {
            infant_id: None,
            observed_at: born_at + Duration::days(day) + Duration::hours(1),
            value: ObservationValue::blood_pressure(reading)?,
        });
    }

    let fever = rng.random_bool(0.03);
    for day in [1, 3] {
        let celsius = if fever && day == 3 {
            tenths(rng.random_range(38.1..39.2))
        } else {
            tenths(clamped_normal(rng, 36.8, 0.3, 36.0, 37.7))
        };
        readings.push(NewObservation {
            infant_id: None,
            observed_at: born_at + Duration::days(day) + Duration::hours(1),
            value: ObservationValue::temperature(Entered::new(celsius, TemperatureUnit::Celsius))?,
        });
    }
    Ok(readings)
}

/// Rounds a pair of pressures to whole mmHg, as sphygmomanometers show them, and keeps them
/// below the severe range, which only the severe course reaches.
fn whole_mmhg(systolic: f64, diastolic: f64) -> (i32, i32) {
    (
        systolic.round().clamp(80.0, 159.0) as i32,
        diastolic.round().clamp(45.0, 109.0) as i32,
    )
}

fn care_team(
    rng: &mut StdRng,
    staff: &Staff,
    midwife: UserId,
    born_at: DateTime<Utc>,
    raised_risk: bool,
    pattern: FeedingPattern,
) -> Vec<NewCareTeamMember> {
    let member = |provider, role, ends_at| NewCareTeamMember {
        provider,
        role,
        starts_at: born_at,
        ends_at,
    };
    // Community midwives hand over to the GP and health visitor six to eight weeks after birth.
    let mut team = vec![
        member(midwife, Role::Midwife, Some(born_at + Duration::weeks(8))),
        member(choose(rng, &staff.gps), Role::PrimaryCareProvider, None),
    ];
    if raised_risk {
        let specialist = choose(rng, &staff.mental_health_specialists);
        team.push(member(specialist, Role::MentalHealthSpecialist, None));
    }
    if pattern != FeedingPattern::Formula && rng.random_bool(0.3) {
        let consultant = choose(rng, &staff.lactation_consultants);
        team.push(member(
            consultant,
            Role::LactationConsultant,
            Some(born_at + Duration::weeks(12)),
        ));
    }
    if rng.random_bool(0.2) {
        team.push(member(
            choose(rng, &staff.care_coordinators),
            Role::CareCoordinator,
            None,
        ));
    }
    team
}

fn appointments(
    rng: &mut StdRng,
    staff: &Staff,
    midwife: UserId,
    born_at: DateTime<Utc>,
    raised_risk: bool,
) -> Vec<NewAppointment> {
    let day = born_at.date_naive();
    let cutoff = at_time(date(CUTOFF), 0, 0);
    let mut planned = vec![
        (midwife, AppointmentKind::PostnatalVisit, 5, 45),
        (midwife, AppointmentKind::InfantCheck, 14, 30),
        (choose(rng, &staff.gps), AppointmentKind::GpReview, 42, 20),
    ];
    if raised_risk {
        let specialist = choose(rng, &staff.mental_health_specialists);
        planned.push((specialist, AppointmentKind::MentalHealthSession, 21, 50));
    }

    planned
        .into_iter()
        .map(|(clinician, kind, after_days, minutes)| {
            let starts_at = at_time(
                day + Duration::days(after_days),
                rng.random_range(9..17),
                15 * rng.random_range(0..4),
            );
            let status = if starts_at >= cutoff {
                AppointmentStatus::Scheduled
            } else {
                weighted(
                    rng,
                    &[
                        (AppointmentStatus::Completed, 0.92),
                        (AppointmentStatus::NoShow, 0.05),
                        (AppointmentStatus::Cancelled, 0.03),
                    ],
                )
            };
            NewAppointment {
                clinician,
                starts_at,
                ends_at: starts_at + Duration::minutes(minutes),
                kind,
                status,
            }
        })
        .collect()
}
