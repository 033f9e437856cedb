//! `qujat serve`, run as itself on the sample documents: the QR page's verdicts in Kazakh and
//! Russian, what they reveal and to whom, the download, the upload, the apostille register, the
//! JSON API (the same verdicts as `qujat verify`), health and metrics, and that the service is
//! never in a batch's way. The hostile requests are in `serve_hostile`, the browser in
//! `serve_browser`. Requests are written by hand on a TCP socket, so that nothing between the
//! test and the server normalises them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Project, sha256_hex};

/// The sample cases issued once, for every test that only reads them.
pub fn samples() -> &'static Project {
    static SAMPLES: OnceLock<Project> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let project = Project::with_samples();
        let run = project.batch(&["--quiet"]);
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        project
    })
}

/// A running `qujat serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `qujat serve` in `project` on a free loopback port with `extra` flags.
    pub fn start(project: &Project, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qujat"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(project.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qujat serve starts");
        let mut stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let keep = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut sent = false;
            loop {
                match stderr.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut log = keep.lock().unwrap();
                        log.push_str(&String::from_utf8_lossy(&buf[..n]));
                        if !sent && let Some(at) = log.find("listening on http://") {
                            let rest = &log[at + "listening on http://".len()..];
                            // Only once the address is whole (a read may end inside it).
                            if let Some(end) = rest.find(char::is_whitespace) {
                                let _ = tx.send(rest[..end].to_string());
                                sent = true;
                            }
                        }
                    }
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!("qujat serve did not start:\n{}", log.lock().unwrap());
            }
        };
        Server { child, addr, log }
    }

    /// A request's answer (the request must ask to close the connection, or be cut off).
    pub fn raw(&self, request: &[u8]) -> Answer {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        Answer::parse(&bytes)
    }

    pub fn get(&self, target: &str) -> Answer {
        self.raw(
            format!("GET {target} HTTP/1.1\r\nHost: qujat.test\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    /// A POST of `body` as `content_type`.
    pub fn post(&self, target: &str, content_type: &str, body: &[u8]) -> Answer {
        let mut request = format!(
            "POST {target} HTTP/1.1\r\nHost: qujat.test\r\nConnection: close\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.raw(&request)
    }

    /// The upload form's request: `bytes` as the file field `pdf`.
    pub fn upload(&self, name: &str, bytes: &[u8]) -> Answer {
        let boundary = "----qujat-test-boundary-7d3f";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"{name}\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.post(
            "/upload",
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
        )
    }

    /// The local address of a QR payload: its host replaced by the server's.
    pub fn local(&self, qr: &str) -> String {
        let path = qr
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap();
        path.to_string()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, target: &str) -> String {
        format!("http://{}{target}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    fn parse(bytes: &[u8]) -> Answer {
        let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Answer {
                status: 0,
                headers: Vec::new(),
                body: bytes.to_vec(),
            };
        };
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = bytes[end + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The verdict a page shows (`data-verdict` of its verdict box).
    pub fn verdict(&self) -> String {
        let text = self.text();
        text.split("data-verdict=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no verdict on the page: {text}"))
            .to_string()
    }
}

/// An answer read off a socket.
pub fn parse_answer(bytes: &[u8]) -> Answer {
    Answer::parse(bytes)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&body[..line_end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
}

/// The document records of every registry of a project, with their registry.
pub fn documents(project: &Project) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(project.registry()).unwrap() {
        let entry = entry.unwrap();
        if !entry.path().join("journal.jsonl").is_file() {
            continue;
        }
        let code = entry.file_name().to_string_lossy().into_owned();
        for record in project.records(&code) {
            all.push((code.clone(), record));
        }
    }
    all.sort_by(|a, b| (&a.0, a.1["seq"].as_u64()).cmp(&(&b.0, b.1["seq"].as_u64())));
    all
}

/// The first document of `registry` whose data satisfies `pick`.
fn pick(project: &Project, registry: &str, pick: impl Fn(&Value) -> bool) -> Value {
    project
        .records(registry)
        .into_iter()
        .find(|r| pick(r))
        .unwrap_or_else(|| panic!("no such document in {registry}"))
}

/// The QR payload of `record`, with its content hash replaced by `content`.
fn with_content(qr: &str, content: &str) -> String {
    let (head, _) = qr.rsplit_once("c=").unwrap();
    format!("{head}c={content}")
}

/// Words that must never appear in an answer: an internal error's, or a path of the project.
#[track_caller]
pub fn reveals_nothing_internal(answer: &Answer, project: &Path) {
    let text = answer.text();
    for bad in [
        "caused by",
        "error:",
        "panicked",
        "journal.jsonl",
        "index.sqlite",
        "/tmp/",
        project.to_str().unwrap(),
    ] {
        assert!(!text.contains(bad), "{bad:?} in the answer: {text}");
    }
}

#[test]
fn every_sample_documents_qr_url_shows_it_genuine_in_both_languages_with_the_iin_masked() {
    let project = samples();
    // Every document at once: more than the default rate limit allows one client.
    let server = Server::start(project, &["--rate-limit", "0"]);
    let all = documents(project);
    assert!(all.len() >= 100, "{} documents", all.len());
    let superseded: Vec<u64> = project
        .journal("media")
        .iter()
        .filter(|r| r["type"] == "status")
        .map(|r| r["target"].as_u64().unwrap())
        .collect();
    for (registry, record) in &all {
        let qr = record["qr"].as_str().unwrap();
        let answer = server.get(&server.local(qr));
        assert_eq!(answer.status, 200, "{qr}: {}", answer.text());
        assert_eq!(answer.verdict(), "genuine", "{qr}");
        let page = answer.text();
        let seq = record["seq"].as_u64().unwrap();
        if registry == "media" && superseded.contains(&seq) {
            continue;
        }
        assert!(page.contains("Құжат түпнұсқа және күшінде"), "{page}");
        assert!(page.contains("Документ подлинный и действует"), "{page}");
        let number = record["number"].as_str().unwrap();
        assert!(
            page.contains(&format!("<strong>{number}</strong>")),
            "{number}: {page}"
        );
        let holder = &record["holder"];
        assert!(
            page.contains(
                holder["ru"]
                    .as_str()
                    .unwrap()
                    .replace('"', "&quot;")
                    .as_str()
            ) || page.contains(&pages_escape(holder["ru"].as_str().unwrap())),
            "holder in {page}"
        );
        let id = holder["id"].as_str().unwrap();
        if !id.is_empty() {
            let applicant = &record["data"]["case"]["applicant"];
            if applicant["iin"].is_string() && !applicant["bin"].is_string() {
                assert!(!page.contains(id), "the full IIN {id} is shown: {page}");
                assert!(page.contains(&format!("{}********", &id[..4])), "{page}");
            } else {
                assert!(page.contains(id), "the BIN {id} is not shown");
            }
        }
    }
}

fn pages_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn the_qr_code_downloads_the_registered_pdf_and_nothing_else_does() {
    let project = samples();
    let server = Server::start(project, &[]);
    let record = pick(project, "archive", |_| true);
    let page = server.get(&server.local(record["qr"].as_str().unwrap()));
    let text = page.text();
    let href = text
        .split("class=\"button\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a download link")
        .replace("&amp;", "&");
    let pdf = server.get(&href);
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(
        pdf.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(
        sha256_hex(&pdf.body),
        record["pdf"]["sha256"].as_str().unwrap()
    );
    // Without the right content hash there is no download.
    let wrong = with_content(&href, &"0".repeat(64));
    assert_eq!(server.get(&wrong).status, 404);
    // A file replaced on disk is never handed out as the registered document.
    let copy = Project::with_samples();
    crate::util::copy_dir(&project.registry(), &copy.registry());
    crate::util::copy_dir(&project.out(), &copy.out());
    let file = copy.out().join(record["pdf"]["file"].as_str().unwrap());
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(b"\n% appended\n");
    std::fs::write(&file, bytes).unwrap();
    let other = Server::start(&copy, &[]);
    assert_eq!(other.get(&href).status, 404);
}

#[test]
fn an_altered_content_hash_is_not_genuine_and_reveals_only_that_the_number_exists() {
    let project = samples();
    let server = Server::start(project, &[]);
    let record = pick(project, "archive", |r| {
        r["data"]["case"]["applicant"]["iin"].is_string()
    });
    let qr = record["qr"].as_str().unwrap();
    let altered = with_content(qr, &"ab".repeat(32));
    let answer = server.get(&server.local(&altered));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.verdict(), "altered");
    let page = answer.text();
    assert!(page.contains("Құжат түпнұсқа емес"), "{page}");
    assert!(page.contains("Документ не подлинный"), "{page}");
    let number = record["number"].as_str().unwrap();
    assert!(page.contains(number));
    for private in [
        record["holder"]["ru"].as_str().unwrap(),
        record["holder"]["kk"].as_str().unwrap(),
        &record["holder"]["id"].as_str().unwrap()[..4],
        record["issued"].as_str().unwrap(),
    ] {
        assert!(!page.contains(private), "{private:?} revealed: {page}");
    }
    assert!(
        !page.contains("/pdf?"),
        "a download link for an altered document"
    );
    // An unknown number: unknown, and the same shape of answer.
    let unknown = qr.replace(&format!("n={}", encode(number)), "n=99999-X");
    let answer = server.get(&server.local(&unknown));
    assert_eq!(answer.verdict(), "unknown");
    assert!(answer.text().contains("Такого документа в реестре нет"));
    // No registry of that name: unknown too, and nothing is opened for it.
    let nowhere = qr.replace("r=archive", "r=nowhere");
    assert_eq!(server.get(&server.local(&nowhere)).verdict(), "unknown");
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn a_superseded_certificate_shows_what_replaced_it() {
    let project = samples();
    let server = Server::start(project, &[]);
    let event = project
        .journal("media")
        .into_iter()
        .find(|r| r["type"] == "status" && r["status"] == "superseded")
        .expect("the samples supersede a certificate");
    let target = event["target"].as_u64().unwrap();
    let by = event["by"].as_str().unwrap();
    let record = pick(project, "media", |r| r["seq"].as_u64() == Some(target));
    let answer = server.get(&server.local(record["qr"].as_str().unwrap()));
    assert_eq!(answer.verdict(), "genuine");
    let page = answer.text();
    let since = event["date"].as_str().unwrap();
    let since: Vec<&str> = since.split('-').collect();
    let since = format!("{}.{}.{}", since[2], since[1], since[0]);
    assert!(
        page.contains(&format!(
            "Документ подлинный, но не действует: с {since} заменён документом № {by}"
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("{since} бастап № {by} құжатымен ауыстырылған")),
        "{page}"
    );
    assert!(page.contains("verdict warn"));
    // The JSON says the same.
    let api = server.get(&format!(
        "/api/v1/verify?{}",
        record["qr"].as_str().unwrap().split_once('?').unwrap().1
    ));
    let json = api.json();
    assert_eq!(json["verdict"], "genuine");
    assert_eq!(json["in_force"], false);
    assert_eq!(json["status"]["status"], "superseded");
    assert_eq!(json["status"]["superseded_by"], by);
}

#[test]
fn the_api_gives_the_verdicts_qujat_verify_gives() {
    let project = samples();
    let server = Server::start(project, &[]);
    let record = pick(project, "kkm", |_| true);
    let qr = record["qr"].as_str().unwrap();
    let number = record["number"].as_str().unwrap();
    let cases = [
        (qr.to_string(), "genuine", "GENUINE"),
        (with_content(qr, &"cd".repeat(32)), "altered", "ALTERED"),
        (
            qr.replace(&format!("n={}", encode(number)), "n=nothing"),
            "unknown",
            "UNKNOWN",
        ),
    ];
    for (payload, verdict, cli) in cases {
        let run = project.qujat(&["verify", "--payload", &payload]);
        assert!(
            run.stdout.contains(cli) || run.stderr.contains(cli),
            "{}{}",
            run.stdout,
            run.stderr
        );
        let query = payload.split_once('?').unwrap().1;
        let by_fields = server.get(&format!("/api/v1/verify?{query}")).json();
        assert_eq!(by_fields["verdict"], verdict, "{payload}");
        let by_payload = server
            .get(&format!("/api/v1/verify?payload={}", encode(&payload)))
            .json();
        assert_eq!(by_payload["verdict"], verdict, "{payload}");
    }
    let genuine = server.get(&format!("/api/v1/verify?{}", qr.split_once('?').unwrap().1));
    assert_eq!(genuine.header("content-type"), Some("application/json"));
    let json = genuine.json();
    assert_eq!(json["in_force"], true);
    assert_eq!(json["registry"], "kkm");
    assert_eq!(json["number"], number);
    assert_eq!(
        json["document"]["holder"]["name"]["ru"],
        record["holder"]["ru"]
    );
    assert!(json["checkpoint"].as_u64().unwrap() >= record["seq"].as_u64().unwrap());
    assert!(
        json["download"]
            .as_str()
            .unwrap()
            .starts_with("/verify/pdf?")
    );
    // A request that is no payload at all is refused, as JSON.
    let bad = server.get("/api/v1/verify?r=kkm");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["status"], 400);
}

#[test]
fn an_uploaded_pdf_gets_the_same_verdict_and_a_changed_byte_makes_it_unknown() {
    let project = samples();
    let server = Server::start(project, &[]);
    let record = pick(project, "e-register", |_| true);
    let file = project.out().join(record["pdf"]["file"].as_str().unwrap());
    let bytes = std::fs::read(&file).unwrap();
    let answer = server.upload("document.pdf", &bytes);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.verdict(), "genuine");
    let page = answer.text();
    assert!(page.contains("Құжат түпнұсқа және күшінде"));
    assert!(page.contains(record["number"].as_str().unwrap()));
    // The samples here are issued unsigned.
    assert!(page.contains("data-signature=\"unsigned\""), "{page}");
    assert!(page.contains("Электронная цифровая подпись: отсутствует."));
    let mut changed = bytes.clone();
    let at = changed.len() / 2;
    changed[at] ^= 1;
    let answer = server.upload("document.pdf", &changed);
    assert_eq!(answer.verdict(), "unknown");
    assert!(
        !answer
            .text()
            .contains(record["holder"]["ru"].as_str().unwrap())
    );
    // The API takes the bytes as the body.
    let json = server
        .post("/api/v1/verify-pdf", "application/pdf", &bytes)
        .json();
    assert_eq!(json["verdict"], "genuine");
    assert_eq!(json["number"], record["number"]);
    assert_eq!(json["signature"]["state"], "unsigned");
    assert!(
        json.get("download").is_none(),
        "the uploader has the PDF already"
    );
    let json = server
        .post("/api/v1/verify-pdf", "application/pdf", &changed)
        .json();
    assert_eq!(json["verdict"], "unknown");
}

#[test]
fn the_apostille_register_answers_a_number_with_its_date_only() {
    let project = samples();
    let server = Server::start(project, &[]);
    let record = pick(project, "apostille", |r| r["document"] == "apostille");
    let number = record["number"].as_str().unwrap();
    let issued = record["issued"].as_str().unwrap();
    let answer = server.get(&format!("/apostille?n={}&d={issued}", encode(number)));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.verdict(), "genuine");
    let page = answer.text();
    assert!(
        page.contains("The document is genuine and in force"),
        "{page}"
    );
    assert!(page.contains("Документ подлинный и действует"));
    let pd = &record["data"]["case"]["public_document"];
    assert!(page.contains(pd["signer"].as_str().unwrap()), "{page}");
    assert!(page.contains("Acting in the capacity of"));
    assert!(page.contains(pd["number"].as_str().unwrap()));
    // The applicant is never shown on the register.
    let applicant = &record["data"]["case"]["applicant"];
    assert!(
        !page.contains(applicant["name"]["ru"].as_str().unwrap()),
        "{page}"
    );
    if let Some(iin) = applicant["iin"].as_str() {
        assert!(!page.contains(&iin[..6]));
    }
    // The date in the Kazakh/Russian form works too.
    let parts: Vec<&str> = issued.split('-').collect();
    let dmy = format!("{}.{}.{}", parts[2], parts[1], parts[0]);
    assert_eq!(
        server
            .get(&format!("/apostille?n={}&d={dmy}", encode(number)))
            .verdict(),
        "genuine"
    );
    // Another date, or no such number: the same answer, which says nothing of the number.
    let wrong_date = server.get(&format!("/apostille?n={}&d=2020-01-01", encode(number)));
    let no_number = server.get("/apostille?n=1999-999999&d=2020-01-01");
    for answer in [&wrong_date, &no_number] {
        assert_eq!(answer.status, 200);
        assert_eq!(answer.verdict(), "unknown");
        assert!(
            answer
                .text()
                .contains("No apostille with this number and date is in the register")
        );
    }
    let strip = |a: &Answer| {
        a.text()
            .replace(&encode(number), "")
            .replace(number, "")
            .replace("1999-999999", "")
    };
    assert_eq!(
        strip(&wrong_date),
        strip(&no_number),
        "the two answers differ"
    );
    // The JSON register.
    let json = server
        .get(&format!(
            "/api/v1/apostille?n={}&d={issued}",
            encode(number)
        ))
        .json();
    assert_eq!(json["verdict"], "genuine");
    assert_eq!(json["apostille"]["signed_by"], pd["signer"]);
    assert!(
        json.get("document").is_none(),
        "holder data on the register: {json}"
    );
    let json = server
        .get("/api/v1/apostille?n=1999-999999&d=2020-01-01")
        .json();
    assert_eq!(json["verdict"], "unknown");
    assert_eq!(server.get("/api/v1/apostille?n=1&d=yesterday").status, 400);
}

#[test]
fn every_answer_carries_the_security_headers_and_pages_name_only_the_services_own_files() {
    let project = samples();
    let server = Server::start(project, &[]);
    let record = pick(project, "media", |_| true);
    for target in [
        "/".to_string(),
        server.local(record["qr"].as_str().unwrap()),
        "/upload".into(),
        "/apostille".into(),
        "/nowhere".into(),
        "/static/style.css".into(),
        "/api/v1/verify?r=x".into(),
    ] {
        let answer = server.get(&target);
        let csp = answer.header("content-security-policy").unwrap_or_default();
        assert!(csp.starts_with("default-src 'none'"), "{target}: {csp}");
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
        assert!(answer.header("strict-transport-security").is_some());
        let text = answer.text();
        for external in ["http://", "https://", "//fonts", "<script"] {
            assert!(!text.contains(external), "{target}: {external} in {text}");
        }
        reveals_nothing_internal(&answer, project.path());
    }
    // Pages are never cached (they name people); the fonts and styles are.
    let page = server.get(&server.local(record["qr"].as_str().unwrap()));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let css = server.get("/static/style.css");
    assert!(
        css.text()
            .contains("/static/fonts/LiberationSerif-Regular.ttf")
    );
    let font = server.get("/static/fonts/LiberationSerif-Regular.ttf");
    assert_eq!(font.status, 200);
    assert_eq!(
        font.body,
        std::fs::read(crate::util::repo().join("fonts/LiberationSerif-Regular.ttf")).unwrap()
    );
    assert_eq!(server.get("/static/fonts/DejaVuSerif.ttf").status, 404);
}

#[test]
fn health_and_metrics_count_requests_verdicts_and_latency() {
    let project = samples();
    let server = Server::start(project, &[]);
    let health = server.get("/healthz");
    assert_eq!(health.status, 200);
    assert!(health.text().starts_with("ok: "), "{}", health.text());
    let record = pick(project, "software", |_| true);
    let qr = record["qr"].as_str().unwrap();
    server.get(&server.local(qr));
    server.get(&server.local(qr));
    server.get(&server.local(&with_content(qr, &"ee".repeat(32))));
    let metrics = server.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.text();
    assert!(
        text.contains("qujat_serve_requests_total{route=\"qr\",status=\"200\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("qujat_serve_verdicts_total{verdict=\"genuine\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("qujat_serve_verdicts_total{verdict=\"altered\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("qujat_serve_request_duration_seconds_count{route=\"qr\"} 3\n"),
        "{text}"
    );
    assert!(text.contains("qujat_serve_requests_total{route=\"healthz\",status=\"200\"} 1\n"));
    // Nothing personal and no query in the metrics.
    assert!(!text.contains(record["number"].as_str().unwrap()));
}

/// A case for a new document, issued by a second batch while the service runs.
fn later_case() -> String {
    crate::util::media_case("MR-2026-0901", "2026-11-25", "Жаңа газет")
}

#[test]
fn the_service_is_never_in_a_batchs_way_and_sees_its_records_without_a_restart() {
    let project = Project::new();
    project.write_case(
        "first.xml",
        &crate::util::media_case("MR-2026-0900", "2026-11-24", "Бірінші газет"),
    );
    let run = project.batch(&["--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let server = Server::start(&project, &[]);
    let first = project.records("media")[0].clone();
    assert_eq!(
        server
            .get(&server.local(first["qr"].as_str().unwrap()))
            .verdict(),
        "genuine"
    );
    // While the service answers, a writer holds the registry's lock: the service still answers,
    // and the writer got its lock (the service never takes it).
    {
        let store = project.store();
        let _writer = store
            .appender("media", Duration::ZERO)
            .expect("the service does not hold the writer's lock");
        assert_eq!(
            server
                .get(&server.local(first["qr"].as_str().unwrap()))
                .verdict(),
            "genuine"
        );
    }
    // A second batch while the service runs: its document is seen without a restart.
    project.write_case("second.xml", &later_case());
    let run = project.batch(&["--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let second = project.records("media")[1].clone();
    let target = server.local(second["qr"].as_str().unwrap());
    let started = Instant::now();
    loop {
        let verdict = server.get(&target).verdict();
        if verdict == "genuine" {
            break;
        }
        // The service sees a new checkpoint within a second; a loaded machine gets ten.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still {verdict} 10 s after the batch"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A status change is seen too.
    let number = second["number"].as_str().unwrap();
    let run = project.qujat(&[
        "registry",
        "set-status",
        "--registry",
        "media",
        "--number",
        number,
        "--status",
        "suspended",
        "--date",
        "2026-11-26",
        "--reason",
        "суд шешімі / решение суда",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let started = Instant::now();
    loop {
        let page = server.get(&target).text();
        if page.contains("Документ подлинный, но его действие приостановлено с 26.11.2026")
        {
            assert!(
                page.contains("оның қолданылуы 26.11.2026 бастап тоқтатыла тұрды"),
                "{page}"
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{page}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_record_the_registrys_history_does_not_hold_is_not_genuine() {
    // A record rewritten in place with a hash of its own: its line is whole, but the record after
    // it names the original, so it is disowned.
    let project = Project::new();
    for (i, title) in ["Бірінші", "Екінші", "Үшінші"].iter().enumerate() {
        project.write_case(
            &format!("{i}.xml"),
            &crate::util::media_case(&format!("MR-2026-091{i}"), "2026-11-24", title),
        );
    }
    assert_eq!(project.batch(&["--quiet"]).code, 0);
    let journal = project.journal_path("media");
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut value: Value = serde_json::from_str(&lines[1]).unwrap();
    let record = &mut value["record"];
    let holder = record["holder"]["ru"]
        .as_str()
        .unwrap()
        .replace("Алаш", "Алаж");
    record["holder"]["ru"] = holder.into();
    let canonical = qujat::registry::canonical(record);
    lines[1] = format!(
        "{{\"hash\":\"{}\",\"record\":{canonical}}}",
        sha256_hex(canonical.as_bytes())
    );
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let server = Server::start(&project, &[]);
    let qr = value["record"]["qr"].as_str().unwrap();
    let answer = server.get(&server.local(qr));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.verdict(), "disowned");
    let page = answer.text();
    assert!(page.contains("Документ не подлинный: его записи нет в проверенной истории реестра"));
    assert!(
        !page.contains("Алаж"),
        "a disowned record's holder is shown"
    );
    reveals_nothing_internal(&answer, project.path());
}
