//! The service's pages: HTML written here, Kazakh first and Russian second as the documents are
//! (and English on the apostille register, for recipients abroad). Every value from a record or
//! a request is escaped; pages have no script and no inline style (the Content-Security-Policy
//! forbids both), and take their stylesheet and fonts from the service itself.

use std::fmt::Write as _;

use super::public::{Answer, ApostilleView, DocumentView, SignatureView, StatusView};
use crate::registry::{Status, Words};

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value (everything but unreserved ASCII).
pub fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A text in the page's languages: Kazakh, Russian, and English where the page has it.
struct Said<'a> {
    kk: &'a str,
    ru: &'a str,
    en: Option<&'a str>,
}

fn said<'a>(kk: &'a str, ru: &'a str) -> Said<'a> {
    Said { kk, ru, en: None }
}

fn said3<'a>(kk: &'a str, ru: &'a str, en: &'a str) -> Said<'a> {
    Said {
        kk,
        ru,
        en: Some(en),
    }
}

impl Said<'_> {
    /// Each language in its own element, marked with its language.
    fn html(&self, tag: &str) -> String {
        let mut out = format!(
            "<{tag} lang=\"kk\">{}</{tag}><{tag} lang=\"ru\">{}</{tag}>",
            esc(self.kk),
            esc(self.ru)
        );
        if let Some(en) = self.en {
            let _ = write!(out, "<{tag} lang=\"en\">{}</{tag}>", esc(en));
        }
        out
    }

    /// On one line: `kk / ru / en`.
    fn inline(&self) -> String {
        let mut out = format!(
            "<span lang=\"kk\">{}</span> / <span lang=\"ru\">{}</span>",
            esc(self.kk),
            esc(self.ru)
        );
        if let Some(en) = self.en {
            let _ = write!(out, " / <span lang=\"en\">{}</span>", esc(en));
        }
        out
    }
}

/// A whole page around `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"kk\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n<body>\n\
         <header class=\"top\"><div class=\"wrap\">\
         <a class=\"brand\" href=\"/\"><span lang=\"kk\">Құжатты тексеру</span> \
         <span lang=\"ru\">Проверка документа</span></a>\
         <nav><a href=\"/upload\"><span lang=\"kk\">PDF тексеру</span> · \
         <span lang=\"ru\">Проверить PDF</span></a>\
         <a href=\"/apostille\"><span lang=\"kk\">Апостильдер тізілімі</span> · \
         <span lang=\"ru\">Реестр апостилей</span> · <span lang=\"en\">Apostille register</span></a>\
         </nav></div></header>\n<main class=\"wrap\">\n{body}\n</main>\n\
         <footer class=\"wrap\"><p><span lang=\"kk\">Мемлекеттік қызметтер нәтижелерінің тізілімдері \
         бойынша тексеру.</span> <span lang=\"ru\">Проверка по реестрам результатов \
         государственных услуг.</span></p></footer>\n</body>\n</html>\n",
        esc(title),
    )
}

