//! Hostile requests against `qujat serve`, sent byte for byte on a socket: path traversal (raw,
//! percent-encoded, double-encoded, backslashes, NUL), overlong and malformed URLs and
//! percent-encoding, malformed request lines, header floods, huge and slow uploads, slow heads and
//! idle connections, too many connections, non-PDF and malformed PDFs, PDF bombs (an upload's
//! signature is read by a parser with bounds on nesting, updates and inflated bytes, so a bomb
//! costs at most those), the rate limit.
//! After every one the service must still answer, never with an internal error, and no answer
//! may show a path or anything internal.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::serve::{Answer, Server, reveals_nothing_internal, samples};

/// The first 64 hex digits of a content hash, for payloads that must parse.
fn c() -> String {
    "ab".repeat(32)
}

#[track_caller]
fn still_up(server: &Server) {
    let health = server.get("/healthz");
    assert_eq!(health.status, 200, "the service stopped answering");
    let log = server.log.lock().unwrap();
    assert!(!log.contains("panicked"), "the service panicked:\n{log}");
}

#[test]
fn traversal_in_any_encoding_reaches_no_file() {
    let project = samples();
    let server = Server::start(project, &[]);
    let targets = [
        "/static/../../../../etc/passwd".to_string(),
        "/static/fonts/../../qujat.toml".into(),
        "/static/fonts/..%2F..%2F..%2Fetc%2Fpasswd".into(),
        "/static/fonts/%2e%2e%2f%2e%2e%2fqujat.toml".into(),
        "/static/fonts/%252e%252e%252f%252e%252e%252fqujat.toml".into(),
        "/static/fonts/..%5c..%5cqujat.toml".into(),
        "/static/fonts/..\\..\\qujat.toml".into(),
        "/static/fonts/LiberationSerif-Regular.ttf%00.css".into(),
        "/static/fonts/LiberationSerif-Regular.ttf%2500".into(),
        "/static/fonts/%2Fetc%2Fpasswd".into(),
        "/static/fonts/.%2e/.%2e/qujat.toml".into(),
        "//etc/passwd".into(),
        "/verify/../qujat.toml".into(),
        "/%2e%2e/%2e%2e/etc/passwd".into(),
        format!("/verify/pdf?r=..%2F..%2F..%2Fetc&n=passwd&c={}", c()),
        format!("/verify/pdf?r=media&n=..%2F..%2Fqujat.toml&c={}", c()),
        format!("/verify/pdf?r=%2Fetc&n=passwd&c={}", c()),
        format!("/verify?r=..%2Fregistry%2Fmedia&n=1&c={}", c()),
        format!("/verify?r=media%00&n=1&c={}", c()),
        format!("/verify?r=templates&n=1&c={}", c()),
        format!("/verify/pdf?r=media%5c..%5c..&n=1&c={}", c()),
        "/apostille?n=..%2F..%2Fetc%2Fpasswd&d=2026-11-13".into(),
        "/api/v1/apostille?n=%00&d=2026-11-13".into(),
    ];
    let toml = std::fs::read_to_string(project.path().join("qujat.toml")).unwrap();
    for target in &targets {
        let answer = server.get(target);
        assert!(
            matches!(answer.status, 200 | 400 | 404),
            "{target}: {} {}",
            answer.status,
            answer.text()
        );
        assert!(
            answer.status != 200
                || answer.text().contains("data-verdict=\"unknown\"")
                || target.starts_with("/api")
                || target.starts_with("/apostille"),
            "{target}: {}",
            answer.text()
        );
        let text = answer.text();
        assert!(!text.contains("root:"), "{target}: /etc/passwd served");
        assert!(
            !text.contains(toml.lines().nth(1).unwrap()),
            "{target}: qujat.toml served"
        );
        assert_ne!(answer.header("content-type"), Some("font/ttf"), "{target}");
        assert_ne!(
            answer.header("content-type"),
            Some("application/pdf"),
            "{target}"
        );
        reveals_nothing_internal(&answer, project.path());
    }
    // The same in the request line itself, where no client library would let them through.
    for raw in [
        "GET /static/fonts/../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET http://qujat.test/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET ../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /static/fonts/\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let answer = server.raw(raw.as_bytes());
        assert!(
            matches!(answer.status, 0 | 400 | 404),
            "{raw:?}: {}",
            answer.status
        );
        assert!(!answer.text().contains("root:"));
    }
    still_up(&server);
}

