//! The clinician's form for inviting a patient, which also creates her record.

use leptos::prelude::*;

use super::{AccountResource, StatusMessage, browser_action};
use crate::identity::{IssuedLink, invite_patient};

/// Invites a patient to the clinic and shows her enrollment link. Shown only to roles that may
/// invite patients; the server checks the role again.
#[component]
pub fn InvitePatientPanel() -> impl IntoView {
    let account = AccountResource::get();
    let may_invite = move || {
        account.0.get().is_some_and(|result| {
            matches!(result, Ok(Some(account)) if account.roles.iter().any(|role| role.may_invite_patients()))
        })
    };
    view! {
        <Transition fallback=|| ()>
            <Show when=may_invite>
                <InvitePatientForm />
            </Show>
        </Transition>
    }
}

#[component]
fn InvitePatientForm() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let date_of_birth = RwSignal::new(String::new());
    let link = RwSignal::new(None::<IssuedLink>);
    let invite = browser_action(|(name, email, birth): &(String, String, String)| {
        let (name, email, birth) = (name.clone(), email.clone(), birth.clone());
        async move {
            invite_patient(name, email, birth)
                .await
                .map_err(|error| error.message)
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(issued)) = invite.value().get() {
            link.set(Some(issued));
            name.set(String::new());
            email.set(String::new());
            date_of_birth.set(String::new());
        }
    });
    let error = Signal::derive(move || invite.value().get().and_then(Result::err));

    view! {
        <section class="panel" aria-labelledby="invite-patient-heading">
            <h2 id="invite-patient-heading">"Invite a patient"</h2>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    invite
                        .dispatch((
                            name.get_untracked(),
                            email.get_untracked(),
                            date_of_birth.get_untracked(),
                        ));
                }
            >
                <label for="patient-name">"Name"</label>
                <input id="patient-name" required maxlength="200" bind:value=name />
                <label for="patient-email">"Email"</label>
                <input id="patient-email" type="email" required bind:value=email />
                <label for="patient-birth">"Date of birth"</label>
                <input id="patient-birth" type="date" required bind:value=date_of_birth />
                <button type="submit" class="button">"Create invitation"</button>
            </form>
            <StatusMessage error notice=Signal::derive(|| None::<String>) />
            <div hidden=move || link.get().is_none()>
                <p>
                    "Give this link to the patient privately. It works once, until "
                    {move || link.get().map(|issued| issued.expires_at)} "."
                </p>
                <p>
                    <code data-testid="patient-link">{move || link.get().map(|issued| issued.link)}</code>
                </p>
            </div>
        </section>
    }
}
