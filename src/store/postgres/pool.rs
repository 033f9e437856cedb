//! The connections a store reads through: opened when needed, kept for the next call, so that
//! the dozens of lookups of a batch or of `verify` cost one connection, not one each. A call
//! takes a connection of its own for as long as it runs — a scan keeps one while its consumer
//! looks records up through another — and one that broke is dropped rather than kept.

use std::sync::Mutex;

use anyhow::Result;

use super::connect::Settings;
use super::schema;

pub struct Pool {
    pub settings: Settings,
    idle: Mutex<Vec<postgres::Client>>,
}

/// A connection taken from the pool, given back when dropped (unless it broke, or was
/// [`forget`](Pooled::forget)ten).
pub struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<postgres::Client>,
}

impl Pool {
    /// A pool for `settings`, its first connection made and the schema's version checked, so
    /// that a wrong URL, password or an uninitialised database is said at once.
    pub fn open(settings: Settings) -> Result<Pool> {
        let mut client = settings.connect()?;
        schema::check_version(&mut client, settings.describe())?;
        Ok(Pool {
            settings,
            idle: Mutex::new(vec![client]),
        })
    }

    pub fn describe(&self) -> &str {
        self.settings.describe()
    }

    pub fn get(&self) -> Result<Pooled<'_>> {
        let idle = self
            .idle
            .lock()
            .expect("no panic while holding the pool")
            .pop();
        let client = match idle {
            Some(client) if !client.is_closed() => client,
            _ => self.settings.connect()?,
        };
        Ok(Pooled {
            pool: self,
            client: Some(client),
        })
    }
}

impl Pooled<'_> {
    /// Drops the connection instead of giving it back (a scan stopped in the middle of a
    /// `COPY`: what the server still sends is not worth reading).
    pub fn forget(mut self) {
        self.client = None;
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        self.client.as_ref().expect("a pooled connection")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        self.client.as_mut().expect("a pooled connection")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && !client.is_closed()
        {
            let mut idle = self
                .pool
                .idle
                .lock()
                .expect("no panic while holding the pool");
            // A few idle connections serve every reader of one process.
            if idle.len() < 4 {
                idle.push(client);
            }
        }
    }
}
