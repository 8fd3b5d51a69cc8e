//! Server functions of the chart's schedule: the patient's appointments with her care team,
//! and booking a new one.

use leptos::prelude::*;

use crate::chart::{ScheduleView, VisitKind};
use crate::error::AppError;
use crate::ids::{PatientId, UserId};

/// Shortest and longest appointment that can be booked, in minutes.
pub const APPOINTMENT_MINUTES: (u32, u32) = (5, 240);

/// Lists a patient's appointments, earliest first, with the clinicians' names, and the
/// current members of her care team, whom a new appointment can be booked with.
#[server(prefix = "/api", endpoint = "chart/schedule")]
pub async fn read_chart_schedule(
    patient_id: PatientId,
    purpose: String,
) -> Result<ScheduleView, AppError> {
    use crate::access::{Action, DataCategory, authorize};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::CareLogistics,
        Action::Read,
        &purpose,
    )
    .await?;

    super::schedule_server::schedule(&mut conn, &services, &authorization).await
}

/// Books an appointment of the patient with a current member of her care team. `starts_at` is
/// a UTC date and time such as `2026-12-24T09:30` in the coming year. Returns the appointment's
/// id. Bad input is rejected with 400 and nothing is stored.
#[server(prefix = "/api", endpoint = "chart/appointments/add")]
pub async fn schedule_chart_appointment(
    patient_id: PatientId,
    clinician: UserId,
    starts_at: String,
    duration_minutes: u32,
    kind: VisitKind,
    purpose: String,
) -> Result<String, AppError> {
    use crate::access::{Action, DataCategory, authorize};

    let (services, actor) = super::server::begin().await?;
    let (starts_at, ends_at) = super::schedule_server::period(&starts_at, duration_minutes)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::CareLogistics,
        Action::Write,
        &purpose,
    )
    .await?;

    let booking = super::schedule_server::Booking {
        clinician,
        starts_at,
        ends_at,
        kind,
    };
    super::schedule_server::book(&mut conn, &actor, &authorization, booking).await
}
