//! The service's routes and the frame every request passes through: the URL length bound, the
//! per-client rate limit, the request timeout, the security headers, metrics and the access log.
//! Handlers look documents up on the blocking pool (the registry reads files and its index) and
//! answer with a page or JSON made from a [`public::Answer`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::metrics::{Metrics, Route};
use super::pages;
use super::public::{self, Answer, Shown, SignatureView};
use super::rate::Limiter;
use super::registries::{self, Registries};
use crate::commands::verify::Verdict;
use crate::qr::Payload;
use crate::sign::check::SignatureTrust;

/// The longest request target (path and query) answered: a QR payload is under 300 bytes.
pub const MAX_URI: usize = 2048;

/// How many tokens of a client's bucket an upload takes (it reads up to the upload limit).
const UPLOAD_COST: f64 = 5.0;

/// The address a connection came from, put on each request by the listener.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// What the routes need.
pub struct App {
    pub registries: Registries,
    pub metrics: Metrics,
    pub limiter: Option<Limiter>,
    /// The path the QR codes point at (`/verify`, from `verify_url`).
    pub verify_path: String,
    /// The registry the apostille register reads.
    pub apostille_registry: String,
    pub max_upload: usize,
    pub request_timeout: Duration,
    /// Take the client's address from the last `X-Forwarded-For` entry (behind a proxy that
    /// sets it), not from the connection.
    pub trust_forwarded_for: bool,
    pub access_log: bool,
    pub fonts: Vec<(&'static str, Bytes)>,
    pub incidents: AtomicU64,
    /// What uploaded PDFs' signatures are checked against (`[signing]`'s trust store and CRL).
    pub signatures: SignatureTrust,
    /// The memory all uploads being read may hold together, in KiB: each takes what it has
    /// received, as it arrives, and gives it back when answered.
    pub upload_memory: tokio::sync::Semaphore,
}

/// What all uploads being read may hold at once, in KiB (256 MiB: sixteen uploads at the
/// default limit of 16 MiB). Past it, an upload is answered 503 at once: a slow client holds
/// only what it has sent.
pub const UPLOAD_MEMORY_KIB: usize = 256 << 10;

/// The stylesheet, compiled in.
const STYLE: &str = include_str!("assets/style.css");

/// The fonts the stylesheet names, read from the fonts folder at start-up.
pub const FONT_FILES: [&str; 2] = ["LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"];

/// The router of `app`.
pub fn router(app: Arc<App>) -> Router {
    let verify = app.verify_path.clone();
    Router::new()
        .route("/", get(home))
        .route(&verify, get(qr_page))
        .route(&format!("{verify}/pdf"), get(download))
        .route("/upload", get(upload_form).post(upload))
        .route("/apostille", get(apostille_page))
        .route("/api/v1/verify", get(api_verify))
        .route("/api/v1/verify-pdf", axum::routing::post(api_verify_pdf))
        .route("/api/v1/apostille", get(api_apostille))
        .route("/static/style.css", get(style))
        .route("/static/fonts/{name}", get(font))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(app.max_upload))
        .layer(middleware::from_fn_with_state(app.clone(), frame))
        .with_state(app)
}

impl App {
    /// Which route a path is, for metrics, the rate limit and error bodies (before routing, so
    /// that refusals are counted by route too).
    fn route_of(&self, method: &Method, path: &str) -> Route {
        let verify = self.verify_path.as_str();
        match path {
            "/" => Route::Home,
            p if p == verify => Route::Qr,
            p if p.strip_prefix(verify) == Some("/pdf") => Route::Pdf,
            "/upload" if method == Method::POST => Route::Upload,
            "/upload" => Route::UploadForm,
            "/apostille" => Route::Apostille,
            "/api/v1/verify" => Route::ApiVerify,
            "/api/v1/verify-pdf" => Route::ApiPdf,
            "/api/v1/apostille" => Route::ApiApostille,
            "/healthz" => Route::Health,
            "/metrics" => Route::Metrics,
            p if p.starts_with("/static/") => Route::Static,
            _ => Route::Other,
        }
    }

