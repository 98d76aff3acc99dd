//! walkout-sim: a store simulator. Shoppers (height, walking speed, outfit) enter through the
//! gate with a payment token, walk around shelves (A* on the floor), pick items and sometimes
//! put them back (same shelf or another), change clothes in the blind spot, and leave through
//! the exit. It renders sensor data, not pixels: per camera the person boxes a detector would
//! give (a 3D body projected through the real camera model, hidden by shelves, walls and nearer
//! people, with misses, jitter and false positives), appearance embeddings per outfit with
//! noise, wrists, and shelf load-cell streams (noise, drift, settling, hand contact). It also
//! writes the ground truth: tracks, events and final carts per token.

pub mod nav;
pub mod render;

use std::collections::BTreeMap;
use std::path::Path;

use glam::{DVec2, DVec3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use walkout_geometry::config::ZoneKind;
use walkout_geometry::{Polygon, StoreConfig};
use walkout_types::{
    GateDirection, GateMessage, SCHEMA_VERSION, ShelfWeight, TimeSource, ViewDetections,
};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{config}: the simulator needs {what}")]
    Store { config: String, what: String },
    #[error(
        "unknown scenario `{0}` (calm, busy, clothing-change, returns, crowded-shelf, adversarial)"
    )]
    Scenario(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("no walkable path from ({0:.1}, {1:.1}) to ({2:.1}, {3:.1})")]
    NoPath(f64, f64, f64, f64),
}

/// Scenario families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    Calm,
    Busy,
    ClothingChange,
    Returns,
    CrowdedShelf,
    Adversarial,
}

impl Scenario {
    pub const ALL: [Scenario; 6] = [
        Scenario::Calm,
        Scenario::Busy,
        Scenario::ClothingChange,
        Scenario::Returns,
        Scenario::CrowdedShelf,
        Scenario::Adversarial,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Calm => "calm",
            Scenario::Busy => "busy",
            Scenario::ClothingChange => "clothing-change",
            Scenario::Returns => "returns",
            Scenario::CrowdedShelf => "crowded-shelf",
            Scenario::Adversarial => "adversarial",
        }
    }

    pub fn parse(s: &str) -> Result<Scenario, SimError> {
        Scenario::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| SimError::Scenario(s.to_string()))
    }

    fn default_shoppers(self) -> usize {
        match self {
            Scenario::Calm => 6,
            Scenario::Busy => 22,
            Scenario::ClothingChange => 6,
            Scenario::Returns => 8,
            Scenario::CrowdedShelf => 8,
            Scenario::Adversarial => 4,
        }
    }
}

/// Sensor and crowd parameters.
#[derive(Debug, Clone)]
pub struct SimParams {
    pub scenario: Scenario,
    pub seed: u64,
    /// Shoppers (default per scenario).
    pub shoppers: Option<usize>,
    /// Camera frame rate (also the load-cell rate), Hz.
    pub fps: f64,
    /// Probability that a visible person is not detected in a view.
    pub p_miss: f64,
    /// Box edge jitter, pixels (standard deviation).
    pub jitter_px: f64,
    /// False positives per camera frame (Poisson mean).
    pub fp_rate: f64,
    /// Appearance embedding size and noise (standard deviation of the vector added, per unit).
    pub embed_dim: usize,
    pub embed_noise: f64,
    /// Load-cell noise (standard deviation, kg), drift (kg per minute), settling time (s).
    pub cell_noise_kg: f64,
    pub cell_drift_kg_per_min: f64,
    pub settle_s: f64,
}

impl SimParams {
    pub fn new(scenario: Scenario, seed: u64) -> SimParams {
        SimParams {
            scenario,
            seed,
            shoppers: None,
            fps: 10.0,
            p_miss: 0.05,
            jitter_px: 2.0,
            fp_rate: 0.02,
            embed_dim: 32,
            embed_noise: 0.35,
            cell_noise_kg: 0.003,
            cell_drift_kg_per_min: 0.003,
            settle_s: 0.8,
        }
    }
}

/// What a shopper does at a shelf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Pick {
        quantity: u32,
    },
    /// Puts back `quantity` of `sku` (taken earlier, possibly from another shelf).
    Return {
        sku: String,
        quantity: u32,
    },
    /// Reaches into the shelf without taking anything (a hand in reach, no weight change).
    Touch,
}

#[derive(Debug, Clone)]
enum Step {
    Shelf {
        shelf: usize,
        level: usize,
        at: DVec2,
        action: Action,
        /// Start the action no earlier than this (crowded and adversarial timings).
        not_before: f64,
    },
    /// The blind spot: wait there, then wear `outfit`.
    Restroom {
        at: DVec2,
        dwell_s: f64,
        outfit: usize,
        /// Wait for this shopper to arrive too (a swap together).
        with: Option<usize>,
    },
    Exit,
}

