//! The export section of the clinician chart: request an export of the open record to a party
//! that the patient's data-sharing consent names, see the exports requested, and download a
//! ready one.

use leptos::prelude::*;

use super::{
    EXPORTABLE, ExportBundle, ExportStatus, ExportView, download_export, list_exports,
    request_export,
};
use crate::access::DataCategory;
use crate::consent::pages::CheckboxGroup;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::{ExportId, PatientId};

/// Input of an export request from the form.
#[derive(Clone)]
struct ExportForm {
    recipient: String,
    purpose: String,
    categories: Vec<DataCategory>,
}

/// Requests, lists and downloads exports of one patient's record. `purpose` is the purpose
/// under which the chart was opened, recorded with the list of exports.
#[component]
pub fn ExportSection(patient_id: PatientId, purpose: String) -> impl IntoView {
    let recipient = RwSignal::new(String::new());
    let export_purpose = RwSignal::new(String::new());
    let categories = RwSignal::new(Vec::<DataCategory>::new());
    let reload = RwSignal::new(0_u32);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);

    let request = browser_action(move |form: &ExportForm| {
        let form = form.clone();
        async move { request_export(patient_id, form.recipient, form.purpose, form.categories).await }
    });
    Effect::new(move |_| {
        if let Some(result) = request.value().get() {
            match result {
                Ok(_) => {
                    error.set(None);
                    notice.set(Some(
                        "Export requested. It is built in the background.".to_owned(),
                    ));
                }
                Err(failure) => {
                    notice.set(None);
                    error.set(Some(failure.message));
                }
            }
            reload.update(|count| *count += 1);
        }
    });
    let exports = LocalResource::new(move || {
        reload.get();
        list_exports(patient_id, purpose.clone())
    });

    view! {
        <section class="panel" aria-labelledby="export-heading" data-testid="exports">
            <h2 id="export-heading">"Share with a named party"</h2>
            <p class="hint">
                "The patient's data-sharing consent must name the recipient and cover each category. "
                "It is checked again when the export is built and when you download it."
            </p>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    request.dispatch(ExportForm {
                        recipient: recipient.get_untracked(),
                        purpose: export_purpose.get_untracked(),
                        categories: categories.get_untracked(),
                    });
                }
            >
                <label for="export-recipient">"Recipient"</label>
                <input id="export-recipient" required maxlength="200" bind:value=recipient />
                <label for="export-purpose">"Purpose of the export"</label>
                <input id="export-purpose" required maxlength="500" bind:value=export_purpose />
                <CategoryChoices selected=categories />
                <button type="submit" class="button">"Request export"</button>
            </form>
            <StatusMessage error notice />
            <h3>"Exports you requested"</h3>
            <Suspense fallback=|| view! { <p>"Loading exports…"</p> }>
                {move || {
                    exports
                        .get()
                        .map(|result| match result {
                            Ok(list) => view! { <ExportList exports=list /> }.into_any(),
                            Err(failure) => view! { <p>{failure.message}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn CategoryChoices(selected: RwSignal<Vec<DataCategory>>) -> impl IntoView {
    let options = EXPORTABLE
        .iter()
        .map(|category| (*category, format!("{category:?}"), category.label()))
        .collect();
    let prefix = "export-category".to_owned();
    view! { <CheckboxGroup legend="Data to share" prefix options selected /> }
}

#[component]
fn ExportList(exports: Vec<ExportView>) -> impl IntoView {
    if exports.is_empty() {
        return view! { <p>"No exports of this record yet."</p> }.into_any();
    }
    view! {
        <ul class="item-list" aria-label="Exports you requested">
            {exports.into_iter().map(|export| view! { <ExportItem export /> }).collect_view()}
        </ul>
    }
    .into_any()
}

fn status_label(status: ExportStatus) -> &'static str {
    match status {
        ExportStatus::Queued => "Queued",
        ExportStatus::Ready => "Ready to download",
        ExportStatus::Released => "Downloaded",
        ExportStatus::Withheld => "Withheld",
    }
}

#[component]
fn ExportItem(export: ExportView) -> impl IntoView {
    let categories = export
        .categories
        .iter()
        .map(|category| category.label())
        .collect::<Vec<_>>()
        .join(", ");
    let ready = export.status == ExportStatus::Ready;
    view! {
        <li class="item">
            <p>
                {export.recipient} " · " {categories} " · " {status_label(export.status)}
            </p>
            <p class="hint">"Requested " {export.requested_at} " for " {export.purpose}</p>
            {export.withheld_reason.map(|reason| view! { <p class="hint">{reason}</p> })}
            {ready.then(|| view! { <DownloadButton id=export.id /> })}
        </li>
    }
}

#[component]
fn DownloadButton(id: ExportId) -> impl IntoView {
    let download = browser_action(move |id: &ExportId| download_export(*id));
    let bundle = move || download.value().get().and_then(Result::ok);
    let failed = move || {
        download
            .value()
            .get()
            .and_then(Result::err)
            .map(|failure| failure.message)
    };
    view! {
        <button type="button" class="button" on:click=move |_| { download.dispatch(id); }>
            "Download"
        </button>
        <p class="form-error" role="alert" hidden=move || failed().is_none()>
            {failed}
        </p>
        {move || bundle().map(|bundle| view! { <BundleView bundle /> })}
    }
}

/// Shows a released bundle and offers it as a file. It is released once, so the page keeps it
/// only until it is left.
#[component]
fn BundleView(bundle: ExportBundle) -> impl IntoView {
    let href = format!(
        "data:application/json;charset=utf-8,{}",
        percent_encode(&bundle.content)
    );
    let file = format!("export-{}.json", bundle.id);
    view! {
        <p role="status">
            <a href=href download=file>"Save the export as a file"</a>
        </p>
        <pre class="export-bundle">{bundle.content}</pre>
    }
}

/// Percent-encodes text for a `data:` URL.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
