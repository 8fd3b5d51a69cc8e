//! The admin page for the clinic's users.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{AccountResource, SignInRequired, StatusMessage, browser_action};
use crate::error::AppError;
use crate::identity::{
    IssuedLink, Role, SecurityAlert, UserSummary, change_roles, deactivate_user, end_user_sessions,
    flows, invite_staff, list_security_alerts, list_users, reissue_enrollment,
};

/// Staff roles an admin can grant; patients are invited by their clinicians.
const STAFF_ROLES: [Role; 8] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
    Role::CareCoordinator,
    Role::Researcher,
    Role::ComplianceOfficer,
    Role::Admin,
];

/// Users of the clinic: invite staff, change roles, deactivate, end sessions, reissue links.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let account = AccountResource::get();
    // Created here rather than inside the Suspense closure, so that server rendering runs it in
    // the request's context.
    let users = Resource::new(|| (), |_| list_users());
    let alerts = Resource::new(|| (), |_| list_security_alerts());
    view! {
        <Title text="Users" />
        <h1>"Users"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                account
                    .0
                    .get()
                    .map(|result| match result {
                        Ok(Some(account)) if account.roles.contains(&Role::Admin) => {
                            view! {
                                <SecurityAlerts alerts />
                                <UserAdministration users />
                            }
                                .into_any()
                        }
                        Ok(Some(_)) => {
                            view! { <p class="notice">"Only admins can manage users."</p> }.into_any()
                        }
                        _ => view! { <SignInRequired /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// Alerts an admin must act on; hidden when there are none.
#[component]
fn SecurityAlerts(alerts: Resource<Result<Vec<SecurityAlert>, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                alerts
                    .get()
                    .and_then(Result::ok)
                    .filter(|list| !list.is_empty())
                    .map(|list| {
                        view! {
                            <section class="panel alerts" aria-labelledby="alerts-heading">
                                <h2 id="alerts-heading">"Security alerts"</h2>
                                <ul class="item-list">
                                    {list
                                        .into_iter()
                                        .map(|alert| {
                                            view! {
                                                <li class="item" data-kind=alert.kind>
                                                    <p>{alert.message}</p>
                                                    <p class="hint">{alert.occurred_at}</p>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn UserAdministration(users: Resource<Result<Vec<UserSummary>, AppError>>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let link = RwSignal::new(None::<IssuedLink>);
    let report = move |result: Result<String, String>| {
        match result {
            Ok(message) => {
                error.set(None);
                notice.set(Some(message));
            }
            Err(message) => {
                notice.set(None);
                error.set(Some(message));
            }
        }
        users.refetch();
    };

    view! {
        <StatusMessage error notice />
        <IssuedLinkBox link />
        <InviteStaffForm report link />
        <section class="panel" aria-labelledby="users-heading">
            <h2 id="users-heading">"People in this clinic"</h2>
            <Suspense fallback=|| view! { <p>"Loading users…"</p> }>
                {move || {
                    users
                        .get()
                        .map(|result| match result {
                            Ok(list) => {
                                view! {
                                    <ul class="item-list" aria-label="Users">
                                        {list
                                            .into_iter()
                                            .map(|user| view! { <UserItem user report link /> })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// Shows the enrollment link just created, once, so the admin can pass it on.
#[component]
fn IssuedLinkBox(link: RwSignal<Option<IssuedLink>>) -> impl IntoView {
    view! {
        <section class="panel issued-link" aria-live="polite" hidden=move || link.get().is_none()>
            <h2>"Enrollment link"</h2>
            <p>
                "Send this link to the person privately. It works once, until "
                {move || link.get().map(|issued| issued.expires_at)} "."
            </p>
            <p>
                <code data-testid="issued-link">{move || link.get().map(|issued| issued.link)}</code>
            </p>
        </section>
    }
}

#[component]
fn InviteStaffForm(
    report: impl Fn(Result<String, String>) + Copy + 'static,
    link: RwSignal<Option<IssuedLink>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let roles = RwSignal::new(Vec::<Role>::new());
    let invite = browser_action(|(name, email, roles): &(String, String, Vec<Role>)| {
        let (name, email, roles) = (name.clone(), email.clone(), roles.clone());
        async move {
            flows::with_step_up(|| invite_staff(name.clone(), email.clone(), roles.clone())).await
        }
    });
    Effect::new(move |_| {
        if let Some(result) = invite.value().get() {
            if let Ok(issued) = &result {
                link.set(Some(issued.clone()));
                name.set(String::new());
                email.set(String::new());
                roles.set(Vec::new());
            }
            report(result.map(|_| "Invitation created.".to_owned()));
        }
    });

    view! {
        <section class="panel" aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite a staff member"</h2>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    invite
                        .dispatch((name.get_untracked(), email.get_untracked(), roles.get_untracked()));
                }
            >
                <label for="invite-name">"Name"</label>
                <input id="invite-name" required maxlength="200" bind:value=name />
                <label for="invite-email">"Email"</label>
                <input id="invite-email" type="email" required bind:value=email />
                <RoleCheckboxes prefix="invite" selected=roles />
                <button type="submit" class="button">"Create invitation"</button>
            </form>
        </section>
    }
}

#[component]
fn RoleCheckboxes(#[prop(into)] prefix: String, selected: RwSignal<Vec<Role>>) -> impl IntoView {
    view! {
        <fieldset class="role-choices">
            <legend>"Roles"</legend>
            {STAFF_ROLES
                .into_iter()
                .map(|role| {
                    let id = format!("{prefix}-role-{}", role.as_str());
                    view! {
                        <label for=id.clone() class="checkbox">
                            <input
                                id=id.clone()
                                type="checkbox"
                                prop:checked=move || selected.get().contains(&role)
                                on:change=move |event| {
                                    let checked = event_target_checked(&event);
                                    selected
                                        .update(|roles| {
                                            roles.retain(|existing| *existing != role);
                                            if checked {
                                                roles.push(role);
                                            }
                                        });
                                }
                            />
                            {role.label()}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

#[component]
fn UserItem(
    user: UserSummary,
    report: impl Fn(Result<String, String>) + Copy + 'static,
    link: RwSignal<Option<IssuedLink>>,
) -> impl IntoView {
    let user_id = user.id;
    let roles = RwSignal::new(user.roles.clone());
    let is_patient = user.roles.contains(&Role::Patient);
    let deactivated = user.status == "deactivated";

    let save_roles = browser_action(move |roles: &Vec<Role>| {
        let roles = roles.clone();
        async move { flows::with_step_up(|| change_roles(user_id, roles.clone())).await }
    });
    let deactivate = browser_action(move |_: &()| async move {
        flows::with_step_up(|| deactivate_user(user_id)).await
    });
    let end_sessions = browser_action(move |_: &()| async move {
        end_user_sessions(user_id)
            .await
            .map_err(|error| error.message)
    });
    let reissue = browser_action(move |_: &()| async move {
        flows::with_step_up(|| reissue_enrollment(user_id)).await
    });
    Effect::new(move |_| {
        if let Some(result) = save_roles.value().get() {
            report(result.map(|()| "Roles saved. The user's sessions were ended.".to_owned()));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = deactivate.value().get() {
            report(result.map(|()| "User deactivated and signed out everywhere.".to_owned()));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = end_sessions.value().get() {
            report(result.map(|count| format!("{count} session(s) ended.")));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = reissue.value().get() {
            if let Ok(issued) = &result {
                link.set(Some(issued.clone()));
            }
            report(result.map(|_| "New enrollment link created.".to_owned()));
        }
    });

    let role_labels = user
        .roles
        .iter()
        .map(|role| role.label())
        .collect::<Vec<_>>()
        .join(", ");
    let prefix = format!("user-{}", user.id);
    view! {
        <li class="item" data-testid="user-item">
            <p>
                <strong>{user.display_name.clone()}</strong>
                {format!(" · {} · {} · {}", user.email, role_labels, user.status)}
            </p>
            <details hidden=is_patient || deactivated>
                <summary>"Change roles"</summary>
                <RoleCheckboxes prefix selected=roles />
                <button type="button" class="button" on:click=move |_| { save_roles.dispatch(roles.get_untracked()); }>
                    "Save roles"
                </button>
            </details>
            <div class="button-row" hidden=deactivated>
                <button type="button" class="button button--quiet" on:click=move |_| { reissue.dispatch(()); }>
                    "New enrollment link"
                </button>
                <button type="button" class="button button--quiet" on:click=move |_| { end_sessions.dispatch(()); }>
                    "End sessions"
                </button>
                <button type="button" class="button button--danger" on:click=move |_| { deactivate.dispatch(()); }>
                    "Deactivate"
                </button>
            </div>
        </li>
    }
}
