//! Writing, sealing and verifying the audit log (see [`crate::audit`]).

use super::{Engine, corrupt_index};
use crate::access::{Action, Actor, decide};
use crate::audit::{
    AuditAction, AuditBreak, AuditRecord, AuditReport, ChainHead, GENESIS, Purpose, SealedEntry,
    entry_hash,
};
use crate::case::ActorRef;
use crate::error::EngineError;
use crate::keys;
use crate::record::{Txn, decode};
use crate::store::{Scan, StoreExt};

/// **The audit log**: sealing and verifying the hash chain.
impl Engine {
    /// The actor as recorded in the audit log.
    pub(crate) fn actor_ref(actor: &Actor) -> ActorRef {
        match actor {
            Actor::User(p) => ActorRef::User {
                user: p.user(),
                authority: p.authority(),
            },
            Actor::System | Actor::Public => ActorRef::System,
        }
    }

    /// Adds a pending audit record to `txn`, so it commits with the act it records.
    pub(crate) fn audit(
        &self,
        txn: &mut Txn<'_>,
        actor: &Actor,
        action: AuditAction,
        purpose: Purpose,
    ) -> Result<(), EngineError> {
        self.audit_as(txn, Self::actor_ref(actor), action, purpose)
    }

    /// Adds a pending audit record by `actor` (already reduced to its reference) to
    /// `txn`: for actors without an account, such as a submitter proven by a secret.
    pub(crate) fn audit_as(
        &self,
        txn: &mut Txn<'_>,
        actor: ActorRef,
        action: AuditAction,
        purpose: Purpose,
    ) -> Result<(), EngineError> {
        let at = self.now();
        // Time, then this engine's counter, then random bits: records of one engine keep
        // their order within a millisecond, and engines never collide.
        let mut unique = *self.ids.case(at).as_bytes();
        let n = self
            .audit_counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unique[..8].copy_from_slice(&n.to_be_bytes());
        let record = AuditRecord {
            at,
            actor,
            action,
            purpose,
        };
        txn.put(
            keys::audit_pending(Some(at.timestamp_millis()), Some(&unique)),
            &record,
        )
    }

    /// The purpose of an administrative act by `actor`.
    pub(crate) fn admin_purpose(actor: &Actor) -> Purpose {
        match actor {
            Actor::User(_) => Purpose::Administer,
            Actor::System | Actor::Public => Purpose::Operate,
        }
    }

    /// Records an act on its own (reads, which change nothing else).
    pub(crate) async fn audit_now(
        &self,
        actor: &Actor,
        action: AuditAction,
        purpose: Purpose,
    ) -> Result<(), EngineError> {
        let mut txn = Txn::new(&*self.store);
        self.audit(&mut txn, actor, action, purpose)?;
        txn.commit().await?;
        Ok(())
    }

    /// Seals up to `batch` pending audit records into the hash chain, oldest first, in
    /// one commit; returns how many. Concurrent sealers cannot fork the chain: the head
    /// is part of the commit's checks, so one of them fails with a conflict and nothing
    /// of it applies.
    pub async fn seal_audit(&self, actor: &Actor, batch: usize) -> Result<usize, EngineError> {
        decide(actor, &Action::OperateAudit).into_result()?;
        let mut txn = Txn::new(&*self.store);
        let head: ChainHead = match txn.get::<ChainHead>(&keys::audit_head()).await? {
            Some((h, _)) => h,
            None => ChainHead {
                seq: 0,
                hash: GENESIS.to_owned(),
            },
        };
        let prefix = keys::audit_pending(None, None);
        let pending = self
            .store
            .scan(&Scan::prefix(&prefix, batch.clamp(1, 10_000)))
            .await?;
        if pending.entries.is_empty() {
            return Ok(0);
        }
        let mut seq = head.seq;
        let mut prev = head.hash;
        for e in &pending.entries {
            let record: AuditRecord = decode(&e.key, &e.value)?;
            seq += 1;
            let hash = entry_hash(seq, &prev, &record);
            let entry = SealedEntry {
                seq,
                record,
                prev: prev.clone(),
                hash: hash.clone(),
            };
            txn.create(keys::audit_chain(Some(seq)), &entry)?;
            txn.delete(e.key.clone());
            // The pending record must still be there: a concurrent sealer took it otherwise.
            txn.expect_present(e.key.clone());
            prev = hash;
        }
        txn.put(keys::audit_head(), &ChainHead { seq, hash: prev })?;
        txn.commit().await?;
        Ok(pending.entries.len())
    }

    /// Walks the whole audit chain and checks every entry's sequence, link and hash, and
    /// that the chain ends where its head says. `Ok(Err(_))` names the first break.
    pub async fn verify_audit(
        &self,
        actor: &Actor,
    ) -> Result<Result<AuditReport, AuditBreak>, EngineError> {
        decide(actor, &Action::VerifyAudit).into_result()?;
        let prefix = keys::audit_chain(None);
        let scan = Scan::prefix(&prefix, 4_096);
        let mut expected = 1u64;
        let mut prev = GENESIS.to_owned();
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            for e in &entries {
                let key_seq = e
                    .key
                    .get(prefix.len()..)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(|| corrupt_index(&e.key))?;
                let Ok(entry) = serde_json::from_slice::<SealedEntry>(&e.value) else {
                    return Ok(Err(AuditBreak::Altered {
                        seq: key_seq,
                        reason: "the entry is not readable",
                    }));
                };
                if key_seq != expected || entry.seq != expected {
                    return Ok(Err(AuditBreak::Gap {
                        expected,
                        found: key_seq,
                    }));
                }
                if entry.prev != prev {
                    return Ok(Err(AuditBreak::Altered {
                        seq: expected,
                        reason: "it does not link to the previous entry",
                    }));
                }
                if entry_hash(entry.seq, &entry.prev, &entry.record) != entry.hash {
                    return Ok(Err(AuditBreak::Altered {
                        seq: expected,
                        reason: "its hash does not match its content",
                    }));
                }
                prev = entry.hash;
                expected += 1;
            }
        }
        let last = expected - 1;
        let head: Option<ChainHead> = match self.store.get(&keys::audit_head()).await? {
            Some(v) => serde_json::from_slice(&v.value).ok(),
            None => None,
        };
        match head {
            Some(h) if h.seq != last || h.hash != prev => Ok(Err(AuditBreak::Truncated {
                head: h.seq,
                found: last,
            })),
            None if last > 0 => Ok(Err(AuditBreak::Truncated {
                head: 0,
                found: last,
            })),
            _ => Ok(Ok(AuditReport {
                entries: last,
                head: prev,
            })),
        }
    }
}
