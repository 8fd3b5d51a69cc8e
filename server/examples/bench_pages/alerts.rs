//! Alert latency: the time from the start of a patient's blood pressure request to the arrival
//! of its alert on a clinician's open event stream (`/api/events`), one reading at a time.
//! Plain HTTP/1.1 over TCP, so that the client adds as little as possible to the figure.

use std::time::{Duration, Instant};

use app::ids::PatientId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::users::AlertSetup;

/// Maximum wait for one alert before the measurement fails.
const ALERT_TIMEOUT: Duration = Duration::from_secs(10);

/// A severe-range reading (ACOG: systolic 160 or more), which alerts the midwife and the GP.
const SEVERE_READING: &str = "systolic=166&diastolic=112&unit=millimetres_of_mercury";

/// An open event stream and the lines read from it so far.
struct EventStream {
    socket: TcpStream,
    pending: String,
    last_id: Option<String>,
}

impl EventStream {
    async fn open(address: &str, cookie: &str, last_id: Option<String>) -> Result<Self, String> {
        let mut socket = TcpStream::connect(address)
            .await
            .map_err(|error| format!("cannot connect to {address}: {error}"))?;
        let resume = last_id
            .as_ref()
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /api/events HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\
             Cookie: nurture_session={cookie}\r\n{resume}\r\n"
        );
        socket
            .write_all(request.as_bytes())
            .await
            .map_err(|error| error.to_string())?;
        let mut stream = Self {
            socket,
            pending: String::new(),
            last_id,
        };
        let status = stream.next_line().await?.unwrap_or_default();
        if !status.contains(" 200 ") {
            return Err(format!("the event stream answered {status:?}"));
        }
        Ok(stream)
    }

    /// Returns the next line, or `None` when the server closed the stream.
    async fn next_line(&mut self) -> Result<Option<String>, String> {
        loop {
            if let Some(end) = self.pending.find('\n') {
                let line = self.pending[..end].trim_end_matches('\r').to_owned();
                self.pending.drain(..=end);
                if let Some(id) = line.strip_prefix("id:") {
                    self.last_id = Some(id.trim().to_owned());
                }
                return Ok(Some(line));
            }
            let mut buffer = [0u8; 8192];
            let read = self
                .socket
                .read(&mut buffer)
                .await
                .map_err(|error| error.to_string())?;
            if read == 0 {
                return Ok(None);
            }
            self.pending
                .push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    }
}

/// Records `count` severe readings, cycling through the patients, and returns each one's
/// latency.
pub async fn measure(
    base_url: &str,
    origin: &str,
    setup: &AlertSetup,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let address = base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    if setup.patients.is_empty() {
        return Err("no patient to record readings".to_owned());
    }
    let cookie = &setup.clinician_cookie;
    let mut stream = EventStream::open(&address, cookie, None).await?;
    let mut latencies = Vec::with_capacity(count);
    for index in 0..count {
        let (patient, patient_cookie) = &setup.patients[index % setup.patients.len()];
        let started = Instant::now();
        let request = tokio::spawn(post_reading(
            address.clone(),
            origin.trim_end_matches('/').to_owned(),
            patient_cookie.clone(),
        ));
        let wait = wait_for_alert(&mut stream, &address, cookie, *patient);
        tokio::time::timeout(ALERT_TIMEOUT, wait)
            .await
            .map_err(|_| format!("no alert within {ALERT_TIMEOUT:?} for reading {index}"))??;
        latencies.push(started.elapsed());
        request.await.map_err(|error| error.to_string())??;
    }
    Ok(latencies)
}

/// Reads the stream until an alert about `patient` arrives, reopening it from the last event
/// id when the server ends it (each stream lasts a minute).
async fn wait_for_alert(
    stream: &mut EventStream,
    address: &str,
    cookie: &str,
    patient: PatientId,
) -> Result<(), String> {
    let subject = format!("\"patient_id\":\"{patient}\"");
    loop {
        match stream.next_line().await? {
            Some(line) => {
                let is_alert = line.starts_with("data:") && line.contains("\"kind\":\"alert\"");
                if is_alert && line.contains(&subject) {
                    return Ok(());
                }
            }
            None => {
                let last_id = stream.last_id.clone();
                *stream = EventStream::open(address, cookie, last_id).await?;
            }
        }
    }
}

/// Posts one severe reading as the patient and checks that it was stored.
async fn post_reading(address: String, origin: String, cookie: String) -> Result<(), String> {
    let mut socket = TcpStream::connect(&address)
        .await
        .map_err(|error| format!("cannot connect to {address}: {error}"))?;
    let request = format!(
        "POST /api/portal/vitals/blood-pressure HTTP/1.1\r\nHost: {address}\r\n\
         Origin: {origin}\r\nCookie: nurture_session={cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{SEVERE_READING}",
        SEVERE_READING.len()
    );
    socket
        .write_all(request.as_bytes())
        .await
        .map_err(|error| error.to_string())?;
    let mut response = Vec::new();
    socket
        .read_to_end(&mut response)
        .await
        .map_err(|error| error.to_string())?;
    let response = String::from_utf8_lossy(&response);
    let status = response.lines().next().unwrap_or_default();
    if status.contains(" 200 ") {
        Ok(())
    } else {
        Err(format!("recording a reading answered {status:?}"))
    }
}
