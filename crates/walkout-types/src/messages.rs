//! The messages of DESIGN.md section 4, one struct per zenoh key.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::SCHEMA_VERSION;

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// Pseudonymous shopper id (e.g. `"s-3f9c0a12"`). Never a payment token or a name.
pub type ShopperId = String;

/// `walkout/<store>/tracks`: every tracked person on the floor at one tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TracksMessage {
    /// Wire-format version ([`SCHEMA_VERSION`]).
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub store: String,
    /// Tick sequence number, increasing by one per processed tick.
    pub seq: u64,
    /// Capture time of the tick, seconds on the store clock.
    pub time: f64,
    pub tracks: Vec<Track>,
}

/// One person on the floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Track {
    /// Track id, unique within one run of the daemon, never reused.
    pub id: u64,
    /// The shopper this track is bound to, once the identity manager knows.
    pub shopper: Option<ShopperId>,
    /// Floor position, metres.
    pub x: f64,
    pub y: f64,
    /// Head height above the floor, metres.
    pub height: f64,
    /// Floor velocity, metres per second.
    pub vx: f64,
    pub vy: f64,
    pub state: TrackState,
    /// 0..1, how sure the tracker is that this is a real person.
    pub confidence: f64,
    /// Cameras that saw this person at this tick.
    pub cameras: Vec<String>,
}

/// Track lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackState {
    Tentative,
    Confirmed,
    /// Not seen at this tick; position predicted (coasting).
    Occluded,
    Ended,
}

/// `walkout/<store>/views/<camera>`: one camera's person detections at one frame (edge -> fusion,
/// inside the store only: it may carry appearance embeddings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewDetections {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub store: String,
    pub camera: String,
    /// Frame index in this camera's stream.
    pub frame: u64,
    /// Capture time, seconds on the store clock.
    pub time: f64,
    /// Where `time` came from.
    pub time_source: TimeSource,
    pub detections: Vec<Detection>,
}

/// How a frame's capture time was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The camera's NTP clock from RTCP sender reports.
    Ntp,
    /// Pipeline clock at arrival minus the configured latency.
    Arrival,
    /// Presentation timestamp of recorded footage from a common start.
    Pts,
    /// Frame index divided by a nominal rate (recorded detections).
    FrameIndex,
}

/// One person box in image pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    pub score: f64,
    /// L2-normalised appearance embedding, when an embedder ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    /// Wrist positions in image pixels, when the pose model ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrists: Vec<Keypoint>,
}

/// An image point with a confidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Keypoint {
    pub u: f64,
    pub v: f64,
    pub score: f64,
}

/// `walkout/<store>/events/<kind>`: something happened to a shopper, an item or a camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub store: String,
    /// Event id, unique within the store's event stream.
    pub id: u64,
    /// When it happened, seconds on the store clock.
    pub time: f64,
    #[serde(flatten)]
    pub kind: EventKind,
    /// Set when the evidence does not decide who did it: the candidates, for review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ambiguous: Option<Ambiguity>,
    /// This event corrects an earlier one (retroactive resolution of an ambiguity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<u64>,
}

/// What the event is; `kind` is also the last segment of its zenoh key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    Entered {
        shopper: ShopperId,
        track: u64,
        gate: String,
    },
    Exited {
        shopper: ShopperId,
        track: u64,
        gate: String,
    },
    Pick {
        shopper: Option<ShopperId>,
        shelf: String,
        level: u32,
        sku: String,
        quantity: u32,
        /// Settled load-cell change, kilograms (negative for a pick).
        weight_delta_kg: f64,
    },
    Return {
        shopper: Option<ShopperId>,
        shelf: String,
        level: u32,
        sku: String,
        quantity: u32,
        weight_delta_kg: f64,
    },
    IdentityLost {
        shopper: ShopperId,
        track: u64,
        x: f64,
        y: f64,
    },
    IdentityRecovered {
        shopper: ShopperId,
        track: u64,
        x: f64,
        y: f64,
    },
    /// A decision the evidence could not make (see `ambiguous` for the candidates).
    Ambiguous {
        subject: String,
    },
    CameraDown {
        camera: String,
        reason: String,
    },
    CameraUp {
        camera: String,
    },
}

impl EventKind {
    /// The key segment of this kind, e.g. `"pick"` for `walkout/<store>/events/pick`.
    pub fn key(&self) -> &'static str {
        match self {
            EventKind::Entered { .. } => "entered",
            EventKind::Exited { .. } => "exited",
            EventKind::Pick { .. } => "pick",
            EventKind::Return { .. } => "return",
            EventKind::IdentityLost { .. } => "identity_lost",
            EventKind::IdentityRecovered { .. } => "identity_recovered",
            EventKind::Ambiguous { .. } => "ambiguous",
            EventKind::CameraDown { .. } => "camera_down",
            EventKind::CameraUp { .. } => "camera_up",
        }
    }
}

/// The shoppers an ambiguous decision could belong to, with the evidence weight of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ambiguity {
    pub candidates: Vec<Candidate>,
    /// Human-readable summary of the evidence.
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub shopper: ShopperId,
    /// 0..1 relative likelihood.
    pub likelihood: f64,
}

/// `walkout/<store>/carts/<shopper>`: a shopper's virtual cart, published on every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cart {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub store: String,
    pub shopper: ShopperId,
    pub time: f64,
    /// SKU -> quantity.
    pub items: BTreeMap<String, u32>,
    /// Items whose attribution is still ambiguous (SKU -> quantity), kept out of `items`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, u32>,
    /// True for the final cart, published when the shopper exits.
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// `walkout/<store>/health`: published every second and on change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub store: String,
    pub time: f64,
    pub uptime_s: f64,
    pub cameras: Vec<CameraHealth>,
    pub stages: Vec<StageHealth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CameraHealth {
    pub camera: String,
    pub state: CameraState,
    pub fps: f64,
    pub frames: u64,
    pub drops: u64,
    pub reconnects: u64,
    /// Seconds since the last frame; `None` before the first.
    pub last_frame_age_s: Option<f64>,
    /// Why the camera is not streaming, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Camera supervisor states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CameraState {
    Connecting,
    Streaming,
    Stalled,
    BackingOff,
    /// A configuration error: not retried until the config changes.
    Failed,
    /// A file source read to its end (recording from a file).
    Finished,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageHealth {
    pub stage: String,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub queue_depth: u64,
    /// Age of the oldest queued item, milliseconds.
    pub queue_oldest_age_ms: f64,
    pub processed: u64,
    pub dropped: u64,
}

/// `walkout/<store>/gates/<gate>` (input): the gate authorised someone to enter (or saw them leave).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateMessage {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub store: String,
    pub gate: String,
    pub time: f64,
    /// Opaque payment/entry token; mapped to a pseudonymous shopper id inside walkout.
    pub token: String,
    pub direction: GateDirection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateDirection {
    Entry,
    Exit,
}

/// `walkout/<store>/shelves/<shelf>/weight` (input): one load-cell reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShelfWeight {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub store: String,
    pub shelf: String,
    pub level: u32,
    pub time: f64,
    pub weight_kg: f64,
}
