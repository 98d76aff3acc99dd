//! walkout-interact: shoppers and their carts.
//!
//! **Identity (closed world).** A shopper exists from the entry gate to the exit and is bound to
//! the gate's payment token (published under a pseudonymous id). A confirmed track born at the
//! entrance takes the oldest gate entry not yet bound. Nobody appears in the middle of the
//! store: a track born elsewhere is matched to the shoppers currently unaccounted for (lost
//! tracks), by feasibility first (walking distance over elapsed time within walking speed),
//! then head height, then clothing: a shopper's outfit is learnt while nothing about them is in
//! doubt and forgotten when they go into a blind spot, so a change of clothes there does not
//! break identity, and outfits decide only among shoppers whose outfits are all known. When
//! more than one shopper stays feasible and neither height nor outfit decides, the
//! binding is made to the likeliest but marked ambiguous, and every event of those shoppers
//! carries the candidates until they leave.
//!
//! **Interactions.** Each shelf level's load cell is watched for a settled change (readings
//! that leave the baseline and settle at a new level); the change is attributed to the shopper
//! whose body was within reach of that shelf around the time it began; the quantity is the
//! change over the unit weight of the SKU that explains it best (the level's SKU for a pick; for
//! a return also any SKU in the shopper's cart, so an item put back on the wrong shelf is
//! recognised by its weight). Nothing asks the shopper: carts change only on this evidence, and
//! an event the evidence cannot attribute is flagged `ambiguous` and kept out of the cart
//! (`pending`).

pub mod cell;
pub mod reach;
pub mod walk;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use cell::CellModel;
use glam::DVec2;
use walkout_geometry::{Polygon, StoreConfig, ZoneKind};
use walkout_types::{
    Ambiguity, Candidate, Cart, Event, EventKind, GateDirection, GateMessage, SCHEMA_VERSION,
    ShelfWeight, ShopperId,
};

/// Tuning of identity and interactions.
#[derive(Debug, Clone)]
pub struct InteractConfig {
    /// A new track within this distance of the entrance zone can take a gate entry.
    pub entry_radius_m: f64,
    /// ... if the entry happened within this many seconds before (or just after).
    pub entry_window_s: f64,
    /// A bound track unseen this long is lost ...
    pub lost_after_s: f64,
    /// ... or, in the exit zone, has exited once unseen this long.
    pub exit_after_s: f64,
    /// A track lost within this distance of the exit zone left by it, metres (people leave
    /// at the edge of the cameras' view, where a track drifts on beyond the gate; one taken
    /// for lost would stay unaccounted for and take other shoppers' tracks).
    pub exit_radius_m: f64,
    /// Fastest plausible walk between a loss and a recovery, m/s (plus `slack_m`).
    pub max_speed_mps: f64,
    pub slack_m: f64,
    /// Head heights within this margin of the best candidate's do not decide.
    pub height_margin_m: f64,
    /// Settling a doubt compares two tracks' head heights with two shoppers' learnt ones, a
    /// finer test than one track's against one shopper's: its margin (two shoppers whose
    /// heights differ by less are not told apart; keeping and swapping must differ by twice
    /// as much). A learnt height is off by a bias of 1-2 cm that both shoppers share.
    pub doubt_height_margin_m: f64,
    /// Shoppers lost within this distance of the nearest one compete for a new track.
    pub place_margin_m: f64,
    /// A new track this close to a bound one is the same person seen twice: left unbound.
    pub duplicate_radius_m: f64,
    /// A shopper whose track is lost this close to another shopper's track may have been
    /// swapped with them (the other track may follow either): both are in doubt until a head
    /// height tells them apart, metres.
    pub swap_radius_m: f64,
    /// A bound track seen this close to a blind spot in which a lost shopper may be (lost
    /// within `swap_radius_m` of it) may come out as that shopper: both are in doubt until a
    /// head height tells them apart, metres.
    pub blind_spot_radius_m: f64,
    /// A body within this distance of a shelf's box can reach into it.
    pub reach_m: f64,
    /// A second shopper within this margin of the nearest makes an attribution ambiguous
    /// (with no hand seen, bodies both within reach that stand about as near the bay could
    /// each have reached in: a track is good to about 0.15 m, so two differ by up to 0.3 m).
    pub reach_margin_m: f64,
    /// Load cells: the smallest change that is an event, kg.
    pub change_kg: f64,
    /// Seconds after a shelf change starts before it is attributed (tracks near it get bound).
    pub attribution_delay_s: f64,
    /// Settled: this long ...
    pub settle_window_s: f64,
    /// ... with readings within this spread, kg.
    pub settle_spread_kg: f64,
    /// How a level's load cell answers a hand contact (two takers merged into one change are
    /// told apart by it).
    pub load_cell: CellModel,
}

impl Default for InteractConfig {
    fn default() -> Self {
        InteractConfig {
            entry_radius_m: 1.5,
            entry_window_s: 10.0,
            lost_after_s: 0.5,
            exit_after_s: 2.0,
            exit_radius_m: 2.0,
            max_speed_mps: 2.0,
            slack_m: 1.0,
            height_margin_m: 0.04,
            doubt_height_margin_m: 0.03,
            place_margin_m: 1.5,
            duplicate_radius_m: 0.8,
            swap_radius_m: 1.0,
            blind_spot_radius_m: 0.5,
            reach_m: 0.8,
            reach_margin_m: 0.3,
            change_kg: 0.04,
            attribution_delay_s: 4.0,
            settle_window_s: 0.5,
            settle_spread_kg: 0.02,
            load_cell: CellModel::default(),
        }
    }
}

/// Track `track` is the shopper paying with `token` (`None`: nobody's) from `from` on
/// (seconds); see [`Interact::take_rebinds`].
#[derive(Debug, Clone, PartialEq)]
pub struct Rebind {
    pub track: u64,
    pub from: f64,
    pub token: Option<String>,
}

/// A confirmed track at one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackObs {
    pub id: u64,
    pub x: f64,
    pub y: f64,
    /// Head height, metres (0 when unknown).
    pub height_m: f64,
    /// Seen at this tick (false: coasting, the position is a prediction).
    pub seen: bool,
    /// The track's recent appearance (L2-normalised embedding), when the views carry one.
    pub embedding: Option<Vec<f32>>,
}

/// What the stage publishes.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Event(Event),
    Cart(Cart),
}

struct Shopper {
    id: ShopperId,
    token: String,
    track: Option<u64>,
    last_pos: DVec2,
    last_seen: f64,
    height: f64,
    height_n: u32,
    exited: bool,
    /// When they came in and (once they left) went out.
    entered: f64,
    exited_at: f64,
    /// The track they left by.
    exit_track: Option<u64>,
    cart: BTreeMap<String, u32>,
    pending: BTreeMap<String, u32>,
    /// Items of picks left open that named another shopper first with this one among the
    /// candidates (units, the most of any such pick): they may carry them.
    may_carry: BTreeMap<String, u32>,
    /// Shoppers this one may have been swapped with (an ambiguous recovery).
    confusable: Vec<usize>,
    /// Mean appearance of their outfit, learnt from their track while nothing was in doubt,
    /// and the number of samples; forgotten when they may have changed clothes (in a blind
    /// spot).
    outfit: Vec<f32>,
    outfit_n: u32,
    /// Their walking speeds (gait), m/s, learnt from their tracks while nothing was in doubt:
    /// unlike an outfit, kept through a blind spot (a change of clothes leaves the gait).
    gait: Vec<f32>,
}

impl Shopper {
    /// Their outfit's appearance, once learnt from enough samples.
    fn outfit(&self) -> Option<&[f32]> {
        (self.outfit_n >= OUTFIT_MIN_SAMPLES).then_some(&self.outfit[..])
    }

    /// Their head height, once learnt from enough samples (one reading can be far off: a head
    /// seen by one camera, or cut by another's box).
    fn height(&self) -> Option<f64> {
        (self.height_n >= HEIGHT_MIN_SAMPLES).then_some(self.height)
    }

    /// Their gait (median walking speed, m/s), once learnt from enough samples.
    fn gait(&self) -> Option<f64> {
        (self.gait.len() >= GAIT_MIN_SAMPLES).then(|| median(self.gait.iter().copied()))
    }
}

/// The median of `v` (0 when empty).
fn median(v: impl Iterator<Item = f32>) -> f64 {
    let mut v: Vec<f32> = v.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        f64::from(v[n / 2])
    } else {
        (f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) / 2.0
    }
}

/// Cosine similarity of two embeddings (0 when their lengths differ).
fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt().max(1e-12)
}

/// A possible swap: `lost`'s track ended beside `kept`'s track (on `kept_track`) at `time`
/// and `place`.
struct Doubt {
    lost: usize,
    kept: usize,
    kept_track: u64,
    time: f64,
    place: DVec2,
    /// Head heights of the two before they met, when known.
    h_lost: Option<f64>,
    h_kept: Option<f64>,
    /// Their outfits' appearance before they met, when known.
    a_lost: Option<Vec<f32>>,
    a_kept: Option<Vec<f32>>,
    /// The kept track's head-height sum and count when they met (what it measures after
    /// that is whoever it follows now).
    kept_h_at: (f64, u32),
    /// Until when each of their tracks surely followed its own shopper: a second before
    /// `time` (tracks side by side, even for long, swap as one is lost), or later where
    /// they were last seen farther apart than `swap_radius_m` then.
    apart_until: f64,
}

/// A shopper found again, to be checked against their doubts once the new track has measured
/// a head height for a while.
struct Check {
    lost: usize,
    track: u64,
    since: f64,
    recovered_id: u64,
    /// The track's head-height sum and count when `lost` was found on it (the heights it
    /// measured before were another body's): zero for a track found new.
    h_at: (f64, u32),
}

/// A pick left open among the shoppers within reach (in the pending items of the one it
/// names first), until a change elsewhere that one of them is named for alone, beginning a
/// moment from it, rules that one out (one body, one change at a time).
struct OpenChoice {
    id: u64,
    time: f64,
    shelf: usize,
    level: u32,
    /// The shopper whose pending items hold it.
    holder: usize,
    candidates: Vec<usize>,
    kind: EventKind,
    sku: String,
    quantity: u32,
}

/// A shelf event held pending only because its shopper was in doubt.
struct OpenEvent {
    id: u64,
    time: f64,
    shopper: usize,
    /// The shoppers it could also be (the doubt), at the time of the event.
    doubt: Vec<usize>,
    kind: EventKind,
    sku: String,
    quantity: u32,
    pick: bool,
}

struct ShelfInfo {
    id: String,
    min: DVec2,
    max: DVec2,
    /// Sides (-x, +x, -y, +y) a shopper can reach in from: not backed by another shelf box
    /// (the two faces of a gondola are two bays back to back).
    open: [bool; 4],
    /// Per level: (SKU, unit weight) facings.
    levels: Vec<Vec<(String, f64)>>,
    /// Per level: the height of the shelf board, metres.
    level_heights: Vec<f64>,
}

/// A settled change of one level's weight, to attribute.
struct Change {
    shelf: String,
    level: u32,
    /// From the first hand contact to when it settled.
    since: f64,
    until: f64,
    delta: f64,
    /// Hand contacts seen in it.
    contacts: u32,
    /// A later part of a change split at a hand contact: the hands already in the shelf before
    /// this contact began made the earlier parts.
    later_part: bool,
    /// A part followed by another (split at the next hand contact, which began at `until`).
    earlier_part: bool,
    /// How far the weight rose above where it was before, kg, while it changed (whole
    /// changes; 0 for parts of a split one).
    rose_kg: f64,
    /// From when the weight stood at its new level (the readings it settled on began; `until`
    /// for an earlier part).
    settled_from: f64,
    /// A part of a change split where the load cell's model put the contacts (to within a
    /// reading), not at a trough: the time between the two items' leaving the shelf. A hand
    /// is seen in the bay as its item leaves (its press began a moment before): one first seen
    /// before this made the earlier part, one first seen from it on the later part.
    hands_split: Option<f64>,
    /// Several items whose readings fit one hand contact ([`cell::Contacts::One`]).
    one_contact: bool,
}

#[derive(Default)]
struct Cell {
    baseline: Option<f64>,
    window: VecDeque<(f64, f64)>,
    disturbed_since: Option<f64>,
    /// While disturbed: hand contacts seen so far (each presses on the shelf: the weight
    /// rises again after it fell), the highest reading since the last contact began and the
    /// lowest since that peak.
    contacts: u32,
    peak: f64,
    trough: f64,
    trough_at: f64,
    /// Where each contact after the first began: (time, weight then).
    splits: Vec<(f64, f64)>,
    /// The highest reading while disturbed.
    highest: f64,
    /// The readings while disturbed, from `settle_window_s` before it began (at most
    /// [`TRACE_READINGS`]: a level disturbed longer is no takers' moment).
    trace: Vec<(f64, f64)>,
}

/// The interaction stage's state.
pub struct Interact {
    cfg: InteractConfig,
    store: String,
    shelves: Vec<ShelfInfo>,
    entrance: Option<Polygon>,
    exit: Option<Polygon>,
    /// Zones no camera sees (a restroom corridor).
    blind_spots: Vec<Polygon>,
    /// Walking distances around shelves and walls.
    walk: walk::WalkMap,
    /// (lost shopper, bound shopper, when the lost one was last seen): doubts already opened
    /// for a bound track at the mouth of the blind spot the lost shopper is in.
    blind_doubted: Vec<(usize, usize, f64)>,
    shoppers: Vec<Shopper>,
    by_track: HashMap<u64, usize>,
    /// Every binding ever made (track ids are never reused): who a track was, from when;
    /// `None` from when its shopper, lost from it, was found on another track (a track the
    /// tracker later carries on with someone else's detections is nobody's until it is bound
    /// again).
    owner: HashMap<u64, Vec<(f64, Option<usize>)>>,
    /// Changes to `owner`, in the order made, until [`Interact::take_rebinds`] takes them;
    /// `None` unless asked for ([`Interact::with_rebinds`]: a daemon that never takes them
    /// keeps nothing).
    rebinds: Option<Vec<(u64, f64, Option<usize>)>>,
    entries: VecDeque<(String, f64)>,
    history: VecDeque<(f64, Vec<TrackObs>)>,
    cells: HashMap<(String, u32), Cell>,
    next_event: u64,
    now: f64,
    /// Settled shelf changes waiting for the tracks around them to be bound.
    deferred: Vec<Change>,
    /// Shelf changes named for one shopper alone, the last 20 s: (start time, shelf, level,
    /// shopper, units picked: 0 for a put-back).
    made: VecDeque<(f64, usize, u32, usize, u32)>,
    /// Hands seen in shelves: (time, shelf, point, the tracks whose wrists they were).
    reaches: VecDeque<(f64, usize, glam::DVec3, Vec<u64>)>,
    /// Hands glimpsed by one camera high on a bay's face ([`reach::glimpses`]), as `reaches`.
    glimpses: VecDeque<(f64, usize, glam::DVec3, Vec<u64>)>,
    /// What the boxes carrying each hand in `reaches` wore (one to one with it).
    looks: VecDeque<Option<Vec<f32>>>,
    /// Shared event-id source (the daemon's camera events use it too).
    ids: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    doubts: Vec<Doubt>,
    open_events: Vec<OpenEvent>,
    open_choices: Vec<OpenChoice>,
    checks: Vec<Check>,
    /// Per track: sum and count of the head heights it reported while seen.
    track_h: HashMap<u64, (f64, u32)>,
    /// Per track: its head heights of the last `RECENT_S` seconds.
    recent_h: HashMap<u64, VecDeque<(f64, f64)>>,
    /// Each seen track's latest appearance, and when.
    track_app: HashMap<u64, (f64, Vec<f32>)>,
    /// Per track: (first tick it was given, last tick, how often it was seen lately: a
    /// moving average of seen = 1 over about `RECOVER_AFTER_S / 2`).
    track_life: HashMap<u64, (f64, f64, f64)>,
    /// Bound tracks that do not look like their shopper's outfit, since when.
    mismatch: HashMap<u64, f64>,
    /// Shopper -> (when the track they were on began to follow another, their `last_seen`
    /// then): they were last seen on it at the former.
    left_at: HashMap<usize, (f64, f64)>,
    /// Bound track -> when it last looked like its shopper's outfit.
    looked_own: HashMap<u64, f64>,
    /// Doubts (lost, kept) whose two shoppers' tracks each wear their own outfit, since when.
    outfits_agree: HashMap<(usize, usize), f64>,
    /// Per track: its walking speeds (time, m/s) over `GAIT_DT_S`, while it walked.
    track_gait: HashMap<u64, Vec<(f64, f32)>>,
    /// When the state of tracks nothing refers to any more was last dropped.
    forgot_at: f64,
}

/// How often the state of tracks nothing refers to any more is dropped, seconds of input.
const FORGET_EVERY_S: f64 = 10.0;

/// A shopper unseen at a shelf event, last seen this close to the shelf, rivals the shopper
/// seen there, metres.
const UNSEEN_NEAR_M: f64 = 2.0;
/// Sightings (ticks) of a shopper's hand in a bay that make it a hand that dwelt there (took
/// or put back something), not one passing by; another's, seen half as often or less
/// around a change, passed by.
const HAND_DWELL_TICKS: u32 = 4;
/// A shopper's hand seen in a level in this many ticks, each time in boxes wearing their own
/// outfit (the box carrying a wrist is its own person's), is theirs as surely as one that
/// dwelt there: no unseen shopper's body merged into their track lent it.
const HAND_WORN_TICKS: u32 = 2;

/// How far a shelf's weight must fall from a peak and rise again for a second hand contact
/// within one change, kg (about eight times a load cell's noise: a single pick's weight only
/// falls once the hand's press has peaked).
const CONTACT_RISE_KG: f64 = 0.025;
/// The most readings of one change kept for the load cell's model (10 s at 10 Hz: takers'
/// changes settle within 2 s); a change with more is not read by it.
const TRACE_READINGS: usize = 100;
/// A hand taking an item presses the shelf by at most this much, kg: a level whose weight rose
/// more above where it was before it fell had an item put back in the same moment (the two
/// merged into one change: who did which, and how many of what, is open), or several hands
/// pressed it at once (several takers).
const HAND_PRESS_KG: f64 = 0.6;
/// A shelf change's window either side of its start, seconds: the body that took or put back
/// stood still over it ...
const STILL_WINDOW_S: f64 = 1.0;
/// ... moving less than this, metres (a standing body's track wanders a few centimetres) ...
const STILL_M: f64 = 0.35;
/// ... and a body that moved more than this over either side of it was walking, metres (a
/// standing body's track in a crowd was seen to wander 0.55 m as neighbours' boxes pulled it).
const WALKED_M: f64 = 0.65;
/// Where a track was at either end of such a second is read at the nearest tick it was seen
/// within this, seconds.
const ENDS_WITHIN_S: f64 = 0.3;

/// How far (in units of the item's weight) the weight between two hand contacts may be from a
/// whole number of items for the change to be split there.
const SPLIT_TOLERANCE: f64 = 0.3;

/// A hand fused into several tracks is the nearest one's, and those no farther from it than
/// this more, metres.
const FUSED_NEARER_M: f64 = 0.2;
/// A hand fused into one body farther from it than this (beyond an arm: a body reaching into
/// a bay stands about 0.5 m from its hand) ...
const MISFUSED_FROM_M: f64 = 0.8;
/// ... and no farther than this ...
const MISFUSED_UNTIL_M: f64 = 1.0;
/// ... is the hand of the body nearest it, when that one stands within this distance ...
const MISFUSED_TO_M: f64 = 0.65;
/// ... this much nearer than the body it was fused into ...
const MISFUSED_NEARER_M: f64 = 0.25;
/// ... with no third body within this margin of its distance.
const MISFUSED_ALONE_M: f64 = 0.15;
/// How much farther than `reach_m` a body may stand from its own hand seen in a bay, metres.
const OWN_HAND_SLACK_M: f64 = 0.4;
/// A shopper taking from a shelf stands within this distance of their own hand, metres (an arm
/// and a lean): a hand farther from the body named for it may be another's.
const FAR_HAND_M: f64 = 0.85;
/// An arm reaches forward into a bay: of the bodies about as near the hands seen in the changed
/// level, one standing on average this much farther along the shelf's face from them than
/// another did not take; and a hand seen through the track of a body standing this much
/// farther along the face from it than the taker is the taker's, metres.
const LATERAL_MARGIN_M: f64 = 0.2;
/// ... where the other stood right in front of the hands: no farther along the face from them
/// than this, metres.
const IN_FRONT_M: f64 = 0.3;
/// ... and no farther from them than an arm held forward, metres (a hand farther from every
/// body may be someone else's, unseen).
const FRONT_ARM_M: f64 = 0.7;
/// A hand seen in one level or bay at this many ticks within [`BUSY_WINDOW_S`] of a change
/// beginning in another was busy there (the change was another's).
const BUSY_HAND_TICKS: usize = 3;
/// Two hands seen in one level at once farther apart than this along the floor, metres, are
/// of two bodies (one's two hands take from about where it stands).
const HANDS_APART_M: f64 = 0.45;
/// A hand seen within this distance, metres, ...
const SAME_HAND_M: f64 = 0.15;
/// ... and this time of another, seconds, is the same hand (a hand moves a few centimetres
/// between ticks while it takes an item).
const SAME_HAND_S: f64 = 0.35;
/// Sightings of one shopper's hand in a level further apart than this, seconds, are two
/// reaches into it.
const HAND_RUN_GAP_S: f64 = 0.7;
/// A put-back's weight fitting the level's own item this much better than the item carried
/// from elsewhere it was read as leaves which it was open, kg (five times a load cell's noise).
const SKU_CLEARER_KG: f64 = 0.015;
/// How near a shelf's face a body's centre can stand, metres (half a body's depth).
const BODY_HALF_DEPTH_M: f64 = 0.2;
/// A hand making a part of a split change is in the level within this long of the part's
/// contact beginning, seconds.
const HAND_BACK_S: f64 = 0.5;
/// A hand seen in a level before a change there began, no more than this long after an
/// earlier change at that level named for its shopper alone began, made the earlier one,
/// seconds.
const STALE_HAND_S: f64 = 2.0;
/// See [`BUSY_HAND_TICKS`], seconds either side of the change's start.
const BUSY_WINDOW_S: f64 = 0.4;
/// A body (its track) this far from a hand cannot have reached it, metres: twice an arm
/// stretched into a bay, since tracks in a crowd sit off their bodies (1.2 m cost exact carts
/// in crowded-shelf).
const NOT_ITS_HAND_M: f64 = 2.4;
/// Two shoppers together at a blind spot are doubted once in this many seconds.
const BLIND_PAIR_S: f64 = 60.0;
/// Appearance samples before a shopper's outfit is known.
const OUTFIT_MIN_SAMPLES: u32 = 10;
/// A shopper's head height is known once learnt from this many readings.
const HEIGHT_MIN_SAMPLES: u32 = 10;
/// A bound track that has not looked like its shopper for this long, seconds, is checked for
/// someone else's outfit ...
const APPEARANCE_SWITCH_S: f64 = 1.0;
/// ... and followed them from about this long before it stopped looking like its own (a
/// track's appearance is a running mean that lags).
const APPEARANCE_LAG_S: f64 = 0.5;
/// A track born away from the entrance is taken for a shopper found again only once it has
/// lasted this long ...
const RECOVER_AFTER_S: f64 = 1.0;
/// ... seen lately in this fraction of the ticks (a ghost of crossing rays flickers).
const RECOVER_SEEN_FRACTION: f64 = 0.6;
/// A track's appearance at least this similar to an outfit is still that outfit.
const OUTFIT_SAME: f64 = 0.6;
/// Cosine-similarity margin by which appearance tells two shoppers apart.
const APPEARANCE_MARGIN: f64 = 0.3;
/// ... and by which a track in a cycle of swapped tracks wears the next shopper's outfit more
/// than its own shopper's (an outfit learnt in a crowd may have taken in a neighbour's).
const CROWD_OUTFIT_MARGIN: f64 = 0.15;
/// Gait: a track's walking speed is measured over this interval, seconds ...
const GAIT_DT_S: f64 = 0.5;
/// ... and counts while it walks (a shopper standing at a shelf or stepping aside says nothing
/// of their gait), m/s ...
const GAIT_WALKING_MPS: f64 = 0.6;
/// ... up to a run (faster is a track jumping between people), m/s.
const GAIT_MAX_MPS: f64 = 2.5;
/// Walking-speed samples (ticks) before a gait is known: a shopper's, and a track's since a
/// doubt.
const GAIT_MIN_SAMPLES: usize = 30;
/// Walking speeds a shopper's gait keeps (the latest).
const GAIT_KEEP: usize = 600;
/// Two gaits this far apart (median walking speeds, m/s) tell two shoppers apart ...
const GAIT_APART_MPS: f64 = 0.15;
/// ... when one pairing of shoppers with tracks fits their gaits better than the other by
/// this much, m/s.
const GAIT_MARGIN_MPS: f64 = 0.1;
/// Cell of the walking-distance grid, metres.
const WALK_CELL_M: f64 = 0.2;

