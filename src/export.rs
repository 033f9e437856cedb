//! `qujat export`: a registry extract as CSV, one row per registered document, streamed.
//!
//! The status events (few) are found first, through the journal's index; then one pass over the
//! journal writes a row per document as it reads it, so a million records never sit in memory. Column headers are
//! bilingual, dates `DD.MM.YYYY`. `--excel` writes what a spreadsheet in a Kazakh or Russian
//! locale opens as it is: a UTF-8 byte order mark (without it Excel reads Windows-1251), `;`
//! between fields (the list separator of those locales), CRLF line ends, and long digit strings
//! (IIN/BIN) written as `="…"` so they are not turned into rounded numbers.

use std::io::Write;

use anyhow::{Context, Result};

use crate::date::Date;
use crate::registry::brief::{self, OwnedLink};
use crate::registry::read::Reader;
use crate::registry::{Chain, LineError, Status, parse_for_readers, split_line};
use crate::verify::DocumentView;

/// Which documents an extract holds.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Issued on or after.
    pub from: Option<Date>,
    /// Issued on or before.
    pub to: Option<Date>,
    pub service: Option<String>,
    /// The status in force.
    pub status: Option<Status>,
}

impl Filter {
    fn accepts(&self, view: &DocumentView) -> bool {
        self.from.is_none_or(|from| view.issued >= from)
            && self.to.is_none_or(|to| view.issued <= to)
            && self.service.as_ref().is_none_or(|s| *s == view.service)
            && self.status.is_none_or(|s| s == view.status)
    }
}

/// The columns: Kazakh / Russian headers.
pub const HEADERS: [&str; 13] = [
    "Тізілім / Реестр",
    "Жазба / Запись",
    "Нөмірі / Номер",
    "Құжат / Документ",
    "Мемлекеттік көрсетілетін қызмет / Государственная услуга",
    "Іс / Дело",
    "Алушы / Получатель",
    "ЖСН/БСН / ИИН/БИН",
    "Берілген күні / Дата выдачи",
    "Мәртебесі / Статус",
    "Мәртебе күні / Дата статуса",
    "Негізі / Основание",
    "PDF SHA-256",
];

fn row(view: &DocumentView) -> [String; 13] {
    let both = |(kk, ru): &(String, String)| {
        if kk == ru {
            kk.clone()
        } else {
            format!("{kk} / {ru}")
        }
    };
    let (status_kk, status_ru) = view.status.words();
    let (status_date, basis) = match &view.event {
        None => (String::new(), String::new()),
        Some(event) => {
            let basis = match &event.by {
                Some(by) if event.reason.is_empty() => format!("№ {by}"),
                Some(by) => format!("{} (№ {by})", event.reason),
                None => event.reason.clone(),
            };
            (event.date.dmy(), basis)
        }
    };
    [
        view.registry.clone(),
        view.seq.to_string(),
        view.number.clone(),
        both(&view.title),
        view.service.clone(),
        view.case_id.clone(),
        both(&view.holder),
        view.holder_id.clone(),
        view.issued.dmy(),
        format!("{status_kk} / {status_ru}"),
        status_date,
        basis,
        view.pdf_sha256.clone(),
    ]
}

/// A digit string a spreadsheet would turn into a number and spoil: a leading zero, or too many
/// digits to show (IIN and BIN have twelve).
fn spoilt_as_number(field: &str) -> bool {
    field.len() > 1
        && field.bytes().all(|b| b.is_ascii_digit())
        && (field.starts_with('0') || field.len() >= 12)
}

/// Writes the extract of `reader` to `out`; returns how many documents it holds. The journal is
/// verified as it is read (hashes, links, numbers): an extract of a damaged registry fails,
/// naming the record. Records are read in parallel without their data (the holder and title
/// they carry are enough), and rows are written in journal order as they come.
pub fn export(
    reader: &Reader,
    filter: &Filter,
    excel: bool,
    out: impl Write + Send,
) -> Result<u64> {
    let statuses = reader.statuses()?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    if excel {
        out.write_all("\u{feff}".as_bytes())?;
    }
    let mut csv = csv::WriterBuilder::new()
        .delimiter(if excel { b';' } else { b',' })
        .terminator(if excel {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(out);
    csv.write_record(HEADERS)?;
    let mut out = csv
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the extract: {}", e.error()))?;
    let mut chain = Chain::default();
    let mut rows = 0;
    let damaged = || {
        format!(
            "registry {} ({}) is damaged; run `qujat registry check`",
            reader.code,
            reader.path().display()
        )
    };
    // Rows are formatted where records are read, in parallel; the writer only appends them.
    let row_writer = || {
        csv::WriterBuilder::new()
            .delimiter(if excel { b';' } else { b',' })
            .terminator(if excel {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .buffer_capacity(1024)
            .from_writer(Vec::with_capacity(512))
    };
    let format = |view: &DocumentView| {
        if !filter.accepts(view) {
            return None;
        }
        let mut fields = row(view);
        if excel {
            for field in &mut fields {
                if spoilt_as_number(field) {
                    *field = format!("=\"{field}\"");
                }
            }
        }
        let mut csv = row_writer();
        csv.write_record(&fields)
            .expect("writing to memory cannot fail");
        Some(csv.into_inner().expect("writing to memory cannot fail"))
    };
    reader.journal().scan_parallel(
        |_, line| -> Result<_, LineError> {
            let (hash, body) = split_line(line)?;
            let mut scratch = Vec::new();
            let brief = brief::parse(body, &mut scratch)?;
            let link = OwnedLink::of(&brief, hash);
            if !brief.is_document() {
                return Ok((link, None));
            }
            let bytes = match DocumentView::from_brief(&reader.code, &brief, &statuses) {
                Some(view) => format(&view),
                None => {
                    // Written before records carried their holder: read it whole.
                    let record = parse_for_readers(body)?;
                    let doc = record.document().expect("a document record");
                    format(&DocumentView::new(&reader.code, record.seq, doc, &statuses))
                }
            };
            Ok((link, bytes))
        },
        |at, parsed| {
            let (link, bytes) = parsed
                .map_err(|error| chain.unreadable(at.number, error))
                .with_context(damaged)?;
            chain
                .push_link(at.number, &link.hash, &link.link())
                .with_context(damaged)?;
            if let Some(bytes) = bytes {
                out.write_all(&bytes)?;
                rows += 1;
            }
            Ok(())
        },
    )?;
    out.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_strings_a_spreadsheet_would_spoil() {
        assert!(spoilt_as_number("140440012035"));
        assert!(spoilt_as_number("050101500123"));
        assert!(spoilt_as_number("007"));
        assert!(!spoilt_as_number("17"));
        assert!(!spoilt_as_number("0"));
        assert!(!spoilt_as_number("00017-Г"));
        assert!(!spoilt_as_number("16.11.2026"));
    }
}