    /// The client a request is counted against.
    fn client(&self, request: &Request) -> Option<IpAddr> {
        if self.trust_forwarded_for
            && let Some(ip) = forwarded_for(request.headers())
        {
            return Some(ip);
        }
        request.extensions().get::<ClientAddr>().map(|a| a.0.ip())
    }

    /// A new incident number, for an internal error logged with it.
    fn incident(&self, what: &str, err: &anyhow::Error) -> u64 {
        let n = self.incidents.fetch_add(1, Ordering::Relaxed) + 1;
        self.metrics.internal_errors.fetch_add(1, Ordering::Relaxed);
        eprintln!("qujat serve: incident {n}: {what}: {err:#}");
        n
    }

    fn count(&self, verdict: &Verdict) {
        self.metrics.verdict(public::verdict_name(verdict));
    }
}

/// The last address of the last `X-Forwarded-For` header: the one the proxy in front of qujat
/// added (earlier entries are the client's own claims).
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    let entry = last.to_str().ok()?.rsplit(',').next()?.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// What every request passes through.
async fn frame(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = app.route_of(request.method(), request.uri().path());
    let api = request.uri().path().starts_with("/api/");
    let target_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    let mut response = if target_len > MAX_URI {
        failure(StatusCode::URI_TOO_LONG, api, None)
    } else if let Some(wait) = rate_limited(&app, route, &request) {
        app.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut response = failure(StatusCode::TOO_MANY_REQUESTS, api, None);
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    } else {
        match tokio::time::timeout(app.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                let mut response = failure(StatusCode::REQUEST_TIMEOUT, api, None);
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                response
            }
        }
    };
    secure(response.headers_mut(), route);
    let took = started.elapsed();
    app.metrics.request(route, response.status().as_u16(), took);
    if app.access_log {
        // The route's name, never the query: a QR code's content hash is a proof of possession.
        eprintln!(
            "qujat serve: {} {} {} {:.1} ms",
            route.name(),
            response.status().as_u16(),
            if api { "api" } else { "page" },
            took.as_secs_f64() * 1e3
        );
    }
    response
}

fn rate_limited(app: &App, route: Route, request: &Request) -> Option<Duration> {
    let limiter = app.limiter.as_ref()?;
    if !route.reads_registries() {
        return None;
    }
    let client = app.client(request)?;
    let cost = if request.method() == Method::POST {
        UPLOAD_COST
    } else {
        1.0
    };
    limiter.take(client, cost, Instant::now()).err()
}

/// The headers every answer carries.
fn secure(headers: &mut HeaderMap, route: Route) {
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(
        headers,
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "cross-origin-resource-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    if route != Route::Static {
        // Answers name people: no cache keeps them.
        set(headers, "cache-control", "no-store");
    }
}

/// An error answer: a page, or JSON under `/api/`. Never a path or an internal message.
fn failure(status: StatusCode, api: bool, incident: Option<u64>) -> Response {
    if api {
        let mut body = serde_json::json!({
            "error": status.canonical_reason().unwrap_or("error").to_lowercase(),
            "status": status.as_u16(),
        });
        if let Some(n) = incident {
            body["incident"] = n.into();
        }
        (status, axum::Json(body)).into_response()
    } else {
        html(status, pages::error(status.as_u16(), incident))
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn json(status: StatusCode, answer: &Answer) -> Response {
    (status, axum::Json(answer)).into_response()
}

/// Runs a registry lookup where the request is being answered. A lookup by number reads a few
/// index rows and records, which the page cache holds: a fraction of a millisecond, less than
/// handing it to the blocking pool and back costs (measured: a fifth of the service's CPU under
/// load went to that hand-off). A panic is an incident, as on the pool. Uploads and downloads,
/// which read or hash megabytes, go to the pool ([`blocking`]).
fn inline<T>(
    app: &App,
    what: &'static str,
    api: bool,
    work: impl FnOnce(&App) -> anyhow::Result<T>,
) -> Result<T, Response> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(app))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => {
            let n = app.incident(what, &err);
            Err(failure(StatusCode::INTERNAL_SERVER_ERROR, api, Some(n)))
        }
        Err(_) => {
            let n = app.incident(what, &anyhow::anyhow!("the lookup panicked"));
            Err(failure(StatusCode::INTERNAL_SERVER_ERROR, api, Some(n)))
        }
    }
}

