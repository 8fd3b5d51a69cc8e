//! The clinician's home page at `/clinician`: live notices, alerts, the patient list with its
//! filters, her tasks and the form that invites a patient.

mod patients;

use leptos::prelude::*;
use leptos_meta::Title;
use patients::PatientsPanel;

use super::live::subscribe_care_events;
use super::{
    DASHBOARD_PURPOSE, DashboardAlert, DashboardPatient, DashboardTask, PatientListFilter,
    chart_href, list_dashboard_alerts, list_dashboard_patients, list_dashboard_tasks,
};
use crate::chart::{TaskState, acknowledge_chart_alert, update_chart_task};
use crate::error::AppError;
use crate::events::{CareEvent, CareEventKind, Priority, sort_for_display};
use crate::identity::current_account;
use crate::identity::pages::{AccountResource, InvitePatientPanel, SignInRequired, browser_action};
use crate::ids::PatientId;
use crate::messaging::pages::UnreadBadge;
use crate::pages::Area;

/// Notices kept on screen at most; the newest and most urgent stay.
const MAX_NOTICES: usize = 3;

type Loaded<T> = Resource<Result<Option<Vec<T>>, AppError>>;

/// Renders the dashboard for a signed-in care-team member and refetches its lists on each care
/// event for her.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let refresh = RwSignal::new(0_u64);
    let notices = RwSignal::new(Vec::<CareEvent>::new());
    let filter = RwSignal::new(PatientListFilter::default());
    let patients: Loaded<DashboardPatient> = Resource::new(
        move || (filter.get(), refresh.get()),
        |(filter, _)| if_care_team(list_dashboard_patients(filter)),
    );
    let alerts: Loaded<DashboardAlert> = Resource::new(
        move || refresh.get(),
        |_| if_care_team(list_dashboard_alerts()),
    );
    let tasks: Loaded<DashboardTask> = Resource::new(
        move || refresh.get(),
        |_| if_care_team(list_dashboard_tasks()),
    );
    subscribe_care_events(move |event| {
        notices.update(|list| {
            list.push(event);
            sort_for_display(list);
            list.truncate(MAX_NOTICES);
        });
        refresh.update(|count| *count += 1);
    });

    view! {
        <Title text=Area::Clinician.title() />
        <h1 id="area-heading">{Area::Clinician.title()}</h1>
        <p>{Area::Clinician.summary()}</p>
        <CareTeamOnly>
            <LiveNotices notices patients />
            <AlertsPanel alerts refresh />
            <PatientsPanel patients filter />
            <TasksPanel tasks refresh />
            <InvitePatientPanel />
            <ClinicianLinks />
        </CareTeamOnly>
    }
}

/// Runs `load` for a signed-in care-team member, and nothing for anyone else, so that opening
/// the page signed out, or as a patient, causes no failed request.
async fn if_care_team<T>(
    load: impl Future<Output = Result<T, AppError>>,
) -> Result<Option<T>, AppError> {
    match current_account().await? {
        Some(account) if account.roles.iter().any(|role| role.may_invite_patients()) => {
            load.await.map(Some)
        }
        _ => Ok(None),
    }
}

