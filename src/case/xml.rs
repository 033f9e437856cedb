//! The XML case format: `<cases>` holding `<case>` elements, or a single `<case>` as the root.
//!
//! Elements and attributes become named children; an element holding only text becomes a text,
//! marked with its `lang` attribute if it has one. The reader refuses anything that could make
//! a parser do more than read: a DOCTYPE (and with it every entity definition, so no "billion
//! laughs" and no external entities), undefined entities, encodings other than UTF-8, and
//! nesting deeper than any case needs.

use std::path::Path;
use std::sync::Arc;

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

pub(super) fn read(file: &Arc<Path>, text: &str) -> (Vec<RawCase>, Vec<Problem>) {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    let at = |line: u64| Origin {
        file: file.to_path_buf(),
        pos: Some(Pos::Line(line)),
    };
    let mut lines = LineCursor::new(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;

    let mut stack: Vec<Frame> = Vec::new();
    // Problems of the case being read; the case is dropped if any.
    let mut case_problems: Vec<Problem> = Vec::new();
    let mut root_seen = false;

    loop {
        let start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => {
                let line = lines.line_at(reader.error_position() as usize);
                problems.push(Problem::new(at(line), format!("malformed XML: {err}")));
                return (Vec::new(), problems);
            }
        };
        let line = lines.line_at(start);
        let fatal = |message: String| (Vec::new(), vec![Problem::new(at(line), message)]);
        match event {
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding()
                    && !encoding.eq_ignore_ascii_case("utf-8")
                {
                    return fatal(format!(
                        "the file declares encoding {encoding:?}; only UTF-8 is read"
                    ));
                }
            }
            Event::DocType(_) => {
                return fatal(
                    "a DOCTYPE is not allowed in case files (entity definitions could expand \
                     without bound or read other files)"
                        .to_string(),
                );
            }
            Event::PI(_) | Event::Comment(_) => {}
            Event::Start(element) | Event::Empty(element) if stack.is_empty() && root_seen => {
                let _ = element;
                return fatal("more than one root element".to_string());
            }
            Event::Start(element) => {
                if stack.len() >= MAX_DEPTH {
                    return fatal(format!("elements nest deeper than {MAX_DEPTH} levels"));
                }
                match open(&element, line, &mut case_problems, file) {
                    Ok(frame) => stack.push(frame),
                    Err(problem) => return (Vec::new(), vec![problem]),
                }
            }
            Event::Empty(element) => {
                let frame = match open(&element, line, &mut case_problems, file) {
                    Ok(frame) => frame,
                    Err(problem) => return (Vec::new(), vec![problem]),
                };
                stack.push(frame);
                close(
                    &mut stack,
                    &mut cases,
                    &mut problems,
                    &mut case_problems,
                    &mut root_seen,
                    file,
                );
            }
            Event::End(_) => close(
                &mut stack,
                &mut cases,
                &mut problems,
                &mut case_problems,
                &mut root_seen,
                file,
            ),
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last_mut() {
                    Some(frame) => frame.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return fatal("text outside the root element".to_string()),
                }
            }
            Event::CData(data) => match stack.last_mut() {
                Some(frame) => frame.text.push_str(&data.xml10_content()),
                None => return fatal("CDATA outside the root element".to_string()),
            },
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
                            return fatal(format!(
                                "undefined entity &{other}; (only &lt; &gt; &amp; &apos; &quot; \
                                 and character references are allowed)"
                            ));
                        }
                    },
                    Err(err) => return fatal(format!("bad character reference: {err}")),
                };
                match stack.last_mut() {
                    Some(frame) => frame.text.push_str(&resolved),
                    None => return fatal("entity reference outside the root element".to_string()),
                }
            }
            Event::Eof => {
                if !stack.is_empty() {
                    return fatal(format!("unexpected end of file inside <{}>", stack[0].name));
                }
                if !root_seen {
                    return fatal("no <cases> or <case> element".to_string());
                }
                break;
            }
        }
    }
    (cases, problems)
}