/// Two shelf changes that began this close, seconds, are two bodies' (taking an item and
/// another elsewhere takes a body longer).
const MADE_WINDOW_S: f64 = 0.8;
/// ... and where the change is otherwise open among those within reach (no hand tells them
/// apart), within this much: a wrong naming of one of them elsewhere spreads no further.
const REACH_MADE_WINDOW_S: f64 = 0.6;
/// Two picks from one level that began this close, seconds (and more than a tick apart), one
/// of them a single unit named for one shopper alone, are two bodies' reaches: a body takes
/// what it takes from a level in one reach. (Not a pick of several units: where two reaches
/// overlap, the load cell's plateau between them may put units of one into the other.)
const SAME_LEVEL_MADE_WINDOW_S: f64 = 1.5;
/// Window of a track's recent head heights, seconds.
const RECENT_S: f64 = 3.0;
/// A track's recent head heights (which may tell it follows someone else) are taken only at
/// least this far from every shelf, metres: a body beside a shelf is half hidden by it in the
/// cameras behind, and its measured height drifts towards the nominal one.
const HEIGHT_CLEAR_M: f64 = 0.8;

fn distance_to_polygon(p: &Polygon, x: DVec2) -> f64 {
    if p.contains(x) {
        return 0.0;
    }
    let v = &p.vertices;
    (0..v.len())
        .map(|i| {
            let (a, b) = (v[i], v[(i + 1) % v.len()]);
            let ab = b - a;
            let t = ((x - a).dot(ab) / ab.length_squared().max(1e-12)).clamp(0.0, 1.0);
            x.distance(a + ab * t)
        })
        .fold(f64::INFINITY, f64::min)
}

impl ShelfInfo {
    /// The level a hand at height `z` reaches into: the highest board at or below it (items
    /// stand on a board, and a hand takes one between it and the top of the items on it). A
    /// hand below the lowest board reaches into the lowest level; one higher above its board
    /// than the items stand (a hand hanging at a body's side, in front of a low shelf)
    /// reaches into none.
    fn level_at(&self, z: f64) -> Option<usize> {
        /// A wrist measured a little below the board it reaches above.
        const BELOW_BOARD_M: f64 = 0.05;
        /// The tallest items on a board, metres (a 1 l carton stands 25 cm): a hand taking
        /// or putting one back is no higher above the board.
        const ITEM_TOP_M: f64 = 0.3;
        let lowest = self
            .level_heights
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(l, _)| l);
        self.level_heights
            .iter()
            .enumerate()
            .filter(|(_, h)| **h <= z + BELOW_BOARD_M)
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(lowest, |(l, h)| (z <= h + ITEM_TOP_M).then_some(l))
    }

    /// Distance from a body at `p` to the bay, when the body stands on a side it can reach in
    /// from (a shopper behind the gondola is not within reach of this face, however near).
    fn reach_distance(&self, p: DVec2) -> Option<f64> {
        let beyond = [
            p.x < self.min.x,
            p.x > self.max.x,
            p.y < self.min.y,
            p.y > self.max.y,
        ];
        let inside = !beyond.iter().any(|b| *b);
        (inside || beyond.iter().zip(self.open).any(|(b, o)| *b && o))
            .then(|| distance_to_box(self.min, self.max, p))
    }
}

/// The body whose hand at `p` was fused into another's track: `whose` (the tracks its
/// detections were fused into) is one body standing farther from the hand than an arm reaches
/// (`MISFUSED_FROM_M`, up to `MISFUSED_UNTIL_M`: farther still, it is no hand of that body's but
/// rays crossed by chance), while another body stands within an arm of it (`MISFUSED_TO_M`),
/// clearly nearer (`MISFUSED_NEARER_M`) and nearest of all (no third within
/// `MISFUSED_ALONE_M` of it). In a camera that sees the taker's box over a neighbour's, fusion
/// may give the box to the neighbour's track, wrist and all.
fn misfused_hand(p: DVec2, whose: &[u64], tracks: &[TrackObs]) -> Option<u64> {
    let [fused] = whose else {
        return None;
    };
    let dist = |t: &TrackObs| (t.x - p.x).hypot(t.y - p.y);
    let d_fused = dist(tracks.iter().find(|t| t.id == *fused)?);
    if d_fused <= MISFUSED_FROM_M || d_fused > MISFUSED_UNTIL_M {
        return None;
    }
    let mut others: Vec<(u64, f64)> = tracks
        .iter()
        .filter(|t| t.id != *fused)
        .map(|t| (t.id, dist(t)))
        .collect();
    others.sort_by(|a, b| a.1.total_cmp(&b.1));
    let &(id, d) = others.first()?;
    let alone = others
        .get(1)
        .is_none_or(|next| next.1 >= d + MISFUSED_ALONE_M);
    (d <= MISFUSED_TO_M && d <= d_fused - MISFUSED_NEARER_M && alone).then_some(id)
}

/// Which sides of each box (-x, +x, -y, +y) no other box touches.
fn open_sides(boxes: &[(DVec2, DVec2)]) -> Vec<[bool; 4]> {
    const TOUCH: f64 = 0.02;
    boxes
        .iter()
        .enumerate()
        .map(|(i, (lo, hi))| {
            let mut open = [true; 4];
            for (j, (a, b)) in boxes.iter().enumerate() {
                if i == j {
                    continue;
                }
                let overlap_y = a.y < hi.y - TOUCH && b.y > lo.y + TOUCH;
                let overlap_x = a.x < hi.x - TOUCH && b.x > lo.x + TOUCH;
                if overlap_y && (b.x - lo.x).abs() < TOUCH {
                    open[0] = false;
                }
                if overlap_y && (a.x - hi.x).abs() < TOUCH {
                    open[1] = false;
                }
                if overlap_x && (b.y - lo.y).abs() < TOUCH {
                    open[2] = false;
                }
                if overlap_x && (a.y - hi.y).abs() < TOUCH {
                    open[3] = false;
                }
            }
            open
        })
        .collect()
}

/// A pick or return event's kind, naming `who`.
fn with_shopper(mut kind: EventKind, who: Option<ShopperId>) -> EventKind {
    if let EventKind::Pick { shopper, .. } | EventKind::Return { shopper, .. } = &mut kind {
        *shopper = who;
    }
    kind
}

/// Adds to `rivals` each of `others` that is neither `taker` nor there already; how many it added.
fn add_rivals(
    rivals: &mut Vec<usize>,
    taker: usize,
    others: impl IntoIterator<Item = usize>,
) -> usize {
    let before = rivals.len();
    for o in others {
        if o != taker && !rivals.contains(&o) {
            rivals.push(o);
        }
    }
    rivals.len() - before
}

/// Of the shoppers `close`, with how far along the shelf's face each stood from the `seen`
/// hands (or glimpses) of a change at `at` (shelf, level, time), on average (`lateral`):
/// where one stood within [`IN_FRONT_M`] of them (an arm reaches forward), those standing
/// [`LATERAL_MARGIN_M`] or more farther along than that one are not whose hands they were;
/// else (or where one was not seen) all of them.
fn in_front(
    close: Vec<usize>,
    seen: &str,
    at: (&str, u32, f64),
    lateral: impl Fn(usize) -> Option<f64>,
) -> Vec<usize> {
    let lateral: Vec<Option<f64>> = close.iter().map(|&k| lateral(k)).collect();
    tracing::debug!(
        shelf = at.0,
        level = at.1,
        since = at.2,
        ?close,
        ?lateral,
        seen,
        "shelf change: how far along the face from the hands each stood"
    );
    match lateral.iter().flatten().copied().min_by(f64::total_cmp) {
        Some(min) if min <= IN_FRONT_M && lateral.iter().all(Option::is_some) => close
            .into_iter()
            .zip(lateral)
            .filter(|(_, l)| l.is_some_and(|l| l < min + LATERAL_MARGIN_M))
            .map(|(k, _)| k)
            .collect(),
        _ => close,
    }
}

/// The shoppers `close` without those `ruled_out` (for `why`, of a change at `at`: shelf,
/// level, time), unless that would leave none.
fn unless_all(
    close: Vec<usize>,
    why: &str,
    at: (&str, u32, f64),
    ruled_out: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let out: Vec<usize> = close.iter().copied().filter(|&k| ruled_out(k)).collect();
    tracing::debug!(
        shelf = at.0,
        level = at.1,
        since = at.2,
        ?close,
        ?out,
        why,
        "shelf change: ruled out"
    );
    if out.is_empty() || out.len() == close.len() {
        close
    } else {
        close.into_iter().filter(|k| !out.contains(k)).collect()
    }
}

/// How far along a bay's face a body standing at `b` is from a hand at `p`: along x before or
/// behind the bay, along y at its ends.
fn along_face(info: &ShelfInfo, b: DVec2, p: glam::DVec3) -> f64 {
    if b.y < info.min.y || b.y > info.max.y {
        (p.x - b.x).abs()
    } else {
        (p.y - b.y).abs()
    }
}

fn distance_to_box(min: DVec2, max: DVec2, p: DVec2) -> f64 {
    let d = (min - p).max(p - max).max(DVec2::ZERO);
    d.length()
}

/// A pseudonymous shopper id for a token (FNV-1a; tokens never leave the process).
/// How many whole units of `unit_kg` a change of `delta_kg` is, one or more, to within 50 g.
fn whole_units(delta_kg: f64, unit_kg: f64) -> Option<u32> {
    let q = (delta_kg.abs() / unit_kg).round();
    (q >= 1.0 && (delta_kg.abs() - q * unit_kg).abs() <= 0.05).then_some(q as u32)
}

fn pseudonym(token: &str, salt: u64) -> ShopperId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in token.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("s-{h:016x}")
}

/// The pseudonymous shopper id walkout publishes for a token.
pub fn pseudonym_of(token: &str) -> ShopperId {
    pseudonym(token, 0x5eed)
}

impl Interact {
    pub fn new(store: &StoreConfig, cfg: InteractConfig) -> Interact {
        let zone = |k: ZoneKind| {
            store
                .zones
                .iter()
                .find(|z| z.kind == k)
                .map(|z| z.polygon.clone())
        };
        Interact {
            cfg,
            store: store.id.clone(),
            shelves: store
                .shelves
                .iter()
                .zip(open_sides(
                    &store
                        .shelves
                        .iter()
                        .map(|s| (s.min.truncate(), s.max.truncate()))
                        .collect::<Vec<_>>(),
                ))
                .map(|(s, open)| ShelfInfo {
                    id: s.id.clone(),
                    min: s.min.truncate(),
                    max: s.max.truncate(),
                    open,
                    levels: s
                        .levels
                        .iter()
                        .map(|l| {
                            l.facings
                                .iter()
                                .map(|f| (f.sku.clone(), f.unit_weight_kg))
                                .collect()
                        })
                        .collect(),
                    level_heights: s.levels.iter().map(|l| l.height_m).collect(),
                })
                .collect(),
            entrance: zone(ZoneKind::Entrance),
            exit: zone(ZoneKind::Exit),
            blind_spots: store
                .zones
                .iter()
                .filter(|z| z.kind == ZoneKind::BlindSpot)
                .map(|z| z.polygon.clone())
                .collect(),
            blind_doubted: Vec::new(),
            walk: walk::WalkMap::new(store, WALK_CELL_M),
            shoppers: Vec::new(),
            by_track: HashMap::new(),
            owner: HashMap::new(),
            rebinds: None,
            entries: VecDeque::new(),
            history: VecDeque::new(),
            cells: HashMap::new(),
            next_event: 0,
            now: 0.0,
            deferred: Vec::new(),
            reaches: VecDeque::new(),
            made: VecDeque::new(),
            glimpses: VecDeque::new(),
            looks: VecDeque::new(),
            ids: None,
            doubts: Vec::new(),
            open_events: Vec::new(),
            open_choices: Vec::new(),
            checks: Vec::new(),
            track_h: HashMap::new(),
            recent_h: HashMap::new(),
            track_app: HashMap::new(),
            track_life: HashMap::new(),
            mismatch: HashMap::new(),
            left_at: HashMap::new(),
            looked_own: HashMap::new(),
            outfits_agree: HashMap::new(),
            track_gait: HashMap::new(),
            forgot_at: f64::NEG_INFINITY,
        }
    }

    /// Takes event ids from `ids` (shared with other event sources of the store).
    pub fn with_event_ids(mut self, ids: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Interact {
        self.ids = Some(ids);
        self
    }

    /// Keeps every binding made until [`Interact::take_rebinds`] takes it (for tracks by
    /// shopper written after the fact).
    pub fn with_rebinds(mut self) -> Interact {
        self.rebinds = Some(Vec::new());
        self
    }

    fn event(&mut self, time: f64, kind: EventKind, ambiguous: Option<Ambiguity>) -> Output {
        self.next_event = match &self.ids {
            Some(ids) => ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            None => self.next_event + 1,
        };
        Output::Event(Event {
            schema: SCHEMA_VERSION,
            store: self.store.clone(),
            id: self.next_event,
            time,
            kind,
            ambiguous,
            corrects: None,
        })
    }

    fn cart(&self, k: usize, time: f64, is_final: bool) -> Output {
        let s = &self.shoppers[k];
        Output::Cart(Cart {
            schema: SCHEMA_VERSION,
            store: self.store.clone(),
            shopper: s.id.clone(),
            time,
            items: s.cart.clone(),
            pending: s.pending.clone(),
            is_final,
        })
    }

    /// Hands seen in shelves at `time` (see [`reach::reach_points`]; with their tracks named
    /// by [`reach::attribute`] when known).
    pub fn reach(&mut self, time: f64, points: &[reach::Reach]) {
        for r in points {
            let to = if r.glimpse {
                &mut self.glimpses
            } else {
                &mut self.reaches
            };
            to.push_back((time, r.shelf, r.p, r.tracks.clone()));
            if !r.glimpse {
                self.looks.push_back(r.look.clone());
            }
        }
        while self
            .reaches
            .front()
            .is_some_and(|(t, _, _, _)| *t < time - 20.0)
        {
            self.reaches.pop_front();
            self.looks.pop_front();
        }
        while self
            .glimpses
            .front()
            .is_some_and(|(t, _, _, _)| *t < time - 20.0)
        {
            self.glimpses.pop_front();
        }
    }

    /// Shoppers near a hand seen in `shelf` at `level` around `time`: (shopper, distance from
    /// the hand), nearest first; `None` when no hand was seen there (a hand with no known
    /// shopper near it gives an empty list: nobody can be named). Where the hands' own bodies
    /// are known (the person detections that carried the wrists, fused into tracks), only those
    /// shoppers are listed, and of them those whose hand came in nearest `time` (first seen
    /// within `HAND_TIME_MARGIN_S` of the nearest): a shopper standing beside a reaching one
    /// did not reach, and one reaching in a moment later did not start this change.
    /// `later_part`: the change is a later part of one split at a hand contact (hands in the
    /// shelf since before it made the earlier parts); `next_contact`: when the contact that
    /// made the next part began, for a part followed by another (a hand first seen after that
    /// made a later part, not this one). `hands_split`: where a split fitted by the load
    /// cell's model divides the parts' hands ([`Change::hands_split`]), for both tests.
    fn by_hand(
        &self,
        shelf: usize,
        level: usize,
        time: f64,
        later_part: bool,
        next_contact: Option<f64>,
        hands_split: Option<f64>,
    ) -> Option<Vec<(usize, f64)>> {
        const HAND_TIME_MARGIN_S: f64 = 0.3;
        let mut best: HashMap<usize, f64> = HashMap::new();
        // Shopper -> (nearest hand, first sighting, how often seen, how often as the only body
        // its detections were fused into) of their own hands.
        let mut hands: HashMap<usize, (f64, f64, u32, u32)> = HashMap::new();
        // Shopper -> when their own hand was seen.
        let mut sightings: HashMap<usize, Vec<f64>> = HashMap::new();
        let mut seen = false;
        let near = |(tr, s, _, _): &&(f64, usize, glam::DVec3, Vec<u64>)| {
            *s == shelf && *tr >= time - 1.0 && *tr <= time + 1.0
        };
        // Hands at the changed level only: a shopper beside the one who took from it, reaching
        // into another level of the bay (or a hand hanging at a lower level's height), did not
        // change it; with no hand seen at the level, the bodies near the bay decide.
        let info = &self.shelves[shelf];
        let at_level = |p: &glam::DVec3| info.level_at(p.z) == Some(level);
        for (tr, s, p, whose) in self.reaches.iter().filter(near) {
            let (tr, _s, p) = (*tr, *s, *p);
            if !at_level(&p) {
                continue;
            }
            // A hand seen before this change began, of shoppers each named alone for an earlier
            // change at this level then, made that change.
            if tr < time - HAND_RUN_GAP_S
                && !whose.is_empty()
                && whose.iter().all(|w| {
                    self.owner_at(*w, tr).is_some_and(|k| {
                        self.made.iter().any(|&(t, s, l, who, _)| {
                            who == k
                                && (s, l as usize) == (shelf, level)
                                && t < time - 0.05
                                && t >= tr - STALE_HAND_S
                        })
                    })
                })
            {
                continue;
            }
            tracing::trace!(
                shelf = info.id.as_str(),
                t = tr,
                p = ?(p.x, p.y, p.z),
                whose = ?whose
                    .iter()
                    .map(|w| (w, self.owner_at(*w, tr).map(|k| self.shoppers[k].token.as_str())))
                    .collect::<Vec<_>>(),
                "a hand in the bay"
            );
            seen = true;
            // Where the shoppers were at that tick.
            let Some((_, tracks)) = self.tick_nearest(tr) else {
                continue;
            };
            // A hand whose detections were fused into several tracks is the nearest body's
            // (and those about as near): an arm reaches from its own body.
            let dist = |id: u64| {
                tracks
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| (t.x - p.x).hypot(t.y - p.y))
            };
            let nearest = whose
                .iter()
                .filter_map(|&w| dist(w))
                .fold(f64::INFINITY, f64::min);
            let own: Vec<u64> = match misfused_hand(DVec2::new(p.x, p.y), whose, tracks) {
                Some(other) => {
                    tracing::debug!(
                        shelf = info.id.as_str(),
                        t = tr,
                        ?whose,
                        other,
                        "a hand fused into a body beyond an arm from it is the body nearest it"
                    );
                    vec![other]
                }
                None => whose
                    .iter()
                    .copied()
                    .filter(|&w| dist(w).is_none_or(|d| d <= nearest + FUSED_NEARER_M))
                    .collect(),
            };
            for t in tracks {
                let Some(k) = self.owner_at(t.id, tr) else {
                    continue;
                };
                let d = (t.x - p.x).hypot(t.y - p.y);
                let side_ok = self.shelves[shelf]
                    .reach_distance(DVec2::new(t.x, t.y))
                    .is_some();
                if !side_ok {
                    continue;
                }
                if d <= self.cfg.reach_m {
                    let e = best.entry(k).or_insert(f64::INFINITY);
                    *e = e.min(d);
                }
                // The hand's own body: an arm stretched into a bay from its corner is longer
                // than the reach that counts for a body merely near the hand.
                if own.contains(&t.id) && d <= self.cfg.reach_m + OWN_HAND_SLACK_M {
                    let e = hands.entry(k).or_insert((f64::INFINITY, tr, 0, 0));
                    e.0 = e.0.min(d);
                    e.1 = e.1.min(tr);
                    // How often it was seen counts from a run's gap before the change: a hand
                    // seen earlier made an earlier reach, and does not make this one dwell.
                    let counts = tr >= time - HAND_RUN_GAP_S;
                    e.2 += u32::from(counts);
                    e.3 += u32::from(counts && own.len() == 1);
                    sightings.entry(k).or_default().push(tr);
                }
            }
        }
        let mut v: Vec<(usize, f64)> = if hands.is_empty() {
            best.into_iter().collect()
        } else {
            // A later part of a split change: hands in the shelf since before its contact
            // made the earlier parts (none new: whose it was is not seen).
            if later_part {
                let from = hands_split.unwrap_or(time - HAND_TIME_MARGIN_S);
                hands.retain(|_, h| h.1 >= from);
                if hands.is_empty() {
                    return Some(Vec::new());
                }
            }
            // A part followed by another: a hand first seen once the next contact had begun
            // made a later part (two takers a moment apart; the second one's hand, seen more,
            // would otherwise take the first one's part too).
            if let Some(next) = next_contact {
                let next = hands_split.unwrap_or(next);
                hands.retain(|_, h| h.1 < next || hands_split.is_none() && h.1 <= next);
            }
            // A hand that dwelt in the bay took the item, not one that passed it for a tick
            // while another stayed there many.
            let most = hands.values().map(|h| h.2).max().unwrap_or(0);
            hands.retain(|_, h| most < HAND_DWELL_TICKS || h.2 * 2 > most);
            // A hand seen plainly as one body's, not one only ever fused into two tracks
            // (beside the body whose hand it plainly was).
            if hands.values().any(|h| h.3 > 0) {
                hands.retain(|_, h| h.3 > 0);
            }
            // The hand that came in when the shelf was touched: for each one, when a run of
            // sightings of their hand (none more than a few ticks apart) began, the run
            // beginning nearest then (not a sighting a second before, fused into another's
            // track too).
            let came_in = |k: &usize| {
                let mut ts = sightings.get(k).cloned().unwrap_or_default();
                ts.sort_by(f64::total_cmp);
                let starts = ts
                    .iter()
                    .enumerate()
                    .filter(|(i, t)| *i == 0 || **t - ts[i - 1] > HAND_RUN_GAP_S)
                    .map(|(_, t)| (t - time).abs());
                starts.fold(f64::INFINITY, f64::min)
            };
            let first = hands.keys().map(came_in).fold(f64::INFINITY, f64::min);
            // Unless every hand that came in then was glimpsed plainly only once, none having
            // dwelt: a glimpse a moment nearer the change says no more than another's.
            let glimpses = most < HAND_DWELL_TICKS
                && hands
                    .iter()
                    .filter(|(k, _)| came_in(k) <= first + HAND_TIME_MARGIN_S)
                    .all(|(_, h)| h.3 < 2);
            hands
                .into_iter()
                .filter(|(k, _)| glimpses || came_in(k) <= first + HAND_TIME_MARGIN_S)
                .map(|(k, h)| (k, h.0))
                .collect()
        };
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        seen.then_some(v)
    }

