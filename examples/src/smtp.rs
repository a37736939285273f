//! E-mail delivery of the outbox over SMTP, for the example server.
//!
//! [`SmtpNotifier`] hands each message to an SMTP server (typically the installation's
//! relay, which does TLS and routing onward) with `lettre`. The message's idempotency key
//! becomes the `Message-ID`, so mail systems and readers can drop a duplicate.

use async_trait::async_trait;
use imi_core::outbox::{Address, DeliveryError, Message, Notifier};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Why the SMTP settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    /// The sender address is not an address.
    #[error("bad sender address `{address}`: {reason}")]
    BadFrom {
        /// What was given.
        address: String,
        /// Why it is refused.
        reason: String,
    },
}

/// Delivers outbox messages as e-mail through an SMTP server.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    link_base: String,
}

impl SmtpNotifier {
    /// A notifier sending through the SMTP server at `host:port` (plain SMTP, as to a
    /// local relay), from `from`, with links under `link_base` (the public address of
    /// the API, e.g. `https://imi.example.eu`).
    pub fn new(
        host: &str,
        port: u16,
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
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .build();
        Ok(Self {
            transport,
            from,
            link_base: link_base.trim_end_matches('/').to_owned(),
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
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| fail(&e))
    }
}