/// The verdict box's look and words.
fn heading(answer: &Answer, english: bool) -> (&'static str, String) {
    let number = answer.number.as_deref().unwrap_or("");
    let status = answer.status.as_ref();
    let since = status
        .and_then(|s| s.since.as_deref())
        .map(dmy)
        .unwrap_or_default();
    let (class, kk, ru, en): (&str, String, String, String) = match answer.verdict {
        "genuine" => match status.map(|s| s.status) {
            None | Some(Status::Active) => (
                "ok",
                "Құжат түпнұсқа және күшінде".into(),
                "Документ подлинный и действует".into(),
                "The document is genuine and in force".into(),
            ),
            Some(Status::Superseded) => {
                let by = status
                    .and_then(|s| s.superseded_by.as_deref())
                    .unwrap_or("—");
                (
                    "warn",
                    format!(
                        "Құжат түпнұсқа, бірақ күшінде емес: {since} бастап № {by} құжатымен ауыстырылған"
                    ),
                    format!(
                        "Документ подлинный, но не действует: с {since} заменён документом № {by}"
                    ),
                    format!("Genuine, but not in force: superseded on {since} by № {by}"),
                )
            }
            Some(Status::Suspended) => (
                "warn",
                format!("Құжат түпнұсқа, бірақ оның қолданылуы {since} бастап тоқтатыла тұрды"),
                format!("Документ подлинный, но его действие приостановлено с {since}"),
                format!("Genuine, but suspended since {since}"),
            ),
            Some(Status::Revoked) => (
                "warn",
                format!("Құжат түпнұсқа, бірақ {since} бастап кері қайтарып алынды"),
                format!("Документ подлинный, но отозван с {since}"),
                format!("Genuine, but revoked since {since}"),
            ),
        },
        "unconfirmed" => (
            "wait",
            "Құжат тізілімге енгізілген, бірақ әлі расталмаған: кейінірек қайта тексеріңіз".into(),
            "Документ внесён в реестр, но ещё не подтверждён: проверьте позже".into(),
            "Registered, but not yet confirmed: check again later".into(),
        ),
        "disowned" => (
            "bad",
            "Құжат түпнұсқа емес: тізілімнің тексерілген тарихында оның жазбасы жоқ".into(),
            "Документ не подлинный: его записи нет в проверенной истории реестра".into(),
            "Not genuine: the register's verified history does not hold its record".into(),
        ),
        // An upload no registry holds, whose own signature shows it was changed after signing.
        "altered" if number.is_empty() => (
            "bad",
            "Құжат түпнұсқа емес: файл қол қойылғаннан кейін өзгертілген".into(),
            "Документ не подлинный: файл изменён после подписания".into(),
            "Not genuine: the file was changed after it was signed".into(),
        ),
        "altered" => (
            "bad",
            format!("Құжат түпнұсқа емес: № {number} құжаты тізілімде бар, бірақ мазмұны басқа"),
            format!(
                "Документ не подлинный: документ № {number} есть в реестре, но с другим содержанием"
            ),
            format!("Not genuine: № {number} is in the register, but with other content"),
        ),
        _ => (
            "none",
            "Мұндай құжат тізілімде жоқ".into(),
            "Такого документа в реестре нет".into(),
            "No such document is in the register".into(),
        ),
    };
    let mut html = format!(
        "<h1><span lang=\"kk\">{}</span><span lang=\"ru\">{}</span>",
        esc(&kk),
        esc(&ru)
    );
    if english {
        let _ = write!(html, "<span lang=\"en\">{}</span>", esc(&en));
    }
    html.push_str("</h1>");
    (class, html)
}

/// `2026-11-24` → `24.11.2026`.
fn dmy(iso: &str) -> String {
    match iso.parse::<crate::date::Date>() {
        Ok(date) => date.dmy(),
        Err(_) => iso.to_string(),
    }
}

fn verdict_box(answer: &Answer, english: bool, note: &str) -> String {
    let (class, heading) = heading(answer, english);
    format!(
        "<section class=\"verdict {class}\" role=\"status\" id=\"verdict\" data-verdict=\"{}\">\
         <div class=\"mark\" aria-hidden=\"true\"></div><div>{heading}{note}</div></section>\n",
        answer.verdict
    )
}

fn row(label: Said<'_>, value: &str) -> String {
    format!("<dt>{}</dt><dd>{value}</dd>\n", label.inline())
}

/// A row of the apostille's numbered fields: the number once, then the label in each language.
fn numbered(n: u8, label: Said<'_>, value: &str) -> String {
    format!("<dt>{n}. {}</dt><dd>{value}</dd>\n", label.inline())
}

fn words_html(words: &Words) -> String {
    if words.kk == words.ru {
        esc(&words.kk)
    } else {
        format!(
            "<span lang=\"kk\">{}</span><br><span lang=\"ru\">{}</span>",
            esc(&words.kk),
            esc(&words.ru)
        )
    }
}

fn status_html(status: &StatusView) -> String {
    let (kk, ru) = status.status.words();
    let mut out = format!(
        "<span lang=\"kk\">{}</span> / <span lang=\"ru\">{}</span>",
        esc(kk),
        esc(ru)
    );
    if let Some(since) = &status.since {
        let _ = write!(out, ", {}", esc(&dmy(since)));
    }
    if let Some(by) = &status.superseded_by {
        let _ = write!(
            out,
            "<br><span lang=\"kk\">орнына берілген құжат</span> / \
             <span lang=\"ru\">взамен выдан документ</span>: <strong>№ {}</strong>",
            esc(by)
        );
    }
    if let Some(reason) = &status.reason {
        let _ = write!(out, "<br><small>{}</small>", esc(reason));
    }
    out
}

