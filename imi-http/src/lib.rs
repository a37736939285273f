//! # imi-http
//!
//! The thin, optional HTTP layer of the imi engine: it will parse requests, call the
//! [`imi_core::Engine`], and map results and errors to HTTP. No business rule lives here.
//!
//! Status: the crate holds its place in the workspace; the router, authentication,
//! language negotiation and the example server arrive with the HTTP API issue. Until then,
//! embed [`imi_core::Engine`] directly.
