//! What characters a document may hold: decided by their Unicode properties and by the shipped
//! fonts, not by a list of characters someone thought of.
//!
//! A text is read as a person reads the printed document. A character is refused when it
//! breaks a line where the field has one line (`\n`, and the line and paragraph separators
//! U+2028/U+2029), when it is a control (general category Cc), a format character or
//! default-ignorable (Cf, `Default_Ignorable_Code_Point`: zero-width spaces and joiners,
//! direction marks, the combining grapheme joiner, Hangul fillers, variation selectors…), a
//! private-use or unassigned code point (Co, Cn), a combining mark with no letter to sit on,
//! or when no shipped font prints it, or prints it as nothing (a glyph without an outline,
//! such as the braille blank U+2800) while it is not white space. A text with no visible base
//! character (only white space and marks) counts as empty.
//!
//! The properties come from ICU4X (`icu_properties`, the Unicode Consortium's own library,
//! with its data compiled in), which qujat already carries for Typst's line breaking: the same
//! Unicode version that lays the text out decides what it may hold. `unicode-properties`
//! knows the general category but not `Default_Ignorable_Code_Point` or `White_Space`.
//!
//! Texts are put in Unicode normal form C (canonical composition: `и` + U+0306 becomes `й`),
//! which changes no character a reader sees, only how it is encoded (see docs/cases.md).

use std::path::Path;

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, WhiteSpace};
use icu_properties::{CodePointMapData, CodePointSetData};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// How the shipped fonts print a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    /// No font has it.
    Missing,
    /// A font has it, and draws nothing for it.
    Blank,
    /// Every font that has it draws it.
    Drawn,
}

/// Why a character may not stand in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfit {
    /// A line break in a field of one line.
    LineBreak,
    Control,
    /// A format or default-ignorable character: it changes how text reads without showing.
    Invisible,
    PrivateUse,
    Unassigned,
    /// A combining mark at the start of the text or after white space.
    LoneMark,
    /// No shipped font has it.
    NotInFonts,
    /// The fonts print it as nothing, and it is not white space.
    Blank,
}

impl Unfit {
    /// What a message says a text holds: `c`, and why it may not.
    pub fn describe(self, c: char) -> String {
        let code = c as u32;
        match self {
            Unfit::LineBreak if c == '\n' => {
                "a line break, which documents cannot show in this field".to_string()
            }
            Unfit::LineBreak => format!(
                "U+{code:04X}, a line or paragraph separator: a field breaks lines only with a \
                 plain line break, where it allows them"
            ),
            Unfit::Control => {
                format!("control character U+{code:04X}, which documents cannot show")
            }
            Unfit::Invisible => {
                format!("the invisible character U+{code:04X}, which documents cannot show")
            }
            Unfit::PrivateUse => {
                format!("the private-use character U+{code:04X}, which has no agreed meaning")
            }
            Unfit::Unassigned => format!("U+{code:04X}, which Unicode does not assign"),
            Unfit::LoneMark => {
                format!("the combining mark U+{code:04X} with no letter before it to sit on")
            }
            Unfit::NotInFonts => {
                format!("{c:?} (U+{code:04X}), which the document fonts cannot print")
            }
            Unfit::Blank => format!("U+{code:04X}, which the document fonts print as nothing"),
        }
    }
}

fn category(c: char) -> GeneralCategory {
    CodePointMapData::<GeneralCategory>::new().get(c)
}