fn document_rows(answer: &Answer, doc: &DocumentView) -> String {
    let mut out = String::from("<dl class=\"facts\">\n");
    out.push_str(&row(said("Құжат", "Документ"), &words_html(&doc.title)));
    if let Some(number) = &answer.number {
        out.push_str(&row(
            said("Нөмірі", "Номер"),
            &format!("<strong>{}</strong>", esc(number)),
        ));
    }
    out.push_str(&row(
        said("Берілген күні", "Дата выдачи"),
        &esc(&dmy(&doc.issued)),
    ));
    if let Some(authority) = &doc.authority {
        out.push_str(&row(
            said("Берген орган", "Выдавший орган"),
            &words_html(authority),
        ));
    }
    let mut holder = words_html(&doc.holder.name);
    if let (Some(kind), Some(id)) = (doc.holder.id_kind, &doc.holder.id) {
        let (kk, ru) = if kind == "bin" {
            ("БСН", "БИН")
        } else {
            ("ЖСН", "ИИН")
        };
        let _ = write!(
            holder,
            "<br>{kk} / {ru}: <span class=\"id\">{}</span>",
            esc(id)
        );
    }
    out.push_str(&row(said("Кімге берілді", "Кому выдан"), &holder));
    if let Some(status) = &answer.status {
        out.push_str(&row(said("Мәртебесі", "Статус"), &status_html(status)));
    }
    if let Some(name) = &doc.registry_name {
        out.push_str(&row(said("Тізілім", "Реестр"), &words_html(name)));
    }
    out.push_str("</dl>\n");
    out
}

fn checkpoint_note(answer: &Answer) -> String {
    let mut out = String::new();
    if let Some(size) = answer.checkpoint {
        let _ = writeln!(
            out,
            "<p class=\"small\"><span lang=\"kk\">Жазба тізілімнің бақылау нүктесімен расталған \
             (өлшемі: {size}).</span> <span lang=\"ru\">Запись подтверждена контрольной точкой \
             реестра (размер: {size}).</span></p>"
        );
    }
    if !answer.caveats.is_empty() {
        out.push_str(
            "<p class=\"caveat\"><span lang=\"kk\">Назар аударыңыз: тізілімнің өзінде ақау \
             анықталды; құжатты берген органға хабарласыңыз.</span> <span lang=\"ru\">Внимание: в \
             самом реестре обнаружена неисправность; обратитесь в выдавший орган.</span></p>\n",
        );
    }
    out
}

/// The page answering a QR code (or a PDF upload, with `upload`).
pub fn verdict_page(answer: &Answer, download: Option<&str>, upload: bool) -> String {
    let mut body = String::new();
    // What was asked about, when the answer shows nothing else: the number (the registry's code
    // would mean nothing to a person).
    let asked = match &answer.number {
        Some(n) if answer.document.is_none() && answer.verdict != "altered" => format!(
            "<p class=\"asked\"><span lang=\"kk\">Нөмірі</span> / <span lang=\"ru\">Номер</span>: \
             {}</p>",
            esc(n)
        ),
        _ => String::new(),
    };
    body.push_str(&verdict_box(answer, false, &asked));
    if let Some(doc) = &answer.document {
        body.push_str(&document_rows(answer, doc));
    }
    if let Some(href) = download {
        let _ = writeln!(
            body,
            "<p><a class=\"button\" href=\"{}\" download><span lang=\"kk\">Тіркелген құжатты жүктеу \
             (PDF)</span><span lang=\"ru\">Скачать зарегистрированный документ (PDF)</span></a></p>",
            esc(href)
        );
    }
    if let Some(signature) = &answer.signature {
        body.push_str(&signature_note(signature));
    }
    body.push_str(&checkpoint_note(answer));
    body.push_str(&explain(answer.verdict, upload));
    page("Құжатты тексеру · Проверка документа", &body)
}

/// A certificate's validity bound as a person reads a date here: `2026-01-01 00:00:00 UTC` →
/// `01.01.2026` (anything else as it is).
fn day(time: &str) -> String {
    match time
        .get(..10)
        .map(|d| d.split('-').collect::<Vec<_>>())
        .as_deref()
    {
        Some([y, m, d]) if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{d}.{m}.{y}"),
        _ => time.to_string(),
    }
}

