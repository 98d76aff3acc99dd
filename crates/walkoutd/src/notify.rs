//! systemd's notification protocol (sd_notify): datagrams to `$NOTIFY_SOCKET` (a path, or an
//! abstract name starting with `@`). Without the variable (not under systemd) nothing is sent.

use std::os::unix::net::UnixDatagram;

/// A connection to the service manager, if there is one.
pub struct Notifier {
    socket: Option<(UnixDatagram, String)>,
}

impl Notifier {
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET").ok().and_then(|addr| {
            let sock = UnixDatagram::unbound().ok()?;
            Some((sock, addr))
        });
        Notifier { socket }
    }

    /// Sends `state` (e.g. `READY=1`); failures are logged, never fatal.
    pub fn send(&self, state: &str) {
        let Some((sock, addr)) = &self.socket else {
            return;
        };
        let sent = if let Some(name) = addr.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
        } else {
            sock.send_to(state.as_bytes(), addr)
        };
        if let Err(e) = sent {
            tracing::warn!(socket = %addr, error = %e, "sd_notify failed");
        }
    }
}