/// Runs a registry lookup on the blocking pool.
async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    what: &'static str,
    api: bool,
    work: impl FnOnce(&App) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, Response> {
    let app2 = app.clone();
    match tokio::task::spawn_blocking(move || work(&app2)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => {
            let n = app.incident(what, &err);
            Err(failure(StatusCode::INTERNAL_SERVER_ERROR, api, Some(n)))
        }
        Err(err) => {
            let n = app.incident(what, &anyhow::anyhow!("the lookup failed: {err}"));
            Err(failure(StatusCode::INTERNAL_SERVER_ERROR, api, Some(n)))
        }
    }
}

/// The QR payload a request carries: its own path and query, read as `qujat verify --payload`
/// reads a scanned code (both forms of the content hash).
fn payload_of(uri: &Uri) -> Option<Payload> {
    let query = uri.query()?;
    Payload::parse(&format!("{}?{query}", uri.path())).ok()
}

/// The query's pairs, decoded; `None` if it cannot be decoded.
fn pairs(query: Option<&str>) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_str(query.unwrap_or("")).ok()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn home() -> Response {
    html(StatusCode::OK, pages::home())
}

/// The page behind the QR code.
async fn qr_page(State(app): State<Arc<App>>, uri: Uri) -> Response {
    let Some(payload) = payload_of(&uri) else {
        return failure(StatusCode::BAD_REQUEST, false, None);
    };
    let looked = inline(&app, "a QR lookup", false, |app| {
        app.registries.payload(&payload)
    });
    let (verdict, pdf) = match looked {
        Ok(found) => found,
        Err(response) => return response,
    };
    app.count(&verdict);
    let answer = Answer::new(
        &verdict,
        Shown::ContentHash,
        Some((&payload.registry, &payload.number)),
    );
    let download = pdf.map(|_| download_href(&app, &payload));
    html(
        StatusCode::OK,
        pages::verdict_page(&answer, download.as_deref(), false),
    )
}

fn download_href(app: &App, payload: &Payload) -> String {
    format!(
        "{}/pdf?r={}&n={}&c={}",
        app.verify_path,
        pages::query_value(&payload.registry),
        pages::query_value(&payload.number),
        payload.content
    )
}

/// The registered PDF, to whoever has its QR code.
async fn download(State(app): State<Arc<App>>, uri: Uri) -> Response {
    let Some(payload) = payload_of(&uri) else {
        return failure(StatusCode::BAD_REQUEST, false, None);
    };
    let looked = blocking(&app, "a PDF download", false, move |app| {
        let (_, pdf) = app.registries.payload(&payload)?;
        let Some(pdf) = pdf else { return Ok(None) };
        let name = pdf
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| format!("{}-{n}", payload.registry))
            .unwrap_or_else(|| "document.pdf".to_string());
        Ok(registries::read_registered(&pdf)?.map(|bytes| (name, bytes)))
    })
    .await;
    match looked {
        Ok(Some((name, bytes))) => {
            let name: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => failure(StatusCode::NOT_FOUND, false, None),
        Err(response) => response,
    }
}

async fn upload_form(State(app): State<Arc<App>>) -> Response {
    html(
        StatusCode::OK,
        pages::upload_form((app.max_upload / (1 << 20)) as u64),
    )
}

