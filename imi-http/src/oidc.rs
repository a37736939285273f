//! OpenID Connect for the API (feature `oidc`): an [`Authenticator`] that accepts JWT
//! access tokens (RFC 9068) issued by an OpenID provider, so an installation can sit
//! behind a single sign-on service such as the Commission's.
//!
//! How a token is checked:
//! 1. Its header names an allowed algorithm (RS256, RS384, RS512, PS256, ES256, ES384 by
//!    default; never `none`, never HMAC) and a key id (`kid`).
//! 2. The key comes from the issuer's published key set: the discovery document
//!    (`{issuer}/.well-known/openid-configuration`) names `jwks_uri`; keys are fetched,
//!    cached for [`OidcConfig::keys_ttl`], and fetched again early when a token names a key
//!    the cache does not hold (at most once per [`OidcConfig::refetch_interval`]), so keys
//!    the provider rotates in are picked up at once and keys it drops stop working within
//!    the time to live.
//! 3. The signature, `iss` (exactly the configured issuer), `aud` (must contain the
//!    configured audience), `exp` and `nbf` (with [`OidcConfig::leeway`]) are verified by
//!    the `jsonwebtoken` crate.
//! 4. The claim [`OidcConfig::user_claim`] holds the id of the imi user (or service account)
//!    the token acts as; the engine then builds the actor as for any other credential
//!    ([`Engine::actor_for`]): unknown or disabled users are refused.
//!
//! Bearer tokens that start with `imi_` are the engine's own API tokens and are checked
//! by [`BearerTokens`], so both kinds work side by side.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::http::header;
use axum::http::request::Parts;
use http_body_util::{BodyExt, Full, Limited};
use imi_core::user::TOKEN_PREFIX;
use imi_core::{Engine, EngineError, UserId, access::Actor};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::extract::{Authenticator, BearerTokens};
use crate::problem::Problem;

/// Where the provider is and what a token must say.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer, exactly as tokens carry it in `iss` (e.g.
    /// `https://ecas.ec.europa.eu/cas/oauth2`); its discovery document is read from
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The audience this API is: tokens must name it in `aud`.
    pub audience: String,
    /// The claim holding the imi user id the token acts as (default `imi_user`).
    pub user_claim: String,
    /// The signature algorithms accepted.
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed when checking `exp` and `nbf` (default 30 s).
    pub leeway: Duration,
    /// How long fetched keys are used before they are fetched again (default 10 min).
    pub keys_ttl: Duration,
    /// The shortest time between two fetches caused by unknown key ids (default 10 s).
    pub refetch_interval: Duration,
    /// How long one fetch may take (default 5 s).
    pub timeout: Duration,
    /// Whether the provider may be reached over plain `http` (only for a provider on
    /// this machine: tests and development). Default `false`: `https` only.
    pub allow_http: bool,
}

impl OidcConfig {
    /// A configuration for `issuer` and `audience` with the defaults.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            user_claim: "imi_user".to_owned(),
            algorithms: vec![
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::ES256,
                Algorithm::ES384,
            ],
            leeway: Duration::from_secs(30),
            keys_ttl: Duration::from_secs(600),
            refetch_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            allow_http: false,
        }
    }
}

/// Why the provider's keys could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The issuer or a URL it published is not an allowed `https` (or loopback `http`)
    /// URL.
    #[error("`{url}` is not an allowed URL: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The provider could not be reached or answered with an error.
    #[error("fetching {url} failed: {detail}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The provider refused the request (a 4xx answer, such as `invalid_grant` for a
    /// code that is bad, used or expired).
    #[error("{url} refused: {detail}")]
    Refused {
        /// The URL.
        url: String,
        /// Its status and OAuth error.
        detail: String,
    },
    /// The provider's answer was not the document expected.
    #[error("{url} did not answer with a valid {what}: {detail}")]
    BadDocument {
        /// The URL.
        url: String,
        /// Which document.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
}

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<bytes::Bytes>,
>;

/// A published key: the algorithm it declares (if any) and its family.
#[derive(Clone)]
struct Published {
    declared: Option<Algorithm>,
    family: Family,
    key: DecodingKey,
}

/// Which signature algorithms a key without a declared one may serve.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Rsa,
    P256,
    P384,
}

