//! Kazakhstan's individual (IIN, ЖСН/ИИН) and business (BIN, БСН/БИН) identification numbers.
//!
//! Both are 12 digits whose last digit is a weighted mod-11 check digit: weights 1..11 over the
//! first eleven digits; if the remainder is 10, weights 3..11,1,2; if it is 10 again the number
//! is never issued. On top of the check digit we check the parts whose meaning is fixed:
//! - IIN: digits 1–6 are the birth date (YYMMDD), digit 7 the century and sex (1–6; 0 is used for
//!   some foreign nationals and carries no century, so the date is then only checked for its month
//!   and day ranges);
//! - BIN: digits 1–4 are the registration year and month (YYMM), digit 5 the kind of entity
//!   (4 resident, 5 non-resident, 6 individual entrepreneur in joint venture), digit 6 its
//!   attribute (0 head office, 1 branch, 2 representative office, 3 peasant farm).

use crate::date::Date;

/// Why a text is not a valid IIN or BIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be exactly 12 digits, found {0:?}")]
    Shape(String),
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit { found: u8, expected: u8 },
    #[error("is never issued: its check digit cannot be computed (remainder 10 twice)")]
    NeverIssued,
    #[error("digits 1–6 must be a birth date YYMMDD: {0}")]
    BirthDate(String),
    #[error("digit 7 (century and sex) must be 0–6, found {0}")]
    Century(u8),
    #[error("digits 3–4 must be a registration month 01–12, found {0:02}")]
    RegistrationMonth(u8),
    #[error("digit 5 (kind of entity) must be 4, 5 or 6, found {0}")]
    EntityKind(u8),
    #[error("digit 6 (entity attribute) must be 0–3, found {0}")]
    EntityAttribute(u8),
}

/// The check digit for the first eleven digits, or `None` if no such number is ever issued.
pub fn check_digit(digits: &[u8; 11]) -> Option<u8> {
    const SECOND: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];
    let first: u32 = digits
        .iter()
        .zip(1..)
        .map(|(&d, w)| u32::from(d) * w)
        .sum::<u32>()
        % 11;
    if first != 10 {
        return Some(first as u8);
    }
    let second: u32 = digits
        .iter()
        .zip(SECOND)
        .map(|(&d, w)| u32::from(d) * w)
        .sum::<u32>()
        % 11;
    (second != 10).then_some(second as u8)
}

fn digits(text: &str) -> Result<[u8; 12], IdError> {
    let bytes = text.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(IdError::Shape(text.to_string()));
    }
    let mut out = [0u8; 12];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b - b'0';
    }
    Ok(out)
}

fn verify_check_digit(d: &[u8; 12]) -> Result<(), IdError> {
    let first11: [u8; 11] = d[..11].try_into().expect("12 digits");
    match check_digit(&first11) {
        None => Err(IdError::NeverIssued),
        Some(expected) if expected != d[11] => Err(IdError::CheckDigit {
            found: d[11],
            expected,
        }),
        Some(_) => Ok(()),
    }
}

/// Checks an individual identification number (ИИН / ЖСН).
pub fn validate_iin(text: &str) -> Result<(), IdError> {
    let d = digits(text)?;
    let two = |i: usize| d[i] * 10 + d[i + 1];
    let (yy, mm, dd) = (two(0), two(2), two(4));
    let century = d[6];
    let year = match century {
        1 | 2 => Some(1800),
        3 | 4 => Some(1900),
        5 | 6 => Some(2000),
        0 => None,
        other => return Err(IdError::Century(other)),
    };
    // Without a century, 2000 (a leap year) admits every month-day pair that exists.
    let year = i32::from(yy) + year.unwrap_or(2000);
    if Date::new(year, mm, dd).is_none() {
        return Err(IdError::BirthDate(format!("{yy:02}{mm:02}{dd:02}")));
    }
    verify_check_digit(&d)
}

/// Checks a business identification number (БИН / БСН).
pub fn validate_bin(text: &str) -> Result<(), IdError> {
    let d = digits(text)?;
    let month = d[2] * 10 + d[3];
    if !(1..=12).contains(&month) {
        return Err(IdError::RegistrationMonth(month));
    }
    if !(4..=6).contains(&d[4]) {
        return Err(IdError::EntityKind(d[4]));
    }
    if d[5] > 3 {
        return Err(IdError::EntityAttribute(d[5]));
    }
    verify_check_digit(&d)
}