    /// A gate message (entries open a shopper slot for the next track at the entrance).
    pub fn gate(&mut self, m: &GateMessage) -> Vec<Output> {
        if m.direction == GateDirection::Entry {
            self.entries.push_back((m.token.clone(), m.time));
        }
        Vec::new()
    }

    /// Whether a floor point is far enough from every shelf for a head height measured there
    /// to be trusted (see `HEIGHT_CLEAR_M`).
    fn clear_of_shelves(&self, p: DVec2) -> bool {
        self.shelves.iter().all(|s| {
            let d = (s.min - p).max(p - s.max).max(DVec2::ZERO);
            d.length() >= HEIGHT_CLEAR_M
        })
    }

    /// The confirmed tracks of one tick.
    ///
    /// `tracks` may include coasting tracks (`seen: false`): they count for who is within reach
    /// of a shelf (a shopper standing at a shelf is often hidden by it), not for identity.
    pub fn tick(&mut self, time: f64, tracks: &[TrackObs]) -> Vec<Output> {
        self.now = time;
        let mut out = self.decide_due(time);
        self.history.push_back((time, tracks.to_vec()));
        while self.history.front().is_some_and(|(t, _)| *t < time - 20.0) {
            self.history.pop_front();
        }
        if time - self.forgot_at >= FORGET_EVERY_S {
            self.forget_tracks();
            self.forgot_at = time;
        }
        let seen: Vec<TrackObs> = tracks.iter().filter(|t| t.seen).cloned().collect();
        let tracks = &seen[..];
        let clear: Vec<bool> = tracks
            .iter()
            .map(|t| self.clear_of_shelves(DVec2::new(t.x, t.y)))
            .collect();
        for (t, &clear) in tracks.iter().zip(&clear).filter(|(t, _)| t.height_m > 1.0) {
            let e = self.track_h.entry(t.id).or_insert((0.0, 0));
            e.0 += t.height_m;
            e.1 += 1;
            if !clear {
                continue;
            }
            let r = self.recent_h.entry(t.id).or_default();
            r.push_back((time, t.height_m));
            while r.front().is_some_and(|(tt, _)| *tt < time - RECENT_S) {
                r.pop_front();
            }
        }
        self.recent_h
            .retain(|_, r| r.back().is_some_and(|(tt, _)| *tt >= time - RECENT_S));
        // Gait: each seen track's walking speed over the last `GAIT_DT_S` (where it was seen
        // then too).
        let i0 = self
            .history
            .partition_point(|(t, _)| *t < time - GAIT_DT_S - 0.01);
        if let Some((t0, past)) = self
            .history
            .get(i0)
            .filter(|(t0, _)| *t0 <= time - 0.5 * GAIT_DT_S)
        {
            for t in tracks {
                let Some(o) = past.iter().find(|o| o.id == t.id && o.seen) else {
                    continue;
                };
                let v = (t.x - o.x).hypot(t.y - o.y) / (time - t0);
                if (GAIT_WALKING_MPS..=GAIT_MAX_MPS).contains(&v) {
                    self.track_gait
                        .entry(t.id)
                        .or_default()
                        .push((time, v as f32));
                }
            }
        }
        self.track_gait
            .retain(|_, v| v.last().is_some_and(|(tt, _)| *tt >= time - 600.0));
        out.extend(self.run_checks(time));
        for t in tracks {
            if let Some(e) = &t.embedding {
                self.track_app.insert(t.id, (time, e.clone()));
            }
        }
        self.track_app.retain(|_, (tt, _)| *tt >= time - 30.0);
        for t in tracks {
            let life = self.track_life.entry(t.id).or_insert((time, time, 0.0));
            let a = 1.0 - (-(time - life.1).max(0.05) / (0.5 * RECOVER_AFTER_S)).exp();
            life.2 += a * (f64::from(u8::from(t.seen)) - life.2);
            life.1 = time;
        }
        self.track_life
            .retain(|id, _| tracks.iter().any(|t| t.id == *id));
        // Bound tracks: follow their shoppers.
        for t in tracks {
            if let Some(&k) = self.by_track.get(&t.id) {
                // Their outfit is learnt only while nothing about them is in doubt.
                let sure = self.shoppers[k].confusable.is_empty()
                    && !self.doubts.iter().any(|d| d.lost == k || d.kept == k);
                let walked = self
                    .track_gait
                    .get(&t.id)
                    .and_then(|v| v.last())
                    .filter(|(tt, _)| *tt == time)
                    .map(|x| x.1);
                let s = &mut self.shoppers[k];
                s.last_pos = DVec2::new(t.x, t.y);
                s.last_seen = time;
                // Their gait too (kept through a blind spot: clothes do not change it).
                if sure && let Some(v) = walked {
                    if s.gait.len() >= GAIT_KEEP {
                        s.gait.remove(0);
                    }
                    s.gait.push(v);
                }
                if t.height_m > 1.0 {
                    s.height_n += 1;
                    s.height += (t.height_m - s.height) / f64::from(s.height_n.min(300));
                }
                // Nor from a track that no longer looks like them (someone else's, now).
                let looks = |e: &[f32]| s.outfit().is_none_or(|o| cosine(e, o) > OUTFIT_SAME);
                if sure
                    && let Some(e) = &t.embedding
                    && looks(e)
                {
                    if s.outfit.len() != e.len() {
                        s.outfit = vec![0.0; e.len()];
                        s.outfit_n = 0;
                    }
                    s.outfit_n += 1;
                    let w = 1.0 / s.outfit_n.min(300) as f32;
                    s.outfit
                        .iter_mut()
                        .zip(e)
                        .for_each(|(m, x)| *m += w * (x - *m));
                }
            }
        }
        out.extend(self.blind_spot_doubts(time, tracks));
        // New tracks: an entry at the gate, or a shopper found again.
        for t in tracks {
            if self.by_track.contains_key(&t.id) {
                continue;
            }
            let p = DVec2::new(t.x, t.y);
            let at_entrance = self
                .entrance
                .as_ref()
                .is_some_and(|z| distance_to_polygon(z, p) <= self.cfg.entry_radius_m);
            let entry = self
                .entries
                .iter()
                .position(|(_, te)| *te <= time + 1.0 && time - *te <= self.cfg.entry_window_s);
            if at_entrance && let Some(e) = entry {
                let Some((token, _)) = self.entries.remove(e) else {
                    continue;
                };
                let k = self.shoppers.len();
                self.shoppers.push(Shopper {
                    id: pseudonym_of(&token),
                    token,
                    track: Some(t.id),
                    last_pos: p,
                    last_seen: time,
                    height: t.height_m,
                    height_n: u32::from(t.height_m > 1.0),
                    exited: false,
                    entered: time,
                    exited_at: f64::INFINITY,
                    exit_track: None,
                    cart: BTreeMap::new(),
                    pending: BTreeMap::new(),
                    may_carry: BTreeMap::new(),
                    confusable: Vec::new(),
                    outfit: Vec::new(),
                    outfit_n: 0,
                    gait: Vec::new(),
                });
                self.by_track.insert(t.id, k);
                self.set_owner(t.id, time, k);
                let gate = "entrance".to_string();
                let ev = self.event(
                    time,
                    EventKind::Entered {
                        shopper: self.shoppers[k].id.clone(),
                        track: t.id,
                        gate,
                    },
                    None,
                );
                out.push(ev);
                continue;
            }
            // A track right beside a shopper's track is a split view of that shopper (the
            // tracker merges such duplicates), not someone found again.
            let beside = tracks.iter().any(|o| {
                o.id != t.id
                    && self.by_track.contains_key(&o.id)
                    && (o.x - t.x).hypot(o.y - t.y) < self.cfg.duplicate_radius_m
            });
            if beside {
                continue;
            }
            // Not before it has shown itself to be someone: a ghost of crossing rays lives
            // for moments, flickering, and would take a lost shopper's place.
            let born = match self.track_life.get(&t.id) {
                Some(&(born, _, seen))
                    if time - born >= RECOVER_AFTER_S && seen >= RECOVER_SEEN_FRACTION =>
                {
                    born
                }
                _ => continue,
            };
            // Recovery: the shoppers unaccounted for who could have walked here since.
            // (shopper, distance from where they were lost, head-height difference)
            let mut feasible: Vec<(usize, f64, f64)> = self
                .shoppers
                .iter()
                .enumerate()
                .filter(|(_, s)| s.track.is_none() && !s.exited)
                .map(|(k, s)| (k, s, self.walk.distance(s.last_pos, p)))
                .filter(|(_, s, d)| {
                    *d <= self.cfg.max_speed_mps * (time - s.last_seen).max(0.0) + self.cfg.slack_m
                })
                .map(|(k, s, d)| {
                    let dh = match s.height() {
                        Some(h) if t.height_m > 1.0 => (t.height_m - h).abs(),
                        _ => 0.0,
                    };
                    (k, d, dh)
                })
                .collect();
            if feasible.is_empty() {
                continue;
            }
            // Nearest to where they were lost first; a rival is one lost about as near (within
            // `place_margin_m`) whose head height does not tell them apart either.
            feasible.sort_by(|a, b| a.1.total_cmp(&b.1));
            let near: Vec<(usize, f64, f64)> = feasible
                .iter()
                .copied()
                .filter(|f| f.1 - feasible[0].1 < self.cfg.place_margin_m)
                .collect();
            let best = *near
                .iter()
                .min_by(|a, b| a.2.total_cmp(&b.2))
                .unwrap_or(&feasible[0]);
            let mut rivals: Vec<usize> = near
                .iter()
                .filter(|f| f.0 != best.0 && f.2 - best.2 < self.cfg.height_margin_m)
                .map(|f| f.0)
                .collect();
            // Heights cannot tell them apart: their outfits may, when all of theirs are known
            // (a shopper who may have changed clothes could look like anyone) and one is
            // clearly the track's, with a head height that does not say otherwise.
            let mut best = best;
            if !rivals.is_empty()
                && let Some(e) = &t.embedding
            {
                let mut app: Vec<(usize, f64, f64)> = Vec::new();
                for f in near
                    .iter()
                    .filter(|f| f.0 == best.0 || rivals.contains(&f.0))
                {
                    match self.shoppers[f.0].outfit() {
                        Some(o) => app.push((f.0, cosine(e, o), f.2)),
                        None => {
                            app.clear();
                            break;
                        }
                    }
                }
                app.sort_by(|a, b| b.1.total_cmp(&a.1));
                if let [first, second, ..] = app[..]
                    && first.1 - second.1 > APPEARANCE_MARGIN
                    && first.2 - best.2 < self.cfg.height_margin_m
                {
                    tracing::debug!(
                        shopper = %self.shoppers[first.0].id,
                        similarity = first.1,
                        next = second.1,
                        "recovery decided by outfit"
                    );
                    best = *near.iter().find(|f| f.0 == first.0).unwrap_or(&best);
                    rivals.clear();
                }
            }
            let k = best.0;
            // One who left while their track was in doubt (it may have taken this one out of
            // a blind spot, neither height nor outfit telling them apart) may be the one found
            // now, unless heights tell the found track from them.
            for d in &self.doubts {
                let left = &self.shoppers[d.kept];
                if d.lost == k
                    && left.exited
                    && left.exit_track == Some(d.kept_track)
                    && !rivals.contains(&d.kept)
                    && match left.height() {
                        Some(h) if t.height_m > 1.0 => {
                            (t.height_m - h).abs() - best.2 < self.cfg.height_margin_m
                        }
                        _ => true,
                    }
                {
                    rivals.push(d.kept);
                }
            }
            // Theirs since the track began (shelf evidence meanwhile names them), or since
            // they were last seen on another (where that one was given to someone else, since
            // it began to follow them). Found again on the very track they were lost from (it
            // followed them all along, unseen a while; the other one was someone else's):
            // theirs again from when it was disowned.
            let back = self.owner.get(&t.id).and_then(|v| match v[..] {
                [.., (_, Some(was)), (gone, None)] if was == k => Some(gone),
                _ => None,
            });
            let seen = match self.left_at.remove(&k) {
                Some((at, then)) if then == self.shoppers[k].last_seen => at,
                _ => self.shoppers[k].last_seen,
            };
            let from = back.unwrap_or(born.max(seen));
            // Else, before `from` they were seen on another track: what this one showed
            // then was someone else's (two tracks on one body, or another's body).
            if back.is_none() && from > born {
                self.disown(t.id, born);
            }
            // The track they were lost from is not theirs from then on (the tracker may carry
            // it on with another's detections): nobody's until a binding names someone.
            let before: Vec<u64> = self
                .owner
                .iter()
                .filter(|(tr, v)| {
                    **tr != t.id && v.last().is_some_and(|(f, o)| *o == Some(k) && *f < from)
                })
                .map(|(tr, _)| *tr)
                .collect();
            for tr in before {
                self.disown(tr, from);
            }
            self.shoppers[k].track = Some(t.id);
            self.shoppers[k].last_pos = p;
            self.shoppers[k].last_seen = time;
            self.by_track.insert(t.id, k);
            self.set_owner(t.id, from, k);
            let ambiguity = if rivals.is_empty() {
                None
            } else {
                for &r in &rivals {
                    if !self.shoppers[k].confusable.contains(&r) {
                        self.shoppers[k].confusable.push(r);
                    }
                    if !self.shoppers[r].confusable.contains(&k) {
                        self.shoppers[r].confusable.push(k);
                    }
                    // The track may be either's: a doubt (their gaits, once it has walked,
                    // or the rival's own recovery may tell).
                    let d = self.doubt(r, k, t.id, from, p);
                    self.doubts.push(d);
                }
                let n = (rivals.len() + 1) as f64;
                Some(Ambiguity {
                    candidates: std::iter::once(k)
                        .chain(rivals.iter().copied())
                        .map(|j| Candidate {
                            shopper: self.shoppers[j].id.clone(),
                            likelihood: 1.0 / n,
                        })
                        .collect(),
                    evidence: format!(
                        "{} shoppers could have walked here and their head heights differ by < {:.0} cm",
                        rivals.len() + 1,
                        self.cfg.height_margin_m * 100.0
                    ),
                })
            };
            let ev = self.event(
                time,
                EventKind::IdentityRecovered {
                    shopper: self.shoppers[k].id.clone(),
                    track: t.id,
                    x: t.x,
                    y: t.y,
                },
                ambiguity,
            );
            let recovered_id = match &ev {
                Output::Event(e) => e.id,
                Output::Cart(_) => 0,
            };
            out.push(ev);
            if rivals.is_empty() && self.doubts.iter().any(|d| d.lost == k) {
                self.checks.push(Check {
                    lost: k,
                    track: t.id,
                    since: time,
                    recovered_id,
                    h_at: (0.0, 0),
                });
            }
        }
        out.extend(self.verify_heights(time, tracks));
        out.extend(self.verify_appearance(time, tracks));
        out.extend(self.settle_by_outfits(time, tracks));
        out.extend(self.settle_by_gait(time));
        // Tracks gone: lost, or exited at the exit.
        let present: Vec<u64> = tracks.iter().map(|t| t.id).collect();
        for k in 0..self.shoppers.len() {
            let s = &self.shoppers[k];
            let Some(track) = s.track else { continue };
            if present.contains(&track) || time - s.last_seen < self.cfg.lost_after_s {
                continue;
            }
            let at_exit = self
                .exit
                .as_ref()
                .is_some_and(|z| distance_to_polygon(z, s.last_pos) <= self.cfg.exit_radius_m);
            // At the exit, a track that drops out for a moment is still its shopper's: they
            // have left once it stays unseen.
            if at_exit && time - s.last_seen < self.cfg.exit_after_s {
                continue;
            }
            self.by_track.remove(&track);
            let (id, pos) = (s.id.clone(), s.last_pos);
            self.shoppers[k].track = None;
            if at_exit {
                self.shoppers[k].exited = true;
                self.shoppers[k].exited_at = self.shoppers[k].last_seen;
                self.shoppers[k].exit_track = Some(track);
                // Gone: a track that comes back under this id (the tracker may pick it up
                // again with another body's detections) is nobody's until a binding names
                // someone.
                self.disown(track, time);
                self.left_at.remove(&k);
                let ev = self.event(
                    time,
                    EventKind::Exited {
                        shopper: id,
                        track,
                        gate: "exit".into(),
                    },
                    None,
                );
                out.push(ev);
                out.push(self.cart(k, time, true));
            } else {
                let last_seen = self.shoppers[k].last_seen;
                // Into a blind spot: they may come out in other clothes.
                if self
                    .blind_spots
                    .iter()
                    .any(|z| distance_to_polygon(z, pos) <= self.cfg.swap_radius_m)
                {
                    self.shoppers[k].outfit_n = 0;
                }
                let beside = self.tracks_near(pos, last_seen, track);
                let ambiguity = (!beside.is_empty()).then(|| {
                    let mut candidates = vec![Candidate {
                        shopper: self.shoppers[k].id.clone(),
                        likelihood: 0.5,
                    }];
                    for &(j, _) in &beside {
                        candidates.push(Candidate {
                            shopper: self.shoppers[j].id.clone(),
                            likelihood: 0.5,
                        });
                    }
                    Ambiguity {
                        candidates,
                        evidence: format!(
                            "lost within {:.1} m of {} other shopper(s): their tracks may have swapped",
                            self.cfg.swap_radius_m,
                            beside.len()
                        ),
                    }
                });
                for (j, kept_track) in beside {
                    let mut d = self.doubt(k, j, kept_track, last_seen, pos);
                    if let Some(t) = self.last_tick(track, kept_track, last_seen, true) {
                        d.apart_until = d.apart_until.max(t);
                    }
                    self.doubts.push(d);
                    self.confuse(k, j);
                }
                let ev = self.event(
                    time,
                    EventKind::IdentityLost {
                        shopper: id,
                        track,
                        x: pos.x,
                        y: pos.y,
                    },
                    ambiguity,
                );
                out.push(ev);
            }
        }
        out
    }

    /// Other shoppers' bound tracks within `swap_radius_m` of `p` at about `time`:
    /// (shopper, track).
    fn tracks_near(&self, p: DVec2, time: f64, except: u64) -> Vec<(usize, u64)> {
        let Some((_, tracks)) = self.tick_nearest(time) else {
            return Vec::new();
        };
        let mut v: Vec<(usize, u64)> = tracks
            .iter()
            .filter(|t| t.id != except && (t.x - p.x).hypot(t.y - p.y) < self.cfg.swap_radius_m)
            .filter_map(|t| {
                let &j = self.by_track.get(&t.id)?;
                Some((j, t.id))
            })
            .collect();
        v.sort_unstable();
        v.dedup_by_key(|x| x.0);
        v
    }

