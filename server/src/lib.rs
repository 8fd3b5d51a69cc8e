//! The Nurture web server: configuration, database pool, HTTP middleware and the router.
//!
//! `main.rs` is a thin command-line wrapper around this library so that the integration tests
//! can build the same router and call it in process.

pub mod bootstrap;
pub mod cohort;
pub mod config;
pub mod database;
pub mod events;
pub mod health;
pub mod http;
pub mod logging;
pub mod maintenance;
pub mod router;
pub mod secrets;
pub mod state;
