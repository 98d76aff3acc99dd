//! walkout-runtime wires the stages. Today: replay of recorded per-camera detections (or already
//! fused floor points) through fusion and tracking, writing tracks and the messages the daemon
//! would publish.

pub mod capture;
pub mod daemon;
pub mod demo;
pub mod mot;
pub mod replay;
pub mod store_replay;
