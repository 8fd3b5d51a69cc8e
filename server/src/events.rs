//! Real-time care events: each node listens on PostgreSQL for new events and streams the ones
//! addressed to a signed-in user to her open pages as server-sent events.
//!
//! The database announces an event's id on [`app::events::CHANNEL`] when the transaction that
//! recorded it commits, whichever node wrote it, so nodes share nothing but PostgreSQL. A
//! stream lasts at most [`STREAM_LIFETIME`]; the browser then reconnects with the id of the last
//! event it saw, which signs the user in again (so an ended session or a deactivated account
//! stops the stream) and replays what was recorded in between.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::db::DbPool;
use app::events::{self, AnnouncedEvent, CareEvent};
use app::identity::server::auth::user_of_session;
use app::ids::UserId;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_postgres::{AsyncMessage, NoTls};
use tower_sessions::Session;

use crate::database::DatabaseUrl;
use crate::state::AppState;

/// Maximum time one stream stays open before the browser is asked to reconnect.
pub const STREAM_LIFETIME: Duration = Duration::from_secs(60);

/// How long the browser waits before reconnecting a closed stream.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Events a stream replays at most on reconnection; a client further behind reloads its page.
const REPLAY_LIMIT: i64 = 500;

/// Window before the last seen event in which a replay looks again for events whose
/// transactions committed late.
const REPLAY_OVERLAP: chrono::Duration = chrono::Duration::seconds(30);

/// Events buffered per node for streams that read slowly; a stream that falls further behind
/// ends and replays from the database.
const FAN_OUT_CAPACITY: usize = 1024;

/// A node's fan-out of announced events to its open streams, and the switch that ends them at
/// shutdown.
#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<AnnouncedEvent>>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(FAN_OUT_CAPACITY);
        let (closing, _) = watch::channel(false);
        Self {
            sender,
            closing: Arc::new(closing),
        }
    }

    /// Ends every open stream and the listener, so that a graceful shutdown does not wait for
    /// browsers to disconnect.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    fn closed(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    fn forward(&self, event: AnnouncedEvent) {
        // No open stream on this node is not an error.
        let _ = self.sender.send(Arc::new(event));
    }
}

/// Starts the task that listens for announced events and passes them to `hub`, reconnecting
/// with a growing delay when the database connection drops.
pub fn spawn_listener(
    url: DatabaseUrl,
    pool: DbPool,
    hub: EventHub,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut closed = hub.closed();
        let mut last_forwarded = None;
        let mut delay = Duration::from_millis(250);
        loop {
            match listen(&url, &pool, &hub, &mut last_forwarded, &mut closed).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?delay, "care event listener disconnected");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = until_closed(&mut closed) => return,
            }
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    })
}

/// Completes once the hub closes (or was dropped).
async fn until_closed(closed: &mut watch::Receiver<bool>) {
    // The guard that `wait_for` returns is dropped here, before the caller awaits anything else.
    let _ = closed.wait_for(|closed| *closed).await;
}

/// Listens on one connection until it fails (an error) or the hub closes (`Ok`).
async fn listen(
    url: &DatabaseUrl,
    pool: &DbPool,
    hub: &EventHub,
    last_forwarded: &mut Option<i64>,
    closed: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let (client, mut connection) = tokio_postgres::connect(url.expose(), NoTls)
        .await
        .map_err(|error| error.to_string())?;
    let (notices, mut announced) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            let notice = match message {
                Ok(AsyncMessage::Notification(notification)) => {
                    Ok(notification.payload().to_owned())
                }
                Ok(_) => continue,
                Err(error) => Err(error.to_string()),
            };
            let failed = notice.is_err();
            if notices.send(notice).is_err() || failed {
                break;
            }
        }
    });
    let result = async {
        client
            .batch_execute(&format!("LISTEN {}", events::CHANNEL))
            .await
            .map_err(|error| error.to_string())?;
        catch_up(pool, hub, last_forwarded).await?;
        loop {
            tokio::select! {
                notice = announced.recv() => {
                    let payload = notice.ok_or("the listening connection closed")??;
                    let Ok(id) = payload.parse::<i64>() else {
                        tracing::warn!(payload, "ignoring a malformed care event announcement");
                        continue;
                    };
                    forward_one(pool, hub, id, last_forwarded).await?;
                }
                () = until_closed(closed) => return Ok(()),
            }
        }
    }
    .await;
    driver.abort();
    result
}