impl Family {
    fn serves(self, alg: Algorithm) -> bool {
        use Algorithm as A;
        matches!(
            (self, alg),
            (
                Family::Rsa,
                A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
            ) | (Family::P256, A::ES256)
                | (Family::P384, A::ES384)
        )
    }
}

/// The keys fetched last, and when; at most one fetch runs at a time.
#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, Published>,
    fetched: Option<Instant>,
    last_attempt: Option<Instant>,
    fetching: bool,
}

/// Validates JWT access tokens from one OpenID provider (and the engine's own `imi_`
/// tokens beside them).
pub struct OidcAuthenticator {
    config: OidcConfig,
    client: Client,
    cache: Mutex<KeyCache>,
}

impl std::fmt::Debug for OidcAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcAuthenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The part of the discovery document we use.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    /// Where a browser is sent to sign in (for [`OidcSignOn`]).
    authorization_endpoint: Option<String>,
    /// Where a code is redeemed (for [`OidcSignOn`]).
    token_endpoint: Option<String>,
}

impl OidcAuthenticator {
    /// An authenticator for `config`. Nothing is fetched until the first token arrives;
    /// [`OidcAuthenticator::refresh`] fetches the keys at once (to fail early at start).
    pub fn new(config: OidcConfig) -> Result<Arc<Self>, OidcError> {
        check_url(&config.issuer, config.allow_http)?;
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| OidcError::Fetch {
            url: config.issuer.clone(),
            detail: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Ok(Arc::new(Self {
            config,
            client,
            cache: Mutex::new(KeyCache::default()),
        }))
    }

    /// Fetches the discovery document and the key set now, replacing the cached keys.
    pub async fn refresh(&self) -> Result<usize, OidcError> {
        let keys = self.fetch().await?;
        let n = keys.len();
        let mut cache = self.cache.lock().await;
        cache.keys = keys;
        cache.fetched = Some(Instant::now());
        cache.last_attempt = cache.fetched;
        Ok(n)
    }

    /// The provider's current keys, fetched without holding the cache.
    async fn fetch(&self) -> Result<HashMap<String, Published>, OidcError> {
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&discovery_url, "discovery document").await?;
        if discovery.issuer != self.config.issuer {
            return Err(OidcError::BadDocument {
                url: discovery_url,
                what: "discovery document",
                detail: format!(
                    "it names issuer `{}`, not the configured `{}`",
                    discovery.issuer, self.config.issuer
                ),
            });
        }
        check_url(&discovery.jwks_uri, self.config.allow_http)?;
        let set: JwkSet = self
            .get_json(&discovery.jwks_uri, "JSON Web Key Set")
            .await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            // Signing keys only: a key published for encryption never verifies a token.
            if matches!(
                jwk.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            ) {
                continue;
            }
            let (Some(kid), Ok(key), Some(family)) = (
                jwk.common.key_id.clone(),
                DecodingKey::from_jwk(jwk),
                family(jwk),
            ) else {
                continue;
            };
            // A key that declares an algorithm we do not know is skipped, never guessed.
            let declared = match jwk.common.key_algorithm {
                Some(a) => match a.to_string().parse::<Algorithm>() {
                    Ok(alg) if family.serves(alg) => Some(alg),
                    _ => continue,
                },
                None => None,
            };
            keys.insert(
                kid,
                Published {
                    declared,
                    family,
                    key,
                },
            );
        }
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &'static str,
    ) -> Result<T, OidcError> {
        let request = axum::http::Request::get(url)
            .header(header::ACCEPT, "application/json")
            .body(Full::new(bytes::Bytes::new()));
        self.send_json(url, what, request).await
    }

    /// Sends `request` (to `url`) and reads its JSON answer as a `what`.
    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &'static str,
        request: Result<axum::http::Request<Full<bytes::Bytes>>, axum::http::Error>,
    ) -> Result<T, OidcError> {
        let fetch_error = |detail: String| OidcError::Fetch {
            url: url.to_owned(),
            detail,
        };
        let request = request.map_err(|e| fetch_error(e.to_string()))?;
        let work = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| fetch_error(e.to_string()))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), 1024 * 1024)
                .collect()
                .await
                .map_err(|e| fetch_error(e.to_string()))?
                .to_bytes();
            if status.is_client_error() {
                // The provider's own words (an OAuth error) say what it refused.
                let said = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .unwrap_or_default();
                return Err(OidcError::Refused {
                    url: url.to_owned(),
                    detail: format!("status {status} {said}"),
                });
            }
            if !status.is_success() {
                return Err(fetch_error(format!("status {status}")));
            }
            serde_json::from_slice(&body).map_err(|e| OidcError::BadDocument {
                url: url.to_owned(),
                what,
                detail: e.to_string(),
            })
        };
        tokio::time::timeout(self.config.timeout, work)
            .await
            .map_err(|_| fetch_error("timed out".to_owned()))?
    }

    /// The key `kid`. The key set is fetched again when it is older than the time to
    /// live or does not know `kid`, at most once per refetch interval and by one caller
    /// at a time (the others go on with the cached keys, never waiting on the provider).
    /// Keys older than twice the time to live are not used: a provider that stays
    /// unreachable cannot keep dropped keys alive.
    async fn key(&self, kid: &str) -> Result<Option<Published>, OidcError> {
        let fetch_now = {
            let mut cache = self.cache.lock().await;
            let stale = cache
                .fetched
                .is_none_or(|at| at.elapsed() >= self.config.keys_ttl);
            let may_fetch = !cache.fetching
                && cache
                    .last_attempt
                    .is_none_or(|at| at.elapsed() >= self.config.refetch_interval);
            let wanted = stale || !cache.keys.contains_key(kid);
            if wanted && may_fetch {
                cache.fetching = true;
                cache.last_attempt = Some(Instant::now());
                true
            } else {
                false
            }
        };
        if fetch_now {
            let fetched = self.fetch().await;
            let mut cache = self.cache.lock().await;
            cache.fetching = false;
            match fetched {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.fetched = Some(Instant::now());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not fetch the OpenID provider's keys");
                }
            }
        }
        let cache = self.cache.lock().await;
        match cache.fetched {
            Some(at) if at.elapsed() < self.config.keys_ttl * 2 => Ok(cache.keys.get(kid).cloned()),
            _ => Err(OidcError::Fetch {
                url: self.config.issuer.clone(),
                detail: "no current keys: the provider could not be reached".to_owned(),
            }),
        }
    }

    /// Checks a JWT and returns the user it acts as.
    pub async fn verify(&self, token: &str) -> Result<UserId, Problem> {
        let claims = self.claims(token).await.map_err(|e| match e {
            Invalid::Token(why) => {
                Problem::unauthenticated(format!("the access token is not valid: {why}"))
            }
            Invalid::Unavailable => Problem::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "the sign-on service's keys cannot be fetched; try again later",
            ),
        })?;
        self.user_in(&claims).ok_or_else(|| {
            Problem::unauthenticated("the access token is not valid: it names no imi user")
        })
    }

    /// The imi user a token's claims name.
    fn user_in(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Option<UserId> {
        claims
            .get(&self.config.user_claim)
            .and_then(serde_json::Value::as_str)
            .and_then(|s| s.parse::<UserId>().ok())
    }

    /// The claims of a JWT whose signature (by a published key, with an accepted
    /// algorithm that fits it), issuer, audience and times are valid.
    async fn claims(
        &self,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Invalid> {
        let invalid = |why: &str| Invalid::Token(why.to_owned());
        let head = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
        if !self.config.algorithms.contains(&head.alg) {
            return Err(invalid("its signature algorithm is not accepted"));
        }
        let kid = head.kid.ok_or_else(|| invalid("it names no key"))?;
        let published = self
            .key(&kid)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "OpenID provider unavailable");
                Invalid::Unavailable
            })?
            .ok_or_else(|| invalid("it is signed with an unknown key"))?;
        let fits = match published.declared {
            Some(alg) => alg == head.alg,
            None => published.family.serves(head.alg),
        };
        if !fits {
            return Err(invalid("its algorithm does not fit its key"));
        }
        let key = published.key;
        let mut validation = Validation::new(head.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &validation,
        )
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            invalid(match e.kind() {
                K::ExpiredSignature => "it has expired",
                K::ImmatureSignature => "it is not valid yet",
                K::InvalidIssuer => "it is from another issuer",
                K::InvalidAudience => "it is meant for another audience",
                K::InvalidSignature => "its signature does not verify",
                K::MissingRequiredClaim(_) => "a required claim is missing",
                _ => "it does not verify",
            })
        })?;
        Ok(data.claims)
    }
}

