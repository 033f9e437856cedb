//! How a number is written: a small format language read from the catalogue.
//!
//! `{seq}` is the position in the sequence (1, 2, …), `{seq:05}` the same zero-padded to five
//! digits, `{year}` the issue year and `{code}` the code of a choice (the publication kind's
//! `Г`, `Ж`, …). Everything else is literal. Every format holds `{seq}` exactly once, so two
//! positions of a sequence never share a number.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Seq { width: usize },
    Year,
    Code,
}

/// A parsed number format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    source: String,
    parts: Vec<Part>,
}

/// Why a number format is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("number format {0:?} must contain {{seq}} exactly once")]
    Seq(String),
    #[error("number format {0:?}: unknown placeholder {{{1}}} (use seq, seq:0N, year, code)")]
    Placeholder(String, String),
    #[error("number format {0:?}: unclosed {{")]
    Unclosed(String),
    #[error("number format {0:?}: a literal may not contain '}}' or control characters")]
    Literal(String),
}

impl FromStr for NumberFormat {
    type Err = FormatError;

    fn from_str(source: &str) -> Result<NumberFormat, FormatError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut seqs = 0;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after
                    .find('}')
                    .ok_or_else(|| FormatError::Unclosed(source.to_string()))?;
                let name = &after[..end];
                let part = match name {
                    "seq" => Part::Seq { width: 0 },
                    "year" => Part::Year,
                    "code" => Part::Code,
                    _ => match name.strip_prefix("seq:0").map(str::parse::<usize>) {
                        Some(Ok(width)) if (1..=12).contains(&width) => Part::Seq { width },
                        _ => {
                            return Err(FormatError::Placeholder(
                                source.to_string(),
                                name.to_string(),
                            ));
                        }
                    },
                };
                seqs += usize::from(matches!(part, Part::Seq { .. }));
                parts.push(part);
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let literal = &rest[..end];
                if literal.contains('}') || literal.chars().any(char::is_control) {
                    return Err(FormatError::Literal(source.to_string()));
                }
                parts.push(Part::Literal(literal.to_string()));
                rest = &rest[end..];
            }
        }
        if seqs != 1 {
            return Err(FormatError::Seq(source.to_string()));
        }
        Ok(NumberFormat {
            source: source.to_string(),
            parts,
        })
    }
}

impl<'de> Deserialize<'de> for NumberFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NumberFormat, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for NumberFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl NumberFormat {
    /// Whether the format includes a choice's `{code}`.
    pub fn uses_code(&self) -> bool {
        self.parts.contains(&Part::Code)
    }

    /// Writes the number at position `seq` (1-based) of the sequence.
    pub fn format(&self, seq: u64, year: i32, code: &str) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Seq { width } => out.push_str(&format!("{seq:0width$}")),
                Part::Year => out.push_str(&year.to_string()),
                Part::Code => out.push_str(code),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(source: &str) -> NumberFormat {
        source.parse().unwrap()
    }

    #[test]
    fn zero_padded_sequence_with_a_code_suffix() {
        let format = f("{seq:05}-{code}");
        assert_eq!(format.format(7, 2026, "Г"), "00007-Г");
        assert_eq!(format.format(12345, 2026, "ИА"), "12345-ИА");
        // Padding is a minimum width, never a truncation.
        assert_eq!(format.format(1_234_567, 2026, "Ж"), "1234567-Ж");
        assert!(format.uses_code());
    }

    #[test]
    fn year_and_literals() {
        let format = f("ШХ-{year}/{seq:04}");
        assert_eq!(format.format(3, 2026, ""), "ШХ-2026/0003");
        assert!(!format.uses_code());
        assert_eq!(f("{seq}").format(42, 2026, ""), "42");
        assert_eq!(f("KZ{seq:08}").format(42, 2026, ""), "KZ00000042");
    }

    #[test]
    fn distinct_positions_give_distinct_numbers() {
        let format = f("{seq:03}-{code}");
        let mut seen = std::collections::HashSet::new();
        for seq in 1..=5000 {
            assert!(seen.insert(format.format(seq, 2026, "Г")), "{seq}");
        }
    }

    #[test]
    fn rejects_formats_that_could_repeat_or_are_malformed() {
        assert_eq!(
            "ШХ-{year}".parse::<NumberFormat>(),
            Err(FormatError::Seq("ШХ-{year}".into()))
        );
        assert!(matches!(
            "{seq}{seq}".parse::<NumberFormat>(),
            Err(FormatError::Seq(_))
        ));
        assert!(matches!(
            "{seq".parse::<NumberFormat>(),
            Err(FormatError::Unclosed(_))
        ));
        assert!(matches!(
            "{seq:5}".parse::<NumberFormat>(),
            Err(FormatError::Placeholder(..))
        ));
        assert!(matches!(
            "{seq:00}".parse::<NumberFormat>(),
            Err(FormatError::Placeholder(..))
        ));
        assert!(matches!(
            "{month}-{seq}".parse::<NumberFormat>(),
            Err(FormatError::Placeholder(..))
        ));
        assert!(matches!(
            "{seq}}".parse::<NumberFormat>(),
            Err(FormatError::Literal(_))
        ));
        assert!(matches!(
            "{seq}\n".parse::<NumberFormat>(),
            Err(FormatError::Literal(_))
        ));
    }
}