/// What the uploaded file's own digital signature says, in Kazakh and Russian (the technical
/// reason, in English as `qujat verify` gives it, under "details").
fn signature_note(signature: &SignatureView) -> String {
    let (kk, ru) = match signature.state {
        "valid" => {
            let signer = signature.signer.as_ref();
            let name = esc(signer.map_or("", |s| s.name.as_str()));
            let serial = esc(signer.map_or("", |s| s.serial.as_str()));
            let from = esc(&day(signer.map_or("", |s| s.valid_from.as_str())));
            let to = esc(&day(signer.map_or("", |s| s.valid_to.as_str())));
            (
                format!(
                    "Электрондық цифрлық қолтаңба жарамды: құжатқа {name} қол қойған \
                     (тіркеу куәлігі № {serial}, {from} бастап {to} дейін жарамды); \
                     қол қойылғаннан кейін файл өзгертілмеген."
                ),
                format!(
                    "Электронная цифровая подпись действительна: документ подписал {name} \
                     (регистрационное свидетельство № {serial}, действительно с {from} по \
                     {to}); после подписания файл не изменялся."
                ),
            )
        }
        "altered" => (
            "Электрондық цифрлық қолтаңба: файл қол қойылғаннан кейін өзгертілген.".to_string(),
            "Электронная цифровая подпись: файл изменён после подписания.".to_string(),
        ),
        "unchecked" => (
            "Электрондық цифрлық қолтаңба: файл қол қойылғаннан кейін өзгертілмеген, бірақ қол \
             қоюшыны тексеру мүмкін емес (бұл қызметте куәландырушы орталықтың сертификаты \
             бапталмаған)."
                .to_string(),
            "Электронная цифровая подпись: файл после подписания не изменялся, но проверить \
             подписавшего невозможно (в этой службе не настроен сертификат удостоверяющего \
             центра)."
                .to_string(),
        ),
        "unreadable" => (
            "Электрондық цифрлық қолтаңбаны тексеру мүмкін емес: файл PDF ретінде оқылмайды."
                .to_string(),
            "Проверить электронную цифровую подпись невозможно: файл не читается как PDF."
                .to_string(),
        ),
        "unsigned" => (
            "Электрондық цифрлық қолтаңба: жоқ.".to_string(),
            "Электронная цифровая подпись: отсутствует.".to_string(),
        ),
        _ => (
            "Электрондық цифрлық қолтаңба жарамсыз.".to_string(),
            "Электронная цифровая подпись недействительна.".to_string(),
        ),
    };
    format!(
        "<div class=\"signature\" data-signature=\"{}\"><p><span lang=\"kk\">{kk}</span> \
         <span lang=\"ru\">{ru}</span></p><details><summary>Толығырақ · Подробнее</summary>\
         <p lang=\"en\">{}</p></details></div>\n",
        esc(signature.state),
        esc(&signature.why)
    )
}

/// What to do next, under a verdict.
fn explain(verdict: &str, upload: bool) -> String {
    let said = match verdict {
        "genuine" => return String::new(),
        "unconfirmed" => said(
            "Құжат бүгін берілген болуы мүмкін: тізілім оны түнгі өңдеу аяқталғанда растайды.",
            "Документ мог быть выдан сегодня: реестр подтверждает его по завершении ночной обработки.",
        ),
        "unknown" if upload => said(
            "Файл өзгертілген болуы мүмкін (бір байт болса да) немесе бұл құжат мұнда берілмеген. \
             Құжаттағы QR-кодты сканерлеп көріңіз.",
            "Файл мог быть изменён (хотя бы на один байт) или документ выдан не здесь. \
             Попробуйте отсканировать QR-код на документе.",
        ),
        _ => said(
            "Құжатты берген органға хабарласыңыз.",
            "Обратитесь в орган, выдавший документ.",
        ),
    };
    format!("<p class=\"next\">{}</p>\n", said.inline())
}

/// The home page: what can be checked here.
pub fn home() -> String {
    let upload = said("PDF файлын жүктеп тексеру", "Проверить, загрузив PDF-файл").inline();
    let apostille = said3(
        "Апостильді нөмірі мен күні бойынша тексеру",
        "Проверить апостиль по номеру и дате",
        "Check an apostille by its number and date",
    )
    .inline();
    let body = format!(
        "<h1 class=\"title\">{}</h1>\n\
         <p>{}</p>\n<p><a href=\"/upload\">{upload}</a></p>\n\
         <p><a href=\"/apostille\">{apostille}</a></p>\n",
        said("Құжаттың түпнұсқалығын тексеру", "Проверка подлинности документа").inline(),
        said(
            "Құжаттағы QR-кодты телефон камерасымен сканерлеңіз: ол осы беттің тексеру сілтемесін ашады.",
            "Отсканируйте QR-код на документе камерой телефона: он откроет страницу проверки.",
        )
        .inline(),
    );
    page("Құжатты тексеру · Проверка документа", &body)
}

