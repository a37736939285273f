//! Attachments of requests: chunked upload, need-to-know download.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::Engine;
use crate::access::Actor;
use crate::attachment::{
    Attachment, AttachmentError, ByteSource, CHUNK_SIZE, DEFAULT_MAX_ATTACHMENT, NewAttachment,
};
use crate::case::RequestCase;
use crate::catalogue::{AnswerValue, Answers, Side};
use crate::error::EngineError;
use crate::ids::{AttachmentId, CaseId};
use crate::keys;
use crate::record::{Txn, decode};
use crate::request::RequestState;
use crate::store::{Store, WriteBatch};
use crate::workflow::TransitionError;

/// Reads an attachment's content chunk by chunk, for streaming it out.
pub struct AttachmentReader {
    store: Arc<dyn Store>,
    id: AttachmentId,
    next: u32,
    total: u32,
}

impl std::fmt::Debug for AttachmentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentReader")
            .field("id", &self.id)
            .field("next", &self.next)
            .finish()
    }
}

impl AttachmentReader {
    /// The next chunk of content, or `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, EngineError> {
        if self.next >= self.total {
            return Ok(None);
        }
        let key = keys::attachment_chunk(self.id, self.next);
        let chunk = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| super::corrupt_index(&key))?;
        self.next += 1;
        Ok(Some(chunk.value))
    }
}

/// **Files**: uploads and downloads of a case's attachments, on need to know.
impl Engine {
    /// The side `actor` may attach files for in `case` now: the requester while drafting
    /// or while the request is open; the responder once it accepted and until closure.
    async fn upload_side(&self, actor: &Actor, case: &RequestCase) -> Result<Side, EngineError> {
        let roles = self.roles(actor, case).await?;
        let state = case.request.state();
        let open = state.is_open() || matches!(state, RequestState::Draft);
        if roles.requester && open {
            return Ok(Side::Requester);
        }
        if roles.responder && state.is_open() && state.recipient_may_see_personal_data() {
            return Ok(Side::Responder);
        }
        if crate::case::visibility(roles, &case.request).is_none() {
            return Err(EngineError::NotFound {
                kind: CaseId::KIND,
                id: case.id.to_string(),
            });
        }
        Err(EngineError::Denied(crate::access::Denial {
            actor: actor.to_string(),
            action: "attach a file",
            reason: "files are attached by the requester, or by the responder after accepting, while the request is open",
        }))
    }

