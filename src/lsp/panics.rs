//! A panic in a handler must not take the server down. tower-lsp-server polls handler
//! futures inside its service: a panic there would unwind through the serving loop and
//! end the session. `CatchPanics` wraps the service so that a handler's panic is caught,
//! logged with the method's name, and answered as an internal error (a notification's
//! panic is only logged); the server goes on with the next message. The state's mutex
//! is recovered from poisoning (`state::lock`), so later requests see the state as the
//! panicking handler left it.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::FutureExt;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Request, Response};
use tower_service::Service;

pub struct CatchPanics<S>(pub S);

impl<S> Service<Request> for CatchPanics<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Option<Response>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let id = request.id().cloned();
        let method = request.method().to_string();
        let handled = std::panic::catch_unwind(AssertUnwindSafe(|| self.0.call(request)));
        Box::pin(async move {
            let outcome = match handled {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            match outcome {
                Ok(result) => result,
                Err(panic) => {
                    let message = panic_message(panic.as_ref());
                    tracing::error!("{method} panicked: {message}");
                    let error = Error { code: ErrorCode::InternalError, message: format!("ctxls: internal error in {method}: {message}").into(), data: None };
                    Ok(id.map(|id| Response::from_error(id, error)))
                }
            }
        })
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}
