//! The mood check-in: the EPDS, and the PHQ-9 and GAD-7 when the care team assigned them, with
//! crisis resources shown the moment an answer shows thoughts of self-harm.

use leptos::prelude::*;
use leptos_meta::Title;

use super::crisis::CrisisResources;
use super::{PatientOnly, answers_json};
use crate::clinical::screening::{Instrument, ItemDefinition};
use crate::identity::pages::browser_action;
use crate::portal::{CheckInOutcome, my_assigned_screenings, submit_check_in};

/// Index of the item about self-harm, whose answers above 0 points show crisis resources: EPDS
/// item 10 and PHQ-9 item 9. The GAD-7 has none.
fn self_harm_item(instrument: Instrument) -> Option<usize> {
    match instrument {
        Instrument::Epds => Some(9),
        Instrument::Phq9 => Some(8),
        Instrument::Gad7 => None,
    }
}

/// Tells whether the answers show thoughts of self-harm: any answer other than the one that
/// scores 0 on the self-harm item ("Never" on the EPDS, "Not at all" on the PHQ-9).
fn shows_self_harm(instrument: Instrument, answers: &[Option<u8>]) -> bool {
    let Some(index) = self_harm_item(instrument) else {
        return false;
    };
    let item: &ItemDefinition = &instrument.definition().items[index];
    answers
        .get(index)
        .copied()
        .flatten()
        .and_then(|position| item.score(position))
        .is_some_and(|points| points > 0)
}

/// Numbers of the unanswered items, 1-based.
fn unanswered(answers: &[Option<u8>]) -> Vec<usize> {
    answers
        .iter()
        .enumerate()
        .filter(|(_, answer)| answer.is_none())
        .map(|(index, _)| index + 1)
        .collect()
}

/// Renders the check-in page: the EPDS form, or the result once it is submitted.
#[component]
pub fn CheckInPage() -> impl IntoView {
    let assigned = Resource::new(|| (), |_| my_assigned_screenings());
    let chosen = RwSignal::new(Instrument::Epds);
    let outcome = RwSignal::new(None::<CheckInOutcome>);
    view! {
        <Title text="Mood check-in" />
        <h1>"Mood check-in"</h1>
        <PatientOnly>
            {move || match outcome.get() {
                Some(result) => view! { <CheckInResult result /> }.into_any(),
                None => {
                    view! {
                        <Transition fallback=|| ()>
                            {move || {
                                assigned
                                    .get()
                                    .and_then(Result::ok)
                                    .map(|list| {
                                        let instruments: Vec<Instrument> =
                                            list.iter().map(|item| item.instrument).collect();
                                        view! { <InstrumentChoice instruments chosen /> }
                                    })
                            }}
                        </Transition>
                        {move || {
                            let instrument = chosen.get();
                            view! { <QuestionForm instrument outcome /> }
                        }}
                    }
                        .into_any()
                }
            }}
        </PatientOnly>
    }
}

