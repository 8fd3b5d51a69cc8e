//! Facts about the current HTTP request that identity and audit records keep.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use leptos::prelude::use_context;

/// Client address, user agent and request id of the request being served.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub address: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl RequestMeta {
    /// Reads the request from the Leptos context; empty outside a request.
    pub fn current() -> Self {
        use_context::<Parts>()
            .map(|parts| Self::from_parts(&parts))
            .unwrap_or_default()
    }

    pub fn from_parts(parts: &Parts) -> Self {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.chars().take(300).collect::<String>())
        };
        Self {
            address: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
            user_agent: header(USER_AGENT.as_str()),
            request_id: header("x-request-id"),
        }
    }

    /// Text used to key per-address rate limits.
    pub fn address_key(&self) -> String {
        self.address
            .map_or_else(|| "unknown".to_owned(), |address| address.to_string())
    }
}
