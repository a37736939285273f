//! Webhook delivery of the outbox, for the example server: each message is POSTed as
//! JSON to the authority's endpoint, signed as [`imi_core::webhook`] documents.
//!
//! `https://` endpoints are reached over TLS (rustls, checking the server's certificate
//! against the Mozilla roots, or roots you give); plain `http://` only to this machine, as
//! the core allows (a local bridge to a back-office system, or tests).

use std::time::Duration;

use async_trait::async_trait;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use imi_core::outbox::{Address, DeliveryError, Message, Notifier};
use imi_core::webhook::{payload, sign};

/// Delivers outbox messages to webhooks.
pub struct WebhookNotifier {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl WebhookNotifier {
    /// A notifier that trusts the Mozilla root certificates and waits at most `timeout`
    /// for an endpoint to answer.
    pub fn new(timeout: Duration) -> Result<Self, rustls::Error> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self::with_roots(roots, timeout)
    }

    /// A notifier that trusts only `roots` (a private PKI, or tests).
    pub fn with_roots(
        roots: rustls::RootCertStore,
        timeout: Duration,
    ) -> Result<Self, rustls::Error> {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(timeout));
        http.enforce_http(false);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let fail = |message: String| DeliveryError { message };
        let Address::Webhook { url, secret, .. } = &message.to else {
            return Err(fail("not a webhook".to_owned()));
        };
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
