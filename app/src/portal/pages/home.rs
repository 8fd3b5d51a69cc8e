//! The portal home: what waits for the mother, her care team, her next appointments, the
//! guidance for her week and links to every part of the portal.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{PatientOnly, home_if_patient, short_time};
use crate::messaging::pages::UnreadBadge;
use crate::pages::Area;
use crate::portal::education::{GENERAL_NOTE, guidance_for_week};
use crate::portal::{AwaitingItem, CareTeamContact, PortalHome, UpcomingAppointment};

/// Areas of the portal, with their paths.
const LINKS: [(&str, &str); 9] = [
    ("/patient/messages", "Messages"),
    ("/patient/check-in", "Mood check-in"),
    ("/patient/feeding", "Feeding log"),
    ("/patient/growth", "Baby's growth"),
    ("/patient/vitals", "Blood pressure and temperature"),
    ("/patient/learn", "Guidance for your week"),
    ("/patient/consents", "My consents"),
    ("/patient/access-history", "Who accessed my record"),
    ("/account/security", "Your passkeys and sessions"),
];

/// Renders the signed-in patient's home page.
#[component]
pub fn PortalHomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| home_if_patient());
    view! {
        <Title text="My care" />
        <h1 id="area-heading">"My care"</h1>
        <p>{Area::Patient.summary()}</p>
        <PatientOnly>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    home.get()
                        .map(|result| match result {
                            Ok(Some(home)) => view! { <HomeSections home /> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(failure) => {
                                view! { <p class="form-error">{failure.message}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </PatientOnly>
    }
}

#[component]
fn HomeSections(home: PortalHome) -> impl IntoView {
    view! {
        <Awaiting items=home.awaiting />
        <nav class="panel" aria-labelledby="portal-links-heading">
            <h2 id="portal-links-heading">"Your care"</h2>
            <ul class="tile-list">
                {LINKS
                    .into_iter()
                    .map(|(href, label)| {
                        let badge = (href == "/patient/messages").then(|| view! { <UnreadBadge /> });
                        view! { <li><a class="tile" href=href>{label}{badge}</a></li> }
                    })
                    .collect_view()}
            </ul>
        </nav>
        {home.weeks_postpartum.map(|week| view! { <ThisWeek week /> })}
        <Appointments appointments=home.appointments />
        <CareTeam members=home.care_team />
    }
}

#[component]
fn Awaiting(items: Vec<AwaitingItem>) -> impl IntoView {
    let content = if items.is_empty() {
        view! { <p>"Nothing is waiting for you. Thank you for keeping up."</p> }.into_any()
    } else {
        view! {
            <ul class="item-list" aria-label="Waiting for you">
                {items.into_iter().map(|item| view! { <AwaitingEntry item /> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="awaiting-heading" data-testid="awaiting">
            <h2 id="awaiting-heading">"Waiting for you"</h2>
            {content}
        </section>
    }
}

#[component]
fn AwaitingEntry(item: AwaitingItem) -> impl IntoView {
    let (text, href, action) = match item {
        AwaitingItem::AssignedScreening {
            instrument,
            assigned_by,
        } => (
            format!("{assigned_by} asked you to complete the {instrument} questionnaire."),
            "/patient/check-in",
            "Start",
        ),
        AwaitingItem::EpdsDue => (
            "It is time for your mood check-in. It takes about five minutes.".to_owned(),
            "/patient/check-in",
            "Check in",
        ),
        AwaitingItem::AddInfant => (
            "Add your baby's details to use the feeding log and growth charts.".to_owned(),
            "/patient/growth",
            "Add your baby",
        ),
    };
    view! {
        <li class="item">
            <p>{text}</p>
            <a class="button" href=href>{action}</a>
        </li>
    }
}

#[component]
fn ThisWeek(week: u32) -> impl IntoView {
    let guidance = guidance_for_week(week);
    view! {
        <section class="panel" aria-labelledby="week-heading">
            <h2 id="week-heading">{format!("Week {week}: {}", guidance.title)}</h2>
            <ul>
                {guidance.points.iter().map(|point| view! { <li>{*point}</li> }).collect_view()}
            </ul>
            <p class="hint">{GENERAL_NOTE}</p>
            <p><a href="/patient/learn">"Guidance for every week"</a></p>
        </section>
    }
}

#[component]
fn Appointments(appointments: Vec<UpcomingAppointment>) -> impl IntoView {
    let content = if appointments.is_empty() {
        view! { <p>"You have no appointments booked."</p> }.into_any()
    } else {
        view! {
            <ul class="item-list" aria-label="Next appointments">
                {appointments
                    .into_iter()
                    .map(|appointment| {
                        view! {
                            <li class="item">
                                <p>
                                    <strong>{short_time(&appointment.starts_at)}</strong>
                                    " · " {appointment.purpose} " with " {appointment.clinician_name}
                                </p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
            .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="appointments-heading">
            <h2 id="appointments-heading">"Next appointments"</h2>
            {content}
        </section>
    }
}

#[component]
fn CareTeam(members: Vec<CareTeamContact>) -> impl IntoView {
    let content = if members.is_empty() {
        view! { <p>"Your care team has not been set up yet."</p> }.into_any()
    } else {
        view! {
            <ul class="item-list" aria-label="Care team">
                {members
                    .into_iter()
                    .map(|member| {
                        view! {
                            <li class="item">
                                <p><strong>{member.name}</strong> " · " {member.role.label()}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="team-heading">
            <h2 id="team-heading">"Your care team"</h2>
            {content}
        </section>
    }
}
