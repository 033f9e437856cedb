//! The QR code printed on every document: where to check it, and what to check.
//!
//! The payload is a verification address with three query parameters — the registry `r`, the
//! number `n` (percent-encoded UTF-8) and `c`, the SHA-256 of the document's registered content
//! (the record's `content`, not the PDF's own hash, which the QR code is part of):
//!
//! ```text
//! https://qujat.gov.kz/verify?r=media&n=00017-%D0%93&c=9f86d081884c7d65…
//! ```
//!
//! Documents of the current profile write the hash in upper case ([`Payload::text_upper`]): the
//! number's percent-escapes and the hash are then runs of the QR alphanumeric set, which the
//! code holds in 5.5 bits a character instead of 8 ([`png_segmented`]), and every payload fits a
//! version 6 or 7 code. Readers accept the hash in either case.
//!
//! The record keeps the payload it printed, so changing the configured address never changes a
//! registered document. Documents carry the code as a 1-bit PNG image, one pixel per module
//! ([`png`], [`png_segmented`]), which the PDF scales up without smoothing; documents typeset
//! before that carry it as an SVG path ([`svg`]), still made for them so that they regenerate
//! byte for byte (see [`crate::render::Profile`]).

use anyhow::{Result, bail};
use qrcode::{EcLevel, QrCode};
use qrcodegen::{QrCodeEcc, QrSegment, Version};

/// What a QR code names: a registry, a number in it, and the hash of the registered content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub registry: String,
    pub number: String,
    pub content: String,
}

impl Payload {
    /// The payload text under the verification address `prefix`: the form of the first
    /// documents, the hash in lower case.
    pub fn text(&self, prefix: &str) -> String {
        format!(
            "{prefix}?r={}&n={}&c={}",
            encode(&self.registry),
            encode(&self.number),
            self.content
        )
    }

    /// The payload text with the hash in upper case, so that the number's escapes and the hash
    /// are QR alphanumeric runs (see [`png_segmented`]); it reads back to the same payload.
    pub fn text_upper(&self, prefix: &str) -> String {
        format!(
            "{prefix}?r={}&n={}&c={}",
            encode(&self.registry),
            encode(&self.number),
            self.content.to_ascii_uppercase()
        )
    }

    /// Reads a scanned payload, whatever address it starts with.
    pub fn parse(text: &str) -> Result<Payload> {
        let text = text.trim();
        let Some((_, query)) = text.split_once('?') else {
            bail!("not a qujat QR payload: it has no ?r=…&n=…&c=… part");
        };
        let (mut registry, mut number, mut content) = (None, None, None);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "r" => &mut registry,
                "n" => &mut number,
                "c" => &mut content,
                _ => continue,
            };
            if slot.is_some() {
                bail!("not a qujat QR payload: {key}= is given twice");
            }
            *slot = Some(decode(value)?);
        }
        let (Some(registry), Some(number), Some(content)) = (registry, number, content) else {
            bail!("not a qujat QR payload: it must give r= (registry), n= (number) and c= (hash)");
        };
        if content.len() != 64 || !content.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("not a qujat QR payload: c= must be a SHA-256 in hex");
        }
        Ok(Payload {
            registry,
            number,
            content: content.to_ascii_lowercase(),
        })
    }
}

/// The white border around the code, in modules: the four the standard asks for.
const QUIET_ZONE: usize = 4;

/// The QR code of `payload` as a PNG image: error correction M, one pixel per module, the quiet
/// zone included, 1-bit greyscale.
///
/// The encoder is qrcodegen (its mask choice follows the standard's penalty rules exactly) and
/// the PNG is written here, uncompressed ("stored" deflate blocks), so the bytes depend on
/// nothing but the payload: no compression library's version can change a registered document.
pub fn png(payload: &str) -> Result<Vec<u8>> {
    let segments = QrSegment::make_segments(payload);
    let code = qrcodegen::QrCode::encode_segments_advanced(
        &segments,
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        None,
        false,
    )
    .map_err(|e| anyhow::anyhow!("the QR payload cannot be encoded: {e}"))?;
    Ok(draw(&code))
}