#[test]
fn overlong_and_malformed_urls_and_request_lines_are_refused_plainly() {
    let project = samples();
    let server = Server::start(project, &[]);
    let long = format!("/verify?r=media&n={}&c={}", "9".repeat(10_000), c());
    assert_eq!(server.get(&long).status, 414);
    let longer = format!("/verify?r=media&n={}&c={}", "9".repeat(40_000), c());
    assert!(matches!(server.get(&longer).status, 0 | 414 | 431));
    for target in [
        format!("/verify?r=media&n=%G1&c={}", c()),
        format!("/verify?r=media&n=%&c={}", c()),
        format!("/verify?r=media&n=%FF%FE&c={}", c()),
        format!("/verify?r=media&n=1&c={}", "z".repeat(64)),
        "/verify?r=media&n=1&c=".into(),
        "/verify?r=media&r=kkm&n=1&c=0".into(),
        "/verify".into(),
        "/verify?".into(),
        "/verify/pdf".into(),
        format!("/api/v1/verify?payload=%G1{}", c()),
        "/apostille?n=%FF&d=%FF".into(),
        "/api/v1/apostille?n=1".into(),
    ] {
        let answer = server.get(&target);
        assert!(
            matches!(answer.status, 200 | 400 | 404),
            "{target}: {}",
            answer.status
        );
        reveals_nothing_internal(&answer, project.path());
    }
    for raw in [
        "GARBAGE\r\n\r\n".as_bytes(),
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
        b"POST /api/v1/verify-pdf HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all",
        b"G\xc3\x28T / HTTP/1.1\r\n\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        b"DELETE /verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let answer = server.raw(raw);
        assert!(
            answer.status == 0 || (400..500).contains(&answer.status),
            "{:?}: {}",
            String::from_utf8_lossy(raw),
            answer.status
        );
        reveals_nothing_internal(&answer, project.path());
    }
    still_up(&server);
}

#[test]
fn header_floods_are_refused() {
    let project = samples();
    let server = Server::start(project, &[]);
    let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..500 {
        many.push_str(&format!("X-Flood-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    assert_eq!(server.raw(many.as_bytes()).status, 431);
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    assert!(matches!(server.raw(big.as_bytes()).status, 0 | 431));
    still_up(&server);
}

/// Writes `request` then reads the answer, tolerating a server that answers (and closes)
/// before the request is all sent.
fn send_partly(server: &Server, request: &[u8]) -> (Answer, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let request = request.to_vec();
    let sender = std::thread::spawn(move || {
        for chunk in request.chunks(64 * 1024) {
            if writer.write_all(chunk).is_err() {
                break;
            }
        }
    });
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let took = started.elapsed();
    let _ = sender.join();
    (super::serve::parse_answer(&bytes), took)
}

#[test]
fn huge_uploads_are_refused_before_they_are_read() {
    let project = samples();
    let server = Server::start(project, &["--max-upload-mb", "1"]);
    let mut body = b"%PDF-1.7\n".to_vec();
    body.resize(3 << 20, b'x');
    // Declared too large: refused at once.
    let request = format!(
        "POST /api/v1/verify-pdf HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        100u64 << 30
    );
    let (answer, _) = send_partly(&server, request.as_bytes());
    assert_eq!(answer.status, 413);
    // Sent in full, or chunked with no length: counted as it comes, refused past the limit.
    let mut request = format!(
        "POST /api/v1/verify-pdf HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    assert_eq!(send_partly(&server, &request).0.status, 413);
    let mut chunked = b"POST /api/v1/verify-pdf HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for chunk in body.chunks(100_000) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(send_partly(&server, &chunked).0.status, 413);
    // The form too.
    let boundary = "b0undary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"a.pdf\"\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(&body);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        form.len()
    )
    .into_bytes();
    request.extend_from_slice(&form);
    let (answer, _) = send_partly(&server, &request);
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert!(answer.text().contains("Файл слишком большой"));
    still_up(&server);
}

#[test]
fn slow_clients_cannot_hold_a_connection() {
    let project = samples();
    let server = Server::start(project, &["--head-timeout", "2", "--request-timeout", "3"]);
    // An idle connection is closed after the head timeout.
    let started = Instant::now();
    let mut idle = TcpStream::connect(server.addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 256];
    let _ = idle.read(&mut buf);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "idle connection held {took:?}"
    );
    // A head sent a header at a time, slower than the timeout allows.
    let started = Instant::now();
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut closed = false;
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(500));
        if slow
            .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .is_err()
        {
            closed = true;
            break;
        }
    }
    let _ = slow.read(&mut buf);
    let took = started.elapsed();
    assert!(
        closed || took < Duration::from_secs(6),
        "slow head held {took:?}"
    );
    assert!(took < Duration::from_secs(8), "slow head held {took:?}");
    // A body that trickles in: answered 408 at the request timeout, and closed.
    let started = Instant::now();
    let mut trickle = TcpStream::connect(server.addr).unwrap();
    trickle
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    trickle
        .write_all(b"POST /api/v1/verify-pdf HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n%PDF-1.7\n")
        .unwrap();
    let mut writer = trickle.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(250));
            if writer.write_all(b"x").is_err() {
                break;
            }
        }
    });
    let mut bytes = Vec::new();
    let _ = trickle.read_to_end(&mut bytes);
    let took = started.elapsed();
    let answer = super::serve::parse_answer(&bytes);
    assert_eq!(answer.status, 408, "{}", answer.text());
    assert!(took < Duration::from_secs(6), "slow body held {took:?}");
    let _ = feeder.join();
    still_up(&server);
}

