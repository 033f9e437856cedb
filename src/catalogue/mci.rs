//! The monthly calculation index (MCI: АЕК / МРП) as a dated table (`catalogue/mci.toml`), and
//! how sums of money are written on documents.

use anyhow::{Result, ensure};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::date::Date;

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct MciValue {
    from: Date,
    tenge: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MciFile {
    values: Vec<MciValue>,
}

/// MCI values in force from their dates, oldest first.
#[derive(Debug, Default)]
pub struct Mci(Vec<(Date, i64)>);

impl Mci {
    pub(super) fn from_file(file: MciFile) -> Result<Mci> {
        for pair in file.values.windows(2) {
            ensure!(
                pair[0].from < pair[1].from,
                "values must be in date order ({} then {})",
                pair[0].from,
                pair[1].from
            );
        }
        for value in &file.values {
            ensure!(
                value.tenge > 0,
                "the MCI from {} must be positive",
                value.from
            );
        }
        Ok(Mci(file.values.iter().map(|v| (v.from, v.tenge)).collect()))
    }

    /// The MCI in force on `date`, in tenge, if the table reaches back that far.
    pub fn on(&self, date: Date) -> Option<i64> {
        self.0
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .map(|(_, v)| *v)
    }
}

/// A sum in tenge as documents write it: digits grouped by threes with no-break spaces, then
/// the tenge sign: `21 625 ₸`.
pub fn tenge_text(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    if amount < 0 {
        out.push('−');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out.push_str("\u{a0}₸");
    out
}

/// A sum as templates receive it: the number and its written form.
pub fn money_view(amount: i64) -> Json {
    json!({ "value": amount, "text": tenge_text(amount) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_grouped_by_threes_with_no_break_spaces() {
        assert_eq!(tenge_text(21625), "21\u{a0}625\u{a0}₸");
        assert_eq!(tenge_text(4325), "4\u{a0}325\u{a0}₸");
        assert_eq!(tenge_text(500), "500\u{a0}₸");
        assert_eq!(tenge_text(1_234_567), "1\u{a0}234\u{a0}567\u{a0}₸");
        assert_eq!(tenge_text(0), "0\u{a0}₸");
    }

    #[test]
    fn the_value_in_force_on_a_date_is_the_latest_before_it() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue/mci.toml"),
        )
        .unwrap();
        let mci = Mci::from_file(toml::from_str(&text).unwrap()).unwrap();
        let on = |s: &str| mci.on(s.parse().unwrap());
        assert_eq!(on("2024-01-01"), Some(3692));
        assert_eq!(on("2025-06-30"), Some(3932));
        assert_eq!(on("2026-11-25"), Some(4325));
        assert_eq!(on("2025-12-31"), Some(3932));
        // 2022 had two values.
        assert_eq!(on("2022-05-31"), Some(3063));
        assert_eq!(on("2022-06-01"), Some(3180));
        assert_eq!(on("2021-12-31"), Some(2917));
        // 2020 had two values too; the table starts in 2010.
        assert_eq!(on("2020-03-31"), Some(2651));
        assert_eq!(on("2020-04-01"), Some(2778));
        assert_eq!(on("2013-01-01"), Some(1731));
        assert_eq!(on("2010-01-01"), Some(1413));
        assert_eq!(on("2009-12-31"), None);
    }

    #[test]
    fn values_out_of_order_are_refused() {
        let file: MciFile = toml::from_str(
            "values = [{ from = \"2025-01-01\", tenge = 3932 }, { from = \"2024-01-01\", tenge = 3692 }]",
        )
        .unwrap();
        assert!(Mci::from_file(file).is_err());
    }
}
