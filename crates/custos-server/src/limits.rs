//! What a client can make the server hold before it has proved who it is:
//! connections (in all and per address) and buffered request bodies.
//!
//! A request's body is read in full only when its headers check out (see
//! `Iam::precheck`): a well-formed signature, a current date, an access
//! key that exists. Anyone else's body is read only up to
//! [`UNAUTHENTICATED_BODY_BYTES`], within a small total, so that the
//! authentication error and its audit record can be written; beyond that
//! it is not read at all. Bodies of requests that pass share a larger
//! total, [`Limits::body_budget_bytes`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The most of an unauthenticated request's body that is read.
pub const UNAUTHENTICATED_BODY_BYTES: usize = 16 * 1024;
/// The most unauthenticated body bytes held at once, over all requests.
const UNAUTHENTICATED_TOTAL_BYTES: usize = 8 * 1024 * 1024;
/// Budgets count in units of this many bytes (a semaphore's permits are a
/// `u32`-sized count).
const UNIT: usize = 1024;

/// The configured bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; more are closed as soon as accepted.
    pub max_connections: usize,
    /// Connections open at once from one client address.
    pub max_connections_per_address: usize,
    /// Bytes of request bodies (of requests whose headers checked out)
    /// held at once; a request waits for room, then is throttled.
    pub body_budget_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 8192,
            max_connections_per_address: 1024,
            body_budget_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Total,
    PerAddress,
}

impl Refused {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Refused::Total => "max_connections",
            Refused::PerAddress => "max_connections_per_address",
        }
    }
}

/// The server's live counts against its [`Limits`].
#[derive(Debug)]
pub(crate) struct Gate {
    limits: Limits,
    connections: Mutex<Connections>,
    bodies: Arc<Semaphore>,
    unauthenticated: Arc<Semaphore>,
}

#[derive(Debug, Default)]
struct Connections {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection counted against the limits while it lives.
#[derive(Debug)]
pub(crate) struct Admitted {
    gate: Arc<Gate>,
    address: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut c = self.gate.lock();
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                c.by_address.remove(&self.address);
            }
        }
    }
}

/// Room for a body in a budget, given back when dropped.
#[derive(Debug)]
pub(crate) struct BodyRoom(#[allow(dead_code, reason = "held for its drop")] OwnedSemaphorePermit);

fn units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX)
}

impl Gate {
    pub(crate) fn new(limits: Limits) -> Arc<Gate> {
        Arc::new(Gate {
            limits,
            connections: Mutex::default(),
            bodies: Arc::new(Semaphore::new(units(limits.body_budget_bytes) as usize)),
            unauthenticated: Arc::new(Semaphore::new(units(UNAUTHENTICATED_TOTAL_BYTES) as usize)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a new connection from `address`, or says why it may not stay.
    pub(crate) fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Admitted, Refused> {
        let mut c = self.lock();
        if c.total >= self.limits.max_connections {
            return Err(Refused::Total);
        }
        let from = c.by_address.entry(address).or_default();
        if *from >= self.limits.max_connections_per_address {
            return Err(Refused::PerAddress);
        }
        *from += 1;
        c.total += 1;
        Ok(Admitted {
            gate: Arc::clone(self),
            address,
        })
    }

    /// Room for `bytes` more of a checked request's body, added to `room`,
    /// waiting while other bodies hold the budget. Counted as the bytes
    /// arrive, not as announced: a client that announces much and sends
    /// slowly holds only what it has sent (and only until its body's
    /// deadline).
    pub(crate) async fn grow(&self, room: &mut Option<BodyRoom>, bytes: usize) {
        let held = room.as_ref().map_or(0, |r| r.0.num_permits());
        let wanted = units(bytes.min(self.limits.body_budget_bytes)) as usize;
        if wanted <= held {
            return;
        }
        let more = u32::try_from(wanted - held).unwrap_or(u32::MAX);
        // The semaphore is never closed.
        if let Ok(permit) = Arc::clone(&self.bodies).acquire_many_owned(more).await {
            match room {
                Some(r) => r.0.merge(permit),
                None => *room = Some(BodyRoom(permit)),
            }
        }
    }

    /// Room for an unauthenticated body, now or never.
    pub(crate) fn unauthenticated_room(&self) -> Option<BodyRoom> {
        Arc::clone(&self.unauthenticated)
            .try_acquire_many_owned(units(UNAUTHENTICATED_BODY_BYTES))
            .ok()
            .map(BodyRoom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_in_all_and_per_address_and_freed_on_drop() {
        let gate = Gate::new(Limits {
            max_connections: 3,
            max_connections_per_address: 2,
            body_budget_bytes: 1 << 20,
        });
        let a: IpAddr = IpAddr::from([192, 0, 2, 1]);
        let b: IpAddr = IpAddr::from([192, 0, 2, 2]);
        let a1 = gate.admit(a).expect("admitted");
        let _a2 = gate.admit(a).expect("admitted");
        assert_eq!(gate.admit(a).expect_err("refused"), Refused::PerAddress);
        let _b1 = gate.admit(b).expect("admitted");
        assert_eq!(gate.admit(b).expect_err("refused"), Refused::Total);
        drop(a1);
        assert_eq!(gate.admit(b).map(|_| ()), Ok(()));
        let _a3 = gate.admit(a).expect("admitted");
        assert_eq!(gate.lock().total, 3);
    }

    #[test]
    fn an_address_with_no_connections_is_forgotten() {
        let gate = Gate::new(Limits::default());
        let a: IpAddr = IpAddr::from([192, 0, 2, 1]);
        drop(gate.admit(a).expect("admitted"));
        assert!(gate.lock().by_address.is_empty());
        assert_eq!(gate.lock().total, 0);
    }

    #[tokio::test]
    async fn body_budgets_are_shared_counted_as_bytes_arrive_and_returned() {
        let gate = Gate::new(Limits {
            body_budget_bytes: 4 * UNIT,
            ..Limits::default()
        });
        let mut first = None;
        gate.grow(&mut first, 100).await;
        gate.grow(&mut first, 3 * UNIT).await;
        assert_eq!(first.as_ref().map(|r| r.0.num_permits()), Some(3));
        // Growing to what is already held takes nothing more.
        gate.grow(&mut first, 2 * UNIT).await;
        assert_eq!(first.as_ref().map(|r| r.0.num_permits()), Some(3));
        // One unit is left: a two-unit body waits until the first is done.
        let mut second = None;
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            gate.grow(&mut second, 2 * UNIT),
        )
        .await;
        assert!(waiting.is_err(), "the budget is held");
        drop(first);
        let mut third = None;
        gate.grow(&mut third, 4 * UNIT).await;
        assert_eq!(third.as_ref().map(|r| r.0.num_permits()), Some(4));
        drop(third);
        // A body larger than the whole budget takes all of it, not forever.
        let mut huge = None;
        gate.grow(&mut huge, 100 * UNIT).await;
        assert_eq!(huge.as_ref().map(|r| r.0.num_permits()), Some(4));

        let rooms: Vec<_> = std::iter::from_fn(|| gate.unauthenticated_room()).collect();
        assert_eq!(
            rooms.len(),
            UNAUTHENTICATED_TOTAL_BYTES / UNAUTHENTICATED_BODY_BYTES
        );
        drop(rooms);
        assert!(gate.unauthenticated_room().is_some());
    }
}
