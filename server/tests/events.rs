//! Real-time care events across two app nodes that share only PostgreSQL: delivery within a
//! second, routing to recipients only, nothing from rolled-back transactions, replay after a
//! reconnection, sign-in required, and streams ending at shutdown.

mod support;

use std::time::Duration;

use app::events::{CareEventKind, NewCareEvent, Priority, publish};
use app::ids::{ClinicId, PatientId, UserId};
use axum::Router;
use axum::body::{Body, BodyDataStream};
use axum::http::{Request, StatusCode, header};
use diesel_async::AsyncConnection;
use futures_util::StreamExt;
use server::events::{EventHub, spawn_listener};
use server::state::AppState;
use support::TestApp;
use support::browser::{Browser, bootstrap_admin, enroll};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

/// A second node: its own pool, router and listening connection on the same database.
struct Node {
    router: Router,
    hub: EventHub,
    listener: tokio::task::JoinHandle<()>,
}

impl Node {
    fn start(app: &TestApp) -> Self {
        let pool = server::database::build_pool(&app.config.database);
        let state = AppState::new(&app.config, pool.clone()).expect("node state is valid");
        let hub = state.events.clone();
        let listener = spawn_listener(app.config.database.url.clone(), pool, hub.clone());
        Self {
            router: server::router::build(state),
            hub,
            listener,
        }
    }

    async fn open(
        &self,
        cookie: Option<&str>,
        last_event_id: Option<&str>,
    ) -> (StatusCode, Stream) {
        let mut request = Request::get("/api/events");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("nurture_session={cookie}"));
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = support::send(&self.router, request.body(Body::empty()).unwrap()).await;
        let status = response.status();
        if status == StatusCode::OK {
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "text/event-stream"
            );
        }
        (
            status,
            Stream {
                body: response.into_body().into_data_stream(),
                buffer: String::new(),
            },
        )
    }
}

/// The body of an event stream, read one event at a time.
struct Stream {
    body: BodyDataStream,
    buffer: String,
}

/// One server-sent event's fields.
#[derive(Debug, Default)]
struct Received {
    event: String,
    id: Option<String>,
    data: String,
}

impl Stream {
    /// Returns the next event, or `None` if the stream ends or nothing arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut received = Received::default();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        received.event = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("id:") {
                        received.id = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        received.data.push_str(value.trim());
                    }
                }
                if received.event.is_empty() && received.id.is_none() {
                    // A comment, a retry hint or a keep-alive.
                    continue;
                }
                return Some(received);
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buffer
                .push_str(std::str::from_utf8(&chunk.expect("readable body")).unwrap());
        }
    }

    async fn expect(&mut self, kind: &str) -> Received {
        let received = self
            .next(Duration::from_secs(2))
            .await
            .unwrap_or_else(|| panic!("no {kind} event within 2 s"));
        assert_eq!(received.event, kind, "{received:?}");
        received
    }
}

/// Signs in the bootstrap admin on `app` and returns her session cookie, user id and clinic.
async fn signed_in_admin(app: &TestApp) -> (String, UserId, ClinicId) {
    let token = bootstrap_admin(app, "ada@example.org").await;
    let mut browser = Browser::new(app);
    enroll(&mut browser, &token, &mut SoftPasskey::new(true)).await;
    let account = browser.account().await;
    let user: UserId = account["id"].as_str().unwrap().parse().unwrap();
    let mut connection = app.pool.get().await.unwrap();
    let clinic = app::identity::server::accounts::find_account(&mut connection, user)
        .await
        .unwrap()
        .unwrap()
        .clinic_id;
    (browser.cookie.clone().unwrap(), user, clinic)
}

fn event_for(
    clinic: ClinicId,
    patient: PatientId,
    kind: CareEventKind,
    priority: Priority,
    recipients: Vec<UserId>,
) -> NewCareEvent {
    NewCareEvent {
        clinic_id: clinic,
        patient_id: patient,
        kind,
        priority,
        subject_id: None,
        recipients,
    }
}

async fn publish_on(app: &TestApp, event: NewCareEvent) -> i64 {
    let mut connection = app.pool.get().await.unwrap();
    publish(&mut connection, &event)
        .await
        .unwrap()
        .expect("the event has recipients")
}