/// An uploaded PDF, read in chunks as they arrive, up to the upload limit: its bytes are
/// needed whole to check its signature. It must start like a PDF (`%PDF-` within its first
/// 1024 bytes, as the format allows).
struct Upload<'a> {
    bytes: Vec<u8>,
    /// The service's upload memory, and the part of it (KiB) this upload holds.
    memory: &'a tokio::sync::Semaphore,
    held: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl<'a> Upload<'a> {
    fn new(memory: &'a tokio::sync::Semaphore) -> Upload<'a> {
        Upload {
            bytes: Vec::new(),
            memory,
            held: None,
        }
    }

    fn push(&mut self, chunk: &[u8], limit: usize) -> Result<(), StatusCode> {
        let size = self.bytes.len() + chunk.len();
        if size > limit {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        let held = self.held.as_ref().map_or(0, |p| p.num_permits());
        let needed = size.div_ceil(1024).saturating_sub(held);
        if needed > 0 {
            let more = u32::try_from(needed)
                .ok()
                .and_then(|n| self.memory.try_acquire_many(n).ok())
                .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
            match &mut self.held {
                Some(permit) => permit.merge(more),
                None => self.held = Some(more),
            }
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The PDF's bytes and SHA-256 (hex). The memory stays held until the upload is dropped.
    fn finish(&mut self) -> Result<(Vec<u8>, String), StatusCode> {
        let head = &self.bytes[..self.bytes.len().min(1024)];
        if memchr::memmem::find(head, b"%PDF-").is_none() {
            return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        let sha256 = hex::encode(Sha256::digest(&self.bytes));
        Ok((std::mem::take(&mut self.bytes), sha256))
    }
}

/// The verdict on an uploaded PDF (by its SHA-256) and on its own signature.
async fn judge_upload(
    app: &Arc<App>,
    pdf: Vec<u8>,
    sha256: String,
    api: bool,
) -> Result<Answer, Response> {
    let (verdict, finding) = blocking(app, "an upload lookup", api, move |app| {
        let verdict = app.registries.pdf(&sha256)?;
        Ok(crate::commands::verify::with_signature(
            verdict,
            &pdf,
            &app.signatures,
        ))
    })
    .await?;
    app.count(&verdict);
    let mut answer = Answer::new(&verdict, Shown::Pdf, None);
    answer.signature = Some(match (&verdict, &finding) {
        (Verdict::Altered { why }, None) => SignatureView::altered(why),
        _ => SignatureView::of(finding.as_ref(), !app.signatures.trust.anchors.is_empty()),
    });
    Ok(answer)
}

/// The upload form's answer.
async fn upload(
    State(app): State<Arc<App>>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(mut multipart) = multipart else {
        return failure(StatusCode::BAD_REQUEST, false, None);
    };
    let mut upload = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return failure(err.status(), false, None),
        };
        if field.name() != Some("pdf") {
            continue;
        }
        let mut field = field;
        let mut h = Upload::new(&app.upload_memory);
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(status) = h.push(&chunk, app.max_upload) {
                        return failure(status, false, None);
                    }
                }
                Ok(None) => break,
                Err(err) => return failure(err.status(), false, None),
            }
        }
        upload = Some(h);
        break;
    }
    let Some(mut upload) = upload else {
        return failure(StatusCode::BAD_REQUEST, false, None);
    };
    let (pdf, sha256) = match upload.finish() {
        Ok(finished) => finished,
        Err(status) => return failure(status, false, None),
    };
    match judge_upload(&app, pdf, sha256, false).await {
        Ok(answer) => html(StatusCode::OK, pages::verdict_page(&answer, None, true)),
        Err(response) => response,
    }
}