/// The QR code of `payload` as [`png`] draws it, with the payload split into segments by the
/// standard's modes: runs of the alphanumeric set (digits, capitals, space and `$%*+-./:`) long
/// enough to pay for a segment header are coded 11 bits a pair, the rest as bytes. The decoded
/// text is the payload, unchanged; the code is one or two versions smaller for numbers with
/// Cyrillic letters (their escapes are alphanumeric), so its modules can be larger at the same
/// printed size.
pub fn png_segmented(payload: &str) -> Result<Vec<u8>> {
    let code = qrcodegen::QrCode::encode_segments_advanced(
        &segments(payload),
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        None,
        false,
    )
    .map_err(|e| anyhow::anyhow!("the QR payload cannot be encoded: {e}"))?;
    Ok(draw(&code))
}

/// Characters of the QR alphanumeric mode.
fn is_alphanumeric(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase() || " $%*+-./:".contains(c)
}

/// The shortest run of alphanumeric characters worth a segment of its own inside a byte run:
/// 8 bits a character against 5.5, for two segment headers of at most 4 + 16 and 4 + 13 bits.
const ALPHANUMERIC_RUN: usize = 15;

/// `text` as QR segments: alphanumeric runs of at least [`ALPHANUMERIC_RUN`] characters (or the
/// whole text), bytes between them.
fn segments(text: &str) -> Vec<QrSegment> {
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let alphanumeric = is_alphanumeric(c);
        match runs.last_mut() {
            Some((kind, run)) if *kind == alphanumeric => run.push(c),
            _ => runs.push((alphanumeric, c.to_string())),
        }
    }
    let mut segments = Vec::new();
    let mut bytes = String::new();
    for (alphanumeric, run) in runs {
        if alphanumeric && (run.len() >= ALPHANUMERIC_RUN || run.len() == text.len()) {
            if !bytes.is_empty() {
                segments.push(QrSegment::make_bytes(bytes.as_bytes()));
                bytes.clear();
            }
            segments.push(QrSegment::make_alphanumeric(&run));
        } else {
            // A short run costs less as bytes than as a segment of its own.
            bytes.push_str(&run);
        }
    }
    if !bytes.is_empty() {
        segments.push(QrSegment::make_bytes(bytes.as_bytes()));
    }
    segments
}

/// A code's modules as a PNG, with the quiet zone.
fn draw(code: &qrcodegen::QrCode) -> Vec<u8> {
    let modules = code.size() as usize;
    let side = modules + 2 * QUIET_ZONE;
    let dark = |x: usize, y: usize| {
        let (x, y) = (x.wrapping_sub(QUIET_ZONE), y.wrapping_sub(QUIET_ZONE));
        x < modules && y < modules && code.get_module(x as i32, y as i32)
    };
    png_1bit(side, dark)
}

