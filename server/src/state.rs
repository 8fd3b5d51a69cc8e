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

impl AppState {
    pub fn new(http: &HttpConfig, pool: DbPool) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name(app::BUNDLE_NAME)
            .site_root(http.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(http.listen)
            .build();
        Self {
            leptos_options,
            pool,
            http: Arc::new(http.clone()),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