/// The apostille register: by number and date.
async fn apostille_page(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let Some(pairs) = pairs(query.as_deref()) else {
        return failure(StatusCode::BAD_REQUEST, false, None);
    };
    let number = value(&pairs, "n").unwrap_or("").trim().to_string();
    let date_text = value(&pairs, "d").unwrap_or("").trim().to_string();
    if number.is_empty() && date_text.is_empty() {
        return html(StatusCode::OK, pages::apostille("", "", None, false));
    }
    let answer = match look_up_apostille(&app, &number, &date_text, false).await {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    html(
        StatusCode::OK,
        pages::apostille(&number, &date_text, answer.as_ref(), true),
    )
}

async fn look_up_apostille(
    app: &Arc<App>,
    number: &str,
    date_text: &str,
    api: bool,
) -> Result<Option<Answer>, Response> {
    let Ok(date) = date_text.parse::<crate::date::Date>() else {
        return Ok(None);
    };
    if number.is_empty() || number.len() > 64 {
        return Ok(None);
    }
    let registry = app.apostille_registry.clone();
    let verdict = inline(app, "an apostille lookup", api, |app| {
        app.registries.apostille(&registry, number, date)
    })?;
    Ok(verdict.map(|verdict| {
        app.count(&verdict);
        Answer::new(&verdict, Shown::ApostilleNumberAndDate, None)
    }))
}

/// `GET /api/v1/verify?r=…&n=…&c=…` (or `?payload=<the scanned text>`).
async fn api_verify(State(app): State<Arc<App>>, uri: Uri) -> Response {
    let payload = match pairs(uri.query())
        .as_deref()
        .and_then(|p| value(p, "payload"))
    {
        Some(text) => Payload::parse(text).ok(),
        None => payload_of(&uri),
    };
    let Some(payload) = payload else {
        return failure(StatusCode::BAD_REQUEST, true, None);
    };
    let (verdict, pdf) = match inline(&app, "an API lookup", true, |app| {
        app.registries.payload(&payload)
    }) {
        Ok(found) => found,
        Err(response) => return response,
    };
    app.count(&verdict);
    let mut answer = Answer::new(
        &verdict,
        Shown::ContentHash,
        Some((&payload.registry, &payload.number)),
    );
    answer.download = pdf.map(|_| download_href(&app, &payload));
    json(StatusCode::OK, &answer)
}

/// `POST /api/v1/verify-pdf` with the PDF as the body.
async fn api_verify_pdf(State(app): State<Arc<App>>, request: Request) -> Response {
    // A body declared too large is refused before a byte of it is read.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > app.max_upload as u64) {
        return failure(StatusCode::PAYLOAD_TOO_LARGE, true, None);
    }
    let mut body: Body = request.into_body();
    let mut upload = Upload::new(&app.upload_memory);
    loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref()
                    && let Err(status) = upload.push(data, app.max_upload)
                {
                    return failure(status, true, None);
                }
            }
            Some(Err(_)) => return failure(StatusCode::BAD_REQUEST, true, None),
            None => break,
        }
    }
    let (pdf, sha256) = match upload.finish() {
        Ok(finished) => finished,
        Err(status) => return failure(status, true, None),
    };
    match judge_upload(&app, pdf, sha256, true).await {
        Ok(answer) => json(StatusCode::OK, &answer),
        Err(response) => response,
    }
}

/// `GET /api/v1/apostille?n=…&d=…`.
async fn api_apostille(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let Some(pairs) = pairs(query.as_deref()) else {
        return failure(StatusCode::BAD_REQUEST, true, None);
    };
    let (Some(number), Some(date)) = (value(&pairs, "n"), value(&pairs, "d")) else {
        return failure(StatusCode::BAD_REQUEST, true, None);
    };
    if date.parse::<crate::date::Date>().is_err() {
        return failure(StatusCode::BAD_REQUEST, true, None);
    }
    match look_up_apostille(&app, number.trim(), date.trim(), true).await {
        Ok(Some(answer)) => json(StatusCode::OK, &answer),
        Ok(None) => {
            app.metrics.verdict("unknown");
            json(
                StatusCode::OK,
                &Answer::new(
                    &Verdict::Unknown { why: String::new() },
                    Shown::ApostilleNumberAndDate,
                    None,
                ),
            )
        }
        Err(response) => response,
    }
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        STYLE,
    )
        .into_response()
}

