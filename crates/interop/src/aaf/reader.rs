//! Streaming reader of `ficAlimMENESR` files: one record at a time, never the whole file in
//! memory, whatever its size. Values are decoded (UTF-8 or the declared ISO-8859-x), XML and
//! HTML entities resolved, and each record knows the line it starts on.

use crate::FeedError;
use crate::text::html_entity;
use encoding_rs::{Decoder, Encoding, UTF_8};
use quick_xml::events::Event;
use std::io::{BufRead, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Add,
    Modify,
    Delete,
}

/// One `addRequest`, `modifyRequest` or `deleteRequest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AafRecord {
    pub operation: Operation,
    /// `categoriePersonne` or `categorieStructure`: `Eleve`, `PersRelEleve`, `EtabEducNat`…
    pub category: String,
    pub id: String,
    /// Attributes (or, for a modifyRequest, modifications) with their values, in file order.
    pub attributes: Vec<(String, Vec<String>)>,
    pub line: u64,
}

impl AafRecord {
    pub fn has(&self, name: &str) -> bool {
        self.attributes.iter().any(|(n, _)| n == name)
    }

    pub fn values(&self, name: &str) -> &[String] {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The first non-empty value.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.values(name)
            .iter()
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
    }
}

/// Bytes of the file as UTF-8, whatever the declared encoding, counting the lines consumed so
/// far (the parser consumes as it goes, so this is the line it has reached).
pub struct Utf8Source<R> {
    inner: R,
    decoder: Option<Decoder>,
    raw: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
    newlines: u64,
}

const CHUNK: usize = 64 * 1024;

impl<R: Read> Utf8Source<R> {
    /// `encoding` `None` or UTF-8 passes bytes through (the parser checks they are UTF-8).
    fn new(inner: R, encoding: &'static Encoding, prefix: Vec<u8>) -> Self {
        let decoder = (encoding != UTF_8).then(|| encoding.new_decoder_without_bom_handling());
        let mut source = Self {
            inner,
            decoder,
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
            eof: false,
            newlines: 0,
        };
        source.push(&prefix, false);
        source
    }

    fn push(&mut self, bytes: &[u8], last: bool) {
        match &mut self.decoder {
            None => self.out.extend_from_slice(bytes),
            Some(decoder) => {
                let mut text = String::with_capacity(
                    decoder
                        .max_utf8_buffer_length(bytes.len())
                        .unwrap_or(bytes.len() * 3),
                );
                let _ = decoder.decode_to_string(bytes, &mut text, last);
                self.out.extend_from_slice(text.as_bytes());
            }
        }
    }

    pub fn line(&self) -> u64 {
        self.newlines + 1
    }
}

impl<R: Read> Read for Utf8Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Utf8Source<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos >= self.out.len() && !self.eof {
            self.out.clear();
            self.pos = 0;
            self.raw.resize(CHUNK, 0);
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                self.eof = true;
                self.push(&[], true);
            } else {
                let chunk = std::mem::take(&mut self.raw);
                self.push(&chunk[..n], false);
                self.raw = chunk;
            }
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        let end = (self.pos + amount).min(self.out.len());
        self.newlines += self.out[self.pos..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.pos = end;
    }
}

/// The encoding named by the XML declaration (UTF-8 when none), or `None` when it names
/// one this reader cannot decode.
fn declared_encoding(head: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(&head[..head.len().min(256)]);
    let Some(decl) = head
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split("?>").next())
    else {
        return Some(UTF_8);
    };
    let Some(at) = decl.find("encoding") else {
        return Some(UTF_8);
    };
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    let label = rest.get(1..)?.split(quote).next()?;
    Encoding::for_label(label.trim().as_bytes()).filter(|e| e.is_ascii_compatible())
}

/// Where the parser is inside a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Outside,
    Operational,
    Identifier,
    Attributes,
}

