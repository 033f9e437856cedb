//! `qujat serve`: the read-only HTTP service behind the QR codes. It answers the QR payload's
//! URL with the document's verdict (`qujat verify`'s verdicts, in Kazakh and Russian), checks an
//! uploaded PDF by its SHA-256, keeps the apostille register (by number and date, in English too),
//! and gives the same verdicts as JSON; `/healthz` and `/metrics` (Prometheus) are for
//! operations. See docs/serve.md.
//!
//! It never takes a registry's writer lock and reads a consistent prefix of each registry, so it
//! runs beside the nightly batch and sees new records without a restart ([`registries`]). What it
//! shows of a record depends on what the asker proved ([`public`]). Built on tokio, hyper and
//! axum; the limits that keep it up on the public internet are in [`listener`] (connections,
//! request heads) and [`routes`] (URL length, rate limit, timeouts, headers).

pub mod listener;
pub mod metrics;
pub mod pages;
pub mod public;
pub mod rate;
pub mod registries;
pub mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::{Context, Result};

use self::listener::ConnLimits;
use self::registries::Registries;
use self::routes::App;

/// Everything `qujat serve` runs with, checked.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Where the registries are.
    pub registry: PathBuf,
    /// The output folder the registered PDFs are under (downloads come only from there).
    pub output: PathBuf,
    /// The fonts folder (or the built-in fonts) the pages' fonts are read from at start-up.
    pub fonts: crate::shipped::Files,
    /// The path QR codes point at (`verify_url`'s path, `/verify` by default).
    pub verify_path: String,
    /// The registry the apostille register reads.
    pub apostille_registry: String,
    pub connections: ConnLimits,
    pub max_upload: usize,
    /// The deadline for a whole request, body included.
    pub request_timeout: Duration,
    /// The per-client rate limit (none: off).
    pub rate: Option<rate::Limit>,
    pub trust_forwarded_for: bool,
    /// How long an open reader (and what it keeps: the newest checkpoint) is reused.
    pub refresh: Duration,
    /// Blocks of Merkle nodes kept per registry for inclusion proofs (8 KiB each).
    pub proof_cache_blocks: usize,
    /// Runtime threads answering requests (lookups run on a blocking pool beside them).
    pub workers: usize,
    pub access_log: bool,
    /// What uploaded PDFs' signatures are checked against.
    pub signatures: crate::sign::check::SignatureTrust,
}

/// How many clients the rate limiter remembers at once.
const RATE_CLIENTS: usize = 100_000;

/// Serves until SIGINT or SIGTERM; returns the exit code.
pub fn run(config: ServeConfig) -> Result<i32> {
    let fonts = routes::FONT_FILES
        .iter()
        .map(|&name| {
            config
                .fonts
                .read(name)
                .map(|bytes| (name, axum::body::Bytes::from(bytes.into_owned())))
                .with_context(|| {
                    format!(
                        "cannot read the pages' font {}",
                        config.fonts.show(name).display()
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let store = crate::store::open(&config.registry)?;
    let app = Arc::new(App {
        registries: Registries::new(
            store,
            &config.output,
            config.refresh,
            config.proof_cache_blocks,
        ),
        metrics: metrics::Metrics::default(),
        limiter: config
            .rate
            .map(|limit| rate::Limiter::new(limit, RATE_CLIENTS)),
        verify_path: config.verify_path.clone(),
        apostille_registry: config.apostille_registry.clone(),
        max_upload: config.max_upload,
        request_timeout: config.request_timeout,
        trust_forwarded_for: config.trust_forwarded_for,
        access_log: config.access_log,
        fonts,
        incidents: AtomicU64::new(0),
        upload_memory: tokio::sync::Semaphore::new(routes::UPLOAD_MEMORY_KIB),
        signatures: config.signatures.clone(),
    });
    // Fail at start, not at the first request, if the registries cannot be read.
    let codes = app.registries.codes()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(1))
        .max_blocking_threads(64)
        .thread_name("qujat-serve")
        .enable_all()
        .build()
        .context("cannot start the service's threads")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local = listener.local_addr()?;
        eprintln!(
            "qujat serve: listening on http://{local} — {} registries ({}) in {}, QR codes at {}",
            codes.len(),
            codes.join(", "),
            config.registry.display(),
            config.verify_path
        );
        let router = routes::router(app.clone());
        listener::serve(
            listener,
            router,
            app,
            config.connections.clone(),
            shutdown_signal(),
            Duration::from_secs(10),
        )
        .await;
        eprintln!("qujat serve: stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(crate::exit::OK)
}

/// Resolves on SIGINT or SIGTERM (what systemd sends to stop a service).
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = interrupt.await;
            return;
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = term.recv() => {}
    }
}

/// The path part of a verification address: `https://qujat.gov.kz/verify` → `/verify`.
pub fn verify_path(url: &str) -> Result<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = match rest.find('/') {
        Some(i) => &rest[i..],
        None => "/",
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let path = path.trim_end_matches('/');
    anyhow::ensure!(
        !path.is_empty(),
        "verify_url {url:?} must have a path (like https://qujat.gov.kz/verify): the service's \
         other pages live at the root"
    );
    anyhow::ensure!(
        path.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.')),
        "verify_url {url:?}: its path may hold only ASCII letters, digits, '/', '-', '_' and '.'"
    );
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verify_path_is_the_addresss_path() {
        assert_eq!(
            verify_path("https://qujat.gov.kz/verify").unwrap(),
            "/verify"
        );
        assert_eq!(verify_path("https://x.kz/a/check/?z").unwrap(), "/a/check");
        assert_eq!(verify_path("http://127.0.0.1:8080/v").unwrap(), "/v");
        assert!(verify_path("https://qujat.gov.kz").is_err());
        assert!(verify_path("https://qujat.gov.kz/").is_err());
        assert!(verify_path("https://qujat.gov.kz/про").is_err());
    }
}