/// One simulated shopper.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub token: String,
    pub height_m: f64,
    pub speed_mps: f64,
    pub outfit: usize,
    pub enter_s: f64,
    steps: Vec<Step>,
}

/// A ground-truth event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthEvent {
    pub time: f64,
    pub token: String,
    pub shelf: String,
    pub level: u32,
    pub sku: String,
    /// `pick` or `return`.
    pub action: String,
    pub quantity: u32,
}

/// A clothing change in the blind spot, and whether the shopper was alone there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClothingChange {
    pub token: String,
    pub time: f64,
    pub alone: bool,
}

/// Everything a run produces.
#[derive(Debug, Clone, Default)]
pub struct SimOutput {
    pub store: String,
    pub views: BTreeMap<String, Vec<ViewDetections>>,
    pub gates: Vec<GateMessage>,
    pub shelves: Vec<ShelfWeight>,
    /// `frame,id,x,y`: id = shopper index + 1.
    pub truth_tracks: Vec<walkout_eval::Row>,
    pub truth_events: Vec<TruthEvent>,
    /// token -> {sku: quantity}.
    pub truth_carts: BTreeMap<String, BTreeMap<String, u32>>,
    pub clothing_changes: Vec<ClothingChange>,
    /// token -> shopper index + 1 (the truth tracks' id).
    pub tokens: BTreeMap<String, i64>,
    /// token -> the shopper's head height, metres (for diagnosing identity decisions).
    pub heights: BTreeMap<String, f64>,
}

fn zone(store: &StoreConfig, kind: ZoneKind) -> Result<&Polygon, SimError> {
    store
        .zones
        .iter()
        .find(|z| z.kind == kind)
        .map(|z| &z.polygon)
        .ok_or_else(|| SimError::Store {
            config: store.path.display().to_string(),
            what: format!("a zone of kind {kind:?}"),
        })
}

fn centroid(p: &Polygon) -> DVec2 {
    let (lo, hi) = p.bounds();
    (lo + hi) / 2.0
}

pub(crate) fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller.
    let u1: f64 = rng.gen_range(1e-12..1.0);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The aisle point in front of a shelf (the side with more room), at a random place along it.
fn access_point(store: &StoreConfig, shelf: usize, rng: &mut ChaCha8Rng) -> DVec2 {
    let s = &store.shelves[shelf];
    let x = rng.gen_range(s.min.x + 0.4..s.max.x - 0.4);
    let front = DVec2::new(x, s.min.y - 0.45);
    let back = DVec2::new(x, s.max.y + 0.45);
    let clear = |p: DVec2| {
        store.floor.contains(p)
            && !store.shelves.iter().any(|o| {
                p.x > o.min.x - 0.3
                    && p.x < o.max.x + 0.3
                    && p.y > o.min.y - 0.3
                    && p.y < o.max.y + 0.3
            })
    };
    match (clear(front), clear(back)) {
        (true, true) => {
            if rng.gen_bool(0.5) {
                front
            } else {
                back
            }
        }
        (false, true) => back,
        _ => front,
    }
}