/// Why a token's claims cannot be had.
enum Invalid {
    /// The token is not valid: why.
    Token(String),
    /// The provider's keys cannot be fetched.
    Unavailable,
}

#[async_trait]
impl Authenticator for OidcAuthenticator {
    async fn authenticate(&self, engine: &Engine, parts: &Parts) -> Result<Option<Actor>, Problem> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|t| t.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| Problem::unauthenticated("expected `Authorization: Bearer <token>`"))?;
        if token.starts_with(TOKEN_PREFIX) {
            return BearerTokens.authenticate(engine, parts).await;
        }
        let user = self.verify(token).await?;
        match engine.actor_for(user).await {
            Ok(actor) => Ok(Some(actor)),
            Err(EngineError::Unauthenticated | EngineError::NotFound { .. }) => Err(
                Problem::unauthenticated("the access token names no active imi user"),
            ),
            Err(e) => Err(e.into()),
        }
    }
}

/// The family of a published key's algorithms (RSA, or the EC curve).
fn family(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Family> {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    match &jwk.algorithm {
        P::RSA(_) => Some(Family::Rsa),
        P::EllipticCurve(ec) => match ec.curve {
            jsonwebtoken::jwk::EllipticCurve::P256 => Some(Family::P256),
            jsonwebtoken::jwk::EllipticCurve::P384 => Some(Family::P384),
            _ => None,
        },
        _ => None,
    }
}

/// `https`, or `http` to a loopback host when allowed.
fn check_url(url: &str, allow_http: bool) -> Result<(), OidcError> {
    let bad = |reason| OidcError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    let uri: axum::http::Uri = url.parse().map_err(|_| bad("it does not parse"))?;
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if allow_http => {
            let host = uri.host().unwrap_or_default();
            let loopback = host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(bad("plain http is allowed only to this machine"))
            }
        }
        Some("http") => Err(bad("the provider must be reached over https")),
        _ => Err(bad("it is not an http(s) URL")),
    }
}