/// The upload form.
pub fn upload_form(max_mb: u64) -> String {
    let body = format!(
        "<h1 class=\"title\">{}</h1>\n<p>{}</p>\n\
         <form class=\"check\" method=\"post\" action=\"/upload\" enctype=\"multipart/form-data\">\n\
         <label for=\"pdf\">{}</label>\n\
         <input type=\"file\" id=\"pdf\" name=\"pdf\" accept=\"application/pdf,.pdf\" required>\n\
         <button type=\"submit\">{}</button>\n</form>\n",
        said("PDF файлын тексеру", "Проверка PDF-файла").inline(),
        said(
            &format!("Сізге берілген PDF файлын таңдаңыз (ең көбі {max_mb} МБ). Файл сақталмайды: тек оның хэші тізілімнен ізделеді."),
            &format!("Выберите полученный вами PDF-файл (не более {max_mb} МБ). Файл не сохраняется: в реестре ищется только его хэш."),
        )
        .inline(),
        said("PDF файлы", "PDF-файл").inline(),
        said("Тексеру", "Проверить").inline(),
    );
    page("PDF тексеру · Проверить PDF", &body)
}

/// The apostille register: its form, filled with what was asked, and the answer if any.
pub fn apostille(number: &str, date: &str, answer: Option<&Answer>, asked: bool) -> String {
    let mut body = format!(
        "<h1 class=\"title\">{}</h1>\n",
        said3(
            "Апостильдер тізілімі",
            "Реестр апостилей",
            "Apostille register"
        )
        .inline(),
    );
    // The answer first, where a person looks; the form after it, to check another.
    match answer {
        Some(answer) => {
            body.push_str(&verdict_box(answer, true, ""));
            if let Some(view) = &answer.apostille {
                body.push_str(&apostille_rows(view, answer.status.as_ref()));
            }
        }
        None if asked => {
            let _ = writeln!(
                body,
                "<section class=\"verdict none\" role=\"status\" id=\"verdict\" data-verdict=\"unknown\">\
                 <div class=\"mark\" aria-hidden=\"true\"></div><div><h1>{}</h1></div></section>",
                said3(
                    "Бұл нөмірі мен күні бар апостиль тізілімде жоқ",
                    "Апостиль с таким номером и датой в реестре не найден",
                    "No apostille with this number and date is in the register"
                )
                .html("span")
            );
        }
        None => {}
    }
    let _ = writeln!(
        body,
        "<p>{}</p>\n\
         <form class=\"check\" method=\"get\" action=\"/apostille\">\n\
         <label for=\"n\">{}</label>\n\
         <input id=\"n\" name=\"n\" required maxlength=\"64\" placeholder=\"2026-000123\" value=\"{}\">\n\
         <label for=\"d\">{}</label>\n\
         <input id=\"d\" name=\"d\" type=\"date\" required value=\"{}\">\n\
         <button type=\"submit\">{}</button>\n</form>",
        said3(
            "Апостильдің нөмірі мен күнін енгізіңіз.",
            "Введите номер и дату апостиля.",
            "Enter the apostille's number and date."
        )
        .inline(),
        said3("Апостиль нөмірі", "Номер апостиля", "Apostille number").inline(),
        esc(number),
        said3("Күні", "Дата", "Date").inline(),
        esc(date),
        said3("Тексеру", "Проверить", "Check").inline(),
    );
    page("Апостиль · Apostille", &body)
}

