//! The simulator on the sample store: reproducible, its ground truth consistent with itself and
//! with the store (carts are the sum of the events; clothing changes happen in the blind spot;
//! load cells settle at the items' weights; nobody is seen inside the walled-off corridor).

use std::collections::BTreeMap;
use std::path::PathBuf;

use walkout_geometry::{StoreConfig, ZoneKind};
use walkout_sim::{Scenario, SimParams, simulate};

fn store() -> StoreConfig {
    let path = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../calibration/sample-store.toml");
    StoreConfig::load(&path).expect("sample store")
}

#[test]
fn a_seed_gives_the_same_run_and_another_seed_a_different_one() {
    let s = store();
    let a = simulate(&s, &SimParams::new(Scenario::Calm, 3)).expect("sim");
    let b = simulate(&s, &SimParams::new(Scenario::Calm, 3)).expect("sim");
    let c = simulate(&s, &SimParams::new(Scenario::Calm, 4)).expect("sim");
    assert_eq!(a.views, b.views);
    assert_eq!(a.truth_events, b.truth_events);
    assert_ne!(a.truth_tracks, c.truth_tracks);
    assert_eq!(a.views.len(), s.cameras.len());
}

#[test]
fn every_family_runs_and_its_carts_are_the_sum_of_its_events() {
    let s = store();
    for scenario in Scenario::ALL {
        let out = simulate(&s, &SimParams::new(scenario, 1)).expect("sim");
        let mut carts: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for e in &out.truth_events {
            let q = i64::from(e.quantity);
            let c = carts.entry(e.token.clone()).or_default();
            *c.entry(e.sku.clone()).or_default() += if e.action == "pick" { q } else { -q };
        }
        for (token, truth) in &out.truth_carts {
            let sum: BTreeMap<String, u32> = carts
                .get(token)
                .map(|c| {
                    c.iter()
                        .filter(|(_, q)| **q > 0)
                        .map(|(k, q)| (k.clone(), *q as u32))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(&sum, truth, "{} {token}", scenario.name());
        }
        // Every shopper entered through the gate and left.
        assert_eq!(out.gates.len(), out.tokens.len(), "{}", scenario.name());
        let n = out.tokens.len();
        match scenario {
            Scenario::Busy => assert!(n >= 20, "busy has {n} shoppers"),
            Scenario::Returns => assert!(
                out.truth_events.iter().any(|e| e.action == "return"),
                "no returns"
            ),
            _ => {}
        }
        println!(
            "{}: {n} shoppers, {} events, {} clothing changes, {} frames",
            scenario.name(),
            out.truth_events.len(),
            out.clothing_changes.len(),
            out.views.values().map(Vec::len).max().unwrap_or(0)
        );
    }
}

#[test]
fn clothing_changes_happen_in_the_blind_spot_where_no_camera_sees() {
    let s = store();
    let blind = s
        .zones
        .iter()
        .find(|z| z.kind == ZoneKind::BlindSpot)
        .expect("blind spot")
        .polygon
        .clone();
    let out = simulate(&s, &SimParams::new(Scenario::ClothingChange, 2)).expect("sim");
    assert!(out.clothing_changes.len() >= 2);
    let fps = 10.0;
    for ch in &out.clothing_changes {
        let id = out.tokens[&ch.token];
        let frame = (ch.time * fps).round() as i64;
        let at = out
            .truth_tracks
            .iter()
            .find(|r| r.id == id && (r.frame - frame).abs() <= 1)
            .expect("position at the change");
        assert!(
            blind.contains(glam::DVec2::new(at.x, at.y)),
            "{} changed at ({:.1}, {:.1})",
            ch.token,
            at.x,
            at.y
        );
        // The corridor is walled off: no camera sees the spot.
        let occ = s.occluders();
        let p = glam::DVec3::new(at.x, at.y, 1.0);
        let seeing = s
            .cameras()
            .filter(|c| c.sees(p) && !occ.blocks(c.centre(), p))
            .count();
        assert_eq!(
            seeing, 0,
            "{} changed in view of {seeing} cameras",
            ch.token
        );
    }
    // The adversarial pairs change together: not alone.
    let adv = simulate(&s, &SimParams::new(Scenario::Adversarial, 2)).expect("sim");
    assert!(!adv.clothing_changes.is_empty());
    assert!(adv.clothing_changes.iter().all(|c| !c.alone));
}

#[test]
fn load_cells_settle_at_the_picked_items_weight() {
    let s = store();
    let mut p = SimParams::new(Scenario::Calm, 5);
    p.cell_noise_kg = 0.001;
    let out = simulate(&s, &p).expect("sim");
    let e = out.truth_events.first().expect("an event");
    let unit = s
        .shelves
        .iter()
        .flat_map(|sh| &sh.levels)
        .flat_map(|l| &l.facings)
        .find(|f| f.sku == e.sku)
        .expect("sku")
        .unit_weight_kg;
    let level_readings: Vec<(f64, f64)> = out
        .shelves
        .iter()
        .filter(|w| w.shelf == e.shelf && w.level == e.level)
        .map(|w| (w.time, w.weight_kg))
        .collect();
    let mean = |from: f64, to: f64| {
        let v: Vec<f64> = level_readings
            .iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, w)| *w)
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let before = mean(e.time - 2.0, e.time - 0.5);
    let after = mean(e.time + 2.0, e.time + 3.0);
    let expected = -unit * f64::from(e.quantity);
    assert!(
        ((after - before) - expected).abs() < 0.01,
        "{} x{}: change {:.3} kg, expected {expected:.3}",
        e.sku,
        e.quantity,
        after - before
    );
}

#[test]
fn shoppers_walk_around_each_other_and_take_turns_at_a_shelf() {
    let s = store();
    for (scenario, seed) in [
        (Scenario::Calm, 3),
        (Scenario::CrowdedShelf, 1),
        (Scenario::Busy, 1),
    ] {
        let out = simulate(&s, &SimParams::new(scenario, seed)).expect("sim");
        let mut by_frame: std::collections::BTreeMap<i64, Vec<(f64, f64)>> = Default::default();
        for r in &out.truth_tracks {
            // The restroom (x > 20 m) is left out: shoppers swap outfits there together.
            if r.x < 20.0 {
                by_frame.entry(r.frame).or_default().push((r.x, r.y));
            }
        }
        let crowded = by_frame
            .values()
            .filter(|ps| {
                ps.iter().enumerate().any(|(i, a)| {
                    ps[i + 1..]
                        .iter()
                        .any(|b| (a.0 - b.0).hypot(a.1 - b.1) < 0.3)
                })
            })
            .count();
        assert!(
            (crowded as f64) < 0.01 * by_frame.len() as f64,
            "{scenario:?} seed {seed}: {crowded} of {} frames with two shoppers closer than 0.3 m",
            by_frame.len()
        );
        // Nobody is stuck: every run ends within a few minutes.
        assert!(
            by_frame.len() < 3000,
            "{scenario:?}: {} frames",
            by_frame.len()
        );
    }
}

#[test]
fn every_item_is_taken_or_put_back_by_a_body_within_arm_s_reach_of_the_bay() {
    let s = store();
    for (scenario, seed) in [
        (Scenario::CrowdedShelf, 15),
        (Scenario::CrowdedShelf, 18),
        (Scenario::Busy, 1),
    ] {
        let params = SimParams::new(scenario, seed);
        let out = simulate(&s, &params).expect("sim");
        let at: BTreeMap<(i64, i64), (f64, f64)> = out
            .truth_tracks
            .iter()
            .map(|r| ((r.frame, r.id), (r.x, r.y)))
            .collect();
        assert!(!out.truth_events.is_empty());
        for e in &out.truth_events {
            let id = out.tokens[&e.token];
            let frame = (e.time * params.fps).round() as i64;
            let (x, y) = at[&(frame, id)];
            let bay = s.shelves.iter().find(|b| b.id == e.shelf).expect("bay");
            let d = (bay.min.x - x)
                .max(x - bay.max.x)
                .max(0.0)
                .hypot((bay.min.y - y).max(y - bay.max.y).max(0.0));
            // An arm, from the body's centre (the sim's bodies stand 0.45 m from the face, or
            // beside a bay's end; kept farther by a crowd, they give up on that shelf).
            assert!(
                d <= 0.8,
                "{scenario:?} seed {seed}: {} {} on {} from {d:.2} m away",
                e.token,
                e.action,
                e.shelf
            );
        }
    }
}
