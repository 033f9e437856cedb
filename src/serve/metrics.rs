//! What `/metrics` shows, in the Prometheus text format (version 0.0.4): requests by route and
//! status, verdicts by kind, a latency histogram by route, and the connection and rate limits at
//! work. Counted with atomics and a small lock; nothing here touches personal data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a request was for, as metrics and logs name it (never its query: a QR code's content
/// hash is a proof of possession and stays out of logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    Home,
    Qr,
    Pdf,
    UploadForm,
    Upload,
    Apostille,
    ApiVerify,
    ApiPdf,
    ApiApostille,
    Static,
    Health,
    Metrics,
    Other,
}

impl Route {
    pub const ALL: [Route; 13] = [
        Route::Home,
        Route::Qr,
        Route::Pdf,
        Route::UploadForm,
        Route::Upload,
        Route::Apostille,
        Route::ApiVerify,
        Route::ApiPdf,
        Route::ApiApostille,
        Route::Static,
        Route::Health,
        Route::Metrics,
        Route::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::Home => "home",
            Route::Qr => "qr",
            Route::Pdf => "pdf",
            Route::UploadForm => "upload_form",
            Route::Upload => "upload",
            Route::Apostille => "apostille",
            Route::ApiVerify => "api_verify",
            Route::ApiPdf => "api_pdf",
            Route::ApiApostille => "api_apostille",
            Route::Static => "static",
            Route::Health => "healthz",
            Route::Metrics => "metrics",
            Route::Other => "other",
        }
    }

    /// Whether the route looks documents up (and so counts against a client's rate limit).
    pub fn reads_registries(self) -> bool {
        matches!(
            self,
            Route::Qr
                | Route::Pdf
                | Route::Upload
                | Route::Apostille
                | Route::ApiVerify
                | Route::ApiPdf
                | Route::ApiApostille
        )
    }
}

/// The verdicts, as `qujat verify` names them.
pub const VERDICTS: [&str; 5] = ["genuine", "unconfirmed", "disowned", "altered", "unknown"];

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative), then the overflow.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(Route, u16), u64>>,
    verdicts: [AtomicU64; VERDICTS.len()],
    latency: [Histogram; Route::ALL.len()],
    pub rate_limited: AtomicU64,
    pub connections_refused: AtomicU64,
    pub connections_open: AtomicU64,
    pub connections_total: AtomicU64,
    pub internal_errors: AtomicU64,
}

impl Metrics {
    /// Counts a request answered with `status` after `took`.
    pub fn request(&self, route: Route, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .expect("no panic while counting")
            .entry((route, status))
            .or_default() += 1;
        let seconds = took.as_secs_f64();
        let histogram = &self.latency[route as usize];
        let bucket = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        histogram.counts[bucket].fetch_add(1, Ordering::Relaxed);
        histogram
            .sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Counts a verdict given (by its name in [`VERDICTS`]).
    pub fn verdict(&self, name: &str) {
        if let Some(i) = VERDICTS.iter().position(|&v| v == name) {
            self.verdicts[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP qujat_serve_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE qujat_serve_requests_total counter\n");
        for ((route, status), count) in self.requests.lock().expect("no panic").iter() {
            let _ = writeln!(
                out,
                "qujat_serve_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                route.name()
            );
        }
        out.push_str("# HELP qujat_serve_verdicts_total Verdicts given, by kind.\n");
        out.push_str("# TYPE qujat_serve_verdicts_total counter\n");
        for (name, count) in VERDICTS.iter().zip(&self.verdicts) {
            let _ = writeln!(
                out,
                "qujat_serve_verdicts_total{{verdict=\"{name}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP qujat_serve_request_duration_seconds Time from a request's head to its \
             response's head, by route.\n",
        );
        out.push_str("# TYPE qujat_serve_request_duration_seconds histogram\n");
        for route in Route::ALL {
            let histogram = &self.latency[route as usize];
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += histogram.counts[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "qujat_serve_request_duration_seconds_bucket{{route=\"{}\",le=\"{bound}\"}} {cumulative}",
                    route.name()
                );
            }
            cumulative += histogram.counts[BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "qujat_serve_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {cumulative}",
                route.name()
            );
            let _ = writeln!(
                out,
                "qujat_serve_request_duration_seconds_sum{{route=\"{}\"}} {}",
                route.name(),
                histogram.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "qujat_serve_request_duration_seconds_count{{route=\"{}\"}} {cumulative}",
                route.name()
            );
        }
        for (name, help, kind, value) in [
            (
                "qujat_serve_rate_limited_total",
                "Requests refused by the per-client rate limit.",
                "counter",
                &self.rate_limited,
            ),
            (
                "qujat_serve_connections_refused_total",
                "Connections closed at once: too many open, in all or from one client.",
                "counter",
                &self.connections_refused,
            ),
            (
                "qujat_serve_connections_total",
                "Connections accepted.",
                "counter",
                &self.connections_total,
            ),
            (
                "qujat_serve_connections_open",
                "Connections open now.",
                "gauge",
                &self.connections_open,
            ),
            (
                "qujat_serve_internal_errors_total",
                "Requests that failed inside qujat (each logged with its incident number).",
                "counter",
                &self.internal_errors,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_requests_verdicts_and_latency() {
        let metrics = Metrics::default();
        metrics.request(Route::Qr, 200, Duration::from_micros(300));
        metrics.request(Route::Qr, 200, Duration::from_millis(3));
        metrics.request(Route::Qr, 404, Duration::from_secs(20));
        metrics.verdict("genuine");
        metrics.verdict("genuine");
        metrics.verdict("altered");
        metrics.verdict("no such verdict");
        let text = metrics.render();
        assert!(text.contains("qujat_serve_requests_total{route=\"qr\",status=\"200\"} 2\n"));
        assert!(text.contains("qujat_serve_requests_total{route=\"qr\",status=\"404\"} 1\n"));
        assert!(text.contains("qujat_serve_verdicts_total{verdict=\"genuine\"} 2\n"));
        assert!(text.contains("qujat_serve_verdicts_total{verdict=\"altered\"} 1\n"));
        assert!(text.contains("qujat_serve_verdicts_total{verdict=\"unknown\"} 0\n"));
        // Cumulative buckets: 0.3 ms is under 0.5 ms; 3 ms under 5 ms; 20 s only under +Inf.
        let bucket = |le: &str| {
            format!("qujat_serve_request_duration_seconds_bucket{{route=\"qr\",le=\"{le}\"}} ")
        };
        assert!(text.contains(&(bucket("0.0005") + "1\n")));
        assert!(text.contains(&(bucket("0.002") + "1\n")));
        assert!(text.contains(&(bucket("0.005") + "2\n")));
        assert!(text.contains(&(bucket("10") + "2\n")));
        assert!(text.contains(&(bucket("+Inf") + "3\n")));
        assert!(text.contains("qujat_serve_request_duration_seconds_count{route=\"qr\"} 3\n"));
        // Every line is a comment or `name{labels} value`.
        for line in text.lines() {
            assert!(
                line.starts_with("# ")
                    || line
                        .rsplit_once(' ')
                        .is_some_and(|(_, v)| v.parse::<f64>().is_ok()),
                "{line}"
            );
        }
    }
}
