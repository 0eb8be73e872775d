//! Public information pages linked from every footer: charter, personal data, accessibility.

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::session::MaybeSignedIn;
use askama::Template;
use axum::Router;
use axum::response::Html;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/charte", get(charter))
        .route("/donnees-personnelles", get(privacy))
        .route("/accessibilite", get(accessibility))
}

#[derive(Template)]
#[template(path = "pages/info.html")]
struct InfoPage {
    ctx: Ctx,
    heading_key: &'static str,
    /// i18n keys of the paragraphs.
    paragraphs: &'static [&'static str],
}

fn context(who: &MaybeSignedIn, title_key: &'static str, csrf: String) -> Ctx {
    match &who.0 {
        Some(who) => Ctx::signed_in(who, csrf, title_key, ""),
        None => Ctx::anonymous(Tr::french(), title_key),
    }
}

async fn info(
    who: MaybeSignedIn,
    csrf: String,
    key: &'static str,
    paragraphs: &'static [&'static str],
) -> AppResult<Html<String>> {
    let page = InfoPage {
        ctx: context(&who, key, csrf),
        heading_key: key,
        paragraphs,
    };
    Ok(Html(page.render()?))
}

async fn charter(
    who: MaybeSignedIn,
    crate::csrf::CsrfToken(csrf): crate::csrf::CsrfToken,
) -> AppResult<Html<String>> {
    info(
        who,
        csrf,
        "charter-title",
        &[
            "charter-p1",
            "charter-p2",
            "charter-p3",
            "charter-p4",
            "charter-p5",
        ],
    )
    .await
}

async fn privacy(
    who: MaybeSignedIn,
    crate::csrf::CsrfToken(csrf): crate::csrf::CsrfToken,
) -> AppResult<Html<String>> {
    info(
        who,
        csrf,
        "privacy-title",
        &["privacy-p1", "privacy-p2", "privacy-p3", "privacy-p4"],
    )
    .await
}

async fn accessibility(
    who: MaybeSignedIn,
    crate::csrf::CsrfToken(csrf): crate::csrf::CsrfToken,
) -> AppResult<Html<String>> {
    info(who, csrf, "a11y-title", &["a11y-p1", "a11y-p2", "a11y-p3"]).await
}
