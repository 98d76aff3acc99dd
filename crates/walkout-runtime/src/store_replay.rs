//! The fusion role on recorded per-view messages and inputs (`walkoutd replay --views DIR
//! [--inputs DIR]`): per-view detections -> fusion -> tracking -> shoppers, interactions, carts.
//! Also the store-scenario scores against a simulator's ground truth.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use walkout_eval::Row;
use walkout_fusion::{Fuser, FusionConfig, View};
use walkout_geometry::StoreConfig;
use walkout_interact::{Interact, InteractConfig, Output, TrackObs};
use walkout_track::{TrackIds, Tracker, TrackerConfig};
use walkout_types::{
    Cart, Detection, Event, EventKind, GateMessage, ShelfWeight, TrackState, ViewDetections,
};

use crate::replay::ReplayError;

/// A line of a JSONL file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{path}, line {line}: {message}")]
pub struct JsonlError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, ReplayError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str(line).map_err(|e| {
            ReplayError::Store(JsonlError {
                path: path.to_path_buf(),
                line: i + 1,
                message: e.to_string(),
            })
        })?;
        out.push(v);
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct StoreReplayOptions {
    pub config: PathBuf,
    /// `<camera id>.jsonl` of `ViewDetections` per camera.
    pub views: PathBuf,
    /// `gates.jsonl` (`GateMessage`) and `shelves.jsonl` (`ShelfWeight`), when present.
    pub inputs: Option<PathBuf>,
    pub fusion: FusionConfig,
    pub tracker: TrackerConfig,
    pub interact: InteractConfig,
}

impl StoreReplayOptions {
    pub fn new(config: PathBuf, views: PathBuf) -> StoreReplayOptions {
        StoreReplayOptions {
            config,
            views,
            inputs: None,
            fusion: store_profile().0,
            tracker: store_profile().1,
            interact: InteractConfig::default(),
        }
    }
}

/// Fusion and tracking settings for a store with shelves (the daemon uses them too when the
/// store config has shelves). Tuned on the simulator's calm scenario, seed 1: people stop at
/// shelves abruptly (high acceleration noise), stand next to each other (wider peak
/// suppression, duplicate tracks merged, no births beside a confirmed track), hide behind
/// shelves (longer coasting) and are sometimes seen whole by one camera only where a box cut
/// by a shelf or a person looks like someone farther away (no track starts from one view).
pub fn store_profile() -> (FusionConfig, TrackerConfig) {
    (
        FusionConfig {
            nms_radius_m: 0.5,
            min_strong_views: 2,
            ..FusionConfig::default()
        },
        TrackerConfig {
            max_coast_s: 3.0,
            accel_sigma: 2.0,
            merge_radius_m: 0.4,
            birth_exclusion_m: 0.8,
            ..TrackerConfig::default()
        },
    )
}

/// Wrists of two cameras on one shelf bay within this distance are a hand in that bay.
pub const REACH_AGREE_M: f64 = 0.1;
/// A wrist seen by one camera whose ray enters a bay's face this high is a glimpse of a hand
/// reaching up to it (above chest height: no hand hangs or holds a phone there), metres.
pub const GLIMPSE_MIN_Z_M: f64 = 1.2;

/// A hand's wrist boxes are weighed against the appearance of the tracks confirmed within this
/// distance of it on the floor (and of those its boxes were fused into), metres: an arm's
/// reach and a little more.
pub const HAND_NEAR_M: f64 = 1.0;
/// Each box carrying a hand's wrist must be this much more like one of those tracks than like
/// any other (cosine similarity) for the hand to be that track's alone.
pub const HAND_LOOK_MARGIN: f64 = 0.3;

