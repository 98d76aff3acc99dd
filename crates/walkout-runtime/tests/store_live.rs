//! The live path of the store: the simulator's per-view messages and gate/shelf inputs are
//! published over zenoh (as edge servers and the gate/shelf controllers would), a daemon in the
//! fusion role subscribes and publishes events and carts, and its carts equal the file
//! replay's (`walkoutd replay --views --inputs`) on the same recording.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use walkout_runtime::daemon::{DaemonInput, Role};
use walkout_runtime::store_replay::{self, StoreReplayOptions};
use walkout_sim::{Scenario, SimParams};
use walkout_types::Cart;

fn config() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../calibration/sample-store.toml")
}

#[test]
fn the_fusion_role_on_zenoh_gives_the_carts_of_the_file_replay() {
    let store = walkout_geometry::StoreConfig::load(&config()).expect("store");
    let mut p = SimParams::new(Scenario::Calm, 1);
    p.shoppers = Some(3);
    let sim = walkout_sim::simulate(&store, &p).expect("sim");
    let dir = std::env::temp_dir().join(format!("walkout-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    walkout_sim::write(&sim, &dir).expect("write");
    let mut opts = StoreReplayOptions::new(config(), dir.join("views"));
    opts.inputs = Some(dir.join("inputs"));
    let file = store_replay::run(&opts).expect("file replay");
    assert!(
        file.final_carts
            .values()
            .any(|(items, _)| !items.is_empty()),
        "the scenario picks something"
    );

    // The daemon, fusion role, listening on loopback.
    let daemon = common::start(
        config(),
        DaemonInput::Cameras {
            sources: HashMap::new(),
        },
        |o| {
            o.role = Role::Fusion;
            o.rate_hz = p.fps;
        },
    );
    let bus = daemon.client(&store.id);
    let carts: Arc<Mutex<Vec<Cart>>> = Arc::default();
    let c = carts.clone();
    bus.subscribe::<Cart, _>("carts/*", move |_, m| c.lock().expect("lock").push(m))
        .expect("subscribe carts");
    std::thread::sleep(Duration::from_millis(500));

    // Publish in time order: each frame's inputs, then its views.
    let frames = sim.views.values().map(Vec::len).max().unwrap_or(0);
    let (mut gi, mut si) = (0, 0);
    for k in 0..frames {
        let t = sim.views.values().next().map_or(0.0, |v| v[k].time);
        while gi < sim.gates.len() && sim.gates[gi].time <= t {
            let g = &sim.gates[gi];
            bus.put(&format!("gates/{}", g.gate), g).expect("gate");
            gi += 1;
        }
        while si < sim.shelves.len() && sim.shelves[si].time <= t {
            let w = &sim.shelves[si];
            bus.put(&format!("shelves/{}/weight", w.shelf), w)
                .expect("weight");
            si += 1;
        }
        std::thread::sleep(Duration::from_millis(2));
        for views in sim.views.values() {
            bus.put(&format!("views/{}", views[k].camera), &views[k])
                .expect("views");
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    std::thread::sleep(Duration::from_secs(2));
    let summary = daemon.finish();
    std::thread::sleep(Duration::from_millis(500));
    println!("live: {:?}\nfile: {:?}", summary.carts, file.final_carts);
    assert_eq!(summary.carts, file.final_carts);
    // Carts went out on zenoh, under pseudonyms.
    let got = carts.lock().expect("lock");
    assert!(!got.is_empty(), "no cart published");
    assert!(got.iter().all(|c| !c.shopper.contains("tok-")));
    bus.close();
    let _ = std::fs::remove_dir_all(&dir);
}
