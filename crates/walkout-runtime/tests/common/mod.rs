//! Shared by the daemon tests: a daemon on a thread listening on a free loopback port, and a
//! zenoh client session connected to it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use walkout_bus::{Bus, BusConfig};
use walkout_runtime::daemon::{self, DaemonError, DaemonInput, DaemonOptions, Summary};

/// A daemon running on a thread.
pub struct TestDaemon {
    pub endpoint: String,
    pub stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<Summary, DaemonError>>,
}

/// Starts `daemon::run` on `config` (CPU, one inference thread) listening on a free port;
/// `adjust` sets anything else. Waits 2 s for it to come up.
pub fn start(
    config: PathBuf,
    input: DaemonInput,
    adjust: impl FnOnce(&mut DaemonOptions),
) -> TestDaemon {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let mut opts = DaemonOptions::new(config, input);
    opts.compute = walkout_gpu::ComputePath::Cpu;
    opts.runtime.intra_threads = 1;
    opts.bus = Some(BusConfig {
        listen: vec![endpoint.clone()],
        ..Default::default()
    });
    adjust(&mut opts);
    let stop = Arc::new(AtomicBool::new(false));
    let handle = {
        let stop = stop.clone();
        std::thread::spawn(move || daemon::run(&opts, stop, |_| {}))
    };
    std::thread::sleep(Duration::from_secs(2));
    TestDaemon {
        endpoint,
        stop,
        handle,
    }
}

impl TestDaemon {
    /// A client session of `store` connected to the daemon.
    pub fn client(&self, store: &str) -> Bus {
        Bus::open(
            store,
            &BusConfig {
                mode: "client".into(),
                connect: vec![self.endpoint.clone()],
                ..Default::default()
            },
        )
        .expect("client session")
    }

    /// Stops the daemon; it must have run cleanly.
    pub fn finish(self) -> Summary {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .join()
            .expect("daemon thread")
            .expect("daemon ran")
    }
}
