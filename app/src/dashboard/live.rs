//! The browser's subscription to the signed-in user's care events at `/api/events`.
//!
//! The browser's `EventSource` reconnects by itself after an error or when the server ends a
//! stream, sending the id of the last event it saw so that the server replays what it missed.
//! The subscription is closed when the component that opened it is cleaned up, so leaving the
//! page leaves no open stream or listener behind. The server-rendered page opens none.

use crate::events::CareEvent;

/// Path of the care-event stream.
pub const EVENTS_PATH: &str = "/api/events";

/// Name of the server-sent event that carries a [`CareEvent`].
pub const CARE_EVENT: &str = "care";

/// Calls `on_event` with each care event for the signed-in user while the calling component
/// lives. Must be called while a component is being built, so that its cleanup closes the
/// stream.
pub fn subscribe_care_events(on_event: impl Fn(CareEvent) + 'static) {
    #[cfg(feature = "hydrate")]
    browser::subscribe(on_event);
    #[cfg(not(feature = "hydrate"))]
    drop(on_event);
}

/// Reads the JSON data of a `care` event; `None` for anything malformed.
pub fn parse_care_event(data: &str) -> Option<CareEvent> {
    serde_json::from_str(data).ok()
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::on_cleanup;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    use super::{CARE_EVENT, EVENTS_PATH, parse_care_event};
    use crate::events::CareEvent;

    pub fn subscribe(on_event: impl Fn(CareEvent) + 'static) {
        let Ok(source) = EventSource::new(EVENTS_PATH) else {
            leptos::logging::warn!("the browser could not open the care event stream");
            return;
        };
        let listener = Closure::<dyn Fn(MessageEvent)>::new(move |message: MessageEvent| {
            if let Some(event) = message
                .data()
                .as_string()
                .as_deref()
                .and_then(parse_care_event)
            {
                on_event(event);
            }
        });
        let callback = listener.as_ref().unchecked_ref();
        if source
            .add_event_listener_with_callback(CARE_EVENT, callback)
            .is_err()
        {
            source.close();
            return;
        }

        // Leptos requires the cleanup to be `Send`, but the stream and its listener exist only
        // on the browser's single thread. The wrapper lets the cleanup take them back there.
        let subscription = SendWrapper::new((source, listener));
        on_cleanup(move || {
            let (source, listener) = subscription.take();
            let callback = listener.as_ref().unchecked_ref();
            let _ = source.remove_event_listener_with_callback(CARE_EVENT, callback);
            source.close();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{CareEventKind, Priority};

    #[test]
    fn care_event_data_parses() {
        let data = r#"{"id":42,"patient_id":"00000000-0000-0000-0000-000000000007",
            "kind":"alert","priority":"urgent","subject_id":null,"created_at_ms":5}"#;
        let event = parse_care_event(data).unwrap();
        assert_eq!(event.id, 42);
        assert_eq!(event.kind, CareEventKind::Alert);
        assert_eq!(event.priority, Priority::Urgent);
    }

    #[test]
    fn malformed_data_ignored() {
        assert!(parse_care_event("not json").is_none());
        assert!(parse_care_event(r#"{"id":1}"#).is_none());
    }
}
