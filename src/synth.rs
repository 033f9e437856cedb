//! Synthetic cases for stress tests and benchmarks: any number of valid media-registration cases
//! with correct check digits and varied Kazakh and Russian text, the same for the same seed.

use std::fmt::Write as _;

use crate::date::Date;
use crate::iin;

/// A small deterministic generator (SplitMix64): no randomness from outside.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const TITLE_KK: &[&str] = &[
    "Ертіс",
    "Сарыарқа",
    "Алатау",
    "Жетісу",
    "Маңғыстау",
    "Атырау",
    "Тобыл",
    "Есіл",
    "Сыр",
    "Ұлытау",
    "Көкшетау",
    "Баянауыл",
    "Қаратау",
    "Хантәңірі",
    "Бурабай",
    "Іле",
    "Шу",
    "Талас",
    "Торғай",
    "Жайық",
];
const TITLE_SUFFIX: &[&str] = &[
    "таңы",
    "жаршысы",
    "самалы",
    "шұғыласы",
    "хабары",
    "айнасы",
    "үні",
    "өңірі",
    "News",
    "Today",
    "Online",
    "Info",
    "Times",
    "Media",
    "жаңалықтары",
];
const SURNAMES: &[&str] = &[
    "Асқаров",
    "Нұрланов",
    "Сейітов",
    "Омаров",
    "Жақыпов",
    "Бекболатов",
    "Смағұлов",
    "Оспанов",
    "Ким",
    "Ли",
    "Петренко",
    "Ахметов",
    "Төлегенов",
    "Ибраимов",
    "Әлімжанов",
    "Жұмабеков",
    "Мұхамеджанов",
];
const GIVEN: &[&str] = &[
    "Ерлан",
    "Айгүл",
    "Нұржан",
    "Дана",
    "Мадина",
    "Арман",
    "Әсел",
    "Руслан",
    "Ольга",
    "Тимур",
    "Лаура",
    "Бауыржан",
    "Жанар",
    "Мұрат",
    "Гүлжан",
    "Дәурен",
    "Сәуле",
    "Қайрат",
];
const CITIES: &[(&str, &str)] = &[
    ("Астана қ.", "г. Астана"),
    ("Алматы қ.", "г. Алматы"),
    ("Шымкент қ.", "г. Шымкент"),
    ("Қарағанды қ.", "г. Караганда"),
    ("Ақтөбе қ.", "г. Актобе"),
    ("Павлодар қ.", "г. Павлодар"),
    ("Өскемен қ.", "г. Усть-Каменогорск"),
    ("Қостанай қ.", "г. Костанай"),
];
const SUBJECTS: &[(&str, &str)] = &[
    ("қоғамдық-саяси", "общественно-политическая"),
    ("жаңалықтар", "новостная"),
    ("мәдени-ағартушылық", "культурно-просветительская"),
    ("ғылыми-көпшілік", "научно-популярная"),
    ("экономика және бизнес", "экономика и бизнес"),
    ("балаларға арналған", "детская"),
    ("спорт", "спортивная"),
];
const PERIODS: &[(&str, &str)] = &[
    ("аптасына бір рет", "один раз в неделю"),
    ("аптасына екі рет", "два раза в неделю"),
    ("айына бір рет", "один раз в месяц"),
    ("тоқсанына бір рет", "один раз в квартал"),
    ("тұрақты жаңартылады", "обновляется постоянно"),
];
const KINDS: &[&str] = &["newspaper", "magazine", "news_agency", "online"];
const LANGUAGES: &[&str] = &["kk", "ru", "kk,ru", "kk,ru,en", "ru,kk", "kk,ru,uz"];