/// What a store replay produced.
#[derive(Debug, Clone, Default)]
pub struct StoreReplayResult {
    /// `frame,id,x,y` of confirmed tracks (track ids).
    pub rows: Vec<Row>,
    /// `frame,token,x,y` of confirmed tracks bound to a shopper (written after the fact: a
    /// binding found out later, a swap or a recovery, puts right the rows it reaches back
    /// over).
    pub shopper_rows: Vec<(i64, String, f64, f64)>,
    /// Unbound confirmed tracks: `frame,track,x,y`.
    pub unbound_rows: Vec<Row>,
    pub events: Vec<Event>,
    pub carts: Vec<Cart>,
    /// token -> (items, pending).
    #[allow(clippy::type_complexity)]
    pub final_carts: BTreeMap<String, (BTreeMap<String, u32>, BTreeMap<String, u32>)>,
    pub frames: usize,
}

/// A gate or shelf input on its way to the interaction stage.
pub enum StoreInput {
    Gate(GateMessage),
    Weight(ShelfWeight),
}

impl StoreInput {
    pub fn apply(&self, interact: &mut Interact) -> Vec<Output> {
        match self {
            StoreInput::Gate(g) => interact.gate(g),
            StoreInput::Weight(w) => interact.weight(w),
        }
    }
}

/// Shelves and walls as obstacles to walking (`None` where the store has none): the tracker
/// never matches a track to a candidate behind one from where it was last seen.
pub fn walkable(
    occluders: &walkout_geometry::coverage::Occluders,
) -> Option<walkout_track::Passable> {
    /// Skirting a shelf's corner, or a position measured a little inside it, is not crossing it.
    const MARGIN_M: f64 = 0.1;
    (!occluders.is_empty()).then(|| {
        let occ = occluders.clone();
        std::sync::Arc::new(move |a, b| !occ.blocks_walk(a, b, MARGIN_M)) as walkout_track::Passable
    })
}

/// The hands in shelves at a tick, each named by the tracks its wrists' person detections
/// updated at this tick (call after the tracker's update).
pub fn hands(
    cameras: &[walkout_geometry::Camera],
    shelves: &[walkout_geometry::Shelf],
    per_camera: &[Vec<Detection>],
    tracker: &Tracker,
) -> Vec<walkout_interact::reach::Reach> {
    // Which person (track) each detection was fused into at this tick.
    let mut body: HashMap<(u16, u32), u64> = HashMap::new();
    for t in tracker.tracks() {
        for d in &t.detections {
            body.entry(*d).or_insert(t.id);
        }
    }
    let mut hands = walkout_interact::reach::hands_and_glimpses(
        cameras,
        shelves,
        per_camera,
        REACH_AGREE_M,
        GLIMPSE_MIN_Z_M,
        |c, d| body.get(&(c, d)).copied(),
    );
    walkout_interact::reach::attribute(
        &mut hands,
        tracker
            .tracks()
            .iter()
            .map(|t| (t.id, t.detections.as_slice())),
    );
    let looks: Vec<walkout_interact::reach::TrackLook<'_>> = tracker
        .tracks()
        .iter()
        .map(|t| {
            let at = (t.state == TrackState::Confirmed).then(|| t.position.into());
            (t.id, at, t.embedding.as_deref())
        })
        .collect();
    walkout_interact::reach::settle_by_appearance(
        &mut hands,
        per_camera,
        &looks,
        HAND_NEAR_M,
        HAND_LOOK_MARGIN,
    );
    walkout_interact::reach::drop_hanging(
        &mut hands,
        cameras,
        |id| {
            tracker
                .tracks()
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.position.into())
        },
        GLIMPSE_MIN_Z_M,
    );
    hands
}

/// The tracks the interaction stage sees at a tick: confirmed ones, and coasting ones (for
/// shelf reach only).
pub fn track_obs(tracker: &Tracker) -> Vec<TrackObs> {
    tracker
        .tracks()
        .iter()
        .filter(|t| matches!(t.state, TrackState::Confirmed | TrackState::Occluded))
        .map(|t| TrackObs {
            id: t.id,
            x: t.position[0],
            y: t.position[1],
            height_m: t.height_m,
            seen: t.state == TrackState::Confirmed,
            embedding: t.embedding.clone(),
        })
        .collect()
}

