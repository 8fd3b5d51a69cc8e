//! Infant growth: enter a measurement, see its WHO z-score and percentile, and the growth
//! charts against the WHO percentile curves.

use leptos::prelude::*;
use leptos_meta::Title;

use super::PatientOnly;
use super::infants::{Infants, WithInfant, infant_to_show, submitted_infant};
use crate::error::AppError;
use crate::growth_chart::GrowthChart;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::InfantId;
use crate::portal::{
    GrowthMeasure, GrowthResult, GrowthUnit, GrowthView, infant_growth, my_infants, record_growth,
};

type Growth = Resource<Result<Option<GrowthView>, AppError>>;

/// A measurement ready to send.
#[derive(Clone)]
struct Measurement {
    infant: InfantId,
    measure: GrowthMeasure,
    value: f64,
    unit: GrowthUnit,
}

fn measure_key(measure: GrowthMeasure) -> &'static str {
    match measure {
        GrowthMeasure::Weight => "weight",
        GrowthMeasure::Length => "length",
        GrowthMeasure::HeadCircumference => "head",
    }
}

fn unit_key(unit: GrowthUnit) -> &'static str {
    unit.symbol()
}

/// Renders the growth page.
#[component]
pub fn GrowthPage() -> impl IntoView {
    let infants = Resource::new(|| (), |_| my_infants());
    let chosen = RwSignal::new(None::<InfantId>);
    let growth: Growth = Resource::new(
        move || chosen.get(),
        |chosen| async move {
            match infant_to_show(chosen).await? {
                Some(infant) => infant_growth(infant).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let added = Callback::new(move |()| growth.refetch());
    view! {
        <Title text="Baby's growth" />
        <h1>"Baby's growth"</h1>
        <PatientOnly>
            <WithInfant infants chosen added>
                <MeasurementForm chosen infants growth />
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || {
                        growth
                            .get()
                            .map(|result| match result {
                                Ok(Some(view)) => view! { <GrowthSections view /> }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                            })
                    }}
                </Transition>
            </WithInfant>
        </PatientOnly>
    }
}

#[component]
fn MeasurementForm(
    chosen: RwSignal<Option<InfantId>>,
    infants: Infants,
    growth: Growth,
) -> impl IntoView {
    let measure = RwSignal::new("weight".to_owned());
    let value = RwSignal::new(String::new());
    let unit = RwSignal::new("kg".to_owned());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let save = browser_action(|entry: &Measurement| {
        let entry = entry.clone();
        async move { record_growth(entry.infant, entry.measure, entry.value, entry.unit).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(result)) => {
            error.set(None);
            notice.set(Some(result_message(&result)));
            value.set(String::new());
            growth.refetch();
        }
        Some(Err(failure)) => {
            notice.set(None);
            error.set(Some(failure.message));
        }
        None => {}
    });
    let chosen_measure = move || {
        GrowthMeasure::ALL
            .into_iter()
            .find(|candidate| measure_key(*candidate) == measure.get())
            .unwrap_or(GrowthMeasure::Weight)
    };
    // A unit of another measure falls back to the first unit of the chosen one.
    Effect::new(move |_| {
        let units = GrowthUnit::for_measure(chosen_measure());
        if !units
            .iter()
            .any(|candidate| unit_key(*candidate) == unit.get())
        {
            unit.set(unit_key(units[0]).to_owned());
        }
    });
    view! {
        <form
            class="panel stack"
            aria-labelledby="measure-heading"
            on:submit=move |event| {
                event.prevent_default();
                let Some(infant) = submitted_infant(chosen, infants) else { return };
                let measure = chosen_measure();
                let parsed = value.get_untracked().trim().replace(',', ".").parse::<f64>();
                let unit = GrowthUnit::for_measure(measure)
                    .iter()
                    .copied()
                    .find(|candidate| unit_key(*candidate) == unit.get_untracked());
                match (parsed, unit) {
                    (Ok(value), Some(unit)) if value.is_finite() => {
                        save.dispatch(Measurement { infant, measure, value, unit });
                    }
                    _ => error.set(Some("Enter the measurement as a number and choose its unit.".to_owned())),
                }
            }
        >
            <h2 id="measure-heading">"Add a measurement"</h2>
            <p class="hint">"Measured today, for example at a baby clinic or by your midwife."</p>
            <label for="growth-measure">"Measurement"</label>
            <select id="growth-measure" bind:value=measure>
                {GrowthMeasure::ALL
                    .into_iter()
                    .map(|item| view! { <option value=measure_key(item)>{item.label()}</option> })
                    .collect_view()}
            </select>
            <label for="growth-value">"Value"</label>
            <input id="growth-value" inputmode="decimal" autocomplete="off" required bind:value=value />
            <label for="growth-unit">"Unit"</label>
            <select id="growth-unit" bind:value=unit>
                {move || {
                    GrowthUnit::for_measure(chosen_measure())
                        .iter()
                        .map(|item| view! { <option value=unit_key(*item)>{item.symbol()}</option> })
                        .collect_view()
                }}
            </select>
            <StatusMessage error notice />
            <div class="action-bar">
                <button type="submit" class="button button--wide" disabled=move || save.pending().get()>
                    "Save measurement"
                </button>
            </div>
        </form>
    }
}

fn result_message(result: &GrowthResult) -> String {
    format!(
        "Saved: {} {}. WHO z-score {}, percentile {}.",
        result.measure.label().to_lowercase(),
        result.value,
        result.z_score,
        result.percentile
    )
}

#[component]
fn GrowthSections(view: GrowthView) -> impl IntoView {
    let latest = if view.latest.is_empty() {
        view! { <p>"No measurements yet."</p> }.into_any()
    } else {
        view! {
            <table class="growth-table" data-testid="latest-growth">
                <caption class="hint">"Latest of each measurement, compared with the WHO Child Growth Standards"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Measurement"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col">"z-score"</th>
                        <th scope="col">"Percentile"</th>
                    </tr>
                </thead>
                <tbody>
                    {view
                        .latest
                        .into_iter()
                        .map(|result| {
                            view! {
                                <tr>
                                    <th scope="row">{result.measure.label()}</th>
                                    <td>{result.value} <span class="hint">" (" {result.date} ")"</span></td>
                                    <td>{result.z_score}</td>
                                    <td>{result.percentile}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
            .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="growth-heading">
            <h2 id="growth-heading">{format!("{}'s growth", view.infant.name)}</h2>
            {latest}
            <p class="hint">
                "A percentile of 50 is the middle of the WHO standard for your baby's age and sex. "
                "Babies grow well along many percentiles; your care team looks at the pattern over time."
            </p>
        </section>
        {view
            .charts
            .into_iter()
            .map(|data| view! { <section class="panel"><GrowthChart data /></section> })
            .collect_view()}
    }
}
