//! The compliance officer's page: notifications, break-glass requests to decide and grants to
//! review.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::access::api::{
    ComplianceNotification, EmergencyView, compliance_notifications, decide_emergency_request,
    pending_emergency_requests, review_emergency_grant, unreviewed_emergency_grants,
};
use crate::error::AppError;
use crate::identity::pages::{StatusMessage, browser_action};

type Queue = Resource<Result<Vec<EmergencyView>, AppError>>;

/// Emergency access oversight for compliance officers (admins may decide requests too).
#[component]
pub fn CompliancePage() -> impl IntoView {
    let notifications = Resource::new(|| (), |_| compliance_notifications());
    let pending = Resource::new(|| (), |_| pending_emergency_requests());
    let unreviewed = Resource::new(|| (), |_| unreviewed_emergency_grants());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let report = move |result: Result<String, String>| {
        match result {
            Ok(message) => {
                error.set(None);
                notice.set(Some(message));
            }
            Err(message) => {
                notice.set(None);
                error.set(Some(message));
            }
        }
        notifications.refetch();
        pending.refetch();
        unreviewed.refetch();
    };

    view! {
        <Title text="Emergency access oversight" />
        <h1>"Emergency access oversight"</h1>
        <StatusMessage error notice />
        <section class="panel" aria-labelledby="pending-heading">
            <h2 id="pending-heading">"Requests waiting for a decision"</h2>
            <QueueList queue=pending kind="pending" report />
        </section>
        <section class="panel" aria-labelledby="unreviewed-heading">
            <h2 id="unreviewed-heading">"Grants to review"</h2>
            <QueueList queue=unreviewed kind="unreviewed" report />
        </section>
        <section class="panel" aria-labelledby="notifications-heading">
            <h2 id="notifications-heading">"Notifications"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    notifications
                        .get()
                        .map(|result| match result {
                            Ok(list) => view! { <NotificationList list /> }.into_any(),
                            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn NotificationList(list: Vec<ComplianceNotification>) -> impl IntoView {
    view! {
        <ul class="item-list" aria-label="Notifications">
            {list
                .into_iter()
                .map(|item| {
                    let text = if item.kind == "emergency_granted" {
                        "Emergency access granted"
                    } else {
                        "Emergency access requested"
                    };
                    view! {
                        <li class="item">
                            <p>{text} " to " {item.request.requester_name} " (" {item.request.level.as_str()} ")"</p>
                            <p class="hint">{item.created_at}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn QueueList(
    queue: Queue,
    kind: &'static str,
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                queue
                    .get()
                    .map(|result| match result {
                        Ok(list) if list.is_empty() => view! { <p>"Nothing to do."</p> }.into_any(),
                        Ok(list) => {
                            view! {
                                <ul class="item-list" aria-label=kind>
                                    {list
                                        .into_iter()
                                        .map(|request| view! { <QueueItem request kind report /> })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// Input of a decision or review: request id, approve, text.
type Decision = (String, bool, String);

#[component]
fn QueueItem(
    request: EmergencyView,
    kind: &'static str,
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let act = browser_action(move |(id, approve, text): &Decision| {
        let (id, approve, text) = (id.clone(), *approve, text.clone());
        async move {
            let result = if kind == "pending" {
                decide_emergency_request(id, approve, text).await
            } else {
                review_emergency_grant(id, text).await
            };
            result
                .map(|_| "Saved.".to_owned())
                .map_err(|error| error.message)
        }
    });
    Effect::new(move |_| {
        if let Some(result) = act.value().get() {
            report(result);
        }
    });
    let id = request.id.clone();
    let label_id = format!("{kind}-text-{}", request.id);
    let submit = move |approve: bool| {
        act.dispatch((id.clone(), approve, text.get_untracked()));
    };
    let submit_deny = submit.clone();

    view! {
        <li class="item" data-testid=format!("{kind}-request")>
            <p>
                {request.requester_name} " · " {request.level.as_str()} " · patient "
                {request.patient_id.to_string()}
            </p>
            <p>{request.justification}</p>
            <p class="hint">
                "Requested " {request.requested_at}
                {request.expires_at.map(|expires| format!(" · expires {expires}"))}
            </p>
            <label for=label_id.clone()>
                {if kind == "pending" { "Reason for the decision" } else { "Review note" }}
            </label>
            <input id=label_id required maxlength="2000" bind:value=text />
            <div class="button-row">
                {if kind == "pending" {
                    view! {
                        <button type="button" class="button" on:click=move |_| submit(true)>"Approve"</button>
                        <button type="button" class="button button--danger" on:click=move |_| submit_deny(false)>"Deny"</button>
                    }
                        .into_any()
                } else {
                    view! {
                        <button type="button" class="button" on:click=move |_| submit(true)>"Mark reviewed"</button>
                    }
                        .into_any()
                }}
            </div>
        </li>
    }
}
