//! The clinician's chart page at `/clinician/chart?patient=<record id>&purpose=<text>`. The
//! server renders the whole chart into the response. Each section shows only the data
//! categories that the viewer's roles may read, and every read is authorized by the access
//! policy and audited with the stated purpose.

mod care;
mod forms;
mod header;
mod infants;
mod load;
mod notes;
mod schedule;
mod screenings;
mod vitals;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::access::{Action, DataCategory};
use crate::error::AppError;
use crate::exports::pages::ExportSection;
use crate::ids::PatientId;

use care::{AlertsSection, TasksSection};
use header::{ChartHeader, Refusal, infants_line, weeks_postpartum};
use infants::InfantsSection;
use load::{OpenedChart, load_chart};
use notes::NotesSection;
use schedule::ScheduleSection;
use screenings::ScreeningsSection;
use vitals::VitalsSection;

/// Purpose of access prefilled for a clinician who opens a chart from a link without one; she
/// may change it before the chart opens.
pub const DEFAULT_PURPOSE: &str = "Postnatal care";

type ChartResource = Resource<Option<Result<OpenedChart, String>>>;

/// The result of the last form sent on the chart: the form's key and its message. It lives
/// outside the chart's view, so it stays when the chart reloads after a change.
#[derive(Clone, Copy)]
struct ChartStatus(RwSignal<Option<(&'static str, Result<String, String>)>>);

/// The opened record and the page's controls, for the sections' forms.
#[derive(Clone)]
struct ChartContext {
    patient_id: PatientId,
    purpose: String,
    status: ChartStatus,
}

impl ChartContext {
    /// Shows the outcome of a form's request. After a change it loads the chart's address again
    /// with the form's key in `done`, so that the server renders the changed record and the
    /// form's message.
    fn finish<T>(&self, key: &'static str, result: Result<T, AppError>) {
        match result {
            Ok(_) => {
                self.status
                    .0
                    .set(Some((key, Ok(done_message(key).to_owned()))));
                let address = format!(
                    "/clinician/chart?patient={}&purpose={}&done={key}",
                    self.patient_id,
                    encode_query_value(&self.purpose)
                );
                if location().set_href(&address).is_err() {
                    self.status.0.set(Some((
                        key,
                        Err("Saved, but the chart could not reload. Reload the page.".to_owned()),
                    )));
                }
            }
            Err(error) => self.status.0.set(Some((key, Err(error.message)))),
        }
    }
}

/// Returns the message that a form shows after its change was saved.
fn done_message(key: &str) -> &'static str {
    match key {
        "alerts" => "Alert acknowledged.",
        "tasks" => "Task updated.",
        "note" => "Note saved.",
        "blood-pressure" => "Blood pressure recorded.",
        "temperature" => "Temperature recorded.",
        "appointment" => "Appointment booked.",
        "assign" => "Questionnaire assigned. The patient sees it in her portal.",
        _ => "Saved.",
    }
}

/// Percent-encodes a query value, keeping only unreserved characters as they are.
fn encode_query_value(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Opens a patient's chart from the record id and purpose in the address.
#[component]
pub fn ChartPage() -> AnyView {
    let query = use_query_map();
    let request = move || {
        query.with(|query| {
            (
                query.get("patient").unwrap_or_default(),
                query.get("purpose").unwrap_or_default(),
            )
        })
    };
    let chart: ChartResource = Resource::new(request, |(patient, purpose)| async move {
        if patient.trim().is_empty() {
            None
        } else {
            Some(load_chart(patient, purpose).await)
        }
    });
    let status = ChartStatus(RwSignal::new(None));
    let (patient, purpose) = query.with_untracked(|query| {
        (
            query.get("patient").unwrap_or_default(),
            query.get("purpose").unwrap_or_default(),
        )
    });

    view! {
        <Title text="Patient chart" />
        <h1>"Patient chart"</h1>
        <OpenRecordForm patient purpose />
        <Suspense fallback=|| view! { <p>"Loading the chart…"</p> }>
            {move || {
                chart
                    .get()
                    .flatten()
                    .map(|opened| match opened {
                        Ok(opened) => view! { <ChartView opened status /> }.into_any(),
                        Err(message) => view! { <Refusal message /> }.into_any(),
                    })
            }}
        </Suspense>
    }
    .into_any()
}

/// Sends the record id and purpose as a GET request to the chart's own address, so that the
/// chart opens as a linkable page.
#[component]
fn OpenRecordForm(patient: String, purpose: String) -> AnyView {
    let purpose = if purpose.trim().is_empty() {
        DEFAULT_PURPOSE.to_owned()
    } else {
        purpose
    };
    view! {
        <section class="panel" aria-labelledby="open-chart-heading">
            <h2 id="open-chart-heading">"Open a record"</h2>
            <form class="stack" method="get" action="/clinician/chart">
                <label for="chart-patient">"Patient record id"</label>
                <input id="chart-patient" name="patient" required value=patient />
                <label for="chart-purpose">"Purpose of access"</label>
                <input
                    id="chart-purpose"
                    name="purpose"
                    required
                    maxlength="500"
                    value=purpose
                    aria-describedby="chart-purpose-hint"
                />
                <p id="chart-purpose-hint" class="hint">
                    "Recorded in the audit trail with every part of the record you open."
                </p>
                <button type="submit" class="button">"Open chart"</button>
            </form>
        </section>
    }
    .into_any()
}

#[component]
fn ChartView(opened: OpenedChart, status: ChartStatus) -> AnyView {
    let context = ChartContext {
        patient_id: opened.patient_id,
        purpose: opened.purpose.clone(),
        status,
    };
    provide_context(context);
    let may_write = |category| opened.may(category, Action::Write);
    let may_record = may_write(DataCategory::Maternal);
    let may_assign = may_write(DataCategory::MentalHealth);
    let may_book = may_write(DataCategory::CareLogistics);
    let weeks = weeks_postpartum(&opened.infants);
    let infants_named = infants_line(&opened.infants);
    // Each section takes its own part of the chart, so that none copies the whole of it.
    let OpenedChart {
        patient_id,
        purpose,
        permissions,
        summary,
        entries,
        vitals,
        screenings,
        infants,
        notes,
        tasks,
        alerts,
        schedule,
    } = opened;
    let messages = format!("/clinician/messages?patient={patient_id}");

    view! {
        <div class="chart" data-testid="chart">
        <ChartHeader patient_id summary weeks infants=infants_named />
        <p class="chart-links">
            <a href=messages>"Messages with this patient"</a>
        </p>
        <AlertsSection alerts permissions=permissions.clone() />
        <TasksSection tasks permissions=permissions.clone() />
        <VitalsSection vitals may_record />
        <ScreeningsSection screenings may_assign />
        <InfantsSection infants />
        <NotesSection entries notes permissions />
        <ScheduleSection schedule may_book />
        <BrowserExportSection patient_id purpose />
        </div>
    }
    .into_any()
}

/// Shows the export section once the page runs in the browser. Rendered on the server inside
/// the chart, its list of exports stayed at its loading message after hydration, so it is
/// created only after the page has hydrated, as a client-side view.
#[component]
fn BrowserExportSection(patient_id: PatientId, purpose: String) -> AnyView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        {move || {
            let purpose = purpose.clone();
            hydrated.get().then(|| view! { <ExportSection patient_id purpose /> })
        }}
    }
    .into_any()
}
