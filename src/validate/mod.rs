//! Validation: a raw case becomes a valid case, or a list of every problem it has.
//!
//! The rules come from the catalogue (field types, required, when a field applies); this module
//! applies them. A valid case carries two forms of its data: the canonical form (codes and ISO
//! dates, what identifies the case and is hashed) and the view (labels and written dates in both
//! languages, what templates show).

pub mod text;
mod value;

use serde_json::{Map, Value as Json};

use crate::case::{Node, RawCase};
use crate::catalogue::{AuthorityPeriod, Catalogue, FieldType, Fields, Service, tenge_text};
use crate::date::Date;
use crate::problem::{Origin, Problem};

pub use text::{Glyph, Glyphs};
pub use value::{Checked, date_view};

/// A case that follows every rule of its service.
#[derive(Debug, Clone)]
pub struct ValidCase {
    pub origin: Origin,
    pub id: String,
    pub service: String,
    pub outcome: String,
    pub decision_date: Date,
    pub application_date: Date,
    /// The last day of the statutory term in force on the application date, if the catalogue
    /// knows one for that date.
    pub due: Option<Date>,
    /// The issuing authority's code.
    pub authority: String,
    /// Codes, ISO dates and `{kk, ru}` texts, keys sorted: what identifies the case.
    pub canonical: Json,
    /// The same data as documents show it: labels and dates written out in both languages.
    pub view: Json,
    /// The canonical form of the texts as given, when putting them in normal form C changed
    /// one: a case registered before qujat normalised texts is still found to be the same.
    pub as_given: Option<Json>,
}

/// How the shipped fonts print a character ([`Glyphs::of`]).
pub type GlyphOf<'a> = &'a (dyn Fn(char) -> Glyph + Sync);

/// Applies the catalogue's rules to raw cases.
pub struct Validator<'a> {
    pub catalogue: &'a Catalogue,
    /// The run date: no date in a case may be after it.
    pub today: Date,
    pub glyphs: GlyphOf<'a>,
}

/// The state of checking one case.
struct Check<'a> {
    validator: &'a Validator<'a>,
    raw: &'a RawCase,
    id: Option<&'a str>,
    problems: Vec<Problem>,
    service: Option<&'a Service>,
    authority: Option<&'a AuthorityPeriod>,
    /// Dates (as day numbers) and integers already checked, for `not_before`: path, value, how
    /// it is written.
    ordered: Vec<(String, i64, String)>,
    /// Whether texts are put in normal form C, and whether that changed one.
    normalise: bool,
    normalised: bool,
}

