//! The timeline of the mother's vital signs, marked against the clinic's thresholds, and the
//! forms that record a blood pressure or a temperature.

use leptos::prelude::*;

use super::ChartContext;
use super::forms::{FormMessage, section_body, when};
use super::load::Section;
use crate::chart::{VitalReading, record_chart_blood_pressure, record_chart_temperature};
use crate::clinical::units::{PressureUnit, TemperatureUnit};
use crate::identity::pages::browser_action;

#[component]
pub fn VitalsSection(vitals: Section<Vec<VitalReading>>, may_record: bool) -> AnyView {
    let body = section_body(vitals, |readings| {
        view! { <VitalsTimeline readings /> }.into_any()
    });
    view! {
        <section class="panel" aria-labelledby="vitals-heading" data-testid="chart-vitals">
            <h2 id="vitals-heading">"Vital signs"</h2>
            {body}
            {may_record.then(|| view! { <BloodPressureForm /> <TemperatureForm /> })}
        </section>
    }
    .into_any()
}

#[component]
fn VitalsTimeline(readings: Vec<VitalReading>) -> AnyView {
    if readings.is_empty() {
        return view! { <p class="hint">"No blood pressure or temperature recorded."</p> }
            .into_any();
    }
    view! {
        <ol class="item-list" aria-label="Vital signs, newest first">
            {readings
                .into_iter()
                .map(|reading| {
                    let abnormal = reading.flag.is_abnormal();
                    view! {
                        <li class="item" data-testid="vital">
                            <p>
                                <strong>{reading.reading}</strong>
                                " "
                                <span class="flag" class:flag-abnormal=abnormal>
                                    {reading.flag.label()}
                                </span>
                            </p>
                            <p class="hint">
                                {when(&reading.observed_at)}
                                {reading.entered.map(|entered| format!(", {entered}"))}
                            </p>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

/// Parses a number typed in a form, accepting a decimal comma.
fn number(text: &str) -> Option<f64> {
    text.trim().replace(',', ".").parse().ok()
}

#[component]
fn BloodPressureForm() -> AnyView {
    let context = expect_context::<ChartContext>();
    let systolic = RwSignal::new(String::new());
    let diastolic = RwSignal::new(String::new());
    let unit = RwSignal::new(PressureUnit::MillimetresOfMercury);
    let record = browser_action(
        move |(systolic, diastolic, unit): &(String, String, PressureUnit)| {
            let context = context.clone();
            let values = (number(systolic), number(diastolic));
            let unit = *unit;
            async move {
                let (Some(systolic), Some(diastolic)) = values else {
                    let message = "Enter both pressures as numbers, such as 120 and 80.".to_owned();
                    context.status.0.set(Some(("blood-pressure", Err(message))));
                    return;
                };
                let purpose = context.purpose.clone();
                let result = record_chart_blood_pressure(
                    context.patient_id,
                    systolic,
                    diastolic,
                    unit,
                    purpose,
                )
                .await;
                context.finish("blood-pressure", result);
            }
        },
    );
    view! {
        <h3>"Record a blood pressure"</h3>
        <form
            class="stack"
            on:submit=move |event| {
                event.prevent_default();
                record.dispatch((systolic.get_untracked(), diastolic.get_untracked(), unit.get_untracked()));
            }
        >
            <label for="bp-systolic">"Systolic"</label>
            <input id="bp-systolic" inputmode="decimal" required bind:value=systolic />
            <label for="bp-diastolic">"Diastolic"</label>
            <input id="bp-diastolic" inputmode="decimal" required bind:value=diastolic />
            <label for="bp-unit">"Unit"</label>
            <select
                id="bp-unit"
                on:change=move |event| {
                    unit.set(
                        if event_target_value(&event) == "kpa" {
                            PressureUnit::Kilopascals
                        } else {
                            PressureUnit::MillimetresOfMercury
                        },
                    );
                }
            >
                <option value="mmhg">"mmHg"</option>
                <option value="kpa">"kPa"</option>
            </select>
            <button type="submit" class="button">"Record blood pressure"</button>
        </form>
        <FormMessage key="blood-pressure" />
    }
    .into_any()
}

#[component]
fn TemperatureForm() -> AnyView {
    let context = expect_context::<ChartContext>();
    let value = RwSignal::new(String::new());
    let unit = RwSignal::new(TemperatureUnit::Celsius);
    let record = browser_action(move |(value, unit): &(String, TemperatureUnit)| {
        let context = context.clone();
        let value = number(value);
        let unit = *unit;
        async move {
            let Some(value) = value else {
                let message = "Enter the temperature as a number, such as 37.2.".to_owned();
                context.status.0.set(Some(("temperature", Err(message))));
                return;
            };
            let purpose = context.purpose.clone();
            let result = record_chart_temperature(context.patient_id, value, unit, purpose).await;
            context.finish("temperature", result);
        }
    });
    view! {
        <h3>"Record a temperature"</h3>
        <form
            class="stack"
            on:submit=move |event| {
                event.prevent_default();
                record.dispatch((value.get_untracked(), unit.get_untracked()));
            }
        >
            <label for="temperature-value">"Temperature"</label>
            <input id="temperature-value" inputmode="decimal" required bind:value=value />
            <label for="temperature-unit">"Unit"</label>
            <select
                id="temperature-unit"
                on:change=move |event| {
                    unit.set(
                        if event_target_value(&event) == "fahrenheit" {
                            TemperatureUnit::Fahrenheit
                        } else {
                            TemperatureUnit::Celsius
                        },
                    );
                }
            >
                <option value="celsius">"°C"</option>
                <option value="fahrenheit">"°F"</option>
            </select>
            <button type="submit" class="button">"Record temperature"</button>
        </form>
        <FormMessage key="temperature" />
    }
    .into_any()
}
