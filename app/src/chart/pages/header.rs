//! The chart's header (the patient, her weeks since birth and her infants) and the page shown
//! when the record may not be opened.

use leptos::prelude::*;

use super::load::Section;
use crate::chart::{InfantChartView, PatientSummary};
use crate::ids::PatientId;

/// Tells the user that the record may not be opened, without any of its data, and points to
/// break-glass emergency access.
#[component]
pub fn Refusal(message: String) -> AnyView {
    view! {
        <section class="panel" aria-labelledby="refusal-heading" data-testid="chart-refused">
            <h2 id="refusal-heading">"Record not opened"</h2>
            <p class="form-error" role="alert">{message}</p>
            <p class="hint">
                "No access to this patient? In an emergency, "
                <a href="/clinician/emergency">"request emergency access"</a> "."
            </p>
        </section>
    }
    .into_any()
}

/// Completed weeks since the youngest infant's birth.
pub fn weeks_postpartum(infants: &Section<Vec<InfantChartView>>) -> Option<u32> {
    let infants = infants.shown()?;
    infants.iter().map(|view| view.infant.age_days / 7).min()
}

/// Names the infants with their birth dates, for the header.
pub fn infants_line(infants: &Section<Vec<InfantChartView>>) -> String {
    match infants {
        Section::Shown(infants) if infants.is_empty() => "No infant recorded.".to_owned(),
        Section::Shown(infants) => infants
            .iter()
            .map(|view| format!("{} (born {})", view.infant.name, view.infant.birth_date))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "Infants: not available to your role.".to_owned(),
    }
}

/// Shows the patient's name and date of birth, the `weeks` from [`weeks_postpartum`] and the
/// line from [`infants_line`].
#[component]
pub fn ChartHeader(
    patient_id: PatientId,
    summary: Section<PatientSummary>,
    weeks: Option<u32>,
    infants: String,
) -> AnyView {
    let record = patient_id.to_string();
    let (heading, identity) = match &summary {
        Section::Shown(summary) => (
            summary.full_name.clone(),
            view! { <p>{format!("Date of birth: {}", summary.date_of_birth)}</p> }.into_any(),
        ),
        Section::NotForRole => (
            "Patient record".to_owned(),
            view! { <p class="hint">"Name and date of birth: not available to your role."</p> }
                .into_any(),
        ),
        Section::Refused(_) => (
            "Patient record".to_owned(),
            view! { <p class="hint">"Name and date of birth: not available under this access."</p> }
                .into_any(),
        ),
    };
    view! {
        <section class="panel" aria-labelledby="chart-heading">
            <h2 id="chart-heading">{heading}</h2>
            <p>{format!("Record {record}")}</p>
            {identity}
            {weeks.map(|weeks| view! { <p>{weeks} " weeks postpartum"</p> })}
            <p>{infants}</p>
        </section>
    }
    .into_any()
}