pub struct AafReader<R: Read> {
    xml: quick_xml::Reader<Utf8Source<R>>,
    file: String,
    buf: Vec<u8>,
    /// Buffer of the events inside a value, kept apart from the record's.
    text_buf: Vec<u8>,
    depth: usize,
    root_seen: bool,
    done: bool,
    /// Header comments (`codeAcademieExport="99"`…) as name/value pairs.
    pub header: Vec<(String, String)>,
}

fn xml_error(file: &str, line: u64, reason: impl Into<String>) -> FeedError {
    FeedError::Syntax {
        file: file.to_owned(),
        line,
        reason: reason.into(),
    }
}

impl<R: Read> AafReader<R> {
    pub fn new(file: &str, mut inner: R) -> Result<Self, FeedError> {
        let mut head = vec![0u8; 512];
        let mut filled = 0;
        while filled < head.len() {
            let n = inner.read(&mut head[filled..]).map_err(|e| FeedError::Io {
                file: file.to_owned(),
                reason: e.to_string(),
            })?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        head.truncate(filled);
        if head.iter().all(u8::is_ascii_whitespace) {
            return Err(FeedError::Empty(file.to_owned()));
        }
        if head.starts_with(b"\xEF\xBB\xBF") {
            head.drain(..3);
        }
        let encoding =
            declared_encoding(&head).ok_or_else(|| FeedError::Encoding(file.to_owned()))?;
        let source = Utf8Source::new(inner, encoding, head);
        let mut xml = quick_xml::Reader::from_reader(source);
        xml.config_mut().check_end_names = true;
        xml.config_mut().trim_text(false);
        Ok(Self {
            xml,
            file: file.to_owned(),
            buf: Vec::with_capacity(4096),
            text_buf: Vec::with_capacity(256),
            depth: 0,
            root_seen: false,
            done: false,
            header: Vec::new(),
        })
    }

    pub fn line(&self) -> u64 {
        self.xml.get_ref().line()
    }

    fn fail(&mut self, reason: impl Into<String>) -> FeedError {
        self.done = true;
        xml_error(&self.file, self.line(), reason)
    }

    /// The next record, `None` at the end of a well-formed file.
    pub fn next_record(&mut self) -> Result<Option<AafRecord>, FeedError> {
        if self.done {
            return Ok(None);
        }
        // Events borrow this buffer, not the reader: no copy of each event is needed.
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.next_record_with(&mut buf);
        self.buf = buf;
        result
    }

    fn next_record_with(&mut self, buf: &mut Vec<u8>) -> Result<Option<AafRecord>, FeedError> {
        let mut record: Option<AafRecord> = None;
        let mut place = Place::Outside;
        let mut current_attr: Option<String> = None;
        let mut in_operational_attr = false;
        loop {
            buf.clear();
            let event = match self.xml.read_event_into(buf) {
                Ok(e) => e,
                Err(e) => {
                    let reason = match e {
                        quick_xml::Error::Encoding(_) => {
                            "octets invalides pour l'encodage déclaré".to_owned()
                        }
                        quick_xml::Error::Syntax(e) => {
                            format!("XML mal formé ou fichier tronqué ({e})")
                        }
                        other => format!("XML mal formé ({other})"),
                    };
                    return Err(self.fail(reason));
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let name = e.local_name().into_inner();
                    if self.depth == 0 {
                        if name != "ficAlimMENESR" {
                            return Err(self.fail(format!(
                                "ce n'est pas un fichier AAF (élément racine <{name}>)"
                            )));
                        }
                        self.root_seen = true;
                    } else if self.depth == 1 {
                        let operation = match name {
                            "addRequest" => Operation::Add,
                            "modifyRequest" => Operation::Modify,
                            "deleteRequest" => Operation::Delete,
                            other => {
                                return Err(self.fail(format!("élément inattendu <{other}>")));
                            }
                        };
                        record = Some(AafRecord {
                            operation,
                            category: String::new(),
                            id: String::new(),
                            attributes: Vec::new(),
                            line: self.line(),
                        });
                    } else if let Some(r) = record.as_mut() {
                        match name {
                            "operationalAttributes" => place = Place::Operational,
                            "identifier" => place = Place::Identifier,
                            "attributes" | "modifications" => place = Place::Attributes,
                            "attr" | "modification" => {
                                let attr_name = e
                                    .try_get_attribute("name")
                                    .ok()
                                    .flatten()
                                    .and_then(|a| {
                                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok()
                                    })
                                    .map(|v| v.into_owned())
                                    .unwrap_or_default();
                                if place == Place::Operational {
                                    in_operational_attr = attr_name.starts_with("categorie");
                                } else if place == Place::Attributes {
                                    r.attributes.push((attr_name.clone(), Vec::new()));
                                    current_attr = Some(attr_name);
                                }
                            }
                            "id" | "value" => {
                                let element = if name == "id" { "id" } else { "value" };
                                let value = if empty {
                                    String::new()
                                } else {
                                    let mut text_buf = std::mem::take(&mut self.text_buf);
                                    let value = self.collect_text(element, &mut text_buf);
                                    self.text_buf = text_buf;
                                    value?
                                };
                                Self::end_value(
                                    r,
                                    place,
                                    in_operational_attr,
                                    &current_attr,
                                    &value,
                                );
                                continue;
                            }
                            _ => {}
                        }
                    }
                    if !empty {
                        self.depth += 1;
                    }
                }
                Event::End(ref e) => {
                    self.depth = self.depth.saturating_sub(1);
                    let name = e.local_name().into_inner();
                    match name {
                        "operationalAttributes" | "identifier" | "attributes" | "modifications" => {
                            place = Place::Outside
                        }
                        "attr" | "modification" => {
                            current_attr = None;
                            in_operational_attr = false;
                        }
                        _ => {}
                    }
                    if self.depth == 1 && record.is_some() {
                        return Ok(record);
                    }
                    if self.depth == 0 {
                        self.done = true;
                        return Ok(None);
                    }
                }
                Event::Comment(c) if self.depth == 1 && record.is_none() => {
                    let c = c.into_inner();
                    if let Some((k, v)) = c.trim().split_once('=') {
                        self.header
                            .push((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()));
                    }
                }
                Event::Eof => {
                    if !self.root_seen {
                        return Err(
                            self.fail("aucun élément <ficAlimMENESR> : fichier vide ou tronqué")
                        );
                    }
                    return Err(self.fail(
                        "fichier tronqué : la fin du fichier arrive avant la fermeture des éléments",
                    ));
                }
                Event::Text(ref t) if self.depth >= 1 && !t.xml10_content().trim().is_empty() => {
                    return Err(self.fail("texte inattendu hors d'une valeur"));
                }
                _ => {}
            }
        }
    }

    /// Reads the text of a `<value>` or `<id>` up to its end tag, resolving entities.
    fn collect_text(&mut self, element: &str, buf: &mut Vec<u8>) -> Result<String, FeedError> {
        let mut value = String::new();
        loop {
            buf.clear();
            let event = match self.xml.read_event_into(buf) {
                Ok(e) => e,
                Err(e) => return Err(self.fail(format!("XML mal formé ({e})"))),
            };
            match event {
                Event::Text(t) => value.push_str(&t.xml10_content()),
                Event::CData(c) => value.push_str(&c.into_inner()),
                Event::GeneralRef(r) => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        value.push(c);
                    } else {
                        let name = r.into_inner();
                        match html_entity(&name) {
                            Some(s) => value.push_str(s),
                            None => {
                                value.push('&');
                                value.push_str(&name);
                                value.push(';');
                            }
                        }
                    }
                }
                Event::End(e) if e.local_name().into_inner() == element => {
                    return Ok(value);
                }
                Event::Eof => {
                    return Err(self.fail(
                        "fichier tronqué : la fin du fichier arrive au milieu d'une valeur",
                    ));
                }
                Event::Comment(_) => {}
                _ => return Err(self.fail(format!("élément inattendu dans <{element}>"))),
            }
        }
    }

    fn end_value(
        r: &mut AafRecord,
        place: Place,
        in_operational_attr: bool,
        current_attr: &Option<String>,
        value: &str,
    ) {
        match place {
            Place::Identifier => r.id = value.trim().to_owned(),
            Place::Operational if in_operational_attr => r.category = value.trim().to_owned(),
            Place::Attributes if current_attr.is_some() => {
                if let Some((_, values)) = r.attributes.last_mut() {
                    values.push(value.to_owned());
                }
            }
            _ => {}
        }
    }
}