impl Validator<'_> {
    /// Checks one case against the common fields and its service's fields.
    pub fn validate(&self, raw: &RawCase) -> Result<ValidCase, Vec<Problem>> {
        let (mut valid, normalised) = self.check(raw, true)?;
        if normalised {
            // Rare (text composed by normalisation): checked again as given, for its hash.
            valid.as_given = self
                .check(raw, false)
                .ok()
                .map(|(given, _)| given.canonical);
        }
        Ok(valid)
    }

    /// Checks one case, its texts put in normal form C if `normalise`; says whether that
    /// changed any.
    fn check(&self, raw: &RawCase, normalise: bool) -> Result<(ValidCase, bool), Vec<Problem>> {
        let mut check = Check {
            validator: self,
            raw,
            id: raw.id(),
            problems: Vec::new(),
            service: None,
            authority: None,
            ordered: Vec::new(),
            normalise,
            normalised: false,
        };
        let service = self.find_service(raw, &mut check);
        check.service = service;
        let mut provider = None;
        if let Some(service) = service {
            let decision_date = raw
                .tree
                .text_at("decision.date")
                .and_then(|t| t.parse().ok());
            let field = service.provider_field.as_deref();
            provider = self
                .catalogue
                .provider_code(service, field.and_then(|f| raw.tree.text_at(f)));
            check.authority = decision_date
                .zip(provider)
                .and_then(|(d, p)| self.catalogue.authorities.in_force(p, d));
            if check.authority.is_none()
                && let (Some(date), Some(provider)) = (decision_date, provider)
            {
                check.problem(
                    "decision.date",
                    format!(
                        "no authority {provider:?} was in force on {date}: see authorities.toml"
                    ),
                );
            }
        }

        let mut canonical = Map::new();
        let mut view = Map::new();
        check.record(
            &raw.tree,
            "",
            &self.catalogue.common,
            &mut canonical,
            &mut view,
        );
        if let Some(service) = service {
            check.record(&raw.tree, "", &service.fields, &mut canonical, &mut view);
            check.unknown(
                &raw.tree,
                "",
                "",
                &[&self.catalogue.common, &service.fields],
            );
        }
        if let Some(id) = raw.id()
            && let Some(why) = unsafe_case_id(id)
                .map(str::to_string)
                .or_else(|| mixed_script(id))
        {
            let node = raw.tree.at_path("id").first().copied();
            check.problem_at(node, "id", format!("{id:?} {why}"));
        }
        check.order_dates(&self.catalogue.common);
        if let Some(service) = service {
            check.order_dates(&service.fields);
        }

        if let Some(service) = service
            && check.problems.is_empty()
        {
            check.duty(service, &canonical);
        }

        let (Some(service), Some(provider), true) = (service, provider, check.problems.is_empty())
        else {
            return Err(check.problems);
        };
        let canonical = Json::Object(canonical);
        let date_at = |path: &str| -> Date {
            at_path(&canonical, path)
                .as_str()
                .and_then(|d| d.parse().ok())
                .expect("a valid case has its required dates")
        };
        let decision_date = date_at("decision.date");
        let application_date = date_at("application.date");
        let normalised = check.normalised;
        let valid = ValidCase {
            outcome: canonical["decision"]["outcome"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            decision_date,
            application_date,
            due: service
                .deadlines
                .in_force(application_date)
                .map(|rule| rule.due(&self.catalogue.calendar, application_date)),
            authority: provider.to_string(),
            origin: raw.origin(),
            id: canonical["id"].as_str().unwrap_or_default().to_string(),
            service: canonical["service"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            canonical,
            view: Json::Object(view),
            as_given: None,
        };
        Ok((valid, normalised))
    }

    fn find_service<'a>(&'a self, raw: &RawCase, check: &mut Check<'_>) -> Option<&'a Service> {
        let code = raw.tree.text_at("service")?;
        let service = self.catalogue.service(code);
        if service.is_none() {
            let known: Vec<&str> = self.catalogue.services.keys().map(String::as_str).collect();
            check.problem(
                "service",
                format!("unknown service {code:?} (known: {})", known.join(", ")),
            );
        }
        service
    }
}

impl<'a> Check<'a> {
    fn origin(&self, node: Option<&Node>) -> Origin {
        Origin {
            file: self.raw.file.clone(),
            pos: Some(node.map_or(self.raw.tree.pos, |n| n.pos)),
        }
    }

    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problem_at(None, field, message);
    }

    fn problem_at(&mut self, node: Option<&Node>, field: &str, message: impl Into<String>) {
        let problem = Problem::new(self.origin(node), message)
            .case(self.id)
            .field(field);
        self.problems.push(problem);
    }

    /// Checks the fields of `scope` (the case, or one list item) into the two output forms.
    fn record(
        &mut self,
        scope: &Node,
        prefix: &str,
        fields: &Fields,
        canonical: &mut Map<String, Json>,
        view: &mut Map<String, Json>,
    ) {
        for (path, spec) in fields.iter() {
            let shown = format!("{prefix}{path}");
            let nodes = scope.at_path(path);
            let applies = match &spec.when {
                None => true,
                Some(when) => scope
                    .text_at(&when.field)
                    .is_some_and(|v| when.one_of.iter().any(|w| w == v)),
            };
            let present = nodes.iter().any(|n| !is_blank(n));
            if !applies {
                if present {
                    let when = spec
                        .when
                        .as_ref()
                        .expect("only conditional fields can not apply");
                    let message = format!(
                        "is only given when {} is {}",
                        when.field,
                        when.one_of.join(" or ")
                    );
                    self.problem_at(nodes.first().copied(), &shown, message);
                }
                continue;
            }
            if !present {
                let excused = spec
                    .unless
                    .as_ref()
                    .filter(|other| scope.at_path(other).iter().any(|n| !is_blank(n)));
                match (&spec.unless, excused) {
                    (_, Some(_)) => {}
                    (Some(other), None) if spec.required => self.problem(
                        &shown,
                        format!("is required unless {other} is given, and neither is"),
                    ),
                    _ if spec.required => self.problem(&shown, "is required but missing or empty"),
                    _ => {}
                }
                continue;
            }
            if let Some(checked) = self.value(&nodes, &shown, spec) {
                if spec.kind == FieldType::Date
                    && let Some(date) = checked
                        .canonical
                        .as_str()
                        .and_then(|d| d.parse::<Date>().ok())
                {
                    self.ordered
                        .push((shown.clone(), date.to_days(), date.to_string()));
                }
                if spec.kind == FieldType::Integer
                    && let Some(n) = checked.canonical.as_i64()
                {
                    self.ordered.push((shown.clone(), n, n.to_string()));
                }
                put(canonical, path, checked.canonical);
                put(view, path, checked.view);
            }
        }
    }

    /// Reports every part of `scope` that no field rule names (a misspelt field, say).
    /// `group` is the path of `scope` within the fields' paths; `shown` prefixes reported paths.
    fn unknown(&mut self, scope: &Node, group: &str, shown: &str, all: &[&Fields]) {
        for (name, node) in scope.entries() {
            let path = format!("{group}{name}");
            let known = all.iter().any(|f| f.get(&path).is_some());
            let is_group = all.iter().any(|f| f.is_prefix_of(&path));
            if is_group {
                if node.text().is_some() && !is_blank(node) {
                    self.problem_at(
                        Some(node),
                        &format!("{shown}{path}"),
                        "is a group of fields, not a value",
                    );
                } else {
                    self.unknown(node, &format!("{path}."), shown, all);
                }
            } else if !known {
                self.problem_at(
                    Some(node),
                    &format!("{shown}{path}"),
                    "is not a field of this service",
                );
            }
        }
    }

    /// Checks that a service's state duty was paid in full at the MCI in force on the day of
    /// payment.
    fn duty(&mut self, service: &Service, canonical: &Map<String, Json>) {
        let Some(duty) = &service.duty else {
            return;
        };
        let Some(payment) = canonical.get("duty") else {
            // Not given: the field rules required it where the duty is due on every outcome;
            // where it is due on some, this one must not be among them.
            let outcome = canonical["decision"]["outcome"]
                .as_str()
                .unwrap_or_default();
            if let Some(on) = duty
                .on
                .as_ref()
                .filter(|on| on.iter().any(|o| o == outcome))
            {
                self.problem(
                    "duty.amount",
                    format!(
                        "is required when decision.outcome is {}: the service charges a state \
                         duty of {} MCI (give duty.amount and duty.date)",
                        on.join(" or "),
                        duty.mci_text()
                    ),
                );
            }
            return;
        };
        let paid = payment["amount"].as_i64().unwrap_or_default();
        let Some(date) = payment["date"]
            .as_str()
            .and_then(|d| d.parse::<Date>().ok())
        else {
            return;
        };
        let Some(mci) = self.validator.catalogue.mci.on(date) else {
            self.problem(
                "duty.date",
                format!("mci.toml has no monthly calculation index for {date}"),
            );
            return;
        };
        let due = duty.amount(mci);
        if paid < due {
            self.problem(
                "duty.amount",
                format!(
                    "{} paid; the state duty is {} MCI × {} = {} on {date}",
                    tenge_text(paid),
                    duty.mci_text(),
                    tenge_text(mci),
                    tenge_text(due)
                ),
            );
        }
    }

    /// Checks `not_before` between dates, or integers, once all of them are known.
    fn order_dates(&mut self, fields: &Fields) {
        for (path, spec) in fields.iter() {
            let Some(other) = &spec.not_before else {
                continue;
            };
            let find = |p: &str| {
                self.ordered
                    .iter()
                    .find(|(q, _, _)| q == p)
                    .map(|(_, v, text)| (*v, text.clone()))
            };
            if let (Some((this, this_text)), Some((that, that_text))) = (find(path), find(other))
                && this < that
            {
                let relation = if spec.kind == FieldType::Date {
                    "is before"
                } else {
                    "is less than"
                };
                self.problem(
                    path,
                    format!("{this_text} {relation} {other} ({that_text})"),
                );
            }
        }
    }
}

