//! HTTP behaviour of the real router against real PostgreSQL: health, pages, security headers,
//! the origin check, body limits and server-function errors.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::{ORIGIN, TestApp, TestDatabase, body_text, form_post, send};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::new().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn readyz_ready_when_migrated() {
    let app = TestApp::new().await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, r#"{"status":"ready"}"#);
}

#[tokio::test]
async fn readyz_unavailable_when_migrations_pending() {
    let database = TestDatabase::empty().await;
    let (router, _pool) = TestApp::router_for(&database.url);

    let response = send(
        &router,
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body_text(response).await.contains("migrations are pending"));
}

#[tokio::test]
async fn readyz_recovers_when_database_returns() {
    let url = TestDatabase::unused_url();
    let (router, _pool) = TestApp::router_for(&url);
    let readyz = || Request::get("/readyz").body(Body::empty()).unwrap();

    let down = send(&router, readyz()).await;
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body_text(down).await.contains("database unreachable"));
    let health = send(
        &router,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(health.status(), StatusCode::OK);

    // The same router, without a restart, becomes ready once the database exists and is migrated.
    server::database::ensure_database_exists(&url)
        .await
        .unwrap();
    server::database::run_migrations(&url).await.unwrap();
    let up = send(&router, readyz()).await;
    let name = url.database_name().unwrap().to_owned();
    drop(_pool);
    support::execute_on_server(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
    assert_eq!(up.status(), StatusCode::OK);
}

#[tokio::test]
async fn home_page_renders_shell_with_nonce() {
    let app = TestApp::new().await;

    let response = app.get("/").await;

    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the policy names a nonce")
        .to_owned();
    let html = body_text(response).await;
    assert!(html.contains(r#"<main id="main""#));
    assert!(html.contains(r#"aria-label="Main""#));
    assert!(html.contains(&format!(r#"<script type="module" nonce="{nonce}">"#)));
    assert!(html.contains("/pkg/nurture.js"));
    assert!(!policy.contains("unsafe-inline"));
}

#[tokio::test]
async fn nonce_differs_per_response() {
    let app = TestApp::new().await;

    let first = app.get("/").await;
    let second = app.get("/").await;

    assert_ne!(
        first.headers()[header::CONTENT_SECURITY_POLICY],
        second.headers()[header::CONTENT_SECURITY_POLICY]
    );
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = TestApp::new().await;

    for path in ["/", "/healthz", "/favicon.svg", "/missing"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
        assert!(
            !headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
            "{path}"
        );
    }
}

#[tokio::test]
async fn pages_are_not_cached() {
    let app = TestApp::new().await;

    let page = app.get("/").await;
    let favicon = app.get("/favicon.svg").await;

    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    assert!(!favicon.headers().contains_key(header::CACHE_CONTROL));
}

#[tokio::test]
async fn hsts_sent_when_served_over_https() {
    let app =
        TestApp::with_overrides(&[("NURTURE_PUBLIC_URL", "https://nurture.example.org")]).await;

    let response = app.get("/healthz").await;

    let hsts = response.headers()[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap();
    assert!(hsts.starts_with("max-age="));
}

#[tokio::test]
async fn request_id_is_echoed() {
    let app = TestApp::new().await;
    let request = Request::get("/healthz")
        .header("x-request-id", "test-request-42")
        .body(Body::empty())
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.headers()["x-request-id"], "test-request-42");
}

#[tokio::test]
async fn unusable_request_id_replaced() {
    let app = TestApp::new().await;
    let request = Request::get("/healthz")
        .header("x-request-id", "abc\" user=ada@example.org")
        .body(Body::empty())
        .unwrap();

    let response = app.send(request).await;

    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert!(
        id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{id}"
    );
}

#[tokio::test]
async fn same_origin_post_sets_preference() {
    let app = TestApp::new().await;
    let request = form_post("/api/preferences/text-size", "size=large")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from("size=large"))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("nurture_text_size=large;"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert_eq!(body_text(response).await, r#""large""#);
}

#[tokio::test]
async fn preference_cookie_changes_rendering() {
    let app = TestApp::new().await;
    let request = Request::get("/")
        .header(header::COOKIE, "other=1; nurture_text_size=large")
        .body(Body::empty())
        .unwrap();

    let html = body_text(app.send(request).await).await;

    assert!(html.contains(r#"<html lang="en" class="text-large">"#));
    assert!(html.contains(r#"aria-pressed="true""#));
}

#[tokio::test]
async fn cross_origin_post_rejected() {
    let app = TestApp::new().await;
    let origins = [
        "http://evil.example",
        "http://localhost:3001",
        "https://localhost:3000",
        "http://localhost.evil.example:3000",
        "null",
    ];

    for origin in origins {
        let request = form_post("/api/preferences/text-size", "size=large")
            .header(header::ORIGIN, origin)
            .body(Body::from("size=large"))
            .unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(
            !response.headers().contains_key(header::SET_COOKIE),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn post_without_origin_or_referer_rejected() {
    let app = TestApp::new().await;
    let request = form_post("/api/preferences/text-size", "size=large")
        .body(Body::from("size=large"))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn post_with_same_origin_referer_accepted() {
    let app = TestApp::new().await;
    let allowed = form_post("/api/preferences/text-size", "size=large")
        .header(header::REFERER, format!("{ORIGIN}/patient"))
        .body(Body::from("size=large"))
        .unwrap();
    let foreign = form_post("/api/preferences/text-size", "size=large")
        .header(header::REFERER, "http://evil.example/page")
        .body(Body::from("size=large"))
        .unwrap();

    assert_eq!(app.send(allowed).await.status(), StatusCode::OK);
    assert_eq!(app.send(foreign).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn plain_form_post_redirects_back() {
    let app = TestApp::new().await;
    let request = form_post("/api/preferences/text-size", "size=large")
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{ORIGIN}/research"))
        .body(Body::from("size=large"))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::FOUND);
    // Leptos appends a query string, empty on success, that carries a form's error.
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{ORIGIN}/research")),
        "{location}"
    );
}

#[tokio::test]
async fn invalid_input_answers_400() {
    let app = TestApp::new().await;
    let request = form_post("/api/preferences/text-size", "size=huge")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from("size=huge"))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_text(response).await;
    assert!(body.contains(r#""code":"invalid_input""#), "{body}");
    assert!(body.contains("must be"), "{body}");
}

#[tokio::test]
async fn missing_argument_answers_400() {
    let app = TestApp::new().await;
    let request = form_post("/api/preferences/text-size", "colour=red")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from("colour=red"))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversized_body_answers_413() {
    let app = TestApp::with_overrides(&[("NURTURE_BODY_LIMIT_BYTES", "2048")]).await;
    let body = format!("size={}", "a".repeat(4096));
    let request = form_post("/api/preferences/text-size", &body)
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from(body))
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_path_answers_404_page() {
    let app = TestApp::new().await;

    let response = app.get("/no-such-page").await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_text(response).await.contains("Page not found"));
}

#[tokio::test]
async fn area_pages_render() {
    let app = TestApp::new().await;

    for (path, title) in [
        ("/patient", "My care"),
        ("/clinician", "Clinician"),
        ("/admin", "Admin"),
        ("/compliance", "Compliance"),
        ("/research", "Research"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let html = body_text(response).await;
        assert!(
            html.contains(&format!(r#"<h1 id="area-heading">{title}</h1>"#)),
            "{path}"
        );
    }
}

/// A page renders in full while another router of the same process is built. Listing the
/// routes switches resource loading off for the whole process, so they are listed only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_renders_during_router_build() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let app = TestApp::new().await;
    let stop = Arc::new(AtomicBool::new(false));
    let builder = {
        let stop = Arc::clone(&stop);
        let state = app.state.clone();
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            let _context = runtime.enter();
            let mut built = 0_u32;
            while !stop.load(Ordering::Relaxed) {
                drop(server::router::build(state.clone()));
                built += 1;
            }
            built
        })
    };

    // Stop the builder before any assertion, so that a failure leaves no thread building routers
    // beside the other tests.
    let mut pages = Vec::new();
    for _ in 0..40 {
        let page = tokio::time::timeout(Duration::from_secs(10), async {
            body_text(app.get("/patient").await).await
        })
        .await;
        let timed_out = page.is_err();
        pages.push(page);
        if timed_out {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let built = builder.join().expect("the builder thread panicked");

    for (attempt, page) in pages.iter().enumerate() {
        let html = page.as_ref().unwrap_or_else(|_| {
            panic!("page {attempt} timed out after 10 s while another router was built")
        });
        assert!(html.contains("You need to be signed in"), "page {attempt}");
    }
    assert_eq!(pages.len(), 40);
    assert!(built > 0);
}
