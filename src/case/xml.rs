//! The XML case format: `<cases>` holding `<case>` elements, or a single `<case>` as the root.
//!
//! Elements and attributes become named children; an element holding only text becomes a text,
//! marked with its `lang` attribute if it has one. The reader refuses anything that could make
//! a parser do more than read: a DOCTYPE (and with it every entity definition, so no "billion
//! laughs" and no external entities), undefined entities, encodings other than UTF-8, and
//! nesting deeper than any case needs.

use std::path::Path;
use std::sync::Arc;

/// How many attributes an element may have: a case has a few dozen fields; thousands are not a
/// case, and checking each against the others would cost their square.
const MAX_ATTRIBUTES: usize = 256;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::{LineCursor, Node, RawCase, Value};
use crate::problem::{Origin, Pos, Problem};

/// No case needs more levels than this (cases › case › list › item › field › language).
const MAX_DEPTH: usize = 12;

/// An element being read.
struct Frame {
    name: String,
    pos: Pos,
    lang: Option<String>,
    entries: Vec<(String, Node)>,
    text: String,
}

/// Reads an XML file, handing each sound case to `on_case` as soon as its `</case>` is read.
/// A file that is not sound XML is rejected as a whole, naming the case it broke off in:
/// `Err` then holds that problem, and the cases handed over before it belong to the rejected
/// file too. `Ok` holds the problems of single cases and elements.
pub(super) fn read(
    file: &Arc<Path>,
    text: &str,
    on_case: &mut dyn FnMut(RawCase),
) -> Result<Vec<Problem>, Problem> {
    let mut parser = Parser {
        file,
        stack: Vec::new(),
        on_case,
        problems: Vec::new(),
        case_problems: Vec::new(),
        root_seen: false,
    };
    match parser.run(text) {
        Ok(()) => Ok(parser.problems),
        Err(problem) => {
            let id = parser.open_case_id();
            Err(problem.case(id.as_deref()))
        }
    }
}

/// The state of reading one file.
struct Parser<'f> {
    file: &'f Arc<Path>,
    /// The elements open at this point, outermost first.
    stack: Vec<Frame>,
    /// Where each sound case goes.
    on_case: &'f mut dyn FnMut(RawCase),
    problems: Vec<Problem>,
    /// Problems of the case being read; the case is dropped if there are any.
    case_problems: Vec<Problem>,
    root_seen: bool,
}