impl<R: Read> Iterator for AafReader<R> {
    type Item = Result<AafRecord, FeedError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">
<ficAlimMENESR>
<!-- codeAcademieExport="99" -->
<addRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>1000015</id></identifier>
<attributes>
<attr name="ENTPersonNom"><value>N&apos;DIAYE</value></attr>
<attr name="ENTPersonPrenom"><value>L&eacute;a</value></attr>
<attr name="ENTPersonMail"><value/></attr>
<attr name="ENTEleveAutoriteParentale"><value>1000013</value><value>1000014</value></attr>
</attributes>
</addRequest>
<modifyRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>1000016</id></identifier>
<modifications><modification name="ENTPersonNom" operation="replace"><value>MARTIN</value></modification></modifications>
</modifyRequest>
<deleteRequest>
<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
<identifier><id>1000017</id></identifier>
</deleteRequest>
</ficAlimMENESR>
"#;

    fn read_all(bytes: &[u8]) -> Result<Vec<AafRecord>, FeedError> {
        AafReader::new("f.xml", bytes)?.collect()
    }

    #[test]
    fn reads_the_three_requests_with_entities_and_lines() {
        let mut reader = match AafReader::new("f.xml", SAMPLE.as_bytes()) {
            Ok(r) => r,
            Err(e) => return assert_eq!(e.to_string(), ""),
        };
        let records: Vec<AafRecord> = reader.by_ref().filter_map(Result::ok).collect();
        assert_eq!(records.len(), 3);
        let first = &records[0];
        assert_eq!(first.operation, Operation::Add);
        assert_eq!(first.category, "Eleve");
        assert_eq!(first.id, "1000015");
        assert_eq!(first.line, 5);
        assert_eq!(first.first("ENTPersonNom"), Some("N'DIAYE"));
        assert_eq!(first.first("ENTPersonPrenom"), Some("Léa"));
        assert_eq!(first.values("ENTPersonMail"), &[String::new()]);
        assert_eq!(first.values("ENTEleveAutoriteParentale").len(), 2);
        assert_eq!(records[1].operation, Operation::Modify);
        assert_eq!(records[1].first("ENTPersonNom"), Some("MARTIN"));
        assert_eq!(records[2].operation, Operation::Delete);
        assert_eq!(records[2].id, "1000017");
        assert_eq!(
            reader.header,
            vec![("codeAcademieExport".to_owned(), "99".to_owned())]
        );
    }