#[tokio::test]
async fn event_crosses_to_other_node() {
    let app = TestApp::new().await;
    let (cookie, user, clinic) = signed_in_admin(&app).await;
    let node = Node::start(&app);
    let (status, mut stream) = node.open(Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stream.expect("ready").await.id.as_deref(), Some("0"));

    let patient = PatientId::new_random();
    let someone_else = UserId::new_random();
    publish_on(
        &app,
        event_for(
            clinic,
            PatientId::new_random(),
            CareEventKind::Vitals,
            Priority::Urgent,
            vec![someone_else],
        ),
    )
    .await;
    let id = publish_on(
        &app,
        event_for(
            clinic,
            patient,
            CareEventKind::Screening,
            Priority::Urgent,
            vec![user, someone_else],
        ),
    )
    .await;

    let received = stream.expect("care").await;
    assert_eq!(received.id, Some(id.to_string()));
    let event: app::events::CareEvent = serde_json::from_str(&received.data).unwrap();
    assert_eq!(event.patient_id, patient);
    assert_eq!(event.kind, CareEventKind::Screening);
    assert_eq!(event.priority, Priority::Urgent);
    node.hub.close();
    node.listener.await.unwrap();
}

#[tokio::test]
async fn rollback_announces_nothing() {
    let app = TestApp::new().await;
    let (cookie, user, clinic) = signed_in_admin(&app).await;
    let node = Node::start(&app);
    let (_, mut stream) = node.open(Some(&cookie), None).await;
    stream.expect("ready").await;

    let mut connection = app.pool.get().await.unwrap();
    let rolled_back = event_for(
        clinic,
        PatientId::new_random(),
        CareEventKind::Feeding,
        Priority::Routine,
        vec![user],
    );
    let result = connection
        .transaction::<(), diesel::result::Error, _>(async move |connection| {
            publish(connection, &rolled_back).await.unwrap();
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(result.is_err());
    drop(connection);
    let committed = publish_on(
        &app,
        event_for(
            clinic,
            PatientId::new_random(),
            CareEventKind::Growth,
            Priority::Routine,
            vec![user],
        ),
    )
    .await;

    // The first event to arrive is the committed one.
    assert_eq!(stream.expect("care").await.id, Some(committed.to_string()));
    node.hub.close();
}

#[tokio::test]
async fn reconnect_replays_missed_urgent_first() {
    let app = TestApp::new().await;
    let (cookie, user, clinic) = signed_in_admin(&app).await;
    let node = Node::start(&app);
    let seen = publish_on(
        &app,
        event_for(
            clinic,
            PatientId::new_random(),
            CareEventKind::Feeding,
            Priority::Routine,
            vec![user],
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    // While the client is away: a routine feed, then an urgent alert, then someone else's event.
    let routine = publish_on(
        &app,
        event_for(
            clinic,
            PatientId::new_random(),
            CareEventKind::Feeding,
            Priority::Routine,
            vec![user],
        ),
    )
    .await;
    let urgent = publish_on(
        &app,
        event_for(
            clinic,
            PatientId::new_random(),
            CareEventKind::Alert,
            Priority::Urgent,
            vec![user],
        ),
    )
    .await;
    publish_on(
        &app,
        event_for(
            clinic,
            PatientId::new_random(),
            CareEventKind::Alert,
            Priority::Urgent,
            vec![UserId::new_random()],
        ),
    )
    .await;

    let (status, mut stream) = node.open(Some(&cookie), Some(&seen.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    let mut replayed = Vec::new();
    let sync = loop {
        let received = stream.next(Duration::from_secs(2)).await.expect("replay");
        if received.event == "sync" {
            break received;
        }
        assert_eq!(received.event, "care");
        let event: app::events::CareEvent = serde_json::from_str(&received.data).unwrap();
        replayed.push(event.id);
    };
    // The window before the last seen event brings that one again; the client drops it.
    replayed.retain(|id| *id != seen);
    assert_eq!(replayed, vec![urgent, routine]);
    assert_eq!(sync.id, Some(urgent.to_string()));
    node.hub.close();
}

#[tokio::test]
async fn streams_need_a_session() {
    let app = TestApp::new().await;
    let node = Node::start(&app);
    let (status, _) = node.open(None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = node.open(Some("forged-session-id"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    node.hub.close();
}

#[tokio::test]
async fn closing_the_hub_ends_open_streams() {
    let app = TestApp::new().await;
    let (cookie, _, _) = signed_in_admin(&app).await;
    let node = Node::start(&app);
    let (_, mut stream) = node.open(Some(&cookie), None).await;
    stream.expect("ready").await;

    node.hub.close();

    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while stream.body.next().await.is_some() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream is still open after the hub closed"
    );
    tokio::time::timeout(Duration::from_secs(2), node.listener)
        .await
        .expect("the listener stops")
        .unwrap();
}
