//! Message bodies: what people type becomes a small, safe subset of HTML.

use std::collections::HashSet;
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.tags(HashSet::from([
        "a",
        "b",
        "strong",
        "em",
        "i",
        "u",
        "p",
        "br",
        "ul",
        "ol",
        "li",
        "blockquote",
    ]))
    .link_rel(Some("noopener noreferrer nofollow"))
    .url_schemes(HashSet::from(["http", "https", "mailto"]))
    .add_tag_attributes("a", ["href"]);
    b
});

/// Typed text (line breaks kept) to sanitised HTML: scripts, styles, event handlers and
/// foreign URL schemes are removed; a lone `<` shows as typed.
pub fn body_html(typed: &str) -> String {
    let with_breaks = typed.trim().replace("\r\n", "\n").replace('\n', "<br>\n");
    CLEANER.clean(&with_breaks).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_go_text_and_breaks_stay() {
        let html = body_html(
            "Bonjour\n<script>alert(1)</script><b onclick=\"x()\">gras</b> 3 < 5\n<a href=\"javascript:x()\">lien</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<b>gras</b>"), "{html}");
        assert!(html.contains("3 &lt; 5"), "{html}");
        assert!(html.contains("Bonjour<br>"), "{html}");
    }
}