    /// Uploads a file to a request, reading `source` chunk by chunk: the content is
    /// stored in chunks of 256 KiB as it arrives, never as one value, and the
    /// attachment exists (and can be referred to by answers) only once complete. Files
    /// over `DEFAULT_MAX_ATTACHMENT` bytes or of other media types are refused, and what
    /// was stored of them is removed.
    pub async fn upload_attachment(
        &self,
        actor: &Actor,
        case_id: CaseId,
        meta: NewAttachment,
        source: &mut dyn ByteSource,
    ) -> Result<Attachment, EngineError> {
        meta.validate()?;
        let Actor::User(p) = actor else {
            return Err(EngineError::Unauthenticated);
        };
        let case: RequestCase = self
            .load(&keys::case(case_id), CaseId::KIND, &case_id)
            .await?;
        let side = self.upload_side(actor, &case).await?;
        let now = self.now();
        let id = self.ids.attachment(now);
        let mut digest = Sha256::new();
        let mut size: u64 = 0;
        let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_SIZE);
        let mut chunks: u32 = 0;
        let result: Result<(), EngineError> = async {
            loop {
                let next = source.next_chunk().await?;
                let done = next.is_none();
                if let Some(bytes) = next {
                    size += bytes.len() as u64;
                    if size > DEFAULT_MAX_ATTACHMENT {
                        return Err(AttachmentError::TooLarge {
                            max: DEFAULT_MAX_ATTACHMENT,
                        }
                        .into());
                    }
                    digest.update(&bytes);
                    buffer.extend_from_slice(&bytes);
                }
                while buffer.len() >= CHUNK_SIZE || (done && !buffer.is_empty()) {
                    let take = buffer.len().min(CHUNK_SIZE);
                    let piece: Vec<u8> = buffer.drain(..take).collect();
                    let mut batch = WriteBatch::new();
                    batch.check(
                        keys::attachment_chunk(id, chunks),
                        crate::store::Precondition::Absent,
                    );
                    batch.put(keys::attachment_chunk(id, chunks), piece);
                    self.store.commit(batch).await?;
                    chunks += 1;
                }
                if done {
                    return Ok(());
                }
            }
        }
        .await;
        let result = result.and_then(|()| {
            if size == 0 {
                Err(AttachmentError::Empty.into())
            } else {
                Ok(())
            }
        });
        if let Err(e) = result {
            // Remove what was stored; the attachment never existed.
            let mut batch = WriteBatch::new();
            for i in 0..chunks {
                batch.delete(keys::attachment_chunk(id, i));
            }
            self.store.commit(batch).await?;
            return Err(e);
        }
        let sha256 = digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let attachment = Attachment {
            id,
            case: case_id,
            side,
            uploaded_by: p.user(),
            uploaded_at: now,
            name: meta.name.trim().to_owned(),
            media_type: crate::attachment::media_essence(&meta.media_type),
            size,
            chunks,
            sha256,
        };
        let mut txn = Txn::new(&*self.store);
        txn.create(keys::attachment(id), &attachment)?;
        txn.put_index(keys::case_attachment(case_id, Some(id)));
        let upload = crate::audit::AuditAction::UploadAttachment {
            case: case_id,
            attachment: id,
        };
        self.audit(&mut txn, actor, upload, crate::audit::Purpose::HandleCase)?;
        txn.commit().await?;
        Ok(attachment)
    }

    /// An attachment's description and a reader for its content, if `actor` may see it:
    /// the requester always; the responder once it accepted (need to know); nobody else.
    pub async fn open_attachment(
        &self,
        actor: &Actor,
        id: AttachmentId,
    ) -> Result<(Attachment, AttachmentReader), EngineError> {
        let not_found = || EngineError::NotFound {
            kind: AttachmentId::KIND,
            id: id.to_string(),
        };
        let key = keys::attachment(id);
        let attachment: Attachment = match self.store.get(&key).await? {
            Some(v) => decode(&key, &v.value)?,
            None => return Err(not_found()),
        };
        let case: RequestCase = self
            .load(&keys::case(attachment.case), CaseId::KIND, &attachment.case)
            .await?;
        let roles = self.roles(actor, &case).await?;
        // The responding side reads its own files, and the requester's files that the
        // request's answers refer to: what was sent, not a file uploaded while drafting and
        // dropped before sending.
        let sent = attachment.side == crate::catalogue::Side::Responder
            || case.request.request_answers().iter().any(|(_, v)| {
                matches!(v, crate::catalogue::AnswerValue::Attachments(ids) if ids.contains(&id))
            });
        // Blocked cases' files are out of reach of the normal interface (Art. 14).
        let party = roles.requester
            || ((roles.responder || roles.allocator)
                && case.request.state().recipient_may_see_personal_data()
                && sent);
        let unblocked =
            case.request.is_blocked() && self.has_unblock(actor, attachment.case).await?;
        let allowed =
            matches!(actor, Actor::System) || (party && (!case.request.is_blocked() || unblocked));
        if !allowed {
            return Err(not_found());
        }
        if matches!(actor, Actor::User(_)) {
            let read = crate::audit::AuditAction::ReadAttachment {
                case: attachment.case,
                attachment: id,
            };
            self.audit_now(actor, read, crate::audit::Purpose::HandleCase)
                .await?;
        }
        let reader = AttachmentReader {
            store: Arc::clone(&self.store),
            id,
            next: 0,
            total: attachment.chunks,
        };
        Ok((attachment, reader))
    }

    /// Checks that every attachment `answers` refer to exists, belongs to `case` and was
    /// attached by `side`.
    pub(crate) async fn check_attachment_refs(
        &self,
        case: CaseId,
        side: Side,
        answers: &Answers,
    ) -> Result<(), EngineError> {
        for (_, value) in answers.iter() {
            let AnswerValue::Attachments(ids) = value else {
                continue;
            };
            for id in ids {
                let key = keys::attachment(*id);
                let ok = match self.store.get(&key).await? {
                    Some(v) => {
                        let a: Attachment = decode(&key, &v.value)?;
                        a.case == case && a.side == side
                    }
                    None => false,
                };
                if !ok {
                    return Err(EngineError::Transition(TransitionError::Invalid {
                        command: "attach",
                        reason: "an answer refers to a file that was not attached to this request by this party",
                    }));
                }
            }
        }
        Ok(())
    }
}
