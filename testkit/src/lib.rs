//! Test support for the imi workspace (unpublished): real outside components that
//! integration tests start for themselves.
//!
//! - [`oidc`]: a real OpenID provider (`oidc-provider`, the certified Node.js
//!   implementation, from npm), on a free loopback port, for the API's token validation
//!   and the web application's single sign-on.

pub mod oidc;
