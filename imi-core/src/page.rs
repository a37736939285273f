//! Pagination with opaque cursors.

use std::fmt;
use std::str::FromStr;

/// The default page size.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: usize = 500;

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The page size is 0 or above [`MAX_PAGE_SIZE`].
    #[error("page size {0} is outside 1..={MAX_PAGE_SIZE}")]
    BadLimit(usize),
    /// The cursor was not issued for this listing (or was tampered with).
    #[error("the cursor is not valid for this listing")]
    BadCursor,
}

/// Where a listing continues: opaque to callers, shown as hex text.
///
/// A cursor is only accepted by the listing that issued it: the engine checks it lies
/// inside that listing's key range, so a forged cursor cannot reach other data.
#[derive(Clone, PartialEq, Eq)]
pub struct Cursor(Vec<u8>);

impl Cursor {
    pub(crate) fn from_key(key: Vec<u8>) -> Self {
        Self(key)
    }

    /// The continuation key, if it lies within `prefix`.
    pub(crate) fn key_within(&self, prefix: &[u8]) -> Result<Vec<u8>, PageError> {
        if self.0.starts_with(prefix) {
            Ok(self.0.clone())
        } else {
            Err(PageError::BadCursor)
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

impl FromStr for Cursor {
    type Err = PageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.len().is_multiple_of(2) || s.len() > 2 * crate::store::MAX_KEY_LEN {
            return Err(PageError::BadCursor);
        }
        (0..s.len())
            .step_by(2)
            .map(|i| {
                s.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(PageError::BadCursor)
            })
            .collect::<Result<Vec<u8>, _>>()
            .map(Cursor)
    }
}

/// Which page of a listing to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: usize,
    after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

impl PageRequest {
    /// The first page, with `limit` items at most.
    pub fn first(limit: usize) -> Result<Self, PageError> {
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(PageError::BadLimit(limit));
        }
        Ok(Self { limit, after: None })
    }

    /// The page after `cursor`.
    #[must_use]
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.after = Some(cursor);
        self
    }

    /// The most items to return.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Where to continue, if not at the start.
    pub fn cursor(&self) -> Option<&Cursor> {
        self.after.as_ref()
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Pass to [`PageRequest::after`] for the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor::from_key(vec![0x11, 0x00, 0xff]);
        assert_eq!(c.to_string(), "1100ff");
        assert_eq!("1100ff".parse::<Cursor>(), Ok(c.clone()));
        for bad in ["1", "zz", "1100f", "é1"] {
            assert_eq!(bad.parse::<Cursor>(), Err(PageError::BadCursor), "{bad}");
        }
        assert_eq!(c.key_within(&[0x11]), Ok(vec![0x11, 0x00, 0xff]));
        assert_eq!(c.key_within(&[0x12]), Err(PageError::BadCursor));
    }

    #[test]
    fn page_size_limits() {
        assert!(PageRequest::first(0).is_err());
        assert!(PageRequest::first(MAX_PAGE_SIZE + 1).is_err());
        assert_eq!(PageRequest::first(10).unwrap().limit(), 10);
    }
}