/// Starts reading an element: its name, position and attributes.
fn open(
    element: &BytesStart<'_>,
    line: u64,
    case_problems: &mut Vec<Problem>,
    file: &Arc<Path>,
) -> Result<Frame, Problem> {
    let origin = Origin {
        file: file.to_path_buf(),
        pos: Some(Pos::Line(line)),
    };
    let name = element.name().as_ref().to_string();
    let mut frame = Frame {
        name,
        pos: Pos::Line(line),
        lang: None,
        entries: Vec::new(),
        text: String::new(),
    };
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|err| {
            Problem::new(
                origin.clone(),
                format!("malformed attribute in <{}>: {err}", frame.name),
            )
        })?;
        let key = attribute.key.as_ref().to_string();
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| {
                Problem::new(
                    origin.clone(),
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
        if frame.entries.iter().any(|(k, _)| *k == key) {
            case_problems.push(
                Problem::new(origin.clone(), format!("attribute {key:?} given twice"))
                    .field(key.clone()),
            );
            continue;
        }
        let node = Node {
            pos: Pos::Line(line),
            value: Value::Text {
                text: value.into_owned(),
                lang: None,
            },
        };
        frame.entries.push((key, node));
    }
    Ok(frame)
}

/// Finishes the innermost element and hands it to its parent (or emits it as a case).
fn close(
    stack: &mut Vec<Frame>,
    cases: &mut Vec<RawCase>,
    problems: &mut Vec<Problem>,
    case_problems: &mut Vec<Problem>,
    root_seen: &mut bool,
    file: &Arc<Path>,
) {
    let frame = stack
        .pop()
        .expect("an end event always closes an open element");
    let origin = Origin {
        file: file.to_path_buf(),
        pos: Some(frame.pos),
    };
    let structured = !frame.entries.is_empty();
    let node = if structured {
        if !frame.text.trim().is_empty() {
            case_problems.push(
                Problem::new(
                    origin.clone(),
                    format!(
                        "<{}> has both text and attributes or elements; put the text in an \
                         element of its own",
                        frame.name
                    ),
                )
                .field(frame.name.clone()),
            );
        }
        if frame.lang.is_some() {
            case_problems.push(
                Problem::new(
                    origin.clone(),
                    format!("lang= belongs on a text element, not <{}>", frame.name),
                )
                .field(frame.name.clone()),
            );
        }
        Node {
            pos: frame.pos,
            value: Value::Map(frame.entries),
        }
    } else {
        Node {
            pos: frame.pos,
            value: Value::Text {
                text: frame.text,
                lang: frame.lang,
            },
        }
    };

    let in_cases = stack.len() == 1 && stack[0].name == "cases";
    if stack.is_empty() && frame.name == "cases" {
        *root_seen = true;
        if let Value::Text { text, .. } = &node.value
            && !text.trim().is_empty()
        {
            problems.push(Problem::new(
                origin,
                "<cases> holds text instead of <case> elements",
            ));
        }
    } else if (stack.is_empty() || in_cases) && frame.name == "case" {
        *root_seen |= stack.is_empty();
        let case = RawCase {
            file: file.clone(),
            tree: node,
        };
        if case_problems.is_empty() {
            cases.push(case);
        } else {
            let id = case.id().map(str::to_string);
            problems.extend(case_problems.drain(..).map(|p| p.case(id.as_deref())));
        }
    } else if stack.is_empty() {
        *root_seen = true;
        problems.push(Problem::new(
            origin,
            format!(
                "the root element must be <cases> or <case>, not <{}>",
                frame.name
            ),
        ));
    } else if in_cases {
        problems.push(Problem::new(
            origin,
            format!(
                "<cases> may only hold <case> elements, not <{}>",
                frame.name
            ),
        ));
        case_problems.clear();
    } else {
        let parent = stack.last_mut().expect("not at the root");
        parent.entries.push((frame.name, node));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<RawCase>, Vec<Problem>) {
        read(&Arc::from(Path::new("t.xml")), text)
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