/// Shows `children` to a signed-in care-team member, and a notice to anyone else.
#[component]
fn CareTeamOnly(children: ChildrenFn) -> impl IntoView {
    let account = AccountResource::get();
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                account
                    .0
                    .get()
                    .map(|result| match result {
                        Ok(Some(account))
                            if account.roles.iter().any(|role| role.may_invite_patients()) => {
                            children().into_any()
                        }
                        Ok(Some(_)) => {
                            view! {
                                <p class="notice">
                                    "This page is for members of patients' care teams."
                                </p>
                            }
                                .into_any()
                        }
                        _ => view! { <SignInRequired /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// Renders the live region that announces care events politely, urgent ones first.
#[component]
fn LiveNotices(
    notices: RwSignal<Vec<CareEvent>>,
    patients: Loaded<DashboardPatient>,
) -> impl IntoView {
    let texts = move || {
        let names = patients
            .get()
            .and_then(Result::ok)
            .flatten()
            .unwrap_or_default();
        notices
            .get()
            .into_iter()
            .map(|event| notice_text(&event, &names))
            .collect::<Vec<_>>()
    };
    view! {
        <div class="live-notices" role="status" aria-live="polite" data-testid="live-notices">
            {move || {
                texts()
                    .into_iter()
                    .map(|text| view! { <p class="notice">{text}</p> })
                    .collect_view()
            }}
        </div>
    }
}

/// Describes a care event without clinical content.
fn notice_text(event: &CareEvent, patients: &[DashboardPatient]) -> String {
    let who = patients
        .iter()
        .find(|patient| patient.patient_id == event.patient_id)
        .and_then(|patient| patient.full_name.clone())
        .unwrap_or_else(|| "one of your patients".to_owned());
    let what = match (event.kind, event.priority) {
        (CareEventKind::Alert, Priority::Urgent) => "Urgent alert",
        (CareEventKind::Alert, _) => "New alert",
        (CareEventKind::Task, _) => "New task",
        (CareEventKind::Message, _) => "New message",
        (CareEventKind::Vitals, _) => "New blood pressure or temperature reading",
        (CareEventKind::Screening, _) => "New mood check-in",
        (CareEventKind::Feeding, _) => "New feeding log entry",
        (CareEventKind::Growth, _) => "New growth measurement",
    };
    format!("{what} for {who} at {}.", clock_time(event.created_at_ms))
}

/// Formats milliseconds since the Unix epoch as "21:08 UTC".
fn clock_time(epoch_ms: i64) -> String {
    let minutes = epoch_ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{:02}:{:02} UTC", minutes / 60, minutes % 60)
}

/// Formats an RFC 3339 instant as "2026-12-04 21:08 UTC".
fn short_time(instant: &str) -> String {
    let date = instant.get(..10).unwrap_or(instant);
    let time = instant.get(11..16).unwrap_or("");
    format!("{date} {time} UTC")
}

fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::Urgent => "Urgent",
        Priority::Attention => "Needs attention",
        Priority::Routine => "Routine",
    }
}

fn priority_class(priority: Priority) -> &'static str {
    match priority {
        Priority::Urgent => "badge badge--urgent",
        Priority::Attention => "badge badge--attention",
        Priority::Routine => "badge",
    }
}

/// Shows a loaded list, an empty-list text or the error.
fn loaded_view<T: Clone + Send + Sync + 'static>(
    loaded: Option<Result<Option<Vec<T>>, AppError>>,
    empty: &'static str,
    show: impl Fn(Vec<T>) -> AnyView,
) -> AnyView {
    match loaded {
        None | Some(Ok(None)) => ().into_any(),
        Some(Ok(Some(items))) if items.is_empty() => view! { <p>{empty}</p> }.into_any(),
        Some(Ok(Some(items))) => show(items),
        Some(Err(failure)) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
    }
}

fn patient_label(name: Option<String>) -> String {
    name.unwrap_or_else(|| "Patient (your role does not show names)".to_owned())
}