/// Plans the scenario's shoppers.
fn plan(
    store: &StoreConfig,
    p: &SimParams,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Shopper>, SimError> {
    let n = p.shoppers.unwrap_or(p.scenario.default_shoppers());
    // The far end of the blind spot (away from the hall's centre).
    let restroom = {
        let (lo, hi) = zone(store, ZoneKind::BlindSpot)?.bounds();
        let hall = centroid(&store.floor);
        let x = if (lo.x - hall.x).abs() > (hi.x - hall.x).abs() {
            lo.x + 0.5
        } else {
            hi.x - 0.5
        };
        DVec2::new(x, (lo.y + hi.y) / 2.0)
    };
    let nshelves = store.shelves.len();
    if nshelves == 0 {
        return Err(SimError::Store {
            config: store.path.display().to_string(),
            what: "shelves".into(),
        });
    }
    let gap = match p.scenario {
        Scenario::Busy => 2.5,
        Scenario::CrowdedShelf => 1.5,
        Scenario::ClothingChange => 20.0,
        Scenario::Adversarial => 0.0,
        _ => 7.0,
    };
    let mut shoppers = Vec::new();
    let mut outfits = 0usize;
    for i in 0..n {
        let mut height = (1.70 + 0.08 * gauss(rng)).clamp(1.50, 1.95);
        if p.scenario == Scenario::Adversarial && i % 2 == 1 {
            // Pairs of nearly the same height: the swap cannot be told by height.
            height = shoppers
                .last()
                .map_or(height, |s: &Shopper| s.height_m + 0.01);
        }
        let enter = match p.scenario {
            Scenario::Adversarial => (i / 2) as f64 * 40.0 + (i % 2) as f64 * 1.5,
            _ => i as f64 * gap + rng.gen_range(0.0..gap.max(0.5) * 0.3),
        };
        let outfit = outfits;
        outfits += 1;
        let mut steps = Vec::new();
        let mut taken: Vec<(String, usize, usize)> = Vec::new();
        let visits = rng.gen_range(2..=4);
        for v in 0..visits {
            let shelf = if p.scenario == Scenario::CrowdedShelf && v == 0 {
                2 % nshelves
            } else {
                rng.gen_range(0..nshelves)
            };
            let level = rng.gen_range(0..store.shelves[shelf].levels.len().max(1));
            let quantity = if rng.gen_bool(0.15) { 2 } else { 1 };
            let at = access_point(store, shelf, rng);
            if let Some(f) = store.shelves[shelf]
                .levels
                .get(level)
                .and_then(|l| l.facings.first())
            {
                taken.push((f.sku.clone(), shelf, level));
            }
            steps.push(Step::Shelf {
                shelf,
                level,
                at,
                action: Action::Pick { quantity },
                not_before: 0.0,
            });
            if quantity == 2 {
                // Remember both units.
                if let Some(t) = taken.last().cloned() {
                    taken.push(t);
                }
            }
        }
        let returns = match p.scenario {
            Scenario::Returns => rng.gen_range(1..=2),
            Scenario::Calm | Scenario::Busy => usize::from(rng.gen_bool(0.15)),
            _ => 0,
        };
        for _ in 0..returns.min(taken.len()) {
            let k = rng.gen_range(0..taken.len());
            let (sku, shelf0, level0) = taken.remove(k);
            let (shelf, level) = if rng.gen_bool(0.4) {
                // The wrong shelf.
                let s = rng.gen_range(0..nshelves);
                (s, rng.gen_range(0..store.shelves[s].levels.len().max(1)))
            } else {
                (shelf0, level0)
            };
            let at = access_point(store, shelf, rng);
            steps.push(Step::Shelf {
                shelf,
                level,
                at,
                action: Action::Return { sku, quantity: 1 },
                not_before: 0.0,
            });
        }
        let change = match p.scenario {
            Scenario::ClothingChange => i % 2 == 0,
            Scenario::Adversarial => true,
            _ => false,
        };
        if change {
            let at_step = rng.gen_range(1..steps.len().max(2));
            let new_outfit = outfits;
            outfits += 1;
            let with = if p.scenario == Scenario::Adversarial {
                Some(if i % 2 == 0 { i + 1 } else { i - 1 })
            } else {
                None
            };
            steps.insert(
                at_step.min(steps.len()),
                Step::Restroom {
                    at: restroom + DVec2::new(0.0, if i % 2 == 0 { -0.4 } else { 0.4 }),
                    dwell_s: rng.gen_range(10.0..20.0),
                    outfit: new_outfit,
                    with,
                },
            );
        }
        steps.push(Step::Exit);
        shoppers.push(Shopper {
            token: format!("tok-{}-{}-{i}", p.scenario.name(), p.seed),
            height_m: height,
            speed_mps: rng.gen_range(0.9..1.4),
            outfit,
            enter_s: 1.0 + enter,
            steps,
        });
    }
    if p.scenario == Scenario::Adversarial {
        // After the swap, the pair's outfits are exchanged (each wears the other's).
        for pair in shoppers.chunks_mut(2) {
            if let [a, b] = pair {
                let (oa, ob) = (a.outfit, b.outfit);
                for s in a.steps.iter_mut() {
                    if let Step::Restroom { outfit, .. } = s {
                        *outfit = ob;
                    }
                }
                for s in b.steps.iter_mut() {
                    if let Step::Restroom { outfit, .. } = s {
                        *outfit = oa;
                    }
                }
            }
        }
    }
    Ok(shoppers)
}

#[derive(Debug, Clone)]
enum Phase {
    Waiting,
    Walking {
        path: Vec<DVec2>,
        next: usize,
    },
    AtShelf {
        until: f64,
        action_at: f64,
        done: bool,
    },
    InRestroom {
        until: f64,
    },
    Gone,
}

/// Distance from `p` to the nearest person on the floor other than `me`.
fn clearance_from(on_floor: &[Option<DVec2>], me: usize, p: DVec2) -> f64 {
    on_floor
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != me)
        .filter_map(|(_, o)| o.map(|o| o.distance(p)))
        .fold(f64::INFINITY, f64::min)
}

/// Walkers keep at least this far from each other (centre to centre), metres ...
const PERSONAL_M: f64 = 0.6;
/// How far beside a bay's end a body may stand and still reach into it, metres.
const SIDE_REACH_M: f64 = 0.3;
/// ... unless kept waiting this long (a deadlock breaker), seconds.
const MAX_BLOCKED_S: f64 = 5.0;
/// How far from a bay a body may stand and still take from it (body centre to the bay's
/// footprint, metres): one kept from the shelf farther than this gives up on it.
const ARM_REACH_M: f64 = 0.75;