fn ignorable(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

fn white_space(c: char) -> bool {
    CodePointSetData::new::<WhiteSpace>().contains(c)
}

fn is_mark(category: GeneralCategory) -> bool {
    use GeneralCategory as G;
    matches!(
        category,
        G::NonspacingMark | G::SpacingMark | G::EnclosingMark
    )
}

/// The first character of `text` that a document may not hold, and why. `multiline`: the
/// field may have line breaks (`\n`; other separators never).
pub fn first_unfit(
    text: &str,
    multiline: bool,
    glyph: &dyn Fn(char) -> Glyph,
) -> Option<(char, Unfit)> {
    use GeneralCategory as G;
    let mut before: Option<char> = None;
    for c in text.chars() {
        let category = category(c);
        let unfit = match category {
            _ if c == '\n' => (!multiline).then_some(Unfit::LineBreak),
            G::LineSeparator | G::ParagraphSeparator => Some(Unfit::LineBreak),
            G::Control => Some(Unfit::Control),
            G::Format => Some(Unfit::Invisible),
            G::PrivateUse => Some(Unfit::PrivateUse),
            G::Unassigned | G::Surrogate => Some(Unfit::Unassigned),
            _ if ignorable(c) => Some(Unfit::Invisible),
            _ if is_mark(category) && before.is_none_or(white_space) => Some(Unfit::LoneMark),
            _ => match glyph(c) {
                Glyph::Missing => Some(Unfit::NotInFonts),
                Glyph::Blank if !white_space(c) => Some(Unfit::Blank),
                _ => None,
            },
        };
        if let Some(unfit) = unfit {
            return Some((c, unfit));
        }
        before = Some(c);
    }
    None
}

/// Whether `text` has nothing a reader would see as a character: no letter, digit,
/// punctuation or symbol, only white space, marks and invisible characters. Such a field
/// counts as empty.
pub fn is_blank(text: &str) -> bool {
    use GeneralCategory as G;
    !text.chars().any(|c| {
        let shows = matches!(
            category(c),
            G::UppercaseLetter
                | G::LowercaseLetter
                | G::TitlecaseLetter
                | G::ModifierLetter
                | G::OtherLetter
                | G::DecimalNumber
                | G::LetterNumber
                | G::OtherNumber
                | G::DashPunctuation
                | G::OpenPunctuation
                | G::ClosePunctuation
                | G::ConnectorPunctuation
                | G::OtherPunctuation
                | G::InitialPunctuation
                | G::FinalPunctuation
                | G::MathSymbol
                | G::CurrencySymbol
                | G::ModifierSymbol
                | G::OtherSymbol
        );
        shows && !ignorable(c)
    })
}

/// `text` in Unicode normal form C, and whether that changed it.
pub fn nfc(text: String) -> (String, bool) {
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        return (text, false);
    }
    let normal: String = text.nfc().collect();
    let changed = normal != text;
    (normal, changed)
}

/// Whether `text` is in normal form C already.
pub fn is_nfc(text: &str) -> bool {
    unicode_normalization::is_nfc(text)
}

/// How the shipped fonts print each character: a table of the first 64 Ki code points, made
/// once from the fonts' own coverage and outlines; the rest are looked up in the fonts.
pub struct Glyphs {
    fonts: Vec<typst::text::Font>,
    bmp: Vec<Glyph>,
}

impl Glyphs {
    pub fn new(fonts: &[typst::text::Font]) -> Glyphs {
        let mut bmp = vec![Glyph::Missing; 0x10000];
        for font in fonts {
            let Ok(face) = ttf_parser::Face::parse(font.data().as_slice(), font.index()) else {
                continue;
            };
            for code in font.info().coverage.iter().take_while(|&c| c <= 0xFFFF) {
                let Some(c) = char::from_u32(code) else {
                    continue;
                };
                let here = glyph_in_face(&face, c);
                let slot = &mut bmp[code as usize];
                // A font that draws nothing for it is enough: Typst might choose that font.
                *slot = match (*slot, here) {
                    (_, Glyph::Blank) | (Glyph::Blank, _) => Glyph::Blank,
                    (_, Glyph::Drawn) | (Glyph::Drawn, _) => Glyph::Drawn,
                    _ => Glyph::Missing,
                };
            }
        }
        Glyphs {
            fonts: fonts.to_vec(),
            bmp,
        }
    }

    /// Loads the fonts of a folder, as the engine does, for tests and tools.
    pub fn load(dir: &Path) -> anyhow::Result<Glyphs> {
        let fonts = crate::render::Fonts::load(dir)?;
        Ok(Glyphs::new(&fonts.fonts))
    }

    pub fn of(&self, c: char) -> Glyph {
        if let Some(&glyph) = self.bmp.get(c as usize) {
            return glyph;
        }
        self.fonts
            .iter()
            .map(|font| glyph_in(font, c))
            .fold(Glyph::Missing, |all, one| match (all, one) {
                (Glyph::Blank, _) | (_, Glyph::Blank) => Glyph::Blank,
                (Glyph::Drawn, _) | (_, Glyph::Drawn) => Glyph::Drawn,
                _ => Glyph::Missing,
            })
    }
}

/// How one font prints `c`.
fn glyph_in(font: &typst::text::Font, c: char) -> Glyph {
    if !font.info().coverage.contains(c as u32) {
        return Glyph::Missing;
    }
    // The fonts were parsed when they were loaded: parsing the face again cannot fail.
    let Ok(face) = ttf_parser::Face::parse(font.data().as_slice(), font.index()) else {
        return Glyph::Missing;
    };
    glyph_in_face(&face, c)
}

