//! Checking one field's value by its type, into its canonical and view forms.

use serde_json::{Map, Value as Json, json};

use super::{Check, text};
use crate::case::{Node, Value};
use crate::catalogue::{Choice, FieldSpec, FieldType};
use crate::date::Date;
use crate::iin;

/// A checked value in both of its forms.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub canonical: Json,
    pub view: Json,
}

impl Checked {
    fn same(value: Json) -> Checked {
        Checked {
            canonical: value.clone(),
            view: value,
        }
    }
}

/// The view of a date: every way documents write it.
pub fn date_view(date: Date) -> Json {
    json!({
        "iso": date.to_string(),
        "dmy": date.dmy(),
        "kk": date.kk(),
        "kk_nominative": date.kk_nominative(),
        "ru": date.ru(),
    })
}

fn choice_view(value: &str, choice: &Choice) -> Json {
    let mut view = json!({ "value": value, "kk": choice.kk, "ru": choice.ru });
    if let Some(code) = &choice.code {
        view["code"] = json!(code);
    }
    if let Some(norm) = &choice.norm {
        view["norm"] = json!(norm);
    }
    view
}

impl Check<'_> {
    /// Checks the value of field `shown` given by `nodes` (at least one is non-blank).
    pub(super) fn value(
        &mut self,
        nodes: &[&Node],
        shown: &str,
        spec: &FieldSpec,
    ) -> Option<Checked> {
        match spec.kind {
            FieldType::Bilingual => self.bilingual(nodes, shown, spec),
            FieldType::List => self.list(nodes, shown, spec),
            _ => {
                let node = self.single(nodes, shown)?;
                let text = self.text(node, shown, spec)?;
                self.scalar(node, &text, shown, spec)
            }
        }
    }

    /// The one text node of a single-valued field.
    fn single<'n>(&mut self, nodes: &[&'n Node], shown: &str) -> Option<&'n Node> {
        match nodes {
            [node] => match &node.value {
                Value::Text { lang: None, .. } => Some(node),
                Value::Text { lang: Some(_), .. } => {
                    self.problem_at(
                        Some(node),
                        shown,
                        "has one value for both languages; remove lang=",
                    );
                    None
                }
                Value::Map(_) => {
                    self.problem_at(Some(node), shown, "must be a single value, not a group");
                    None
                }
            },
            _ => {
                self.problem_at(
                    Some(nodes[1]),
                    shown,
                    format!("is given {} times", nodes.len()),
                );
                None
            }
        }
    }

    /// A node's text, trimmed, with line breaks normalised and in Unicode normal form C,
    /// checked for what no document may hold ([`super::text`]).
    fn text(&mut self, node: &Node, shown: &str, spec: &FieldSpec) -> Option<String> {
        let raw = node.text().unwrap_or_default();
        let text = raw.trim().replace("\r\n", "\n");
        // A case id is a key the registry finds cases by: it is never changed, only refused if
        // it is not composed (so two spellings of one id cannot both be registered).
        let text = if shown == "id" {
            if !text::is_nfc(&text) {
                self.problem_at(
                    Some(node),
                    shown,
                    "is not in Unicode normal form C (a letter written as a base letter and a \
                     combining mark); write it composed",
                );
                return None;
            }
            text
        } else if self.normalise {
            let (text, changed) = text::nfc(text);
            self.normalised |= changed;
            text
        } else {
            text
        };
        let multiline =
            spec.multiline && matches!(spec.kind, FieldType::Text | FieldType::Bilingual);
        let glyphs = self.validator.glyphs;
        if let Some((c, unfit)) = text::first_unfit(&text, multiline, &|c| glyphs(c)) {
            self.problem_at(Some(node), shown, format!("holds {}", unfit.describe(c)));
            return None;
        }
        let length = text.chars().count();
        if length > spec.max_len() {
            self.problem_at(
                Some(node),
                shown,
                format!(
                    "is {length} characters long; at most {} are allowed",
                    spec.max_len()
                ),
            );
            return None;
        }
        Some(text)
    }

    fn scalar(
        &mut self,
        node: &Node,
        text: &str,
        shown: &str,
        spec: &FieldSpec,
    ) -> Option<Checked> {
        let fail = |this: &mut Self, message: String| {
            this.problem_at(Some(node), shown, message);
            None
        };
        match spec.kind {
            FieldType::Text => Some(Checked::same(json!(text))),
            FieldType::Iin => match iin::validate_iin(text) {
                Ok(()) => Some(Checked::same(json!(text))),
                Err(err) => fail(self, format!("IIN {text:?} {err}")),
            },
            FieldType::Bin => match iin::validate_bin(text) {
                Ok(()) => Some(Checked::same(json!(text))),
                Err(err) => fail(self, format!("BIN {text:?} {err}")),
            },
            FieldType::Integer => {
                let Ok(n) = text.parse::<i64>() else {
                    return fail(self, format!("{text:?} is not a whole number"));
                };
                if spec.min.is_some_and(|min| n < min) || spec.max.is_some_and(|max| n > max) {
                    let range = format!("{}..{}", opt(spec.min), opt(spec.max));
                    return fail(self, format!("{n} is outside {range}"));
                }
                Some(Checked::same(json!(n)))
            }
            FieldType::Date => match text.parse::<Date>() {
                Ok(date) if date > self.validator.today => fail(
                    self,
                    format!(
                        "{date} is in the future (the run date is {})",
                        self.validator.today
                    ),
                ),
                Ok(date) => Some(Checked {
                    canonical: json!(date.to_string()),
                    view: date_view(date),
                }),
                Err(err) => fail(self, err.to_string()),
            },
            FieldType::Outcome => match self.service.map(|s| s.outcomes()) {
                Some(outcomes) if !outcomes.contains(text) => {
                    let known: Vec<&str> = outcomes.into_iter().collect();
                    fail(
                        self,
                        format!(
                            "{text:?} is not a decision of this service ({})",
                            known.join(", ")
                        ),
                    )
                }
                _ => Some(Checked::same(json!(text))),
            },
            FieldType::Money => {
                let digits: String = text
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
                    .collect();
                match digits.parse::<i64>() {
                    Ok(n) if n >= 0 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                        Some(Checked {
                            canonical: json!(n),
                            view: crate::catalogue::money_view(n),
                        })
                    }
                    _ => fail(
                        self,
                        format!("{text:?} is not a sum in whole tenge (write 21625)"),
                    ),
                }
            }
            FieldType::Choice => {
                let set =
                    &self.validator.catalogue.choice_sets[spec.set.as_deref().unwrap_or_default()];
                match set.get(text) {
                    Some(choice) => Some(Checked {
                        canonical: json!(text),
                        view: choice_view(text, choice),
                    }),
                    None => {
                        let allowed: Vec<&str> = set.keys().map(String::as_str).collect();
                        fail(
                            self,
                            format!("{text:?} is not one of: {}", allowed.join(", ")),
                        )
                    }
                }
            }
            FieldType::Choices => {
                let set =
                    &self.validator.catalogue.choice_sets[spec.set.as_deref().unwrap_or_default()];
                let mut values = Vec::new();
                let mut views = Vec::new();
                for value in text
                    .split([',', ';', ' '])
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                {
                    let Some(choice) = set.get(value) else {
                        let allowed: Vec<&str> = set.keys().map(String::as_str).collect();
                        return fail(
                            self,
                            format!("{value:?} is not one of: {}", allowed.join(", ")),
                        );
                    };
                    if values.contains(&json!(value)) {
                        return fail(self, format!("{value:?} is listed twice"));
                    }
                    values.push(json!(value));
                    views.push(choice_view(value, choice));
                }
                Some(Checked {
                    canonical: Json::Array(values),
                    view: Json::Array(views),
                })
            }
            FieldType::Position => {
                let authority = self.authority?;
                match authority.positions.get(text) {
                    Some(title) => Some(Checked {
                        canonical: json!(text),
                        view: json!({ "value": text, "kk": title.kk, "ru": title.ru }),
                    }),
                    None => {
                        let allowed: Vec<&str> =
                            authority.positions.keys().map(String::as_str).collect();
                        fail(
                            self,
                            format!(
                                "{text:?} is not a signing position of {} on the decision date \
                                 (positions: {})",
                                authority.name.ru,
                                allowed.join(", ")
                            ),
                        )
                    }
                }
            }
            FieldType::Bilingual | FieldType::List => unreachable!("handled by value()"),
        }
    }

    /// A text in both languages: one text for both, `lang=` siblings, or a `kk`/`ru` group.
    fn bilingual(&mut self, nodes: &[&Node], shown: &str, spec: &FieldSpec) -> Option<Checked> {
        let mut kk: Option<&Node> = None;
        let mut ru: Option<&Node> = None;
        let mut both: Option<&Node> = None;
        let mut ok = true;
        for &node in nodes {
            match &node.value {
                Value::Text { lang: None, .. } => {
                    ok &= self.place(&mut both, node, shown, "shared")
                }
                Value::Text {
                    lang: Some(lang), ..
                } => match lang.as_str() {
                    "kk" => ok &= self.place(&mut kk, node, shown, "Kazakh"),
                    "ru" => ok &= self.place(&mut ru, node, shown, "Russian"),
                    other => {
                        self.problem_at(
                            Some(node),
                            shown,
                            format!("lang={other:?} is neither kk nor ru"),
                        );
                        ok = false;
                    }
                },
                Value::Map(entries) => {
                    for (name, child) in entries {
                        match (name.as_str(), child.text()) {
                            ("kk", Some(_)) => ok &= self.place(&mut kk, child, shown, "Kazakh"),
                            ("ru", Some(_)) => ok &= self.place(&mut ru, child, shown, "Russian"),
                            _ => {
                                self.problem_at(
                                    Some(child),
                                    &format!("{shown}.{name}"),
                                    "a text in two languages has only kk and ru parts",
                                );
                                ok = false;
                            }
                        }
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        let (kk, ru) = match (both, kk, ru) {
            (Some(both), None, None) => (both, both),
            (None, Some(kk), Some(ru)) => (kk, ru),
            (Some(node), _, _) => {
                self.problem_at(
                    Some(node),
                    shown,
                    "gives one text for both languages and a separate one too",
                );
                return None;
            }
            (None, Some(node), None) => {
                self.problem_at(
                    Some(node),
                    shown,
                    "has the Kazakh text but not the Russian (ru)",
                );
                return None;
            }
            (None, None, Some(node)) => {
                self.problem_at(
                    Some(node),
                    shown,
                    "has the Russian text but not the Kazakh (kk)",
                );
                return None;
            }
            (None, None, None) => unreachable!("a present field has a node"),
        };
        let kk_text = self.text(kk, &format!("{shown}.kk"), spec);
        let ru_text = self.text(ru, &format!("{shown}.ru"), spec);
        let (kk_text, ru_text) = (kk_text?, ru_text?);
        if kk_text.is_empty() || ru_text.is_empty() {
            let (node, lang) = if kk_text.is_empty() {
                (kk, "Kazakh")
            } else {
                (ru, "Russian")
            };
            self.problem_at(Some(node), shown, format!("the {lang} text is empty"));
            return None;
        }
        Some(Checked::same(json!({ "kk": kk_text, "ru": ru_text })))
    }

    /// Puts one language's text in its slot, refusing a second one.
    fn place<'n>(
        &mut self,
        slot: &mut Option<&'n Node>,
        node: &'n Node,
        shown: &str,
        lang: &str,
    ) -> bool {
        if slot.is_some() {
            self.problem_at(Some(node), shown, format!("gives the {lang} text twice"));
            false
        } else {
            *slot = Some(node);
            true
        }
    }

    /// A list: one group whose children are the items, in order (CSV numbers them `1`, `2`, …).
    fn list(&mut self, nodes: &[&Node], shown: &str, spec: &FieldSpec) -> Option<Checked> {
        let node = match nodes {
            [node] if matches!(node.value, Value::Map(_)) => *node,
            [node] => {
                self.problem_at(
                    Some(node),
                    shown,
                    "is a list: give its items as elements (or numbered columns)",
                );
                return None;
            }
            _ => {
                self.problem_at(
                    Some(nodes[1]),
                    shown,
                    format!("is given {} times", nodes.len()),
                );
                return None;
            }
        };
        let mut items: Vec<(&str, &Node)> = node
            .entries()
            .iter()
            .filter(|(_, n)| !super::is_blank(n))
            .map(|(k, n)| (k.as_str(), n))
            .collect();
        if items.iter().all(|(k, _)| k.parse::<u32>().is_ok()) {
            items.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
        }
        let count = items.len() as i64;
        if spec.min.is_some_and(|min| count < min) || spec.max.is_some_and(|max| count > max) {
            self.problem_at(
                Some(node),
                shown,
                format!(
                    "has {count} items; {}..{} are allowed",
                    opt(spec.min),
                    opt(spec.max)
                ),
            );
            return None;
        }
        let mut canonical = Vec::new();
        let mut view = Vec::new();
        let mut ok = true;
        for (i, (_, item)) in items.into_iter().enumerate() {
            let item_path = format!("{shown}.{}", i + 1);
            if let Some(single) = &spec.item {
                match self.value(&[item], &item_path, single) {
                    Some(checked) => {
                        canonical.push(checked.canonical);
                        view.push(checked.view);
                    }
                    None => ok = false,
                }
            } else if let Some(fields) = &spec.fields {
                if item.text().is_some() {
                    self.problem_at(Some(item), &item_path, "each item is a group of fields");
                    ok = false;
                    continue;
                }
                let before = self.problems.len();
                let (mut c, mut v) = (Map::new(), Map::new());
                let prefix = format!("{item_path}.");
                self.record(item, &prefix, fields, &mut c, &mut v);
                self.unknown(item, "", &prefix, &[fields]);
                ok &= self.problems.len() == before;
                canonical.push(Json::Object(c));
                view.push(Json::Object(v));
            }
        }
        ok.then_some(Checked {
            canonical: Json::Array(canonical),
            view: Json::Array(view),
        })
    }
}

fn opt(bound: Option<i64>) -> String {
    bound.map(|b| b.to_string()).unwrap_or_default()
}
