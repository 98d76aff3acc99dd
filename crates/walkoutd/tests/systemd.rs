//! The systemd integration: the unit file passes `systemd-analyze verify` (ExecStart pointed at
//! the built binary), `deploy/walkout.toml` loads, and `walkoutd run` sends READY and WATCHDOG
//! on a NOTIFY_SOCKET this test owns.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

#[test]
fn the_unit_file_verifies() {
    let unit = std::fs::read_to_string(repo().join("deploy/walkoutd.service")).expect("unit");
    assert!(
        unit.contains("Type=notify")
            && unit.contains("WatchdogSec=")
            && unit.contains("NoNewPrivileges=yes")
    );
    let dir = std::env::temp_dir().join(format!("walkout-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("walkoutd.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/walkoutd", env!("CARGO_BIN_EXE_walkoutd")),
    )
    .expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (apt systemd, installed by scripts/setup)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains(&path.display().to_string()),
        "warnings about the unit: {err}"
    );
}

#[test]
fn the_deployed_config_loads() {
    let cfg = walkout_geometry::StoreConfig::load(&repo().join("deploy/walkout.toml"))
        .expect("deploy/walkout.toml");
    assert_eq!(cfg.id, "store-001");
    assert_eq!(cfg.cameras.len(), 1);
    let bus = cfg.bus.expect("[bus]");
    assert_eq!(bus.listen, vec!["tcp/0.0.0.0:7447".to_string()]);
    assert!(!bus.multicast_scouting);
}

#[test]
fn ready_and_watchdog_arrive_on_the_notify_socket() {
    let dir = std::env::temp_dir().join(format!("walkout-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let sock_path = dir.join("notify.sock");
    let _ = std::fs::remove_file(&sock_path);
    let sock = UnixDatagram::bind(&sock_path).expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_walkoutd"))
        .args(["run", "--config"])
        .arg(repo().join("calibration/pets2009-s2l1.toml"))
        .args(["--compute", "cpu", "--threads", "1", "--seconds", "8"])
        .env("NOTIFY_SOCKET", &sock_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start walkoutd");
    let start = Instant::now();
    let mut got: Vec<String> = Vec::new();
    let mut buf = [0u8; 512];
    while start.elapsed() < Duration::from_secs(15) {
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
        if daemon.try_wait().expect("wait").is_some() {
            while let Ok(n) = sock.recv(&mut buf) {
                got.push(String::from_utf8_lossy(&buf[..n]).to_string());
            }
            break;
        }
    }
    let status = daemon.wait().expect("exit");
    println!("{got:?}");
    assert!(status.success());
    let first = got
        .iter()
        .position(|m| m.contains("READY=1"))
        .expect("READY");
    let watchdogs = got.iter().filter(|m| m.contains("WATCHDOG=1")).count();
    assert!(watchdogs >= 4, "{got:?}");
    assert!(
        got[..first].iter().all(|m| !m.contains("WATCHDOG=1")),
        "WATCHDOG before READY: {got:?}"
    );
    assert!(
        got.last().is_some_and(|m| m.contains("STOPPING=1")),
        "{got:?}"
    );
}
