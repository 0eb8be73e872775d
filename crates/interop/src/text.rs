//! Turning the bytes of a feed file into text: the encodings seen in real ONDE and AAF files,
//! and the checks that refuse what is not a text file at all.

use crate::FeedError;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// The encoding a CSV file is in: UTF-8 with or without BOM, UTF-16 with BOM, or else
/// Windows-1252 (what ONDE writes; a superset of ISO-8859-1 that also has `Œ`, `œ`, `€`).
pub fn sniff_encoding(bytes: &[u8]) -> (&'static Encoding, usize) {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        return (enc, bom);
    }
    if std::str::from_utf8(bytes).is_ok() {
        (UTF_8, 0)
    } else {
        (WINDOWS_1252, 0)
    }
}

/// Decodes a whole CSV file, refusing binary files and spreadsheets saved in their own format.
pub fn decode_csv(file: &str, bytes: &[u8]) -> Result<String, FeedError> {
    let body = trim_ascii_whitespace(bytes);
    if body.is_empty() {
        return Err(FeedError::Empty(file.to_owned()));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(FeedError::Spreadsheet(file.to_owned()));
    }
    let (encoding, bom) = sniff_encoding(bytes);
    let (text, _, had_errors) = encoding.decode(&bytes[bom..]);
    if had_errors || looks_binary(&text) {
        return Err(FeedError::Encoding(file.to_owned()));
    }
    Ok(text.into_owned())
}

/// Control characters other than tab and line ends mean the bytes were not text in this
/// encoding (UTF-16 without BOM, a binary file, a wrong guess).
fn looks_binary(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && !matches!(c, '\t' | '\r' | '\n')) || c == '\u{FFFD}')
}

fn trim_ascii_whitespace(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end.max(start)]
}

/// The named entities of HTML 4 for Latin-1 and the few others seen in AAF values
/// (`&eacute;`, `&oelig;`, `&rsquo;`…). XML itself only knows five.
pub fn html_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "nbsp" => "\u{A0}",
        "iexcl" => "¡",
        "cent" => "¢",
        "pound" => "£",
        "curren" => "¤",
        "yen" => "¥",
        "brvbar" => "¦",
        "sect" => "§",
        "uml" => "¨",
        "copy" => "©",
        "ordf" => "ª",
        "laquo" => "«",
        "not" => "¬",
        "shy" => "\u{AD}",
        "reg" => "®",
        "macr" => "¯",
        "deg" => "°",
        "plusmn" => "±",
        "sup2" => "²",
        "sup3" => "³",
        "acute" => "´",
        "micro" => "µ",
        "para" => "¶",
        "middot" => "·",
        "cedil" => "¸",
        "sup1" => "¹",
        "ordm" => "º",
        "raquo" => "»",
        "frac14" => "¼",
        "frac12" => "½",
        "frac34" => "¾",
        "iquest" => "¿",
        "Agrave" => "À",
        "Aacute" => "Á",
        "Acirc" => "Â",
        "Atilde" => "Ã",
        "Auml" => "Ä",
        "Aring" => "Å",
        "AElig" => "Æ",
        "Ccedil" => "Ç",
        "Egrave" => "È",
        "Eacute" => "É",
        "Ecirc" => "Ê",
        "Euml" => "Ë",
        "Igrave" => "Ì",
        "Iacute" => "Í",
        "Icirc" => "Î",
        "Iuml" => "Ï",
        "ETH" => "Ð",
        "Ntilde" => "Ñ",
        "Ograve" => "Ò",
        "Oacute" => "Ó",
        "Ocirc" => "Ô",
        "Otilde" => "Õ",
        "Ouml" => "Ö",
        "times" => "×",
        "Oslash" => "Ø",
        "Ugrave" => "Ù",
        "Uacute" => "Ú",
        "Ucirc" => "Û",
        "Uuml" => "Ü",
        "Yacute" => "Ý",
        "THORN" => "Þ",
        "szlig" => "ß",
        "agrave" => "à",
        "aacute" => "á",
        "acirc" => "â",
        "atilde" => "ã",
        "auml" => "ä",
        "aring" => "å",
        "aelig" => "æ",
        "ccedil" => "ç",
        "egrave" => "è",
        "eacute" => "é",
        "ecirc" => "ê",
        "euml" => "ë",
        "igrave" => "ì",
        "iacute" => "í",
        "icirc" => "î",
        "iuml" => "ï",
        "eth" => "ð",
        "ntilde" => "ñ",
        "ograve" => "ò",
        "oacute" => "ó",
        "ocirc" => "ô",
        "otilde" => "õ",
        "ouml" => "ö",
        "divide" => "÷",
        "oslash" => "ø",
        "ugrave" => "ù",
        "uacute" => "ú",
        "ucirc" => "û",
        "uuml" => "ü",
        "yacute" => "ý",
        "thorn" => "þ",
        "yuml" => "ÿ",
        "OElig" => "Œ",
        "oelig" => "œ",
        "Yuml" => "Ÿ",
        "euro" => "€",
        "lsquo" => "‘",
        "rsquo" => "’",
        "ldquo" => "“",
        "rdquo" => "”",
        "ndash" => "–",
        "mdash" => "—",
        "hellip" => "…",
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_encodings_of_real_files() {
        let cp1252 = b"\"Nom\";\"Pr\xe9nom\"\r\n\"C\x8cUR\";\"Zo\xe9\"\r\n";
        assert_eq!(
            decode_csv("f", cp1252).ok().as_deref(),
            Some("\"Nom\";\"Prénom\"\r\n\"CŒUR\";\"Zoé\"\r\n")
        );
        let bom = "\u{FEFF}Nom;Prénom\nLÉA;Zoé\n";
        assert_eq!(
            decode_csv("f", bom.as_bytes()).ok().as_deref(),
            Some("Nom;Prénom\nLÉA;Zoé\n")
        );
        assert!(matches!(
            decode_csv("f", b" \r\n"),
            Err(FeedError::Empty(_))
        ));
        assert!(matches!(
            decode_csv("f", b"PK\x03\x04rest"),
            Err(FeedError::Spreadsheet(_))
        ));
        // UTF-16 without a BOM: NUL bytes everywhere.
        assert!(matches!(
            decode_csv("f", b"N\0o\0m\0;\0"),
            Err(FeedError::Encoding(_))
        ));
    }

    #[test]
    fn knows_latin1_entities() {
        assert_eq!(html_entity("eacute"), Some("é"));
        assert_eq!(html_entity("oelig"), Some("œ"));
        assert_eq!(html_entity("bogus"), None);
    }
}