const HEADER: &str = "id,service,application.number,application.date,applicant.kind,applicant.iin,\
applicant.bin,applicant.name.kk,applicant.name.ru,applicant.address.kk,applicant.address.ru,\
decision.outcome,decision.date,decision.official.position,decision.official.name,\
decision.reasons.1.kk,decision.reasons.1.ru,application_type,publication_kind,title,languages,\
periodicity.kk,periodicity.ru,territory.kk,territory.ru,subject.kk,subject.ru,chief_editor,\
editorial_address.kk,editorial_address.ru,website,previous.number,previous.date,changes.kk,changes.ru,\
duty.amount,duty.date,duty.receipt";

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `count` media-registration cases as one CSV file, decided between `first` and `last`
/// (inclusive), ids `{prefix}-000001`…, about one in seven refused. `duty` gives the state duty
/// in tenge on a day of payment (each case pays it on its application date).
pub fn media_cases_csv(
    count: usize,
    seed: u64,
    prefix: &str,
    (first, last): (Date, Date),
    duty: impl Fn(Date) -> i64,
) -> String {
    let mut rng = Rng(seed);
    let span = (last.to_days() - first.to_days()).max(0) as usize + 1;
    let mut out = String::with_capacity(count * 900);
    out.push_str(HEADER);
    out.push('\n');
    for i in 1..=count {
        let decided = first.add_days((rng.below(span)) as i64).expect("in range");
        let applied = decided
            .add_days(-(rng.below(20) as i64))
            .expect("in range")
            .max(first.add_days(-30).expect("in range"));
        let applied = applied.min(decided);
        let refused = rng.below(7) == 0;
        let kind = KINDS[rng.below(KINDS.len())];
        let rereg = !refused && rng.below(5) == 0;
        let (city_kk, city_ru) = CITIES[rng.below(CITIES.len())];
        let (subject_kk, subject_ru) = SUBJECTS[rng.below(SUBJECTS.len())];
        let (period_kk, period_ru) = PERIODS[rng.below(PERIODS.len())];
        let title = format!("{} {} {}", rng.pick(TITLE_KK), rng.pick(TITLE_SUFFIX), i);
        let person = format!("{} {}", rng.pick(SURNAMES), rng.pick(GIVEN));
        let street = 1 + rng.below(200);
        let address_kk = format!("{city_kk}, Абай көшесі, {street}");
        let address_ru = format!("{city_ru}, улица Абая, {street}");
        let legal = rng.below(3) != 0;
        let (iin, bin, name_kk, name_ru) = if legal {
            let bin = loop {
                let prefix = format!(
                    "{:02}{:02}40{:05}",
                    5 + rng.below(20),
                    1 + rng.below(12),
                    rng.below(100_000)
                );
                if let Some(bin) = iin::complete(&prefix) {
                    break bin;
                }
            };
            let firm = format!("{} Медиа {i}", rng.pick(TITLE_KK));
            (
                String::new(),
                bin,
                format!("«{firm}» жауапкершілігі шектеулі серіктестігі"),
                format!("Товарищество с ограниченной ответственностью «{firm}»"),
            )
        } else {
            let iin = loop {
                let prefix = format!(
                    "{:02}{:02}{:02}{}{:04}",
                    60 + rng.below(40),
                    1 + rng.below(12),
                    1 + rng.below(28),
                    3 + rng.below(2),
                    rng.below(10_000)
                );
                if let Some(iin) = iin::complete(&prefix) {
                    break iin;
                }
            };
            (iin, String::new(), person.clone(), person.clone())
        };
        let (position, official) = if rng.below(2) == 0 {
            ("chairman", "Асқаров Ерлан Болатұлы")
        } else {
            ("deputy-chairman", "Сейітова Гүлнар Маратқызы")
        };
        let (reason_kk, reason_ru) = if refused {
            (
                "Өтінішке қоса берілетін құжаттар толық ұсынылмаған.",
                "Представлен неполный пакет документов, прилагаемых к заявлению.",
            )
        } else {
            ("", "")
        };
        let website = if kind == "online" {
            format!("https://site{i}.kz")
        } else {
            String::new()
        };
        let (prev_number, prev_date, changes_kk, changes_ru) = if rereg {
            (
                format!("{}-Г", 1000 + rng.below(9000)),
                "2015-06-01".to_string(),
                "бас редактор ауысты",
                "сменился главный редактор",
            )
        } else {
            (String::new(), String::new(), "", "")
        };
        let cells: [&str; 38] = [
            &format!("{prefix}-{i:06}"),
            "media-registration",
            &format!("KZ{:010}", seed.wrapping_add(i as u64) % 10_000_000_000),
            &applied.to_string(),
            if legal { "legal" } else { "individual" },
            &iin,
            &bin,
            &name_kk,
            &name_ru,
            &address_kk,
            &address_ru,
            if refused { "refused" } else { "approved" },
            &decided.to_string(),
            position,
            official,
            reason_kk,
            reason_ru,
            if rereg {
                "re-registration"
            } else {
                "registration"
            },
            kind,
            &title,
            LANGUAGES[rng.below(LANGUAGES.len())],
            period_kk,
            period_ru,
            "Қазақстан Республикасы",
            "Республика Казахстан",
            subject_kk,
            subject_ru,
            &person,
            &address_kk,
            &address_ru,
            &website,
            &prev_number,
            &prev_date,
            changes_kk,
            changes_ru,
            &duty(applied).to_string(),
            &applied.to_string(),
            &format!("Б-{i:06}"),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}
