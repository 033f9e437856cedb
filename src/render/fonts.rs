//! The fonts documents are typeset with: every `.ttf`/`.otf` file of the fonts folder, loaded
//! once, with a hash of them all (a record names the fonts its PDF was made with) and the set of
//! characters they can print (validation refuses text they cannot).

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use sha2::{Digest, Sha256};
use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

use crate::shipped::Files;

/// The loaded fonts.
pub struct Fonts {
    pub fonts: Vec<Font>,
    pub book: LazyHash<FontBook>,
    /// SHA-256 over the font files' names and bytes, in name order.
    pub hash: String,
    /// Whether each of the first 64 Ki code points is printable (the rest look up the fonts).
    bmp: Vec<bool>,
}

impl Fonts {
    /// Loads every font file in `dir` (sorted by name, so the font book is the same every run).
    pub fn load(dir: &Path) -> Result<Fonts> {
        Fonts::load_from(&Files::Dir(dir.to_path_buf()))
    }

    /// Loads every font file of a fonts folder or of the built-in copy, as [`Fonts::load`]:
    /// the same files give the same fonts and the same hash.
    pub fn load_from(files: &Files) -> Result<Fonts> {
        let names: Vec<String> = files
            .list("")
            .with_context(|| format!("cannot read the fonts folder {}", files.describe()))?
            .into_iter()
            .filter(|name| {
                Path::new(name)
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| {
                        matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc")
                    })
            })
            .collect();
        ensure!(
            !names.is_empty(),
            "no font files (.ttf, .otf) in {}",
            files.describe()
        );
        let mut hasher = Sha256::new();
        let mut fonts = Vec::new();
        for name in &names {
            let path = files.show(name);
            let bytes = files
                .read(name)
                .with_context(|| format!("cannot read {}", path.display()))?;
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
            let before = fonts.len();
            // The built-in fonts are used where they are, not copied.
            let bytes = match bytes {
                Cow::Borrowed(bytes) => Bytes::new(bytes),
                Cow::Owned(bytes) => Bytes::new(bytes),
            };
            fonts.extend(Font::iter(bytes));
            ensure!(
                fonts.len() > before,
                "{} is not a font typst can read",
                path.display()
            );
        }
        let book = FontBook::from_fonts(&fonts);
        // From each font's ranges of covered code points, not by asking every font about every
        // code point: that took a third of a second at every start.
        let mut bmp = vec![false; 0x10000];
        for font in &fonts {
            for c in font.info().coverage.iter().take_while(|&c| c <= 0xFFFF) {
                bmp[c as usize] = true;
            }
        }
        Ok(Fonts {
            fonts,
            book: LazyHash::new(book),
            hash: hex::encode(hasher.finalize()),
            bmp,
        })
    }

    /// Whether some font can print `c`.
    pub fn covers(&self, c: char) -> bool {
        let code = c as u32;
        match self.bmp.get(code as usize) {
            Some(&covered) => covered,
            None => self.fonts.iter().any(|f| f.info().coverage.contains(code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_is_what_the_fonts_say_for_every_code_point() {
        let fonts = Fonts::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts")).unwrap();
        for code in (0..=0x2FFFFu32)
            .step_by(7)
            .chain([0x20B8, 0x04D8, 0x04E9, 0x0400])
        {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let asked = fonts.fonts.iter().any(|f| f.info().coverage.contains(code));
            assert_eq!(fonts.covers(c), asked, "U+{code:04X}");
        }
        // Kazakh letters and the tenge sign are printable; a private-use one is not.
        assert!("ӘәҒғҚқҢңӨөҰұҮүҺһІі₸".chars().all(|c| fonts.covers(c)));
        assert!(!fonts.covers('\u{E000}'));
    }
}
