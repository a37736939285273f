//! The directory of national registers.

use super::{Engine, corrupt_index};
use crate::access::{Action, Actor, decide};
use crate::catalogue::AreaId;
use crate::country::Participant;
use crate::error::EngineError;
use crate::fold::tokens;
use crate::ids::RegisterId;
use crate::keys::{self, Space};
use crate::language::{Language, LanguagePreferences};
use crate::page::{Cursor, Page, PageError, PageRequest};
use crate::record::Txn;
use crate::register::{Register, RegisterData};
use crate::store::{Scan, StoreExt};

/// What to look for among registers. Every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterQuery {
    /// Free text in any language: every word must begin a word of the register's name or
    /// content description (any translation).
    pub text: Option<String>,
    /// Only this country.
    pub participant: Option<Participant>,
    /// Only this area.
    pub area: Option<AreaId>,
}

/// A register found, with its name resolved for the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterHit {
    /// The register.
    pub register: Register,
    /// Its name for the reader.
    pub name: String,
    /// The language of `name`.
    pub name_language: Language,
    /// Whether `name` is a fallback.
    pub fallback: bool,
}

fn register_words(r: &RegisterData) -> Vec<String> {
    r.name
        .iter()
        .chain(r.content.iter())
        .flat_map(|(_, t)| tokens(t))
        .collect()
}

fn write_register(
    txn: &mut Txn<'_>,
    new: &Register,
    old: Option<&Register>,
) -> Result<(), EngineError> {
    let id = new.id.as_bytes();
    txn.put(keys::register(id), new)?;
    let terms = |r: &Register| -> std::collections::BTreeSet<Vec<u8>> {
        register_words(&r.data)
            .iter()
            .map(|w| keys::term(Space::RegisterTerm, w, Some(id)))
            .collect()
    };
    let new_keys = terms(new);
    let old_keys = old.map(terms).unwrap_or_default();
    for k in old_keys.difference(&new_keys) {
        txn.delete(k.clone());
    }
    for k in new_keys.difference(&old_keys) {
        txn.put_index(k.clone());
    }
    Ok(())
}

/// **National registers**: the directory of registers and its search.
impl Engine {
    /// Adds a register to the directory (a coordinator of its country and area).
    pub async fn create_register(
        &self,
        actor: &Actor,
        data: RegisterData,
    ) -> Result<Register, EngineError> {
        decide(
            actor,
            &Action::ManageRegisters {
                participant: data.participant,
                area: data.area.as_ref(),
            },
        )
        .into_result()?;
        data.validate()?;
        let now = self.now();
        let register = Register {
            id: self.ids.register(now),
            data,
            updated_at: now,
        };
        let mut txn = Txn::new(&*self.store);
        txn.expect_absent(keys::register(register.id.as_bytes()));
        write_register(&mut txn, &register, None)?;
        txn.commit().await?;
        Ok(register)
    }

    /// Replaces a register's content (a coordinator allowed to keep it before and after).
    pub async fn update_register(
        &self,
        actor: &Actor,
        id: RegisterId,
        data: RegisterData,
    ) -> Result<Register, EngineError> {
        data.validate()?;
        let mut txn = Txn::new(&*self.store);
        let old = self.register_in(&mut txn, actor, id).await?;
        decide(
            actor,
            &Action::ManageRegisters {
                participant: data.participant,
                area: data.area.as_ref(),
            },
        )
        .into_result()?;
        let new = Register {
            id,
            data,
            updated_at: self.now(),
        };
        write_register(&mut txn, &new, Some(&old))?;
        txn.commit().await?;
        Ok(new)
    }

    /// Removes a register from the directory.
    pub async fn delete_register(&self, actor: &Actor, id: RegisterId) -> Result<(), EngineError> {
        let mut txn = Txn::new(&*self.store);
        let old = self.register_in(&mut txn, actor, id).await?;
        txn.delete(keys::register(id.as_bytes()));
        for w in register_words(&old.data) {
            txn.delete(keys::term(Space::RegisterTerm, &w, Some(id.as_bytes())));
        }
        txn.commit().await?;
        Ok(())
    }

    async fn register_in(
        &self,
        txn: &mut Txn<'_>,
        actor: &Actor,
        id: RegisterId,
    ) -> Result<Register, EngineError> {
        let Some((old, _)) = txn.get::<Register>(&keys::register(id.as_bytes())).await? else {
            return Err(EngineError::NotFound {
                kind: RegisterId::KIND,
                id: id.to_string(),
            });
        };
        decide(
            actor,
            &Action::ManageRegisters {
                participant: old.data.participant,
                area: old.data.area.as_ref(),
            },
        )
        .into_result()?;
        Ok(old)
    }

    /// Reads one register entry (any registered user).
    pub async fn register(&self, actor: &Actor, id: RegisterId) -> Result<Register, EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        self.load(&keys::register(id.as_bytes()), RegisterId::KIND, &id)
            .await
    }

    /// Searches the directory of registers, in id order, one page at a time.
    pub async fn search_registers(
        &self,
        actor: &Actor,
        query: &RegisterQuery,
        reader: &LanguagePreferences,
        page: PageRequest,
    ) -> Result<Page<RegisterHit>, EngineError> {
        decide(actor, &Action::ReadDirectory).into_result()?;
        let words: Vec<String> = query
            .text
            .as_deref()
            .map(|t| tokens(t).collect())
            .unwrap_or_default();
        let after: Option<[u8; 16]> = match page.cursor() {
            Some(c) => Some(
                c.key_within(&[])?
                    .as_slice()
                    .try_into()
                    .map_err(|_| PageError::BadCursor)?,
            ),
            None => None,
        };
        let candidates: Vec<[u8; 16]> = if !words.is_empty() {
            self.most_selective(Space::RegisterTerm, &words)
                .await?
                .into_iter()
                .collect()
        } else {
            self.store
                .pages(Scan::prefix(&keys::register_prefix(), 4_096))
                .all()
                .await?
                .iter()
                .map(|e| keys::trailing_id(&e.key).ok_or_else(|| corrupt_index(&e.key)))
                .collect::<Result<_, _>>()?
        };
        let mut hits = Vec::new();
        for id in candidates
            .into_iter()
            .filter(|id| after.is_none_or(|a| *id > a))
        {
            if hits.len() == page.limit() {
                break;
            }
            let key = keys::register(&id);
            let Some(v) = self.store.get(&key).await? else {
                continue;
            };
            let register: Register = crate::record::decode(&key, &v.value)?;
            let d = &register.data;
            let all_words = register_words(d);
            let fits = query.participant.is_none_or(|p| d.participant == p)
                && query
                    .area
                    .as_ref()
                    .is_none_or(|a| d.area.as_ref() == Some(a))
                && words
                    .iter()
                    .all(|w| all_words.iter().any(|x| x.starts_with(w.as_str())));
            if fits {
                let r = d.name.resolve_for(reader);
                let (name, name_language, fallback) = (r.text.to_owned(), r.language, r.fallback);
                hits.push(RegisterHit {
                    register,
                    name,
                    name_language,
                    fallback,
                });
            }
        }
        let next = (hits.len() == page.limit())
            .then(|| {
                hits.last()
                    .map(|h| Cursor::from_key(h.register.id.as_bytes().to_vec()))
            })
            .flatten();
        Ok(Page { items: hits, next })
    }
}