fn glyph_in_face(face: &ttf_parser::Face<'_>, c: char) -> Glyph {
    match face.glyph_index(c) {
        None => Glyph::Missing,
        Some(id) if face.glyph_bounding_box(id).is_some() => Glyph::Drawn,
        // Bitmap or SVG glyphs have no outline but do draw.
        Some(id) if face.glyph_raster_image(id, u16::MAX).is_some() => Glyph::Drawn,
        Some(id) if face.glyph_svg_image(id).is_some() => Glyph::Drawn,
        Some(_) => Glyph::Blank,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn(_: char) -> Glyph {
        Glyph::Drawn
    }

    #[test]
    fn characters_are_refused_by_their_properties() {
        let unfit = |text: &str| first_unfit(text, false, &drawn);
        assert_eq!(unfit("Жас Алаш — 2026 «№ 5»"), None);
        assert_eq!(unfit("a\u{2028}b"), Some(('\u{2028}', Unfit::LineBreak)));
        assert_eq!(unfit("a\u{2029}b"), Some(('\u{2029}', Unfit::LineBreak)));
        assert_eq!(unfit("a\nb"), Some(('\n', Unfit::LineBreak)));
        assert_eq!(first_unfit("a\nb", true, &drawn), None);
        assert_eq!(unfit("a\u{1b}[31m"), Some(('\u{1b}', Unfit::Control)));
        assert_eq!(unfit("a\u{85}b"), Some(('\u{85}', Unfit::Control)));
        // Format characters and default-ignorables, whatever their category.
        for c in [
            '\u{200B}', '\u{202E}', '\u{2066}', '\u{FEFF}', '\u{AD}', '\u{180E}',
        ] {
            assert_eq!(
                unfit(&format!("a{c}b")),
                Some((c, Unfit::Invisible)),
                "{c:?}"
            );
        }
        // Combining grapheme joiner (Mn), Hangul filler (Lo), a variation selector (Mn).
        for c in ['\u{34F}', '\u{3164}', '\u{115F}', '\u{FE0F}'] {
            assert_eq!(
                unfit(&format!("a{c}b")),
                Some((c, Unfit::Invisible)),
                "{c:?}"
            );
        }
        assert_eq!(unfit("a\u{E000}"), Some(('\u{E000}', Unfit::PrivateUse)));
        assert_eq!(unfit("a\u{0378}"), Some(('\u{0378}', Unfit::Unassigned)));
        // A mark after a letter is part of it; at the start or after a space it stands alone.
        assert_eq!(unfit("и\u{306}"), None);
        assert_eq!(unfit("\u{301}а"), Some(('\u{301}', Unfit::LoneMark)));
        assert_eq!(unfit("а \u{301}"), Some(('\u{301}', Unfit::LoneMark)));
    }

    #[test]
    fn the_fonts_decide_what_prints() {
        let glyph = |c: char| match c {
            '\u{1680}' => Glyph::Missing,
            '\u{2800}' | ' ' | '\u{2003}' => Glyph::Blank,
            _ => Glyph::Drawn,
        };
        // The Ogham space mark is white space, and still must be printable.
        assert_eq!(
            first_unfit("a\u{1680}b", false, &glyph),
            Some(('\u{1680}', Unfit::NotInFonts))
        );
        // The braille blank is a symbol that prints as nothing; spaces print as nothing too.
        assert_eq!(
            first_unfit("a\u{2800}b", false, &glyph),
            Some(('\u{2800}', Unfit::Blank))
        );
        assert_eq!(first_unfit("a b\u{2003}c", false, &glyph), None);
    }

    #[test]
    fn a_text_without_a_visible_base_character_is_blank() {
        assert!(is_blank(""));
        assert!(is_blank("  \u{301} "));
        assert!(is_blank("\u{3164}\u{200B}\u{2003}"));
        assert!(!is_blank(" a "));
        assert!(!is_blank("—"));
        assert!(!is_blank("7"));
        assert!(!is_blank("₸"));
    }

    #[test]
    fn texts_are_composed() {
        let (text, changed) = nfc("Жаи\u{306}ық".to_string());
        assert_eq!(text, "Жайық");
        assert!(changed);
        let (text, changed) = nfc("Жайық".to_string());
        assert_eq!(text, "Жайық");
        assert!(!changed);
        assert!(is_nfc("Жайық") && !is_nfc("и\u{306}"));
    }

    #[test]
    fn the_shipped_fonts_print_kazakh_and_refuse_what_reported_trouble() {
        let glyphs = Glyphs::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts")).unwrap();
        for c in "ӘәҒғҚқҢңӨөҰұҮүҺһІіЁёЙй₸«»—№".chars() {
            assert_eq!(glyphs.of(c), Glyph::Drawn, "{c:?}");
        }
        assert_eq!(glyphs.of(' '), Glyph::Blank);
        assert_eq!(glyphs.of('\u{1680}'), Glyph::Missing);
        let check = |text: &str| first_unfit(text, false, &|c| glyphs.of(c));
        assert_eq!(check("Жас Алаш"), None);
        assert_eq!(check("a\u{1680}b"), Some(('\u{1680}', Unfit::NotInFonts)));
        // DejaVu Serif has the braille blank, and the object replacement character, as glyphs
        // without outlines: letters that print as nothing.
        assert_eq!(check("a\u{2800}b"), Some(('\u{2800}', Unfit::Blank)));
        assert_eq!(check("a\u{FFFC}b"), Some(('\u{FFFC}', Unfit::Blank)));
    }
}