impl Parser<'_> {
    fn at(&self, pos: Pos) -> Origin {
        Origin {
            file: self.file.clone(),
            pos: Some(pos),
        }
    }

    /// The id of the `<case>` being read, if its id is known yet (`id=` or an `<id>` read).
    fn open_case_id(&self) -> Option<String> {
        let case = match self.stack.as_slice() {
            [case, ..] if case.name == "case" => case,
            [cases, case, ..] if cases.name == "cases" && case.name == "case" => case,
            _ => return None,
        };
        case.entries
            .iter()
            .find(|(name, _)| name == "id")
            .and_then(|(_, node)| node.text())
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
    }

    /// Reads every event; an `Err` rejects the whole file.
    fn run(&mut self, text: &str) -> Result<(), Problem> {
        let mut lines = LineCursor::new(text);
        let mut reader = Reader::from_str(text);
        reader.config_mut().check_end_names = true;
        reader.config_mut().check_comments = true;
        loop {
            let start = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|err| {
                let line = lines.line_at(reader.error_position() as usize);
                Problem::new(self.at(Pos::Line(line)), format!("malformed XML: {err}"))
            })?;
            let pos = Pos::Line(lines.line_at(start));
            let fatal = |message: &str| Problem::new(self.at(pos), message);
            match event {
                Event::Decl(decl) => {
                    if let Some(Ok(encoding)) = decl.encoding()
                        && !encoding.eq_ignore_ascii_case("utf-8")
                    {
                        let message =
                            format!("the file declares encoding {encoding:?}; only UTF-8 is read");
                        return Err(fatal(&message));
                    }
                }
                Event::DocType(_) => {
                    return Err(fatal(
                        "a DOCTYPE is not allowed in case files (entity definitions could expand \
                         without bound or read other files)",
                    ));
                }
                Event::PI(_) | Event::Comment(_) => {}
                Event::Start(element) => self.open(&element, pos)?,
                Event::Empty(element) => {
                    self.open(&element, pos)?;
                    self.close();
                }
                Event::End(_) => self.close(),
                Event::Text(text) => self.text(&text.xml10_content(), pos)?,
                Event::CData(data) => self.text(&data.xml10_content(), pos)?,
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match reference.xml10_content().as_ref() {
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "amp" => "&".into(),
                            "apos" => "'".into(),
                            "quot" => "\"".into(),
                            other => {
                                let message = format!(
                                    "undefined entity &{other}; (only &lt; &gt; &amp; &apos; &quot; \
                                     and character references are allowed)"
                                );
                                return Err(fatal(&message));
                            }
                        },
                        Err(err) => return Err(fatal(&format!("bad character reference: {err}"))),
                    };
                    self.text(&resolved, pos)?;
                }
                Event::Eof => {
                    if let Some(open) = self.stack.first() {
                        return Err(fatal(&format!(
                            "unexpected end of file inside <{}>",
                            open.name
                        )));
                    }
                    if !self.root_seen {
                        return Err(fatal("no <cases> or <case> element"));
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Text inside the innermost element (outside the root only white space is allowed).
    fn text(&mut self, text: &str, pos: Pos) -> Result<(), Problem> {
        match self.stack.last_mut() {
            Some(frame) => frame.text.push_str(text),
            None if text.trim().is_empty() => {}
            None => return Err(Problem::new(self.at(pos), "text outside the root element")),
        }
        Ok(())
    }

    /// Starts reading an element: its name, position and attributes.
    fn open(&mut self, element: &BytesStart<'_>, pos: Pos) -> Result<(), Problem> {
        if self.stack.is_empty() && self.root_seen {
            return Err(Problem::new(self.at(pos), "more than one root element"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(Problem::new(
                self.at(pos),
                format!("elements nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        let name = element.name().as_ref().to_string();
        let mut frame = Frame {
            name,
            pos,
            lang: None,
            entries: Vec::new(),
            text: String::new(),
        };
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|err| {
                Problem::new(
                    self.at(pos),
                    format!("malformed attribute in <{}>: {err}", frame.name),
                )
            })?;
            let key = attribute.key.as_ref().to_string();
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| {
                    Problem::new(
                        self.at(pos),
                        format!("attribute {key:?} of <{}>: {err}", frame.name),
                    )
                })?;
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            if key == "lang" || key == "xml:lang" {
                frame.lang = Some(value.trim().to_string());
                continue;
            }
            if frame.entries.len() >= MAX_ATTRIBUTES {
                let problem = Problem::new(
                    self.at(pos),
                    format!(
                        "<{}> has more than {MAX_ATTRIBUTES} attributes: not a case",
                        frame.name
                    ),
                );
                self.case_problems.push(problem);
                break;
            }
            if frame.entries.iter().any(|(k, _)| *k == key) {
                let problem =
                    Problem::new(self.at(pos), format!("attribute {key:?} given twice")).field(key);
                self.case_problems.push(problem);
                continue;
            }
            let node = Node {
                pos,
                value: Value::Text {
                    text: value.into_owned(),
                    lang: None,
                },
            };
            frame.entries.push((key, node));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Finishes the innermost element and hands it to its parent (or emits it as a case).
    fn close(&mut self) {
        let frame = self
            .stack
            .pop()
            .expect("an end event always closes an open element");
        let origin = self.at(frame.pos);
        let node = if frame.entries.is_empty() {
            Node {
                pos: frame.pos,
                value: Value::Text {
                    text: frame.text,
                    lang: frame.lang,
                },
            }
        } else {
            if !frame.text.trim().is_empty() {
                let message = format!(
                    "<{}> has both text and attributes or elements; put the text in an element of its own",
                    frame.name
                );
                self.case_problems
                    .push(Problem::new(origin.clone(), message).field(frame.name.clone()));
            }
            if frame.lang.is_some() {
                let message = format!("lang= belongs on a text element, not <{}>", frame.name);
                self.case_problems
                    .push(Problem::new(origin.clone(), message).field(frame.name.clone()));
            }
            Node {
                pos: frame.pos,
                value: Value::Map(frame.entries),
            }
        };

        let in_cases = self.stack.len() == 1 && self.stack[0].name == "cases";
        if self.stack.is_empty() && frame.name == "cases" {
            self.root_seen = true;
            if let Value::Text { text, .. } = &node.value
                && !text.trim().is_empty()
            {
                self.problems.push(Problem::new(
                    origin,
                    "<cases> holds text instead of <case> elements",
                ));
            }
        } else if (self.stack.is_empty() || in_cases) && frame.name == "case" {
            self.root_seen |= self.stack.is_empty();
            let case = RawCase {
                file: self.file.clone(),
                tree: node,
            };
            if self.case_problems.is_empty() {
                (self.on_case)(case);
            } else {
                let id = case.id().map(str::to_string);
                let problems = self.case_problems.drain(..).map(|p| p.case(id.as_deref()));
                self.problems.extend(problems);
            }
        } else if self.stack.is_empty() {
            self.root_seen = true;
            let message = format!(
                "the root element must be <cases> or <case>, not <{}>",
                frame.name
            );
            self.problems.push(Problem::new(origin, message));
        } else if in_cases {
            let message = format!(
                "<cases> may only hold <case> elements, not <{}>",
                frame.name
            );
            self.problems.push(Problem::new(origin, message));
            self.case_problems.clear();
        } else {
            let parent = self.stack.last_mut().expect("not at the root");
            parent.entries.push((frame.name, node));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<RawCase>, Vec<Problem>) {
        let mut cases = Vec::new();
        match read(&Arc::from(Path::new("t.xml")), text, &mut |c| cases.push(c)) {
            Ok(problems) => (cases, problems),
            Err(problem) => (Vec::new(), vec![problem]),
        }
    }

    #[test]
    fn thousands_of_attributes_are_refused_not_compared_with_each_other() {
        // Found by fuzzing (tests/corpus/fuzz/case_xml-quadratic-attributes).
        let corpus = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus/fuzz/case_xml-quadratic-attributes"),
        )
        .unwrap();
        let (cases, problems) = parse(&String::from_utf8_lossy(&corpus));
        assert!(cases.is_empty());
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("more than 256 attributes")),
            "{problems:?}"
        );
    }

    #[test]
    fn reads_several_cases_with_attributes_languages_and_lists() {
        let (cases, problems) = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<cases>
  <case id="A-1" service="media-registration">
    <applicant kind="legal">
      <name lang="kk">«Алаш» ЖШС</name>
      <name lang="ru">ТОО «Алаш»</name>
    </applicant>
    <title>Жас &amp; Алаш &#x4E2D;</title>
    <decision outcome="refused">
      <reasons><reason><kk>Бір</kk><ru>Один</ru></reason><reason>Екі</reason></reasons>
    </decision>
  </case>
  <case id="A-2"/>
</cases>"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cases.len(), 2);
        let tree = &cases[0].tree;
        assert_eq!(tree.pos, Pos::Line(3));
        assert_eq!(cases[0].id(), Some("A-1"));
        assert_eq!(tree.text_at("service"), Some("media-registration"));
        assert_eq!(tree.text_at("title"), Some("Жас & Алаш 中"));
        let names = tree.at_path("applicant.name");
        assert_eq!(names.len(), 2);
        assert_eq!(
            names[1].value,
            Value::Text {
                text: "ТОО «Алаш»".into(),
                lang: Some("ru".into())
            }
        );
        assert_eq!(names[1].pos, Pos::Line(6));
        assert_eq!(tree.at_path("decision.reasons")[0].entries().len(), 2);
        assert_eq!(cases[1].id(), Some("A-2"));
        assert_eq!(cases[1].tree.pos, Pos::Line(13));
    }

    #[test]
    fn a_single_case_may_be_the_root() {
        let (cases, problems) = parse("<case id=\"X\"><title>T</title></case>");
        assert!(problems.is_empty());
        assert_eq!(cases.len(), 1);
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<cases><case id="A"><title>&lol2;</title></case></cases>"#;
        let (cases, problems) = parse(laughs);
        assert!(cases.is_empty());
        assert!(problems[0].message.contains("DOCTYPE"));
        assert_eq!(problems[0].origin.pos, Some(Pos::Line(2)));

        let (cases, problems) =
            parse("<cases>\n<case id=\"A\"><title>&xxe;</title></case></cases>");
        assert!(cases.is_empty());
        assert!(
            problems[0].message.contains("undefined entity &xxe;"),
            "{problems:?}"
        );
    }

    #[test]
    fn malformed_xml_is_located() {
        let (cases, problems) =
            parse("<cases>\n<case id=\"A\">\n<title>T</titel>\n</case></cases>");
        assert!(cases.is_empty());
        assert!(
            problems[0].message.starts_with("malformed XML"),
            "{problems:?}"
        );
        assert_eq!(problems[0].origin.pos, Some(Pos::Line(3)));

        let (_, problems) = parse("<cases><case id=\"A\">");
        assert!(
            problems[0].message.contains("end of file")
                || problems[0].message.contains("malformed")
        );
    }

    #[test]
    fn other_encodings_are_refused_by_name() {
        let (_, problems) = parse("<?xml version=\"1.0\" encoding=\"windows-1251\"?><cases/>");
        assert!(problems[0].message.contains("windows-1251"));
    }

    #[test]
    fn structural_mistakes_reject_only_their_case() {
        let (cases, problems) = parse(
            "<cases>\n<case id=\"A\"><title x=\"1\">T</title></case>\n<case id=\"B\"><title>T</title></case>\n</cases>",
        );
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].id(), Some("B"));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].case_id.as_deref(), Some("A"));
        assert_eq!(problems[0].origin.pos, Some(Pos::Line(2)));
    }

    #[test]
    fn wrong_roots_and_children() {
        let (cases, problems) = parse("<dela><case id=\"A\"/></dela>");
        assert!(cases.is_empty());
        assert!(!problems.is_empty());
        let (cases, problems) = parse("<cases><item/><case id=\"B\"/></cases>");
        assert_eq!(cases.len(), 1);
        assert!(problems[0].message.contains("<item>"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!(
            "<cases><case>{}{}</case></cases>",
            "<a>".repeat(50),
            "</a>".repeat(50)
        );
        let (cases, problems) = parse(&deep);
        assert!(cases.is_empty());
        assert!(problems[0].message.contains("deeper"));
    }
}
