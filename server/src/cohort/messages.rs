//! Synthetic message threads between a mother and members of her care team.
//!
//! Each conversation follows a template tied to a role on her care team and a time after birth.
//! The templates cover feeding questions to a lactation consultant, recovery and blood pressure
//! with the midwife, a follow-up call after a raised depression screen, and rescheduling with a
//! care coordinator. Only members of her care team take part, and some of the latest messages
//! stay unread.

use app::identity::Role;
use app::ids::UserId;
use app::records::{
    Classification, ImportedMessage, ImportedPatient, ImportedThread, MessageSender,
    NewCareTeamMember, ObservationValue,
};
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand::rngs::StdRng;

/// Share of mothers who use the portal and so have message threads.
pub const PORTAL_SHARE: f64 = 0.4;

const BLOOD_PRESSURE_SUBJECT: &str = "Blood pressure recheck";

/// A conversation: who the staff side is, what it is about, when it starts (days after birth,
/// a range), and its lines, `true` for the mother's.
struct Template {
    role: Role,
    classification: Classification,
    subject: &'static str,
    first_day: (i64, i64),
    lines: &'static [(bool, &'static str)],
}

const TEMPLATES: [Template; 6] = [
    Template {
        role: Role::LactationConsultant,
        classification: Classification::Infant,
        subject: "Evening feeds",
        first_day: (3, 10),
        lines: &[
            (
                true,
                "Feeding is going okay, but in the evenings she wants to feed almost every hour. Is that normal?",
            ),
            (
                false,
                "Evening cluster feeding is very common in the first weeks. Keep offering both sides, and tell us if wet nappies drop below six a day.",
            ),
            (true, "Thank you, that is reassuring. Nappies are fine."),
            (
                false,
                "Good to hear. We can look at positioning together at Thursday's drop-in if you like.",
            ),
        ],
    },
    Template {
        role: Role::Midwife,
        classification: Classification::Maternal,
        subject: "Soreness after the birth",
        first_day: (4, 12),
        lines: &[
            (
                true,
                "I am still quite sore when I sit down. Is that expected at this stage?",
            ),
            (
                false,
                "Some soreness is expected for a couple of weeks. If you notice redness, heat, discharge or a fever, call us the same day.",
            ),
            (true, "Nothing like that, just sore."),
            (
                false,
                "Keep taking the pain relief we discussed, and we will check at your next visit.",
            ),
        ],
    },
    Template {
        role: Role::Midwife,
        classification: Classification::Maternal,
        subject: BLOOD_PRESSURE_SUBJECT,
        first_day: (2, 6),
        lines: &[
            (
                false,
                "Your blood pressure was a little high at yesterday's visit. Please call us at once if you get a bad headache, blurred vision or pain under your ribs.",
            ),
            (true, "Will do. No headache so far."),
            (false, "Thank you. We will recheck it at Friday's visit."),
        ],
    },
    Template {
        role: Role::MentalHealthSpecialist,
        classification: Classification::MentalHealth,
        subject: "Follow-up call",
        first_day: (15, 18),
        lines: &[
            (
                false,
                "Thank you for filling in the questionnaire at your visit. I would like to offer you a call this week to talk about how you are feeling. Would Tuesday or Wednesday suit you?",
            ),
            (true, "Wednesday morning would be good."),
            (
                false,
                "Booked for Wednesday at 10:00. If you feel unsafe before then, call the crisis line on your card or 999.",
            ),
        ],
    },
    Template {
        role: Role::CareCoordinator,
        classification: Classification::Maternal,
        subject: "Your six-week check",
        first_day: (28, 35),
        lines: &[
            (
                false,
                "Your six-week check is booked. Reply here if you need to change the time.",
            ),
            (
                true,
                "Could we move it to the afternoon? Morning naps are hard to move.",
            ),
            (false, "Done: it is now at 14:30 on the same day."),
        ],
    },
    Template {
        role: Role::Midwife,
        classification: Classification::Infant,
        subject: "Longer sleeps",
        first_day: (18, 30),
        lines: &[
            (
                true,
                "Is it okay that he now sleeps for four hours at night?",
            ),
            (
                false,
                "With his weight gain on track, a four-hour stretch at night is fine at his age. Keep an eye on wet nappies.",
            ),
        ],
    },
];