/// Completes eleven digits with their check digit; `None` if no such number is issued.
/// Used by the sample and benchmark generators.
pub fn complete(first11: &str) -> Option<String> {
    let bytes = first11.as_bytes();
    if bytes.len() != 11 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut d = [0u8; 11];
    for (o, b) in d.iter_mut().zip(bytes) {
        *o = b - b'0';
    }
    check_digit(&d).map(|c| format!("{first11}{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Not;

    // 8·1+5·2+0·3+3·4+1·5+4·6+3·7+0+0+0+0 = 80; 80 mod 11 = 3: decided by the first weights.
    const FIRST_PASS_IINS: [&str; 3] = ["850314300003", "850314300013", "850314300053"];
    const FIRST_PASS_BINS: [&str; 3] = ["100440000004", "100440000074", "100440000143"];
    // 850314300400: the first weights give 120 mod 11 = 10; the second give 132 mod 11 = 0.
    const SECOND_PASS_IINS: [&str; 3] = ["850314300400", "850314300412", "850314300461"];
    const SECOND_PASS_BINS: [&str; 3] = ["100440000566", "100440001339", "100440002101"];
    // 85031430045: 175 mod 11 = 10 and 142 mod 11 = 10 — no check digit exists.
    const NEVER_ISSUED_PREFIXES: [&str; 3] = ["85031430045", "85031430126", "10044000805"];

    #[test]
    fn check_digit_from_first_weights() {
        for iin in FIRST_PASS_IINS {
            assert_eq!(validate_iin(iin), Ok(()), "{iin}");
        }
        for bin in FIRST_PASS_BINS {
            assert_eq!(validate_bin(bin), Ok(()), "{bin}");
        }
    }

    #[test]
    fn check_digit_from_second_weights() {
        for iin in SECOND_PASS_IINS {
            assert_eq!(validate_iin(iin), Ok(()), "{iin}");
        }
        for bin in SECOND_PASS_BINS {
            assert_eq!(validate_bin(bin), Ok(()), "{bin}");
        }
    }

    #[test]
    fn never_issued_when_both_remainders_are_ten() {
        for prefix in NEVER_ISSUED_PREFIXES {
            assert_eq!(complete(prefix), None);
            for last in 0..=9 {
                let number = format!("{prefix}{last}");
                let result = if number.starts_with("1004") {
                    validate_bin(&number)
                } else {
                    validate_iin(&number)
                };
                assert_eq!(result, Err(IdError::NeverIssued), "{number}");
            }
        }
    }

    #[test]
    fn wrong_check_digit_names_the_expected_one() {
        assert_eq!(
            validate_iin("850314300004"),
            Err(IdError::CheckDigit {
                found: 4,
                expected: 3
            })
        );
        assert_eq!(
            validate_bin("100440000566".replace("566", "565").as_str()),
            Err(IdError::CheckDigit {
                found: 5,
                expected: 6
            })
        );
    }

    #[test]
    fn complete_agrees_with_validation_for_all_serials() {
        let mut issued = 0;
        for serial in 0..2000 {
            let prefix = format!("9607154{serial:04}");
            if let Some(iin) = complete(&prefix) {
                issued += 1;
                assert_eq!(validate_iin(&iin), Ok(()));
                for other in (0..=9).filter(|&d| iin.ends_with(char::from(b'0' + d)).not()) {
                    assert!(validate_iin(&format!("{prefix}{other}")).is_err());
                }
            }
        }
        // Roughly one prefix in 121 has no check digit.
        assert!((1950..2000).contains(&issued), "{issued}");
    }

    #[test]
    fn shape_and_structure() {
        assert!(matches!(
            validate_iin("85031430000"),
            Err(IdError::Shape(_))
        ));
        assert!(matches!(
            validate_iin("8503143000031"),
            Err(IdError::Shape(_))
        ));
        assert!(matches!(
            validate_iin("85031430000a"),
            Err(IdError::Shape(_))
        ));
        assert!(matches!(
            validate_iin("８50314300003"),
            Err(IdError::Shape(_))
        ));
        assert_eq!(
            validate_iin(&complete("85023130000").unwrap()),
            Err(IdError::BirthDate("850231".into()))
        );
        assert_eq!(
            validate_iin(&complete("85031470000").unwrap()),
            Err(IdError::Century(7))
        );
        assert_eq!(
            validate_bin(&complete("10134000000").unwrap()),
            Err(IdError::RegistrationMonth(13))
        );
        assert_eq!(
            validate_bin(&complete("10043000000").unwrap()),
            Err(IdError::EntityKind(3))
        );
        assert_eq!(
            validate_bin(&complete("10044700000").unwrap()),
            Err(IdError::EntityAttribute(7))
        );
    }
}