async fn font(
    State(app): State<Arc<App>>,
    name: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let Ok(axum::extract::Path(name)) = name else {
        return failure(StatusCode::NOT_FOUND, false, None);
    };
    // Only the names of the fonts read at start-up: the name never reaches the file system.
    match app.fonts.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => (
            [
                (header::CONTENT_TYPE, "font/ttf"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            bytes.clone(),
        )
            .into_response(),
        None => failure(StatusCode::NOT_FOUND, false, None),
    }
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let app2 = app.clone();
    let health = tokio::task::spawn_blocking(move || app2.registries.healthy())
        .await
        .unwrap_or_else(|err| Err(anyhow::anyhow!("the health check failed: {err}")));
    if let Err(err) = &health {
        eprintln!("qujat serve: unhealthy: {err:#}");
    }
    match health {
        Ok(count) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("ok: {count} registries\n"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "unavailable: a registry cannot be read (see the service's log)\n",
        )
            .into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn not_found(uri: Uri) -> Response {
    failure(StatusCode::NOT_FOUND, uri.path().starts_with("/api/"), None)
}

async fn method_not_allowed(uri: Uri) -> Response {
    failure(
        StatusCode::METHOD_NOT_ALLOWED,
        uri.path().starts_with("/api/"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_forwarded_address_counts() {
        let mut headers = HeaderMap::new();
        assert_eq!(forwarded_for(&headers), None);
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.1"),
        );
        assert_eq!(
            forwarded_for(&headers),
            Some("198.51.100.1".parse().unwrap())
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("192.0.2.44"));
        assert_eq!(forwarded_for(&headers), Some("192.0.2.44".parse().unwrap()));
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("not an address"),
        );
        assert_eq!(forwarded_for(&headers), None);
    }

    #[test]
    fn an_upload_must_start_like_a_pdf_and_stay_under_the_limit() {
        let memory = tokio::sync::Semaphore::new(64);
        let mut h = Upload::new(&memory);
        h.push(&[b' '; 1000], 10_000).unwrap();
        h.push(b"%PDF-1.7\n", 10_000).unwrap();
        let (bytes, sha) = h.finish().unwrap();
        let mut all = vec![b' '; 1000];
        all.extend_from_slice(b"%PDF-1.7\n");
        assert_eq!(bytes, all);
        assert_eq!(sha, crate::registry::sha256_hex(&all));
        // 1,009 bytes hold 1 KiB of the service's upload memory until the upload is dropped.
        assert_eq!(memory.available_permits(), 63);
        drop(h);
        assert_eq!(memory.available_permits(), 64);
        // Beyond the first 1024 bytes, a header does not count.
        let mut late = Upload::new(&memory);
        late.push(&[b'x'; 1024], 10_000).unwrap();
        late.push(b"%PDF-1.7", 10_000).unwrap();
        assert_eq!(late.finish(), Err(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        let mut big = Upload::new(&memory);
        big.push(&[0; 600], 1000).unwrap();
        assert_eq!(
            big.push(&[0; 401], 1000),
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
    }

    #[test]
    fn uploads_together_hold_at_most_the_upload_memory() {
        let memory = tokio::sync::Semaphore::new(10);
        let mut first = Upload::new(&memory);
        first.push(&[0; 6 * 1024], 1 << 20).unwrap();
        let mut second = Upload::new(&memory);
        second.push(&[0; 3 * 1024], 1 << 20).unwrap();
        // 6 + 3 KiB held; 2 more do not fit: answered at once, not waited for.
        assert_eq!(
            second.push(&[0; 2 * 1024], 1 << 20),
            Err(StatusCode::SERVICE_UNAVAILABLE)
        );
        drop(first);
        second.push(&[0; 2 * 1024], 1 << 20).unwrap();
        assert_eq!(memory.available_permits(), 5);
    }
}
