//! Pieces shared by the chart's sections: the message of a form, the text of a section that
//! the user may not see, the categories she may write, and the formatting of times.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::ChartContext;
use super::load::Section;
use crate::access::{Action, DataCategory};
use crate::chart::CategoryPermission;
use crate::chart::open::allows;
use crate::identity::pages::StatusMessage;

/// Shows the message of the form with `key` after its last request, or after the chart loaded
/// again with `done=<key>` following a change.
#[component]
pub fn FormMessage(key: &'static str) -> AnyView {
    let status = expect_context::<ChartContext>().status.0;
    let done = use_query_map().with_untracked(|query| query.get("done"));
    let reloaded = (done.as_deref() == Some(key)).then(|| super::done_message(key).to_owned());
    let outcome = Signal::derive(move || {
        status
            .get()
            .filter(|(form, _)| *form == key)
            .map(|(_, result)| result)
            .or_else(|| reloaded.clone().map(Ok))
    });
    let error = Signal::derive(move || outcome.get().and_then(Result::err));
    let notice = Signal::derive(move || outcome.get().and_then(Result::ok));
    view! { <StatusMessage error notice /> }.into_any()
}

/// Renders a section's data with `shown`, or the reason why it is not shown.
pub fn section_body<T>(section: Section<T>, shown: impl FnOnce(T) -> AnyView) -> AnyView {
    match section {
        Section::Shown(value) => shown(value),
        Section::NotForRole => view! { <p class="hint">"Not available to your role."</p> }.into_any(),
        Section::Refused(_) => view! {
            <p class="hint">
                "Not available: your care-team membership or the patient's consent does not cover it."
            </p>
        }
        .into_any(),
    }
}

/// Formats a wire timestamp such as `2026-12-05T09:30:00Z` as `2026-12-05 09:30 UTC`.
pub fn when(timestamp: &str) -> String {
    match timestamp.split_once('T') {
        Some((date, time)) => {
            let clock: String = time.chars().take(5).collect();
            format!("{date} {clock} UTC")
        }
        None => timestamp.to_owned(),
    }
}

/// Returns the date part of a wire timestamp.
pub fn date_of(timestamp: &str) -> String {
    timestamp.split('T').next().unwrap_or(timestamp).to_owned()
}

/// Lists the categories among `parts` in which `permissions` allow writing.
pub fn writable<T>(
    parts: &[(DataCategory, Section<T>)],
    permissions: &[CategoryPermission],
) -> Vec<DataCategory> {
    parts
        .iter()
        .map(|(category, _)| *category)
        .filter(|category| allows(permissions, *category, Action::Write))
        .collect()
}