/// Where the web application's single sign-on goes, and who it is there (an OpenID
/// Connect client registered with the provider). Its `Debug` hides the client secret.
#[derive(Clone)]
pub struct SignOnConfig {
    /// The issuer, exactly as identity tokens carry it in `iss`.
    pub issuer: String,
    /// This application's client id at the provider (identity tokens name it in `aud`).
    pub client_id: String,
    /// Its client secret, if it is a confidential client (sent with HTTP Basic
    /// authentication when a code is redeemed).
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: the web application's
    /// `/sign-in/callback`, as registered with the provider.
    pub redirect_uri: String,
    /// The provider's name on the sign-in page ("EU Login").
    pub name: String,
    /// The claim of the identity token that holds the imi user id (default `imi_user`).
    pub user_claim: String,
    /// The scopes asked for (default `openid`).
    pub scope: String,
    /// Allow plain `http` to a loopback provider (tests and local development only).
    pub allow_http: bool,
}

impl std::fmt::Debug for SignOnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignOnConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "(hidden)"),
            )
            .field("redirect_uri", &self.redirect_uri)
            .field("name", &self.name)
            .field("user_claim", &self.user_claim)
            .field("scope", &self.scope)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl SignOnConfig {
    /// A configuration with the defaults: claim `imi_user`, scope `openid`, https only.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: redirect_uri.into(),
            name: "single sign-on".to_owned(),
            user_claim: "imi_user".to_owned(),
            scope: "openid".to_owned(),
            allow_http: false,
        }
    }
}

/// The web application's single sign-on through an OpenID provider: the authorization
/// code flow with PKCE (`S256`), a `state` and a `nonce` per attempt, and the identity
/// token checked as access tokens are ([`OidcAuthenticator`]: published keys, accepted
/// algorithms, issuer, audience = the client id, times), plus its `nonce`.
pub struct OidcSignOn {
    tokens: Arc<OidcAuthenticator>,
    config: SignOnConfig,
    /// The authorization and token endpoints, once discovered.
    endpoints: Mutex<Option<(String, String)>>,
}

impl std::fmt::Debug for OidcSignOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSignOn")
            .field("issuer", &self.config.issuer)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

/// The part of a token endpoint's answer we use.
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: String,
}