struct Agent {
    /// Seconds this walker has been kept from its path by others ...
    blocked_s: f64,
    /// ... and, once that reached MAX_BLOCKED_S, until when it walks on regardless.
    push_until: f64,
    s: Shopper,
    pos: DVec2,
    step: usize,
    phase: Phase,
    outfit: usize,
    /// Reaching into a shelf: the 3D hand point, until this time.
    reach: Option<(DVec3, f64)>,
    /// Which way the body faces: the way it last walked (unit vector).
    facing: DVec2,
    /// Someone else was in the blind spot during this restroom visit.
    company: bool,
    /// The clothing change of this visit, decided "alone" once they leave the blind spot.
    pending_change: Option<usize>,
}

/// One load-cell event: a settled change at `time` with a hand in the shelf around it.
struct CellEvent {
    time: f64,
    delta_kg: f64,
    contact_kg: f64,
}

/// Runs a scenario on a store.
pub fn simulate(store: &StoreConfig, p: &SimParams) -> Result<SimOutput, SimError> {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed ^ (p.scenario as u64) << 40);
    let shoppers = plan(store, p, &mut rng)?;
    let nav = nav::NavGrid::new(&store.floor, &store.shelves, &store.walls, 0.2);
    let entrance = centroid(zone(store, ZoneKind::Entrance)?);
    let exit = centroid(zone(store, ZoneKind::Exit)?);
    let blind = zone(store, ZoneKind::BlindSpot)?.clone();
    let entrance_gate = store
        .zones
        .iter()
        .find(|z| z.kind == ZoneKind::Entrance)
        .map_or("entrance".to_string(), |z| z.id.clone());

    let total_outfits =
        shoppers.iter().map(|s| s.outfit).max().unwrap_or(0) + 2 * shoppers.len() + 2;
    let outfits: Vec<Vec<f32>> = (0..total_outfits)
        .map(|_| render::unit_vector(&mut rng, p.embed_dim))
        .collect();

    let mut out = SimOutput {
        store: store.id.clone(),
        ..Default::default()
    };
    for (i, s) in shoppers.iter().enumerate() {
        out.tokens.insert(s.token.clone(), i as i64 + 1);
        out.heights.insert(s.token.clone(), s.height_m);
        out.truth_carts.insert(s.token.clone(), BTreeMap::new());
        out.gates.push(GateMessage {
            schema: SCHEMA_VERSION,
            store: store.id.clone(),
            gate: entrance_gate.clone(),
            time: s.enter_s - 0.5,
            token: s.token.clone(),
            direction: GateDirection::Entry,
        });
    }
    let mut agents: Vec<Agent> = shoppers
        .into_iter()
        .map(|s| Agent {
            pos: entrance,
            outfit: s.outfit,
            s,
            step: 0,
            phase: Phase::Waiting,
            reach: None,
            facing: DVec2::Y,
            company: false,
            pending_change: None,
            blocked_s: 0.0,
            push_until: 0.0,
        })
        .collect();
    // Load cells: (shelf, level) -> events.
    let mut cells: BTreeMap<(usize, usize), Vec<CellEvent>> = BTreeMap::new();
    let dt = 1.0 / p.fps;
    let mut renderer = render::Renderer::new(store, p);
    let mut frame = 0u64;
    let max_frames = (3600.0 * p.fps) as u64;
    loop {
        let t = frame as f64 * dt;
        // Who is in the restroom now (for swaps and "alone").
        let in_blind: Vec<usize> = agents
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                !matches!(a.phase, Phase::Waiting | Phase::Gone) && blind.contains(a.pos)
            })
            .map(|(i, _)| i)
            .collect();
        // Per agent: whether it is in the restroom now or has been (a swap partner who has
        // already left does not keep the other waiting).
        let positions: Vec<(DVec2, bool)> = agents
            .iter()
            .map(|a| {
                let been = a.s.steps[..a.step.min(a.s.steps.len())]
                    .iter()
                    .any(|s| matches!(s, Step::Restroom { .. }));
                (a.pos, been || matches!(a.phase, Phase::InRestroom { .. }))
            })
            .collect();
        // Where the people on the floor are (the restroom is left out: shoppers who swap
        // outfits there are together), updated as each one moves.
        let mut on_floor: Vec<Option<DVec2>> = agents
            .iter()
            .map(|a| {
                (!matches!(a.phase, Phase::Waiting | Phase::Gone) && !blind.contains(a.pos))
                    .then_some(a.pos)
            })
            .collect();
        // Who is squeezing past others now (they have the way: the others step aside).
        let pushing: Vec<bool> = agents.iter().map(|a| t < a.push_until).collect();
        for (i, a) in agents.iter_mut().enumerate() {
            let was_at = a.pos;
            a.reach = a.reach.filter(|(_, until)| *until >= t);
            // Alone in the blind spot: nobody else in it at any moment of the visit, walking
            // in and out included (two people passing there could swap for all the cameras
            // know); decided when they come out.
            if !matches!(a.phase, Phase::Waiting | Phase::Gone) {
                if blind.contains(a.pos) {
                    if in_blind.iter().any(|&j| j != i) {
                        a.company = true;
                    }
                } else {
                    if let Some(c) = a.pending_change.take() {
                        out.clothing_changes[c].alone = !a.company;
                    }
                    a.company = false;
                }
            }
            // Stepping to `p` brings `a` closer than PERSONAL_M to someone (and closer than
            // it already is).
            let crowds = |on_floor: &[Option<DVec2>], from: DVec2, p: DVec2| {
                !blind.contains(p)
                    && on_floor.iter().enumerate().any(|(j, o)| {
                        o.is_some_and(|o| {
                            j != i && o.distance(p) < PERSONAL_M && o.distance(p) < o.distance(from)
                        })
                    })
            };
            match a.phase.clone() {
                Phase::Gone => continue,
                Phase::Waiting => {
                    // Through the gate one at a time.
                    if t >= a.s.enter_s && !crowds(&on_floor, entrance + DVec2::X * 1e3, entrance) {
                        a.pos = entrance;
                        a.phase = start_step(&nav, a, exit)?;
                    }
                }
                Phase::Walking { mut path, mut next } => {
                    let from = a.pos;
                    let mut give_up = false;
                    // Someone squeezing past (with the way over this one) is close: step aside,
                    // to wherever keeps farthest from everyone.
                    let yield_to = on_floor.iter().enumerate().any(|(j, o)| {
                        j != i
                            && pushing[j]
                            && (!pushing[i] || j < i)
                            && o.is_some_and(|o| o.distance(from) < PERSONAL_M)
                    });
                    if yield_to {
                        let clearance = |p: DVec2| clearance_from(&on_floor, i, p);
                        let step = a.s.speed_mps * dt;
                        if let Some(p) = (0..8)
                            .map(|k| {
                                from + DVec2::from_angle(k as f64 * std::f64::consts::FRAC_PI_4)
                                    * step
                            })
                            .filter(|p| nav.line_free(from, *p))
                            .max_by(|p, q| clearance(*p).total_cmp(&clearance(*q)))
                            .filter(|p| clearance(*p) > clearance(from))
                        {
                            a.pos = p;
                            if let Some(goal) = path.last().copied()
                                && let Some(new_path) = nav.path(p, goal)
                            {
                                path = new_path;
                                next = 0;
                            }
                        }
                        on_floor[i] = (!blind.contains(a.pos)).then_some(a.pos);
                        a.phase = Phase::Walking { path, next };
                        continue;
                    }
                    let (mut want, mut want_next) = (a.pos, next);
                    let mut budget = a.s.speed_mps * dt;
                    while budget > 0.0 && want_next < path.len() {
                        let d = path[want_next] - want;
                        let len = d.length();
                        if len <= budget {
                            want = path[want_next];
                            budget -= len;
                            want_next += 1;
                        } else {
                            want += d / len * budget;
                            budget = 0.0;
                        }
                    }
                    let near_goal = path.last().is_some_and(|g| g.distance(from) < 1.5);
                    if a.blocked_s >= MAX_BLOCKED_S && !near_goal {
                        a.push_until = t + 2.0;
                        a.blocked_s = 0.0;
                    }
                    if t < a.push_until {
                        // Squeezing past: the step (straight on or turned up to ~35 degrees)
                        // that keeps farthest from everyone.
                        let step = want - from;
                        let clearance = |p: DVec2| clearance_from(&on_floor, i, p);
                        let best = [0.0f64, 0.6, -0.6]
                            .into_iter()
                            .map(|angle| from + DVec2::from_angle(angle).rotate(step))
                            .filter(|p| nav.line_free(from, *p))
                            .max_by(|p, q| clearance(*p).total_cmp(&clearance(*q)));
                        a.pos = best.unwrap_or(want);
                        if a.pos == want {
                            next = want_next;
                        } else if let Some(goal) = path.last().copied()
                            && !nav.line_free(a.pos, path.get(next).copied().unwrap_or(goal))
                            && let Some(new_path) = nav.path(a.pos, goal)
                        {
                            path = new_path;
                            next = 0;
                        }
                        a.blocked_s = 0.0;
                    } else if !crowds(&on_floor, from, want) {
                        a.pos = want;
                        next = want_next;
                        a.blocked_s = 0.0;
                    } else if let Some(goal) =
                        path.last().copied().filter(|g| g.distance(from) < 1.5)
                    {
                        // Someone stands where this walker is going (at a shelf): it takes a
                        // free spot beside them along the shelf, or waits its turn.
                        // A spot from which an arm reaches into the bay it is going to.
                        let bay = match a.s.steps.get(a.step) {
                            Some(Step::Shelf { shelf, .. }) => {
                                let sh = &store.shelves[*shelf];
                                Some((sh.min.x - SIDE_REACH_M, sh.max.x + SIDE_REACH_M))
                            }
                            _ => None,
                        };
                        let free_spot = [0.65, -0.65, 1.3, -1.3]
                            .into_iter()
                            .map(|dx| goal + DVec2::new(dx, 0.0))
                            .filter(|p| bay.is_none_or(|(lo, hi)| p.x >= lo && p.x <= hi))
                            .filter(|p| {
                                on_floor.iter().enumerate().all(|(j, o)| {
                                    j == i || o.is_none_or(|o| o.distance(*p) >= PERSONAL_M)
                                })
                            })
                            .find_map(|p| {
                                nav.path(from, p)
                                    .filter(|q| q.last().is_some_and(|e| e.distance(p) < 0.2))
                            });
                        if let Some(new_path) = free_spot {
                            path = new_path;
                            next = 0;
                        } else if a.blocked_s >= MAX_BLOCKED_S {
                            // Waited long enough: it reaches in from where it stands if an
                            // arm reaches the bay from there, else it gives up on this shelf.
                            let within_arm = match a.s.steps.get(a.step) {
                                Some(Step::Shelf { shelf, .. }) => {
                                    let sh = &store.shelves[*shelf];
                                    let d = (DVec2::new(sh.min.x, sh.min.y) - from)
                                        .max(from - DVec2::new(sh.max.x, sh.max.y))
                                        .max(DVec2::ZERO);
                                    d.length() <= ARM_REACH_M
                                }
                                _ => true,
                            };
                            next = path.len();
                            give_up = !within_arm;
                            a.blocked_s = 0.0;
                        } else {
                            a.blocked_s += dt;
                        }
                    } else {
                        // Step around the person in the way (turning as little as needed),
                        // then walk on from there; else wait.
                        let step = want - from;
                        let side = [0.6f64, -0.6, 1.2, -1.2, 1.8, -1.8]
                            .into_iter()
                            .map(|angle| from + DVec2::from_angle(angle).rotate(step))
                            .find(|p| !crowds(&on_floor, from, *p) && nav.line_free(from, *p));
                        match side.zip(path.last().copied()) {
                            Some((p, goal)) => {
                                a.pos = p;
                                // Still kept from the path (two walkers may dance around
                                // each other): the deadlock breaker keeps counting.
                                a.blocked_s += dt;
                                let ahead = path.get(next).copied().unwrap_or(goal);
                                if !nav.line_free(p, ahead)
                                    && let Some(new_path) = nav.path(p, goal)
                                {
                                    path = new_path;
                                    next = 0;
                                }
                            }
                            None => a.blocked_s += dt,
                        }
                    }
                    on_floor[i] = (!blind.contains(a.pos)).then_some(a.pos);
                    a.phase = if give_up {
                        a.step += 1;
                        start_step(&nav, a, exit)?
                    } else if next >= path.len() {
                        arrive(a, t, &mut rng)
                    } else {
                        Phase::Walking { path, next }
                    };
                }
                Phase::AtShelf {
                    until,
                    action_at,
                    done,
                } => {
                    let mut done = done;
                    if let Step::Shelf {
                        shelf,
                        level,
                        action,
                        ..
                    } = &a.s.steps[a.step]
                        && !done
                        && t >= action_at
                    {
                        done = true;
                        let sh = &store.shelves[*shelf];
                        let lv = &sh.levels[*level];
                        let face_y = if a.pos.y < sh.min.y {
                            sh.min.y
                        } else {
                            sh.max.y
                        };
                        // The hand takes the item where it is: in the bay, whatever spot
                        // along the shelf the body stands at.
                        let hand = DVec3::new(
                            a.pos.x.clamp(sh.min.x + 0.1, sh.max.x - 0.1),
                            face_y,
                            lv.height_m + 0.1,
                        );
                        a.reach = Some((hand, t + 0.6));
                        let shelf_sku = lv
                            .facings
                            .first()
                            .map(|f| (f.sku.clone(), f.unit_weight_kg));
                        let contact = rng.gen_range(0.1..0.5);
                        let cart = out.truth_carts.entry(a.s.token.clone()).or_default();
                        let event = match action {
                            Action::Pick { quantity } => shelf_sku.map(|(sku, w)| {
                                *cart.entry(sku.clone()).or_default() += quantity;
                                (sku, -w * f64::from(*quantity))
                            }),
                            Action::Return { sku, quantity } => {
                                let w = unit_weight(store, sku).unwrap_or(0.0);
                                let held = cart.get(sku).copied().unwrap_or(0);
                                if held >= *quantity {
                                    *cart.entry(sku.clone()).or_default() -= quantity;
                                    cart.retain(|_, q| *q > 0);
                                    Some((sku.clone(), w * f64::from(*quantity)))
                                } else {
                                    None
                                }
                            }
                            Action::Touch => None,
                        };
                        let delta = event.as_ref().map_or(0.0, |e| e.1);
                        cells.entry((*shelf, *level)).or_default().push(CellEvent {
                            time: t,
                            delta_kg: delta,
                            contact_kg: contact,
                        });
                        if let Some((sku, _)) = event {
                            let (kind, quantity) = match action {
                                Action::Pick { quantity } => ("pick", *quantity),
                                Action::Return { quantity, .. } => ("return", *quantity),
                                Action::Touch => ("touch", 0),
                            };
                            out.truth_events.push(TruthEvent {
                                time: t,
                                token: a.s.token.clone(),
                                shelf: sh.id.clone(),
                                level: *level as u32,
                                sku,
                                action: kind.into(),
                                quantity,
                            });
                        }
                    }
                    a.phase = if t >= until {
                        a.step += 1;
                        start_step(&nav, a, exit)?
                    } else {
                        Phase::AtShelf {
                            until,
                            action_at,
                            done,
                        }
                    };
                }
                Phase::InRestroom { until } => {
                    let partner_here = match &a.s.steps[a.step] {
                        Step::Restroom { with: Some(j), .. } => {
                            positions.get(*j).is_some_and(|(_, in_room)| *in_room)
                        }
                        _ => true,
                    };
                    if t >= until && partner_here {
                        if let Step::Restroom { outfit, .. } = &a.s.steps[a.step] {
                            a.outfit = *outfit;
                            out.clothing_changes.push(ClothingChange {
                                token: a.s.token.clone(),
                                time: t,
                                alone: false,
                            });
                            a.pending_change = Some(out.clothing_changes.len() - 1);
                        }
                        a.step += 1;
                        a.phase = start_step(&nav, a, exit)?;
                    }
                }
            }
            if a.s
                .steps
                .get(a.step)
                .is_some_and(|s| matches!(s, Step::Exit))
                && matches!(a.phase, Phase::Walking { ref path, next } if next >= path.len())
            {
                a.phase = Phase::Gone;
            }
            let moved = a.pos - was_at;
            if moved.length() > 1e-3 {
                a.facing = moved.normalize();
            }
        }
        // Ground truth and views of this frame.
        let present: Vec<render::Body> = agents
            .iter()
            .enumerate()
            .filter(|(_, a)| !matches!(a.phase, Phase::Waiting | Phase::Gone))
            .map(|(i, a)| render::Body {
                id: i,
                pos: a.pos,
                height_m: a.s.height_m,
                appearance: &outfits[a.outfit],
                reach: a.reach.map(|r| r.0),
                facing: a.facing,
            })
            .collect();
        for b in &present {
            out.truth_tracks.push(walkout_eval::Row {
                frame: frame as i64,
                id: b.id as i64 + 1,
                x: b.pos.x,
                y: b.pos.y,
            });
        }
        for (cam, dets) in renderer.render(&present, &mut rng) {
            out.views
                .entry(cam.clone())
                .or_default()
                .push(ViewDetections {
                    schema: SCHEMA_VERSION,
                    store: store.id.clone(),
                    camera: cam,
                    frame,
                    time: t,
                    time_source: TimeSource::FrameIndex,
                    detections: dets,
                });
        }
        frame += 1;
        let all_gone = agents.iter().all(|a| matches!(a.phase, Phase::Gone));
        if all_gone || frame >= max_frames {
            break;
        }
    }
    // Load-cell streams for the whole run.
    let frames = frame;
    for (si, sh) in store.shelves.iter().enumerate() {
        for li in 0..sh.levels.len() {
            let base = 20.0 + rng.gen_range(0.0..5.0);
            let events = cells.remove(&(si, li)).unwrap_or_default();
            let drift = p.cell_drift_kg_per_min / 60.0 * if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
            let tau = p.settle_s / 3.0;
            for f in 0..frames {
                let t = f as f64 * dt;
                let mut w = base + drift * t + p.cell_noise_kg * gauss(&mut rng);
                for e in &events {
                    if t >= e.time {
                        w += e.delta_kg * (1.0 - (-(t - e.time) / tau).exp());
                    }
                    // A hand presses on the shelf around the action.
                    let c = (t - e.time + 0.2) / 0.6;
                    if (0.0..1.0).contains(&c) {
                        w += e.contact_kg * (std::f64::consts::PI * c).sin();
                    }
                }
                out.shelves.push(ShelfWeight {
                    schema: SCHEMA_VERSION,
                    store: store.id.clone(),
                    shelf: sh.id.clone(),
                    level: li as u32,
                    time: t,
                    weight_kg: w,
                });
            }
        }
    }
    out.shelves
        .sort_by(|a, b| a.time.total_cmp(&b.time).then(a.shelf.cmp(&b.shelf)));
    Ok(out)
}

