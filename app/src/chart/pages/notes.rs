//! Clinical notes, newest first, with the form that writes one, and the maternal entries.

use leptos::prelude::*;

use super::ChartContext;
use super::forms::{FormMessage, section_body, when, writable};
use super::load::Section;
use crate::access::DataCategory;
use crate::chart::{CategoryPermission, EntryView, NoteView, add_chart_note};
use crate::identity::pages::browser_action;

/// Maximum length of a note in the form, in characters.
const MAX_NOTE_CHARS: &str = "10000";

#[component]
pub fn NotesSection(
    entries: Section<Vec<EntryView>>,
    notes: Vec<(DataCategory, Section<Vec<NoteView>>)>,
    permissions: Vec<CategoryPermission>,
) -> AnyView {
    let writable = writable(&notes, &permissions);
    let entries = section_body(entries, |entries| {
        view! { <EntryList entries /> }.into_any()
    });
    let notes = notes
        .into_iter()
        .map(|(category, section)| {
            let body = section_body(section, |mut notes: Vec<NoteView>| {
                notes.sort_by(|left, right| right.written_at.cmp(&left.written_at));
                view! { <NoteList category notes /> }.into_any()
            });
            view! {
                <h3>{category.label()}</h3>
                {body}
            }
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="notes-heading" data-testid="chart-notes">
            <h2 id="notes-heading">"Notes"</h2>
            {(!writable.is_empty()).then(|| view! { <NoteForm categories=writable /> })}
            {notes}
        </section>
        <section class="panel" aria-labelledby="entries-heading">
            <h2 id="entries-heading">"Maternal entries"</h2>
            {entries}
        </section>
    }
    .into_any()
}

#[component]
fn NoteList(category: DataCategory, notes: Vec<NoteView>) -> AnyView {
    if notes.is_empty() {
        return view! { <p class="hint">"No notes."</p> }.into_any();
    }
    let label = format!("{} notes, newest first", category.label());
    view! {
        <ul class="item-list" aria-label=label>
            {notes
                .into_iter()
                .map(|note| {
                    view! {
                        <li class="item note" data-testid="note">
                            <p class="note-body">{note.body}</p>
                            <p class="hint">{when(&note.written_at)}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn EntryList(entries: Vec<EntryView>) -> AnyView {
    view! {
        <ul class="item-list" aria-label="Maternal entries">
            {entries
                .into_iter()
                .map(|entry| {
                    view! {
                        <li class="item">
                            <p>{entry.entry_type.replace('_', " ")} " · " {when(&entry.recorded_at)}</p>
                            <dl class="entry-fields">
                                {entry_fields(&entry.payload)
                                    .into_iter()
                                    .map(|(name, value)| view! { <dt>{name}</dt> <dd>{value}</dd> })
                                    .collect_view()}
                            </dl>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn NoteForm(categories: Vec<DataCategory>) -> AnyView {
    let context = expect_context::<ChartContext>();
    let category = RwSignal::new(categories[0]);
    let body = RwSignal::new(String::new());
    let save = browser_action(move |(category, text): &(DataCategory, String)| {
        let context = context.clone();
        let category = *category;
        let text = text.clone();
        async move {
            let purpose = context.purpose.clone();
            let result = add_chart_note(context.patient_id, category, text, purpose).await;
            if result.is_ok() {
                body.set(String::new());
            }
            context.finish("note", result);
        }
    });
    let choices = categories.clone();
    view! {
        <form
            class="stack"
            on:submit=move |event| {
                event.prevent_default();
                save.dispatch((category.get_untracked(), body.get_untracked()));
            }
        >
            <label for="note-category">"Category"</label>
            <select
                id="note-category"
                on:change=move |event| {
                    let chosen = event_target_value(&event);
                    if let Some(found) = choices.iter().find(|category| category.as_str() == chosen) {
                        category.set(*found);
                    }
                }
            >
                {categories
                    .iter()
                    .map(|category| {
                        view! { <option value=category.as_str()>{category.label()}</option> }
                    })
                    .collect_view()}
            </select>
            <label for="note-body">"Note"</label>
            <textarea
                id="note-body"
                required
                rows="4"
                maxlength=MAX_NOTE_CHARS
                bind:value=body
            ></textarea>
            <button type="submit" class="button">"Save note"</button>
        </form>
        <FormMessage key="note" />
    }
    .into_any()
}

/// Returns the fields of an entry's structured content as names and values to show, such as
/// ("Delivery type", "vaginal"), ordered by name. Content that is not a JSON object is shown
/// whole under "Details".
fn entry_fields(payload: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(payload) else {
        return vec![("Details".to_owned(), payload.to_owned())];
    };
    fields
        .into_iter()
        .map(|(name, value)| (field_name(&name), field_value(value)))
        .collect()
}

/// Turns a stored field name such as `delivery_type` into "Delivery type".
fn field_name(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut letters = words.chars();
    match letters.next() {
        Some(first) => first.to_uppercase().chain(letters).collect(),
        None => words,
    }
}

fn field_value(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text,
        serde_json::Value::Null => "not recorded".to_owned(),
        serde_json::Value::Bool(true) => "yes".to_owned(),
        serde_json::Value::Bool(false) => "no".to_owned(),
        serde_json::Value::Array(items) if items.is_empty() => "none".to_owned(),
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(field_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_fields_read_as_words() {
        let payload = r#"{"delivery_type":"vaginal","parity":1,"complications":[],"breastfeeding":true,"note":null}"#;
        assert_eq!(
            entry_fields(payload),
            vec![
                ("Breastfeeding".to_owned(), "yes".to_owned()),
                ("Complications".to_owned(), "none".to_owned()),
                ("Delivery type".to_owned(), "vaginal".to_owned()),
                ("Note".to_owned(), "not recorded".to_owned()),
                ("Parity".to_owned(), "1".to_owned()),
            ]
        );
    }

    #[test]
    fn content_other_than_an_object_shown_whole() {
        assert_eq!(
            entry_fields("[1,2]"),
            vec![("Details".to_owned(), "[1,2]".to_owned())]
        );
        assert_eq!(entry_fields("not json")[0].1, "not json");
    }
}