#[test]
fn connections_are_bounded_in_all_and_per_client() {
    let project = samples();
    let server = Server::start(project, &["--max-connections-per-client", "3"]);
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // The fourth is closed at once, without an answer.
    let mut fourth = TcpStream::connect(server.addr).unwrap();
    fourth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = fourth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut bytes = Vec::new();
    let _ = fourth.read_to_end(&mut bytes);
    assert!(bytes.is_empty(), "{}", String::from_utf8_lossy(&bytes));
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    still_up(&server);
    let metrics = server.get("/metrics").text();
    assert!(
        metrics.contains("qujat_serve_connections_refused_total 1\n"),
        "{metrics}"
    );
}

/// A zlib stream that inflates to `repeats` × 258 zero bytes (plus one): fixed-Huffman
/// back-references of length 258 at distance 1, 13 bits each.
/// A well-formed PDF whose signature fields, 5,000 of them, are one object in an object stream
/// that inflates to 10 MB: read naively, every field inflates the stream again (50 GB in all).
/// The signature check's parser has one inflation budget per file (16 MiB), so it gives up at
/// the second.
fn object_stream_bomb() -> Vec<u8> {
    use std::io::Write as _;
    let header = b"4 0 ";
    let mut inflated = header.to_vec();
    inflated.extend_from_slice(b"<< /FT /Sig /V << /Type /Sig >> >>");
    inflated.resize(10 << 20, b' ');
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&inflated).unwrap();
    let stream = z.finish().unwrap();
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    offsets.push(pdf.len());
    pdf.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 3 0 R /AcroForm << /Fields [");
    for _ in 0..5000 {
        pdf.extend_from_slice(b" 4 0 R");
    }
    pdf.extend_from_slice(b" ] /SigFlags 3 >> >>\nendobj\n");
    offsets.push(pdf.len());
    pdf.extend_from_slice(
        format!(
            "2 0 obj\n<< /Type /ObjStm /N 1 /First {} /Length {} /Filter /FlateDecode >>\nstream\n",
            header.len(),
            stream.len()
        )
        .as_bytes(),
    );
    pdf.extend_from_slice(&stream);
    pdf.extend_from_slice(b"\nendstream\nendobj\n");
    offsets.push(pdf.len());
    pdf.extend_from_slice(b"3 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n");
    let xref_at = pdf.len();
    // The cross-reference stream (object 5): /W [1 4 2], unfiltered.
    let mut rows = Vec::new();
    let mut row = |kind: u8, field: u32, index: u16| {
        rows.push(kind);
        rows.extend_from_slice(&field.to_be_bytes());
        rows.extend_from_slice(&index.to_be_bytes());
    };
    row(0, 0, 65535);
    for &offset in &offsets {
        row(1, offset as u32, 0);
    }
    row(2, 2, 0);
    row(1, xref_at as u32, 0);
    pdf.extend_from_slice(
        format!(
            "5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
            rows.len()
        )
        .as_bytes(),
    );
    pdf.extend_from_slice(&rows);
    pdf.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    pdf
}

