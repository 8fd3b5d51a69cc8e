//! The chart's alerts, with their acknowledgement, and its care tasks, with their status
//! changes and history.

use leptos::prelude::*;

use super::ChartContext;
use super::forms::{FormMessage, section_body, when, writable};
use super::load::Section;
use crate::access::DataCategory;
use crate::chart::{
    AlertView, CategoryPermission, TaskState, TaskView, acknowledge_chart_alert, update_chart_task,
};
use crate::identity::pages::browser_action;

/// Lists each category's part of a section, or why it is not shown.
fn by_category<T: Clone + Send + Sync + 'static>(
    parts: Vec<(DataCategory, Section<Vec<T>>)>,
    empty: &'static str,
    item: impl Fn(DataCategory, T) -> AnyView + Clone + Send + 'static,
) -> impl IntoView {
    parts
        .into_iter()
        .map(|(category, section)| {
            let item = item.clone();
            let body = section_body(section, move |items: Vec<T>| {
                if items.is_empty() {
                    return view! { <p class="hint">{empty}</p> }.into_any();
                }
                view! {
                    <ul class="item-list" aria-label=category.label()>
                        {items.into_iter().map(|value| item(category, value)).collect_view()}
                    </ul>
                }
                .into_any()
            });
            view! {
                <h3>{category.label()}</h3>
                {body}
            }
        })
        .collect_view()
}

#[component]
pub fn AlertsSection(
    alerts: Vec<(DataCategory, Section<Vec<AlertView>>)>,
    permissions: Vec<CategoryPermission>,
) -> AnyView {
    let writable = writable(&alerts, &permissions);
    let item = move |category: DataCategory, alert: AlertView| {
        let may_acknowledge = writable.contains(&category);
        view! { <AlertItem category alert may_acknowledge /> }.into_any()
    };
    view! {
        <section class="panel" aria-labelledby="alerts-heading" data-testid="chart-alerts">
            <h2 id="alerts-heading">"Alerts"</h2>
            {by_category(alerts, "No alerts.", item)}
            <FormMessage key="alerts" />
        </section>
    }
    .into_any()
}

#[component]
fn AlertItem(category: DataCategory, alert: AlertView, may_acknowledge: bool) -> AnyView {
    let context = expect_context::<ChartContext>();
    let id = alert.id.clone();
    let acknowledge = browser_action(move |_: &()| {
        let context = context.clone();
        let id = id.clone();
        async move {
            let result =
                acknowledge_chart_alert(context.patient_id, category, id, context.purpose.clone())
                    .await;
            context.finish("alerts", result);
        }
    });
    let urgency = if alert.urgent { "Urgent: " } else { "" };
    let open = alert.acknowledged_at.is_none();
    view! {
        <li class="item" data-testid="alert">
            <p class:flag-abnormal=alert.urgent>{urgency} {alert.summary}</p>
            <p class="hint">
                "Observed " {alert.observed} " (threshold " {alert.threshold} "), raised "
                {when(&alert.raised_at)}
            </p>
            {alert
                .acknowledged_at
                .map(|at| view! { <p class="hint">"Acknowledged " {when(&at)}</p> })}
            {(open && may_acknowledge)
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="button"
                            on:click=move |_| {
                                acknowledge.dispatch(());
                            }
                        >
                            "Acknowledge"
                        </button>
                    }
                })}
        </li>
    }
    .into_any()
}

#[component]
pub fn TasksSection(
    tasks: Vec<(DataCategory, Section<Vec<TaskView>>)>,
    permissions: Vec<CategoryPermission>,
) -> AnyView {
    let writable = writable(&tasks, &permissions);
    let item = move |category: DataCategory, task: TaskView| {
        let may_change = writable.contains(&category);
        view! { <TaskItem category task may_change /> }.into_any()
    };
    view! {
        <section class="panel" aria-labelledby="tasks-heading" data-testid="chart-tasks">
            <h2 id="tasks-heading">"Tasks"</h2>
            {by_category(tasks, "No tasks.", item)}
            <FormMessage key="tasks" />
        </section>
    }
    .into_any()
}

#[component]
fn TaskItem(category: DataCategory, task: TaskView, may_change: bool) -> AnyView {
    let owner = match &task.owner_name {
        Some(name) => format!("{name} ({})", task.owner_role.label()),
        None => format!("Waiting for a {}", task.owner_role.label().to_lowercase()),
    };
    let urgency = if task.urgent { "Urgent: " } else { "" };
    let next = task.status.next();
    let form = (may_change && !next.is_empty())
        .then(|| view! { <TaskForm category id=task.id.clone() next /> });
    view! {
        <li class="item" data-testid="task">
            <p class:flag-abnormal=task.urgent>{urgency} {task.summary}</p>
            <p class="hint">
                {task.status.label()} " · " {owner} " · due " {when(&task.due_at)}
            </p>
            <details class="task-history">
                <summary>"History (" {task.history.len()} ")"</summary>
                <ol>
                    {task
                        .history
                        .into_iter()
                        .map(|change| {
                            view! {
                                <li>
                                    {when(&change.changed_at)} " · " {change.status.label()} " · "
                                    {change.changed_by}
                                    {change.note.map(|note| format!(": {note}"))}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </details>
            {form}
        </li>
    }
    .into_any()
}

#[component]
fn TaskForm(category: DataCategory, id: String, next: &'static [TaskState]) -> AnyView {
    let context = expect_context::<ChartContext>();
    let status = RwSignal::new(next[0]);
    let note = RwSignal::new(String::new());
    let task_id = id.clone();
    let update = browser_action(move |(status, note): &(TaskState, String)| {
        let context = context.clone();
        let task_id = task_id.clone();
        let status = *status;
        let note = Some(note.clone()).filter(|note| !note.trim().is_empty());
        async move {
            let result = update_chart_task(
                context.patient_id,
                category,
                task_id,
                status,
                note,
                context.purpose.clone(),
            )
            .await;
            context.finish("tasks", result);
        }
    });
    let status_id = format!("task-status-{id}");
    let note_id = format!("task-note-{id}");
    view! {
        <form
            class="stack task-form"
            on:submit=move |event| {
                event.prevent_default();
                update.dispatch((status.get_untracked(), note.get_untracked()));
            }
        >
            <label for=status_id.clone()>"New status"</label>
            <select
                id=status_id
                on:change=move |event| {
                    let chosen = event_target_value(&event);
                    if let Some(state) = next.iter().find(|state| state.label() == chosen) {
                        status.set(*state);
                    }
                }
            >
                {next
                    .iter()
                    .map(|state| view! { <option value=state.label()>{state.label()}</option> })
                    .collect_view()}
            </select>
            <label for=note_id.clone()>"Note on the change"</label>
            <input id=note_id maxlength="1000" bind:value=note />
            <button type="submit" class="button">"Update task"</button>
        </form>
    }
    .into_any()
}
