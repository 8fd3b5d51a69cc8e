//! Screening results: a trend line of each questionnaire's totals, a table of every result
//! with its band as the text alternative, and the form that assigns a PHQ-9 or GAD-7.

use leptos::prelude::*;

use super::ChartContext;
use super::forms::{FormMessage, date_of, section_body};
use super::load::Section;
use crate::chart::ScreeningScore;
use crate::clinical::screening::Instrument;
use crate::growth_chart::{svg_number, svg_points};
use crate::identity::pages::browser_action;
use crate::portal::assign_screening;

/// Size of a trend line in SVG units.
const TREND_WIDTH: f64 = 240.0;
const TREND_HEIGHT: f64 = 60.0;
const TREND_PADDING: f64 = 6.0;

#[component]
pub fn ScreeningsSection(screenings: Section<Vec<ScreeningScore>>, may_assign: bool) -> AnyView {
    let body = section_body(screenings, |scores| {
        view! { <ScreeningResults scores /> }.into_any()
    });
    view! {
        <section class="panel" aria-labelledby="screenings-heading" data-testid="chart-screenings">
            <h2 id="screenings-heading">"Screening results"</h2>
            {body}
            {may_assign.then(|| view! { <AssignForm /> })}
        </section>
    }
    .into_any()
}

#[component]
fn ScreeningResults(scores: Vec<ScreeningScore>) -> AnyView {
    if scores.is_empty() {
        return view! { <p class="hint">"No questionnaire completed yet."</p> }.into_any();
    }
    let trends = Instrument::ALL
        .into_iter()
        .filter_map(|instrument| {
            let totals: Vec<u8> = scores
                .iter()
                .filter(|score| score.instrument == instrument)
                .filter_map(|score| score.total)
                .collect();
            let max_total = scores
                .iter()
                .find(|score| score.instrument == instrument)?
                .max_total;
            (!totals.is_empty()).then(|| view! { <Trend instrument totals max_total /> })
        })
        .collect_view();
    let mut newest_first = scores;
    newest_first.reverse();
    view! {
        <div class="trend-list">{trends}</div>
        <table class="growth-table screening-table">
            <caption class="visually-hidden">"Screening results, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Date"</th>
                    <th scope="col">"Questionnaire"</th>
                    <th scope="col">"Score"</th>
                    <th scope="col">"Band"</th>
                </tr>
            </thead>
            <tbody>
                {newest_first.into_iter().map(|score| view! { <ScoreRow score /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ScoreRow(score: ScreeningScore) -> AnyView {
    let total = match score.total {
        Some(total) => format!("{total} of {}", score.max_total),
        None => "Incomplete".to_owned(),
    };
    let flagged = !score.flags.is_empty();
    let band = score.band.unwrap_or_else(|| "No band".to_owned());
    view! {
        <tr>
            <td>{date_of(&score.observed_at)}</td>
            <td>{score.instrument.abbreviation()}</td>
            <td>{total}</td>
            <td>
                {band}
                {flagged
                    .then(|| {
                        view! {
                            <span class="flag flag-abnormal">" " {score.flags.join("; ")}</span>
                        }
                    })}
            </td>
        </tr>
    }
    .into_any()
}

/// Draws a small line of one questionnaire's totals, oldest first, scaled to its maximum total.
#[component]
fn Trend(instrument: Instrument, totals: Vec<u8>, max_total: u8) -> AnyView {
    let count = totals.len();
    let step = if count > 1 {
        (TREND_WIDTH - 2.0 * TREND_PADDING) / (count - 1) as f64
    } else {
        0.0
    };
    let scale = (TREND_HEIGHT - 2.0 * TREND_PADDING) / f64::from(max_total.max(1));
    let points: Vec<(f64, f64)> = totals
        .iter()
        .enumerate()
        .map(|(index, total)| {
            let x = TREND_PADDING + step * index as f64;
            let y = TREND_HEIGHT - TREND_PADDING - f64::from(*total) * scale;
            (x, y)
        })
        .collect();
    let line = svg_points(points.iter().copied());
    let listed = totals
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let label = format!(
        "{} totals over time, oldest first: {listed} (maximum {max_total})",
        instrument.abbreviation()
    );
    view! {
        <figure class="trend">
            <svg
                viewBox=format!("0 0 {TREND_WIDTH} {TREND_HEIGHT}")
                role="img"
                aria-label=label
            >
                <polyline class="trend-line" points=line />
                {points
                    .into_iter()
                    .map(|(x, y)| view! { <circle
                                class="trend-point"
                                cx=svg_number(x)
                                cy=svg_number(y)
                                r="3"
                            /> })
                    .collect_view()}
            </svg>
            <figcaption>{instrument.abbreviation()} ": " {listed}</figcaption>
        </figure>
    }
    .into_any()
}

/// Asks the patient to complete a PHQ-9 or GAD-7 in her portal.
#[component]
fn AssignForm() -> AnyView {
    let context = expect_context::<ChartContext>();
    let instrument = RwSignal::new(Instrument::Phq9);
    let assign = browser_action(move |instrument: &Instrument| {
        let context = context.clone();
        let instrument = *instrument;
        async move {
            let purpose = context.purpose.clone();
            let result = assign_screening(context.patient_id, instrument, purpose).await;
            context.finish("assign", result);
        }
    });
    view! {
        <h3>"Assign a questionnaire"</h3>
        <form
            class="stack"
            on:submit=move |event| {
                event.prevent_default();
                assign.dispatch(instrument.get_untracked());
            }
        >
            <label for="assign-instrument">"Questionnaire"</label>
            <select
                id="assign-instrument"
                on:change=move |event| {
                    instrument.set(
                        if event_target_value(&event) == "gad7" {
                            Instrument::Gad7
                        } else {
                            Instrument::Phq9
                        },
                    );
                }
            >
                <option value="phq9">"PHQ-9 (depression)"</option>
                <option value="gad7">"GAD-7 (anxiety)"</option>
            </select>
            <button type="submit" class="button">"Assign"</button>
        </form>
        <FormMessage key="assign" />
    }
    .into_any()
}
