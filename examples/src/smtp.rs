//! E-mail delivery of the outbox over SMTP, for the example server.
//!
//! [`SmtpNotifier`] hands each message to an SMTP server with `lettre`: over TLS (STARTTLS
//! by default, or TLS from the first byte), checking the server's certificate against the
//! Mozilla roots or roots you give, and signing in when credentials are given. Plain SMTP
//! only to a relay on this machine. The message's idempotency key becomes the
//! `Message-ID`, so mail systems and readers can drop a duplicate.

use async_trait::async_trait;
use imi_core::outbox::{Address, DeliveryError, Message, Notifier};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Why the SMTP settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpConfigError {
    /// The sender address is not an address.
    #[error("bad sender address `{address}`: {reason}")]
    BadFrom {
        /// What was given.
        address: String,
        /// Why it is refused.
        reason: String,
    },
    /// Plain SMTP (no TLS) to another machine would send messages and passwords in clear.
    #[error(
        "plain SMTP without TLS is allowed only to a relay on this machine, not to `{host}`; use starttls or tls"
    )]
    PlainToRemote {
        /// The host.
        host: String,
    },
    /// The TLS settings could not be built (a bad root certificate, say).
    #[error("TLS settings for `{host}`: {reason}")]
    Tls {
        /// The host.
        host: String,
        /// What went wrong.
        reason: String,
    },
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only to a relay on this machine.
    Plain,
}

impl std::str::FromStr for SmtpSecurity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::Plain),
            other => Err(format!(
                "unknown SMTP security `{other}`: use starttls, tls or none"
            )),
        }
    }
}

/// Where and how to reach the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// The server's host name (checked against its certificate).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// User name and password, if the server wants them (sent only over TLS, or to
    /// this machine).
    pub credentials: Option<(String, String)>,
    /// Root certificates (DER) trusted besides the Mozilla roots: a private PKI, tests.
    pub extra_roots: Vec<Vec<u8>>,
    /// How long one SMTP command may wait for the server (default 10 s).
    pub timeout: std::time::Duration,
}

impl SmtpSettings {
    /// STARTTLS to `host:port`, no credentials, the Mozilla roots.
    pub fn new(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
            security: SmtpSecurity::StartTls,
            credentials: None,
            extra_roots: Vec::new(),
            timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// Whether `host` names this machine.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Delivers outbox messages as e-mail through an SMTP server.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    link_base: String,
    timeout: std::time::Duration,
}

impl SmtpNotifier {
    /// A notifier sending through a relay on this machine at `host:port` over plain
    /// SMTP (see [`SmtpNotifier::with_settings`] for TLS and credentials), from `from`,
    /// with links under `link_base` (the public address of the API, e.g.
    /// `https://imi.example.eu`). Refused for a `host` that is not this machine.
    pub fn new(
        host: &str,
        port: u16,
        from: &str,
        link_base: &str,
    ) -> Result<Self, SmtpConfigError> {
        let settings = SmtpSettings {
            security: SmtpSecurity::Plain,
            ..SmtpSettings::new(host, port)
        };
        Self::with_settings(&settings, from, link_base)
    }

    /// A notifier sending through the SMTP server `settings` describe.
    pub fn with_settings(
        settings: &SmtpSettings,
        from: &str,
        link_base: &str,
    ) -> Result<Self, SmtpConfigError> {
        let from: Mailbox =
            from.parse().map_err(
                |e: lettre::address::AddressError| SmtpConfigError::BadFrom {
                    address: from.to_owned(),
                    reason: e.to_string(),
                },
            )?;
        let host = settings.host.as_str();
        let tls_error = |e: &dyn std::fmt::Display| SmtpConfigError::Tls {
            host: host.to_owned(),
            reason: e.to_string(),
        };
        let tls = || {
            let mut params = TlsParameters::builder(host.to_owned());
            for der in &settings.extra_roots {
                params = params.add_root_certificate(
                    Certificate::from_der(der.clone()).map_err(|e| tls_error(&e))?,
                );
            }
            params.build_rustls().map_err(|e| tls_error(&e))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port)
            .timeout(Some(settings.timeout));
        builder = match settings.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::Plain if is_loopback(host) => builder.tls(Tls::None),
            SmtpSecurity::Plain => {
                return Err(SmtpConfigError::PlainToRemote {
                    host: host.to_owned(),
                });
            }
        };
        if let Some((user, password)) = &settings.credentials {
            builder = builder
                .credentials(Credentials::new(user.clone(), password.clone()))
                .authentication(vec![Mechanism::Plain]);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            link_base: link_base.trim_end_matches('/').to_owned(),
            // The whole exchange, not only the connection, is bounded.
            timeout: settings.timeout * 3,
        })
    }
}

/// The `Message-ID` of a message: its idempotency key, in the characters a message id
/// allows.
pub fn message_id(message: &Message) -> String {
    let local: String = message
        .idempotency_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<{local}@imi.invalid>")
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let fail = |e: &dyn std::fmt::Display| DeliveryError {
            message: e.to_string(),
        };
        let Address::Email { address } = &message.to else {
            return Err(DeliveryError {
                message: "not an e-mail address".to_owned(),
            });
        };
        let to: Mailbox = address.as_str().parse().map_err(|e| fail(&e))?;
        let mut body = format!(
            "{}\n\n{}{}\n",
            message.subject, self.link_base, message.link
        );
        if message.possible_duplicate {
            body.push_str("\n(sent again: you may have received this already)\n");
        }
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .message_id(Some(message_id(message)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| fail(&e))?;
        match tokio::time::timeout(self.timeout, self.transport.send(email)).await {
            Ok(sent) => sent.map(|_| ()).map_err(|e| fail(&e)),
            Err(_) => Err(fail(&format!(
                "the SMTP server did not finish within {:?}",
                self.timeout
            ))),
        }
    }
}