impl OidcSignOn {
    /// A sign-on for `config`. Nothing is fetched until the first sign-in.
    pub fn new(config: SignOnConfig) -> Result<Arc<Self>, OidcError> {
        check_url(&config.redirect_uri, config.allow_http)?;
        let mut tokens = OidcConfig::new(config.issuer.clone(), config.client_id.clone());
        tokens.user_claim = config.user_claim.clone();
        tokens.allow_http = config.allow_http;
        Ok(Arc::new(Self {
            tokens: OidcAuthenticator::new(tokens)?,
            config,
            endpoints: Mutex::new(None),
        }))
    }

    /// The provider's authorization and token endpoints, from its discovery document.
    async fn endpoints(&self) -> Result<(String, String), OidcError> {
        if let Some(known) = self.endpoints.lock().await.clone() {
            return Ok(known);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let d: Discovery = self.tokens.get_json(&url, "discovery document").await?;
        let missing = |what: &str| OidcError::BadDocument {
            url: url.clone(),
            what: "discovery document",
            detail: format!("it names no {what}"),
        };
        if d.issuer != self.config.issuer {
            return Err(OidcError::BadDocument {
                url: url.clone(),
                what: "discovery document",
                detail: format!("it names issuer `{}`", d.issuer),
            });
        }
        let authorize = d
            .authorization_endpoint
            .ok_or_else(|| missing("authorization_endpoint"))?;
        let token = d.token_endpoint.ok_or_else(|| missing("token_endpoint"))?;
        check_url(&authorize, self.config.allow_http)?;
        check_url(&token, self.config.allow_http)?;
        let known = (authorize, token);
        *self.endpoints.lock().await = Some(known.clone());
        Ok(known)
    }
}

/// The sign-on error for a provider that failed or refused.
fn sign_on_error(e: OidcError) -> imi_core::session::SignOnError {
    use imi_core::session::SignOnError;
    tracing::warn!(error = %e, "single sign-on failed");
    match e {
        OidcError::Refused { .. } => SignOnError::Refused(e.to_string()),
        e => SignOnError::Unavailable(e.to_string()),
    }
}

/// Percent-encoding of a form or query value.
fn form_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[async_trait]
impl imi_core::session::SignOn for OidcSignOn {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn authorization_url(
        &self,
        attempt: &imi_core::session::SignOnAttempt,
    ) -> Result<String, imi_core::session::SignOnError> {
        let (authorize, _) = self.endpoints().await.map_err(sign_on_error)?;
        let joint = if authorize.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{authorize}{joint}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            form_encode(&self.config.client_id),
            form_encode(&self.config.redirect_uri),
            form_encode(&self.config.scope),
            form_encode(&attempt.state),
            form_encode(&attempt.nonce),
            attempt.challenge(),
        ))
    }

    async fn redeem(
        &self,
        code: &str,
        attempt: &imi_core::session::SignOnAttempt,
    ) -> Result<UserId, imi_core::session::SignOnError> {
        use base64::Engine as _;
        use imi_core::session::SignOnError;
        let (_, token_url) = self.endpoints().await.map_err(sign_on_error)?;
        let form = format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}&client_id={}",
            form_encode(code),
            form_encode(&self.config.redirect_uri),
            form_encode(&attempt.verifier),
            form_encode(&self.config.client_id),
        );
        let mut request = axum::http::Request::post(&token_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(secret) = &self.config.client_secret {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                form_encode(&self.config.client_id),
                form_encode(secret)
            ));
            request = request.header(header::AUTHORIZATION, format!("Basic {basic}"));
        }
        let answer: TokenAnswer = self
            .tokens
            .send_json(
                &token_url,
                "token answer",
                request.body(Full::new(bytes::Bytes::from(form))),
            )
            .await
            .map_err(sign_on_error)?;
        let claims = self
            .tokens
            .claims(&answer.id_token)
            .await
            .map_err(|e| match e {
                Invalid::Token(why) => {
                    SignOnError::Refused(format!("the identity token is not valid: {why}"))
                }
                Invalid::Unavailable => {
                    SignOnError::Unavailable("the provider's keys cannot be fetched".into())
                }
            })?;
        let nonce = claims.get("nonce").and_then(serde_json::Value::as_str);
        if nonce != Some(attempt.nonce.as_str()) {
            return Err(SignOnError::Refused(
                "the identity token was not issued for this sign-in".into(),
            ));
        }
        self.tokens
            .user_in(&claims)
            .ok_or_else(|| SignOnError::Refused("the identity token names no imi user".into()))
    }
}
