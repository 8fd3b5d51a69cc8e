//! The patient's infants: growth against the WHO standard, with the growth chart, and a
//! summary of the last day's feeds and nappies.

use leptos::prelude::*;

use super::forms::{section_body, when};
use super::load::Section;
use crate::chart::{FeedingSummary, InfantChartView};
use crate::growth_chart::GrowthChart;

#[component]
pub fn InfantsSection(infants: Section<Vec<InfantChartView>>) -> AnyView {
    let body = section_body(infants, |infants| {
        if infants.is_empty() {
            return view! { <p class="hint">"No infant recorded."</p> }.into_any();
        }
        infants
            .into_iter()
            .map(|infant| view! { <InfantPart infant /> })
            .collect_view()
            .into_any()
    });
    view! {
        <section class="panel" aria-labelledby="infants-heading" data-testid="chart-infants">
            <h2 id="infants-heading">"Infants"</h2>
            {body}
        </section>
    }
    .into_any()
}

#[component]
fn InfantPart(infant: InfantChartView) -> AnyView {
    let summary = infant.infant;
    let weeks = summary.age_days / 7;
    let days = summary.age_days % 7;
    let latest = if infant.latest.is_empty() {
        view! { <p class="hint">"No growth measurement yet."</p> }.into_any()
    } else {
        view! {
            <table class="growth-table">
                <caption class="hint">"Latest measurements against the WHO Child Growth Standards"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Measurement"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col">"z-score"</th>
                        <th scope="col">"Percentile"</th>
                    </tr>
                </thead>
                <tbody>
                    {infant
                        .latest
                        .into_iter()
                        .map(|result| {
                            view! {
                                <tr>
                                    <th scope="row">{result.measure.label()}</th>
                                    <td>{result.value}</td>
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
    // The weight chart is always drawn; the others once they have a measurement.
    let charts = infant
        .charts
        .into_iter()
        .enumerate()
        .filter(|(index, data)| *index == 0 || !data.points.is_empty())
        .map(|(_, data)| view! { <GrowthChart data /> })
        .collect_view();
    view! {
        <h3>{summary.name}</h3>
        <p>"Born " {summary.birth_date} ", " {weeks} " weeks " {days} " days old"</p>
        {latest}
        <div class="chart-list">{charts}</div>
        <Feeding feeding=infant.feeding />
    }
    .into_any()
}

#[component]
fn Feeding(feeding: FeedingSummary) -> AnyView {
    let last = match (feeding.last_feed, feeding.last_feed_at) {
        (Some(feed), Some(at)) => format!("Last feed: {feed}, {}.", when(&at)),
        _ => "No feed logged yet.".to_owned(),
    };
    view! {
        <h4>"Feeding, last 24 hours"</h4>
        <p>
            {feeding.feeds} " feeds (" {feeding.breastfeeds} " breastfeeds, "
            {feeding.bottle_feeds} " bottles); " {feeding.wet_nappies} " wet and "
            {feeding.dirty_nappies} " dirty nappies."
        </p>
        <p class="hint">{last}</p>
    }
    .into_any()
}
