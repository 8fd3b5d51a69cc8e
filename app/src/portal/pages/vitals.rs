//! Blood pressure and temperature self-report.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{PatientOnly, short_time};
use crate::clinical::units::{PressureUnit, TemperatureUnit};
use crate::error::AppError;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::portal::{
    LogEntry, VitalsOutcome, my_vitals, record_blood_pressure, record_temperature,
};

type Readings = Resource<Result<Vec<LogEntry>, AppError>>;

/// Parses a number typed in a form, accepting a decimal comma.
fn number(text: &str, name: &str) -> Result<f64, String> {
    text.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| format!("Enter the {name} as a number."))
}

/// Describes what happens after a reading, in calm words.
fn outcome_message(outcome: &VitalsOutcome) -> String {
    if outcome.urgent {
        format!(
            "Saved: {}. This reading is high, and your midwife and GP have been alerted. If you \
             have a severe headache, problems with your vision, pain just below your ribs or \
             sudden swelling of your face, hands or feet, call your local emergency number now.",
            outcome.summary
        )
    } else if outcome.follow_up {
        format!(
            "Saved: {}. This reading is outside the usual range, so your care team has been \
             asked to follow it up with you.",
            outcome.summary
        )
    } else {
        format!("Saved: {}.", outcome.summary)
    }
}

/// Renders the vitals page: two short forms and the recent readings.
#[component]
pub fn VitalsPage() -> impl IntoView {
    let readings: Readings = Resource::new(|| (), |_| my_vitals());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let report = move |result: Result<VitalsOutcome, String>| {
        match result {
            Ok(outcome) => {
                error.set(None);
                notice.set(Some(outcome_message(&outcome)));
            }
            Err(message) => {
                notice.set(None);
                error.set(Some(message));
            }
        }
        readings.refetch();
    };
    view! {
        <Title text="Blood pressure and temperature" />
        <h1>"Blood pressure and temperature"</h1>
        <PatientOnly>
            <p>"Enter a reading from your own monitor or thermometer. Your care team sees it."</p>
            <StatusMessage error notice />
            <BloodPressureForm report />
            <TemperatureForm report />
            <RecentReadings readings />
        </PatientOnly>
    }
}

#[component]
fn BloodPressureForm(
    report: impl Fn(Result<VitalsOutcome, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let systolic = RwSignal::new(String::new());
    let diastolic = RwSignal::new(String::new());
    let unit = RwSignal::new("mmhg".to_owned());
    let save = browser_action(|(systolic, diastolic, unit): &(f64, f64, PressureUnit)| {
        let (systolic, diastolic, unit) = (*systolic, *diastolic, *unit);
        async move {
            record_blood_pressure(systolic, diastolic, unit)
                .await
                .map_err(|failure| failure.message)
        }
    });
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            report(result);
        }
    });
    view! {
        <form
            class="panel stack"
            aria-labelledby="pressure-heading"
            on:submit=move |event| {
                event.prevent_default();
                let parsed = number(&systolic.get_untracked(), "top number (systolic)").and_then(
                    |high| number(&diastolic.get_untracked(), "bottom number (diastolic)").map(|low| (high, low)),
                );
                let unit = if unit.get_untracked() == "kpa" {
                    PressureUnit::Kilopascals
                } else {
                    PressureUnit::MillimetresOfMercury
                };
                match parsed {
                    Ok((high, low)) => {
                        save.dispatch((high, low, unit));
                    }
                    Err(message) => report(Err(message)),
                }
            }
        >
            <h2 id="pressure-heading">"Blood pressure"</h2>
            <label for="systolic">"Top number (systolic)"</label>
            <input id="systolic" inputmode="decimal" autocomplete="off" required bind:value=systolic />
            <label for="diastolic">"Bottom number (diastolic)"</label>
            <input id="diastolic" inputmode="decimal" autocomplete="off" required bind:value=diastolic />
            <label for="pressure-unit">"Unit"</label>
            <select id="pressure-unit" bind:value=unit>
                <option value="mmhg">"mmHg"</option>
                <option value="kpa">"kPa"</option>
            </select>
            <div class="action-bar">
                <button type="submit" class="button button--wide">"Save blood pressure"</button>
            </div>
        </form>
    }
}

#[component]
fn TemperatureForm(
    report: impl Fn(Result<VitalsOutcome, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let value = RwSignal::new(String::new());
    let unit = RwSignal::new("celsius".to_owned());
    let save = browser_action(|(value, unit): &(f64, TemperatureUnit)| {
        let (value, unit) = (*value, *unit);
        async move {
            record_temperature(value, unit)
                .await
                .map_err(|failure| failure.message)
        }
    });
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            report(result);
        }
    });
    view! {
        <form
            class="panel stack"
            aria-labelledby="temperature-heading"
            on:submit=move |event| {
                event.prevent_default();
                let unit = if unit.get_untracked() == "fahrenheit" {
                    TemperatureUnit::Fahrenheit
                } else {
                    TemperatureUnit::Celsius
                };
                match number(&value.get_untracked(), "temperature") {
                    Ok(reading) => {
                        save.dispatch((reading, unit));
                    }
                    Err(message) => report(Err(message)),
                }
            }
        >
            <h2 id="temperature-heading">"Temperature"</h2>
            <label for="temperature">"Temperature"</label>
            <input id="temperature" inputmode="decimal" autocomplete="off" required bind:value=value />
            <label for="temperature-unit">"Unit"</label>
            <select id="temperature-unit" bind:value=unit>
                <option value="celsius">"°C"</option>
                <option value="fahrenheit">"°F"</option>
            </select>
            <div class="action-bar">
                <button type="submit" class="button button--wide">"Save temperature"</button>
            </div>
        </form>
    }
}

#[component]
fn RecentReadings(readings: Readings) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="readings-heading">
            <h2 id="readings-heading">"Your recent readings"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || readings.get().map(|result| view! { <EntryList result label="Recent readings" /> })}
            </Transition>
        </section>
    }
}

/// Renders log entries, newest first, or the error that kept them from loading.
#[component]
pub(super) fn EntryList(
    result: Result<Vec<LogEntry>, AppError>,
    label: &'static str,
) -> impl IntoView {
    match result {
        Ok(entries) if entries.is_empty() => view! { <p>"Nothing recorded yet."</p> }.into_any(),
        Ok(entries) => view! {
            <ul class="item-list" aria-label=label>
                {entries
                    .into_iter()
                    .map(|entry| {
                        view! {
                            <li class="item">
                                <p>
                                    <strong>{entry.summary}</strong>
                                    <span class="hint">" · " {short_time(&entry.observed_at)}</span>
                                </p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
        Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
    }
}
