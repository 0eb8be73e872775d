//! Printable connection letters: one A4 page per person with the login, the activation code, the
//! activation steps and a QR code of the activation address, as a tagged PDF/UA-1 document.
//!
//! Every visible text comes from the caller, already translated; this module only lays it out.
//! Layout happens first (pure data: wrapped, positioned lines), drawing second, so a letter that
//! cannot fit is refused before any PDF is produced.

use std::cell::RefCell;
use std::fmt;
use std::num::NonZeroU16;

use krilla::action::{Action, LinkAction};
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::configure::{Accessibility, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::error::KrillaError;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::{Page, PageSettings};
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, BBox, ContentTag, Identifier, ListNumbering, Node, SpanTag,
    TableHeaderScope, Tag, TagGroup, TagKind, TagTree,
};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};
use qrcode::QrCode;
use rustybuzz::{Direction, Script, ShapePlan, UnicodeBuffer};
use unicode_normalization::UnicodeNormalization;

/// One person's letter.
#[derive(Clone)]
pub struct Letter {
    /// School name, e.g. "École élémentaire Jules Ferry — Valbonne".
    pub school: String,
    /// Class, e.g. "CE1 Mme Roche".
    pub class: Option<String>,
    /// Who the letter is for, e.g. "Madame Valérie André".
    pub addressee: String,
    /// Why this person gets an account, e.g. "Responsable de Léa Martin (CE1)".
    pub about: Option<String>,
    pub login: String,
    /// Activation code, printed large and letter-spaced.
    pub code: String,
    /// e.g. "Code valable jusqu'au 31 janvier 2027".
    pub expires: String,
}

// Hand-written so that `{:?}` (logs, test failures) never prints an activation code.
impl fmt::Debug for Letter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Letter")
            .field("school", &self.school)
            .field("class", &self.class)
            .field("addressee", &self.addressee)
            .field("about", &self.about)
            .field("login", &self.login)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// The fixed texts of a batch (translated by the caller).
#[derive(Debug, Clone)]
pub struct LetterTexts {
    pub title: String,
    pub intro: String,
    pub login_label: String,
    pub code_label: String,
    pub url_label: String,
    pub url: String,
    pub steps_title: String,
    /// 3–5 short instructions; numbered by the renderer.
    pub steps: Vec<String>,
    pub qr_caption: String,
    pub footer: String,
    /// PDF metadata title.
    pub document_title: String,
    /// BCP 47 tag of the texts, e.g. "fr-FR".
    pub language: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("aucune lettre à imprimer : la liste des destinataires est vide")]
    NoLetters,
    #[error("la police Andika embarquée n'a pas pu être chargée")]
    Font,
    #[error(
        "le caractère « {character} » (U+{code:04X}) de « {text} » n'existe pas dans la police \
         Andika : corrigez ce texte avant d'imprimer les lettres"
    )]
    MissingGlyph {
        character: char,
        code: u32,
        text: String,
    },
    #[error("l'adresse « {0} » est trop longue pour être codée en QR code")]
    QrCode(String),
    #[error("la lettre de « {0} » ne tient pas sur une page A4 : raccourcissez les textes")]
    TooLong(String),
    #[error("mise en page impossible : dimensions invalides")]
    Layout,
    #[error("le PDF produit n'est pas conforme à PDF/UA-1 : {0}")]
    Accessibility(String),
    #[error("échec de la création du PDF : {0}")]
    Pdf(String),
}

