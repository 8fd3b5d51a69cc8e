//! The messaging pages: `/patient/messages` for a mother and `/clinician/messages` for her care
//! team. Each shows the unread total, the thread list with unread badges and a form for a new
//! conversation, or, with `?thread=<id>`, one thread with its reply form. A clinician narrows
//! the list to one patient with `?patient=<id>`. New messages appear without a reload: the page
//! listens to the user's care events. Subjects and messages are plain text: Leptos
//! escapes them like every text node, and no view here sets inner HTML.

mod compose;
mod threads;

use compose::NewConversation;
use threads::{ThreadList, ThreadPanel};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::dashboard::live::subscribe_care_events;
use crate::events::CareEventKind;
use crate::identity::Role;
use crate::identity::pages::{AccountResource, SignInRequired};
use crate::ids::{PatientId, ThreadId};
use crate::messaging::unread_message_count;

/// The people a messaging page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Patient,
    Clinician,
}

impl Audience {
    fn path(self) -> &'static str {
        match self {
            Audience::Patient => "/patient/messages",
            Audience::Clinician => "/clinician/messages",
        }
    }

    fn admits(self, roles: &[Role]) -> bool {
        match self {
            Audience::Patient => roles.contains(&Role::Patient),
            Audience::Clinician => roles.iter().any(|role| role.may_invite_patients()),
        }
    }

    /// Returns the address of a thread on this page, keeping the clinician's patient filter.
    fn thread_href(self, thread: ThreadId, patient: Option<PatientId>) -> String {
        match patient {
            Some(patient) => format!("{}?patient={patient}&thread={thread}", self.path()),
            None => format!("{}?thread={thread}", self.path()),
        }
    }

    /// Returns the address of the thread list, keeping the clinician's patient filter.
    fn list_href(self, patient: Option<PatientId>) -> String {
        match patient {
            Some(patient) => format!("{}?patient={patient}", self.path()),
            None => self.path().to_owned(),
        }
    }
}

/// State that a page's parts share: the audience, the thread and patient in its address, and
/// two counters. After each read or write the unread total and the list load again, and after
/// each message that arrives in the open thread the thread loads again.
#[derive(Clone, Copy)]
struct PageState {
    audience: Audience,
    thread: Memo<Option<ThreadId>>,
    patient: Memo<Option<PatientId>>,
    changes: RwSignal<u32>,
    arrivals: RwSignal<u32>,
}

impl PageState {
    fn changed(self) {
        self.changes.update(|count| *count = count.wrapping_add(1));
    }
}

/// Renders a mother's messages with her care team.
#[component]
pub fn PatientMessagesPage() -> impl IntoView {
    view! { <MessagesPage audience=Audience::Patient /> }
}

/// Renders a clinician's messages with her patients and their care teams.
#[component]
pub fn ClinicianMessagesPage() -> impl IntoView {
    view! { <MessagesPage audience=Audience::Clinician /> }
}

#[component]
fn MessagesPage(audience: Audience) -> impl IntoView {
    let query = use_query_map();
    let thread = Memo::new(move |_| {
        query
            .with(|query| query.get("thread"))
            .and_then(|id| id.trim().parse::<ThreadId>().ok())
    });
    let patient = Memo::new(move |_| match audience {
        Audience::Patient => None,
        Audience::Clinician => query
            .with(|query| query.get("patient"))
            .and_then(|id| id.trim().parse::<PatientId>().ok()),
    });
    let state = PageState {
        audience,
        thread,
        patient,
        changes: RwSignal::new(0),
        arrivals: RwSignal::new(0),
    };
    // A message event names its thread. Any of them changes the unread total and the list;
    // one in the open thread also loads that thread again.
    subscribe_care_events(move |event| {
        if event.kind != CareEventKind::Message {
            return;
        }
        let open = state.thread.get_untracked().map(|thread| thread.0);
        if open.is_some() && open == event.subject_id {
            state
                .arrivals
                .update(|count| *count = count.wrapping_add(1));
        }
        state.changed();
    });
    view! {
        <Title text="Messages" />
        <h1>"Messages"</h1>
        <AudienceOnly audience>
            <UnreadTotal state />
            {move || match state.thread.get() {
                Some(id) => view! { <ThreadPanel id state /> }.into_any(),
                None => view! { <Overview state /> }.into_any(),
            }}
        </AudienceOnly>
    }
}

