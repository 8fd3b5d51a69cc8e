//! Nurture's user interface and server functions.
//!
//! The same crate is compiled twice: with the `ssr` feature into the server, where it renders
//! pages and runs server functions, and with the `hydrate` feature into the wasm32 bundle, where
//! it takes over the server-rendered page. Modules that touch the database or secrets are gated
//! by `ssr` so that the browser build never contains them.

// The chart page's nested views exceed the default query depth when the browser bundle is
// compiled with the release profile.
#![recursion_limit = "256"]

pub mod access;
pub mod chart;
pub mod clinical;
pub mod consent;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod exports;
pub mod growth_chart;
pub mod identity;
pub mod ids;
pub mod layout;
pub mod messaging;
pub mod pages;
pub mod portal;
pub mod preferences;
pub mod protocols;
#[cfg(feature = "ssr")]
pub mod records;
mod routes;

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod schema;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod services;

pub use routes::{App, shell};

/// Name of the JavaScript and wasm bundle under `/pkg`, shared by the build script and the server.
pub const BUNDLE_NAME: &str = "nurture";

/// Hydrates the server-rendered page in the browser.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}
