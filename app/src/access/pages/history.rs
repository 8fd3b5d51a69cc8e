//! The patient's access history: who used her record, when, what, why, and whether it was
//! emergency access.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::access::api::{AccessHistoryItem, my_access_history};

/// Lists every access to the signed-in patient's record, newest first.
#[component]
pub fn AccessHistoryPage() -> impl IntoView {
    let history = Resource::new(|| (), |_| my_access_history());
    view! {
        <Title text="Who accessed my record" />
        <h1>"Who accessed my record"</h1>
        <section class="panel" aria-labelledby="history-heading">
            <h2 id="history-heading">"Access history"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    history
                        .get()
                        .map(|result| match result {
                            Ok(items) => view! { <HistoryTable items /> }.into_any(),
                            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn HistoryTable(items: Vec<AccessHistoryItem>) -> impl IntoView {
    view! {
        <table class="history">
            <caption class="hint">"Newest first. Emergency access is marked."</caption>
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Purpose"</th>
                    <th scope="col">"Emergency"</th>
                </tr>
            </thead>
            <tbody>
                {items
                    .into_iter()
                    .map(|item| {
                        let what = format!(
                            "{} {}{}",
                            item.action,
                            item.data.join(", "),
                            if item.allowed { "" } else { " (refused)" },
                        );
                        view! {
                            <tr data-emergency=item.emergency.to_string()>
                                <td>{item.occurred_at}</td>
                                <td>{item.who} " (" {item.roles.join(", ")} ")"</td>
                                <td>{what}</td>
                                <td>{item.purpose}</td>
                                <td>{if item.emergency { "Yes" } else { "No" }}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
