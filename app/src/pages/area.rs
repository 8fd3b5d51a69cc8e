//! The five areas of the product and their entry pages.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::identity::pages::{AccountResource, SignInRequired};

/// One of the product's areas, each for a group of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Patient,
    Clinician,
    Admin,
    Compliance,
    Research,
}

impl Area {
    pub const ALL: [Area; 5] = [
        Area::Patient,
        Area::Clinician,
        Area::Admin,
        Area::Compliance,
        Area::Research,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Area::Patient => "/patient",
            Area::Clinician => "/clinician",
            Area::Admin => "/admin",
            Area::Compliance => "/compliance",
            Area::Research => "/research",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Area::Patient => "My care",
            Area::Clinician => "Clinician",
            Area::Admin => "Admin",
            Area::Compliance => "Compliance",
            Area::Research => "Research",
        }
    }

    /// Returns who works in this area and what they do there.
    pub fn summary(self) -> &'static str {
        match self {
            Area::Patient => {
                "For mothers: your care plan, appointments, mood check-ins, feeding and growth \
                 logs, messages with your care team, your consents, and who has seen your record."
            }
            Area::Clinician => {
                "For midwives, GPs, lactation consultants, mental health specialists and care \
                 coordinators: your patients, their alerts and messages, and the parts of the \
                 record your role may see."
            }
            Area::Admin => {
                "For clinic administrators: users, roles, care teams, consent templates and \
                 clinic settings. Clinical content is not shown here."
            }
            Area::Compliance => {
                "For compliance officers: the access audit trail, emergency-access reviews and \
                 compliance reports, without clinical content."
            }
            Area::Research => {
                "For researchers: anonymized cohorts of patients who consented to research. \
                 No identified record is ever shown here."
            }
        }
    }
}

/// Entry page of an area other than the clinician's, whose entry page is the dashboard
/// ([`crate::dashboard::pages::DashboardPage`]). Every area requires a signed-in user with a role that may use it.
#[component]
pub fn AreaPage(area: Area) -> impl IntoView {
    let account = AccountResource::get();
    let signed_in = move || matches!(account.0.get(), Some(Ok(Some(_))));
    view! {
        <Title text=area.title() />
        <section class="panel" aria-labelledby="area-heading">
            <h1 id="area-heading">{area.title()}</h1>
            <p>{area.summary()}</p>
            <Transition fallback=|| ()>
                <Show when=signed_in fallback=|| view! { <SignInRequired /> }>
                    <AreaLinks area />
                </Show>
            </Transition>
        </section>
    }
}

/// Links a signed-in user can open from an area's entry page.
#[component]
fn AreaLinks(area: Area) -> impl IntoView {
    view! {
        <ul class="link-list">
            {(area == Area::Admin).then(|| view! { <li><a href="/admin/users">"Users and roles"</a></li> })}
            {(area == Area::Admin).then(|| view! { <li><a href="/admin/consents">"Consent templates"</a></li> })}
            {(area == Area::Patient).then(|| view! { <li><a href="/patient/consents">"My consents"</a></li> })}
            {(area == Area::Admin).then(|| view! { <li><a href="/admin/care-team">"Care teams"</a></li> })}
            {(area == Area::Admin).then(|| view! { <li><a href="/admin/permissions">"Permissions"</a></li> })}
            {(area == Area::Admin).then(|| view! { <li><a href="/admin/protocols">"Care protocol thresholds"</a></li> })}
            {(area == Area::Compliance).then(|| view! { <li><a href="/compliance/emergency">"Emergency access oversight"</a></li> })}
            {(area == Area::Patient).then(|| view! { <li><a href="/patient/access-history">"Who accessed my record"</a></li> })}
            <li>
                <a href="/account/security">"Your passkeys and sessions"</a>
            </li>
        </ul>
    }
}
