//! Server-side steps of the schedule functions: reading the appointments and the care team,
//! and checking and storing a booking.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::schedule::APPOINTMENT_MINUTES;
use crate::access::{Actor, Authorization};
use crate::chart::{ScheduleView, ScheduledAppointment, TeamMemberOption, VisitKind};
use crate::error::AppError;
use crate::identity::support::timestamp;
use crate::ids::UserId;
use crate::portal::server::StaffNames;
use crate::records::{self, AppointmentKind, AppointmentStatus, NewAppointment};
use crate::services::Services;

/// Latest start of a booking, counted from now.
const MAX_DAYS_AHEAD: i64 = 366;

/// A checked request for an appointment.
pub struct Booking {
    pub clinician: UserId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub kind: VisitKind,
}

pub fn visit_kind(kind: AppointmentKind) -> VisitKind {
    VisitKind::parse(kind.as_str()).unwrap_or(VisitKind::PostnatalVisit)
}

fn appointment_kind(kind: VisitKind) -> Result<AppointmentKind, AppError> {
    AppointmentKind::parse(kind.as_str())
        .ok_or_else(|| AppError::invalid_input("Choose what the appointment is for."))
}

/// Parses the start (UTC, with or without seconds or an offset) and checks that it lies in the
/// coming year and that the length is bookable. Returns the start and the end.
pub fn period(
    starts_at: &str,
    duration_minutes: u32,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let text = starts_at.trim();
    let start = DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
                .map(|naive| naive.and_utc())
        })
        .map_err(|_| {
            AppError::invalid_input(format!(
                "The start \"{text}\" is not a date and time. Enter it as 2026-12-24T09:30 (UTC)."
            ))
        })?;
    let now = Utc::now();
    if start <= now {
        return Err(AppError::invalid_input(
            "The start is in the past. Choose a time from now on.",
        ));
    }
    if start > now + Duration::days(MAX_DAYS_AHEAD) {
        return Err(AppError::invalid_input(
            "The start is more than a year ahead. Choose an earlier date.",
        ));
    }
    let (shortest, longest) = APPOINTMENT_MINUTES;
    if !(shortest..=longest).contains(&duration_minutes) {
        return Err(AppError::invalid_input(format!(
            "An appointment lasts {shortest} to {longest} minutes, but {duration_minutes} was entered."
        )));
    }
    Ok((
        start,
        start + Duration::minutes(i64::from(duration_minutes)),
    ))
}

/// Books the appointment after checking that the clinician is on the patient's care team now.
pub async fn book(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    authorization: &Authorization,
    booking: Booking,
) -> Result<String, AppError> {
    let now = Utc::now();
    let memberships =
        records::care_team_memberships(conn, actor.clinic, authorization.patient()).await?;
    let on_team = memberships.iter().any(|membership| {
        membership.user == booking.clinician
            && membership.starts_at <= now
            && membership.ends_at.is_none_or(|ends_at| now < ends_at)
    });
    if !on_team {
        return Err(AppError::invalid_input(
            "The clinician is not on the patient's care team. Choose a current member.",
        ));
    }

    let new = NewAppointment {
        clinician: booking.clinician,
        starts_at: booking.starts_at,
        ends_at: booking.ends_at,
        kind: appointment_kind(booking.kind)?,
        status: AppointmentStatus::Scheduled,
    };
    let id = records::schedule_appointment(conn, authorization, &new).await?;
    Ok(id.to_string())
}

/// Reads the appointments and the care team, each audited as a read of care logistics.
pub async fn schedule(
    conn: &mut AsyncPgConnection,
    services: &Services,
    authorization: &Authorization,
) -> Result<ScheduleView, AppError> {
    let stored = records::list_appointments(conn, authorization).await?;
    let now = Utc::now();
    let members: Vec<_> = records::list_care_team(conn, authorization)
        .await?
        .into_iter()
        .filter(|member| member.starts_at <= now && member.ends_at.is_none_or(|end| now < end))
        .collect();
    let mut names = StaffNames::new(services);
    let people = stored
        .iter()
        .map(|appointment| appointment.clinician)
        .chain(members.iter().map(|member| member.provider));
    names.load(conn, people).await?;

    let mut appointments = Vec::with_capacity(stored.len());
    for appointment in stored {
        appointments.push(ScheduledAppointment {
            id: appointment.id.to_string(),
            starts_at: timestamp(appointment.starts_at),
            ends_at: timestamp(appointment.ends_at),
            kind: visit_kind(appointment.kind),
            clinician_name: names.of(conn, appointment.clinician).await?,
            status: appointment.status.as_str().replace('_', " "),
        });
    }
    let mut team = Vec::with_capacity(members.len());
    for member in members {
        team.push(TeamMemberOption {
            user: member.provider,
            name: names.of(conn, member.provider).await?,
            role: member.role,
        });
    }
    Ok(ScheduleView { appointments, team })
}
