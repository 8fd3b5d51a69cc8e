//! The admin's view of the clinic's permission table and break-glass rules.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::access::api::{AccessSettingsView, access_settings};

/// Shows which role may do what with each category of patient data in this clinic.
#[component]
pub fn PermissionsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| access_settings());
    view! {
        <Title text="Permissions" />
        <h1>"Permissions"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                settings
                    .get()
                    .map(|result| match result {
                        Ok(settings) => view! { <SettingsView settings /> }.into_any(),
                        Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn SettingsView(settings: AccessSettingsView) -> impl IntoView {
    let auto = if settings.auto_grant_critical {
        "Critical emergency requests from this clinic's clinicians are granted at once."
    } else {
        "Every emergency request waits for a compliance officer or admin."
    };
    view! {
        <section class="panel" aria-labelledby="break-glass-heading">
            <h2 id="break-glass-heading">"Emergency access"</h2>
            <p>{auto}</p>
            <p>"A grant lasts " {settings.emergency_grant_minutes} " minutes."</p>
        </section>
        <section class="panel" aria-labelledby="table-heading">
            <h2 id="table-heading">"Permission table"</h2>
            <table class="history">
                <thead>
                    <tr>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Data"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {settings
                        .permissions
                        .rows
                        .into_iter()
                        .map(|row| {
                            let actions: Vec<String> = row
                                .actions
                                .iter()
                                .map(|action| format!("{action:?}").to_lowercase())
                                .collect();
                            view! {
                                <tr>
                                    <td>{row.role.label()}</td>
                                    <td>{row.category.label()}</td>
                                    <td>{actions.join(", ")}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
