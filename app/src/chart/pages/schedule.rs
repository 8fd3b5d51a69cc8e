//! The patient's appointments and the form that books one with a member of her care team.

use leptos::prelude::*;

use super::ChartContext;
use super::forms::{FormMessage, section_body, when};
use super::load::Section;
use crate::chart::{
    APPOINTMENT_MINUTES, ScheduleView, ScheduledAppointment, TeamMemberOption, VisitKind,
    schedule_chart_appointment,
};
use crate::identity::pages::browser_action;
use crate::ids::UserId;

#[component]
pub fn ScheduleSection(schedule: Section<ScheduleView>, may_book: bool) -> AnyView {
    let team = match &schedule {
        Section::Shown(schedule) if may_book => Some(schedule.team.clone()),
        _ => None,
    };
    let body = section_body(schedule, |schedule: ScheduleView| {
        view! { <AppointmentList appointments=schedule.appointments /> }.into_any()
    });
    view! {
        <section class="panel" aria-labelledby="schedule-heading" data-testid="chart-schedule">
            <h2 id="schedule-heading">"Appointments"</h2>
            {body}
            {team.map(|team| view! { <AppointmentForm team /> })}
        </section>
    }
    .into_any()
}

#[component]
fn AppointmentList(appointments: Vec<ScheduledAppointment>) -> AnyView {
    if appointments.is_empty() {
        return view! { <p class="hint">"No appointments."</p> }.into_any();
    }
    view! {
        <ul class="item-list" aria-label="Appointments, earliest first">
            {appointments
                .into_iter()
                .map(|appointment| {
                    view! {
                        <li class="item" data-testid="appointment">
                            <p>
                                <strong>{when(&appointment.starts_at)}</strong> " · "
                                {appointment.kind.label()} " with " {appointment.clinician_name}
                            </p>
                            <p class="hint">
                                "Until " {when(&appointment.ends_at)} " · " {appointment.status}
                            </p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The fields of a booking as typed.
#[derive(Clone)]
struct BookingForm {
    clinician: String,
    starts_at: String,
    duration: String,
    kind: VisitKind,
}

#[component]
fn AppointmentForm(team: Vec<TeamMemberOption>) -> AnyView {
    if team.is_empty() {
        return view! {
            <p class="hint">"Nobody is on the care team now, so no appointment can be booked."</p>
        }
        .into_any();
    }
    let context = expect_context::<ChartContext>();
    let clinician = RwSignal::new(team[0].user.to_string());
    let starts_at = RwSignal::new(String::new());
    let duration = RwSignal::new("30".to_owned());
    let kind = RwSignal::new(VisitKind::PostnatalVisit);
    let book = browser_action(move |form: &BookingForm| {
        let context = context.clone();
        let form = form.clone();
        async move {
            let fields = (
                form.clinician.parse::<UserId>(),
                form.duration.trim().parse::<u32>(),
            );
            let (Ok(clinician), Ok(minutes)) = fields else {
                let message = "Choose who the appointment is with and its length in minutes.";
                context
                    .status
                    .0
                    .set(Some(("appointment", Err(message.to_owned()))));
                return;
            };
            let purpose = context.purpose.clone();
            let result = schedule_chart_appointment(
                context.patient_id,
                clinician,
                form.starts_at,
                minutes,
                form.kind,
                purpose,
            )
            .await;
            context.finish("appointment", result);
        }
    });
    let (shortest, longest) = APPOINTMENT_MINUTES;
    view! {
        <h3>"Book an appointment"</h3>
        <form
            class="stack"
            on:submit=move |event| {
                event.prevent_default();
                book.dispatch(BookingForm {
                    clinician: clinician.get_untracked(),
                    starts_at: starts_at.get_untracked(),
                    duration: duration.get_untracked(),
                    kind: kind.get_untracked(),
                });
            }
        >
            <label for="appointment-clinician">"With"</label>
            <select
                id="appointment-clinician"
                on:change=move |event| clinician.set(event_target_value(&event))
            >
                {team
                    .into_iter()
                    .map(|member| {
                        let label = format!("{} ({})", member.name, member.role.label());
                        view! { <option value=member.user.to_string()>{label}</option> }
                    })
                    .collect_view()}
            </select>
            <label for="appointment-kind">"For"</label>
            <select
                id="appointment-kind"
                on:change=move |event| {
                    if let Some(chosen) = VisitKind::parse(&event_target_value(&event)) {
                        kind.set(chosen);
                    }
                }
            >
                {VisitKind::ALL
                    .into_iter()
                    .map(|kind| view! { <option value=kind.as_str()>{kind.label()}</option> })
                    .collect_view()}
            </select>
            <label for="appointment-start">"Start (UTC)"</label>
            <input id="appointment-start" type="datetime-local" required bind:value=starts_at />
            <label for="appointment-duration">"Length in minutes"</label>
            <input
                id="appointment-duration"
                type="number"
                min=shortest.to_string()
                max=longest.to_string()
                required
                bind:value=duration
            />
            <button type="submit" class="button">"Book appointment"</button>
        </form>
        <FormMessage key="appointment" />
    }
    .into_any()
}
