//! The patient's consent page: read each consent's current text, sign it, see her consents with
//! their expiry, revoke one, and verify her consent history.

use leptos::prelude::*;
use leptos_meta::Title;

use super::grant_form::GrantForm;
use super::outcome_reporter;
use crate::consent::{
    ConsentHistoryCheck, ConsentRecord, ConsentStatus, ConsentText, category_label,
    list_consent_texts, list_my_consents, revoke_my_consent, verify_my_consent_history,
};
use crate::error::AppError;
use crate::identity::Role;
use crate::identity::pages::{AccountResource, SignInRequired, StatusMessage, browser_action};

type Texts = Resource<Result<Vec<ConsentText>, AppError>>;
type Grants = Resource<Result<Vec<ConsentRecord>, AppError>>;

/// Shows the signed-in patient's consents.
#[component]
pub fn PatientConsentsPage() -> impl IntoView {
    let account = AccountResource::get();
    // Created at the top of the page so that server rendering runs them in the request's context.
    let texts = Resource::new(|| (), |_| list_consent_texts());
    let grants = Resource::new(|| (), |_| list_my_consents());
    view! {
        <Title text="My consents" />
        <h1>"My consents"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                account
                    .0
                    .get()
                    .map(|result| match result {
                        Ok(Some(account)) if account.roles.contains(&Role::Patient) => {
                            view! { <ConsentSections texts grants /> }.into_any()
                        }
                        Ok(Some(_)) => {
                            view! { <p class="notice">"Only patients have consents to manage."</p> }
                                .into_any()
                        }
                        _ => view! { <SignInRequired /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn ConsentSections(texts: Texts, grants: Grants) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let report = outcome_reporter(error, notice, move || {
        texts.refetch();
        grants.refetch();
    });
    view! {
        <StatusMessage error notice />
        <section class="panel" aria-labelledby="texts-heading">
            <h2 id="texts-heading">"Consents to read"</h2>
            <p>
                "Read each consent before you decide. You sign with your full name and your passkey, "
                "which signs this exact text. You can revoke a consent at any time."
            </p>
            <Suspense fallback=|| view! { <p>"Loading consents…"</p> }>
                {move || {
                    texts
                        .get()
                        .map(|result| match result {
                            Ok(list) if list.is_empty() => {
                                view! { <p>"Your clinic has not published any consent yet."</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <ul class="item-list" aria-label="Consent texts">
                                        {list
                                            .into_iter()
                                            .map(|text| view! { <TextItem text report /> })
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
        <GrantList grants report />
        <HistoryCheck />
    }
}

#[component]
fn TextItem(
    text: ConsentText,
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let state = if text.signed {
        "You have signed this version."
    } else if text.reconsent_needed {
        "This consent has a new version. Your earlier consent stays valid until it expires; \
         read and sign the new version to keep it up to date."
    } else {
        "Not signed."
    };
    view! {
        <li class="item" data-testid="consent-text">
            <h3>{format!("{} (version {})", text.title, text.version)}</h3>
            <p class="hint">{text.kind.label()}</p>
            <p class="consent-body">{text.body.clone()}</p>
            <p class="hint">"Text fingerprint (SHA-256): " <code>{text.text_hash.clone()}</code></p>
            <p><strong>{state}</strong></p>
            <details>
                <summary>"Review and sign"</summary>
                <GrantForm text report />
            </details>
        </li>
    }
}

#[component]
fn GrantList(
    grants: Grants,
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="grants-heading">
            <h2 id="grants-heading">"Consents you have given"</h2>
            <p>
                "To revoke a consent, give a short reason and press Revoke. It stops applying at "
                "once, to every later request."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    grants
                        .get()
                        .map(|result| match result {
                            Ok(list) if list.is_empty() => {
                                view! { <p>"You have not given any consent yet."</p> }.into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <ul class="item-list" aria-label="Your consents">
                                        {list
                                            .into_iter()
                                            .map(|grant| view! { <GrantItem grant report /> })
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
    }
}

fn scope_text(grant: &ConsentRecord) -> String {
    let categories: Vec<&str> = grant
        .categories
        .iter()
        .map(|c| category_label(*c))
        .collect();
    let mut recipients: Vec<String> = grant
        .recipient_roles
        .iter()
        .map(|role| role.label().to_owned())
        .collect();
    recipients.extend(grant.named_parties.iter().cloned());
    format!(
        "{} · shared with {} · purpose: {}",
        categories.join(", "),
        recipients.join(", "),
        grant.purpose
    )
}

#[component]
fn GrantItem(
    grant: ConsentRecord,
    report: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let grant_id = grant.id.to_string();
    let reason = RwSignal::new(String::new());
    let revoke = browser_action(move |(id, reason): &(String, String)| {
        let (id, reason) = (id.clone(), reason.clone());
        async move {
            revoke_my_consent(id, reason)
                .await
                .map_err(|error| error.message)
        }
    });
    Effect::new(move |_| {
        if let Some(result) = revoke.value().get() {
            report(result.map(|()| "Consent revoked. It no longer applies.".to_owned()));
        }
    });
    let active = matches!(
        grant.status,
        ConsentStatus::Active | ConsentStatus::Scheduled
    );
    let expiry = grant
        .expires_at
        .clone()
        .map_or_else(|| "No expiry date".to_owned(), |at| format!("Expires {at}"));
    let reason_id = format!("reason-{}", grant.id);
    view! {
        <li class="item" data-testid="consent-grant" data-status=format!("{:?}", grant.status)>
            <h3>{format!("{} (version {})", grant.title, grant.version)}</h3>
            <p><strong>{grant.status.label()}</strong></p>
            <p>{scope_text(&grant)}</p>
            <p class="hint">
                {format!("Signed by {} on {}", grant.signer_name, grant.granted_at)}
                {grant.witness_name.clone().map(|name| format!(", witnessed by {name}"))}
                {format!(". Starts {}. {expiry}.", grant.starts_at)}
            </p>
            {grant.revoked_at.clone().map(|at| view! {
                <p class="hint">{format!("Revoked {at}: {}", grant.revocation_reason.clone().unwrap_or_default())}</p>
            })}
            {grant.superseded.then(|| view! {
                <p class="hint">"A newer version of this consent exists."</p>
            })}
            <form
                class="inline-form"
                hidden=!active
                on:submit=move |event| {
                    event.prevent_default();
                    revoke.dispatch((grant_id.clone(), reason.get_untracked()));
                }
            >
                <label for=reason_id.clone()>"Reason for revoking"</label>
                <input id=reason_id required maxlength="500" bind:value=reason />
                <button type="submit" class="button button--danger">"Revoke"</button>
            </form>
        </li>
    }
}

#[component]
fn HistoryCheck() -> impl IntoView {
    let check = browser_action(|_: &()| async move {
        verify_my_consent_history()
            .await
            .map_err(|error| error.message)
    });
    let outcome = move || {
        check.value().get().map(|result| match result {
            Ok(ConsentHistoryCheck { entries, intact: true, .. }) => format!(
                "Your consent history is intact: {entries} entries checked, each linked to the one before."
            ),
            Ok(ConsentHistoryCheck { problem, .. }) => format!(
                "Your consent history has been altered: {}. Contact your clinic.",
                problem.unwrap_or_default()
            ),
            Err(message) => message,
        })
    };
    view! {
        <section class="panel" aria-labelledby="history-heading">
            <h2 id="history-heading">"Verify my consent history"</h2>
            <p>
                "Every grant, revocation and expiry is recorded in a chain in which each entry "
                "carries the fingerprint of the one before. Checking recomputes the chain."
            </p>
            <button type="button" class="button" on:click=move |_| { check.dispatch(()); }>
                "Verify my consent history"
            </button>
            <p role="status" data-testid="history-result">{outcome}</p>
        </section>
    }
}