    /// A bound track at the mouth of a blind spot in which a lost shopper may be: no camera
    /// sees who walks out of it, so the track may go on with either. Opens a doubt (the lost
    /// shopper's recovery checks the head heights, as for a loss beside another track) and
    /// publishes an `ambiguous` event naming both.
    fn blind_spot_doubts(&mut self, time: f64, tracks: &[TrackObs]) -> Vec<Output> {
        let mut out = Vec::new();
        if self.blind_spots.is_empty() {
            return out;
        }
        let near_blind = |p: DVec2, r: f64| {
            self.blind_spots
                .iter()
                .position(|z| distance_to_polygon(z, p) <= r)
        };
        let mut new = Vec::new();
        for t in tracks {
            let Some(&j) = self.by_track.get(&t.id) else {
                continue;
            };
            let p = DVec2::new(t.x, t.y);
            let Some(zone) = near_blind(p, self.cfg.blind_spot_radius_m) else {
                continue;
            };
            for (k, s) in self.shoppers.iter().enumerate() {
                if k == j || s.exited {
                    continue;
                }
                let in_there = match s.track {
                    // Lost in there.
                    None => {
                        s.last_seen < time
                            && near_blind(s.last_pos, self.cfg.swap_radius_m) == Some(zone)
                    }
                    // Or in there too, on a track of their own: two people together where no
                    // camera sees well may come out as each other.
                    Some(tk) => match tracks.iter().find(|o| o.id == tk) {
                        Some(o) => {
                            near_blind(DVec2::new(o.x, o.y), self.cfg.blind_spot_radius_m)
                                == Some(zone)
                        }
                        // Unseen for the moment, last seen in there.
                        None => near_blind(s.last_pos, self.cfg.swap_radius_m) == Some(zone),
                    },
                };
                // Once per visit: a lost shopper's loss, or a pair's meeting (within a minute).
                let done = self.blind_doubted.iter().any(|&(a, b, at)| match s.track {
                    None => a == k && b == j && at == s.last_seen,
                    Some(_) => {
                        ((a == k && b == j) || (a == j && b == k)) && time - at < BLIND_PAIR_S
                    }
                });
                if in_there && !done {
                    new.push((k, j, t.id, p));
                }
            }
        }
        for (k, j, track, p) in new {
            if self.blind_doubted.iter().any(|&(a, b, at)| {
                a == j && b == k && self.shoppers[k].track.is_some() && time - at < BLIND_PAIR_S
            }) {
                continue;
            }
            let at = if self.shoppers[k].track.is_some() {
                time
            } else {
                self.shoppers[k].last_seen
            };
            self.blind_doubted.push((k, j, at));
            tracing::debug!(
                lost = %self.shoppers[k].id,
                bound = %self.shoppers[j].id,
                track,
                "a bound track at the mouth of the blind spot a lost shopper is in"
            );
            // Clothes may have changed hands in there: appearance decides nothing about them.
            let mut d = self.doubt(k, j, track, time, p);
            d.a_lost = None;
            d.a_kept = None;
            self.doubts.push(d);
            self.shoppers[k].outfit_n = 0;
            self.shoppers[j].outfit_n = 0;
            self.confuse(k, j);
            let ambiguity = Ambiguity {
                candidates: [j, k]
                    .iter()
                    .map(|&x| Candidate {
                        shopper: self.shoppers[x].id.clone(),
                        likelihood: 0.5,
                    })
                    .collect(),
                evidence: "a track at the mouth of a blind spot in which another shopper is unaccounted for: it may go on with either".into(),
            };
            out.push(self.event(
                time,
                EventKind::Ambiguous {
                    subject: format!("track {track}"),
                },
                Some(ambiguity),
            ));
        }
        out
    }

    /// A doubt about `lost` and `kept` (whose track `kept_track` may now follow either),
    /// from `time` at `place`, with what tells them apart as of now.
    fn doubt(&self, lost: usize, kept: usize, kept_track: u64, time: f64, place: DVec2) -> Doubt {
        let (l, k) = (&self.shoppers[lost], &self.shoppers[kept]);
        Doubt {
            lost,
            kept,
            kept_track,
            time,
            place,
            h_lost: l.height(),
            h_kept: k.height(),
            a_lost: l.outfit().map(<[f32]>::to_vec),
            a_kept: k.outfit().map(<[f32]>::to_vec),
            kept_h_at: self.track_h.get(&kept_track).copied().unwrap_or_default(),
            apart_until: time - 1.0,
        }
    }

    /// The last tick at or before `time` at which tracks `a` and `b` were both seen farther
    /// apart than `swap_radius_m` (`apart`), or within it (not `apart`), within the track
    /// history.
    fn last_tick(&self, a: u64, b: u64, time: f64, apart: bool) -> Option<f64> {
        self.history
            .iter()
            .rev()
            .filter(|(t, _)| *t <= time)
            .find_map(|(t, tracks)| {
                let at = |id: u64| tracks.iter().find(|x| x.id == id);
                let (p, q) = (at(a)?, at(b)?);
                (((p.x - q.x).hypot(p.y - q.y) > self.cfg.swap_radius_m) == apart).then_some(*t)
            })
    }

    /// Drops what is kept per track (bindings, head heights, gaits) for tracks nothing refers
    /// to any more: out of the track history and the hands seen (the 20 s every look back
    /// reads), not a shopper's track, the track they left by or one a doubt or check names.
    /// Track ids are never reused, so a long run keeps only what it can still read.
    fn forget_tracks(&mut self) {
        let mut live: HashSet<u64> = self
            .history
            .iter()
            .flat_map(|(_, ts)| ts.iter().map(|t| t.id))
            .collect();
        live.extend(
            self.reaches
                .iter()
                .chain(&self.glimpses)
                .flat_map(|r| r.3.iter().copied()),
        );
        live.extend(self.by_track.keys().copied());
        live.extend(
            self.shoppers
                .iter()
                .flat_map(|s| s.track.into_iter().chain(s.exit_track)),
        );
        live.extend(self.doubts.iter().map(|d| d.kept_track));
        live.extend(self.checks.iter().map(|c| c.track));
        self.owner.retain(|t, _| live.contains(t));
        self.track_h.retain(|t, _| live.contains(t));
        self.track_gait.retain(|t, _| live.contains(t));
        self.looked_own.retain(|t, _| live.contains(t));
    }

    /// How many tracks some state is kept for (a long run keeps this bounded).
    pub fn remembered_tracks(&self) -> usize {
        let mut ids: HashSet<u64> = self.owner.keys().copied().collect();
        ids.extend(self.track_h.keys());
        ids.extend(self.track_gait.keys());
        ids.extend(self.looked_own.keys());
        ids.extend(self.track_life.keys());
        ids.extend(self.track_app.keys());
        ids.extend(self.recent_h.keys());
        ids.extend(self.mismatch.keys());
        ids.len()
    }

    /// Who track `track` was at `time`: the binding in force then (the first one for a time
    /// before any).
    fn owner_at(&self, track: u64, time: f64) -> Option<usize> {
        let v = self.owner.get(&track)?;
        v.iter()
            .rev()
            .find(|(from, _)| *from <= time)
            .or(v.first())
            .and_then(|x| x.1)
    }

    /// Track `track` is shopper `k`'s from `from` on (what it was said to be after that is
    /// forgotten).
    fn set_owner(&mut self, track: u64, from: f64, k: usize) {
        let v = self.owner.entry(track).or_default();
        v.retain(|(f, _)| *f < from);
        v.push((from, Some(k)));
        if let Some(r) = &mut self.rebinds {
            r.push((track, from, Some(k)));
        }
    }

    /// Track `track` is nobody's from `from` on: its shopper, lost from it, is on another.
    fn disown(&mut self, track: u64, from: f64) {
        let v = self.owner.entry(track).or_default();
        v.retain(|(f, _)| *f < from);
        v.push((from, None));
        if let Some(r) = &mut self.rebinds {
            r.push((track, from, None));
        }
    }

    fn confuse(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        if !self.shoppers[a].confusable.contains(&b) {
            self.shoppers[a].confusable.push(b);
        }
        if !self.shoppers[b].confusable.contains(&a) {
            self.shoppers[b].confusable.push(a);
        }
    }

    /// `lost` was found again on `track` (head height `h`): the doubts about `lost` that the
    /// head heights decide are resolved. A swap rebinds the two shoppers' tracks; either way
    /// the events held for the doubt are published again, corrected, and the carts follow.
    /// A bound track that has measured, for `RECENT_S`, a head height well off its shopper's
    /// (by more than twice `height_margin_m`) follows someone else: when exactly one lost
    /// shopper who could have walked there has that height, the track is theirs, and its
    /// former shopper is lost where it was (a doubt: their next recovery checks the heights).
    fn verify_heights(&mut self, time: f64, tracks: &[TrackObs]) -> Vec<Output> {
        let margin = self.cfg.height_margin_m;
        let mut out = Vec::new();
        for t in tracks {
            let Some(&j) = self.by_track.get(&t.id) else {
                continue;
            };
            let Some(r) = self.recent_h.get(&t.id) else {
                continue;
            };
            let span = r.back().map_or(0.0, |b| b.0) - r.front().map_or(0.0, |f| f.0);
            if r.len() < 20 || span < RECENT_S - 0.5 || self.shoppers[j].height_n < 50 {
                continue;
            }
            let recent = r.iter().map(|x| x.1).sum::<f64>() / r.len() as f64;
            if (recent - self.shoppers[j].height).abs() <= 2.0 * margin {
                continue;
            }
            let p = DVec2::new(t.x, t.y);
            let fits: Vec<usize> = (0..self.shoppers.len())
                .filter(|&k| {
                    let s = &self.shoppers[k];
                    s.track.is_none()
                        && !s.exited
                        && s.height_n >= 10
                        && (s.height - recent).abs() < margin
                        && self.walk.distance(s.last_pos, p)
                            <= self.cfg.max_speed_mps * (time - s.last_seen).max(0.0)
                                + self.cfg.slack_m
                })
                .collect();
            let [k] = fits[..] else { continue };
            tracing::debug!(
                time,
                track = t.id,
                was = %self.shoppers[j].id,
                now = %self.shoppers[k].id,
                recent,
                x = t.x,
                y = t.y,
                "a bound track measures another shopper's head height"
            );
            // Its last `RECENT_S` measured `k`: it has followed them since then at least.
            out.extend(self.give_track(t.id, p, j, k, time - RECENT_S, time));
        }
        out
    }

    /// A bound track that has looked, for `APPEARANCE_SWITCH_S`, like another shopper's outfit
    /// and not its own shopper's follows that other shopper: a lost one who could have walked
    /// there is given the track (as for heights); one bound to a track that looks like this
    /// track's shopper swaps tracks with it, from when they stopped looking like themselves.
    fn verify_appearance(&mut self, time: f64, tracks: &[TrackObs]) -> Vec<Output> {
        let mut out = Vec::new();
        let mut swapped: Vec<u64> = Vec::new();
        for t in tracks {
            let Some(&j) = self.by_track.get(&t.id) else {
                continue;
            };
            let (Some(e), Some(own)) = (&t.embedding, self.shoppers[j].outfit()) else {
                self.mismatch.remove(&t.id);
                continue;
            };
            if swapped.contains(&t.id) || cosine(e, own) >= OUTFIT_SAME {
                if !swapped.contains(&t.id) {
                    self.looked_own.insert(t.id, time);
                }
                self.mismatch.remove(&t.id);
                continue;
            }
            let since = *self.mismatch.entry(t.id).or_insert(time);
            if time - since < APPEARANCE_SWITCH_S {
                continue;
            }
            let p = DVec2::new(t.x, t.y);
            let looks = self.wearers(e, j);
            let (k, other) = match looks[..] {
                [k] => (k, self.shoppers[k].track),
                // Nobody known wears this track's outfit: a track that passed beside it when
                // it stopped looking like its shopper, and that now wears that shopper's
                // outfit while its own shopper's outfit is unknown (just out of a blind spot,
                // or not yet learnt), took its place.
                [] => {
                    let Some(t2) = self.took_place(t.id, j, since) else {
                        continue;
                    };
                    (self.by_track[&t2], Some(t2))
                }
                _ => continue,
            };
            match other {
                None => {
                    let s = &self.shoppers[k];
                    if self.walk.distance(s.last_pos, p)
                        > self.cfg.max_speed_mps * (time - s.last_seen).max(0.0) + self.cfg.slack_m
                    {
                        continue;
                    }
                    tracing::debug!(
                        track = t.id,
                        was = %self.shoppers[j].id,
                        now = %self.shoppers[k].id,
                        "a bound track wears a lost shopper's outfit"
                    );
                    self.mismatch.remove(&t.id);
                    // Its outfit is a running mean: it showed the change up to
                    // `APPEARANCE_LAG_S` after the track took the lost shopper's body.
                    let mut from = since - APPEARANCE_LAG_S;
                    // A track that never looked like its shopper since they were bound to it
                    // (found on it: the binding dates from before) was never theirs: the lost
                    // shopper's from when that binding began.
                    let bound = self.owner.get(&t.id).map(|v| {
                        v.iter()
                            .rev()
                            .take_while(|(_, o)| *o == Some(j))
                            .map(|(f, _)| *f)
                            .fold(f64::INFINITY, f64::min)
                    });
                    if let Some(b) = bound.filter(|b| b.is_finite())
                        && self.looked_own.get(&t.id).is_none_or(|&l| l < b)
                    {
                        from = from.min(b);
                    }
                    out.extend(self.give_track(t.id, p, j, k, from, time));
                }
                Some(t2) => {
                    // The other track must look like this one's shopper (two tracks swapped),
                    // or like a third shopper whose track looks like the next, and so on back
                    // to this one's shopper (tracks in a crowd passed their shoppers round).
                    let Some(cycle) = self.outfit_cycle(t.id, j, k, t2) else {
                        continue;
                    };
                    let from = cycle
                        .iter()
                        .map(|(tr, _, _)| self.mismatch.get(tr).copied().unwrap_or(since))
                        .fold(since, f64::min)
                        - APPEARANCE_LAG_S;
                    // Tracks pass their shoppers on only while near each other: the swap
                    // was no later than the last tick two of them were within
                    // `swap_radius_m` (an outfit's running mean can lag by more than
                    // `APPEARANCE_LAG_S` when they part at once).
                    let from = cycle
                        .iter()
                        .enumerate()
                        .flat_map(|(x, a)| cycle[x + 1..].iter().map(move |b| (a.0, b.0)))
                        .filter_map(|(a, b)| self.last_tick(a, b, from, false))
                        .fold(None, |l: Option<f64>, t| Some(l.map_or(t, |l| l.max(t))))
                        .map_or(from, |l| from.min(l));
                    // Nor in the middle of a hand's reach seen through one of them: its
                    // detections were one body's throughout.
                    let from = cycle
                        .iter()
                        .map(|c| self.undivided_from(c.0, from))
                        .fold(from, f64::min);
                    tracing::debug!(
                        ?cycle,
                        from,
                        "tracks wear each other's shoppers' outfits: passed round"
                    );
                    for &(tr, _, to) in &cycle {
                        self.looked_own.remove(&tr);
                        self.by_track.insert(tr, to);
                        self.set_owner(tr, from, to);
                        self.shoppers[to].track = Some(tr);
                        self.mismatch.remove(&tr);
                        swapped.push(tr);
                    }
                    // This settles their doubts about each other.
                    let who: Vec<usize> = cycle.iter().map(|c| c.1).collect();
                    let (settled, rest): (Vec<Doubt>, Vec<Doubt>) =
                        std::mem::take(&mut self.doubts)
                            .into_iter()
                            .partition(|d| who.contains(&d.lost) && who.contains(&d.kept));
                    self.doubts = rest;
                    for &a in &who {
                        self.shoppers[a].confusable.retain(|x| !who.contains(x));
                    }
                    for d in settled {
                        let swap = (self.by_track.get(&d.kept_track) == Some(&d.lost))
                            .then_some(from.max(d.time - 1.0));
                        out.extend(self.release_held(&d, swap, time));
                    }
                    for &(on, _, to) in &cycle {
                        let (x, y) = tracks
                            .iter()
                            .find(|o| o.id == on)
                            .map_or((p.x, p.y), |o| (o.x, o.y));
                        let shopper = self.shoppers[to].id.clone();
                        out.push(self.event(
                            time,
                            EventKind::IdentityRecovered {
                                shopper,
                                track: on,
                                x,
                                y,
                            },
                            None,
                        ));
                    }
                }
            }
        }
        self.mismatch.retain(|id, _| self.by_track.contains_key(id));
        out
    }

    /// `from`, or the start of a run of hand sightings through `track` in one bay (none
    /// [`HAND_RUN_GAP_S`] apart) that began before `from` and went on past it: one hand's
    /// reach, seen through the detections the track held throughout, is one body's.
    fn undivided_from(&self, track: u64, from: f64) -> f64 {
        let mut ts: Vec<(f64, usize)> = self
            .reaches
            .iter()
            .filter(|(t, _, _, whose)| (*t - from).abs() < 5.0 && whose.contains(&track))
            .map(|(t, s, _, _)| (*t, *s))
            .collect();
        ts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut start = 0;
        for i in 0..ts.len() {
            if i > 0 && (ts[i].0 - ts[i - 1].0 > HAND_RUN_GAP_S || ts[i].1 != ts[i - 1].1) {
                start = i;
            }
            if ts[start].0 < from && ts[i].0 >= from && i > start {
                return ts[start].0;
            }
        }
        from
    }

    /// The shoppers still inside, other than `except`, whose known outfit `embedding` wears.
    fn wearers(&self, embedding: &[f32], except: usize) -> Vec<usize> {
        (0..self.shoppers.len())
            .filter(|&k| {
                k != except
                    && !self.shoppers[k].exited
                    && self.shoppers[k]
                        .outfit()
                        .is_some_and(|o| cosine(embedding, o) >= OUTFIT_SAME)
            })
            .collect()
    }

    /// Bound tracks that pass their shoppers round: `track` (bound to `j`) wears `k`'s outfit
    /// and `k` is on `t2`; `t2` wears, alone of all known outfits and not its own shopper's,
    /// the outfit of the shopper of the next track, and so on until a track wears `j`'s.
    /// Returns (track, shopper it is bound to, shopper it wears) round the cycle (two tracks
    /// for a swap), or None when the chain breaks or runs longer than a crowd at a shelf.
    fn outfit_cycle(
        &self,
        track: u64,
        j: usize,
        k: usize,
        t2: u64,
    ) -> Option<Vec<(u64, usize, usize)>> {
        const MAX_CYCLE: usize = 6;
        let mut cycle = vec![(track, j, k)];
        let (mut cur, mut cur_k) = (t2, k);
        while cycle.len() < MAX_CYCLE {
            let (_, e) = self.track_app.get(&cur)?;
            let own = self.shoppers[cur_k].outfit();
            let looks = self.wearers(e, cur_k);
            let [m] = looks[..] else {
                return None;
            };
            // Not its own shopper's outfit, or clearly less than the next one's (an outfit
            // learnt in a crowd may have taken in some of a neighbour's).
            let next_cos = self.shoppers[m].outfit().map_or(0.0, |o| cosine(e, o));
            if own.is_some_and(|o| {
                cosine(e, o) >= OUTFIT_SAME && next_cos - cosine(e, o) < CROWD_OUTFIT_MARGIN
            }) {
                return None;
            }
            cycle.push((cur, cur_k, m));
            if m == j {
                return Some(cycle);
            }
            if cycle.iter().any(|c| c.1 == m) {
                return None;
            }
            let next = self.shoppers[m].track?;
            if self.by_track.get(&next) != Some(&m) {
                return None;
            }
            (cur, cur_k) = (next, m);
        }
        None
    }

    /// A bound track that was within `swap_radius_m` of `track` at about `since`, whose
    /// shopper's outfit is unknown and which now wears `j`'s outfit (`track`'s shopper): the
    /// two tracks may have swapped when they passed.
    fn took_place(&self, track: u64, j: usize, since: f64) -> Option<u64> {
        let own = self.shoppers[j].outfit()?;
        let (_, then) = self.tick_nearest(since)?;
        let at = then.iter().find(|o| o.id == track)?;
        let near = self.tracks_near(DVec2::new(at.x, at.y), since, track);
        let fits: Vec<u64> = near
            .into_iter()
            .filter(|&(k, t2)| {
                k != j
                    && self.shoppers[k].outfit().is_none()
                    && self.shoppers[k].track == Some(t2)
                    && self
                        .track_app
                        .get(&t2)
                        .is_some_and(|(_, e2)| cosine(e2, own) >= OUTFIT_SAME)
            })
            .map(|(_, t2)| t2)
            .collect();
        match fits[..] {
            [t2] => Some(t2),
            _ => None,
        }
    }

    /// Track `track` (at `p`), bound to `j`, is `k`'s from `from` on: `k` is found on it and
    /// `j` is lost where they were (a doubt: `j`'s next recovery checks).
    fn give_track(
        &mut self,
        track: u64,
        p: DVec2,
        j: usize,
        k: usize,
        from: f64,
        time: f64,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        self.by_track.insert(track, k);
        self.set_owner(track, from, k);
        self.shoppers[k].track = Some(track);
        self.shoppers[k].last_pos = p;
        self.shoppers[k].last_seen = time;
        self.shoppers[j].track = None;
        // `j` was last seen on it at `from` (their `last_seen`, for how far they may have
        // walked, stays now): found on a track born since, they own what it showed from then.
        self.left_at.insert(j, (from, self.shoppers[j].last_seen));
        self.recent_h.remove(&track);
        // This settles a doubt from when they met, if there was one: they swapped then.
        if let Some(i) = self
            .doubts
            .iter()
            .position(|d| d.lost == k && d.kept == j && d.kept_track == track)
        {
            let d = self.doubts.remove(i);
            self.shoppers[k].confusable.retain(|&x| x != j);
            self.shoppers[j].confusable.retain(|&x| x != k);
            // `kept` was last seen where they met, not where the track is now.
            self.shoppers[j].last_pos = d.place;
            self.shoppers[j].last_seen = d.time;
            // They swapped after the track last looked like its shopper of then.
            let looked = self.looked_own.get(&track).map(|t| t - APPEARANCE_LAG_S);
            let swap_from = looked.map_or(d.time - 1.0, |t| t.max(d.time - 1.0));
            out.extend(self.release_held(&d, Some(swap_from), time));
        }
        self.looked_own.remove(&track);
        let d = self.doubt(j, k, track, time, p);
        self.doubts.push(d);
        let (pj, id_j, id_k) = (
            self.shoppers[j].last_pos,
            self.shoppers[j].id.clone(),
            self.shoppers[k].id.clone(),
        );
        let ev = self.event(
            time,
            EventKind::IdentityRecovered {
                shopper: id_k,
                track,
                x: p.x,
                y: p.y,
            },
            None,
        );
        // Found, `k`'s doubts from when they were lost are checked as for a track found new
        // (head heights, then outfits), with what the track measured from now on.
        if let Output::Event(e) = &ev
            && self.doubts.iter().any(|d| d.lost == k)
        {
            self.checks.push(Check {
                lost: k,
                track,
                since: time,
                recovered_id: e.id,
                h_at: self.track_h.get(&track).copied().unwrap_or_default(),
            });
        }
        out.push(ev);
        out.push(self.event(
            time,
            EventKind::IdentityLost {
                shopper: id_j,
                track,
                x: pj.x,
                y: pj.y,
            },
            None,
        ));
        out
    }

