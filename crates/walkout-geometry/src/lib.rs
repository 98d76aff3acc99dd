//! Geometry of a walkout store: cameras, calibration import, projection, store config, coverage.
//!
//! Frames are named by what they map: `camera_from_world` takes a world point into the camera frame
//! (OpenCV's rvec/tvec), `world_from_camera` the other way. The world frame is the store floor:
//! x, y on the floor, z up, metres, floor at z = 0. Camera frames follow OpenCV: x right, y down,
//! z forward (optical axis). Pixel coordinates follow OpenCV too: (0, 0) is the centre of the
//! top-left pixel.

pub mod calib;
pub mod camera;
pub mod config;
pub mod coverage;
pub mod render;

pub use camera::{Camera, GeometryError, Intrinsics, LensModel, Pose};
pub use config::{BusSection, CameraConfig, ConfigError, Shelf, StoreConfig, Zone, ZoneKind};
pub use coverage::{CoverageMap, Grid, Occluders, Polygon, Wall};
