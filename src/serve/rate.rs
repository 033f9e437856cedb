//! The per-client rate limit: a token bucket per client address, so that one client (a scraper
//! walking numbers, a script hammering the upload) cannot take the service from everyone else.
//!
//! A client is an IPv4 address or an IPv6 /64 network (one household or host gets a /64 and
//! can pick any address in it). Each has a bucket of `burst` tokens refilled at `rate` per
//! second; a request takes its cost in tokens or is refused (429) with the seconds until it
//! would pass. The table of buckets is bounded: when full, buckets that have refilled
//! completely (their client quiet long enough to be forgotten without harm) are dropped, and if
//! it is still full the new client is refused — under a flood from more addresses than the table
//! holds, the service stays up for the clients it already knows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limit: `rate` tokens a second, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub rate: f64,
    pub burst: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client seen recently.
#[derive(Debug)]
pub struct Limiter {
    limit: Limit,
    capacity: usize,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl Limiter {
    /// A limiter remembering at most `capacity` clients.
    pub fn new(limit: Limit, capacity: usize) -> Limiter {
        Limiter {
            limit,
            capacity: capacity.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` tokens from `client`'s bucket at `now`: `Ok` if it had them, or how long
    /// until it will.
    pub fn take(&self, client: IpAddr, cost: f64, now: Instant) -> Result<(), Duration> {
        let key = client_key(client);
        let Limit { rate, burst } = self.limit;
        let mut buckets = self
            .buckets
            .lock()
            .expect("no panic while holding the buckets");
        if !buckets.contains_key(&key) && buckets.len() >= self.capacity {
            // Buckets that are full again say nothing a fresh bucket would not.
            buckets.retain(|_, b| {
                b.tokens + rate * now.saturating_duration_since(b.at).as_secs_f64() < burst
            });
            if buckets.len() >= self.capacity {
                return Err(Duration::from_secs(1));
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + rate * elapsed).min(burst);
        bucket.at = now;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            Ok(())
        } else {
            let missing = cost - bucket.tokens;
            Err(Duration::from_secs_f64((missing / rate).max(0.001)))
        }
    }

    /// How many clients it remembers now.
    pub fn clients(&self) -> usize {
        self.buckets.lock().expect("no panic").len()
    }
}

/// The address a client is counted by: IPv4 as it is (and IPv4 mapped into IPv6 as IPv4), IPv6
/// by its /64 network.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_burst_passes_then_requests_pass_at_the_rate() {
        let limiter = Limiter::new(
            Limit {
                rate: 2.0,
                burst: 5.0,
            },
            100,
        );
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for i in 0..5 {
            assert!(limiter.take(a, 1.0, t0).is_ok(), "request {i} of the burst");
        }
        let wait = limiter.take(a, 1.0, t0).unwrap_err();
        assert!((0.49..=0.51).contains(&wait.as_secs_f64()), "{wait:?}");
        // Another client is not affected.
        assert!(limiter.take(ip("192.0.2.2"), 1.0, t0).is_ok());
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert!(limiter.take(a, 1.0, t1).is_ok());
        assert!(limiter.take(a, 1.0, t1).is_err());
        // A long pause refills the bucket to its burst, never beyond.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..5 {
            assert!(limiter.take(a, 1.0, t2).is_ok());
        }
        assert!(limiter.take(a, 1.0, t2).is_err());
        // A costly request needs its whole cost.
        let t3 = t2 + Duration::from_secs(1);
        assert!(limiter.take(a, 3.0, t3).is_err());
        assert!(limiter.take(a, 2.0, t3).is_ok());
    }

    #[test]
    fn an_ipv6_network_is_one_client_and_mapped_ipv4_is_ipv4() {
        let limiter = Limiter::new(
            Limit {
                rate: 1.0,
                burst: 2.0,
            },
            100,
        );
        let t0 = Instant::now();
        assert!(limiter.take(ip("2001:db8:1:2::1"), 1.0, t0).is_ok());
        assert!(limiter.take(ip("2001:db8:1:2:ffff::9"), 1.0, t0).is_ok());
        assert!(limiter.take(ip("2001:db8:1:2::77"), 1.0, t0).is_err());
        assert!(limiter.take(ip("2001:db8:1:3::1"), 1.0, t0).is_ok());
        assert!(limiter.take(ip("198.51.100.7"), 2.0, t0).is_ok());
        assert!(limiter.take(ip("::ffff:198.51.100.7"), 1.0, t0).is_err());
    }

    #[test]
    fn the_table_is_bounded_and_forgets_only_clients_whose_bucket_refilled() {
        let limiter = Limiter::new(
            Limit {
                rate: 1.0,
                burst: 2.0,
            },
            3,
        );
        let t0 = Instant::now();
        for i in 1..=3 {
            assert!(limiter.take(ip(&format!("192.0.2.{i}")), 1.0, t0).is_ok());
        }
        // Full, and nobody has refilled yet: a new client is refused, known ones are served.
        assert!(limiter.take(ip("192.0.2.4"), 1.0, t0).is_err());
        assert!(limiter.take(ip("192.0.2.1"), 1.0, t0).is_ok());
        assert_eq!(limiter.clients(), 3);
        // After 1.5 s, the clients that took one token (2 and 3) are full again; client 1 took
        // two and is not.
        let t1 = t0 + Duration::from_millis(1500);
        assert!(limiter.take(ip("192.0.2.4"), 1.0, t1).is_ok());
        assert_eq!(limiter.clients(), 2);
        assert!(
            limiter.take(ip("192.0.2.1"), 2.0, t1).is_err(),
            "client 1 was not forgotten"
        );
    }
}