impl From<KrillaError> for LetterError {
    fn from(error: KrillaError) -> Self {
        match error {
            // The validator's findings are the useful part; krilla's Display only counts them.
            KrillaError::Validation(errors) => Self::Accessibility(
                errors
                    .iter()
                    .map(|(error, _)| format!("{error:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            other => Self::Pdf(other.to_string()),
        }
    }
}

/// Renders one A4 page per letter, in order, as a tagged PDF/UA-1 document.
///
/// # Errors
///
/// An empty batch, a character the font lacks, an address too long for a QR code, a letter
/// whose texts do not fit one page, or a document krilla cannot validate as PDF/UA-1.
pub fn render_letters(letters: &[Letter], texts: &LetterTexts) -> Result<Vec<u8>, LetterError> {
    if letters.is_empty() {
        return Err(LetterError::NoLetters);
    }
    let fonts = Fonts::load()?;
    // The QR code only depends on the batch's address: encode it once.
    let qr = Qr::new(&texts.url)?;
    let layouts = letters
        .iter()
        .map(|letter| layout_letter(&fonts, &qr, letter, texts))
        .collect::<Result<Vec<_>, _>>()?;

    // PDF/UA-1 makes krilla refuse what it can check (alt texts, heading titles, outline,
    // document title, unmapped glyphs) instead of silently producing an inaccessible file.
    let configuration = ConfigurationBuilder::new()
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(|error| LetterError::Pdf(format!("{error:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let mut tree = TagTree::new().with_lang(Some(texts.language.clone()));
    // PDF/UA requires an outline; one entry per addressee also helps whoever sorts the prints.
    let mut outline = Outline::new();
    let page_settings =
        PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or(LetterError::Layout)?;
    for (index, (letter, layout)) in letters.iter().zip(&layouts).enumerate() {
        let mut page = document.start_page_with(page_settings.clone());
        tree.push(draw_page(&mut page, index, layout, &fonts, &texts.url));
        page.finish();
        outline.push_child(OutlineNode::new(
            letter.addressee.clone(),
            XyzDestination::new(index, Point::from_xy(0.0, 0.0)),
        ));
    }
    document.set_outline(outline);
    document.set_tag_tree(tree);
    document.set_metadata(
        Metadata::new()
            .title(texts.document_title.clone())
            .language(texts.language.clone()),
    );
    Ok(document.finish()?)
}

// ---------------------------------------------------------------------------------------------
// Page geometry and styles (points; krilla's origin is the top-left corner, y grows downwards).

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
/// 2 cm, wide enough for any home printer's unprintable border.
const MARGIN: f32 = 56.7;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN;
const BOX_PADDING: f32 = 16.0;
const QR_COLUMN: f32 = 132.0;
const QR_SIDE: f32 = 116.0;
const COLUMN_GAP: f32 = 24.0;
const STEP_INDENT: f32 = 24.0;
/// Smallest size an identifier may shrink to (still comfortable on paper).
const MIN_IDENTIFIER_SIZE: f32 = 10.0;
/// Where a word too wide for its column may be cut (compound names, URLs).
const BREAK_AFTER: &[char] = &['-', '/', '_', '.', '?', '&', '='];
/// Spaces that must keep their neighbours on one line (French typography: « », :, numbers).
const NO_BREAK: &[char] = &['\u{A0}', '\u{202F}', '\u{2007}', '\u{2060}'];

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    fn color(self) -> rgb::Color {
        rgb::Color::new(self.0, self.1, self.2)
    }
}

// Dark enough for ≥ 7:1 contrast on white and on the box's tint (WCAG AAA).
const INK: Rgb = Rgb(0x1a, 0x1a, 0x1a);
const MUTED: Rgb = Rgb(0x45, 0x45, 0x45);
const ACCENT: Rgb = Rgb(0x1a, 0x4f, 0x8b);
const BOX_TINT: Rgb = Rgb(0xee, 0xf3, 0xfa);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Weight {
    Regular,
    Bold,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    weight: Weight,
    size: f32,
    color: Rgb,
    /// Extra space after each letter, in points.
    tracking: f32,
    /// Line height as a multiple of the size.
    leading: f32,
}

impl Style {
    const fn new(weight: Weight, size: f32, color: Rgb) -> Self {
        Self {
            weight,
            size,
            color,
            tracking: 0.0,
            leading: 1.35,
        }
    }

    fn line_height(self) -> f32 {
        self.size * self.leading
    }

    /// From the top of a line box to its baseline: centres the x-height in the box, which reads
    /// better than font ascent metrics (Andika's leave room for stacked diacritics).
    fn baseline_offset(self) -> f32 {
        self.line_height() / 2.0 + self.size * 0.3
    }
}

const SCHOOL: Style = Style::new(Weight::Bold, 13.0, INK);
const CLASS: Style = Style::new(Weight::Regular, 12.0, MUTED);
const TITLE: Style = Style::new(Weight::Bold, 22.0, ACCENT);
const ADDRESSEE: Style = Style::new(Weight::Bold, 14.0, INK);
const ABOUT: Style = Style::new(Weight::Regular, 12.0, MUTED);
const BODY: Style = Style {
    leading: 1.45,
    ..Style::new(Weight::Regular, 12.0, INK)
};
const LABEL: Style = Style::new(Weight::Regular, 11.0, MUTED);
const LOGIN: Style = Style::new(Weight::Bold, 15.0, INK);
// Large and letter-spaced so each character of the code can be read and typed one by one.
const CODE: Style = Style {
    tracking: 2.5,
    ..Style::new(Weight::Bold, 20.0, INK)
};
const URL: Style = Style::new(Weight::Regular, 12.0, ACCENT);
const EXPIRES: Style = Style::new(Weight::Regular, 11.0, INK);
const STEPS_TITLE: Style = Style::new(Weight::Bold, 15.0, ACCENT);
const STEP_NUMBER: Style = Style {
    leading: 1.45,
    ..Style::new(Weight::Bold, 12.0, ACCENT)
};
const STEP: Style = Style {
    leading: 1.45,
    ..Style::new(Weight::Regular, 12.0, INK)
};
const CAPTION: Style = Style::new(Weight::Regular, 10.0, MUTED);
const FOOTER: Style = Style::new(Weight::Regular, 10.0, MUTED);

// ---------------------------------------------------------------------------------------------
// Fonts and shaping.

// Andika (SIL OFL 1.1, see assets/fonts/OFL.txt): designed for beginning readers, with
// unambiguous I/l/1 and O/0 — which also matters for activation codes.
static ANDIKA_REGULAR: &[u8] = include_bytes!("../assets/fonts/Andika-Regular.ttf");
static ANDIKA_BOLD: &[u8] = include_bytes!("../assets/fonts/Andika-Bold.ttf");

struct Face {
    font: Font,
    shaper: rustybuzz::Face<'static>,
    units_per_em: f32,
    /// Shape plans by (direction, script): building one is far slower than shaping a line, and
    /// word-wrapping shapes many candidate lines.
    plans: RefCell<Vec<(Direction, Script, ShapePlan)>>,
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Self, LetterError> {
        let font = Font::new(data.into(), 0).ok_or(LetterError::Font)?;
        let shaper = rustybuzz::Face::from_slice(data, 0).ok_or(LetterError::Font)?;
        let units_per_em = shaper.units_per_em() as f32;
        Ok(Self {
            font,
            shaper,
            units_per_em,
            plans: RefCell::new(Vec::new()),
        })
    }

    /// Shapes `text` exactly as it will be drawn, so measuring and drawing cannot disagree.
    fn shape(&self, text: &str, style: Style) -> Result<Run, LetterError> {
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(Direction::LeftToRight);
        buffer.guess_segment_properties();
        let (direction, script) = (buffer.direction(), buffer.script());
        let mut plans = self.plans.borrow_mut();
        let index = match plans.iter().position(|p| p.0 == direction && p.1 == script) {
            Some(index) => index,
            None => {
                // Same properties `rustybuzz::shape` would derive from the buffer.
                let known = (script != rustybuzz::script::UNKNOWN).then_some(script);
                let plan = ShapePlan::new(&self.shaper, direction, known, None, &[]);
                plans.push((direction, script, plan));
                plans.len() - 1
            }
        };
        let output = rustybuzz::shape_with_plan(&self.shaper, &plans[index].2, buffer);
        let infos = output.glyph_infos();
        let positions = output.glyph_positions();
        let em = self.units_per_em;
        let mut glyphs = Vec::with_capacity(infos.len());
        for (i, (info, position)) in infos.iter().zip(positions).enumerate() {
            let start = info.cluster as usize;
            if info.glyph_id == 0 {
                // .notdef would print a box and fails PDF/UA: name the culprit instead.
                let character = text.get(start..).and_then(|s| s.chars().next());
                return Err(LetterError::MissingGlyph {
                    character: character.unwrap_or('\u{FFFD}'),
                    code: character.map_or(0, u32::from),
                    text: text.to_owned(),
                });
            }
            // Clusters grow left to right: this glyph's text ends where the next cluster starts.
            let end = infos
                .iter()
                .skip(i + 1)
                .map(|next| next.cluster as usize)
                .find(|&cluster| cluster > start)
                .unwrap_or(text.len());
            let mut advance = position.x_advance as f32 / em;
            if style.tracking != 0.0 && advance > 0.0 && i + 1 < infos.len() {
                advance += style.tracking / style.size;
            }
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                advance,
                position.x_offset as f32 / em,
                position.y_offset as f32 / em,
                position.y_advance as f32 / em,
                start..end,
                None,
            ));
        }
        let width = glyphs.iter().map(|g| g.x_advance).sum::<f32>() * style.size;
        Ok(Run {
            text: text.to_owned(),
            glyphs,
            width,
        })
    }

    fn fits(&self, text: &str, style: Style, width: f32) -> Result<bool, LetterError> {
        Ok(self.shape(text, style)?.width <= width)
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    fn load() -> Result<Self, LetterError> {
        Ok(Self {
            regular: Face::load(ANDIKA_REGULAR)?,
            bold: Face::load(ANDIKA_BOLD)?,
        })
    }

    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

/// Shaped text ready to draw.
#[derive(Debug, Clone)]
struct Run {
    text: String,
    glyphs: Vec<KrillaGlyph>,
    /// In points.
    width: f32,
}

/// One line produced by [`wrap`].
#[derive(Debug, Clone, PartialEq)]
struct Wrapped {
    text: String,
    /// The break replaced a space; kept in the drawn text so extracted or read-aloud text does
    /// not glue the last word of this line to the first of the next.
    space_after: bool,
}

/// Greedy word-wrap of `text` into lines no wider than `width` (measured with real advances).
/// Words wider than a whole line are cut after punctuation, or between letters as a last resort.
fn wrap(face: &Face, style: Style, text: &str, width: f32) -> Result<Vec<Wrapped>, LetterError> {
    // NFC so that an accent never ends up separated from its letter when a word is cut.
    let text: String = text.nfc().collect();
    let mut lines = Vec::new();
    let mut line = String::new();
    let words = text
        .split(|c: char| c.is_whitespace() && !NO_BREAK.contains(&c))
        .filter(|word| !word.is_empty());
    for word in words {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if face.fits(&candidate, style, width)? {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(Wrapped {
                text: std::mem::take(&mut line),
                space_after: true,
            });
        }
        if face.fits(word, style, width)? {
            line = word.to_owned();
            continue;
        }
        for piece in word.split_inclusive(BREAK_AFTER) {
            let atoms = if face.fits(piece, style, width)? {
                vec![piece.to_owned()]
            } else {
                piece.chars().map(String::from).collect()
            };
            for atom in atoms {
                let candidate = format!("{line}{atom}");
                if line.is_empty() || face.fits(&candidate, style, width)? {
                    line = candidate;
                } else {
                    lines.push(Wrapped {
                        text: std::mem::replace(&mut line, atom),
                        space_after: false,
                    });
                }
            }
        }
    }
    if !line.is_empty() {
        lines.push(Wrapped {
            text: line,
            space_after: false,
        });
    }
    Ok(lines)
}

// ---------------------------------------------------------------------------------------------
// Layout: positioned lines grouped by their meaning (which becomes the tag tree).

#[derive(Debug, Clone)]
struct Line {
    x: f32,
    baseline: f32,
    /// Bottom of the line box.
    bottom: f32,
    style: Style,
    run: Run,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
}

#[derive(Debug, Clone, PartialEq)]
enum TextRole {
    Paragraph,
    Heading(NonZeroU16, String),
    Caption,
}

#[derive(Debug, Clone)]
struct Row {
    header: Vec<Line>,
    value: Vec<Line>,
    /// The value is the activation address and gets a link annotation.
    link: bool,
}

#[derive(Debug, Clone)]
struct Item {
    label: Vec<Line>,
    body: Vec<Line>,
}

#[derive(Debug, Clone)]
enum Block {
    Text(TextRole, Vec<Line>),
    Table(Vec<Row>),
    List(Vec<Item>),
    Figure {
        alt: String,
        bbox: Rect,
        path: Vec<Rect>,
    },
}

#[derive(Debug, Clone)]
struct PageLayout {
    /// The framed box around the credentials (decoration only).
    frame: Option<Rect>,
    /// Area of the activation address, made clickable for those who read the PDF on screen.
    link: Option<Rect>,
    blocks: Vec<Block>,
}

fn rect(x: f32, y: f32, width: f32, height: f32) -> Result<Rect, LetterError> {
    Rect::from_xywh(x, y, width, height).ok_or(LetterError::Layout)
}

/// Wraps `text` into the column `x..x + width` with the first baseline at `baseline`.
fn set_text(
    fonts: &Fonts,
    text: &str,
    style: Style,
    x: f32,
    width: f32,
    baseline: f32,
    align: Align,
) -> Result<Vec<Line>, LetterError> {
    let face = fonts.face(style.weight);
    let line_height = style.line_height();
    let mut lines = Vec::new();
    for (index, wrapped) in wrap(face, style, text, width)?.into_iter().enumerate() {
        let line_x = match align {
            Align::Left => x,
            Align::Center => {
                let visible = face.shape(&wrapped.text, style)?.width;
                x + (width - visible).max(0.0) / 2.0
            }
        };
        let drawn = if wrapped.space_after {
            format!("{} ", wrapped.text)
        } else {
            wrapped.text
        };
        let run = face.shape(&drawn, style)?;
        let line_baseline = baseline + index as f32 * line_height;
        lines.push(Line {
            x: line_x,
            baseline: line_baseline,
            bottom: line_baseline - style.baseline_offset() + line_height,
            style,
            run,
        });
    }
    Ok(lines)
}

/// Identifiers are typed back character by character, and a line break inside one reads as
/// part of it: shrink them to fit one line (down to [`MIN_IDENTIFIER_SIZE`]) before wrapping.
fn shrink_to_line(face: &Face, style: Style, text: &str, width: f32) -> Result<Style, LetterError> {
    let text: String = text.trim().nfc().collect();
    let natural = face.shape(&text, style)?.width;
    if natural <= width {
        return Ok(style);
    }
    // Advances and tracking scale linearly with the size; the factor absorbs rounding.
    let size = (style.size * width / natural * 0.995).max(MIN_IDENTIFIER_SIZE);
    Ok(Style {
        size,
        tracking: style.tracking * size / style.size,
        ..style
    })
}

/// Bottom of a block of lines that started at `top`.
fn bottom_of(lines: &[Line], top: f32) -> f32 {
    lines.last().map_or(top, |line| line.bottom)
}

/// Lays out a left-aligned text block from `top`; returns it with its bottom.
fn text_block(
    fonts: &Fonts,
    text: &str,
    style: Style,
    x: f32,
    top: f32,
    width: f32,
) -> Result<(Vec<Line>, f32), LetterError> {
    let lines = set_text(
        fonts,
        text,
        style,
        x,
        width,
        top + style.baseline_offset(),
        Align::Left,
    )?;
    let bottom = bottom_of(&lines, top);
    Ok((lines, bottom))
}

/// Appends a text block (if not empty) and returns the new cursor.
fn push_text(
    blocks: &mut Vec<Block>,
    role: TextRole,
    fonts: &Fonts,
    text: &str,
    style: Style,
    top: f32,
) -> Result<f32, LetterError> {
    let (lines, bottom) = text_block(fonts, text, style, MARGIN, top, CONTENT_WIDTH)?;
    if !lines.is_empty() {
        blocks.push(Block::Text(role, lines));
    }
    Ok(bottom)
}

/// The QR code of the activation address, as dark runs per row (fewer, larger rectangles than
/// one per module: smaller PDF, no hairlines between modules of a run).
struct Qr {
    modules: usize,
    /// (row, first column, length)
    runs: Vec<(usize, usize, usize)>,
}

impl Qr {
    fn new(url: &str) -> Result<Self, LetterError> {
        let code = QrCode::new(url.as_bytes()).map_err(|_| LetterError::QrCode(url.to_owned()))?;
        let modules = code.width();
        let colors = code.to_colors();
        let mut runs = Vec::new();
        for (row, line) in colors.chunks(modules.max(1)).enumerate() {
            let mut start = None;
            for (column, color) in line.iter().enumerate() {
                match (*color == qrcode::Color::Dark, start) {
                    (true, None) => start = Some(column),
                    (false, Some(first)) => {
                        runs.push((row, first, column - first));
                        start = None;
                    }
                    _ => {}
                }
            }
            if let Some(first) = start {
                runs.push((row, first, line.len() - first));
            }
        }
        Ok(Self { modules, runs })
    }

    fn rects(&self, x: f32, y: f32, side: f32) -> Result<Vec<Rect>, LetterError> {
        let module = side / self.modules.max(1) as f32;
        self.runs
            .iter()
            .map(|&(row, column, length)| {
                rect(
                    x + column as f32 * module,
                    y + row as f32 * module,
                    length as f32 * module,
                    module,
                )
            })
            .collect()
    }
}

fn layout_letter(
    fonts: &Fonts,
    qr: &Qr,
    letter: &Letter,
    texts: &LetterTexts,
) -> Result<PageLayout, LetterError> {
    let mut blocks = Vec::new();
    let mut y = MARGIN;

    y = push_text(
        &mut blocks,
        TextRole::Paragraph,
        fonts,
        &letter.school,
        SCHOOL,
        y,
    )?;
    if let Some(class) = &letter.class {
        y = push_text(&mut blocks, TextRole::Paragraph, fonts, class, CLASS, y)?;
    }
    y += 26.0;
    let heading = TextRole::Heading(NonZeroU16::MIN, texts.title.clone());
    y = push_text(&mut blocks, heading, fonts, &texts.title, TITLE, y)?;
    y += 10.0;
    y = push_text(
        &mut blocks,
        TextRole::Paragraph,
        fonts,
        &letter.addressee,
        ADDRESSEE,
        y,
    )?;
    if let Some(about) = &letter.about {
        y = push_text(&mut blocks, TextRole::Paragraph, fonts, about, ABOUT, y)?;
    }
    y += 14.0;
    y = push_text(
        &mut blocks,
        TextRole::Paragraph,
        fonts,
        &texts.intro,
        BODY,
        y,
    )?;
    y += 16.0;

    // Credentials box: a two-column table (label | value) inside a tinted frame.
    let box_top = y;
    let inner_x = MARGIN + BOX_PADDING;
    let inner_width = CONTENT_WIDTH - 2.0 * BOX_PADDING;
    let label_gap = 14.0;
    let mut label_width: f32 = 0.0;
    for label in [&texts.login_label, &texts.code_label, &texts.url_label] {
        let natural = fonts.face(LABEL.weight).shape(label.trim(), LABEL)?.width;
        label_width = label_width.max(natural);
    }
    // Long labels wrap rather than squeeze the values.
    let label_width = label_width.min(inner_width * 0.4);
    let value_x = inner_x + label_width + label_gap;
    let value_width = inner_width - label_width - label_gap;
    let mut rows = Vec::new();
    let mut link = None;
    let mut row_top = box_top + BOX_PADDING;
    let entries = [
        (&texts.login_label, &letter.login, LOGIN, false),
        (&texts.code_label, &letter.code, CODE, false),
        (&texts.url_label, &texts.url, URL, true),
    ];
    for (label, value, style, is_link) in entries {
        let style = shrink_to_line(fonts.face(style.weight), style, value, value_width)?;
        let baseline = row_top + style.baseline_offset();
        let value_lines = set_text(
            fonts,
            value,
            style,
            value_x,
            value_width,
            baseline,
            Align::Left,
        )?;
        // Label and value share their first baseline.
        let header = set_text(
            fonts,
            label,
            LABEL,
            inner_x,
            label_width,
            baseline,
            Align::Left,
        )?;
        let bottom = bottom_of(&value_lines, row_top).max(bottom_of(&header, row_top));
        if is_link && !value_lines.is_empty() {
            let widest = value_lines
                .iter()
                .map(|line| line.run.width)
                .fold(0.0, f32::max);
            link = Some(rect(value_x, row_top, widest, bottom - row_top)?);
        }
        rows.push(Row {
            header,
            value: value_lines,
            link: is_link,
        });
        row_top = bottom + 6.0;
    }
    blocks.push(Block::Table(rows));
    let (expires, bottom) = text_block(
        fonts,
        &letter.expires,
        EXPIRES,
        inner_x,
        row_top + 2.0,
        inner_width,
    )?;
    if !expires.is_empty() {
        blocks.push(Block::Text(TextRole::Paragraph, expires));
    }
    let box_bottom = bottom + BOX_PADDING;
    let frame = rect(MARGIN, box_top, CONTENT_WIDTH, box_bottom - box_top)?;
    y = box_bottom + 24.0;

    // Steps on the left, QR code and its caption on the right.
    let steps_heading =
        TextRole::Heading(NonZeroU16::MIN.saturating_add(1), texts.steps_title.clone());
    y = push_text(
        &mut blocks,
        steps_heading,
        fonts,
        &texts.steps_title,
        STEPS_TITLE,
        y,
    )?;
    y += 8.0;
    let columns_top = y;
    let steps_width = CONTENT_WIDTH - QR_COLUMN - COLUMN_GAP;
    let mut items = Vec::new();
    let mut item_top = columns_top;
    for (index, step) in texts.steps.iter().enumerate() {
        let baseline = item_top + STEP.baseline_offset();
        let number = format!("{}.", index + 1);
        let label = set_text(
            fonts,
            &number,
            STEP_NUMBER,
            MARGIN,
            STEP_INDENT,
            baseline,
            Align::Left,
        )?;
        let body = set_text(
            fonts,
            step,
            STEP,
            MARGIN + STEP_INDENT,
            steps_width - STEP_INDENT,
            baseline,
            Align::Left,
        )?;
        item_top = bottom_of(&body, item_top).max(bottom_of(&label, item_top)) + 6.0;
        items.push(Item { label, body });
    }
    if !items.is_empty() {
        blocks.push(Block::List(items));
    }
    let qr_x = PAGE_WIDTH - MARGIN - QR_COLUMN + (QR_COLUMN - QR_SIDE) / 2.0;
    let qr_top = columns_top + 2.0;
    blocks.push(Block::Figure {
        // The address is what the code says; screen-reader users need it, not a description.
        alt: texts.url.clone(),
        bbox: rect(qr_x, qr_top, QR_SIDE, QR_SIDE)?,
        path: qr.rects(qr_x, qr_top, QR_SIDE)?,
    });
    // Four modules of white around the code: the quiet zone scanners need.
    let quiet = 4.0 * QR_SIDE / qr.modules.max(1) as f32;
    let caption_top = qr_top + QR_SIDE + quiet.min(14.0);
    let caption = set_text(
        fonts,
        &texts.qr_caption,
        CAPTION,
        PAGE_WIDTH - MARGIN - QR_COLUMN,
        QR_COLUMN,
        caption_top + CAPTION.baseline_offset(),
        Align::Center,
    )?;
    let caption_bottom = bottom_of(&caption, caption_top);
    if !caption.is_empty() {
        blocks.push(Block::Text(TextRole::Caption, caption));
    }
    y = item_top.max(caption_bottom);

    // Footer sits at the bottom of the page unless the content pushes it down.
    let footer_lines = wrap(
        fonts.face(FOOTER.weight),
        FOOTER,
        &texts.footer,
        CONTENT_WIDTH,
    )?;
    let footer_height = footer_lines.len() as f32 * FOOTER.line_height();
    let footer_top = (y + 24.0).max(BOTTOM - footer_height);
    if footer_top + footer_height > BOTTOM + 0.5 {
        return Err(LetterError::TooLong(letter.addressee.clone()));
    }
    push_text(
        &mut blocks,
        TextRole::Paragraph,
        fonts,
        &texts.footer,
        FOOTER,
        footer_top,
    )?;

    Ok(PageLayout {
        frame: Some(frame),
        link,
        blocks,
    })
}

// ---------------------------------------------------------------------------------------------
// Drawing and tagging.

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: color.color().into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::default(),
    }
}

fn draw_page(
    page: &mut Page<'_>,
    page_index: usize,
    layout: &PageLayout,
    fonts: &Fonts,
    url: &str,
) -> TagGroup {
    // Annotations go first: the surface borrows the page until it is finished.
    let link = layout.link.map(|area| {
        let target = Target::Action(Action::Link(LinkAction::new(url.to_owned())));
        page.add_tagged_annotation(Annotation::new_link(
            LinkAnnotation::new(area, target),
            Some(url.to_owned()),
        ))
    });
    let mut surface = page.surface();
    if let Some(frame) = layout.frame {
        draw_frame(&mut surface, frame);
    }
    let mut section = TagGroup::new(Tag::Section);
    let mut link = link;
    for block in &layout.blocks {
        if let Some(node) = draw_block(&mut surface, fonts, page_index, block, &mut link) {
            section.push(node);
        }
    }
    surface.finish();
    section
}

/// The credentials frame is decoration: an artifact, skipped by assistive technology.
fn draw_frame(surface: &mut Surface<'_>, frame: Rect) {
    let mut builder = PathBuilder::new();
    builder.push_rect(frame);
    let Some(path) = builder.finish() else {
        return;
    };
    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
        ArtifactType::Layout,
    )));
    surface.set_fill(Some(fill(BOX_TINT)));
    surface.set_stroke(Some(Stroke {
        paint: ACCENT.color().into(),
        width: 1.5,
        ..Stroke::default()
    }));
    surface.draw_path(&path);
    surface.set_stroke(None);
    surface.end_tagged();
}