/// Plans the threads of a planned record: none unless the mother uses the portal (with
/// probability [`PORTAL_SHARE`]). Runs on its own random stream, so that adding messages did not
/// change the rest of a seed's cohort.
pub fn plan_portal(rng: &mut StdRng, record: &ImportedPatient) -> Vec<ImportedThread> {
    if !rng.random_bool(PORTAL_SHARE) {
        return Vec::new();
    }
    plan_threads_for(rng, record)
}

/// Plans the threads of a mother who uses the portal, from the facts of her planned record.
pub fn plan_threads_for(rng: &mut StdRng, record: &ImportedPatient) -> Vec<ImportedThread> {
    // Care team memberships start at the birth, and only mothers at raised risk of depression
    // get a mental health specialist.
    let Some(born_at) = record.care_team.first().map(|member| member.starts_at) else {
        return Vec::new();
    };
    let context = Context {
        born_at,
        raised_risk: record
            .care_team
            .iter()
            .any(|member| member.role == Role::MentalHealthSpecialist),
        raised_pressure: record.observations.iter().any(|observation| {
            matches!(
                observation.value,
                ObservationValue::BloodPressure { systolic_mmhg, diastolic_mmhg, .. }
                    if systolic_mmhg >= 140.0 || diastolic_mmhg >= 90.0
            )
        }),
    };
    plan_threads(rng, &record.care_team, &context)
}

/// Facts of the record that a conversation depends on.
struct Context {
    born_at: DateTime<Utc>,
    /// Her depression screens are likely to be raised.
    raised_risk: bool,
    /// One of her blood pressure readings was 140/90 or higher.
    raised_pressure: bool,
}

/// Plans the threads of a mother who uses the portal. Each template whose role is on her care
/// team is used with probability one half, except two: the follow-up call comes only after a
/// raised screen, and the blood pressure recheck only after a raised reading.
fn plan_threads(
    rng: &mut StdRng,
    care_team: &[NewCareTeamMember],
    context: &Context,
) -> Vec<ImportedThread> {
    let mut threads = Vec::new();
    for template in &TEMPLATES {
        let Some(member) = care_team.iter().find(|member| member.role == template.role) else {
            continue;
        };
        let wanted = match (template.role, template.subject) {
            (Role::MentalHealthSpecialist, _) => context.raised_risk,
            (_, BLOOD_PRESSURE_SUBJECT) => context.raised_pressure,
            _ => rng.random_bool(0.5),
        };
        if wanted {
            threads.push(plan_thread(rng, template, member.provider, context.born_at));
        }
    }
    threads
}

fn plan_thread(
    rng: &mut StdRng,
    template: &Template,
    provider: UserId,
    born_at: DateTime<Utc>,
) -> ImportedThread {
    let (first, last) = template.first_day;
    let mut sent_at = born_at
        + Duration::days(rng.random_range(first..=last))
        + Duration::minutes(rng.random_range(8 * 60..20 * 60));
    let mut messages = Vec::with_capacity(template.lines.len());
    for (from_mother, body) in template.lines {
        let sender = if *from_mother {
            MessageSender::Patient
        } else {
            MessageSender::Staff(provider)
        };
        messages.push(ImportedMessage {
            sender,
            sent_at,
            body: (*body).to_owned(),
        });
        sent_at += Duration::minutes(rng.random_range(10..6 * 60));
    }

    // The side that did not send the last message may not have read it yet.
    let all = messages.len();
    let last_from_mother = template.lines.last().is_some_and(|(mother, _)| *mother);
    let unread = usize::from(rng.random_bool(0.35));
    let (read_by_patient, read_by_staff) = if last_from_mother {
        (all, all - unread)
    } else {
        (all - unread, all)
    };
    ImportedThread {
        classification: template.classification,
        subject: template.subject.to_owned(),
        staff: vec![provider],
        messages,
        read_by_patient,
        read_by_staff,
    }
}
