//! Example programs embedding the imi engine (see `src/bin/`).
//!
//! This library target only exists so that the README's code is compiled and run as a
//! doctest against the real crates.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