fn unit_weight(store: &StoreConfig, sku: &str) -> Option<f64> {
    store
        .shelves
        .iter()
        .flat_map(|s| &s.levels)
        .flat_map(|l| &l.facings)
        .find(|f| f.sku == sku)
        .map(|f| f.unit_weight_kg)
}

/// Starts walking to the current step's place.
fn start_step(nav: &nav::NavGrid, a: &mut Agent, exit: DVec2) -> Result<Phase, SimError> {
    let target = match a.s.steps.get(a.step) {
        Some(Step::Shelf { at, .. }) => *at,
        Some(Step::Restroom { at, .. }) => *at,
        Some(Step::Exit) => exit,
        None => return Ok(Phase::Gone),
    };
    let path = nav
        .path(a.pos, target)
        .ok_or(SimError::NoPath(a.pos.x, a.pos.y, target.x, target.y))?;
    Ok(Phase::Walking { path, next: 0 })
}

/// Arrived at the current step's place.
fn arrive(a: &mut Agent, t: f64, rng: &mut ChaCha8Rng) -> Phase {
    match a.s.steps.get(a.step) {
        Some(Step::Shelf { not_before, .. }) => {
            let dwell = rng.gen_range(3.0..5.0);
            let action_at = (t + rng.gen_range(1.0..dwell - 1.5)).max(*not_before);
            Phase::AtShelf {
                until: t.max(action_at) + 1.5,
                action_at,
                done: false,
            }
        }
        Some(Step::Restroom { dwell_s, .. }) => Phase::InRestroom { until: t + dwell_s },
        _ => Phase::Gone,
    }
}