/// A square 1-bit greyscale PNG of `side` pixels, black where `dark(x, y)`.
fn png_1bit(side: usize, dark: impl Fn(usize, usize) -> bool) -> Vec<u8> {
    let row_bytes = side.div_ceil(8);
    // Each scanline: filter type 0 (none), then the pixels, 8 to a byte, 1 = white.
    let mut raw = Vec::with_capacity(side * (1 + row_bytes));
    for y in 0..side {
        raw.push(0);
        for byte in 0..row_bytes {
            let mut bits = 0u8;
            for bit in 0..8 {
                let x = byte * 8 + bit;
                if x >= side || !dark(x, y) {
                    bits |= 0x80 >> bit;
                }
            }
            raw.push(bits);
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    // Bit depth 1, colour type 0 (greyscale), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// `data` as a zlib stream of stored (uncompressed) deflate blocks (RFC 1950, 1951).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 0xFFFF;
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        let len = block.len() as u16;
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// CRC-32 (ISO-HDLC, as PNG uses), bit by bit: a QR image is a few hundred bytes.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The QR code of `payload` as documents of the first profile carry it (see
/// [`crate::render::Profile`]): the `qrcode` crate's code and mask, drawn as one SVG path of
/// unit squares with the quiet zone. Kept, unchanged, so that those documents regenerate.
pub fn svg(payload: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow::anyhow!("the QR payload cannot be encoded: {e}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .build())
}

/// Percent-encodes everything but unreserved ASCII (RFC 3986).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                bail!("not a qujat QR payload: a bad %-escape in {text:?}");
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| anyhow::anyhow!("not a qujat QR payload: {text:?} is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Payload {
        Payload {
            registry: "foreign-media".into(),
            number: "ШХ-2026/00017 АСТ".into(),
            content: "ab".repeat(32),
        }
    }

    #[test]
    fn a_payload_round_trips_and_encodes_what_a_url_cannot_hold() {
        let text = sample().text("https://qujat.gov.kz/verify");
        assert_eq!(
            text,
            format!(
                "https://qujat.gov.kz/verify?r=foreign-media&n=%D0%A8%D0%A5-2026%2F00017%20%D0%90%D0%A1%D0%A2&c={}",
                "ab".repeat(32)
            )
        );
        assert!(text.is_ascii());
        assert_eq!(Payload::parse(&text).unwrap(), sample());
        // Scanners may add white space or upper-case the hash.
        let shouted = format!(" {} ", text.replace(&"ab".repeat(32), &"AB".repeat(32)));
        assert_eq!(Payload::parse(&shouted).unwrap(), sample());
    }

    #[test]
    fn the_upper_case_form_reads_back_to_the_same_payload() {
        let text = sample().text_upper("https://qujat.gov.kz/verify");
        assert!(text.ends_with(&format!("&c={}", "AB".repeat(32))));
        assert_eq!(Payload::parse(&text).unwrap(), sample());
    }

    /// The version of a code drawn by `png_1bit` with the quiet zone: side = 17 + 4 v + 8.
    fn version(png: &[u8]) -> usize {
        (pixels(png).len() - 2 * QUIET_ZONE - 17) / 4
    }

    /// The text a QR decoder reads from a PNG of ours, each module scaled to 4 pixels.
    fn decoded(png: &[u8]) -> String {
        let modules = pixels(png);
        let side = modules.len() * 4;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            if modules[y / 4][x / 4] { 0 } else { 255 }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn alphanumeric_segments_shrink_the_code_and_decode_to_the_same_text() {
        // The longest numbers: four Cyrillic letters, each six characters escaped.
        let kkm = Payload {
            registry: "e-register".into(),
            number: "ГР-ШХ-2026/00001".into(),
            content: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        };
        let prefix = "https://qujat.gov.kz/verify";
        let old = png(&kkm.text(prefix)).unwrap();
        let upper = kkm.text_upper(prefix);
        let new = png_segmented(&upper).unwrap();
        assert_eq!(version(&old), 8);
        assert_eq!(version(&new), 7);
        assert_eq!(decoded(&new), upper);
        assert_eq!(Payload::parse(&decoded(&new)).unwrap(), kkm);
        // A media certificate's: version 6 either way, the same text read back.
        let media = Payload {
            registry: "media".into(),
            number: "00017-Г".into(),
            content: kkm.content.clone(),
        };
        let text = media.text_upper(prefix);
        let code = png_segmented(&text).unwrap();
        assert_eq!(version(&code), 6);
        assert_eq!(decoded(&code), text);
        // What is all alphanumeric is one segment; lower case is bytes.
        assert_eq!(segments("HTTPS://X.KZ/A B").len(), 1);
        assert_eq!(
            segments("https://x.kz/?n=%D0%93%D0%A0-2026%2F00001&c=AB").len(),
            3
        );
        assert_eq!(segments("abc").len(), 1);
        assert_eq!(decoded(&png_segmented("abc").unwrap()), "abc");
    }

    #[test]
    fn what_is_not_a_payload_is_refused() {
        for bad in [
            "hello",
            "https://x/?r=media&n=1",
            "https://x/?r=media&n=1&c=abc",
            "https://x/?r=media&r=kkm&n=1&c=".to_string().as_str(),
            &format!("https://x/?r=media&n=%G1&c={}", "a".repeat(64)),
            &format!("https://x/?r=media&n=%FF&c={}", "a".repeat(64)),
        ] {
            assert!(Payload::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_legacy_code_is_one_svg_path_and_the_same_payload_gives_the_same_code() {
        let payload = sample().text("https://qujat.gov.kz/verify");
        let a = svg(&payload).unwrap();
        assert_eq!(a, svg(&payload).unwrap());
        assert!(a.starts_with("<?xml") && a.ends_with("</svg>"));
        assert_eq!(a.matches("<path").count(), 1);
        assert_ne!(a, svg(&payload.replace("media", "medib")).unwrap());
    }

    #[test]
    fn checksums_match_their_standards() {
        // The check values of the CRC catalogue and of RFC 1950's Adler-32.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
        // Adler-32's sums are reduced often enough for long inputs.
        let long = vec![0xFFu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &byte in &long {
            a = (a + u64::from(byte)) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&long), ((b << 16) | a) as u32);
    }

    #[test]
    fn stored_blocks_hold_the_data_and_split_at_their_limit() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let z = zlib_stored(&data);
        assert_eq!(&z[..2], &[0x78, 0x01]);
        assert_eq!((u16::from(z[0]) << 8 | u16::from(z[1])) % 31, 0, "FCHECK");
        // Two blocks: 65,535 bytes, not final; then the rest, final.
        assert_eq!(&z[2..7], &[0, 0xFF, 0xFF, 0, 0]);
        assert_eq!(&z[7..7 + 0xFFFF], &data[..0xFFFF]);
        let second = 7 + 0xFFFF;
        let rest = (data.len() - 0xFFFF) as u16;
        assert_eq!(z[second], 1);
        assert_eq!(&z[second + 1..second + 3], &rest.to_le_bytes());
        assert_eq!(&z[second + 3..second + 5], &(!rest).to_le_bytes());
        assert_eq!(&z[second + 5..z.len() - 4], &data[0xFFFF..]);
        assert_eq!(&z[z.len() - 4..], &adler32(&data).to_be_bytes());
    }

    /// The pixels of a PNG written by `png_1bit`, read back by hand: true where black.
    fn pixels(png: &[u8]) -> Vec<Vec<bool>> {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut at = 8;
        let (mut side, mut idat) = (0, Vec::new());
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(&png[at + 4..at + 8 + len]), "chunk CRC");
            match kind {
                b"IHDR" => {
                    side = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
                    assert_eq!(&data[4..8], &data[..4], "square");
                    assert_eq!(&data[8..], &[1, 0, 0, 0, 0]);
                }
                b"IDAT" => idat.extend_from_slice(data),
                b"IEND" => assert!(data.is_empty()),
                other => panic!("unexpected chunk {other:?}"),
            }
            at += 12 + len;
        }
        // One stored block: header, 5 block bytes, data, Adler-32.
        let raw = &idat[7..idat.len() - 4];
        assert_eq!(idat[2], 1);
        assert_eq!(&idat[idat.len() - 4..], &adler32(raw).to_be_bytes());
        let row = 1 + side.div_ceil(8);
        assert_eq!(raw.len(), side * row);
        (0..side)
            .map(|y| {
                assert_eq!(raw[y * row], 0, "filter type none");
                (0..side)
                    .map(|x| raw[y * row + 1 + x / 8] & (0x80 >> (x % 8)) == 0)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_png_holds_exactly_the_pixels_asked_for() {
        // 11 pixels a side: rows need two bytes, the padding bits are white.
        let dark = |x: usize, y: usize| (x + 2 * y).is_multiple_of(3);
        let png = png_1bit(11, dark);
        let read = pixels(&png);
        for (y, row) in read.iter().enumerate() {
            for (x, &black) in row.iter().enumerate() {
                assert_eq!(black, dark(x, y), "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn the_code_is_the_payload_with_its_quiet_zone_and_the_same_payload_gives_the_same_bytes() {
        let payload = sample().text("https://qujat.gov.kz/verify");
        let a = png(&payload).unwrap();
        assert_eq!(a, png(&payload).unwrap());
        assert_ne!(a, png(&payload.replace("media", "medib")).unwrap());
        let read = pixels(&a);
        let side = read.len();
        let code = qrcodegen::QrCode::encode_segments_advanced(
            &QrSegment::make_segments(&payload),
            QrCodeEcc::Medium,
            Version::MIN,
            Version::MAX,
            None,
            false,
        )
        .unwrap();
        assert_eq!(code.error_correction_level(), QrCodeEcc::Medium);
        assert_eq!(side, code.size() as usize + 2 * QUIET_ZONE);
        for (y, row) in read.iter().enumerate() {
            for (x, &black) in row.iter().enumerate() {
                let inside = (QUIET_ZONE..side - QUIET_ZONE).contains(&x)
                    && (QUIET_ZONE..side - QUIET_ZONE).contains(&y);
                let expected =
                    inside && code.get_module((x - QUIET_ZONE) as i32, (y - QUIET_ZONE) as i32);
                assert_eq!(black, expected, "module {x},{y}");
            }
        }
    }
}
