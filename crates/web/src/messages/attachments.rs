//! Attachments: the compose form posted with files (streamed to the data directory, size and
//! type checked before anything is kept), and downloads by people who may read the message.

use super::{ComposeForm, handle_compose, scope_of};
use crate::AppState;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::session::SignedIn;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use preau_domain::messaging::{
    MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, attachment_type, clean_file_name,
};
use preau_store::messages::{self, Attachment};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

fn file_path(state: &AppState, id: Uuid) -> PathBuf {
    state
        .config
        .data_dir
        .join("attachments")
        .join(id.to_string())
}

/// Deletes a stored file (already gone is fine).
pub(crate) async fn remove_file(state: &AppState, id: Uuid) {
    let _ = tokio::fs::remove_file(file_path(state, id)).await;
}

/// Bytes kept to tell a file's type.
const HEAD: usize = 512;

/// One uploaded file, written to disk as it arrives.
pub(crate) async fn receive(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<Attachment, &'static str> {
    let id = Uuid::now_v7();
    let path = file_path(state, id);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|_| "attach-error-upload")?;
    }
    let mut out = tokio::fs::File::create(&path)
        .await
        .map_err(|_| "attach-error-upload")?;
    let mut head: Vec<u8> = Vec::with_capacity(HEAD);
    let mut size: u64 = 0;
    let outcome = loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                size += chunk.len() as u64;
                if size > MAX_ATTACHMENT_BYTES {
                    break Err("attach-error-too-large");
                }
                if head.len() < HEAD {
                    let take = (HEAD - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                if out.write_all(&chunk).await.is_err() {
                    break Err("attach-error-upload");
                }
            }
            Ok(None) => break Ok(()),
            Err(_) => break Err("attach-error-upload"),
        }
    };
    let typed = outcome.and_then(|()| attachment_type(name, &head).ok_or("attach-error-type"));
    match typed {
        Ok(content_type) if out.flush().await.is_ok() => Ok(Attachment {
            id,
            message_id: Uuid::nil(),
            file_name: clean_file_name(name),
            content_type: content_type.to_owned(),
            size: size as i64,
        }),
        Ok(_) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err("attach-error-upload")
        }
        Err(key) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(key)
        }
    }
}

/// The compose form posted as multipart: files are attached to the draft (created if need
/// be), unticked ones removed, then the form's action runs as usual.
pub async fn compose_with_files(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let t = Tr::french();
    let mut f = ComposeForm::default();
    let mut keep: Vec<Uuid> = Vec::new();
    let mut received: Vec<Attachment> = Vec::new();
    let mut problem: Option<String> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                problem = Some(t.get("attach-error-upload"));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "files" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.is_empty() {
                continue;
            }
            if received.len() >= MAX_ATTACHMENTS {
                problem = Some(t.with1(
                    "attach-error-too-many",
                    "count",
                    &MAX_ATTACHMENTS.to_string(),
                ));
                break;
            }
            match receive(&state, &mut field, &file_name).await {
                Ok(a) => received.push(a),
                Err(key) => {
                    problem = Some(t.with1(key, "file", &clean_file_name(&file_name)));
                    break;
                }
            }
            continue;
        }
        let Ok(value) = field.text().await else {
            problem = Some(t.get("attach-error-upload"));
            break;
        };
        match name.as_str() {
            "to" => f.to.push(value),
            "subject" => f.subject = value,
            "body" => f.body = value,
            "q" => f.q = value,
            "broadcast" => f.broadcast = Some(value),
            "draft_id" => f.draft_id = value,
            "action" => f.action = value,
            "keep" => keep.extend(Uuid::parse_str(&value).ok()),
            _ => {}
        }
    }
    let draft = Uuid::parse_str(f.draft_id.trim()).ok();
    // Everything below either keeps the received files on the user's draft or deletes them.
    let kept = keep_files(
        &state,
        &who,
        scope,
        draft,
        &keep,
        &received,
        &mut f,
        problem.is_some(),
    )
    .await;
    let problem = match kept {
        Ok(()) => problem,
        Err(key) => Some(t.with1(key, "count", &MAX_ATTACHMENTS.to_string())),
    };
    if problem.is_some() {
        for a in &received {
            remove_file(&state, a.id).await;
        }
    }
    handle_compose(&state, &who, csrf, f, problem).await
}

/// Applies the attachment changes of a compose post: unticked files leave the draft, new ones
/// join it (the draft is created if need be). `Err` names what went wrong; nothing is kept.
#[allow(clippy::too_many_arguments)]
async fn keep_files(
    state: &AppState,
    who: &SignedIn,
    scope: preau_store::TenantScope,
    draft: Option<Uuid>,
    keep: &[Uuid],
    received: &[Attachment],
    f: &mut ComposeForm,
    failed: bool,
) -> Result<(), &'static str> {
    let me = who.user.id;
    if let Some(d) = draft
        && !messages::owns_draft(&state.db, scope, me, d)
            .await
            .map_err(|_| "attach-error-upload")?
    {
        return Err("attach-error-upload");
    }
    let existing = match draft {
        Some(d) => messages::draft_attachments(&state.db, scope, me, d)
            .await
            .map_err(|_| "attach-error-upload")?,
        None => Vec::new(),
    };
    for a in existing.iter().filter(|a| !keep.contains(&a.id)) {
        messages::detach_from_draft(&state.db, scope, me, a.id)
            .await
            .map_err(|_| "attach-error-upload")?;
        remove_file(state, a.id).await;
    }
    let still = existing.iter().filter(|a| keep.contains(&a.id)).count();
    if failed || received.is_empty() {
        return Ok(());
    }
    if still + received.len() > MAX_ATTACHMENTS {
        return Err("attach-error-too-many");
    }
    let picked = crate::messages::send::picks(&f.to).unwrap_or_default();
    let label = crate::messages::audience_label(state, who, scope, &picked)
        .await
        .map_err(|_| "attach-error-upload")?;
    let audience = f.to.join(",");
    let text = messages::DraftText {
        subject: &f.subject,
        body: &f.body,
        audience: &audience,
        audience_label: &label,
    };
    let id = messages::save_draft(&state.db, scope, me, draft, &text)
        .await
        .map_err(|_| "attach-error-upload")?;
    for a in received {
        messages::attach_to_draft(&state.db, scope, me, id, a)
            .await
            .map_err(|_| "attach-error-upload")?;
    }
    f.draft_id = id.to_string();
    Ok(())
}

/// A file of a message the signed-in person may read.
pub async fn download(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let a = messages::readable_attachment(&state.db, scope, who.user.id, id).await?;
    stream_file(&state, a.id, &a.file_name, &a.content_type).await
}

/// Sends a stored file as a download, named as it was uploaded.
pub(crate) async fn stream_file(
    state: &AppState,
    id: Uuid,
    file_name: &str,
    content_type: &str,
) -> AppResult<Response> {
    let file = tokio::fs::File::open(file_path(state, id))
        .await
        .map_err(|_| AppError::NotFound)?;
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}