/// Forwards what was recorded while no connection listened. On the first connection, it only
/// records the newest event id.
async fn catch_up(
    pool: &DbPool,
    hub: &EventHub,
    last_forwarded: &mut Option<i64>,
) -> Result<(), String> {
    let mut connection = pool.get().await.map_err(|error| error.to_string())?;
    let newest = events::newest_event_id(&mut connection)
        .await
        .map_err(|error| error.to_string())?;
    if let Some(after) = *last_forwarded {
        for event in events::announced_events(&mut connection, after, newest)
            .await
            .map_err(|error| error.to_string())?
        {
            hub.forward(event);
        }
    }
    *last_forwarded = Some(last_forwarded.unwrap_or(0).max(newest));
    Ok(())
}

async fn forward_one(
    pool: &DbPool,
    hub: &EventHub,
    id: i64,
    last_forwarded: &mut Option<i64>,
) -> Result<(), String> {
    let mut connection = pool.get().await.map_err(|error| error.to_string())?;
    if let Some(event) = events::announced_event(&mut connection, id)
        .await
        .map_err(|error| error.to_string())?
    {
        hub.forward(event);
    }
    *last_forwarded = Some(last_forwarded.unwrap_or(0).max(id));
    Ok(())
}

/// `GET /api/events`: the signed-in user's care events as server-sent events.
///
/// A new stream starts with a `ready` event whose id is the user's newest event, so that a later
/// reconnection resumes from it. A reconnection (with `Last-Event-ID`) first replays the
/// missed events, most urgent first, then a `sync` event carrying the newest id. Each new event
/// follows as a `care` event with its id and a JSON [`CareEvent`].
pub async fn stream(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let user = match user_of_session(&session, &state.services).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(error) => {
            let status = StatusCode::from_u16(error.code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return status.into_response();
        }
    };
    let last_seen = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i64>().ok())
        .filter(|id| *id >= 0);

    // Subscribe before reading the backlog, so that nothing falls between the two.
    let live = state.events.sender.subscribe();
    let opening = match opening_events(&state.pool, user, last_seen).await {
        Ok(opening) => opening,
        Err(error) => {
            tracing::error!(%error, "cannot read care events");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    Sse::new(event_stream(user, opening, live, state.events.closed()))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The events a stream starts with.
struct Opening {
    events: Vec<Event>,
    sent: HashSet<i64>,
}

async fn opening_events(
    pool: &DbPool,
    user: UserId,
    last_seen: Option<i64>,
) -> Result<Opening, String> {
    let mut connection = pool.get().await.map_err(|error| error.to_string())?;
    let retry = Event::default().retry(RECONNECT_DELAY);
    let Some(after) = last_seen else {
        let newest = events::latest_event_id(&mut connection, user)
            .await
            .map_err(|error| error.to_string())?;
        let ready = retry.event("ready").id(newest.to_string()).data("");
        return Ok(Opening {
            events: vec![ready],
            sent: HashSet::new(),
        });
    };
    let mut missed =
        events::events_after(&mut connection, user, after, REPLAY_OVERLAP, REPLAY_LIMIT)
            .await
            .map_err(|error| error.to_string())?;
    let newest = missed
        .iter()
        .map(|event| event.id)
        .max()
        .unwrap_or(after)
        .max(after);
    let sent = missed.iter().map(|event| event.id).collect();
    events::sort_for_display(&mut missed);
    let mut opening = vec![retry.comment("replay")];
    for event in &missed {
        opening.push(care_event(event, false)?);
    }
    opening.push(
        Event::default()
            .event("sync")
            .id(newest.to_string())
            .data(""),
    );
    Ok(Opening {
        events: opening,
        sent,
    })
}

/// Formats one event; replayed events carry no id, so that the `sync` event after them sets
/// where the next reconnection resumes.
fn care_event(event: &CareEvent, with_id: bool) -> Result<Event, String> {
    let formatted = Event::default()
        .event("care")
        .json_data(event)
        .map_err(|error| error.to_string())?;
    Ok(if with_id {
        formatted.id(event.id.to_string())
    } else {
        formatted
    })
}

fn event_stream(
    user: UserId,
    opening: Opening,
    mut live: broadcast::Receiver<Arc<AnnouncedEvent>>,
    mut closed: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let (sender, mut receiver) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        for event in opening.events {
            if sender.send(event).await.is_err() {
                return;
            }
        }
        let sent = opening.sent;
        let lifetime = tokio::time::sleep(STREAM_LIFETIME);
        tokio::pin!(lifetime);
        loop {
            tokio::select! {
                () = &mut lifetime => return,
                () = until_closed(&mut closed) => return,
                () = sender.closed() => return,
                received = live.recv() => {
                    // A lagging stream ends; the browser reconnects and replays from the
                    // database.
                    let Ok(announced) = received else { return };
                    if !announced.is_for(user) || sent.contains(&announced.event.id) {
                        continue;
                    }
                    let Ok(event) = care_event(&announced.event, true) else { return };
                    if sender.send(event).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx)).map(Ok)
}