/// Buttons to switch between the EPDS and the questionnaires the care team assigned.
#[component]
fn InstrumentChoice(instruments: Vec<Instrument>, chosen: RwSignal<Instrument>) -> impl IntoView {
    let others: Vec<Instrument> = instruments
        .into_iter()
        .filter(|instrument| *instrument != Instrument::Epds)
        .collect();
    if others.is_empty() {
        return ().into_any();
    }
    let choices: Vec<Instrument> = std::iter::once(Instrument::Epds).chain(others).collect();
    view! {
        <section class="panel" aria-labelledby="choice-heading">
            <h2 id="choice-heading">"Questionnaires for you"</h2>
            <p>"Your care team asked you to complete these as well. Choose one to start."</p>
            <div class="button-row">
                {choices
                    .into_iter()
                    .map(|instrument| {
                        view! {
                            <button
                                type="button"
                                class="button button--quiet"
                                aria-pressed=move || (chosen.get() == instrument).to_string()
                                on:click=move |_| chosen.set(instrument)
                            >
                                {instrument.abbreviation()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn QuestionForm(
    instrument: Instrument,
    outcome: RwSignal<Option<CheckInOutcome>>,
) -> impl IntoView {
    let definition = instrument.definition();
    let answers = RwSignal::new(vec![None::<u8>; definition.items.len()]);
    let error = RwSignal::new(None::<String>);
    let submit = browser_action(move |answers: &Vec<Option<u8>>| {
        let answers = answers_json(answers);
        async move { submit_check_in(instrument, answers).await }
    });
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(result)) => outcome.set(Some(result)),
        Some(Err(failure)) => error.set(Some(failure.message)),
        None => {}
    });
    let crisis = move || shows_self_harm(instrument, &answers.get());

    view! {
        <form
            class="panel check-in"
            aria-labelledby="form-heading"
            novalidate
            on:submit=move |event| {
                event.prevent_default();
                let current = answers.get_untracked();
                let missing = unanswered(&current);
                if missing.is_empty() {
                    error.set(None);
                    submit.dispatch(current);
                } else {
                    let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
                    error.set(Some(format!(
                        "Please answer every question. Not answered yet: question {}.",
                        list.join(", ")
                    )));
                }
            }
        >
            <h2 id="form-heading">{definition.name}</h2>
            <p>{definition.instructions}</p>
            {definition
                .items
                .iter()
                .enumerate()
                .map(|(index, item)| view! { <Question item index answers /> })
                .collect_view()}
            {move || crisis().then(|| view! { <CrisisResources id="crisis-heading" /> })}
            <p class="form-error" role="alert" hidden=move || error.get().is_none()>
                {move || error.get()}
            </p>
            <div class="action-bar">
                <button type="submit" class="button button--wide" disabled=move || submit.pending().get()>
                    "Submit my answers"
                </button>
            </div>
            <p class="hint">{definition.citation}</p>
        </form>
    }
}

#[component]
fn Question(
    item: &'static ItemDefinition,
    index: usize,
    answers: RwSignal<Vec<Option<u8>>>,
) -> impl IntoView {
    let name = format!("question-{}", item.number);
    view! {
        <fieldset class="question">
            <legend>{format!("{}. {}", item.number, item.question)}</legend>
            {item
                .answers
                .iter()
                .enumerate()
                .map(|(position, label)| {
                    let position = position as u8;
                    view! {
                        <label class="choice">
                            <input
                                type="radio"
                                name=name.clone()
                                value=position.to_string()
                                prop:checked=move || answers.get()[index] == Some(position)
                                on:change=move |_| answers.update(|all| all[index] = Some(position))
                            />
                            <span>{*label}</span>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

#[component]
fn CheckInResult(result: CheckInOutcome) -> impl IntoView {
    let message = if result.follow_up {
        "Some of your answers suggest that things may feel hard at the moment. That is common \
         after having a baby, and support really helps. Your care team has been told and will \
         contact you to talk about how you are feeling."
    } else {
        "Thank you for taking a moment for yourself. Your answers are saved in your record, \
         where your care team can see them. You can check in again whenever you like."
    };
    view! {
        <section class="panel" aria-labelledby="result-heading" data-testid="check-in-result">
            <h2 id="result-heading">"Thank you for checking in"</h2>
            <p>{message}</p>
            <p class="hint">
                {format!(
                    "Your {} total: {} out of {}.",
                    result.instrument.abbreviation(),
                    result.total,
                    result.max_total
                )}
            </p>
        </section>
        {result.crisis.then(|| view! { <CrisisResources id="result-crisis-heading" /> })}
        <p><a class="button" href="/patient">"Back to My care"</a></p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_on_epds_item_ten_shows_no_crisis() {
        let mut answers = vec![Some(0); 10];
        answers[9] = Some(3);
        assert!(!shows_self_harm(Instrument::Epds, &answers));
        answers[9] = None;
        assert!(!shows_self_harm(Instrument::Epds, &answers));
    }

    #[test]
    fn any_other_epds_item_ten_answer_shows_crisis() {
        for position in 0..3 {
            let mut answers = vec![None; 10];
            answers[9] = Some(position);
            assert!(shows_self_harm(Instrument::Epds, &answers), "{position}");
        }
    }

    #[test]
    fn phq9_item_nine_above_zero_shows_crisis() {
        let mut answers = vec![None; 9];
        answers[8] = Some(0);
        assert!(!shows_self_harm(Instrument::Phq9, &answers));
        answers[8] = Some(1);
        assert!(shows_self_harm(Instrument::Phq9, &answers));
        assert!(!shows_self_harm(Instrument::Gad7, &[Some(3); 7]));
    }

    #[test]
    fn unanswered_items_are_numbered_from_one() {
        assert_eq!(unanswered(&[Some(0), None, Some(1), None]), vec![2, 4]);
    }
}
