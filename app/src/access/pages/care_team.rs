//! Care-team management for admins and care coordinators.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::access::api::{
    MembershipView, add_care_team_membership, end_care_team_membership, list_care_team_members,
};
use crate::identity::Role;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::{PatientId, UserId};

/// Roles a care-team member can hold.
const TEAM_ROLES: [Role; 5] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
    Role::CareCoordinator,
];

fn parse_patient(text: &str) -> Result<PatientId, String> {
    text.trim()
        .parse()
        .map_err(|_| "Enter the patient's record id.".to_owned())
}

/// Changes a team and returns the team as it is afterwards.
#[derive(Clone)]
enum Change {
    Show(String),
    Add(String, String, Role),
    End(String, String),
}

async fn apply(change: Change) -> Result<Vec<MembershipView>, String> {
    let patient = match &change {
        Change::Show(patient) | Change::Add(patient, ..) | Change::End(patient, _) => {
            parse_patient(patient)?
        }
    };
    match change {
        Change::Show(_) => {}
        Change::Add(_, provider, role) => {
            let provider: UserId = provider
                .trim()
                .parse()
                .map_err(|_| "Enter the provider's user id.".to_owned())?;
            add_care_team_membership(patient, provider, role, None, None)
                .await
                .map_err(|error| error.message)?;
        }
        Change::End(_, membership) => {
            end_care_team_membership(patient, membership, None)
                .await
                .map_err(|error| error.message)?;
        }
    }
    list_care_team_members(patient)
        .await
        .map_err(|error| error.message)
}

/// Shows a patient's care team and adds or ends memberships. Changes apply to the next request.
#[component]
pub fn CareTeamPage() -> impl IntoView {
    let patient = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Midwife.as_str().to_owned());
    let change = browser_action(|change: &Change| apply(change.clone()));
    let error = Signal::derive(move || change.value().get().and_then(Result::err));
    let team = move || change.value().get().and_then(Result::ok);

    view! {
        <Title text="Care teams" />
        <h1>"Care teams"</h1>
        <section class="panel" aria-labelledby="care-team-heading">
            <h2 id="care-team-heading">"Patient"</h2>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    change.dispatch(Change::Show(patient.get_untracked()));
                }
            >
                <label for="team-patient">"Patient record id"</label>
                <input id="team-patient" required bind:value=patient />
                <button type="submit" class="button">"Show care team"</button>
            </form>
            <StatusMessage error notice=Signal::derive(|| None::<String>) />
        </section>
        <section class="panel" aria-labelledby="add-member-heading">
            <h2 id="add-member-heading">"Add a member"</h2>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    let role = Role::parse(&role.get_untracked()).unwrap_or(Role::Midwife);
                    change.dispatch(Change::Add(patient.get_untracked(), provider.get_untracked(), role));
                }
            >
                <label for="team-provider">"Provider user id"</label>
                <input id="team-provider" required bind:value=provider />
                <label for="team-role">"Role on the team"</label>
                <select id="team-role" bind:value=role>
                    {TEAM_ROLES
                        .into_iter()
                        .map(|role| view! { <option value=role.as_str()>{role.label()}</option> })
                        .collect_view()}
                </select>
                <button type="submit" class="button">"Add to care team"</button>
            </form>
        </section>
        {move || {
            team()
                .map(|members| {
                    view! {
                        <section class="panel" aria-labelledby="members-heading">
                            <h2 id="members-heading">"Members"</h2>
                            <ul class="item-list" aria-label="Care team">
                                {members
                                    .into_iter()
                                    .map(|member| {
                                        let id = member.id.clone();
                                        view! {
                                            <li class="item">
                                                <p>{member.provider_name} " · " {member.role.label()}</p>
                                                <p class="hint">
                                                    {member.starts_at}
                                                    {member.ends_at.map(|end| format!(" until {end}"))}
                                                </p>
                                                <button
                                                    type="button"
                                                    class="button button--danger"
                                                    hidden=!member.active
                                                    on:click=move |_| {
                                                        change.dispatch(Change::End(patient.get_untracked(), id.clone()));
                                                    }
                                                >
                                                    "End membership now"
                                                </button>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })
        }}
    }
}