/// Shows `children` to a signed-in user whom the page is for, and a notice to anyone else.
#[component]
fn AudienceOnly(audience: Audience, children: ChildrenFn) -> impl IntoView {
    let account = AccountResource::get();
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                account
                    .0
                    .get()
                    .map(|result| match result {
                        Ok(Some(account)) if audience.admits(&account.roles) => {
                            children().into_any()
                        }
                        Ok(Some(_)) => {
                            view! { <p class="notice">"This page is not part of your role."</p> }
                                .into_any()
                        }
                        _ => view! { <SignInRequired /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// Shows the number of unread messages in all of the user's threads.
#[component]
fn UnreadTotal(state: PageState) -> impl IntoView {
    let total = Resource::new(move || state.changes.get(), |_| unread_message_count());
    let text = move || {
        total.get().map(|result| match result {
            Ok(0) => "You have no unread messages.".to_owned(),
            Ok(1) => "You have 1 unread message.".to_owned(),
            Ok(count) => format!("You have {count} unread messages."),
            Err(failure) => failure.message,
        })
    };
    view! {
        <Transition fallback=|| ()>
            <p class="unread-total" role="status" data-testid="unread-total">
                {text}
            </p>
        </Transition>
    }
}

/// Shows "N unread" after a link to the messages when the signed-in user has unread messages.
/// Render it only for a signed-in user, because the count needs one.
#[component]
pub fn UnreadBadge() -> impl IntoView {
    let total = Resource::new(|| (), |_| unread_message_count());
    let badge = move || {
        total.get().and_then(Result::ok).filter(|count| *count > 0).map(|count| {
            view! { <span class="badge" data-testid="messages-badge">{format!("{count} unread")}</span> }
        })
    };
    view! { <Transition fallback=|| ()>{badge}</Transition> }
}

/// Shows the thread list and a new conversation, with the clinician's patient filter.
#[component]
fn Overview(state: PageState) -> impl IntoView {
    let filter = (state.audience == Audience::Clinician).then(|| view! { <PatientFilter state /> });
    view! {
        {filter}
        <ThreadList state />
        {move || match (state.audience, state.patient.get()) {
            (Audience::Clinician, None) => view! {
                <p class="hint">"To start a conversation, show a patient's messages first."</p>
            }
                .into_any(),
            (_, patient) => view! { <NewConversation state patient /> }.into_any(),
        }}
    }
}

/// Renders a form that narrows the clinician's list to one patient by her record id.
#[component]
fn PatientFilter(state: PageState) -> impl IntoView {
    let current = move || {
        state
            .patient
            .get()
            .map(|id| id.to_string())
            .unwrap_or_default()
    };
    view! {
        <form class="panel inline-form" method="get" action=state.audience.path()>
            <label for="messages-patient">"Patient record id"</label>
            <input id="messages-patient" name="patient" autocomplete="off" prop:value=current />
            <button type="submit" class="button">"Show"</button>
            {move || state.patient.get().map(|_| view! {
                <a href=state.audience.path()>"All my conversations"</a>
            })}
        </form>
    }
}

/// Formats an RFC 3339 instant as "2026-12-04 21:08 UTC".
fn short_time(instant: &str) -> String {
    let date = instant.get(..10).unwrap_or(instant);
    match instant.get(11..16) {
        Some(time) => format!("{date} {time} UTC"),
        None => date.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_read_as_date_and_minute() {
        assert_eq!(short_time("2026-12-04T21:08:08Z"), "2026-12-04 21:08 UTC");
        assert_eq!(short_time("2026-12-04"), "2026-12-04");
    }

    #[test]
    fn thread_links_keep_the_patient_filter() {
        let thread = ThreadId(uuid::Uuid::nil());
        let patient = PatientId(uuid::Uuid::max());
        let href = Audience::Clinician.thread_href(thread, Some(patient));
        assert!(href.starts_with("/clinician/messages?patient=ffffffff"));
        assert!(href.ends_with("&thread=00000000-0000-0000-0000-000000000000"));
        assert_eq!(
            Audience::Patient.list_href(None),
            "/patient/messages".to_owned()
        );
    }
}
