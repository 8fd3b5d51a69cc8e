//! The thread list with unread badges, and one opened thread with its messages and reply form.

use leptos::prelude::*;

use super::{PageState, short_time};
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::ThreadId;
use crate::messaging::{
    MAX_BODY_CHARS, MessageView, Participant, ThreadSummary, ThreadView, body_problem,
    list_message_threads, read_message_thread, send_message,
};

/// Names the participants other than the signed-in user.
fn others(participants: &[Participant]) -> String {
    let names: Vec<&str> = participants
        .iter()
        .filter(|participant| !participant.is_me)
        .map(|participant| participant.name.as_str())
        .collect();
    if names.is_empty() {
        "Only you".to_owned()
    } else {
        format!("With {}", names.join(", "))
    }
}

/// Lists the user's threads, most recent first.
#[component]
pub fn ThreadList(state: PageState) -> impl IntoView {
    let threads = Resource::new(
        move || (state.patient.get(), state.changes.get()),
        |(patient, _)| list_message_threads(patient, None),
    );
    let content = move || {
        threads.get().map(|result| match result {
            Ok(threads) if threads.is_empty() => {
                view! { <p>"No conversations yet."</p> }.into_any()
            }
            Ok(threads) => view! {
                <ul class="thread-list" aria-label="Conversations">
                    {threads
                        .into_iter()
                        .map(|thread| view! { <ThreadEntry thread state /> })
                        .collect_view()}
                </ul>
            }
            .into_any(),
            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
        })
    };
    view! {
        <section class="panel" aria-labelledby="threads-heading">
            <h2 id="threads-heading">"Conversations"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>{content}</Transition>
        </section>
    }
}

#[component]
fn ThreadEntry(thread: ThreadSummary, state: PageState) -> impl IntoView {
    let href = state
        .audience
        .thread_href(thread.id, state.patient.get_untracked());
    let when = thread
        .last_message_at
        .as_deref()
        .map(short_time)
        .unwrap_or_default();
    let unread = thread.unread;
    let is_unread = unread > 0;
    let badge = (unread > 0).then(|| {
        let text = if unread == 1 {
            "1 unread".to_owned()
        } else {
            format!("{unread} unread")
        };
        view! { <span class="badge" data-testid="unread-badge">{text}</span> }
    });
    view! {
        <li class="thread-entry" class:thread-entry--unread=is_unread>
            <a href=href class="thread-entry__link">
                <span class="thread-entry__subject">{thread.subject}</span>
                {badge}
                <span class="thread-entry__people">{others(&thread.participants)}</span>
                <span class="hint">
                    {format!("{} · {} messages · {when}", thread.topic.label(), thread.message_count)}
                </span>
            </a>
        </li>
    }
}

/// Shows one thread: its subject, participants and messages, and a reply form. Loading it marks its
/// messages read, so the unread total and the list load again once it arrives. A message that
/// arrives in the thread loads it again. The reply form stays outside what is reloaded, so that
/// a reply being written keeps its text and focus.
#[component]
pub fn ThreadPanel(id: ThreadId, state: PageState) -> impl IntoView {
    let thread = Resource::new(
        move || (id, state.arrivals.get()),
        |(id, _)| read_message_thread(id),
    );
    let loaded = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = thread.get() {
            loaded.set(true);
            state.changed();
        }
    });
    let content = move || {
        thread.get().map(|result| match result {
            Ok(opened) => view! { <OpenedThread opened /> }.into_any(),
            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
        })
    };
    let back = state.audience.list_href(state.patient.get_untracked());
    view! {
        <p><a href=back>"Back to all conversations"</a></p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>{content}</Transition>
        <Show when=move || loaded.get()>
            <ReplyForm id state thread />
        </Show>
    }
}

#[component]
fn OpenedThread(opened: ThreadView) -> impl IntoView {
    view! {
        <article class="panel thread" aria-labelledby="thread-subject">
            <h2 id="thread-subject" class="thread__subject">{opened.subject}</h2>
            <p class="hint">
                {format!("{} · {}", opened.topic.label(), others(&opened.participants))}
            </p>
            <ol class="message-list" aria-label="Messages">
                {opened
                    .messages
                    .into_iter()
                    .map(|message| view! { <MessageEntry message /> })
                    .collect_view()}
            </ol>
        </article>
    }
}

#[component]
fn MessageEntry(message: MessageView) -> impl IntoView {
    let mine = message.from_me;
    let sender = if mine {
        "You".to_owned()
    } else {
        message.sender_name
    };
    view! {
        <li class="message" class:message--mine=mine>
            <p class="message__meta">
                <strong>{sender}</strong>
                {format!(" · {}", short_time(&message.sent_at))}
            </p>
            <p class="message__body">{message.body}</p>
        </li>
    }
}

#[component]
fn ReplyForm(
    id: ThreadId,
    state: PageState,
    thread: Resource<Result<ThreadView, crate::error::AppError>>,
) -> impl IntoView {
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let send = browser_action(move |text: &String| send_message(id, text.clone()));
    Effect::new(move |_| match send.value().get() {
        Some(Ok(_)) => {
            error.set(None);
            notice.set(Some("Sent.".to_owned()));
            body.set(String::new());
            thread.refetch();
            state.changed();
        }
        Some(Err(failure)) => {
            notice.set(None);
            error.set(Some(failure.message));
        }
        None => {}
    });
    view! {
        <form
            class="panel stack reply-form"
            on:submit=move |event| {
                event.prevent_default();
                let text = body.get_untracked();
                match body_problem(&text) {
                    Some(problem) => error.set(Some(problem)),
                    None => {
                        send.dispatch(text);
                    }
                }
            }
        >
            <label for="reply-body">"Your reply"</label>
            <textarea
                id="reply-body"
                rows="4"
                maxlength=MAX_BODY_CHARS.to_string()
                bind:value=body
            ></textarea>
            <StatusMessage error notice />
            <div class="action-bar">
                <button type="submit" class="button button--wide" disabled=move || send.pending().get()>
                    "Send reply"
                </button>
            </div>
        </form>
    }
}