/// Runs the fusion role with identity and interactions over recorded views and inputs.
pub fn run(opts: &StoreReplayOptions) -> Result<StoreReplayResult, ReplayError> {
    let store = StoreConfig::load(&opts.config)?;
    let ncam = store.cameras.len();
    let mut frames: BTreeMap<u64, (f64, Vec<Vec<Detection>>)> = BTreeMap::new();
    for (c, cam) in store.cameras.iter().enumerate() {
        let path = opts.views.join(format!("{}.jsonl", cam.camera.id));
        if !path.is_file() {
            return Err(ReplayError::MissingCamera {
                dir: opts.views.clone(),
                camera: cam.camera.id.clone(),
                expected: path,
            });
        }
        for v in read_jsonl::<ViewDetections>(&path)? {
            let e = frames
                .entry(v.frame)
                .or_insert_with(|| (v.time, vec![Vec::new(); ncam]));
            e.1[c] = v.detections;
        }
    }
    let mut inputs: Vec<(f64, StoreInput)> = Vec::new();
    if let Some(dir) = &opts.inputs {
        let gates = dir.join("gates.jsonl");
        if gates.is_file() {
            inputs.extend(
                read_jsonl::<GateMessage>(&gates)?
                    .into_iter()
                    .map(|g| (g.time, StoreInput::Gate(g))),
            );
        }
        let shelves = dir.join("shelves.jsonl");
        if shelves.is_file() {
            inputs.extend(
                read_jsonl::<ShelfWeight>(&shelves)?
                    .into_iter()
                    .map(|w| (w.time, StoreInput::Weight(w))),
            );
        }
    }
    inputs.sort_by(|a, b| a.0.total_cmp(&b.0));

    let cameras: Vec<_> = store.cameras().cloned().collect();
    let reach_cameras = cameras.clone();
    let mut fuser =
        Fuser::new(cameras, &store.floor, opts.fusion.clone()).with_occluders(store.occluders());
    let mut tracker = Tracker::new(opts.tracker.clone(), TrackIds::new());
    if let Some(p) = walkable(&store.occluders()) {
        tracker = tracker.with_passable(p);
    }
    let mut interact = Interact::new(&store, opts.interact.clone()).with_rebinds();
    let mut result = StoreReplayResult {
        frames: frames.len(),
        ..Default::default()
    };
    let mut next_input = 0;
    let mut by_shopper = RowsByShopper::default();
    let collect = |outs: Vec<Output>, result: &mut StoreReplayResult| {
        for o in outs {
            match o {
                Output::Event(e) => result.events.push(e),
                Output::Cart(c) => result.carts.push(c),
            }
        }
    };
    for (frame, (time, per_camera)) in &frames {
        while next_input < inputs.len() && inputs[next_input].0 <= *time {
            let outs = inputs[next_input].1.apply(&mut interact);
            collect(outs, &mut result);
            next_input += 1;
        }
        let views = View::per_camera(per_camera);
        let cands = fuser.fuse(&views);
        tracker.update(*time, &cands);
        interact.reach(
            *time,
            &hands(&reach_cameras, &store.shelves, per_camera, &tracker),
        );
        // Tracks seen at this tick, and coasting ones for reach only. (Keeping shoppers bound to
        // coasting tracks was tried and lost identities: a coasting track holds its shopper
        // while the person, seen again as a new track, stays a stranger.)
        let live = track_obs(&tracker);
        collect(interact.tick(*time, &live), &mut result);
        let confirmed: Vec<TrackObs> = live.into_iter().filter(|t| t.seen).collect();
        for t in &confirmed {
            let row = Row {
                frame: *frame as i64,
                id: t.id as i64,
                x: t.x,
                y: t.y,
            };
            result.rows.push(row);
            by_shopper.push(row, *time, interact.token_of_track(t.id));
        }
        by_shopper.put_right(interact.take_rebinds());
    }
    while next_input < inputs.len() {
        let outs = inputs[next_input].1.apply(&mut interact);
        collect(outs, &mut result);
        next_input += 1;
    }
    collect(interact.finish(), &mut result);
    by_shopper.put_right(interact.take_rebinds());
    (result.shopper_rows, result.unbound_rows) = by_shopper.split();
    result.final_carts = interact.carts_by_token();
    Ok(result)
}

