//! The model's state for the editor's status item: the `ctxls/status` notification
//! `{"model": "busy" | "ready" | "error", "message"?}`, sent when it changes. Busy while
//! any request to a model (completion, explanation, action) is under way; after the last
//! one ends, ready, or error with the reason of the latest failure (until a request
//! succeeds). A request dropped because it was superseded or cancelled counts as ended
//! without changing the outcome. Notifications go out in order through one task.

use std::future::Future;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::Client;

use crate::io::llm::LlmError;

/// `ctxls/status` (server to client).
pub enum StatusNotification {}

impl Notification for StatusNotification {
    type Params = Value;
    const METHOD: &'static str = "ctxls/status";
}

#[derive(Default)]
pub struct ModelStatus {
    sender: OnceLock<mpsc::UnboundedSender<Value>>,
    client: OnceLock<Client>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    in_flight: usize,
    last_error: Option<String>,
    sent: Option<Value>,
}

impl ModelStatus {
    pub fn set_client(&self, client: Client) {
        let _ = self.client.set(client);
    }

    /// Runs a model request, keeping the status current.
    pub async fn track<T>(&self, call: impl Future<Output = Result<T, LlmError>>) -> Result<T, LlmError> {
        self.change(|inner| inner.in_flight += 1);
        let mut guard = Ended { status: self, done: false };
        let result = call.await;
        guard.done = true;
        self.change(|inner| {
            inner.in_flight -= 1;
            match &result {
                Ok(_) => inner.last_error = None,
                Err(err) => inner.last_error = Some(err.to_string()),
            }
        });
        result
    }

    fn change(&self, f: impl FnOnce(&mut Inner)) {
        let value = {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut inner);
            let value = match (&inner.last_error, inner.in_flight) {
                (_, 1..) => json!({ "model": "busy" }),
                (Some(message), 0) => json!({ "model": "error", "message": message }),
                (None, 0) => json!({ "model": "ready" }),
            };
            if inner.sent.as_ref() == Some(&value) {
                return;
            }
            inner.sent = Some(value.clone());
            value
        };
        self.send(value);
    }

    fn send(&self, value: Value) {
        let Some(client) = self.client.get() else { return };
        let sender = self.sender.get_or_init(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
            let client = client.clone();
            tokio::spawn(async move {
                while let Some(value) = rx.recv().await {
                    client.send_notification::<StatusNotification>(value).await;
                }
            });
            tx
        });
        let _ = sender.send(value);
    }
}

/// Counts a dropped (superseded, cancelled) request as ended.
struct Ended<'a> {
    status: &'a ModelStatus,
    done: bool,
}

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.status.change(|inner| inner.in_flight = inner.in_flight.saturating_sub(1));
        }
    }
}