    #[test]
    fn decodes_iso_8859_15() {
        let text = SAMPLE
            .replace("UTF-8", "ISO-8859-15")
            .replace("L&eacute;a", "Léa Œdipe");
        let (bytes, _, _) = encoding_rs::ISO_8859_15.encode(&text);
        let records = read_all(&bytes).unwrap_or_default();
        assert_eq!(records[0].first("ENTPersonPrenom"), Some("Léa Œdipe"));
    }

    #[test]
    fn refuses_truncated_and_foreign_files() {
        let cut = &SAMPLE[..SAMPLE.find("</addRequest>").unwrap_or(0)];
        let err = read_all(cut.as_bytes());
        assert!(
            matches!(&err, Err(FeedError::Syntax { reason, .. }) if reason.contains("tronqué")),
            "{err:?}"
        );
        assert!(matches!(
            read_all(b"<html><body/></html>"),
            Err(FeedError::Syntax { .. })
        ));
        assert!(matches!(read_all(b"  \n"), Err(FeedError::Empty(_))));
        // Latin-1 bytes in a file declared UTF-8.
        let bad = SAMPLE.replace("L&eacute;a", "L\u{e9}a");
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(&bad);
        assert!(matches!(read_all(&latin), Err(FeedError::Syntax { .. })));
    }
}
