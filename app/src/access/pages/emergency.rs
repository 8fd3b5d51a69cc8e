//! The clinician's break-glass request page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::access::EmergencyLevel;
use crate::access::api::{EmergencyView, my_emergency_requests, request_emergency_access};
use crate::chart::find_patients;
use crate::identity::flows;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::PatientId;

/// Input of one request: patient id, level and justification.
type RequestInput = (String, EmergencyLevel, String);

async fn send_request(input: RequestInput) -> Result<EmergencyView, String> {
    let (patient, level, justification) = input;
    let patient_id: PatientId = patient
        .trim()
        .parse()
        .map_err(|_| "Enter the patient's record id.".to_owned())?;
    flows::with_step_up(|| request_emergency_access(patient_id, level, justification.clone())).await
}

/// Requests emergency access to a patient outside the clinician's care, after confirming with
/// her passkey.
#[component]
pub fn EmergencyAccessPage() -> impl IntoView {
    let mine = Resource::new(|| (), |_| my_emergency_requests());
    let patient = RwSignal::new(String::new());
    let level = RwSignal::new("critical".to_owned());
    let justification = RwSignal::new(String::new());
    let request = browser_action(|input: &RequestInput| send_request(input.clone()));
    Effect::new(move |_| {
        if request.value().get().is_some() {
            mine.refetch();
        }
    });
    let error = Signal::derive(move || request.value().get().and_then(Result::err));
    let notice = Signal::derive(move || {
        request
            .value()
            .get()
            .and_then(Result::ok)
            .map(|view| match view.expires_at {
                Some(expires_at) => format!("Emergency access granted until {expires_at}."),
                None => "Your request waits for a compliance officer or admin.".to_owned(),
            })
    });

    view! {
        <Title text="Emergency access" />
        <h1>"Emergency access"</h1>
        <FindPatient patient />
        <section class="panel" aria-labelledby="emergency-heading">
            <h2 id="emergency-heading">"Request emergency access"</h2>
            <p>
                "Use this only when a patient outside your care needs you now. Compliance is told at \
                 once, the patient sees it in her access history, and every record you open is \
                 marked as emergency access."
            </p>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    let level = EmergencyLevel::parse(&level.get_untracked())
                        .unwrap_or(EmergencyLevel::Urgent);
                    request.dispatch((patient.get_untracked(), level, justification.get_untracked()));
                }
            >
                <label for="emergency-patient">"Patient record id"</label>
                <input id="emergency-patient" required bind:value=patient />
                <label for="emergency-level">"Emergency level"</label>
                <select id="emergency-level" bind:value=level>
                    <option value="critical">"Critical: life or limb at risk now"</option>
                    <option value="urgent">"Urgent: needs approval"</option>
                </select>
                <label for="emergency-justification">"Justification"</label>
                <textarea id="emergency-justification" required minlength="10" maxlength="2000" bind:value=justification></textarea>
                <button type="submit" class="button">"Request emergency access"</button>
            </form>
            <StatusMessage error notice />
        </section>
        <section class="panel" aria-labelledby="my-emergency-heading">
            <h2 id="my-emergency-heading">"Your requests"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    mine.get()
                        .map(|result| match result {
                            Ok(list) => view! { <RequestList list /> }.into_any(),
                            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// Looks a patient up by name and puts the chosen record id into the request form.
#[component]
fn FindPatient(patient: RwSignal<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let find = browser_action(|name: &String| {
        let name = name.clone();
        async move {
            find_patients(name, "emergency access lookup".to_owned())
                .await
                .map_err(|error| error.message)
        }
    });
    let error = Signal::derive(move || find.value().get().and_then(Result::err));
    let found = move || find.value().get().and_then(Result::ok);

    view! {
        <section class="panel" aria-labelledby="find-heading">
            <h2 id="find-heading">"Find the patient"</h2>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    find.dispatch(name.get_untracked());
                }
            >
                <label for="find-name">"Patient's full name"</label>
                <input id="find-name" required bind:value=name />
                <button type="submit" class="button">"Find"</button>
            </form>
            <StatusMessage error notice=Signal::derive(|| None::<String>) />
            {move || {
                found()
                    .map(|ids| {
                        view! {
                            <p hidden=!ids.is_empty()>"No patient of your clinic has this name."</p>
                            <ul class="item-list" aria-label="Patients found">
                                {ids
                                    .into_iter()
                                    .map(|id| {
                                        let text = id.to_string();
                                        view! {
                                            <li class="item">
                                                <p>"Record " {text.clone()}</p>
                                                <button
                                                    type="button"
                                                    class="button"
                                                    on:click=move |_| patient.set(text.clone())
                                                >
                                                    "Use this record"
                                                </button>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn RequestList(list: Vec<EmergencyView>) -> impl IntoView {
    view! {
        <ul class="item-list" aria-label="Your emergency access requests">
            {list
                .into_iter()
                .map(|view| {
                    view! {
                        <li class="item">
                            <p>"Patient " {view.patient_id.to_string()} " · " {view.status.as_str()}</p>
                            <p class="hint">
                                {view.requested_at}
                                {view.expires_at.map(|expires| format!(" · until {expires}"))}
                            </p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
