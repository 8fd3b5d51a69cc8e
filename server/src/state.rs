//! State shared by every request handler.

use std::sync::Arc;

use app::db::DbPool;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::config::HttpConfig;

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: DbPool,
    pub http: Arc<HttpConfig>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
