//! The POS backend's stream of HubRise events for this till (`GET /hubrise/events`, Server-Sent
//! Events; `passerelle-bridge` serves it, docs/pos-backend-contract.md). HubRise posts each
//! event to the backend as it happens (its active callback); the backend relays it here, so an
//! order reaches the till in well under a second instead of at the next poll. A backend without
//! the route answers 404: the till then polls only, as before.
//!
//! The other way, the till reports each change it made at HubRise (`POST /hubrise/changes`):
//! HubRise never tells a client of its own changes, so the backend relays it on the stream to the
//! location's other tills.

use std::time::Duration;

use super::backend::{PosBackend, server_error, token_refused, transport, unexpected};
use crate::error::Result;
use crate::secrets::Secret;

/// Where the backend serves the stream.
const EVENT_STREAM_PATH: &str = "/hubrise/events";
/// Where the till reports the changes it made, for its siblings.
const CHANGES_PATH: &str = "/hubrise/changes";
/// A stream lasts minutes (the bridge ends one after five and the till opens another); this
/// bounds one that never ends.
const STREAM_LIFETIME: Duration = Duration::from_secs(600);

/// The message that opens a stream: `hubrise_events` lists the locations whose HubRise events
/// the backend receives itself (its active callback is on them).
pub const READY: &str = "ready";
/// Events of a location were lost (pruned while the till was away): catch up from HubRise.
pub const GAP: &str = "gap";
/// A change another till made at HubRise (`order_id`, `status`, `device_id`).
pub const TILL_CHANGE: &str = "till.change";

/// One message of the stream: `event` names it (`order.create`, `order.update`, [`GAP`],
/// [`READY`], [`TILL_CHANGE`]), `id` is where to resume from (`Last-Event-ID`), `data` its JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMessage {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

/// An open stream: its messages, read as they come.
pub struct EventStream {
    response: reqwest::Response,
    reader: SseReader,
}

impl EventStream {
    /// The next messages; an empty list for a chunk that held none (a keep-alive), `None` when
    /// the backend ended the stream.
    pub async fn next(&mut self) -> Result<Option<Vec<StreamMessage>>> {
        match self.response.chunk().await.map_err(transport)? {
            Some(chunk) => Ok(Some(self.reader.push(&chunk))),
            None => Ok(None),
        }
    }
}

/// A change this till made at HubRise (HubRise accepted it), for the location's other tills.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeMade {
    /// Unique among this device's changes; the report makes it unique among all tills by the
    /// device's id, and the backend keeps a change once.
    pub change_id: String,
    pub location_id: String,
    pub order_id: String,
    /// HubRise's status after the change.
    pub status: String,
}

impl PosBackend {
    /// Reports a change this till (`device_id`) made. `false` when the backend does not relay
    /// changes (404): the till's siblings then see it by reading HubRise, as before.
    pub async fn report_change(
        &self,
        access_token: &Secret,
        device_id: &str,
        change: &ChangeMade,
    ) -> Result<bool> {
        let mut body = serde_json::to_value(change).map_err(|e| unexpected(&e.to_string()))?;
        body["device_id"] = serde_json::Value::String(device_id.to_owned());
        body["change_id"] = serde_json::Value::String(format!("{device_id}:{}", change.change_id));
        let response = self
            .authorized(reqwest::Method::POST, CHANGES_PATH, access_token)?
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            401 => Err(token_refused()),
            status @ 500..=599 => Err(server_error(status)),
            status => Err(unexpected(&format!("change report: status {status}"))),
        }
    }

    /// Opens the stream of this till's (`device_id`'s) locations' events, from `last_event_id`
    /// when it had one. `None` when the backend has no stream (404).
    pub async fn open_event_stream(
        &self,
        access_token: &Secret,
        device_id: &str,
        last_event_id: Option<&str>,
    ) -> Result<Option<EventStream>> {
        let mut request = self
            .authorized(reqwest::Method::GET, EVENT_STREAM_PATH, access_token)?
            .query(&[("device_id", device_id)])
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .timeout(STREAM_LIFETIME);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.map_err(transport)?;
        match response.status().as_u16() {
            200 => Ok(Some(EventStream {
                response,
                reader: SseReader::default(),
            })),
            404 => Ok(None),
            401 => Err(token_refused()),
            status @ 500..=599 => Err(server_error(status)),
            status => Err(unexpected(&format!("event stream: status {status}"))),
        }
    }
}

/// Reads Server-Sent Events as bytes arrive (the WHATWG rules): lines end with LF, CRLF or CR;
/// a blank line ends a message; `:` starts a comment (keep-alives); `data` lines join with LF;
/// an `id` holds until the next one. A chunk may end anywhere, even inside a character.
#[derive(Debug, Default)]
pub struct SseReader {
    pending: Vec<u8>,
    /// A CR ended the last chunk: an LF opening the next one belongs to it.
    after_cr: bool,
    last_id: Option<String>,
    event: String,
    data: Option<String>,
}

/// The longest message kept (an order event is a few KiB): longer lines are dropped.
const MAX_PENDING: usize = 1 << 20;

impl SseReader {
    /// Takes a chunk; returns the messages it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<StreamMessage> {
        let mut done = Vec::new();
        for &byte in chunk {
            let after_cr = std::mem::take(&mut self.after_cr);
            match byte {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.pending);
                    if let Some(message) = self.line(&String::from_utf8_lossy(&line)) {
                        done.push(message);
                    }
                }
                _ if self.pending.len() >= MAX_PENDING => {}
                _ => self.pending.push(byte),
            }
        }
        done
    }

    fn line(&mut self, line: &str) -> Option<StreamMessage> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<StreamMessage> {
        let event = std::mem::take(&mut self.event);
        let data = self.data.take()?;
        Some(StreamMessage {
            id: self.last_id.clone(),
            event: if event.is_empty() {
                "message".into()
            } else {
                event
            },
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, event: &str, data: &str) -> StreamMessage {
        StreamMessage {
            id: Some(id.into()),
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn messages_are_read_whatever_the_chunks() {
        let stream = "id: a:1\nevent: order.create\ndata: {\"x\":1}\n\n:keep-alive\n\nid: a:2\r\nevent: gap\r\ndata: é\r\n\r\n";
        let whole = SseReader::default().push(stream.as_bytes());
        assert_eq!(
            whole,
            vec![
                message("a:1", "order.create", "{\"x\":1}"),
                message("a:2", "gap", "é")
            ]
        );
        // Byte by byte: a chunk may end inside a CRLF or a character.
        let mut reader = SseReader::default();
        let split: Vec<StreamMessage> = stream
            .as_bytes()
            .iter()
            .flat_map(|b| reader.push(&[*b]))
            .collect();
        assert_eq!(split, whole);
    }

    #[test]
    fn data_lines_join_the_id_holds_and_a_message_without_data_is_none() {
        let mut reader = SseReader::default();
        let got = reader.push(b"id: 7\ndata: a\ndata: b\n\nevent: x\n\ndata: c\n\n");
        assert_eq!(
            got,
            vec![
                message("7", "message", "a\nb"),
                message("7", "message", "c")
            ]
        );
    }
}