/// Draws lines, each as its own marked span (one line at most, as krilla recommends).
fn draw_lines(surface: &mut Surface<'_>, fonts: &Fonts, lines: &[Line]) -> Vec<Node> {
    lines
        .iter()
        .map(|line| {
            let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
            surface.set_fill(Some(fill(line.style.color)));
            surface.draw_glyphs(
                Point::from_xy(line.x, line.baseline),
                &line.run.glyphs,
                fonts.face(line.style.weight).font.clone(),
                &line.run.text,
                line.style.size,
                false,
            );
            surface.end_tagged();
            Node::from(id)
        })
        .collect()
}

fn group(tag: impl Into<TagKind>, children: Vec<Node>) -> Node {
    TagGroup::with_children(tag, children).into()
}

fn draw_block(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    page_index: usize,
    block: &Block,
    link: &mut Option<Identifier>,
) -> Option<Node> {
    let node = match block {
        Block::Text(role, lines) => {
            let children = draw_lines(surface, fonts, lines);
            match role {
                TextRole::Paragraph => group(Tag::P, children),
                TextRole::Heading(level, title) => {
                    group(Tag::Hn(*level, Some(title.clone())), children)
                }
                TextRole::Caption => group(Tag::Caption, children),
            }
        }
        Block::Table(rows) => {
            let rows = rows
                .iter()
                .map(|row| {
                    let header = draw_lines(surface, fonts, &row.header);
                    let mut value = draw_lines(surface, fonts, &row.value);
                    if row.link
                        && let Some(annotation) = link.take()
                    {
                        // Link group: the annotation first, then the text it covers.
                        value.insert(0, annotation.into());
                        value = vec![group(Tag::Link, value)];
                    }
                    group(
                        Tag::TR,
                        vec![
                            group(Tag::TH(TableHeaderScope::Row), header),
                            group(Tag::TD, value),
                        ],
                    )
                })
                .collect();
            group(Tag::Table, rows)
        }
        Block::List(items) => {
            let items = items
                .iter()
                .map(|item| {
                    let label = draw_lines(surface, fonts, &item.label);
                    let body = draw_lines(surface, fonts, &item.body);
                    group(
                        Tag::LI,
                        vec![group(Tag::Lbl, label), group(Tag::LBody, body)],
                    )
                })
                .collect();
            group(Tag::L(ListNumbering::Decimal), items)
        }
        Block::Figure { alt, bbox, path } => {
            let mut builder = PathBuilder::new();
            for module in path {
                builder.push_rect(*module);
            }
            let path = builder.finish()?;
            let id = surface.start_tagged(ContentTag::Other);
            surface.set_fill(Some(fill(INK)));
            surface.draw_path(&path);
            surface.end_tagged();
            let figure =
                Tag::Figure(Some(alt.clone())).with_bbox(Some(BBox::new(page_index, *bbox)));
            group(figure, vec![id.into()])
        }
    };
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn sample_texts() -> LetterTexts {
        LetterTexts {
            title: "Votre compte Préau".into(),
            intro: "Votre école utilise Préau, l'espace numérique de travail de la classe. \
                    Vous y trouverez le cahier de liaison, les actualités de l'école et les \
                    messages de l'équipe enseignante. Ce courrier contient ce qu'il faut pour \
                    ouvrir votre compte."
                .into(),
            login_label: "Identifiant".into(),
            code_label: "Code d'activation".into(),
            url_label: "Adresse".into(),
            url: "https://ent.example.fr/auth/activate".into(),
            steps_title: "Pour activer votre compte".into(),
            steps: vec![
                "Ouvrez l'adresse ci-dessus ou scannez le QR code.".into(),
                "Saisissez votre identifiant et le code d'activation.".into(),
                "Choisissez un mot de passe que vous seul connaissez.".into(),
                "Gardez ce courrier jusqu'à la première connexion réussie.".into(),
            ],
            qr_caption: "Scannez pour ouvrir la page d'activation".into(),
            footer: "Ce courrier est personnel. Ne communiquez jamais votre code ni votre mot \
                     de passe, même à l'école."
                .into(),
            document_title: "Lettres de connexion — CE1".into(),
            language: "fr-FR".into(),
        }
    }

    pub(super) fn sample_letter(addressee: &str) -> Letter {
        Letter {
            school: "École élémentaire Jules Ferry — Valbonne".into(),
            class: Some("CE1 Mme Roche".into()),
            addressee: addressee.into(),
            about: Some("Responsable de Léa Martin (CE1)".into()),
            login: "valerie.andre".into(),
            code: "KXRT-MPLA-QZ".into(),
            expires: "Code valable jusqu'au 31\u{A0}janvier 2027".into(),
        }
    }

    /// Offsets of the dictionaries of type `kind` (`/Type /Page`, `/Type/Pages`…). krilla writes
    /// no object streams, so these dictionaries are plain text in the file.
    fn typed_dicts<'a>(text: &'a str, kind: &'a str) -> impl Iterator<Item = usize> + 'a {
        text.match_indices("/Type")
            .map(|(at, _)| at)
            .filter(move |&at| {
                text[at + "/Type".len()..]
                    .trim_start()
                    .strip_prefix(kind)
                    .is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_alphanumeric()))
            })
    }

    fn page_objects(pdf: &[u8]) -> usize {
        typed_dicts(&String::from_utf8_lossy(pdf), "/Page").count()
    }

    /// The `/Count` of the page tree root.
    fn page_tree_count(pdf: &[u8]) -> Option<usize> {
        let text = String::from_utf8_lossy(pdf);
        let at = typed_dicts(&text, "/Pages").next()?;
        let start = text[..at].rfind("<<")?;
        let end = at + text[at..].find(">>")?;
        let count = text[start..end].split("/Count").nth(1)?;
        count
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    }

    fn all_lines(layout: &PageLayout) -> Vec<&Line> {
        let mut lines = Vec::new();
        for block in &layout.blocks {
            match block {
                Block::Text(_, block_lines) => lines.extend(block_lines),
                Block::Table(rows) => {
                    for row in rows {
                        lines.extend(&row.header);
                        lines.extend(&row.value);
                    }
                }
                Block::List(items) => {
                    for item in items {
                        lines.extend(&item.label);
                        lines.extend(&item.body);
                    }
                }
                Block::Figure { .. } => {}
            }
        }
        lines
    }

    #[test]
    fn three_letters_make_three_tagged_pages() -> Result<(), LetterError> {
        let letters = [
            sample_letter("Madame Valérie André"),
            sample_letter("Monsieur Noël Çağlar"),
            sample_letter("Léa Martin"),
        ];
        let pdf = render_letters(&letters, &sample_texts())?;
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(page_objects(&pdf), 3);
        assert_eq!(page_tree_count(&pdf), Some(3));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/StructTreeRoot"));
        assert!(text.contains("/Lang(fr-FR)") || text.contains("/Lang (fr-FR)"));
        assert!(text.contains("/Figure"));
        Ok(())
    }

    #[test]
    fn empty_batch_is_refused() {
        let error = render_letters(&[], &sample_texts())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("aucune lettre à imprimer : la liste des destinataires est vide")
        );
    }

    #[test]
    fn very_long_names_wrap_within_the_margins() -> Result<(), LetterError> {
        let fonts = Fonts::load()?;
        let qr = Qr::new(&sample_texts().url)?;
        let spaced =
            "Marie-Christine Joséphine Éléonore de La Rochefoucauld-Montmorency ".repeat(2);
        let unbroken =
            "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaft".repeat(2);
        for name in [spaced.as_str(), unbroken.as_str()] {
            let mut long = sample_letter(name);
            long.login = unbroken[..70].to_lowercase();
            let layout = layout_letter(&fonts, &qr, &long, &sample_texts())?;
            let lines = all_lines(&layout);
            let name_lines = lines.iter().filter(|line| line.style == ADDRESSEE).count();
            assert!(name_lines >= 2, "the name should take several lines");
            for line in lines {
                let visible = line.run.text.trim_end();
                let width = fonts
                    .face(line.style.weight)
                    .shape(visible, line.style)?
                    .width;
                assert!(
                    line.x >= MARGIN - 0.01,
                    "{visible} starts left of the margin"
                );
                assert!(
                    line.x + width <= PAGE_WIDTH - MARGIN + 0.01,
                    "{visible} overflows the right margin"
                );
            }
        }
        let pdf = render_letters(&[sample_letter(&unbroken)], &sample_texts())?;
        assert_eq!(page_objects(&pdf), 1);
        Ok(())
    }

    #[test]
    fn wrapping_keeps_every_word_and_no_break_spaces() -> Result<(), LetterError> {
        let fonts = Fonts::load()?;
        let text = "Le code reste valable jusqu'au 31\u{A0}janvier et « personnel ».";
        let lines = wrap(&fonts.regular, BODY, text, 60.0)?;
        assert!(lines.len() > 3);
        assert!(lines.iter().any(|l| l.text == "31\u{A0}janvier"));
        let words: Vec<&str> = lines.iter().flat_map(|l| l.text.split(' ')).collect();
        assert_eq!(words, text.split(' ').collect::<Vec<_>>());
        assert!(lines.iter().rev().skip(1).all(|l| l.space_after));
        Ok(())
    }

    #[test]
    fn text_that_cannot_fit_one_page_is_refused() {
        let mut texts = sample_texts();
        texts.intro = "Un paragraphe beaucoup trop long. ".repeat(400);
        let result = render_letters(&[sample_letter("Léa Martin")], &texts);
        assert!(matches!(result, Err(LetterError::TooLong(name)) if name == "Léa Martin"));
    }

    #[test]
    fn characters_missing_from_the_font_are_named() {
        let result = render_letters(&[sample_letter("王芳")], &sample_texts());
        assert!(matches!(
            result,
            Err(LetterError::MissingGlyph {
                character: '王',
                ..
            })
        ));
    }
}
