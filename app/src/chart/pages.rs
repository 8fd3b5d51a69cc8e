//! The clinician's chart page: open a patient's record for a stated purpose.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::access::DataCategory;
use crate::chart::{
    EntryView, ObservationView, PatientSummary, list_chart_entries, list_chart_observations,
    read_patient_summary,
};
use crate::exports::pages::ExportSection;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::PatientId;

/// The opened chart: the patient and her maternal entries and observations. A part is absent
/// when the policy does not allow it, as contact details under break-glass access.
#[derive(Clone)]
struct OpenedChart {
    patient_id: PatientId,
    purpose: String,
    summary: Option<PatientSummary>,
    entries: Option<Vec<EntryView>>,
    observations: Option<Vec<ObservationView>>,
}

async fn open_chart(patient: String, purpose: String) -> Result<OpenedChart, String> {
    let patient_id: PatientId = patient
        .trim()
        .parse()
        .map_err(|_| "Enter the patient's record id.".to_owned())?;
    let summary = read_patient_summary(patient_id, purpose.clone()).await;
    let entries = list_chart_entries(patient_id, DataCategory::Maternal, purpose.clone()).await;
    let observations =
        list_chart_observations(patient_id, DataCategory::Maternal, purpose.clone()).await;
    if let (Err(error), Err(_), Err(_)) = (&summary, &entries, &observations) {
        return Err(error.message.clone());
    }
    Ok(OpenedChart {
        patient_id,
        purpose,
        summary: summary.ok(),
        entries: entries.ok(),
        observations: observations.ok(),
    })
}

/// Opens a patient's chart. Every read is checked by the access policy and audited with the
/// purpose given here.
#[component]
pub fn ChartPage() -> impl IntoView {
    let patient = RwSignal::new(String::new());
    let purpose = RwSignal::new(String::new());
    let open = browser_action(|(patient, purpose): &(String, String)| {
        open_chart(patient.clone(), purpose.clone())
    });
    let error = Signal::derive(move || open.value().get().and_then(Result::err));
    let chart = move || open.value().get().and_then(Result::ok);

    view! {
        <Title text="Patient chart" />
        <h1>"Patient chart"</h1>
        <section class="panel" aria-labelledby="open-chart-heading">
            <h2 id="open-chart-heading">"Open a record"</h2>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    open.dispatch((patient.get_untracked(), purpose.get_untracked()));
                }
            >
                <label for="chart-patient">"Patient record id"</label>
                <input id="chart-patient" required bind:value=patient />
                <label for="chart-purpose">"Purpose of access"</label>
                <input id="chart-purpose" required maxlength="500" bind:value=purpose />
                <button type="submit" class="button">"Open chart"</button>
            </form>
            <StatusMessage error notice=Signal::derive(|| None::<String>) />
            <p class="hint">
                "No access to this patient? In an emergency, "
                <a href="/clinician/emergency">"request emergency access"</a> "."
            </p>
        </section>
        {move || {
            chart()
                .map(|chart| {
                    let patient_id = chart.patient_id;
                    let purpose = chart.purpose.clone();
                    view! {
                        <ChartView chart />
                        <ExportSection patient_id purpose />
                    }
                })
        }}
    }
}

#[component]
fn ChartView(chart: OpenedChart) -> impl IntoView {
    let heading = chart.summary.as_ref().map_or_else(
        || "Patient record".to_owned(),
        |summary| summary.full_name.clone(),
    );
    let birth = chart.summary.map(|summary| summary.date_of_birth);
    view! {
        <section class="panel" aria-labelledby="chart-heading" data-testid="chart">
            <h2 id="chart-heading">{heading}</h2>
            <p>"Record " {chart.patient_id.to_string()}</p>
            {birth.map(|date| view! { <p>"Date of birth: " {date}</p> })}
            <h3>"Maternal entries"</h3>
            {match chart.entries {
                None => view! { <p>"You may not see maternal entries."</p> }.into_any(),
                Some(entries) => view! { <EntryList entries /> }.into_any(),
            }}
            <h3>"Maternal observations"</h3>
            {match chart.observations {
                None => view! { <p>"You may not see maternal observations."</p> }.into_any(),
                Some(observations) => view! { <ObservationList observations /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn EntryList(entries: Vec<EntryView>) -> impl IntoView {
    view! {
        <ul class="item-list" aria-label="Maternal entries">
            {entries
                .into_iter()
                .map(|entry| {
                    view! {
                        <li class="item">
                            <p>{entry.entry_type} " · " {entry.recorded_at}</p>
                            <p class="hint">{entry.payload}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn ObservationList(observations: Vec<ObservationView>) -> impl IntoView {
    view! {
        <ul class="item-list" aria-label="Maternal observations">
            {observations
                .into_iter()
                .map(|observation| {
                    view! {
                        <li class="item">
                            <p>{observation.kind} " · " {observation.observed_at}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
