//! Accepting connections so that slow or many clients cannot hold the service: a bound on open
//! connections in all and from one address, a deadline for a request's head (which also closes
//! an idle kept-alive connection), bounded head size and header count, and a lifetime after
//! which a connection is asked to close. Bodies and whole requests have their own deadlines in
//! the routes' frame. HTTP/1.1 only: a TLS-terminating proxy in front speaks HTTP/2 to browsers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use super::rate::client_key;
use super::routes::{App, ClientAddr};

/// What bounds a connection.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub max_connections: usize,
    /// 0: no bound per address (behind a proxy every connection comes from it).
    pub max_per_client: usize,
    /// The whole request head must arrive within this; an idle kept-alive connection is closed
    /// after it too.
    pub head_timeout: Duration,
    /// The request line and headers together (hyper's read buffer; at least 8 KiB).
    pub max_head_bytes: usize,
    pub max_headers: usize,
    /// After this a connection is asked to close once its current request is answered, and
    /// closed `grace` later whatever it is doing (a client that never reads its answer).
    pub lifetime: Duration,
    pub grace: Duration,
}

/// Counts connections per client address.
#[derive(Default)]
struct PerClient {
    open: Mutex<HashMap<IpAddr, usize>>,
}

struct ClientSlot {
    table: Arc<PerClient>,
    key: IpAddr,
}

impl PerClient {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let key = client_key(ip);
        let mut open = self.open.lock().expect("no panic while counting");
        let count = open.entry(key).or_default();
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            table: self.clone(),
            key,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().expect("no panic while counting");
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits up to `drain` for open
/// connections to finish.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    app: Arc<App>,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()>,
    drain: Duration,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = Arc::new(PerClient::default());
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    eprintln!("qujat serve: cannot accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            app.metrics
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let Some(client_slot) = per_client.take(peer.ip(), limits.max_per_client) else {
            app.metrics
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        app.metrics
            .connections_total
            .fetch_add(1, Ordering::Relaxed);
        app.metrics.connections_open.fetch_add(1, Ordering::Relaxed);
        let app = app.clone();
        let router = router.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            connection(stream, peer, router, &limits).await;
            app.metrics.connections_open.fetch_sub(1, Ordering::Relaxed);
            drop(client_slot);
            drop(slot);
        });
    }
    // Drain: every slot back means every connection closed.
    let all = limits.max_connections as u32;
    let _ = tokio::time::timeout(drain, slots.acquire_many(all)).await;
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    limits: &ConnLimits,
) {
    let service = router.map_request(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ClientAddr(peer));
        request
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(limits.max_head_bytes.max(8192))
        .max_headers(limits.max_headers)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        () = tokio::time::sleep(limits.lifetime) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.grace, conn).await;
}