/// The rows of confirmed tracks by shopper, as written after the fact: each row first under
/// the shopper its track was bound to at its tick, then put right by every later binding that
/// reaches back over it (a swap or a recovery found out later, published as a correction).
#[derive(Default)]
struct RowsByShopper {
    rows: Vec<(Row, f64, Option<String>)>,
    of_track: HashMap<u64, Vec<usize>>,
}

impl RowsByShopper {
    fn push(&mut self, row: Row, time: f64, token: Option<&str>) {
        self.of_track
            .entry(row.id as u64)
            .or_default()
            .push(self.rows.len());
        self.rows.push((row, time, token.map(str::to_string)));
    }

    /// Applies bindings in the order made: each holds for its track's rows from its `from`.
    fn put_right(&mut self, rebinds: Vec<walkout_interact::Rebind>) {
        for b in rebinds {
            for &i in self.of_track.get(&b.track).into_iter().flatten() {
                let r = &mut self.rows[i];
                if r.1 >= b.from - 1e-9 {
                    r.2.clone_from(&b.token);
                }
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn split(self) -> (Vec<(i64, String, f64, f64)>, Vec<Row>) {
        let (mut bound, mut unbound) = (Vec::new(), Vec::new());
        for (r, _, token) in self.rows {
            match token {
                Some(t) => bound.push((r.frame, t, r.x, r.y)),
                None => unbound.push(r),
            }
        }
        (bound, unbound)
    }
}

/// How a store replay compares with the simulator's ground truth.
#[derive(Debug, Clone, Default)]
pub struct StoreScores {
    /// Tracks scored by shopper (a track counts as its bound shopper's).
    pub idf1: f64,
    pub mota: f64,
    pub clothing_changes: usize,
    /// Changes by a shopper alone in the blind spot, and how many kept their identity.
    pub alone_changes: usize,
    pub alone_changes_kept: usize,
    /// Pick/return events: true positives (shopper, SKU, quantity, kind right; not ambiguous),
    /// predicted (not ambiguous), truth.
    pub events_tp: usize,
    pub events_predicted: usize,
    pub events_truth: usize,
    /// Ambiguous pick/return events raised, how many were resolved later (a corrected event
    /// published), and how many of those corrections are right.
    pub ambiguous_events: usize,
    pub ambiguous_resolved: usize,
    pub ambiguous_resolved_right: usize,
    pub carts: usize,
    pub carts_exact: usize,
    /// Wrong carts whose shopper has no ambiguous event (silently wrong).
    pub carts_silently_wrong: usize,
}

impl StoreScores {
    pub fn precision(&self) -> f64 {
        self.events_tp as f64 / self.events_predicted.max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.events_tp as f64 / self.events_truth.max(1) as f64
    }
}

/// A ground-truth interaction as `walkoutd sim` writes it (`truth/events.jsonl`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TruthEvent {
    pub time: f64,
    pub token: String,
    pub sku: String,
    pub action: String,
    #[serde(default)]
    pub quantity: Option<u32>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct TruthChange {
    pub token: String,
    pub time: f64,
    pub alone: bool,
}

/// Scores a replay against a simulation directory's `truth/`.
pub fn score(
    result: &StoreReplayResult,
    truth_dir: &Path,
    fps: f64,
) -> Result<StoreScores, ReplayError> {
    let read = |name: &str| {
        let p = truth_dir.join(name);
        std::fs::read_to_string(&p).map_err(|source| ReplayError::Write { path: p, source })
    };
    let parse_err = |name: &str, e: serde_json::Error| {
        ReplayError::Store(JsonlError {
            path: truth_dir.join(name),
            line: e.line(),
            message: e.to_string(),
        })
    };
    let tokens: BTreeMap<String, i64> =
        serde_json::from_str(&read("tokens.json")?).map_err(|e| parse_err("tokens.json", e))?;
    let carts: BTreeMap<String, BTreeMap<String, u32>> =
        serde_json::from_str(&read("carts.json")?).map_err(|e| parse_err("carts.json", e))?;
    let changes: Vec<TruthChange> = serde_json::from_str(&read("clothing_changes.json")?)
        .map_err(|e| parse_err("clothing_changes.json", e))?;
    let truth_events: Vec<TruthEvent> = read_jsonl(&truth_dir.join("events.jsonl"))?;
    let gt = walkout_eval::read_csv(&truth_dir.join("tracks.csv")).map_err(|e| {
        ReplayError::Store(JsonlError {
            path: truth_dir.join("tracks.csv"),
            line: 0,
            message: e.to_string(),
        })
    })?;
    // Predicted rows by shopper: bound tracks take their token's id; unbound ones unique ids.
    let mut pred: Vec<Row> = result
        .shopper_rows
        .iter()
        .map(|(f, tok, x, y)| Row {
            frame: *f,
            id: tokens.get(tok).copied().unwrap_or(-1),
            x: *x,
            y: *y,
        })
        .collect();
    pred.extend(result.unbound_rows.iter().map(|r| Row {
        id: 1_000_000 + r.id,
        ..*r
    }));
    let s = walkout_eval::evaluate(&gt, &pred, 0.5);
    let mut out = StoreScores {
        idf1: s.idf1,
        mota: s.mota,
        clothing_changes: changes.len(),
        ..Default::default()
    };
    // A change keeps identity when, after it, the shopper's truth positions are matched by
    // rows of the same shopper (and not of another) in the first seconds they are seen again.
    for ch in &changes {
        let Some(&id) = tokens.get(&ch.token) else {
            continue;
        };
        if !ch.alone {
            continue;
        }
        out.alone_changes += 1;
        let from = (ch.time * fps) as i64;
        let later: Vec<&Row> = gt
            .iter()
            .filter(|r| r.id == id && r.frame > from && r.frame <= from + (30.0 * fps) as i64)
            .collect();
        let (mut same, mut other) = (0, 0);
        for g in later {
            let near = pred
                .iter()
                .filter(|p| p.frame == g.frame && (p.x - g.x).hypot(p.y - g.y) < 0.5)
                .min_by(|a, b| {
                    (a.x - g.x)
                        .hypot(a.y - g.y)
                        .total_cmp(&(b.x - g.x).hypot(b.y - g.y))
                });
            match near {
                Some(p) if p.id == id => same += 1,
                Some(_) => other += 1,
                None => {}
            }
        }
        if same > 0 && same >= 4 * other {
            out.alone_changes_kept += 1;
        }
    }
    // Events.
    let token_of = token_by_shopper(result);
    out.events_truth = truth_events
        .iter()
        .filter(|e| e.action == "pick" || e.action == "return")
        .count();
    let mut used = vec![false; truth_events.len()];
    let mut ambiguous_tokens: Vec<String> = Vec::new();
    let corrected: std::collections::HashSet<u64> =
        result.events.iter().filter_map(|e| e.corrects).collect();
    for e in &result.events {
        let (shopper, sku, quantity, kind) = match &e.kind {
            EventKind::Pick {
                shopper,
                sku,
                quantity,
                ..
            } => (shopper, sku, *quantity, "pick"),
            EventKind::Return {
                shopper,
                sku,
                quantity,
                ..
            } => (shopper, sku, *quantity, "return"),
            _ => continue,
        };
        if let Some(a) = &e.ambiguous {
            out.ambiguous_events += 1;
            if corrected.contains(&e.id) {
                // Resolved later: the correction is scored in its place.
                continue;
            }
            for c in &a.candidates {
                if let Some(t) = token_of.get(&c.shopper) {
                    ambiguous_tokens.push(t.clone());
                }
            }
            continue;
        }
        out.events_predicted += 1;
        let token = shopper.as_ref().and_then(|s| token_of.get(s));
        let hit = truth_events.iter().enumerate().position(|(i, t)| {
            !used[i]
                && Some(&t.token) == token
                && &t.sku == sku
                && t.action == kind
                && t.quantity.unwrap_or(1) == quantity
                && (t.time - e.time).abs() < 3.0
        });
        if e.corrects.is_some() {
            out.ambiguous_resolved += 1;
        }
        if let Some(i) = hit {
            used[i] = true;
            out.events_tp += 1;
            if e.corrects.is_some() {
                out.ambiguous_resolved_right += 1;
            }
        }
    }
    for (token, truth) in &carts {
        out.carts += 1;
        let got = result
            .final_carts
            .get(token)
            .map(|(items, _)| items.clone())
            .unwrap_or_default();
        if &got == truth
            && result
                .final_carts
                .get(token)
                .is_none_or(|(_, pending)| pending.is_empty())
        {
            out.carts_exact += 1;
        } else if !ambiguous_tokens.contains(token)
            && result
                .final_carts
                .get(token)
                .is_none_or(|(_, pending)| pending.is_empty())
        {
            out.carts_silently_wrong += 1;
            tracing::debug!(token, ?got, ?truth, "cart silently wrong");
        }
    }
    Ok(out)
}

/// Pseudonymous shopper id -> token (the replay knows both; tokens never leave the process).
fn token_by_shopper(result: &StoreReplayResult) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for e in &result.events {
        if let EventKind::Entered { shopper, .. } = &e.kind {
            // The final carts are keyed by token; carts published carry the shopper id.
            for (token, _) in result.final_carts.iter() {
                if walkout_interact::pseudonym_of(token) == *shopper {
                    map.insert(shopper.clone(), token.clone());
                }
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(frame: i64, id: i64) -> Row {
        Row {
            frame,
            id,
            x: frame as f64,
            y: 0.0,
        }
    }

    #[test]
    fn rows_by_shopper_are_put_right_from_when_a_later_binding_reaches_back() {
        let mut r = RowsByShopper::default();
        for f in 10..20 {
            r.push(row(f, 7), f as f64 / 10.0, Some("tok-b"));
            r.push(row(f, 8), f as f64 / 10.0, None);
        }
        let rebind = |track, from, token: Option<&str>| walkout_interact::Rebind {
            track,
            from,
            token: token.map(str::to_string),
        };
        // Said at t = 1.9: track 7 was tok-a's from 1.5, then track 8 tok-b's from 1.7; then
        // track 7 nobody's from 1.8.
        r.put_right(vec![
            rebind(7, 1.5, Some("tok-a")),
            rebind(8, 1.7, Some("tok-b")),
        ]);
        r.put_right(vec![rebind(7, 1.8, None)]);
        let (bound, unbound) = r.split();
        let of =
            |tok: &str| -> Vec<i64> { bound.iter().filter(|b| b.1 == tok).map(|b| b.0).collect() };
        assert_eq!(of("tok-b"), [10, 11, 12, 13, 14, 17, 18, 19]);
        assert_eq!(of("tok-a"), [15, 16, 17]);
        let mut free: Vec<(i64, i64)> = unbound.iter().map(|u| (u.id, u.frame)).collect();
        free.sort_unstable();
        assert_eq!(
            free,
            [
                (7, 18),
                (7, 19),
                (8, 10),
                (8, 11),
                (8, 12),
                (8, 13),
                (8, 14),
                (8, 15),
                (8, 16)
            ]
        );
    }
}
