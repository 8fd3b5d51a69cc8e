//! The form for a new conversation: a topic, a subject, the care-team members to write to and
//! the first message.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::PageState;
use crate::access::DataCategory;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::{PatientId, UserId};
use crate::messaging::{
    Contact, MAX_BODY_CHARS, MAX_SUBJECT_CHARS, TOPICS, body_problem, message_contacts,
    start_message_thread, subject_problem,
};

/// A new conversation ready to send.
#[derive(Clone)]
struct Draft {
    patient: Option<PatientId>,
    topic: DataCategory,
    subject: String,
    body: String,
    members: Vec<UserId>,
}

impl Draft {
    fn problem(&self) -> Option<String> {
        subject_problem(&self.subject).or_else(|| body_problem(&self.body))
    }
}

/// Starts a conversation about the signed-in patient, or about `patient` for a clinician.
#[component]
pub fn NewConversation(state: PageState, patient: Option<PatientId>) -> impl IntoView {
    let contacts = Resource::new(move || patient, message_contacts);
    let topic = RwSignal::new(DataCategory::Maternal);
    let subject = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let members = RwSignal::new(Vec::<UserId>::new());
    let error = RwSignal::new(None::<String>);
    let start = browser_action(|draft: &Draft| {
        let draft = draft.clone();
        start_message_thread(
            draft.patient,
            draft.topic,
            draft.subject,
            draft.body,
            draft.members,
        )
    });
    let navigate = use_navigate();
    Effect::new(move |_| match start.value().get() {
        Some(Ok(thread)) => {
            error.set(None);
            state.changed();
            navigate(
                &state.audience.thread_href(thread, patient),
                Default::default(),
            );
        }
        Some(Err(failure)) => error.set(Some(failure.message)),
        None => {}
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let chosen_topic = topic.get_untracked();
        let draft = Draft {
            patient,
            topic: chosen_topic,
            subject: subject.get_untracked(),
            body: body.get_untracked(),
            members: chosen_for(chosen_topic, members.get_untracked(), contacts),
        };
        match draft.problem() {
            Some(problem) => error.set(Some(problem)),
            None => {
                start.dispatch(draft);
            }
        }
    };
    view! {
        <form class="panel stack" aria-labelledby="new-thread-heading" on:submit=submit>
            <h2 id="new-thread-heading">"New conversation"</h2>
            <TopicField topic />
            <label for="new-thread-subject">"Subject"</label>
            <input
                id="new-thread-subject"
                maxlength=MAX_SUBJECT_CHARS.to_string()
                autocomplete="off"
                bind:value=subject
            />
            <Transition fallback=|| view! { <p>"Loading your care team…"</p> }>
                {move || contacts.get().map(|result| match result {
                    Ok(list) => view! { <MemberChoices list topic members /> }.into_any(),
                    Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                })}
            </Transition>
            <label for="new-thread-body">"Message"</label>
            <textarea
                id="new-thread-body"
                rows="5"
                maxlength=MAX_BODY_CHARS.to_string()
                bind:value=body
            ></textarea>
            <StatusMessage error notice=Signal::derive(|| None::<String>) />
            <div class="action-bar">
                <button type="submit" class="button button--wide" disabled=move || start.pending().get()>
                    "Send"
                </button>
            </div>
        </form>
    }
}

/// Keeps the chosen members whose roles may read `topic`, since the others are disabled.
fn chosen_for(
    topic: DataCategory,
    chosen: Vec<UserId>,
    contacts: Resource<Result<Vec<Contact>, crate::error::AppError>>,
) -> Vec<UserId> {
    let readers: Vec<UserId> = contacts
        .get_untracked()
        .and_then(Result::ok)
        .unwrap_or_default()
        .into_iter()
        .filter(|contact| contact.topics.contains(&topic))
        .map(|contact| contact.user_id)
        .collect();
    chosen
        .into_iter()
        .filter(|user| readers.contains(user))
        .collect()
}

#[component]
fn TopicField(topic: RwSignal<DataCategory>) -> impl IntoView {
    view! {
        <label for="new-thread-topic">"Topic"</label>
        <select
            id="new-thread-topic"
            on:change=move |event| {
                let value = event_target_value(&event);
                if let Some(chosen) = TOPICS.into_iter().find(|topic| topic.as_str() == value) {
                    topic.set(chosen);
                }
            }
        >
            {TOPICS
                .into_iter()
                .map(|choice| {
                    let chosen = move || topic.get() == choice;
                    view! { <option value=choice.as_str() selected=chosen>{choice.label()}</option> }
                })
                .collect_view()}
        </select>
    }
}

/// Renders a checkbox for each care-team member. Members whose roles may not read the topic are
/// disabled, with the reason.
#[component]
fn MemberChoices(
    list: Vec<Contact>,
    topic: RwSignal<DataCategory>,
    members: RwSignal<Vec<UserId>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>"Nobody is on the care team yet."</p> }.into_any();
    }
    view! {
        <fieldset class="choices member-choices">
            <legend>"Send to"</legend>
            {list
                .into_iter()
                .map(|contact| view! { <MemberChoice contact topic members /> })
                .collect_view()}
        </fieldset>
    }
    .into_any()
}

#[component]
fn MemberChoice(
    contact: Contact,
    topic: RwSignal<DataCategory>,
    members: RwSignal<Vec<UserId>>,
) -> impl IntoView {
    let user = contact.user_id;
    let topics = contact.topics.clone();
    let readable = move || topics.contains(&topic.get());
    let toggle = move |event: leptos::ev::Event| {
        let checked = event_target_checked(&event);
        members.update(|chosen| {
            chosen.retain(|member| *member != user);
            if checked {
                chosen.push(user);
            }
        });
    };
    let readable_note = readable.clone();
    view! {
        <label class="choice">
            <input
                type="checkbox"
                prop:checked=move || members.with(|chosen| chosen.contains(&user))
                prop:disabled=move || !readable()
                on:change=toggle
            />
            <span>
                {format!("{} ({})", contact.name, contact.roles)}
                {move || (!readable_note()).then(|| view! {
                    <span class="hint">" cannot read this topic"</span>
                })}
            </span>
        </label>
    }
}
