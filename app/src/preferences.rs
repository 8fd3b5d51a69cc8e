//! Display preferences that a visitor can set without signing in.
//!
//! The choice is kept in a cookie so that the server renders the page at the chosen text size
//! from the first byte; it contains no personal data.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Name of the cookie that stores the text size.
pub const TEXT_SIZE_COOKIE: &str = "nurture_text_size";

/// Base text size of every page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    #[default]
    Standard,
    Large,
}

impl TextSize {
    pub fn as_str(self) -> &'static str {
        match self {
            TextSize::Standard => "standard",
            TextSize::Large => "large",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "standard" => Some(TextSize::Standard),
            "large" => Some(TextSize::Large),
            _ => None,
        }
    }

    fn toggled(self) -> Self {
        match self {
            TextSize::Standard => TextSize::Large,
            TextSize::Large => TextSize::Standard,
        }
    }
}

/// Preferences that change how every page is displayed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DisplayPreferences {
    pub text_size: TextSize,
}

impl DisplayPreferences {
    /// Reads the preferences of the current request: from its cookie while rendering on the
    /// server, and from the class the server put on `<html>` while hydrating in the browser.
    pub fn from_request() -> Self {
        #[cfg(feature = "ssr")]
        {
            let cookie_header = use_context::<axum::http::request::Parts>().and_then(|parts| {
                parts
                    .headers
                    .get(axum::http::header::COOKIE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            });
            let text_size = cookie_header
                .as_deref()
                .and_then(|header| cookie_value(header, TEXT_SIZE_COOKIE))
                .and_then(TextSize::parse)
                .unwrap_or_default();
            Self { text_size }
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            let large = document()
                .document_element()
                .is_some_and(|root| root.class_name().split(' ').any(|c| c == LARGE_TEXT_CLASS));
            let text_size = if large {
                TextSize::Large
            } else {
                TextSize::Standard
            };
            Self { text_size }
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        Self::default()
    }

    /// Class for the `<html>` element; the stylesheet scales every size from it.
    pub fn html_class(&self) -> &'static str {
        match self.text_size {
            TextSize::Standard => "",
            TextSize::Large => LARGE_TEXT_CLASS,
        }
    }
}

const LARGE_TEXT_CLASS: &str = "text-large";

/// Returns the value of cookie `name` in a `Cookie` request header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Stores the visitor's text size in a cookie for one year.
///
/// `size` is taken as text and checked here, so that an unknown value gets a 400
/// and a message instead of a deserialization failure.
#[server(prefix = "/api", endpoint = "preferences/text-size")]
pub async fn set_text_size(size: String) -> Result<TextSize, AppError> {
    use axum::http::{HeaderValue, header::SET_COOKIE};

    let Some(text_size) = TextSize::parse(&size) else {
        return Err(AppError::invalid_input(
            "Text size must be \"standard\" or \"large\".",
        ));
    };

    let cookie = format!(
        "{TEXT_SIZE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly; Secure",
        text_size.as_str()
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| AppError::internal())?,
    );

    Ok(text_size)
}

/// Toggle between standard and large text. Works as a plain form without JavaScript.
#[component]
pub fn TextSizeForm() -> impl IntoView {
    let preferences = expect_context::<RwSignal<DisplayPreferences>>();
    let action = ServerAction::<SetTextSize>::new();

    Effect::new(move |_| {
        if let Some(Ok(text_size)) = action.value().get() {
            preferences.update(|current| current.text_size = text_size);
            #[cfg(feature = "hydrate")]
            if let Some(root) = document().document_element() {
                root.set_class_name(preferences.get_untracked().html_class());
            }
        }
    });

    let is_large = move || preferences.get().text_size == TextSize::Large;
    let requested = move || preferences.get().text_size.toggled().as_str();
    let error = move || match action.value().get() {
        Some(Err(error)) => Some(error.message),
        _ => None,
    };

    view! {
        <ActionForm action attr:class="text-size-form">
            <input type="hidden" name="size" value=requested />
            <button type="submit" class="button button--quiet" aria-pressed=move || is_large().to_string()>
                "Large text"
            </button>
            <p class="form-error" role="alert" hidden=move || error().is_none()>
                {error}
            </p>
        </ActionForm>
    }
}