    /// The events held for doubt `d`, published again decided (to the shopper the resolution
    /// says), with the carts they change. `swap`: the kept track followed the lost shopper
    /// from then on (events held for its shopper from then are the lost one's).
    fn release_held(&mut self, d: &Doubt, swap: Option<f64>, time: f64) -> Vec<Output> {
        self.release_pair(d.lost, d.kept, d.time, swap, time)
    }

    /// The events held for a doubt between `k` and `j` since `since`, published again
    /// decided: each to the shopper it was held for, or (`swap`: their tracks followed each
    /// other from then on) to the other one.
    fn release_pair(
        &mut self,
        k: usize,
        j: usize,
        since: f64,
        swap: Option<f64>,
        time: f64,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let open = |s: usize, x: usize| {
            self.doubts
                .iter()
                .any(|d| (d.lost, d.kept) == (s, x) || (d.lost, d.kept) == (x, s))
        };
        // Events held for this doubt; and those held for doubts with several shoppers, this
        // one among them, once none of their doubts is open any more (a swap from before the
        // event leaves them held: it would move them to another shopper with doubts of its
        // own).
        let (mine, rest): (Vec<OpenEvent>, Vec<OpenEvent>) = std::mem::take(&mut self.open_events)
            .into_iter()
            .partition(|e| {
                let other = if e.shopper == k { j } else { k };
                e.time >= since - 1.0
                    && (e.shopper == k || e.shopper == j)
                    && (e.doubt == [other]
                        || (e.doubt.contains(&other)
                            && swap.is_none_or(|from| e.time < from)
                            && e.doubt.iter().all(|&x| !open(e.shopper, x))))
            });
        self.open_events = rest;
        for e in mine {
            let who = match swap {
                Some(from) if e.time >= from => {
                    if e.shopper == j {
                        k
                    } else {
                        j
                    }
                }
                _ => e.shopper,
            };
            self.move_held(e.shopper, who, &e.sku, e.quantity, e.pick);
            out.push(self.republish(e.id, e.time, e.kind, who));
            out.push(self.cart(e.shopper, time, false));
            if who != e.shopper {
                out.push(self.cart(who, time, false));
            }
        }
        out
    }

    /// An item held in `held_by`'s pending items is `who`'s: out of the one, into (a pick) or
    /// out of (a return) the other's cart.
    fn move_held(&mut self, held_by: usize, who: usize, sku: &str, quantity: u32, pick: bool) {
        let held = &mut self.shoppers[held_by].pending;
        let q = held.entry(sku.to_string()).or_default();
        *q = q.saturating_sub(quantity);
        held.retain(|_, q| *q > 0);
        let cart = &mut self.shoppers[who].cart;
        let q = cart.entry(sku.to_string()).or_default();
        *q = if pick {
            *q + quantity
        } else {
            q.saturating_sub(quantity)
        };
        cart.retain(|_, q| *q > 0);
    }

    /// Event `id` (at `at`) published again, decided: `who`'s, correcting it.
    fn republish(&mut self, id: u64, at: f64, kind: EventKind, who: usize) -> Output {
        let kind = with_shopper(kind, Some(self.shoppers[who].id.clone()));
        let mut out = self.event(at, kind, None);
        if let Output::Event(ev) = &mut out {
            ev.corrects = Some(id);
        }
        out
    }

    /// Doubts that outfits settle: the two shoppers' tracks now each clearly wear their own
    /// outfit as it was learnt before they met, steadily for `SETTLE_AFTER_S`, and neither
    /// can have changed clothes since (an outfit is forgotten in a blind spot and not learnt
    /// again while in doubt). The events held for the doubt keep their shoppers, so each
    /// held event's shopper must have been bound to their track of now since before it.
    fn settle_by_outfits(&mut self, time: f64, tracks: &[TrackObs]) -> Vec<Output> {
        const SETTLE_AFTER_S: f64 = 1.0;
        let mut out = Vec::new();
        let mut agree = HashMap::new();
        let mut i = 0;
        while i < self.doubts.len() {
            let d = &self.doubts[i];
            let (k, j) = (d.lost, d.kept);
            let wears_own = |who: usize, own: &[f32], other: &[f32]| {
                let s = &self.shoppers[who];
                let e = s
                    .track
                    .and_then(|tr| tracks.iter().find(|t| t.id == tr && t.seen))
                    .and_then(|t| t.embedding.as_deref());
                s.outfit().is_some_and(|o| cosine(o, own) >= OUTFIT_SAME)
                    && e.is_some_and(|e| cosine(e, own) - cosine(e, other) > APPEARANCE_MARGIN)
            };
            // One who has left can no longer be seen: their outfit as learnt (not forgotten
            // in a blind spot since) and the other's track wearing their own settle it.
            let left_in = |who: usize, own: &[f32]| {
                let s = &self.shoppers[who];
                s.exited && s.outfit().is_some_and(|o| cosine(o, own) >= OUTFIT_SAME)
            };
            let settled = match (d.a_lost.as_deref(), d.a_kept.as_deref()) {
                (Some(al), Some(ak)) => {
                    cosine(al, ak) < OUTFIT_SAME
                        && ((self.shoppers[k].track != self.shoppers[j].track
                            && wears_own(k, al, ak)
                            && wears_own(j, ak, al))
                            || (left_in(j, ak) && wears_own(k, al, ak))
                            || (left_in(k, al) && wears_own(j, ak, al)))
                }
                _ => false,
            };
            if !settled {
                i += 1;
                continue;
            }
            let since = *self.outfits_agree.get(&(k, j)).unwrap_or(&time);
            agree.insert((k, j), since);
            // Every event held for it names a shopper bound to their track of now since
            // before the event.
            // (For one who has left, their track's binding of when they left: it is nobody's
            // since.)
            let bound_since = |who: usize| {
                let s = &self.shoppers[who];
                let tr = s.track.or(s.exit_track)?;
                let (from, owner) = *self
                    .owner
                    .get(&tr)?
                    .iter()
                    .rev()
                    .find(|(f, o)| !(s.exited && o.is_none() && *f >= s.exited_at))?;
                (owner == Some(who)).then_some(from)
            };
            let held_ok = self
                .open_events
                .iter()
                .filter(|e| {
                    e.time >= d.time - 1.0
                        && ((e.shopper == j && e.doubt == [k])
                            || (e.shopper == k && e.doubt == [j]))
                })
                .all(|e| bound_since(e.shopper).is_some_and(|from| from <= e.time));
            if time - since < SETTLE_AFTER_S || !held_ok {
                i += 1;
                continue;
            }
            let d = self.doubts.remove(i);
            tracing::debug!(
                lost = %self.shoppers[k].id,
                kept = %self.shoppers[j].id,
                "identity doubt settled: each track wears its own shopper's outfit"
            );
            self.shoppers[k].confusable.retain(|&x| x != j);
            self.shoppers[j].confusable.retain(|&x| x != k);
            out.extend(self.release_held(&d, None, time));
        }
        self.outfits_agree = agree;
        out
    }

    /// A track's gait (median walking speed, m/s) from `from` on, once measured enough.
    fn track_gait_since(&self, track: u64, from: f64) -> Option<f64> {
        let v = self.track_gait.get(&track)?;
        let i = v.partition_point(|(t, _)| *t < from);
        (v.len() - i >= GAIT_MIN_SAMPLES).then(|| median(v[i..].iter().map(|x| x.1)))
    }

    /// Doubts that gaits settle: two shoppers in doubt about each other, both on tracks of
    /// their own, whose gaits (learnt while nothing was in doubt, and kept through a change of
    /// clothes) differ, and whose tracks have walked enough since the doubt to measure theirs:
    /// the pairing of shoppers with tracks that fits clearly better holds (the tracks swap
    /// shoppers where it says so), and the events held for the doubt are published decided.
    fn settle_by_gait(&mut self, time: f64) -> Vec<Output> {
        let mut out = Vec::new();
        // Pairs in doubt, with their earliest doubt.
        let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
        for d in &self.doubts {
            let (a, b) = (d.lost.min(d.kept), d.lost.max(d.kept));
            match pairs.iter_mut().find(|p| (p.0, p.1) == (a, b)) {
                Some(p) => p.2 = p.2.min(d.time),
                None => pairs.push((a, b, d.time)),
            }
        }
        for (a, b, since) in pairs {
            // Not while one who walked out in doubt with either may be one of them: their
            // two tracks need not be these two shoppers.
            if self.doubts.iter().any(|d| {
                let (x, y) = (d.lost, d.kept);
                ([a, b].contains(&x) && self.shoppers[y].exited)
                    || ([a, b].contains(&y) && self.shoppers[x].exited)
            }) {
                continue;
            }
            let (sa, sb) = (&self.shoppers[a], &self.shoppers[b]);
            let (Some(ga), Some(gb), Some(ta), Some(tb)) =
                (sa.gait(), sb.gait(), sa.track, sb.track)
            else {
                continue;
            };
            if ta == tb || (ga - gb).abs() < GAIT_APART_MPS {
                continue;
            }
            // Each track's walking since the doubt and since it was bound as it is now.
            let bound = |tr: u64| {
                self.owner
                    .get(&tr)
                    .and_then(|v| v.last())
                    .map_or(since, |x| x.0)
                    .max(since)
            };
            let (fa, fb) = (bound(ta), bound(tb));
            let (Some(ma), Some(mb)) =
                (self.track_gait_since(ta, fa), self.track_gait_since(tb, fb))
            else {
                continue;
            };
            let keep = (ma - ga).abs() + (mb - gb).abs();
            let crossed = (ma - gb).abs() + (mb - ga).abs();
            let swap = if keep + GAIT_MARGIN_MPS < crossed {
                false
            } else if crossed + GAIT_MARGIN_MPS < keep {
                true
            } else {
                continue;
            };
            tracing::debug!(
                a = %self.shoppers[a].id,
                b = %self.shoppers[b].id,
                ga,
                gb,
                track_a = ta,
                track_b = tb,
                ma,
                mb,
                swap,
                "identity doubt settled by gait"
            );
            self.doubts
                .retain(|d| !((d.lost == a && d.kept == b) || (d.lost == b && d.kept == a)));
            self.shoppers[a].confusable.retain(|&x| x != b);
            self.shoppers[b].confusable.retain(|&x| x != a);
            if swap {
                self.by_track.insert(ta, b);
                self.by_track.insert(tb, a);
                self.set_owner(ta, fa, b);
                self.set_owner(tb, fb, a);
                self.shoppers[a].track = Some(tb);
                self.shoppers[b].track = Some(ta);
                let (pa, pb) = (self.shoppers[a].last_pos, self.shoppers[b].last_pos);
                self.shoppers[a].last_pos = pb;
                self.shoppers[b].last_pos = pa;
                for (who, on, p) in [(a, tb, pb), (b, ta, pa)] {
                    let kind = EventKind::IdentityRecovered {
                        shopper: self.shoppers[who].id.clone(),
                        track: on,
                        x: p.x,
                        y: p.y,
                    };
                    out.push(self.event(time, kind, None));
                }
            }
            out.extend(self.release_pair(a, b, since, swap.then_some(since - 1.0), time));
        }
        out
    }

    /// Checks due: the found track has measured head heights for `CHECK_AFTER_S`.
    fn run_checks(&mut self, time: f64) -> Vec<Output> {
        const CHECK_AFTER_S: f64 = 2.0;
        let (due, later): (Vec<Check>, Vec<Check>) = std::mem::take(&mut self.checks)
            .into_iter()
            .partition(|c| time - c.since >= CHECK_AFTER_S);
        self.checks = later;
        let mut out = Vec::new();
        for c in due {
            // Still the same binding (a track lost meanwhile decides nothing).
            if self.shoppers[c.lost].track != Some(c.track) {
                continue;
            }
            let Some(&(sum, n)) = self.track_h.get(&c.track) else {
                continue;
            };
            let (sum, n) = (sum - c.h_at.0, n.saturating_sub(c.h_at.1));
            if n >= 5 {
                out.extend(self.resolve_doubts(
                    c.lost,
                    c.track,
                    sum / f64::from(n),
                    time,
                    c.recovered_id,
                ));
            }
        }
        out
    }

    /// `lost` was found again on `track`, whose head height measures `h`: the doubts about
    /// `lost` that the head heights decide (the found track's and the kept track's since they
    /// met, against the two shoppers' before) are resolved.
    fn resolve_doubts(
        &mut self,
        lost: usize,
        track: u64,
        h: f64,
        time: f64,
        recovered_id: u64,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let margin = self.cfg.doubt_height_margin_m;
        let mut i = 0;
        while i < self.doubts.len() {
            let d = &self.doubts[i];
            if d.lost != lost {
                i += 1;
                continue;
            }
            // The kept track's mean head height since they met, when it has one.
            let kept_after = self.track_h.get(&d.kept_track).and_then(|&(s, n)| {
                let (s0, n0) = d.kept_h_at;
                (n >= n0 + 5).then(|| (s - s0) / f64::from(n - n0))
            });
            tracing::debug!(
                lost = %self.shoppers[d.lost].id,
                kept = %self.shoppers[d.kept].id,
                h_lost = ?d.h_lost,
                h_kept = ?d.h_kept,
                found = h,
                kept_after = ?kept_after,
                "identity doubt: head heights"
            );
            // A swap needs both tracks to say so (the found track alone could be a third
            // person); keeping the bindings needs the found track only. Head heights first;
            // where they cannot tell the two apart, their outfits (learnt before they met,
            // and never across a blind spot).
            let by_height = match (d.h_lost, d.h_kept) {
                (Some(hl), Some(hk)) => {
                    let (mut keep_cost, mut swap_cost) = ((h - hl).abs(), (h - hk).abs());
                    if let Some(ka) = kept_after {
                        keep_cost += (ka - hk).abs();
                        swap_cost += (ka - hl).abs();
                    }
                    // Keeping and swapping differ by twice the margin, or, where only these two
                    // shoppers are in doubt (with nobody else), by as much as their heights do
                    // where that is less (each track's own reading can say no more than that:
                    // over it, both tracks say the same).
                    let only_two = [d.lost, d.kept].iter().all(|&x| {
                        self.shoppers[x]
                            .confusable
                            .iter()
                            .all(|&y| y == d.lost || y == d.kept)
                    }) && self
                        .doubts
                        .iter()
                        .filter(|x| [x.lost, x.kept].iter().any(|&y| y == d.lost || y == d.kept))
                        .count()
                        == 1;
                    let need = if only_two {
                        (2.0 * margin).min((hl - hk).abs())
                    } else {
                        2.0 * margin
                    };
                    if (hl - hk).abs() < margin {
                        None
                    } else if swap_cost + need < keep_cost && kept_after.is_some() {
                        Some(true)
                    } else if keep_cost + need < swap_cost {
                        Some(false)
                    } else {
                        None
                    }
                }
                // One of the two was seen too little to know their height: the other's
                // decides, with both tracks. The track that measures it, the other one
                // farther from it by more than the margin, is theirs.
                (None, Some(known)) | (Some(known), None) => kept_after.and_then(|ka| {
                    let (kept_off, found_off) = ((ka - known).abs(), (h - known).abs());
                    let known_is_kept = d.h_kept.is_some();
                    if kept_off + margin < found_off {
                        Some(!known_is_kept)
                    } else if found_off + margin < kept_off {
                        Some(known_is_kept)
                    } else {
                        None
                    }
                }),
                (None, None) => None,
            };
            let by_outfit = || {
                let found = &self.track_app.get(&track)?.1;
                let kept = self.track_app.get(&d.kept_track).map(|a| &a.1);
                let (al, ak) = match (d.a_lost.as_deref(), d.a_kept.as_deref()) {
                    (Some(al), Some(ak)) => (al, ak),
                    // One outfit known (the other shopper was seen too little to learn
                    // theirs): the track that wears it, the other clearly not, is theirs.
                    (None, Some(known)) | (Some(known), None) => {
                        let (kept_like, found_like) = (cosine(kept?, known), cosine(found, known));
                        let known_is_kept = d.a_kept.is_some();
                        tracing::debug!(
                            kept_like,
                            found_like,
                            known_is_kept,
                            "identity doubt: one outfit"
                        );
                        return if kept_like >= OUTFIT_SAME
                            && kept_like - found_like > APPEARANCE_MARGIN
                        {
                            Some(!known_is_kept)
                        } else if found_like >= OUTFIT_SAME
                            && found_like - kept_like > APPEARANCE_MARGIN
                        {
                            Some(known_is_kept)
                        } else {
                            None
                        };
                    }
                    (None, None) => return None,
                };
                let found_is_kept = cosine(found, ak) - cosine(found, al);
                let kept_is_lost = kept.map(|e| cosine(e, al) - cosine(e, ak));
                tracing::debug!(found_is_kept, ?kept_is_lost, "identity doubt: outfits");
                if found_is_kept > APPEARANCE_MARGIN
                    && kept_is_lost.is_some_and(|x| x > APPEARANCE_MARGIN)
                {
                    Some(true)
                } else if -found_is_kept > APPEARANCE_MARGIN {
                    Some(false)
                } else {
                    None
                }
            };
            let Some(swap) = by_height.or_else(by_outfit) else {
                i += 1;
                continue;
            };
            let d = self.doubts.remove(i);
            let (k, j) = (d.lost, d.kept);
            if swap && self.shoppers[j].track == Some(d.kept_track) {
                // The track that went on after they met follows `lost`; the track found
                // now is `kept`.
                self.by_track.insert(d.kept_track, k);
                self.set_owner(d.kept_track, d.time, k);
                self.by_track.insert(track, j);
                self.set_owner(track, d.time, j);
                self.shoppers[k].track = Some(d.kept_track);
                self.shoppers[j].track = Some(track);
                self.shoppers[j].last_seen = time;
                let (last_k, last_j) = (self.shoppers[k].last_pos, self.shoppers[j].last_pos);
                self.shoppers[k].last_pos = last_j;
                self.shoppers[j].last_pos = last_k;
                for (who, on, p) in [(k, d.kept_track, last_j), (j, track, last_k)] {
                    let kind = EventKind::IdentityRecovered {
                        shopper: self.shoppers[who].id.clone(),
                        track: on,
                        x: p.x,
                        y: p.y,
                    };
                    if let Output::Event(mut ev) = self.event(time, kind, None) {
                        ev.corrects = Some(recovered_id);
                        out.push(Output::Event(ev));
                    }
                }
            }
            self.shoppers[k].confusable.retain(|&x| x != j);
            self.shoppers[j].confusable.retain(|&x| x != k);
            out.extend(self.release_held(&d, swap.then_some(d.time - 1.0), time));
        }
        out
    }