fn apostille_rows(view: &ApostilleView, status: Option<&StatusView>) -> String {
    let mut out = String::from("<dl class=\"facts apostille\">\n");
    let words = |w: &Words| words_html(w);
    out.push_str(&numbered(
        1,
        said3("Ел", "Страна", "Country"),
        "<span lang=\"kk\">Қазақстан Республикасы</span><br><span lang=\"ru\">Республика \
         Казахстан</span><br><span lang=\"en\">Republic of Kazakhstan</span>",
    ));
    out.push_str(&numbered(
        2,
        said3("Қол қойған", "Подписан", "Has been signed by"),
        &esc(&view.signed_by),
    ));
    out.push_str(&numbered(
        3,
        said3("Кім ретінде", "В качестве", "Acting in the capacity of"),
        &words(&view.capacity),
    ));
    out.push_str(&numbered(
        4,
        said3(
            "Мөрімен бекітілген",
            "Скреплен печатью",
            "Bears the seal/stamp of",
        ),
        &words(&view.seal_of),
    ));
    out.push_str(&numbered(5, said3("Қайда", "В", "At"), &words(&view.place)));
    out.push_str(&numbered(
        6,
        said3("Күні", "Дата", "The"),
        &esc(&dmy(&view.date)),
    ));
    out.push_str(&numbered(
        7,
        said3("Кім", "Кем", "By"),
        &words(&view.authority),
    ));
    out.push_str(&numbered(
        8,
        said3("№", "№", "No"),
        &format!("<strong>{}</strong>", esc(&view.number)),
    ));
    out.push_str(&numbered(
        9,
        said3("Мөр", "Печать", "Seal/stamp"),
        &words(&view.authority),
    ));
    out.push_str(&numbered(
        10,
        said3("Қолы", "Подпись", "Signature"),
        &format!(
            "{}<br>{}",
            esc(&view.official),
            words(&view.official_position)
        ),
    ));
    let pd = &view.public_document;
    out.push_str(&row(
        said3("Ресми құжат", "Официальный документ", "Public document"),
        &format!(
            "{}<br>№ {}, {}",
            words(&pd.kind),
            esc(&pd.number),
            esc(&dmy(&pd.date))
        ),
    ));
    if let Some(status) = status {
        out.push_str(&row(
            said3("Мәртебесі", "Статус", "Status"),
            &status_html(status),
        ));
    }
    out.push_str("</dl>\n");
    out
}

/// An error page: the status's words, never a path or an internal message.
pub fn error(status: u16, incident: Option<u64>) -> String {
    let (kk, ru) = match status {
        400 => (
            "Сұрау дұрыс емес: бұл құжатты тексеру сілтемесі емес",
            "Неверный запрос: это не ссылка проверки документа",
        ),
        404 => ("Мұндай бет жоқ", "Такой страницы нет"),
        405 => (
            "Бұл әдіс бұл бетке қолданылмайды",
            "Этот метод для этой страницы не поддерживается",
        ),
        408 => (
            "Сұрау тым ұзақ жіберілді",
            "Запрос передавался слишком долго",
        ),
        413 => ("Файл тым үлкен", "Файл слишком большой"),
        414 => ("Сілтеме тым ұзын", "Ссылка слишком длинная"),
        415 => ("Бұл PDF файлы емес", "Это не PDF-файл"),
        429 => (
            "Сұраулар тым көп: біраз күтіп, қайталаңыз",
            "Слишком много запросов: подождите немного и повторите",
        ),
        503 => ("Қызмет уақытша қолжетімсіз", "Сервис временно недоступен"),
        _ => ("Ішкі қате", "Внутренняя ошибка"),
    };
    let mut body = format!(
        "<section class=\"verdict none\" role=\"alert\" id=\"error\" data-status=\"{status}\">\
         <div class=\"mark\" aria-hidden=\"true\"></div><div>{}</div></section>\n",
        said(kk, ru).html("h1")
    );
    if let Some(incident) = incident {
        let _ = writeln!(
            body,
            "<p><span lang=\"kk\">Оқиға нөмірі</span> / <span lang=\"ru\">Номер инцидента</span>: \
             {incident}</p>"
        );
    }
    let _ = writeln!(
        body,
        "<p><a href=\"/\">{}</a></p>",
        said("Басты бет", "На главную").inline()
    );
    page(&format!("{status}"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificates_validity_reads_as_a_date() {
        assert_eq!(day("2026-01-01 00:00:00 UTC"), "01.01.2026");
        assert_eq!(day("2045-12-31 23:59:59 UTC"), "31.12.2045");
        assert_eq!(day("soon"), "soon");
    }

    #[test]
    fn escaping_covers_content_and_attributes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(query_value("00017-Г/ x"), "00017-%D0%93%2F%20x");
    }

    #[test]
    fn pages_have_no_inline_script_or_style() {
        for html in [
            home(),
            upload_form(16),
            apostille("<x>", "\"", None, true),
            error(500, Some(7)),
        ] {
            let lower = html.to_lowercase();
            for banned in ["<script", "style=", "<style", "javascript:", " on"] {
                if banned == " on" {
                    // No event handler attributes (onclick=, onload=, …).
                    assert!(
                        !lower.split('<').any(|tag| tag
                            .split('>')
                            .next()
                            .unwrap_or("")
                            .split_whitespace()
                            .skip(1)
                            .any(|a| a.starts_with("on"))),
                        "{html}"
                    );
                } else {
                    assert!(!lower.contains(banned), "{banned} in {html}");
                }
            }
            assert!(!html.contains("<x>"), "unescaped input");
        }
    }
}
