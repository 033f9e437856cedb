//! The flags of `qujat serve`, turned into a checked [`ServeConfig`].

use crate::sign::check::SignatureTrust;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;

use super::registry::RegistryDir;
use crate::config::{Config, Folder};
use crate::serve::listener::ConnLimits;
use crate::serve::{self, ServeConfig, rate};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (behind a TLS-terminating proxy, a loopback address)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub dir: RegistryDir,
    /// The output folder the registered PDFs are in, for downloads [default: from qujat.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Requests a second each client may make on average (an IPv4 address or an IPv6 /64;
    /// an upload counts as 5); 0 turns the limit off
    #[arg(long, value_name = "N", default_value_t = 5.0)]
    pub rate_limit: f64,
    /// Requests a client may make at once before the rate applies
    #[arg(long, value_name = "N", default_value_t = 30.0)]
    pub rate_burst: f64,
    /// Count clients by the last address of X-Forwarded-For, which the proxy in front of qujat
    /// must set (never without such a proxy: clients could then claim any address)
    #[arg(long)]
    pub trust_x_forwarded_for: bool,
    /// The largest PDF accepted for a check, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 16)]
    pub max_upload_mb: usize,
    /// Connections open at once, in all
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
    /// Connections open at once from one client address (0: no bound; use 0 behind a proxy)
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_connections_per_client: usize,
    /// Threads answering requests [default: twice the number of CPUs]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Blocks of 256 records whose inner Merkle nodes are kept per registry for inclusion
    /// proofs, 8 KiB each (the default covers a million records in 32 MiB; 0 keeps none)
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub proof_cache_blocks: usize,
    /// Seconds a client has to send a request's head (line and headers); an idle kept-alive
    /// connection is closed after as long
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub head_timeout: u64,
    /// Seconds a whole request may take, its body (an upload) included
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,
    /// Log a line per request to stderr: route, status, time (never the query)
    #[arg(long)]
    pub access_log: bool,
}

pub fn run_serve(config: &Config, args: ServeArgs) -> Result<i32> {
    if args.rate_limit < 0.0 || !args.rate_limit.is_finite() {
        bail!("--rate-limit must be 0 (off) or more");
    }
    if args.rate_limit > 0.0 && args.rate_burst < 5.0 {
        bail!("--rate-burst must be at least 5 (an upload costs 5)");
    }
    if args.max_upload_mb == 0 || args.max_upload_mb > 1024 {
        bail!("--max-upload-mb must be between 1 and 1024");
    }
    if args.max_connections == 0 {
        bail!("--max-connections must be at least 1");
    }
    if args.head_timeout == 0 || args.request_timeout == 0 {
        bail!("--head-timeout and --request-timeout must be at least 1 second");
    }
    let workers = match args.workers {
        Some(0) => bail!("--workers must be at least 1"),
        Some(n) => n,
        // Lookups run on these threads and wait on system calls (the index's locks, reads of
        // records): on 2 CPUs, 4 threads answered 6,666 verifications/s and 2 threads 3,518
        // (docs/performance.md).
        None => 2 * std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    serve::run(ServeConfig {
        listen: args.listen,
        registry: super::registry::registry_place(args.dir.registry_dir, config)?,
        output: config.folder(args.out, Folder::Output)?,
        fonts: config.fonts(None),
        verify_path: serve::verify_path(&config.file.documents.verify_url)?,
        apostille_registry: "apostille".to_string(),
        connections: ConnLimits {
            max_connections: args.max_connections,
            max_per_client: args.max_connections_per_client,
            head_timeout: Duration::from_secs(args.head_timeout),
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            lifetime: Duration::from_secs(120),
            grace: Duration::from_secs(10),
        },
        max_upload: args.max_upload_mb << 20,
        request_timeout: Duration::from_secs(args.request_timeout),
        rate: (args.rate_limit > 0.0).then_some(rate::Limit {
            rate: args.rate_limit,
            burst: args.rate_burst,
        }),
        trust_forwarded_for: args.trust_x_forwarded_for,
        refresh: Duration::from_secs(1),
        proof_cache_blocks: args.proof_cache_blocks,
        workers,
        access_log: args.access_log,
        signatures: SignatureTrust::load(config.signing()?.as_ref())?,
    })
}
