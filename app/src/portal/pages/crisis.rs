//! Crisis resources, shown as soon as an answer shows thoughts of self-harm.

use leptos::prelude::*;

/// Renders where to get help now. The question page shows it the moment the answer is chosen,
/// and the result page shows it again.
#[component]
pub fn CrisisResources(id: &'static str) -> impl IntoView {
    view! {
        <section class="crisis" role="alert" aria-labelledby=id data-testid="crisis-resources">
            <h2 id=id>"You do not have to cope with this alone"</h2>
            <p>
                "Thank you for being honest about how you feel. Thoughts of harming yourself "
                "can happen after having a baby, and help is available now."
            </p>
            <ul>
                <li>
                    "If you might act on these thoughts, call your local emergency number now "
                    "(999 in the UK, 911 in the US, 112 in the EU) or go to the nearest "
                    "emergency department."
                </li>
                <li>
                    "Talk to someone today: in the UK and Ireland, Samaritans on 116 123 (free, "
                    "day and night); in the US, call or text 988."
                </li>
                <li>"Contact your midwife, GP or mental health team today and tell them how you feel."</li>
            </ul>
        </section>
    }
}
