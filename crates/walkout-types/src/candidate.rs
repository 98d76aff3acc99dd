//! In-process types shared between stages (not wire messages): what fusion hands the tracker.

/// A person hypothesis on the floor at one tick, fused from one or more camera views.
#[derive(Debug, Clone, PartialEq)]
pub struct FloorCandidate {
    /// Floor position, metres.
    pub x: f64,
    pub y: f64,
    /// Position covariance, m^2: `[xx, xy, yy]`.
    pub cov: [f64; 3],
    /// Estimated head height above the floor, metres, when some view saw the head.
    pub height_m: Option<f64>,
    /// 0..1 evidence strength.
    pub score: f64,
    /// Number of camera views supporting it.
    pub views: u32,
    /// Number of cameras that can see this floor spot.
    pub visible: u32,
    /// Strong candidates may start tracks; weak ones only update existing tracks.
    pub strong: bool,
    /// Indices (in store config order) of the supporting cameras.
    pub cameras: Vec<u16>,
    /// The supporting detections: (camera index, index in that camera's detection list).
    pub detections: Vec<(u16, u32)>,
    /// Mean L2-normalised appearance embedding of the supporting views, when available.
    pub embedding: Option<Vec<f32>>,
}
