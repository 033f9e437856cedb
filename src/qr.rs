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
//! The record keeps the payload it printed, so changing the configured address never changes a
//! registered document. The code is drawn as one SVG path, which the PDF keeps as vector art.

use anyhow::{Result, bail};
use qrcode::{EcLevel, QrCode};

/// What a QR code names: a registry, a number in it, and the hash of the registered content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub registry: String,
    pub number: String,
    pub content: String,
}

impl Payload {
    /// The payload text under the verification address `prefix`.
    pub fn text(&self, prefix: &str) -> String {
        format!(
            "{prefix}?r={}&n={}&c={}",
            encode(&self.registry),
            encode(&self.number),
            self.content
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

/// The QR code of `payload` as an SVG image: one path of unit squares, with the quiet zone.
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
    fn the_code_is_one_svg_path_and_the_same_payload_gives_the_same_code() {
        let payload = sample().text("https://qujat.gov.kz/verify");
        let a = svg(&payload).unwrap();
        assert_eq!(a, svg(&payload).unwrap());
        assert!(a.starts_with("<?xml") && a.ends_with("</svg>"));
        assert_eq!(a.matches("<path").count(), 1);
        assert_ne!(a, svg(&payload.replace("media", "medib")).unwrap());
    }
}
