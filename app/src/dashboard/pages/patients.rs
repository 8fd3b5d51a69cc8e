//! The patient list of the dashboard: its filters, name search, rows and badges.

use leptos::prelude::*;

use super::{Loaded, loaded_view, patient_label, priority_class, short_time};
use crate::dashboard::{DashboardPatient, PatientListFilter, chart_href, messages_href};
use crate::events::Priority;

#[component]
pub(super) fn PatientsPanel(
    patients: Loaded<DashboardPatient>,
    filter: RwSignal<PatientListFilter>,
) -> impl IntoView {
    let content = move || {
        loaded_view(patients.get(), "No patients match.", |items| {
            view! {
                <ul class="item-list" aria-label="Patients">
                    {items.into_iter().map(|patient| view! { <PatientEntry patient /> }).collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    view! {
        <section class="panel" aria-labelledby="patients-heading" data-testid="dashboard-patients">
            <h2 id="patients-heading">"My patients"</h2>
            <PatientFilters filter />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>{content}</Transition>
        </section>
    }
}

#[component]
fn PatientFilters(filter: RwSignal<PatientListFilter>) -> impl IntoView {
    let search = RwSignal::new(String::new());
    view! {
        <form
            class="dashboard-filters"
            on:submit=move |event| {
                event.prevent_default();
                filter.update(|filter| filter.name = search.get_untracked());
            }
        >
            <fieldset class="filter-flags">
                <legend>"Show only patients with"</legend>
                <label>
                    <input type="checkbox" on:change=move |_| filter.update(|filter| filter.with_alerts = !filter.with_alerts) />
                    " Alerts"
                </label>
                <label>
                    <input type="checkbox" on:change=move |_| filter.update(|filter| filter.with_unread = !filter.with_unread) />
                    " Unread messages"
                </label>
                <label>
                    <input type="checkbox" on:change=move |_| filter.update(|filter| filter.with_tasks = !filter.with_tasks) />
                    " Open tasks"
                </label>
            </fieldset>
            <div class="inline-form">
                <label for="patient-search">"Search by name"</label>
                <input id="patient-search" type="search" maxlength="200" bind:value=search />
                <button type="submit" class="button">"Search"</button>
            </div>
        </form>
    }
}

#[component]
fn PatientEntry(patient: DashboardPatient) -> impl IntoView {
    let who = patient_label(patient.full_name.clone());
    let priority = patient
        .highest_alert
        .map_or("none", |priority| match priority {
            Priority::Urgent => "urgent",
            Priority::Attention => "attention",
            Priority::Routine => "routine",
        });
    let mut facts = Vec::new();
    if let Some(week) = patient.weeks_postpartum {
        facts.push(format!("Week {week} after birth"));
    }
    facts.push(match &patient.last_activity_at {
        Some(at) => format!("Last activity {}", short_time(at)),
        None => "No activity yet".to_owned(),
    });
    view! {
        <li class="item dashboard-item" data-testid="dashboard-patient" data-alert=priority>
            <h3 class="dashboard-item__name">{who.clone()}</h3>
            <PatientBadges patient=patient.clone() />
            <p class="hint">{facts.join(" · ")}</p>
            <p class="row-links">
                <a href=chart_href(patient.patient_id) aria-label=format!("Open chart of {who}")>
                    "Open chart"
                </a>
                <a href=messages_href(patient.patient_id) aria-label=format!("Messages with {who}")>
                    "Messages"
                </a>
            </p>
        </li>
    }
}

#[component]
fn PatientBadges(patient: DashboardPatient) -> impl IntoView {
    let plural = |count: u32, one: &str, many: &str| {
        if count == 1 {
            format!("1 {one}")
        } else {
            format!("{count} {many}")
        }
    };
    let alert = (patient.open_alerts > 0).then(|| {
        let priority = patient.highest_alert.unwrap_or(Priority::Attention);
        let text = if priority == Priority::Urgent {
            format!("Urgent: {}", plural(patient.open_alerts, "alert", "alerts"))
        } else {
            plural(patient.open_alerts, "alert", "alerts")
        };
        view! { <span class=priority_class(priority)>{text}</span> }
    });
    let unread = (patient.unread_messages > 0).then(|| {
        let text = plural(patient.unread_messages, "unread message", "unread messages");
        view! { <span class="badge">{text}</span> }
    });
    let tasks = (patient.open_tasks > 0).then(|| {
        let text = plural(patient.open_tasks, "open task", "open tasks");
        view! { <span class="badge badge--quiet">{text}</span> }
    });
    view! { <p class="badges">{alert} {unread} {tasks}</p> }
}
