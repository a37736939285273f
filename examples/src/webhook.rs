//! Webhook delivery of the outbox, for the example server: each message is POSTed as
//! JSON to the authority's endpoint, signed as [`imi_core::webhook`] documents.
//!
//! This client speaks plain HTTP, which the core allows only to endpoints on this machine
//! (a local bridge to a back-office system, or tests); `https://` endpoints need a TLS
//! client, which this example does not include yet, and fail with a clear error (they are
//! retried and end in the dead letters).

use std::time::Duration;

use async_trait::async_trait;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use imi_core::outbox::{Address, DeliveryError, Message, Notifier};
use imi_core::webhook::{payload, sign};

/// Delivers outbox messages to webhooks.
pub struct WebhookNotifier {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Default for WebhookNotifier {
    fn default() -> Self {
        Self::new(Duration::from_secs(10))
    }
}

impl WebhookNotifier {
    /// A notifier that waits at most `timeout` for an endpoint to answer.
    pub fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let fail = |message: String| DeliveryError { message };
        let Address::Webhook { url, secret, .. } = &message.to else {
            return Err(fail("not a webhook".to_owned()));
        };
        if !url.starts_with("http://") {
            return Err(fail(format!(
                "{url}: this server has no TLS client for https:// endpoints"
            )));
        }
        let body = payload(message);
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(secret, &message.idempotency_key, timestamp, &body);
        let request = hyper::Request::post(url.as_str())
            .header("content-type", "application/json")
            .header("webhook-id", message.idempotency_key.as_str())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| fail(format!("{url}: {e}")))?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| fail(format!("{url}: no answer within {:?}", self.timeout)))?
            .map_err(|e| fail(format!("{url}: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(fail(format!("{url}: HTTP {}", response.status())))
        }
    }
}

/// Routes each message to its channel: e-mail or webhook.
pub struct Channels<E> {
    /// The e-mail channel.
    pub email: E,
    /// The webhook channel.
    pub webhooks: WebhookNotifier,
}

#[async_trait]
impl<E: Notifier> Notifier for Channels<E> {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        match message.to {
            Address::Email { .. } => self.email.deliver(message).await,
            Address::Webhook { .. } => self.webhooks.deliver(message).await,
        }
    }
}
