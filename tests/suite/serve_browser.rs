//! `qujat serve` in a real browser: headless Chromium (Debian's `chromium`), driven over its
//! DevTools protocol by the `headless_chrome` crate, opens a sample document's QR address (its
//! host replaced by the service's), an altered and a superseded one, drops a registered PDF on
//! the upload form and asks the apostille register; the test reads what the page shows a person
//! (the verdict's text in Kazakh and Russian) and checks the stylesheet and fonts loaded under the
//! Content-Security-Policy. Screenshots at desktop (1280 px) and phone (390 px) widths land in
//! `target/test-output/serve/`. Without Chromium the test says loudly that it was skipped
//! (`tests/deps.sh` installs it).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

use super::serve::{Server, samples};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Where the screenshots go.
fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-output/serve");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn browser(profile: &Path) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=kk-KZ",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(CHROMIUM)))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 900)))
        .user_data_dir(Some(profile.to_path_buf()))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args)
        .build()
        .unwrap();
    Browser::new(options).expect("Chromium starts")
}

/// Sets the viewport: a desktop 1280 px wide, or a phone 390 px wide (at 3× pixels, as phones).
fn viewport(tab: &Tab, phone: bool) {
    let (width, height, scale) = if phone {
        (390, 844, 3.0)
    } else {
        (1280, 900, 1.0)
    };
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: scale,
        mobile: phone,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .unwrap();
}

/// Opens `url` and returns the text a person sees in the verdict box.
fn open(tab: &Tab, url: &str) -> String {
    tab.navigate_to(url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.wait_for_element("#verdict")
        .unwrap()
        .get_inner_text()
        .unwrap()
}

/// Screenshots the whole page at both widths as `<name>-desktop.png` and `<name>-phone.png`.
fn screenshots(tab: &Tab, name: &str) {
    for phone in [false, true] {
        viewport(tab, phone);
        tab.reload(false, None)
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        tab.wait_for_element("main").unwrap();
        let png = capture(tab);
        let file = shots().join(format!(
            "{name}-{}.png",
            if phone { "phone" } else { "desktop" }
        ));
        std::fs::write(&file, png).unwrap();
    }
    viewport(tab, false);
}

/// A screenshot of the whole page. Right after a navigation Chromium may not have attached the
/// new page yet, and says so: then it is asked again.
fn capture(tab: &Tab) -> Vec<u8> {
    let mut tries = 0;
    loop {
        match tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true) {
            Ok(png) => return png,
            Err(err) if tries < 20 && err.to_string().contains("Not attached") => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(err) => panic!("screenshot: {err}"),
        }
    }
}

/// Whether the page's stylesheet was applied and its fonts loaded (both come from the service,
/// under the Content-Security-Policy).
fn styled(tab: &Tab) -> bool {
    let result = tab
        .evaluate(
            "(async () => { await document.fonts.ready; \
               const h = document.querySelector('header.top'); \
               return getComputedStyle(h).backgroundColor === 'rgb(29, 79, 145)' \
                 && document.fonts.check('bold 16px \"Liberation Serif\"') \
                 && [...document.fonts].some(f => f.status === 'loaded'); })()",
            true,
        )
        .unwrap();
    result.value == Some(serde_json::Value::Bool(true))
}

