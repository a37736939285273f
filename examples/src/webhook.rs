//! Webhook delivery of the outbox, for the example server: each message is POSTed as
//! JSON to the authority's endpoint, signed as [`imi_core::webhook`] documents.
//!
//! `https://` endpoints are reached over TLS (rustls, checking the server's certificate
//! against the Mozilla roots, or roots you give), and only at public addresses: the URL
//! is checked again at delivery and host names are resolved through [`PublicOnly`], so
//! a name cannot lead the server into its own network or to a cloud metadata service.
//! Plain `http://` and loopback only with [`WebhookNotifier::allowing_loopback`] (a local
//! bridge to a back-office system, or tests).

use std::time::Duration;

use async_trait::async_trait;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use imi_core::outbox::{Address, DeliveryError, Message, Notifier};
use imi_core::webhook::{UrlPolicy, check_url_with, payload, sign};

/// Resolves host names for webhook deliveries and keeps only addresses of the public
/// internet ([`imi_core::webhook::is_public_ip`]), or also loopback when allowed: a
/// name registered as public cannot later point the server at its own network or a
/// cloud metadata service.
#[derive(Clone, Copy, Debug)]
pub struct PublicOnly {
    allow_loopback: bool,
}

impl PublicOnly {
    /// Public addresses only.
    pub fn strict() -> Self {
        Self {
            allow_loopback: false,
        }
    }
}

impl tower::Service<Name> for PublicOnly {
    type Response = std::vec::IntoIter<std::net::SocketAddr>;
    type Error = std::io::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| {
                    imi_core::webhook::is_public_ip(a.ip())
                        || (allow_loopback && a.ip().is_loopback())
                })
                .collect();
            if found.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{name} resolves to no public address; deliveries go to the public internet only"
                    ),
                ));
            }
            Ok(found.into_iter())
        })
    }
}

/// Delivers outbox messages to webhooks.
pub struct WebhookNotifier {
    client: Client<HttpsConnector<HttpConnector<PublicOnly>>, Full<Bytes>>,
    timeout: Duration,
    policy: UrlPolicy,
    tls: rustls::ClientConfig,
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
        Self::build(roots, timeout, UrlPolicy::default())
    }

    /// Also delivers to this machine (`http://` or `https://` to loopback): a local
    /// bridge to a back-office system, or tests. Never to other private addresses.
    #[must_use]
    pub fn allowing_loopback(self) -> Self {
        let policy = UrlPolicy {
            allow_loopback: true,
        };
        Self {
            client: Self::client(self.tls.clone(), self.timeout, policy),
            policy,
            ..self
        }
    }

    fn build(
        roots: rustls::RootCertStore,
        timeout: Duration,
        policy: UrlPolicy,
    ) -> Result<Self, rustls::Error> {
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            client: Self::client(tls.clone(), timeout, policy),
            timeout,
            policy,
            tls,
        })
    }

    fn client(
        tls: rustls::ClientConfig,
        timeout: Duration,
        policy: UrlPolicy,
    ) -> Client<HttpsConnector<HttpConnector<PublicOnly>>, Full<Bytes>> {
        let mut http = HttpConnector::new_with_resolver(PublicOnly {
            allow_loopback: policy.allow_loopback,
        });
        http.set_connect_timeout(Some(timeout));
        http.enforce_http(false);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Client::builder(TokioExecutor::new()).build(connector)
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let fail = |message: String| DeliveryError { message };
        let Address::Webhook { url, secret, .. } = &message.to else {
            return Err(fail("not a webhook".to_owned()));
        };
        // Checked again at delivery: an endpoint stored before the policy, or a literal
        // address, must be public too.
        check_url_with(url, self.policy).map_err(|e| fail(format!("{url}: {e}")))?;
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
