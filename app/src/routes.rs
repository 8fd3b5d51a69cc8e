//! The HTML document and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::access::pages::{
    AccessHistoryPage, CareTeamPage, CompliancePage, EmergencyAccessPage, PermissionsPage,
};
use crate::chart::pages::ChartPage;
use crate::consent::pages::{AdminConsentsPage, PatientConsentsPage};
use crate::dashboard::pages::DashboardPage;
use crate::identity::pages::{
    AccountResource, AdminUsersPage, EnrollPage, SecurityPage, SignInPage,
};
use crate::layout::AppShell;
use crate::messaging::pages::{ClinicianMessagesPage, PatientMessagesPage};
use crate::pages::{Area, AreaPage, HomePage, NotFoundPage};
use crate::portal::pages::{
    CheckInPage, FeedingPage, GrowthPage, LearnPage, PortalHomePage, VitalsPage,
};
use crate::preferences::DisplayPreferences;
use crate::protocols::pages::ProtocolSettingsPage;

/// Renders the whole HTML document on the server. The browser only hydrates what `App` renders.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::security::provide_request_nonce();
    let preferences = DisplayPreferences::from_request();

    view! {
        <!DOCTYPE html>
        <html lang="en" class=preferences.html_class()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Root component: page metadata, the application shell and the route table.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let preferences = DisplayPreferences::from_request();
    provide_context(RwSignal::new(preferences));
    AccountResource::provide();

    view! {
        <Stylesheet id="nurture-style" href=format!("/pkg/{}.css", crate::BUNDLE_NAME) />
        <Title formatter=|page: String| format!("{page} · Nurture") />
        <Router>
            <AppShell>
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=StaticSegment("sign-in") view=SignInPage />
                    <Route path=StaticSegment("enroll") view=EnrollPage />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("security"))
                        view=SecurityPage
                    />
                    <Route path=(StaticSegment("admin"), StaticSegment("users")) view=AdminUsersPage />
                    // The chart is rendered in full before the response is sent, so that the
                    // page opened from a link already contains the record.
                    <Route
                        path=(StaticSegment("clinician"), StaticSegment("chart"))
                        view=ChartPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("clinician"), StaticSegment("emergency"))
                        view=EmergencyAccessPage
                    />
                    <Route
                        path=(StaticSegment("compliance"), StaticSegment("emergency"))
                        view=CompliancePage
                    />
                    <Route path=(StaticSegment("admin"), StaticSegment("care-team")) view=CareTeamPage />
                    <Route
                        path=(StaticSegment("admin"), StaticSegment("permissions"))
                        view=PermissionsPage
                    />
                    <Route
                        path=(StaticSegment("admin"), StaticSegment("protocols"))
                        view=ProtocolSettingsPage
                    />
                    <Route
                        path=(StaticSegment("patient"), StaticSegment("access-history"))
                        view=AccessHistoryPage
                    />
                    <Route
                        path=(StaticSegment("admin"), StaticSegment("consents"))
                        view=AdminConsentsPage
                    />
                    <Route
                        path=(StaticSegment("patient"), StaticSegment("consents"))
                        view=PatientConsentsPage
                    />
                    <Route path=StaticSegment("patient") view=PortalHomePage />
                    <Route
                        path=(StaticSegment("patient"), StaticSegment("check-in"))
                        view=CheckInPage
                    />
                    <Route path=(StaticSegment("patient"), StaticSegment("vitals")) view=VitalsPage />
                    <Route path=(StaticSegment("patient"), StaticSegment("feeding")) view=FeedingPage />
                    <Route path=(StaticSegment("patient"), StaticSegment("growth")) view=GrowthPage />
                    <Route path=(StaticSegment("patient"), StaticSegment("learn")) view=LearnPage />
                    <Route
                        path=(StaticSegment("patient"), StaticSegment("messages"))
                        view=PatientMessagesPage
                    />
                    <Route
                        path=(StaticSegment("clinician"), StaticSegment("messages"))
                        view=ClinicianMessagesPage
                    />
                    <Route path=StaticSegment("clinician") view=DashboardPage />
                    <Route
                        path=StaticSegment("admin")
                        view=|| view! { <AreaPage area=Area::Admin /> }
                    />
                    <Route
                        path=StaticSegment("compliance")
                        view=|| view! { <AreaPage area=Area::Compliance /> }
                    />
                    <Route
                        path=StaticSegment("research")
                        view=|| view! { <AreaPage area=Area::Research /> }
                    />
                </Routes>
            </AppShell>
        </Router>
    }
}
