//! The admin's consent page: create templates, publish new versions, and see coverage counts.
//! It never shows a patient's consent.

use leptos::prelude::*;
use leptos_meta::Title;

use super::outcome_reporter;
use crate::consent::{
    ConsentCoverage, ConsentKind, TemplateSummary, create_consent_template, list_consent_templates,
    load_consent_coverage, publish_consent_version,
};
use crate::error::AppError;
use crate::identity::Role;
use crate::identity::pages::{AccountResource, SignInRequired, StatusMessage, browser_action};

type Templates = Resource<Result<Vec<TemplateSummary>, AppError>>;
type Coverage = Resource<Result<Vec<ConsentCoverage>, AppError>>;

/// Consent templates of the clinic and their coverage.
#[component]
pub fn AdminConsentsPage() -> impl IntoView {
    let account = AccountResource::get();
    let templates = Resource::new(|| (), |_| list_consent_templates());
    let coverage = Resource::new(|| (), |_| load_consent_coverage());
    view! {
        <Title text="Consent templates" />
        <h1>"Consent templates"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                account
                    .0
                    .get()
                    .map(|result| match result {
                        Ok(Some(account)) if account.roles.contains(&Role::Admin) => {
                            view! { <TemplateAdministration templates coverage /> }.into_any()
                        }
                        Ok(Some(_)) => {
                            view! { <p class="notice">"Only admins can manage consent templates."</p> }
                                .into_any()
                        }
                        _ => view! { <SignInRequired /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn TemplateAdministration(templates: Templates, coverage: Coverage) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let report = outcome_reporter(error, notice, move || {
        templates.refetch();
        coverage.refetch();
    });
    view! {
        <StatusMessage error notice />
        <CreateTemplateForm report />
        <section class="panel" aria-labelledby="templates-heading">
            <h2 id="templates-heading">"Templates"</h2>
            <Suspense fallback=|| view! { <p>"Loading templates…"</p> }>
                {move || {
                    templates
                        .get()
                        .map(|result| match result {
                            Ok(list) => {
                                view! {
                                    <ul class="item-list" aria-label="Consent templates">
                                        {list
                                            .into_iter()
                                            .map(|template| view! { <TemplateItem template report /> })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(failure) => {
                                view! { <p class="form-error">{failure.message}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
        <CoverageTable coverage />
    }
}

#[component]
fn CreateTemplateForm(
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let kind = RwSignal::new(ConsentKind::CareCoordination.as_str().to_owned());
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let create = browser_action(|(kind, title, body): &(String, String, String)| {
        let (kind, title, body) = (kind.clone(), title.clone(), body.clone());
        async move {
            let kind = ConsentKind::parse(&kind).ok_or("Choose a consent type.")?;
            create_consent_template(kind, title, body)
                .await
                .map_err(|error| error.message)
        }
    });
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            if result.is_ok() {
                title.set(String::new());
                body.set(String::new());
            }
            report(result.map(|_| "Template created.".to_owned()));
        }
    });
    view! {
        <section class="panel" aria-labelledby="create-template-heading">
            <h2 id="create-template-heading">"New template"</h2>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    create.dispatch((kind.get_untracked(), title.get_untracked(), body.get_untracked()));
                }
            >
                <label for="template-kind">"Type"</label>
                <select id="template-kind" bind:value=kind>
                    {ConsentKind::ALL
                        .into_iter()
                        .map(|option| view! { <option value=option.as_str()>{option.label()}</option> })
                        .collect_view()}
                </select>
                <label for="template-title">"Title"</label>
                <input id="template-title" required maxlength="200" bind:value=title />
                <label for="template-body">"Consent text"</label>
                <textarea id="template-body" required rows="6" maxlength="20000" bind:value=body></textarea>
                <button type="submit" class="button">"Create template"</button>
            </form>
        </section>
    }
}

#[component]
fn TemplateItem(
    template: TemplateSummary,
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let template_id = template.id;
    let body = RwSignal::new(template.body.clone().unwrap_or_default());
    let publish = browser_action(move |body: &String| {
        let body = body.clone();
        async move {
            publish_consent_version(template_id, body)
                .await
                .map_err(|error| error.message)
        }
    });
    Effect::new(move |_| {
        if let Some(result) = publish.value().get() {
            report(result.map(|_| {
                "New version published. Patients will be asked to consent again.".to_owned()
            }));
        }
    });
    let version = template.current_version.map_or_else(
        || "no text yet".to_owned(),
        |number| format!("version {number}"),
    );
    let body_id = format!("publish-{}", template.id);
    view! {
        <li class="item" data-testid="consent-template">
            <p>
                <strong>{template.title.clone()}</strong>
                {format!(" · {} · {version}", template.kind.label())}
            </p>
            <details>
                <summary>"Publish a new version"</summary>
                <form
                    class="stack"
                    on:submit=move |event| {
                        event.prevent_default();
                        publish.dispatch(body.get_untracked());
                    }
                >
                    <label for=body_id.clone()>"New consent text"</label>
                    <textarea id=body_id required rows="6" maxlength="20000" bind:value=body></textarea>
                    <button type="submit" class="button">"Publish version"</button>
                </form>
            </details>
        </li>
    }
}

#[component]
fn CoverageTable(coverage: Coverage) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="coverage-heading">
            <h2 id="coverage-heading">"Consent coverage"</h2>
            <p>"Counts of patients only; the contents of a patient's consent are not shown here."</p>
            <Suspense fallback=|| view! { <p>"Loading coverage…"</p> }>
                {move || {
                    coverage
                        .get()
                        .map(|result| match result {
                            Ok(rows) => {
                                view! {
                                    <table class="coverage">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Template"</th>
                                                <th scope="col">"Patients"</th>
                                                <th scope="col">"Consenting"</th>
                                                <th scope="col">"On the newest version"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {rows
                                                .into_iter()
                                                .map(|row| view! {
                                                    <tr>
                                                        <th scope="row">{row.title}</th>
                                                        <td>{row.patients}</td>
                                                        <td>{row.consenting}</td>
                                                        <td>{row.consenting_current}</td>
                                                    </tr>
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                }
                                    .into_any()
                            }
                            Err(failure) => {
                                view! { <p class="form-error">{failure.message}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}
