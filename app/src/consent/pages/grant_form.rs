//! The form a patient fills in to grant a consent and sign it with her passkey.

use leptos::prelude::*;

use crate::access::DataCategory;
use crate::consent::{
    CARE_ROLES, ConsentKind, ConsentText, GrantRequest, begin_consent_signature, category_label,
    grant_my_consent,
};
use crate::identity::pages::browser_action;
use crate::identity::{Role, flows};

/// Choices of the form, read when it is submitted.
#[derive(Clone, Copy)]
struct Choices {
    categories: RwSignal<Vec<DataCategory>>,
    roles: RwSignal<Vec<Role>>,
    parties: RwSignal<String>,
    purpose: RwSignal<String>,
    expires_on: RwSignal<String>,
    signer_name: RwSignal<String>,
    witness_name: RwSignal<String>,
}

impl Choices {
    fn new() -> Self {
        Self {
            categories: RwSignal::new(Vec::new()),
            roles: RwSignal::new(Vec::new()),
            parties: RwSignal::new(String::new()),
            purpose: RwSignal::new(String::new()),
            expires_on: RwSignal::new(String::new()),
            signer_name: RwSignal::new(String::new()),
            witness_name: RwSignal::new(String::new()),
        }
    }

    /// Builds the request; the ceremony id and credential are filled in after signing.
    fn request(self, text: &ConsentText) -> GrantRequest {
        let recipient_roles = match text.kind {
            ConsentKind::CareCoordination => self.roles.get_untracked(),
            ConsentKind::ResearchParticipation => vec![Role::Researcher],
            ConsentKind::DataSharing => Vec::new(),
        };
        let named_parties = self
            .parties
            .get_untracked()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
        let optional = |value: String| Some(value).filter(|text| !text.trim().is_empty());
        GrantRequest {
            ceremony_id: String::new(),
            credential: String::new(),
            version_id: text.version_id,
            categories: self.categories.get_untracked(),
            recipient_roles,
            named_parties,
            purpose: self.purpose.get_untracked(),
            expires_on: optional(self.expires_on.get_untracked()),
            signer_name: self.signer_name.get_untracked(),
            witness_name: optional(self.witness_name.get_untracked()),
        }
    }
}

/// Signs the text with a passkey, then sends the grant with the signature.
async fn sign_and_grant(mut request: GrantRequest) -> Result<(), String> {
    let start = begin_consent_signature(request.version_id)
        .await
        .map_err(|error| error.message)?;
    request.credential = flows::passkey_assertion(&start.options).await?;
    request.ceremony_id = start.ceremony_id;
    grant_my_consent(request)
        .await
        .map(|_| ())
        .map_err(|error| error.message)
}

#[component]
pub fn GrantForm(
    text: ConsentText,
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let choices = Choices::new();
    let sign = browser_action(|request: &GrantRequest| sign_and_grant(request.clone()));
    Effect::new(move |_| {
        if let Some(result) = sign.value().get() {
            report(result.map(|()| "Consent signed and recorded.".to_owned()));
        }
    });
    let prefix = format!("grant-{}", text.version_id);
    let kind = text.kind;
    let submitted = text.clone();

    view! {
        <form
            class="stack"
            on:submit=move |event| {
                event.prevent_default();
                sign.dispatch(choices.request(&submitted));
            }
        >
            <CategoryChoices prefix=prefix.clone() selected=choices.categories />
            {(kind == ConsentKind::CareCoordination)
                .then(|| view! { <RoleChoices prefix=prefix.clone() selected=choices.roles /> })}
            {(kind == ConsentKind::ResearchParticipation)
                .then(|| view! { <p>"Shared with: researchers, as anonymized data only."</p> })}
            {(kind == ConsentKind::DataSharing)
                .then(|| {
                    let id = format!("{prefix}-parties");
                    view! {
                        <label for=id.clone()>"Named parties, one per line"</label>
                        <textarea id=id required rows="3" bind:value=choices.parties></textarea>
                    }
                })}
            <label for=format!("{prefix}-purpose")>"Purpose"</label>
            <input id=format!("{prefix}-purpose") required maxlength="500" bind:value=choices.purpose />
            <label for=format!("{prefix}-expiry")>"Last day it applies (optional)"</label>
            <input id=format!("{prefix}-expiry") type="date" bind:value=choices.expires_on />
            <label for=format!("{prefix}-signer")>"Your full name"</label>
            <input id=format!("{prefix}-signer") required maxlength="200" autocomplete="name" bind:value=choices.signer_name />
            <label for=format!("{prefix}-witness")>"Witness's name (optional)"</label>
            <input id=format!("{prefix}-witness") maxlength="200" bind:value=choices.witness_name />
            <button type="submit" class="button">"Sign with passkey"</button>
        </form>
    }
}

#[component]
fn CategoryChoices(prefix: String, selected: RwSignal<Vec<DataCategory>>) -> impl IntoView {
    let options = DataCategory::ALL
        .into_iter()
        .map(|category| {
            (
                category,
                format!("category-{category:?}"),
                category_label(category),
            )
        })
        .collect();
    view! { <CheckboxGroup legend="Data you share" prefix options selected /> }
}

#[component]
fn RoleChoices(prefix: String, selected: RwSignal<Vec<Role>>) -> impl IntoView {
    let options = CARE_ROLES
        .into_iter()
        .map(|role| (role, format!("role-{}", role.as_str()), role.label()))
        .collect();
    view! { <CheckboxGroup legend="Care-team members who may use it" prefix options selected /> }
}

/// Renders a group of checkboxes that keeps the checked options in `selected`. Each option is a
/// value, the suffix of its element id, and its label.
#[component]
pub(crate) fn CheckboxGroup<T>(
    legend: &'static str,
    prefix: String,
    options: Vec<(T, String, &'static str)>,
    selected: RwSignal<Vec<T>>,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <fieldset class="role-choices">
            <legend>{legend}</legend>
            {options
                .into_iter()
                .map(|(value, suffix, label)| {
                    let id = format!("{prefix}-{suffix}");
                    view! {
                        <label for=id.clone() class="checkbox">
                            <input
                                id=id.clone()
                                type="checkbox"
                                prop:checked=move || selected.get().contains(&value)
                                on:change=move |event| {
                                    let checked = event_target_checked(&event);
                                    selected.update(|list| toggle(list, value, checked));
                                }
                            />
                            {label}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

fn toggle<T: PartialEq>(list: &mut Vec<T>, value: T, checked: bool) {
    list.retain(|existing| *existing != value);
    if checked {
        list.push(value);
    }
}