    /// One load-cell reading.
    pub fn weight(&mut self, m: &ShelfWeight) -> Vec<Output> {
        let cfg = self.cfg.clone();
        let cell = self.cells.entry((m.shelf.clone(), m.level)).or_default();
        cell.window.push_back((m.time, m.weight_kg));
        while cell
            .window
            .front()
            .is_some_and(|(t, _)| *t < m.time - cfg.settle_window_s)
        {
            cell.window.pop_front();
        }
        let (lo, hi) = cell
            .window
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), (_, w)| {
                (lo.min(*w), hi.max(*w))
            });
        let mean = cell.window.iter().map(|(_, w)| w).sum::<f64>() / cell.window.len() as f64;
        let span =
            cell.window.back().map_or(0.0, |b| b.0) - cell.window.front().map_or(0.0, |f| f.0);
        let settled = hi - lo <= cfg.settle_spread_kg && span >= cfg.settle_window_s * 0.8;
        let Some(base) = cell.baseline else {
            if settled {
                cell.baseline = Some(mean);
            }
            return Vec::new();
        };
        if (m.weight_kg - base).abs() > cfg.change_kg / 2.0 && cell.disturbed_since.is_none() {
            cell.disturbed_since = Some(m.time);
            (cell.contacts, cell.peak, cell.trough) = (1, m.weight_kg, m.weight_kg);
            cell.trough_at = m.time;
            cell.splits.clear();
            cell.highest = m.weight_kg;
            cell.trace = cell.window.iter().copied().collect();
        } else if cell.disturbed_since.is_some() {
            cell.highest = cell.highest.max(m.weight_kg);
            if cell.trace.len() <= TRACE_READINGS {
                cell.trace.push((m.time, m.weight_kg));
            }
            // A second hand on the shelf: after the weight fell from a peak, it rises again.
            let rise = CONTACT_RISE_KG;
            if m.weight_kg > cell.peak {
                cell.peak = m.weight_kg;
                cell.trough = m.weight_kg;
                cell.trough_at = m.time;
            } else if m.weight_kg < cell.trough + cfg.settle_spread_kg / 2.0 {
                // At the trough: the next contact begins after the last reading there.
                cell.trough = cell.trough.min(m.weight_kg);
                cell.trough_at = m.time;
            } else if cell.peak - cell.trough > rise && m.weight_kg - cell.trough > rise {
                cell.contacts += 1;
                cell.splits.push((cell.trough_at, cell.trough));
                (cell.peak, cell.trough) = (m.weight_kg, m.weight_kg);
                cell.trough_at = m.time;
            }
        }
        if !settled {
            return Vec::new();
        }
        let Some(since) = cell.disturbed_since.take() else {
            // Quiet: follow slow drift.
            cell.baseline = Some(base + 0.05 * (mean - base));
            return Vec::new();
        };
        let delta = mean - base;
        cell.baseline = Some(mean);
        let settled_from = cell.window.front().map_or(m.time, |f| f.0);
        // No net change: nothing happened, unless hand contacts in it each moved whole items
        // (an item put back and another taken a moment later).
        let net_zero = delta.abs() < cfg.change_kg;
        // Decided once the tracks around it have had time to be bound (a shopper found again
        // after a brief loss is bound within `lost_after_s` plus a tick or two).
        let (mut contacts, mut splits) = (cell.contacts, std::mem::take(&mut cell.splits));
        let trace = std::mem::take(&mut cell.trace);
        let mut hands_split = None;
        // Several hand contacts, the weight between them each a whole number of the level's
        // items further on: one change per contact (each its own taker). Not for a put-back:
        // its weight rises with the hand's press, falls as the hand lets go and rises again as
        // the item settles, all in one contact (a pick's weight only falls as it settles).
        let unit = self
            .shelves
            .iter()
            .find(|s| s.id == m.shelf)
            .and_then(|s| s.levels.get(m.level as usize))
            .and_then(|l| l.first())
            .map(|f| f.1);
        let mut first_from = since;
        let parts_of = |first_from: f64, splits: &[(f64, f64)]| -> Vec<(f64, f64, f64)> {
            let mut marks = vec![(first_from, base)];
            marks.extend(splits.iter().copied());
            marks.push((m.time, mean));
            marks
                .windows(2)
                .map(|p| (p[0].0, p[1].0, p[1].1 - p[0].1))
                .collect()
        };
        // A whole number of items ...
        let units = |w: f64, d: f64| {
            let q = (d.abs() / w).round();
            q >= 1.0 && (d.abs() - q * w).abs() <= SPLIT_TOLERANCE * w
        };
        // ... each part the same way as the whole change (with no net change, either way).
        let whole = |w: f64, d: f64| units(w, d) && (net_zero || d * delta > 0.0);
        let at_troughs = unit.is_some_and(|w| {
            !splits.is_empty() && parts_of(since, &splits).iter().all(|p| whole(w, p.2))
        });
        // With no split at a trough, the shape of the readings shows two hands a moment
        // apart: several items taken by two takers, the second one's press hidden in the
        // first one's fall (or rising from a trough where the first item's weight was still
        // going), or an item put back and others taken (or the other way round), the weight
        // never settling between them.
        let several = unit.is_some_and(|w| delta < 0.0 && (delta.abs() / w).round() >= 2.0);
        let read = unit
            .filter(|_| !at_troughs && trace.len() <= TRACE_READINGS)
            .and_then(|_| {
                cfg.load_cell
                    .contacts(&trace, since, cfg.settle_spread_kg / 8.0)
            });
        if unit.is_some() && !at_troughs && (several || read != Some(cell::Contacts::One)) {
            tracing::trace!(
                shelf = m.shelf.as_str(),
                level = m.level,
                since,
                delta,
                readings = trace.len(),
                ?read,
                "load cell contacts"
            );
        }
        let one_contact = several && read == Some(cell::Contacts::One);
        // Two contacts that moved the weight opposite ways: a put-back and a pick.
        let mut opposite = false;
        if let Some(w) = unit
            && let Some(cell::Contacts::Two(two)) = read
            && two.steps.iter().all(|&d| units(w, d))
            && (two.steps[0] * two.steps[1] < 0.0
                || (several && two.steps.iter().all(|&d| whole(w, d))))
        {
            tracing::debug!(shelf = m.shelf.as_str(), level = m.level, since, second = two.starts[1], steps = ?two.steps, "two hand contacts in one change");
            opposite = two.steps[0] * two.steps[1] < 0.0;
            let first = (two.steps[0].abs() / w).round() * w * two.steps[0].signum();
            splits = vec![(two.starts[1], base + first)];
            // The first part from its contact's start (the weight left its level a reading
            // or so later, perhaps once the second contact had begun too).
            first_from = first_from.min(two.starts[0]);
            contacts = 2;
            let lead = cfg.load_cell.press_lead_s;
            hands_split = Some((two.starts[0] + two.starts[1]) / 2.0 + lead);
        }
        if let (Some(w), false, true) =
            (unit, splits.is_empty(), delta < 0.0 || net_zero || opposite)
        {
            let parts = parts_of(first_from, &splits);
            let whole = |d: f64| if opposite { units(w, d) } else { whole(w, d) };
            if parts.iter().all(|p| whole(p.2)) {
                // Each part a whole number of items (the weight between contacts was still
                // settling), the last part what is left of the whole change.
                let mut left = delta;
                let n = parts.len();
                for (i, (from, to, d)) in parts.into_iter().enumerate() {
                    let d = if i + 1 < n {
                        (d.abs() / w).round() * w * d.signum()
                    } else {
                        left
                    };
                    left -= d;
                    self.deferred.push(Change {
                        shelf: m.shelf.clone(),
                        level: m.level,
                        since: from,
                        until: to,
                        delta: d,
                        contacts: 1,
                        later_part: i > 0,
                        earlier_part: i + 1 < n,
                        rose_kg: 0.0,
                        settled_from: settled_from.min(to),
                        hands_split,
                        one_contact: false,
                    });
                }
                return Vec::new();
            }
        }
        if net_zero {
            return Vec::new();
        }
        self.deferred.push(Change {
            shelf: m.shelf.clone(),
            level: m.level,
            since,
            until: m.time,
            delta,
            contacts,
            later_part: false,
            earlier_part: false,
            rose_kg: cell.highest - base,
            settled_from,
            hands_split: None,
            one_contact,
        });
        Vec::new()
    }

    /// Shelf changes whose attribution is due at `time`.
    fn decide_due(&mut self, time: f64) -> Vec<Output> {
        let wait = self.cfg.attribution_delay_s;
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred)
            .into_iter()
            .partition(|d| d.since + wait <= time);
        self.deferred = later;
        due.into_iter()
            .flat_map(|c| self.shelf_change(&c))
            .collect()
    }

    /// Shoppers within reach of `shelf` around `time`, nearest first, with their distance.
    fn in_reach(&self, shelf: &ShelfInfo, time: f64) -> Vec<(usize, f64)> {
        let mut best: HashMap<usize, f64> = HashMap::new();
        for (t, tracks) in &self.history {
            if *t < time - 1.0 || *t > time + 1.0 {
                continue;
            }
            for tr in tracks {
                let Some(k) = self.owner_at(tr.id, *t) else {
                    continue;
                };
                let Some(d) = shelf.reach_distance(DVec2::new(tr.x, tr.y)) else {
                    continue;
                };
                // A body's centre stands no nearer the face than half its depth: a track
                // nearer than that is off by as much, and no nearer than one that stood there.
                let d = d.max(BODY_HALF_DEPTH_M);
                let e = best.entry(k).or_insert(f64::INFINITY);
                *e = e.min(d);
            }
        }
        // Shoppers whose track ended since are still found through their last position.
        let mut v: Vec<(usize, f64)> = best
            .into_iter()
            .filter(|(_, d)| *d <= self.cfg.reach_m)
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        v
    }

    /// Shoppers within reach of `shelf` (as [`Self::in_reach`]) from `from` to `to`.
    fn in_reach_between(&self, shelf: &ShelfInfo, from: f64, to: f64) -> Vec<usize> {
        let mut v: Vec<usize> = Vec::new();
        for (t, tracks) in self.history.iter().filter(|(t, _)| *t >= from && *t <= to) {
            for tr in tracks {
                let Some(k) = self.owner_at(tr.id, *t) else {
                    continue;
                };
                if shelf
                    .reach_distance(DVec2::new(tr.x, tr.y))
                    .is_some_and(|d| d <= self.cfg.reach_m)
                    && !v.contains(&k)
                {
                    v.push(k);
                }
            }
        }
        v
    }

    /// Shoppers inside at `time` whom no track showed around then, and who could have walked
    /// to `shelf` from where they were last seen before and to where they were seen next:
    /// (shopper, distance from the shelf where last seen), nearest first.
    fn unseen_candidates(&self, shelf: &ShelfInfo, time: f64) -> Vec<(usize, f64)> {
        let mut seen_then = vec![false; self.shoppers.len()];
        let mut before: Vec<Option<(f64, DVec2)>> = vec![None; self.shoppers.len()];
        let mut after: Vec<Option<(f64, DVec2)>> = vec![None; self.shoppers.len()];
        for (t, tracks) in &self.history {
            for tr in tracks.iter().filter(|tr| tr.seen) {
                let Some(k) = self.owner_at(tr.id, *t) else {
                    continue;
                };
                let p = DVec2::new(tr.x, tr.y);
                if (t - time).abs() <= 1.0 {
                    seen_then[k] = true;
                }
                if *t <= time {
                    before[k] = Some((*t, p));
                } else if after[k].is_none() {
                    after[k] = Some((*t, p));
                }
            }
        }
        let reachable = |(t, p): (f64, DVec2)| {
            let r = self.cfg.reach_m;
            self.walk
                .distance_to_region(p, shelf.min - r, shelf.max + r, |c| {
                    shelf.reach_distance(c).is_some_and(|d| d <= r)
                })
                <= self.cfg.max_speed_mps * (t - time).abs() + self.cfg.slack_m
        };
        let mut v: Vec<(usize, f64)> = (0..self.shoppers.len())
            .filter(|&k| {
                let s = &self.shoppers[k];
                !seen_then[k] && s.entered <= time && s.exited_at > time
            })
            .filter_map(|k| {
                let s = &self.shoppers[k];
                let last = before[k].or((s.last_seen <= time).then_some((s.last_seen, s.last_pos)));
                let ok = last.is_none_or(reachable) && after[k].is_none_or(reachable);
                ok.then(|| {
                    let p = last.map_or(s.last_pos, |l| l.1);
                    (k, distance_to_box(shelf.min, shelf.max, p))
                })
            })
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        v
    }

    fn shelf_change(&mut self, c: &Change) -> Vec<Output> {
        let (shelf_id, level, since, until) = (c.shelf.as_str(), c.level, c.since, c.until);
        let (delta, contacts) = (c.delta, c.contacts);
        let Some(si) = self.shelves.iter().position(|s| s.id == shelf_id) else {
            tracing::warn!(
                shelf = shelf_id,
                "a load cell of a shelf not in the store config"
            );
            return Vec::new();
        };
        // A hand seen in the bay decides among the bodies near it; else bodies near the bay.
        let next_contact = c.earlier_part.then_some(until);
        let hand = self.by_hand(
            si,
            level as usize,
            since,
            c.later_part,
            next_contact,
            c.hands_split,
        );
        let hand_seen = hand.is_some();
        let by_hands = hand.as_ref().is_some_and(|h| !h.is_empty());
        // A hand with no known body near it names nobody: the bodies near the bay then.
        let mut near = match hand {
            Some(by_hand) if !by_hand.is_empty() => by_hand,
            _ => self.in_reach(&self.shelves[si], since),
        };
        // A hand named for a body that walked up or on past then, also seen through the track
        // of a body standing still right in front of it: the one who stood there is a
        // candidate too (the rules below keep one who stood still over one who walked). A
        // neighbour's track passing close takes in the taker's detections, wrists and all.
        if by_hands && near.iter().any(|(k, _)| self.walked_by_ends(*k, since)) {
            let still = self.still_in_front_of_hand(si, level as usize, (since, until), &near);
            tracing::debug!(
                shelf = shelf_id,
                level,
                since,
                ?still,
                "shelf change: still in front of the hand"
            );
            near.extend(still);
            near.sort_by(|a, b| a.1.total_cmp(&b.1));
        }
        tracing::debug!(
            shelf = shelf_id,
            level,
            since,
            delta,
            hand_seen,
            near = ?near
                .iter()
                .map(|(k, d)| (self.shoppers[*k].token.as_str(), (d * 100.0).round() / 100.0))
                .collect::<Vec<_>>(),
            "shelf change: who was there"
        );
        // Nobody seen there: the store is a closed world, so it was one of the shoppers
        // nobody saw then who could have walked there (one such shopper decides it).
        let unseen = near.is_empty();
        if unseen {
            near = self.unseen_candidates(&self.shelves[si], since);
        }
        let decided = match near.as_slice() {
            [] => None,
            [only] => Some((only.0, Vec::new())),
            // Any of the unseen could have been there.
            [first, rest @ ..] if unseen => Some((first.0, rest.iter().map(|r| r.0).collect())),
            [first, ..] => {
                let at = (shelf_id, level, since);
                // With no hand seen, one walking up or on past the bay then is no nearer than
                // one who stood still within reach (a shopper stops to take an item): the
                // margin counts from the nearest who did not walk.
                let first = if !hand_seen && near.iter().any(|(k, _)| self.stood_still(*k, since)) {
                    near.iter()
                        .find(|(k, _)| !self.walked(*k, since))
                        .unwrap_or(first)
                } else {
                    first
                };
                let mut close: Vec<usize> = near
                    .iter()
                    .filter(|(_, d)| *d - first.1 < self.cfg.reach_margin_m)
                    .map(|(k, _)| *k)
                    .collect();
                // One who stood still at the shelf around the change took from it, not one
                // walking up or on past it then (a shopper stops to take an item).
                if close.iter().any(|&k| self.stood_still(k, since)) {
                    close.retain(|&k| !self.walked(k, since));
                }
                // A hand seen in the level is of the body standing right in front of it, not
                // of one beside it along the shelf (measured from the hands that may be theirs).
                if by_hands && first.1 <= FRONT_ARM_M && close.len() > 1 {
                    let candidates = close.clone();
                    close = in_front(close, "hands", at, |k| {
                        self.hand_lateral(si, level as usize, since, k, &candidates)
                    });
                }
                // A later part of a split change that no new hand is seen to make: not of one
                // whose hand dwelt in the level making an earlier part and left it before this
                // part's contact began (it would have been seen coming back).
                if c.later_part && !by_hands && close.len() > 1 {
                    close = unless_all(close, "hand left before this part", at, |k| {
                        self.hand_left(si, level as usize, since, until, k)
                    });
                }
                // An earlier part of a split fitted by the load cell that no hand is seen to
                // make: not of one whose hand first came into the level for a later part and
                // dwelt there (a hand in the bay is seen as its item leaves; one glimpse, fused
                // into several bodies' tracks, does not say whose hand came).
                if let (true, Some(split)) = (c.earlier_part, c.hands_split)
                    && !by_hands
                    && close.len() > 1
                {
                    close = unless_all(close, "hand came for a later part", at, |k| {
                        self.hand_came_for(si, level as usize, since, split, k)
                    });
                }
                // With no hand named in the level, one whose own hand was in another level or
                // bay as the change began was busy there: one hand, one place.
                if !by_hands && close.len() > 1 {
                    close = unless_all(close, "hand elsewhere", at, |k| {
                        self.busy_elsewhere(si, level as usize, since, k)
                    });
                }
                // With no hand seen in the level, a hand glimpsed by one camera high on the
                // bay's face names its body among them.
                if !hand_seen && close.len() > 1 {
                    let glimpsed = self.glimpsed(si, level as usize, since);
                    tracing::debug!(
                        shelf = shelf_id,
                        level,
                        since,
                        ?close,
                        ?glimpsed,
                        "shelf change: whose hands one camera glimpsed"
                    );
                    if close.iter().any(|k| glimpsed.contains(k)) {
                        close.retain(|k| glimpsed.contains(k));
                    }
                    // Glimpsed through several bodies' detections: the hand is of the body
                    // standing in front of where the rays entered the face (as for hands).
                    if close.len() > 1 {
                        close = in_front(close, "glimpses", at, |k| {
                            self.glimpse_lateral(si, level as usize, since, k)
                        });
                    }
                }
                Some((close[0], close[1..].to_vec()))
            }
        };
        // Identity doubts travel with the shopper's events.
        let (mut who, mut rivals) = match decided {
            Some((k, r)) => (Some(k), r),
            None => (None, Vec::new()),
        };
        // Someone nobody saw then, last seen right by this shelf, could have done it too —
        // unless the hands seen in the level were all known shoppers' (every level of every bay
        // is seen by two cameras: an unseen shopper's hand there would be a hand of nobody's).
        // The hand must have dwelt there, one shopper's alone (a body merged into a
        // neighbour's track lends it its hand), or been seen there twice in boxes wearing the
        // shopper's own outfit (a neighbour's body lends its own clothes with its hand).
        let hands_known = hand_seen
            && !unseen
            && near.len() == 1
            && !self.anonymous_hand(si, level as usize, since)
            && (self.hand_sightings(si, level as usize, since, near[0].0) >= HAND_DWELL_TICKS
                || self.hand_worn(si, level as usize, since, near[0].0) >= HAND_WORN_TICKS);
        if !unseen
            && !hands_known
            && let Some(k) = who
        {
            for (u, d) in self.unseen_candidates(&self.shelves[si], since) {
                if u != k && d <= UNSEEN_NEAR_M && !rivals.contains(&u) {
                    rivals.push(u);
                }
            }
        }
        // A hand named by a body farther from it than an arm and a lean: it may have been
        // another's, seen through that body's track (one standing behind or beside the taker);
        // anyone whose hand was seen in the level then from within an arm and a lean, or who
        // stood within reach, may have made the change.
        if hand_seen
            && !unseen
            && let (Some(k), Some((_, d))) = (who, near.first())
            && *d > FAR_HAND_M
        {
            // Of those whose hands were seen then, not one whose body stood farther from the
            // hand than an arm and a lean: their track took in the taker's detections.
            let mut others: Vec<usize> = self
                .hands_at_level(si, level as usize, since - 1.0, since + 1.0)
                .flat_map(|(t, _, p, whose)| {
                    let tracks = self.tick_nearest(*t).map(|h| &h.1);
                    whose
                        .iter()
                        .filter(move |w| {
                            tracks
                                .and_then(|ts| ts.iter().find(|x| x.id == **w))
                                .is_none_or(|x| (x.x - p.x).hypot(x.y - p.y) <= FAR_HAND_M)
                        })
                        .filter_map(|w| self.owner_at(*w, *t))
                })
                .collect();
            others.extend(
                self.in_reach(&self.shelves[si], since)
                    .into_iter()
                    .map(|x| x.0),
            );
            add_rivals(&mut rivals, k, others);
            // The body the hand is named for walked up or on past, and one of the others
            // stood still (a track unseen for a tick read at the nearest ticks it was seen):
            // a shopper stops to take an item; the walker is no candidate.
            let walked = |x: usize| self.walked(x, since) || self.walked_by_ends(x, since);
            if walked(k) {
                let left: Vec<usize> = std::iter::once(k)
                    .chain(rivals.iter().copied())
                    .filter(|&x| !walked(x))
                    .collect();
                if left.iter().any(|&x| self.still_by_ends(x, since)) {
                    tracing::debug!(
                        shelf = shelf_id,
                        level,
                        since,
                        ?left,
                        "shelf change: a far hand of one who walked past"
                    );
                    who = Some(left[0]);
                    rivals = left[1..].to_vec();
                }
            }
            let k = who.unwrap_or(k);
            // Not of one named alone for another change, in another level or bay, that began
            // within a moment of this one (one body, one change at a time), unless nobody
            // else could have made it.
            let all: Vec<usize> = std::iter::once(k).chain(rivals.iter().copied()).collect();
            let left = unless_all(all, "made another change", (shelf_id, level, since), |x| {
                self.made_elsewhere(si, level, since, x, MADE_WINDOW_S)
            });
            who = Some(left[0]);
            rivals = left[1..].to_vec();
        }
        // A put-back of the level's own item by one who carries nothing its weight fits: a
        // shopper puts back only what they carry; of those within reach who carry it.
        if delta > 0.0
            && rivals.is_empty()
            && let Some(k) = who
            && let [first, rest @ ..] = self
                .carriers_instead(si, level as usize, since, delta, k)
                .as_slice()
        {
            tracing::debug!(
                shelf = shelf_id,
                level,
                since,
                "shelf change: a put-back by one who carries none of it is of one who does"
            );
            who = Some(*first);
            rivals = rest.to_vec();
        }
        // Whoever the evidence left: not one named alone for another change, in another
        // level or bay, that began within a moment of this one, nor (this a pick) for another
        // pick from this level a moment apart (one body, one change at a time), unless nobody
        // else could have made it.
        // (Not where that would leave it to one whose identity is in doubt: held for the
        // doubt, it would be settled with it, though the doubt is about whose track is whose,
        // not about who stood there.)
        if let Some(k) = who
            && !rivals.is_empty()
        {
            let all: Vec<usize> = std::iter::once(k).chain(rivals.iter().copied()).collect();
            let left = unless_all(all, "made another change", (shelf_id, level, since), |x| {
                self.made_elsewhere(si, level, since, x, REACH_MADE_WINDOW_S)
                    || (delta < 0.0 && self.picked_here(si, level, since, x))
            });
            if left.len() > 1 || self.shoppers[left[0]].confusable.is_empty() {
                who = Some(left[0]);
                rivals = left[1..].to_vec();
            }
        }
        let near_rivals = rivals.len();
        if let Some(k) = who {
            for &c in &self.shoppers[k].confusable {
                // A doubt from a meeting after this change leaves it theirs: their tracks
                // may have swapped only once they came together.
                let linking: Vec<f64> = self
                    .doubts
                    .iter()
                    .filter(|d| (d.lost, d.kept) == (k, c) || (d.lost, d.kept) == (c, k))
                    .map(|d| d.apart_until)
                    .collect();
                let later = !linking.is_empty() && linking.iter().all(|&t| t >= since);
                if !later && !rivals.contains(&c) {
                    rivals.push(c);
                }
            }
        }
        // Which SKU and how many: the level's facings, and for a return also what the
        // candidates carry (an item put back on the wrong shelf), no more of it than they
        // carry.
        const MAX_UNITS: u32 = 5;
        let mut skus: Vec<(String, f64, u32)> = self.shelves[si]
            .levels
            .get(level as usize)
            .map(|l| l.iter().map(|(s, w)| (s.clone(), *w, MAX_UNITS)).collect())
            .unwrap_or_default();
        let mut carried: Vec<(String, f64, u32)> = Vec::new();
        if delta > 0.0 {
            for k in who.iter().chain(rivals.iter()) {
                let s = &self.shoppers[*k];
                for (sku, n) in s.cart.iter().chain(s.pending.iter()) {
                    let Some(w) = self.unit_weight(sku) else {
                        continue;
                    };
                    let n = (*n).min(MAX_UNITS);
                    match carried.iter_mut().find(|(x, _, _)| x == sku) {
                        Some(e) => e.2 = e.2.max(n),
                        None => carried.push((sku.clone(), w, n)),
                    }
                    match skus.iter_mut().find(|(x, _, _)| x == sku) {
                        Some(e) => e.2 = e.2.max(n),
                        None => skus.push((sku.clone(), w, n)),
                    }
                }
            }
        }
        let best_fit = |skus: &[(String, f64, u32)]| {
            skus.iter()
                .flat_map(|(sku, w, most)| {
                    (1..=*most)
                        .map(move |q| (sku.clone(), q, (delta.abs() - w * f64::from(q)).abs()))
                })
                .min_by(|a, b| a.2.total_cmp(&b.2))
        };
        // A return is of what the shoppers there carry when that fits the weight: items come
        // back from carts (two soaps weigh what a bag of nuts does; the one who put it back
        // carried nuts, not soap), and first the level's own items they carry (a bottle of
        // water put back among the water, though two bags of nuts weigh nearly as much)
        // where that fits about as well (within 20 g of the best).
        let own: Vec<(String, f64, u32)> = carried
            .iter()
            .filter(|(sku, _, _)| {
                self.shelves[si]
                    .levels
                    .get(level as usize)
                    .is_some_and(|l| l.iter().any(|(x, _)| x == sku))
            })
            .cloned()
            .collect();
        let other = best_fit(&carried).filter(|f| f.2 <= 0.05);
        let fit = best_fit(&own)
            .filter(|f| f.2 <= 0.05 && other.as_ref().is_none_or(|o| f.2 <= o.2 + 0.02))
            .or(other)
            .or_else(|| best_fit(&skus));
        let Some((sku, quantity, residual)) = fit else {
            return Vec::new();
        };
        // A put-back read as an item the candidates carry from elsewhere, though the level's
        // own item (which their carts lack: a pick of it missed or given to another) fits the
        // weight clearly better: which it was is open.
        let level_skus: Vec<(String, f64, u32)> = self.shelves[si]
            .levels
            .get(level as usize)
            .map(|l| l.iter().map(|(s, w)| (s.clone(), *w, MAX_UNITS)).collect())
            .unwrap_or_default();
        let sku_doubt = (delta > 0.0 && !level_skus.iter().any(|(x, _, _)| *x == sku))
            .then(|| best_fit(&level_skus))
            .flatten()
            .filter(|l| l.2 + SKU_CLEARER_KG < residual);
        // Several units in one change on the load cell, with more than one hand contact on
        // the shelf, or more than one shopper's hand seen in the level: two takers a
        // moment apart may share it (the second one's hand unseen behind the first): who took
        // how many is open among those within reach then.
        let mut shared = 0;
        if quantity > 1
            && let Some(k) = who
        {
            // A hand first seen there once the weight stood at its new level took no part.
            let hands = self.hands_in(
                si,
                level as usize,
                (since, c.settled_from),
                k,
                c.one_contact,
            );
            // Two hands in the level at once, farther apart than one body's reach: two bodies
            // took from it, the second perhaps merged into the first one's track (nobody seen
            // then who could have walked there may be it), unless the load cell's readings fit
            // one contact while the taker's hand dwelt there (the other hand took nothing).
            let one_hand = c.one_contact
                && self.hand_sightings(si, level as usize, since, k) >= HAND_DWELL_TICKS;
            // (A part of a change split where the load cell's model put two contacts: the two
            // hands are those contacts'.)
            let apart = !one_hand
                && c.hands_split.is_none()
                && self.hands_apart(si, level as usize, since - 0.5, until);
            let mut bodies = if contacts > 1 || apart {
                self.in_reach_between(&self.shelves[si], since, until)
            } else {
                Vec::new()
            };
            if apart {
                bodies.extend(
                    self.unseen_candidates(&self.shelves[si], since)
                        .into_iter()
                        .filter(|(_, d)| *d <= UNSEEN_NEAR_M)
                        .map(|(u, _)| u),
                );
            }
            // A body walking up or on past then did not take a share (as above; or as read at
            // the ends of those seconds where its track was seen).
            let still = self.stood_still(k, since);
            // A part of a change split where the load cell's model put two contacts is one
            // hand's: a hand that came into the level on the other side of the split made the
            // other part (one put back, the next taker's), not a share of this one.
            let this_side = |o: &usize| {
                c.hands_split.is_none_or(|split| {
                    c.later_part == self.hand_came_from(si, level as usize, since, split, *o)
                })
            };
            let others = hands
                .into_iter()
                .filter(this_side)
                .chain(bodies)
                .filter(|&o| !(still && (self.walked(o, since) || self.walked_by_ends(o, since))));
            shared += add_rivals(&mut rivals, k, others);
        }
        // An item put back in the same moment as this pick: anyone whose hand was in the level,
        // or who stood within reach, may have done either.
        let put_back_too = delta < 0.0 && c.rose_kg > HAND_PRESS_KG;
        if put_back_too && let Some(k) = who {
            let hands = self.hands_in(si, level as usize, (since, until), k, false);
            let bodies = self.in_reach_between(&self.shelves[si], since, until);
            shared += add_rivals(&mut rivals, k, hands.into_iter().chain(bodies));
        }
        // As many units as there were takers, each one's own hand seen dwelling in the level
        // at once with the others', apart: each took one (every hand seen dwelling in a level
        // through a change is a taker's, the same reading that names one taker for one item).
        if delta < 0.0
            && quantity > 1
            && residual <= 0.05
            && !put_back_too
            && sku_doubt.is_none()
            && let Some(k) = who
            && rivals.len() + 1 == quantity as usize
        {
            let takers: Vec<usize> = std::iter::once(k).chain(rivals.iter().copied()).collect();
            if self.hands_together(si, level as usize, (since - 1.0, until), &takers) {
                return self.one_each(since, si, level, &sku, delta, &takers);
            }
        }
        let mut out = Vec::new();
        let ambiguous = who.is_none()
            || !rivals.is_empty()
            || residual > 0.05
            || put_back_too
            || sku_doubt.is_some();
        let ambiguity = ambiguous.then(|| Ambiguity {
            candidates: who
                .iter()
                .chain(rivals.iter())
                .map(|&k| Candidate {
                    shopper: self.shoppers[k].id.clone(),
                    likelihood: 1.0 / (1 + rivals.len()) as f64,
                })
                .collect(),
            evidence: if put_back_too {
                format!(
                    "{delta:+.3} kg on {shelf_id} level {level} after it rose {:.3} kg (more than a hand presses it: an item put back in the same moment, or several hands at once): {} shoppers within reach or with a hand in it",
                    c.rose_kg,
                    rivals.len() + usize::from(who.is_some())
                )
            } else if who.is_none() {
                format!("{delta:+.3} kg on {shelf_id} level {level} with nobody within reach")
            } else if residual > 0.05 {
                format!("{delta:+.3} kg matches no SKU within 50 g (best {sku} x{quantity})")
            } else if let Some((own, n, _)) = &sku_doubt {
                format!(
                    "{delta:+.3} kg on {shelf_id} level {level}: {quantity} x {sku} carried from elsewhere, though {n} x {own}, the level's own, fits it better"
                )
            } else {
                let reach = if near_rivals > 0 {
                    format!(
                        "{} shoppers within reach (distances {})",
                        near_rivals + 1,
                        near.iter()
                            .map(|(_, d)| format!("{d:.2} m"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    "one shopper within reach".to_string()
                };
                let doubts = rivals.len() - near_rivals - shared;
                if shared > 0 && contacts > 1 {
                    format!(
                        "{delta:+.3} kg on {shelf_id} level {level} ({quantity} x {sku}) in {contacts} hand contacts: {} shoppers within reach or with a hand in it",
                        shared + 1
                    )
                } else if shared > 0 {
                    format!(
                        "{delta:+.3} kg on {shelf_id} level {level} ({quantity} x {sku}): the hands of {} shoppers were in it while it changed",
                        shared + 1
                    )
                } else if doubts > 0 {
                    format!(
                        "{delta:+.3} kg on {shelf_id} level {level}: {reach}; their identity is in doubt with {doubts} other shopper(s)"
                    )
                } else {
                    format!("{delta:+.3} kg on {shelf_id} level {level}: {reach}")
                }
            },
        });
        let shopper = who.map(|k| self.shoppers[k].id.clone());
        let kind = if delta < 0.0 {
            EventKind::Pick {
                shopper,
                shelf: shelf_id.to_string(),
                level,
                sku: sku.clone(),
                quantity,
                weight_delta_kg: delta,
            }
        } else {
            EventKind::Return {
                shopper,
                shelf: shelf_id.to_string(),
                level,
                sku: sku.clone(),
                quantity,
                weight_delta_kg: delta,
            }
        };
        let held_for_doubt = who.is_some()
            && near_rivals == 0
            && shared == 0
            && residual <= 0.05
            && !put_back_too
            && sku_doubt.is_none()
            && ambiguous;
        let ev = self.event(since, kind.clone(), ambiguity);
        if let (true, Some(k), Output::Event(e)) = (held_for_doubt, who, &ev) {
            self.open_events.push(OpenEvent {
                id: e.id,
                time: since,
                shopper: k,
                doubt: rivals.clone(),
                kind: kind.clone(),
                sku: sku.clone(),
                quantity,
                pick: delta < 0.0,
            });
        }
        // A pick open only among those within reach waits for a change elsewhere that rules
        // some of them out.
        if let (true, Some(k), Output::Event(e)) = (ambiguous, who, &ev)
            && delta < 0.0
            && near_rivals > 0
            && rivals.len() == near_rivals
            && shared == 0
            && residual <= 0.05
            && !put_back_too
            && sku_doubt.is_none()
        {
            self.open_choices.retain(|c| c.time >= since - 20.0);
            self.open_choices.push(OpenChoice {
                id: e.id,
                time: since,
                shelf: si,
                level,
                holder: k,
                candidates: std::iter::once(k).chain(rivals.iter().copied()).collect(),
                kind,
                sku: sku.clone(),
                quantity,
            });
        }
        out.push(ev);
        let mut ruled_out = Vec::new();
        if let (false, Some(k)) = (ambiguous, who) {
            while self.made.front().is_some_and(|m| m.0 < since - 20.0) {
                self.made.pop_front();
            }
            let picked = if delta < 0.0 { quantity } else { 0 };
            self.made.push_back((since, si, level, k, picked));
            ruled_out = self.rule_out_elsewhere(since, si, level, k, picked);
        }
        // Its other candidates may carry it too (a put-back of it by one of them is theirs).
        if ambiguous && delta < 0.0 {
            for &r in &rivals {
                let m = self.shoppers[r].may_carry.entry(sku.clone()).or_default();
                *m = (*m).max(quantity);
            }
        }
        if let Some(k) = who {
            let s = &mut self.shoppers[k];
            let bucket = if ambiguous {
                &mut s.pending
            } else {
                &mut s.cart
            };
            if delta < 0.0 {
                *bucket.entry(sku).or_default() += quantity;
            } else {
                // A return leaves the cart (or the pending items) it came from.
                let from = if s.cart.get(&sku).copied().unwrap_or(0) >= quantity && !ambiguous {
                    &mut s.cart
                } else {
                    &mut s.pending
                };
                let q = from.entry(sku.clone()).or_default();
                *q = q.saturating_sub(quantity);
                from.retain(|_, q| *q > 0);
                if ambiguous {
                    // The return is not settled either: note it as pending (negative evidence).
                    s.pending.retain(|_, q| *q > 0);
                }
            }
            out.push(self.cart(k, self.now, false));
        }
        out.extend(ruled_out);
        out
    }

    /// Shopper `k` was named alone for a change of `shelf` at `level` that began at `since`
    /// (a pick of `picked` units; 0: a put-back): a pick left open among those within reach,
    /// in another level or bay, that began within [`REACH_MADE_WINDOW_S`] of it, or (theirs a
    /// pick of one unit) another pick from the same level within [`SAME_LEVEL_MADE_WINDOW_S`]
    /// of it, their hand not seen there as that one began, was not theirs (one body, one
    /// change at a time). Where one candidate is left, it is theirs (unless their identity is
    /// in doubt now: it stays open): published again decided, and moved from the pending
    /// items of the one it named into that one's cart.
    fn rule_out_elsewhere(
        &mut self,
        since: f64,
        shelf: usize,
        level: u32,
        k: usize,
        picked: u32,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.open_choices.len() {
            let c = &self.open_choices[i];
            let dt = (c.time - since).abs();
            let apart = if (c.shelf, c.level) == (shelf, level) {
                picked == 1
                    && (0.05..=SAME_LEVEL_MADE_WINDOW_S).contains(&dt)
                    && !self.hand_there(shelf, level as usize, c.time, k)
            } else {
                dt <= REACH_MADE_WINDOW_S
            };
            if !apart || !c.candidates.contains(&k) {
                i += 1;
                continue;
            }
            let c = &mut self.open_choices[i];
            c.candidates.retain(|&x| x != k);
            if c.candidates.len() > 1 {
                i += 1;
                continue;
            }
            // (Not to one whose identity is in doubt now: left open.)
            if c.candidates
                .iter()
                .any(|&x| !self.shoppers[x].confusable.is_empty())
            {
                self.open_choices.remove(i);
                continue;
            }
            let c = self.open_choices.remove(i);
            let Some(&who) = c.candidates.first() else {
                continue;
            };
            tracing::debug!(
                shelf = %self.shelves[c.shelf].id,
                level = c.level,
                since = c.time,
                who = %self.shoppers[who].id,
                ruled_out = %self.shoppers[k].id,
                "shelf change: decided, its other candidate made another change then"
            );
            out.extend(self.decide_open(c, who));
            i = 0;
        }
        out
    }

    /// Open pick `c` is `who`'s: published again decided, moved from the pending items of the
    /// one it named into `who`'s cart; named alone for it now, `who` may be ruled out of
    /// another open pick.
    fn decide_open(&mut self, c: OpenChoice, who: usize) -> Vec<Output> {
        let mut out = Vec::new();
        self.move_held(c.holder, who, &c.sku, c.quantity, true);
        out.push(self.republish(c.id, c.time, c.kind, who));
        out.push(self.cart(c.holder, self.now, false));
        if who != c.holder {
            out.push(self.cart(who, self.now, false));
        }
        self.made
            .push_back((c.time, c.shelf, c.level, who, c.quantity));
        out.extend(self.rule_out_elsewhere(c.time, c.shelf, c.level, who, c.quantity));
        out
    }

    /// The hands seen in `shelf` at `level` from `from` to `to`: (time, shelf, point, tracks).
    fn hands_at_level(
        &self,
        shelf: usize,
        level: usize,
        from: f64,
        to: f64,
    ) -> impl Iterator<Item = &(f64, usize, glam::DVec3, Vec<u64>)> {
        let info = &self.shelves[shelf];
        self.reaches.iter().filter(move |(t, s, p, _)| {
            *s == shelf && *t >= from && *t <= to && info.level_at(p.z) == Some(level)
        })
    }

    /// Whether `k` carries (in their cart or pending, or may carry: a candidate of an open
    /// pick) `n` or more of an item whose `n` units
    /// weigh `delta` kg to within 50 g, for some `n`.
    fn carries_weight(&self, k: usize, delta: f64) -> bool {
        let s = &self.shoppers[k];
        s.cart
            .iter()
            .chain(&s.pending)
            .chain(&s.may_carry)
            .any(|(sku, n)| {
                self.unit_weight(sku)
                    .and_then(|w| whole_units(delta, w))
                    .is_some_and(|q| q <= *n)
            })
    }

    /// For a put-back of `delta` kg on `shelf` at `level` at `time` named for `k`, who carries
    /// nothing its weight fits while the level's own item fits it: the others within reach then
    /// who carry that item (none when `k` carries something that fits, or nobody else does).
    fn carriers_instead(
        &self,
        shelf: usize,
        level: usize,
        time: f64,
        delta: f64,
        k: usize,
    ) -> Vec<usize> {
        let own: Vec<&String> = self.shelves[shelf]
            .levels
            .get(level)
            .map(|l| {
                l.iter()
                    .filter(|(_, w)| whole_units(delta, *w).is_some())
                    .map(|(sku, _)| sku)
                    .collect()
            })
            .unwrap_or_default();
        if own.is_empty() || self.carries_weight(k, delta) {
            return Vec::new();
        }
        let carries = |x: usize| {
            let s = &self.shoppers[x];
            own.iter()
                .any(|sku| s.cart.contains_key(*sku) || s.pending.contains_key(*sku))
        };
        self.in_reach(&self.shelves[shelf], time)
            .into_iter()
            .map(|x| x.0)
            .filter(|&x| x != k && carries(x))
            .collect()
    }

    /// Whether a hand in `shelf` at `level` within a second of `time` was of no known shopper
    /// (no track, or a track bound to nobody), and not one a known shopper's hand was seen at
    /// (within [`SAME_HAND_M`]) within [`SAME_HAND_S`] of it: their hand, its detections held
    /// for a tick by a track of nobody's.
    fn anonymous_hand(&self, shelf: usize, level: usize, time: f64) -> bool {
        let known = |(t, _, _, whose): &&(f64, usize, glam::DVec3, Vec<u64>)| {
            whose.iter().any(|w| self.owner_at(*w, *t).is_some())
        };
        let hands: Vec<_> = self
            .hands_at_level(shelf, level, time - 1.5, time + 1.5)
            .collect();
        self.hands_at_level(shelf, level, time - 1.0, time + 1.0)
            .filter(|h| !known(h))
            .any(|(t, _, p, _)| {
                !hands.iter().any(|h| {
                    known(h) && (h.0 - t).abs() <= SAME_HAND_S && h.2.distance(*p) <= SAME_HAND_M
                })
            })
    }

    /// Whether two hands were seen in `shelf` at `level` at one tick from `from` to `to`, more
    /// than [`HANDS_APART_M`] apart along the floor.
    fn hands_apart(&self, shelf: usize, level: usize, from: f64, to: f64) -> bool {
        let hands: Vec<&(f64, usize, glam::DVec3, Vec<u64>)> =
            self.hands_at_level(shelf, level, from, to).collect();
        hands.iter().enumerate().any(|(i, a)| {
            hands[i + 1..].iter().any(|b| {
                (a.0 - b.0).abs() < 0.05 && a.2.truncate().distance(b.2.truncate()) > HANDS_APART_M
            })
        })
    }

    /// Whether each of `takers` had a hand of their own in `shelf` at `level` at the same
    /// ticks as the others' from `from` to `to`, at [`HAND_DWELL_TICKS`] ticks or more: each
    /// hand seen through the tracks of that one shopper alone, within [`FAR_HAND_M`] of a
    /// body of theirs, and every two of them more than [`HANDS_APART_M`] apart.
    fn hands_together(
        &self,
        shelf: usize,
        level: usize,
        (from, to): (f64, f64),
        takers: &[usize],
    ) -> bool {
        let mut ticks: Vec<(f64, Vec<(usize, DVec2)>)> = Vec::new();
        for (t, _, p, whose) in self.hands_at_level(shelf, level, from, to) {
            let tracks = self.tick_nearest(*t).map(|h| &h.1);
            let mut owners: Vec<usize> = whose
                .iter()
                .filter(|w| {
                    tracks
                        .and_then(|ts| ts.iter().find(|x| x.id == **w))
                        .is_some_and(|x| (x.x - p.x).hypot(x.y - p.y) <= FAR_HAND_M)
                })
                .filter_map(|w| self.owner_at(*w, *t))
                .collect();
            owners.sort_unstable();
            owners.dedup();
            let plain = match owners.as_slice() {
                [only] if takers.contains(only) => Some((*only, p.truncate())),
                _ => None,
            };
            match ticks.iter_mut().find(|(u, _)| (u - t).abs() < 0.05) {
                Some((_, hands)) => hands.extend(plain),
                None => ticks.push((*t, plain.into_iter().collect())),
            }
        }
        let together = ticks
            .iter()
            .filter(|(_, hands)| {
                takers.iter().all(|k| hands.iter().any(|(o, _)| o == k))
                    && hands.iter().enumerate().all(|(i, a)| {
                        hands[i + 1..]
                            .iter()
                            .all(|b| a.0 == b.0 || a.1.distance(b.1) > HANDS_APART_M)
                    })
            })
            .count();
        together >= HAND_DWELL_TICKS as usize
    }

    /// A pick of one unit of `sku` by each of `takers`, from one change of `delta` kg.
    fn one_each(
        &mut self,
        since: f64,
        si: usize,
        level: u32,
        sku: &str,
        delta: f64,
        takers: &[usize],
    ) -> Vec<Output> {
        tracing::debug!(shelf = %self.shelves[si].id, level, since, ?takers, "shelf change: one each");
        let mut out = Vec::new();
        for &k in takers {
            let kind = EventKind::Pick {
                shopper: Some(self.shoppers[k].id.clone()),
                shelf: self.shelves[si].id.clone(),
                level,
                sku: sku.to_string(),
                quantity: 1,
                weight_delta_kg: delta / takers.len() as f64,
            };
            out.push(self.event(since, kind, None));
            self.made.push_back((since, si, level, k, 1));
            *self.shoppers[k].cart.entry(sku.to_string()).or_default() += 1;
            out.push(self.cart(k, self.now, false));
        }
        out
    }

    /// Whether shopper `k`'s hand was seen in `shelf` at `level` around a change that began at
    /// `time` (from a second before it to 1.5 s after) only from `split` on.
    fn hand_came_from(&self, shelf: usize, level: usize, time: f64, split: f64, k: usize) -> bool {
        let first = self
            .hands_at_level(shelf, level, time - 1.0, time + 1.5)
            .filter(|(t, _, _, whose)| whose.iter().any(|w| self.owner_at(*w, *t) == Some(k)))
            .map(|(t, _, _, _)| *t)
            .fold(f64::INFINITY, f64::min);
        first.is_finite() && first >= split
    }

    /// Whether shopper `k`'s hand came into `shelf` at `level` for the part of a change (that
    /// began at `time`) from `split` on: first seen there from `split` on
    /// ([`Self::hand_came_from`]), and seen there [`HAND_DWELL_TICKS`] times or more from then
    /// to 1.5 s after `time`.
    fn hand_came_for(&self, shelf: usize, level: usize, time: f64, split: f64, k: usize) -> bool {
        self.hand_came_from(shelf, level, time, split, k)
            && self
                .hands_at_level(shelf, level, split, time + 1.5)
                .filter(|(t, _, _, whose)| whose.iter().any(|w| self.owner_at(*w, *t) == Some(k)))
                .count()
                >= HAND_DWELL_TICKS as usize
    }

    /// Whether shopper `k`'s hand dwelt in `shelf` at `level` in the 1.5 s before `time`
    /// ([`HAND_DWELL_TICKS`] sightings or more) and was not seen there again from then to
    /// `until`, or [`HAND_BACK_S`] after `time` (a hand making this part is in the level by
    /// then).
    fn hand_left(&self, shelf: usize, level: usize, time: f64, until: f64, k: usize) -> bool {
        let own = |(t, _, _, whose): &&(f64, usize, glam::DVec3, Vec<u64>)| {
            whose.iter().any(|w| self.owner_at(*w, *t) == Some(k))
        };
        let before = self
            .hands_at_level(shelf, level, time - 1.5, time - 0.05)
            .filter(own)
            .count();
        let after = self
            .hands_at_level(shelf, level, time - 0.05, until.min(time + HAND_BACK_S))
            .filter(own)
            .count();
        before >= HAND_DWELL_TICKS as usize && after == 0
    }

    /// Whether shopper `k`'s hand was in another level or bay than `shelf` at `level` as a
    /// change there began at `time` (seen there, through a track of theirs, at
    /// [`BUSY_HAND_TICKS`] ticks or more within [`BUSY_WINDOW_S`] of it) and never in that
    /// level within a second of it.
    fn busy_elsewhere(&self, shelf: usize, level: usize, time: f64, k: usize) -> bool {
        if self.hand_sightings(shelf, level, time, k) > 0 {
            return false;
        }
        let elsewhere = self
            .reaches
            .iter()
            .filter(|(t, s, p, whose)| {
                (time - BUSY_WINDOW_S..=time + BUSY_WINDOW_S).contains(t)
                    && (*s != shelf || self.shelves[*s].level_at(p.z) != Some(level))
                    && self.shelves[*s].level_at(p.z).is_some()
                    && whose.iter().any(|w| self.owner_at(*w, *t) == Some(k))
            })
            .count();
        elsewhere >= BUSY_HAND_TICKS
    }

    /// Whether shopper `k` was named alone for a change in another level or bay than `shelf`
    /// at `level` that began within `window` seconds of `time`.
    fn made_elsewhere(&self, shelf: usize, level: u32, time: f64, k: usize, window: f64) -> bool {
        self.made.iter().any(|&(t, s, l, who, _)| {
            who == k && (s, l) != (shelf, level) && (t - time).abs() <= window
        })
    }

    /// Whether shopper `k` was named alone for another pick of one unit from `shelf` at
    /// `level` that began within [`SAME_LEVEL_MADE_WINDOW_S`] of `time` (more than a tick from
    /// it), their hand not seen in that level as this one began (one reach may take two parts
    /// of one change).
    fn picked_here(&self, shelf: usize, level: u32, time: f64, k: usize) -> bool {
        self.made.iter().any(|&(t, s, l, who, picked)| {
            who == k
                && picked == 1
                && (s, l) == (shelf, level)
                && (0.05..=SAME_LEVEL_MADE_WINDOW_S).contains(&(t - time).abs())
        }) && !self.hand_there(shelf, level as usize, time, k)
    }

    /// Whether shopper `k`'s hand was seen in `shelf` at `level` from 0.3 s before `time` to
    /// 0.5 s after it.
    fn hand_there(&self, shelf: usize, level: usize, time: f64, k: usize) -> bool {
        self.hands_at_level(shelf, level, time - 0.3, time + 0.5)
            .any(|(t, _, _, whose)| whose.iter().any(|w| self.owner_at(*w, *t) == Some(k)))
    }

    /// Sightings of shopper `k`'s hand in `shelf` at `level` within a second of `time` whose
    /// wrist boxes wore `k`'s outfit.
    fn hand_worn(&self, shelf: usize, level: usize, time: f64, k: usize) -> u32 {
        let Some(o) = self.shoppers[k].outfit() else {
            return 0;
        };
        let info = &self.shelves[shelf];
        self.reaches
            .iter()
            .zip(&self.looks)
            .filter(|((t, s, p, whose), look)| {
                *s == shelf
                    && (time - 1.0..=time + 1.0).contains(t)
                    && info.level_at(p.z) == Some(level)
                    && whose.iter().any(|w| self.owner_at(*w, *t) == Some(k))
                    && look.as_deref().is_some_and(|l| cosine(l, o) >= OUTFIT_SAME)
            })
            .count() as u32
    }

    /// Sightings of shopper `k`'s hand in `shelf` at `level` within a second of `time`.
    fn hand_sightings(&self, shelf: usize, level: usize, time: f64, k: usize) -> u32 {
        self.hands_at_level(shelf, level, time - 1.0, time + 1.0)
            .filter(|(t, _, _, whose)| whose.iter().any(|w| self.owner_at(*w, *t) == Some(k)))
            .count() as u32
    }

    /// Shoppers whose own hands were seen in `shelf` at `level` (fused into their tracks, for
    /// a tick or more: one more unit than one hand takes may be a hand seen once) from `from`
    /// to `to`, beside `taker`, the shopper the change is named for.
    fn hands_in(
        &self,
        shelf: usize,
        level: usize,
        (from, to): (f64, f64),
        taker: usize,
        one_contact: bool,
    ) -> Vec<usize> {
        let mut seen: HashMap<usize, u32> = HashMap::new();
        // Shopper -> the tracks their hands were seen through (their bodies then).
        let mut bodies: HashMap<usize, Vec<u64>> = HashMap::new();
        for (t, _, p, whose) in self.hands_at_level(shelf, level, from, to) {
            // Where the bodies were at that tick: a body far from the hand is not whose hand it
            // was (one of its views' boxes was someone else's).
            let tracks = self.tick_nearest(*t).map(|h| &h.1);
            let within_reach = |w: u64| {
                tracks
                    .and_then(|ts| ts.iter().find(|x| x.id == w))
                    .is_none_or(|x| (x.x - p.x).hypot(x.y - p.y) <= NOT_ITS_HAND_M)
            };
            // A hand fused into several tracks counts for each: several units taken at once
            // by two bodies side by side is no place to guess which hand was whose.
            let mut ks: Vec<usize> = whose
                .iter()
                .filter(|w| within_reach(**w))
                .filter_map(|w| self.owner_at(*w, *t))
                .collect();
            ks.sort_unstable();
            ks.dedup();
            // A hand right in front of the taker's body is the taker's, though seen through the
            // track of a body standing farther along the shelf (an arm reaches forward).
            let info = &self.shelves[shelf];
            let body_of = |k: usize| {
                tracks
                    .into_iter()
                    .flatten()
                    .filter(move |x| self.owner_at(x.id, *t) == Some(k))
                    .map(|x| DVec2::new(x.x, x.y))
            };
            if let Some(lt) = body_of(taker)
                .filter(|b| b.distance(p.truncate()) <= FRONT_ARM_M)
                .map(|b| along_face(info, b, *p))
                .min_by(f64::total_cmp)
                .filter(|lt| *lt <= IN_FRONT_M)
            {
                ks.retain(|&k| {
                    k == taker
                        || body_of(k).next().is_none()
                        || body_of(k).any(|b| along_face(info, b, *p) < lt + LATERAL_MARGIN_M)
                });
            }
            // A hand fused into the taker's track too is another's only if that one's body
            // stood within reach of the shelf then (not one walking past in the aisle).
            if ks.contains(&taker) {
                let info = &self.shelves[shelf];
                let at_shelf = |k: usize| {
                    whose.iter().any(|w| {
                        self.owner_at(*w, *t) == Some(k)
                            && tracks
                                .and_then(|ts| ts.iter().find(|x| x.id == *w))
                                .is_some_and(|x| {
                                    distance_to_box(info.min, info.max, DVec2::new(x.x, x.y))
                                        <= self.cfg.reach_m
                                })
                    })
                };
                ks.retain(|&k| k == taker || at_shelf(k));
            }
            for k in ks {
                *seen.entry(k).or_default() += 1;
                let own = bodies.entry(k).or_default();
                for w in whose.iter().filter(|w| self.owner_at(**w, *t) == Some(k)) {
                    if !own.contains(w) {
                        own.push(*w);
                    }
                }
            }
        }
        // Once the taker's hand dwelt in the level, a hand seen there less than half as often
        // is another's share only if the body it was seen through stood within reach of the
        // shelf in the second before the change began (a neighbour taking one too, the hand
        // mostly hidden), not one arriving or passing by (a wrist glimpsed at the shelf's face).
        // Where the load cell's readings fit one contact (`one_contact`), only the dwelling
        // hand moved it: such a hand is no share at all, unless it was seen through a track
        // the taker's hand was seen through too (the same body, whose shopper is in question).
        let most = seen.get(&taker).copied().unwrap_or(0);
        if most >= HAND_DWELL_TICKS {
            let info = &self.shelves[shelf];
            let takers = bodies.get(&taker).cloned().unwrap_or_default();
            seen.retain(|&k, n| {
                let ws = bodies.get(&k).map_or(&[][..], Vec::as_slice);
                k == taker
                    || *n * 2 > most
                    || ws.iter().any(|w| takers.contains(w))
                    || !one_contact && ws.iter().any(|w| self.stood_at(info, *w, from))
            });
        }
        let mut v: Vec<usize> = seen.into_keys().collect();
        v.sort_unstable();
        v
    }

    /// How far shopper `k`'s track moved from `from` to `to` (the ticks nearest each), when a
    /// track of theirs was seen at both.
    fn moved(&self, k: usize, from: f64, to: f64) -> Option<f64> {
        let at = |t: f64| {
            let (tick, tracks) = self.tick_nearest(t)?;
            tracks
                .iter()
                .find(|tr| tr.seen && self.owner_at(tr.id, *tick) == Some(k))
                .map(|tr| DVec2::new(tr.x, tr.y))
        };
        Some(at(from)?.distance(at(to)?))
    }

    /// How far along the shelf's face shopper `k`'s body stood from the hands seen in `shelf`
    /// at `level` within a second of `time`, on average over those sightings (along x before
    /// or behind the bay, along y at its ends); `None` when no hand was seen there or `k` was
    /// not seen then. A hand seen only through tracks of known shoppers none of whom is among
    /// `candidates` does not count: it was another shopper's, reaching in beside them.
    fn hand_lateral(
        &self,
        shelf: usize,
        level: usize,
        time: f64,
        k: usize,
        candidates: &[usize],
    ) -> Option<f64> {
        let info = &self.shelves[shelf];
        self.hands_at_level(shelf, level, time - 1.0, time + 1.0)
            .filter(|(t, _, _, whose)| {
                whose.is_empty()
                    || whose.iter().any(|w| {
                        self.owner_at(*w, *t)
                            .is_none_or(|o| candidates.contains(&o))
                    })
            })
            .filter_map(|(t, _, p, _)| {
                let (tick, tracks) = self.tick_nearest(*t)?;
                let tr = tracks
                    .iter()
                    .find(|tr| self.owner_at(tr.id, *tick) == Some(k))?;
                Some(along_face(info, DVec2::new(tr.x, tr.y), *p))
            })
            .fold(None, |acc: Option<(f64, u32)>, l| {
                let (s, n) = acc.unwrap_or((0.0, 0));
                Some((s + l, n + 1))
            })
            .map(|(s, n)| s / f64::from(n))
    }

    /// The shoppers whose hands were glimpsed in `shelf` at `level` within a second of `time`
    /// ([`reach::glimpses`]), each from where their body stood before the face the ray entered
    /// (not beyond the bay: a ray through the bay to a wrist on its far side).
    fn glimpsed(&self, shelf: usize, level: usize, time: f64) -> Vec<usize> {
        let info = &self.shelves[shelf];
        let mut v = Vec::new();
        for (t, _, p, whose) in self.glimpses.iter().filter(|(t, s, p, _)| {
            *s == shelf
                && (time - 1.0..=time + 1.0).contains(t)
                && info.level_at(p.z) == Some(level)
        }) {
            let Some((tick, tracks)) = self.tick_nearest(*t) else {
                continue;
            };
            for tr in tracks.iter().filter(|tr| whose.contains(&tr.id)) {
                if reach::before_face(info.min, info.max, DVec2::new(tr.x, tr.y), *p)
                    && let Some(k) = self.owner_at(tr.id, *tick)
                    && !v.contains(&k)
                {
                    v.push(k);
                }
            }
        }
        v
    }

    /// How far along the shelf's face shopper `k`'s body stood from where the wrists glimpsed
    /// in `shelf` at `level` within a second of `time` entered it, on average over the
    /// glimpses whose face `k` stood before; `None` when there were none.
    fn glimpse_lateral(&self, shelf: usize, level: usize, time: f64, k: usize) -> Option<f64> {
        let info = &self.shelves[shelf];
        let (mut sum, mut n) = (0.0, 0u32);
        for (t, _, p, _) in self.glimpses.iter().filter(|(t, s, p, _)| {
            *s == shelf
                && (time - 1.0..=time + 1.0).contains(t)
                && info.level_at(p.z) == Some(level)
        }) {
            let Some((tick, tracks)) = self.tick_nearest(*t) else {
                continue;
            };
            for tr in tracks
                .iter()
                .filter(|tr| self.owner_at(tr.id, *tick) == Some(k))
            {
                let b = DVec2::new(tr.x, tr.y);
                if reach::before_face(info.min, info.max, b, *p) {
                    sum += along_face(info, b, *p);
                    n += 1;
                }
            }
        }
        (n > 0).then(|| sum / f64::from(n))
    }

    /// The tick of the track history nearest `t`: its time and tracks.
    fn tick_nearest(&self, t: f64) -> Option<&(f64, Vec<TrackObs>)> {
        self.history
            .iter()
            .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
    }

    /// Whether shopper `k` stood still in the second before and the second after `time` (as
    /// far as a track of theirs was seen then).
    fn stood_still(&self, k: usize, time: f64) -> bool {
        let moved: Vec<f64> = [(time - STILL_WINDOW_S, time), (time, time + STILL_WINDOW_S)]
            .iter()
            .filter_map(|(a, b)| self.moved(k, *a, *b))
            .collect();
        !moved.is_empty() && moved.iter().all(|m| *m < STILL_M)
    }

    /// Shoppers not in `near` who stood still around a change from `since` to `until` and
    /// through whose own track a hand was seen in `shelf` at `level` then, right in front of
    /// their body (within an arm held forward, and no farther along the face than
    /// [`IN_FRONT_M`]): (shopper, nearest distance from their body to that hand).
    fn still_in_front_of_hand(
        &self,
        shelf: usize,
        level: usize,
        (since, until): (f64, f64),
        near: &[(usize, f64)],
    ) -> Vec<(usize, f64)> {
        let info = &self.shelves[shelf];
        let mut out: Vec<(usize, f64)> = Vec::new();
        for (t, _, p, whose) in self.hands_at_level(shelf, level, since - 0.5, until) {
            let Some((_, tracks)) = self.tick_nearest(*t) else {
                continue;
            };
            for tr in tracks.iter().filter(|tr| whose.contains(&tr.id)) {
                let Some(j) = self.owner_at(tr.id, *t) else {
                    continue;
                };
                let body = DVec2::new(tr.x, tr.y);
                let d = body.distance(p.truncate());
                if near.iter().any(|(k, _)| *k == j)
                    || d > FRONT_ARM_M
                    || along_face(info, body, *p) > IN_FRONT_M
                    || !self.stood_still(j, since)
                {
                    continue;
                }
                match out.iter_mut().find(|(k, _)| *k == j) {
                    Some(e) => e.1 = e.1.min(d),
                    None => out.push((j, d)),
                }
            }
        }
        out
    }

    /// Whether shopper `k` walked in the second before or the second after `time`, each end
    /// of those seconds read at the nearest tick (within [`ENDS_WITHIN_S`]) where one track of
    /// theirs, and only one, was seen (a track unseen for a tick is not standing still there).
    fn walked_by_ends(&self, k: usize, time: f64) -> bool {
        self.moved_by_ends(k, time)
            .iter()
            .any(|m| m.is_some_and(|m| m > WALKED_M))
    }

    /// Whether shopper `k` stood still (moved under [`STILL_M`]) in both the second before
    /// and the second after `time`, each end read as by [`Self::walked_by_ends`].
    fn still_by_ends(&self, k: usize, time: f64) -> bool {
        self.moved_by_ends(k, time)
            .iter()
            .all(|m| m.is_some_and(|m| m < STILL_M))
    }

    /// How far shopper `k` moved in the second before and in the second after `time`, each
    /// end of those seconds read at the nearest tick (within [`ENDS_WITHIN_S`]) where one track
    /// of theirs, and only one, was seen.
    fn moved_by_ends(&self, k: usize, time: f64) -> [Option<f64>; 2] {
        let at = |t: f64| {
            self.history
                .iter()
                .filter(|(u, _)| (u - t).abs() <= ENDS_WITHIN_S)
                .filter_map(|(u, tracks)| {
                    let mut mine = tracks
                        .iter()
                        .filter(|tr| tr.seen && self.owner_at(tr.id, *u) == Some(k));
                    let tr = mine.next()?;
                    mine.next()
                        .is_none()
                        .then(|| ((u - t).abs(), DVec2::new(tr.x, tr.y)))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|x| x.1)
        };
        [(time - STILL_WINDOW_S, time), (time, time + STILL_WINDOW_S)]
            .map(|(a, b)| at(a).zip(at(b)).map(|(p, q)| p.distance(q)))
    }

    /// Whether shopper `k` walked in the second before or the second after `time`.
    fn walked(&self, k: usize, time: f64) -> bool {
        [(time - STILL_WINDOW_S, time), (time, time + STILL_WINDOW_S)]
            .iter()
            .any(|(a, b)| self.moved(k, *a, *b).is_some_and(|m| m > WALKED_M))
    }

    /// Whether track `track` stood within reach of `shelf` in the second before `time` (seen
    /// there at five ticks or more, and nowhere else).
    fn stood_at(&self, shelf: &ShelfInfo, track: u64, time: f64) -> bool {
        let mut n = 0;
        for (_, tracks) in self
            .history
            .iter()
            .filter(|(t, _)| (time - 1.0..=time).contains(t))
        {
            for tr in tracks.iter().filter(|tr| tr.seen && tr.id == track) {
                if shelf
                    .reach_distance(DVec2::new(tr.x, tr.y))
                    .is_none_or(|d| d > self.cfg.reach_m)
                {
                    return false;
                }
                n += 1;
            }
        }
        n >= 5
    }

    fn unit_weight(&self, sku: &str) -> Option<f64> {
        self.shelves
            .iter()
            .flat_map(|s| s.levels.iter().flatten())
            .find(|(s, _)| s == sku)
            .map(|(_, w)| *w)
    }

    /// Ends the run: pending shelf changes are decided, shoppers still inside get their cart as
    /// it stands (not final).
    pub fn finish(&mut self) -> Vec<Output> {
        let mut out = self.decide_due(f64::INFINITY);
        out.extend(
            (0..self.shoppers.len())
                .filter(|&k| !self.shoppers[k].exited)
                .map(|k| self.cart(k, self.now, false)),
        );
        out
    }

    /// token -> (settled items, pending items), for every shopper seen.
    #[allow(clippy::type_complexity)]
    pub fn carts_by_token(
        &self,
    ) -> BTreeMap<String, (BTreeMap<String, u32>, BTreeMap<String, u32>)> {
        self.shoppers
            .iter()
            .map(|s| (s.token.clone(), (s.cart.clone(), s.pending.clone())))
            .collect()
    }

    /// track id -> token, for scoring identity.
    pub fn shopper_of_track(&self) -> HashMap<u64, String> {
        self.by_track
            .iter()
            .map(|(t, &k)| (*t, self.shoppers[k].token.clone()))
            .collect()
    }

    /// The shopper id (pseudonym) of a track, when bound.
    pub fn shopper_id(&self, track: u64) -> Option<&ShopperId> {
        self.by_track.get(&track).map(|&k| &self.shoppers[k].id)
    }

    /// The token of a shopper, when bound (for the replay's identity scoring).
    /// Who each track was said to be from when on (the payment token; `None`: nobody), in the
    /// order said since the last call. A `from` earlier than the tick that said it puts right
    /// what was said of that track before: a swap or a recovery found out after the fact.
    /// Empty unless built [`Interact::with_rebinds`].
    pub fn take_rebinds(&mut self) -> Vec<Rebind> {
        self.rebinds
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
            .into_iter()
            .map(|(track, from, k)| Rebind {
                track,
                from,
                token: k.map(|k| self.shoppers[k].token.clone()),
            })
            .collect()
    }

    pub fn token_of_track(&self, track: u64) -> Option<&str> {
        self.by_track
            .get(&track)
            .map(|&k| self.shoppers[k].token.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(id: u64, x: f64, y: f64) -> TrackObs {
        TrackObs {
            id,
            x,
            y,
            height_m: 1.7,
            seen: true,
            embedding: None,
        }
    }

    #[test]
    fn a_hand_fused_into_a_body_beyond_an_arm_is_the_body_nearest_it() {
        let hand = DVec2::ZERO;
        // Fused into a body 0.9 m off, another 0.5 m off: the other's.
        let tracks = [at(1, 0.9, 0.0), at(2, 0.0, -0.5), at(3, -1.0, -1.0)];
        assert_eq!(misfused_hand(hand, &[1], &tracks), Some(2));
        // A coasting track (a body hidden by the shelf) counts as much.
        let hidden = [
            at(1, 0.9, 0.0),
            TrackObs {
                seen: false,
                ..at(2, 0.0, -0.5)
            },
        ];
        assert_eq!(misfused_hand(hand, &[1], &hidden), Some(2));
        // Fused into body 1 at `fused`, body 2 at `other`.
        let pair = |fused: (f64, f64), other: (f64, f64)| {
            let tracks = [at(1, fused.0, fused.1), at(2, other.0, other.1)];
            misfused_hand(hand, &[1], &tracks)
        };
        // The body it was fused into stands within an arm of it: theirs.
        assert_eq!(pair((0.7, 0.0), (0.0, -0.4)), None);
        // Farther than a metre: no hand of that body's, nor of the other's by this rule.
        assert_eq!(pair((1.2, 0.0), (0.0, -0.4)), None);
        // The other is not clearly nearer (0.2 m), or beyond an arm.
        assert_eq!(pair((0.85, 0.0), (0.0, -0.65)), None);
        assert_eq!(pair((0.95, 0.0), (0.0, -0.68)), None);
        assert_eq!(pair((0.9, 0.0), (0.0, -0.5)), Some(2));
        // Two bodies about as near it: it says not which.
        let two = [at(1, 0.9, 0.0), at(2, 0.0, -0.5), at(3, -0.58, 0.0)];
        assert_eq!(misfused_hand(hand, &[1], &two), None);
        // Fused into two bodies (the nearest of those decides), or into one not in the tick.
        assert_eq!(misfused_hand(hand, &[1, 3], &tracks), None);
        assert_eq!(misfused_hand(hand, &[9], &tracks), None);
    }
}
