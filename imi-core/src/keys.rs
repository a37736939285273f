//! How the engine lays its data out in the store's single ordered key space.
//!
//! Every key starts with one [`Space`] byte naming what it holds, followed by
//! order-preserving parts: fixed-width ids and big-endian integers as they are, strings
//! escaped (`0x00` → `0x00 0xFF`) and terminated by `0x00`, so that the byte order of
//! keys is the order of their parts and no key of one tuple is a prefix of another's.
//!
//! | space | key | value |
//! |---|---|---|
//! | `Meta` | name | engine metadata (layout version) |
//! | `Authority` | authority id | the authority document (JSON) |
//! | `AuthorityByParticipant` | participant code, authority id | empty (index) |

use crate::ids::AuthorityId;

/// The first byte of every key: which kind of record it holds. Values are fixed forever
/// once released; new spaces take new numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Space {
    /// Engine metadata.
    #[allow(dead_code)]
    Meta = 0x00,
    /// Authority documents by id.
    Authority = 0x10,
    /// Index: authorities by participant (country or Commission).
    AuthorityByParticipant = 0x11,
}

/// Builds a key part by part.
#[derive(Debug, Clone)]
pub(crate) struct Key(Vec<u8>);

impl Key {
    pub(crate) fn new(space: Space) -> Self {
        let mut v = Vec::with_capacity(32);
        v.push(space as u8);
        Self(v)
    }

    /// A fixed-width 16-byte id.
    pub(crate) fn id(mut self, bytes: &[u8; 16]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// A string, escaped and terminated so that tuples sort part by part.
    pub(crate) fn str(mut self, s: &str) -> Self {
        for &b in s.as_bytes() {
            self.0.push(b);
            if b == 0 {
                self.0.push(0xFF);
            }
        }
        self.0.push(0);
        self
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// The key of an authority's document.
pub(crate) fn authority(id: AuthorityId) -> Vec<u8> {
    Key::new(Space::Authority).id(id.as_bytes()).into_bytes()
}

/// The prefix of the participant index for one participant code.
pub(crate) fn authorities_of_participant(code: &str) -> Vec<u8> {
    Key::new(Space::AuthorityByParticipant)
        .str(code)
        .into_bytes()
}

/// One entry of the participant index.
pub(crate) fn authority_by_participant(code: &str, id: AuthorityId) -> Vec<u8> {
    Key::new(Space::AuthorityByParticipant)
        .str(code)
        .id(id.as_bytes())
        .into_bytes()
}

/// The id at the end of an index key, if the key is long enough.
pub(crate) fn trailing_id(key: &[u8]) -> Option<[u8; 16]> {
    let start = key.len().checked_sub(16)?;
    key.get(start..)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_sort_as_tuples() {
        let a = Key::new(Space::Meta).str("ab").str("z").into_bytes();
        let b = Key::new(Space::Meta).str("abc").str("a").into_bytes();
        let c = Key::new(Space::Meta).str("a\0b").into_bytes();
        let d = Key::new(Space::Meta).str("a").into_bytes();
        assert!(a < b, "shorter string first, whatever follows");
        assert!(d < c && c < a, "escaped NUL sorts after end of string");
    }

    #[test]
    fn trailing_id_reads_back() {
        let bytes = [7u8; 16];
        let key = Key::new(Space::AuthorityByParticipant)
            .str("DK")
            .id(&bytes)
            .into_bytes();
        assert_eq!(trailing_id(&key), Some(bytes));
        assert_eq!(trailing_id(b"short"), None);
    }
}