#[component]
fn AlertsPanel(alerts: Loaded<DashboardAlert>, refresh: RwSignal<u64>) -> impl IntoView {
    let content = move || {
        loaded_view(
            alerts.get(),
            "No open alerts for your patients.",
            move |items| {
                view! {
                    <ul class="item-list" aria-label="Open alerts">
                        {items
                            .into_iter()
                            .map(|alert| view! { <AlertEntry alert refresh /> })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            },
        )
    };
    view! {
        <section class="panel" aria-labelledby="alerts-heading" data-testid="dashboard-alerts">
            <h2 id="alerts-heading">"Alerts"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>{content}</Transition>
        </section>
    }
}

/// Loads the dashboard's lists again after a change succeeded, or shows why it failed.
fn after_change(
    result: Result<(), AppError>,
    refresh: RwSignal<u64>,
    error: RwSignal<Option<String>>,
) {
    match result {
        Ok(()) => {
            error.set(None);
            refresh.update(|count| *count += 1);
        }
        Err(failure) => error.set(Some(failure.message)),
    }
}

/// Renders the link to an alert's or task's chart, the button that changes it, and the error of
/// the last attempt. `label` names the change and the patient for assistive technology.
#[component]
fn EntryActions(
    patient: PatientId,
    who: String,
    label: String,
    text: &'static str,
    action: Action<(), ()>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="action-bar">
            <a href=chart_href(patient) aria-label=format!("Open chart of {who}")>
                "Open chart"
            </a>
            <button
                type="button"
                class="button"
                aria-label=label
                disabled=move || action.pending().get()
                on:click=move |_| {
                    action.dispatch(());
                }
            >
                {text}
            </button>
        </div>
        {move || error.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
    }
}

#[component]
fn AlertEntry(alert: DashboardAlert, refresh: RwSignal<u64>) -> impl IntoView {
    let who = patient_label(alert.patient_name);
    let error = RwSignal::new(None::<String>);
    let (patient, category, id) = (alert.patient_id, alert.category, alert.id);
    let acknowledge = browser_action(move |_: &()| {
        let id = id.clone();
        async move {
            let purpose = DASHBOARD_PURPOSE.to_owned();
            let result = acknowledge_chart_alert(patient, category, id, purpose).await;
            after_change(result.map(drop), refresh, error);
        }
    });
    let label = format!("Acknowledge alert for {who}");
    view! {
        <li class="item dashboard-item" data-testid="dashboard-alert">
            <p>
                <span class=priority_class(alert.priority)>{priority_label(alert.priority)}</span>
                " " {alert.summary}
            </p>
            <p class="hint">{format!("{who} · raised {}", short_time(&alert.raised_at))}</p>
            <EntryActions patient who label text="Acknowledge" action=acknowledge error />
        </li>
    }
}

#[component]
fn TasksPanel(tasks: Loaded<DashboardTask>, refresh: RwSignal<u64>) -> impl IntoView {
    let content = move || {
        loaded_view(tasks.get(), "You have no open tasks.", move |items| {
            view! {
                <ul class="item-list" aria-label="My open tasks">
                    {items
                        .into_iter()
                        .map(|task| view! { <TaskEntry task refresh /> })
                        .collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    view! {
        <section class="panel" aria-labelledby="tasks-heading" data-testid="dashboard-tasks">
            <h2 id="tasks-heading">"My tasks"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>{content}</Transition>
        </section>
    }
}

/// Returns the next step of an open task and its button text: an open task is started, and a
/// started one is done. Cancelling, and a note on the change, are on the chart.
fn next_step(state: TaskState) -> (TaskState, &'static str) {
    match state {
        TaskState::Open => (TaskState::InProgress, "Start"),
        _ => (TaskState::Done, "Mark done"),
    }
}

#[component]
fn TaskEntry(task: DashboardTask, refresh: RwSignal<u64>) -> impl IntoView {
    let who = patient_label(task.patient_name);
    let due = if task.overdue { "Overdue since" } else { "Due" };
    let error = RwSignal::new(None::<String>);
    let (patient, category, id) = (task.patient_id, task.category, task.id);
    let (next, step) = next_step(task.state);
    let update = browser_action(move |_: &()| {
        let id = id.clone();
        async move {
            let purpose = DASHBOARD_PURPOSE.to_owned();
            let result = update_chart_task(patient, category, id, next, None, purpose).await;
            after_change(result.map(drop), refresh, error);
        }
    });
    let label = format!("{step}: {} for {who}", task.summary);
    view! {
        <li class="item dashboard-item" data-testid="dashboard-task">
            <p>
                {task.overdue.then(|| view! { <span class="badge badge--urgent">"Overdue"</span> })}
                " " {task.summary}
            </p>
            <p class="hint">
                {format!("{who} · {} · {due} {}", task.state.label(), short_time(&task.due_at))}
            </p>
            <EntryActions patient who label text=step action=update error />
        </li>
    }
}

/// Links to the other clinician pages.
#[component]
fn ClinicianLinks() -> impl IntoView {
    view! {
        <nav class="panel" aria-labelledby="clinician-links-heading">
            <h2 id="clinician-links-heading">"More"</h2>
            <ul class="link-list">
                <li><a href="/clinician/chart">"Patient chart"</a></li>
                <li><a href="/clinician/emergency">"Emergency access"</a></li>
                <li><a href="/clinician/messages">"Messages"<UnreadBadge /></a></li>
                <li><a href="/account/security">"Your passkeys and sessions"</a></li>
            </ul>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PatientId;

    #[test]
    fn clock_time_reads_hours_and_minutes() {
        assert_eq!(clock_time(0), "00:00 UTC");
        assert_eq!(clock_time((21 * 60 + 8) * 60_000 + 59_999), "21:08 UTC");
    }

    #[test]
    fn notice_names_known_patient_only() {
        let patient = PatientId(uuid::Uuid::from_u128(3));
        let event = CareEvent {
            id: 1,
            patient_id: patient,
            kind: CareEventKind::Alert,
            priority: Priority::Urgent,
            subject_id: None,
            created_at_ms: 0,
        };
        assert_eq!(
            notice_text(&event, &[]),
            "Urgent alert for one of your patients at 00:00 UTC."
        );
        let mut row = DashboardPatient::new(patient);
        row.full_name = Some("Fay Feeder".to_owned());
        assert_eq!(
            notice_text(&event, &[row]),
            "Urgent alert for Fay Feeder at 00:00 UTC."
        );
    }
}