#[test]
fn a_person_in_a_browser_sees_the_verdicts_in_kazakh_and_russian() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "SKIPPED serve_browser: {CHROMIUM} is missing — install Debian's chromium \
             (tests/deps.sh does) to run the browser tests"
        );
        return;
    }
    let project = samples();
    let server = Server::start(project, &[]);
    let profile = tempfile::tempdir().unwrap();
    let browser = browser(profile.path());
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));

    // A sample certificate's QR address, host replaced: genuine and in force.
    let last = project.records("media").into_iter().last().unwrap();
    let qr = last["qr"].as_str().unwrap();
    let seen = open(&tab, &server.url(&server.local(qr)));
    assert!(seen.contains("Құжат түпнұсқа және күшінде"), "{seen}");
    assert!(seen.contains("Документ подлинный и действует"), "{seen}");
    assert!(styled(&tab), "the stylesheet or its fonts did not load");
    let body = tab.find_element("main").unwrap().get_inner_text().unwrap();
    assert!(
        body.contains(last["holder"]["ru"].as_str().unwrap()),
        "{body}"
    );
    assert!(body.contains(last["number"].as_str().unwrap()), "{body}");
    assert!(
        body.contains("Скачать зарегистрированный документ (PDF)"),
        "{body}"
    );
    screenshots(&tab, "qr-genuine");

    // The same address with another content hash: not genuine.
    let (head, _) = qr.rsplit_once("c=").unwrap();
    let altered = format!("{head}c={}", "ab".repeat(32));
    let seen = open(&tab, &server.url(&server.local(&altered)));
    assert!(seen.contains("Құжат түпнұсқа емес"), "{seen}");
    assert!(seen.contains("Документ не подлинный"), "{seen}");
    let body = tab.find_element("main").unwrap().get_inner_text().unwrap();
    assert!(
        !body.contains(last["holder"]["ru"].as_str().unwrap()),
        "{body}"
    );
    screenshots(&tab, "qr-altered");

    // The certificate a re-registration replaced: what replaced it.
    let event = project
        .journal("media")
        .into_iter()
        .find(|r| r["type"] == "status")
        .unwrap();
    let replaced = project
        .records("media")
        .into_iter()
        .find(|r| r["seq"] == event["target"])
        .unwrap();
    let by = event["by"].as_str().unwrap();
    let seen = open(
        &tab,
        &server.url(&server.local(replaced["qr"].as_str().unwrap())),
    );
    assert!(
        seen.contains(&format!("заменён документом № {by}")),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("№ {by} құжатымен ауыстырылған")),
        "{seen}"
    );
    screenshots(&tab, "qr-superseded");

    // The upload form: a registered PDF dropped on it is genuine.
    tab.navigate_to(&server.url("/upload"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    let form = tab
        .find_element("form.check")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(
        form.contains("PDF-файл") && form.contains("Проверить"),
        "{form}"
    );
    screenshots(&tab, "upload-form");
    let file = project.out().join(last["pdf"]["file"].as_str().unwrap());
    let input = tab.find_element("#pdf").unwrap();
    input.set_input_files(&[file.to_str().unwrap()]).unwrap();
    tab.find_element("form.check button")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    let seen = tab
        .wait_for_element("#verdict")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(seen.contains("Документ подлинный и действует"), "{seen}");
    let body = tab.find_element("main").unwrap().get_inner_text().unwrap();
    assert!(body.contains(last["number"].as_str().unwrap()), "{body}");
    // This project issues unsigned documents (tests/suite/signed_batch.rs uploads signed ones).
    assert!(
        body.contains("Электронная цифровая подпись: отсутствует."),
        "{body}"
    );
    std::fs::write(shots().join("upload-result-desktop.png"), capture(&tab)).unwrap();

    // The apostille register, in English too.
    let apostille = project
        .records("apostille")
        .into_iter()
        .find(|r| r["document"] == "apostille")
        .unwrap();
    tab.navigate_to(&server.url("/apostille"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.find_element("#n")
        .unwrap()
        .click()
        .unwrap()
        .type_into(apostille["number"].as_str().unwrap())
        .unwrap();
    // The date field takes the date as the browser's date picker would give it.
    tab.evaluate(
        &format!(
            "document.querySelector('#d').value = '{}'",
            apostille["issued"].as_str().unwrap()
        ),
        false,
    )
    .unwrap();
    tab.find_element("form.check button")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    let seen = tab
        .wait_for_element("#verdict")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(
        seen.contains("The document is genuine and in force"),
        "{seen}"
    );
    assert!(seen.contains("Документ подлинный и действует"), "{seen}");
    let body = tab.find_element("main").unwrap().get_inner_text().unwrap();
    let signer = apostille["data"]["case"]["public_document"]["signer"]
        .as_str()
        .unwrap();
    assert!(body.contains(signer), "{body}");
    screenshots(&tab, "apostille");
}