/// Writes a run to `dir`: `views/<camera>.jsonl`, `inputs/gates.jsonl`,
/// `inputs/shelves.jsonl`, `truth/tracks.csv`, `truth/events.jsonl`, `truth/carts.json`,
/// `truth/clothing_changes.json`.
pub fn write(out: &SimOutput, dir: &Path) -> Result<(), SimError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| SimError::Io { path, source }
    };
    for sub in ["views", "inputs", "truth"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(io(&dir.join(sub)))?;
    }
    let jsonl = |path: &Path, lines: Vec<String>| -> Result<(), SimError> {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(path, text).map_err(io(path))
    };
    let enc = |v: &dyn erased::Json| v.json();
    for (cam, views) in &out.views {
        jsonl(
            &dir.join("views").join(format!("{cam}.jsonl")),
            views.iter().map(|v| enc(v)).collect(),
        )?;
    }
    jsonl(
        &dir.join("inputs/gates.jsonl"),
        out.gates.iter().map(|v| enc(v)).collect(),
    )?;
    jsonl(
        &dir.join("inputs/shelves.jsonl"),
        out.shelves.iter().map(|v| enc(v)).collect(),
    )?;
    let mut csv = String::from("frame,id,x,y\n");
    for r in &out.truth_tracks {
        csv.push_str(&format!("{},{},{:.3},{:.3}\n", r.frame, r.id, r.x, r.y));
    }
    let p = dir.join("truth/tracks.csv");
    std::fs::write(&p, csv).map_err(io(&p))?;
    jsonl(
        &dir.join("truth/events.jsonl"),
        out.truth_events.iter().map(|v| enc(v)).collect(),
    )?;
    let p = dir.join("truth/carts.json");
    std::fs::write(
        &p,
        serde_json::to_string_pretty(&out.truth_carts).unwrap_or_default(),
    )
    .map_err(io(&p))?;
    let p = dir.join("truth/clothing_changes.json");
    std::fs::write(
        &p,
        serde_json::to_string_pretty(&out.clothing_changes).unwrap_or_default(),
    )
    .map_err(io(&p))?;
    let p = dir.join("truth/tokens.json");
    std::fs::write(
        &p,
        serde_json::to_string_pretty(&out.tokens).unwrap_or_default(),
    )
    .map_err(io(&p))?;
    let p = dir.join("truth/heights.json");
    std::fs::write(
        &p,
        serde_json::to_string_pretty(&out.heights).unwrap_or_default(),
    )
    .map_err(io(&p))?;
    Ok(())
}

mod erased {
    /// Anything serialisable as one JSON line.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