/// Why a case id could be taken for a path, if it could: ids name cases in reports, records and
/// `regenerate --case`, and must never be able to name a file or folder.
fn unsafe_case_id(id: &str) -> Option<&'static str> {
    if id.contains(['/', '\\']) {
        Some("holds a \"/\" or \"\\\", which case ids may not (they could reach file names)")
    } else if id.starts_with('.') || id.contains("..") {
        Some(
            "starts with \".\" or holds \"..\", which case ids may not (they could reach file names)",
        )
    } else {
        None
    }
}

/// Whether a case id mixes scripts (a Cyrillic М among Latin letters, say): one that looks like
/// another case's id and is not. Digits and punctuation belong to every script.
fn mixed_script(id: &str) -> Option<String> {
    use unicode_script::{Script, UnicodeScript};
    use unicode_security::MixedScript;
    if id.is_single_script() {
        return None;
    }
    let mut scripts: Vec<(Script, String)> = Vec::new();
    for c in id.chars() {
        let script = c.script();
        if matches!(script, Script::Common | Script::Inherited | Script::Unknown) {
            continue;
        }
        match scripts.iter_mut().find(|(s, _)| *s == script) {
            Some((_, letters)) => letters.push(c),
            None => scripts.push((script, c.to_string())),
        }
    }
    let named: Vec<String> = scripts
        .iter()
        .map(|(script, letters)| format!("{} {letters}", script.full_name()))
        .collect();
    Some(format!(
        "mixes the letters of several scripts ({}): a lookalike letter typed in another \
         alphabet? A case id is written in one",
        named.join(", ")
    ))
}

/// Whether a node holds nothing a reader would see ([`text::is_blank`]).
fn is_blank(node: &Node) -> bool {
    match node.text() {
        Some(text) => text::is_blank(text),
        None => node.entries().iter().all(|(_, n)| is_blank(n)),
    }
}

/// The value at a dotted path (`applicant.name`), or null where there is none.
pub fn at_path<'a>(value: &'a Json, path: &str) -> &'a Json {
    path.split('.').fold(value, |value, part| &value[part])
}

/// Sets `value` at a dotted path, creating the objects on the way.
fn put(map: &mut Map<String, Json>, path: &str, value: Json) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let inner = map.entry(head).or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(inner) = inner {
                put(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