fn deflate_bomb(repeats: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        // Values are written least significant bit first.
        fn put(&mut self, value: u64, bits: u32) {
            self.acc |= value << self.n;
            self.n += bits;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        // Huffman codes are written most significant bit first.
        fn code(&mut self, code: u64, bits: u32) {
            let mut reversed = 0;
            for i in 0..bits {
                reversed |= ((code >> i) & 1) << (bits - 1 - i);
            }
            self.put(reversed, bits);
        }
    }
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman
    bits.code(0x30, 8); // literal 0
    for _ in 0..repeats {
        bits.code(0b1100_0101, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block (256)
    if bits.n > 0 {
        bits.put(0, 8 - bits.n);
    }
    bits.out.extend_from_slice(&[0, 0, 0, 0]); // Adler-32: not checked by a reader that stops
    bits.out
}

#[test]
fn non_pdfs_malformed_pdfs_and_pdf_bombs_are_answered_at_once() {
    let project = samples();
    // Many uploads in a row: more than the default rate limit allows one client.
    let server = Server::start(project, &["--rate-limit", "0"]);
    // Not a PDF.
    for bytes in [
        b"GIF89a not a pdf".to_vec(),
        b"".to_vec(),
        vec![0u8; 4096],
        b"<html><script>alert(1)</script></html>".to_vec(),
    ] {
        let answer = server.upload("x.pdf", &bytes);
        assert_eq!(answer.status, 415, "{}", answer.text());
        assert!(answer.text().contains("Это не PDF-файл"));
        assert_eq!(
            server
                .post("/api/v1/verify-pdf", "application/pdf", &bytes)
                .status,
            415
        );
    }
    // Malformed PDFs and bombs: a verdict (unknown), at once, whatever they claim.
    let nested = {
        let mut pdf = b"%PDF-1.7\n1 0 obj\n".to_vec();
        pdf.extend(std::iter::repeat_n(b'[', 2_000_000));
        pdf.extend_from_slice(b"\nendobj\n%%EOF\n");
        pdf
    };
    let xref_claim = b"%PDF-1.7\nxref\n0 999999999999\n0000000000 65535 f \ntrailer\n<< /Size 999999999999 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n".to_vec();
    let bomb = {
        let stream = deflate_bomb(2_000_000); // ~500 MB inflated, ~3 MB here
        let mut pdf = format!(
            "%PDF-1.7\n1 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .into_bytes();
        pdf.extend_from_slice(&stream);
        pdf.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
        pdf
    };
    let truncated = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog".to_vec();
    let object_stream_bomb = object_stream_bomb();
    let recursive = b"%PDF-1.7\n1 0 obj\n<< /Pages 1 0 R /Kids [1 0 R] >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec();
    for (name, bytes) in [
        ("nested", &nested),
        ("xref", &xref_claim),
        ("bomb", &bomb),
        ("object stream bomb", &object_stream_bomb),
        ("truncated", &truncated),
        ("recursive", &recursive),
    ] {
        let started = Instant::now();
        let answer = server.upload("x.pdf", bytes);
        let took = started.elapsed();
        assert_eq!(answer.status, 200, "{name}: {}", answer.text());
        assert_eq!(answer.verdict(), "unknown", "{name}");
        assert!(
            answer.text().contains("data-signature=\"unreadable\""),
            "{name}: {}",
            answer.text()
        );
        assert!(took < Duration::from_secs(3), "{name} took {took:?}");
        let json = server
            .post("/api/v1/verify-pdf", "application/pdf", bytes)
            .json();
        assert_eq!(json["verdict"], "unknown", "{name}");
    }
    // Neither bomb was inflated whole, nor the object stream again and again: the service's
    // peak memory stays far below what they hold.
    let pid = server.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(peak_kb < 200 * 1024, "peak memory {peak_kb} kB");
    still_up(&server);
}

#[test]
fn a_client_over_its_rate_is_told_to_wait_and_others_are_not() {
    let project = samples();
    let server = Server::start(project, &["--rate-limit", "0.01", "--rate-burst", "5"]);
    let target = format!("/verify?r=media&n=1&c={}", c());
    let statuses: Vec<u16> = (0..8).map(|_| server.get(&target).status).collect();
    assert_eq!(&statuses[..5], &[200; 5], "{statuses:?}");
    let refused = server.get(&target);
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").is_some());
    assert!(refused.text().contains("Слишком много запросов"));
    // The page's style and fonts, health and metrics are not counted.
    assert_eq!(server.get("/static/style.css").status, 200);
    assert_eq!(server.get("/healthz").status, 200);
    // Behind a proxy (opt-in), clients are told apart by X-Forwarded-For.
    let proxied = Server::start(
        project,
        &[
            "--rate-limit",
            "0.01",
            "--rate-burst",
            "5",
            "--trust-x-forwarded-for",
        ],
    );
    let from = |ip: &str| {
        proxied
            .raw(
                format!(
                    "GET {target} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {ip}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .status
    };
    for _ in 0..5 {
        assert_eq!(from("203.0.113.1"), 200);
    }
    assert_eq!(from("203.0.113.1"), 429);
    assert_eq!(from("203.0.113.2"), 200);
    // Without the flag, the header is ignored: one client.
    let direct: Vec<u16> = ["203.0.113.7", "203.0.113.8", "203.0.113.9"]
        .iter()
        .map(|ip| {
            server
                .raw(format!("GET {target} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {ip}\r\nConnection: close\r\n\r\n").as_bytes())
                .status
        })
        .collect();
    assert!(direct.iter().all(|&s| s == 429), "{direct:?}");
}
