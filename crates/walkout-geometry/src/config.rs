//! Store config (TOML): the store, its floor, cameras with calibration, zones and shelves.
//!
//! The format is documented in `calibration/README.md`. Every error names the config file, the key
//! (e.g. `cameras[2].intrinsics.fx`) and what was expected. Paths inside the file may use
//! `${WALKOUT_SHARED}` (see [`walkout_types::setup`]) or any environment variable, and are relative
//! to the config file's directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use glam::{DMat3, DVec2, DVec3};

pub use crate::coverage::Wall;
use serde::Deserialize;

use crate::calib::CalibError;
use crate::calib::opencv::{FileStorage, Rotation};
use crate::calib::tsai::TsaiCalibration;
use crate::camera::{Camera, Intrinsics, LensModel, Pose};
use crate::coverage::Polygon;

/// Most cameras one store config may hold (coverage masks are 64-bit).
pub const MAX_CAMERAS: usize = 64;

/// A config error: always names the file, and the key where one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the store config")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("{path}: `{key}`")]
    Calibration {
        path: PathBuf,
        key: String,
        source: CalibError,
    },
}

// ------------------------------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: RawStore,
    #[serde(default)]
    cameras: Vec<RawCamera>,
    #[serde(default)]
    zones: Vec<RawZone>,
    #[serde(default)]
    shelves: Vec<RawShelf>,
    #[serde(default)]
    walls: Vec<RawWall>,
    #[serde(default)]
    bus: Option<BusSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWall {
    id: String,
    /// Floor points of the wall's ends, metres; walls are opaque from floor to ceiling.
    from: [f64; 2],
    to: [f64; 2],
}

/// `[bus]`: how the daemon joins zenoh (the command line's --mode/--listen/--connect override).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSection {
    /// `peer` (default) or `client`.
    pub mode: Option<String>,
    /// Endpoints to listen on, e.g. `["tcp/127.0.0.1:7447"]`.
    #[serde(default)]
    pub listen: Vec<String>,
    /// Endpoints to connect to.
    #[serde(default)]
    pub connect: Vec<String>,
    /// zenoh multicast scouting (default off).
    #[serde(default)]
    pub multicast_scouting: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    id: String,
    name: Option<String>,
    floor: Vec<[f64; 2]>,
    coverage_cell_m: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCamera {
    id: String,
    source: Option<String>,
    pipeline: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    calibration: Option<RawImport>,
    intrinsics: Option<RawIntrinsics>,
    pose: Option<RawPose>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum ImportFormat {
    Opencv,
    Tsai,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum LensKind {
    Pinhole,
    Fisheye,
    Tsai,
}

/// Length unit of an imported calibration file.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq)]
pub enum Units {
    #[serde(rename = "m")]
    Metres,
    #[serde(rename = "cm")]
    Centimetres,
    #[serde(rename = "mm")]
    Millimetres,
}

impl Units {
    pub fn metres_per_unit(self) -> f64 {
        match self {
            Units::Metres => 1.0,
            Units::Centimetres => 0.01,
            Units::Millimetres => 0.001,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImport {
    format: ImportFormat,
    /// One file with everything (Tsai, or OpenCV with intrinsics and extrinsics together).
    file: Option<String>,
    intrinsics: Option<String>,
    extrinsics: Option<String>,
    units: Units,
    /// OpenCV files only: lens model of the distortion coefficients (default pinhole).
    model: Option<LensKind>,
    /// OpenCV files only: the file's world frame is left-handed relative to OpenCV's camera frame
    /// (Unity exports such as MultiviewX: `cv2.projectPoints` matches the images, but the points
    /// it projects lie at negative camera z). `camera_from_world` is then the negated `[R | t]`,
    /// an orthogonal map with determinant -1; projections equal OpenCV's.
    #[serde(default)]
    mirrored: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntrinsics {
    model: LensKind,
    fx: f64,
    fy: f64,
    cx: f64,
    cy: f64,
    #[serde(default)]
    distortion: Vec<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPose {
    rvec: Option<[f64; 3]>,
    tvec: Option<[f64; 3]>,
    world_from_camera: Option<RawRigid>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRigid {
    /// Row-major 3x3.
    rotation: [[f64; 3]; 3],
    translation: [f64; 3],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    id: String,
    kind: ZoneKind,
    polygon: Vec<[f64; 2]>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShelf {
    id: String,
    min: [f64; 3],
    max: [f64; 3],
    #[serde(default)]
    levels: Vec<RawLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    height_m: f64,
    load_cell: Option<String>,
    #[serde(default)]
    facings: Vec<RawFacing>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacing {
    sku: String,
    unit_weight_kg: f64,
}

// ------------------------------------------------------------------------------------------------
// The validated config.

/// A validated store config.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub id: String,
    pub name: Option<String>,
    pub floor: Polygon,
    /// Cell size of the coverage map, metres.
    pub coverage_cell_m: f64,
    pub cameras: Vec<CameraConfig>,
    pub zones: Vec<Zone>,
    pub shelves: Vec<Shelf>,
    /// Opaque walls (floor to ceiling): cameras do not see through them.
    pub walls: Vec<Wall>,
    /// The `[bus]` section, when present.
    pub bus: Option<BusSection>,
}

/// One camera: where its video comes from and its calibrated geometry.
#[derive(Debug, Clone)]
pub struct CameraConfig {
    /// Video source: a URL (`rtsp://...`) or a file path (variables expanded, made absolute).
    pub source: Option<String>,
    pub pipeline: Option<String>,
    pub camera: Camera,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    Entrance,
    Exit,
    StaffOnly,
    BlindSpot,
}

#[derive(Debug, Clone)]
pub struct Zone {
    pub id: String,
    pub kind: ZoneKind,
    pub polygon: Polygon,
}

#[derive(Debug, Clone)]
pub struct Shelf {
    pub id: String,
    pub min: DVec3,
    pub max: DVec3,
    pub levels: Vec<ShelfLevel>,
}

#[derive(Debug, Clone)]
pub struct ShelfLevel {
    pub height_m: f64,
    pub load_cell: Option<String>,
    pub facings: Vec<Facing>,
}

#[derive(Debug, Clone)]
pub struct Facing {
    pub sku: String,
    pub unit_weight_kg: f64,
}

impl StoreConfig {
    /// Reads and validates a store config file.
    pub fn load(path: &Path) -> Result<StoreConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(path, &text)
    }

    /// Parses and validates config text; `path` names it in errors and anchors relative paths.
    pub fn from_toml(path: &Path, text: &str) -> Result<StoreConfig, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        Validator { path }.store(raw)
    }

    pub fn camera(&self, id: &str) -> Option<&CameraConfig> {
        self.cameras.iter().find(|c| c.camera.id == id)
    }

    pub fn cameras(&self) -> impl Iterator<Item = &Camera> {
        self.cameras.iter().map(|c| &c.camera)
    }

    /// What hides people from the cameras: the shelves' boxes and the walls.
    pub fn occluders(&self) -> crate::coverage::Occluders {
        crate::coverage::Occluders {
            boxes: self.shelves.iter().map(|s| (s.min, s.max)).collect(),
            walls: self.walls.clone(),
        }
    }
}

struct Validator<'a> {
    path: &'a Path,
}

impl Validator<'_> {
    fn invalid(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.into(),
            message: message.into(),
        }
    }

    fn finite(&self, key: &str, v: f64) -> Result<f64, ConfigError> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.invalid(key, format!("expected a finite number, found {v}")))
        }
    }

    fn positive(&self, key: &str, v: f64) -> Result<f64, ConfigError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(key, format!("expected a positive number, found {v}")))
        }
    }

    fn ident(&self, key: &str, id: &str) -> Result<String, ConfigError> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(id.to_string())
        } else {
            Err(self.invalid(
                key,
                format!("`{id}` is not a valid id (1-64 of A-Z a-z 0-9 - _)"),
            ))
        }
    }

    fn polygon(&self, key: &str, points: &[[f64; 2]]) -> Result<Polygon, ConfigError> {
        if points.len() < 3 {
            return Err(self.invalid(
                key,
                format!(
                    "expected at least 3 [x, y] vertices, found {}",
                    points.len()
                ),
            ));
        }
        for (i, p) in points.iter().enumerate() {
            for v in p {
                self.finite(&format!("{key}[{i}]"), *v)?;
            }
        }
        let polygon = Polygon::new(points.iter().map(|p| DVec2::new(p[0], p[1])).collect());
        let area = polygon.area();
        if area < 1e-6 {
            return Err(self.invalid(
                key,
                "the polygon has no area (collinear or repeated vertices)",
            ));
        }
        let (lo, hi) = polygon.bounds();
        if (hi - lo).max_element() > 10_000.0 {
            return Err(self.invalid(
                key,
                "the polygon spans more than 10 km: coordinates must be metres",
            ));
        }
        Ok(polygon)
    }

    /// Expands `${VAR}` and resolves relative paths against the config's directory.
    fn resolve_path(&self, key: &str, raw: &str) -> Result<PathBuf, ConfigError> {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(self.invalid(key, format!("unterminated `${{` in `{raw}`")));
            };
            let var = &after[..end];
            let value = if var == "WALKOUT_SHARED" {
                walkout_types::setup::shared_root()
                    .to_string_lossy()
                    .into_owned()
            } else {
                std::env::var(var).map_err(|_| {
                    self.invalid(
                        key,
                        format!("`{raw}` uses ${{{var}}}, which is not set in the environment"),
                    )
                })?
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        let p = PathBuf::from(out);
        Ok(if p.is_absolute() {
            p
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        })
    }

    fn store(&self, raw: RawConfig) -> Result<StoreConfig, ConfigError> {
        let id = self.ident("store.id", &raw.store.id)?;
        let floor = self.polygon("store.floor", &raw.store.floor)?;
        let coverage_cell_m = match raw.store.coverage_cell_m {
            Some(c) => self.positive("store.coverage_cell_m", c)?,
            None => 0.1,
        };
        let (lo, hi) = floor.bounds();
        let cells = ((hi - lo) / coverage_cell_m).ceil();
        if cells.x * cells.y > 20e6 {
            return Err(self.invalid(
                "store.coverage_cell_m",
                format!(
                    "{coverage_cell_m} m gives {:.0} cells over the floor; use a larger cell",
                    cells.x * cells.y
                ),
            ));
        }
        if raw.cameras.len() > MAX_CAMERAS {
            return Err(self.invalid(
                "cameras",
                format!("at most {MAX_CAMERAS} cameras per store config"),
            ));
        }
        let mut seen = HashSet::new();
        let mut cameras = Vec::with_capacity(raw.cameras.len());
        for (i, cam) in raw.cameras.into_iter().enumerate() {
            let key = format!("cameras[{i}]");
            let id = self.ident(&format!("{key}.id"), &cam.id)?;
            if !seen.insert(id.clone()) {
                return Err(self.invalid(
                    format!("{key}.id"),
                    format!("camera id `{id}` is used twice"),
                ));
            }
            cameras.push(self.camera(&key, id, cam)?);
        }
        let mut zone_ids = HashSet::new();
        let mut zones = Vec::new();
        for (i, z) in raw.zones.into_iter().enumerate() {
            let key = format!("zones[{i}]");
            let id = self.ident(&format!("{key}.id"), &z.id)?;
            if !zone_ids.insert(id.clone()) {
                return Err(
                    self.invalid(format!("{key}.id"), format!("zone id `{id}` is used twice"))
                );
            }
            zones.push(Zone {
                id,
                kind: z.kind,
                polygon: self.polygon(&format!("{key}.polygon"), &z.polygon)?,
            });
        }
        let mut shelf_ids = HashSet::new();
        let mut shelves = Vec::new();
        for (i, s) in raw.shelves.into_iter().enumerate() {
            let key = format!("shelves[{i}]");
            let id = self.ident(&format!("{key}.id"), &s.id)?;
            if !shelf_ids.insert(id.clone()) {
                return Err(self.invalid(
                    format!("{key}.id"),
                    format!("shelf id `{id}` is used twice"),
                ));
            }
            shelves.push(self.shelf(&key, id, s)?);
        }
        let mut walls = Vec::new();
        for (i, w) in raw.walls.into_iter().enumerate() {
            let key = format!("walls[{i}]");
            let id = self.ident(&format!("{key}.id"), &w.id)?;
            for (name, p) in [("from", w.from), ("to", w.to)] {
                for v in p {
                    self.finite(&format!("{key}.{name}"), v)?;
                }
            }
            let (from, to) = (DVec2::from(w.from), DVec2::from(w.to));
            if from.distance(to) < 1e-6 {
                return Err(self.invalid(format!("{key}.to"), "a wall needs two distinct ends"));
            }
            walls.push(Wall { id, from, to });
        }
        Ok(StoreConfig {
            path: self.path.to_path_buf(),
            id,
            name: raw.store.name,
            floor,
            coverage_cell_m,
            cameras,
            zones,
            shelves,
            walls,
            bus: raw.bus,
        })
    }

    fn shelf(&self, key: &str, id: String, s: RawShelf) -> Result<Shelf, ConfigError> {
        for (name, v) in [("min", s.min), ("max", s.max)] {
            for x in v {
                self.finite(&format!("{key}.{name}"), x)?;
            }
        }
        let (min, max) = (DVec3::from(s.min), DVec3::from(s.max));
        if !(min.cmplt(max).all()) {
            return Err(self.invalid(
                format!("{key}.max"),
                "every coordinate of `max` must exceed `min`",
            ));
        }
        let mut levels = Vec::new();
        for (j, l) in s.levels.into_iter().enumerate() {
            let lkey = format!("{key}.levels[{j}]");
            let height_m = self.finite(&format!("{lkey}.height_m"), l.height_m)?;
            if height_m < min.z || height_m > max.z {
                return Err(self.invalid(
                    format!("{lkey}.height_m"),
                    format!(
                        "{height_m} m is outside the shelf's height range {}..{} m",
                        min.z, max.z
                    ),
                ));
            }
            let mut facings = Vec::new();
            for (k, f) in l.facings.into_iter().enumerate() {
                let fkey = format!("{lkey}.facings[{k}]");
                if f.sku.trim().is_empty() {
                    return Err(self.invalid(format!("{fkey}.sku"), "expected a non-empty SKU id"));
                }
                let unit_weight_kg =
                    self.positive(&format!("{fkey}.unit_weight_kg"), f.unit_weight_kg)?;
                facings.push(Facing {
                    sku: f.sku,
                    unit_weight_kg,
                });
            }
            levels.push(ShelfLevel {
                height_m,
                load_cell: l.load_cell,
                facings,
            });
        }
        Ok(Shelf {
            id,
            min,
            max,
            levels,
        })
    }

    fn camera(&self, key: &str, id: String, cam: RawCamera) -> Result<CameraConfig, ConfigError> {
        let (intrinsics, pose) = match (&cam.calibration, &cam.intrinsics, &cam.pose) {
            (Some(import), None, None) => self.import(key, &cam, import)?,
            (None, Some(intr), Some(pose)) => {
                let intrinsics = self.inline_intrinsics(key, &cam, intr)?;
                (intrinsics, self.inline_pose(&format!("{key}.pose"), pose)?)
            }
            (None, Some(_), None) => {
                return Err(self.invalid(
                    format!("{key}.pose"),
                    "missing (inline intrinsics need a pose)",
                ));
            }
            (None, None, Some(_)) => {
                return Err(self.invalid(
                    format!("{key}.intrinsics"),
                    "missing (an inline pose needs intrinsics)",
                ));
            }
            (None, None, None) => {
                return Err(self.invalid(
                    key,
                    "no calibration: give `calibration` (import from a file) or `intrinsics` + `pose`",
                ));
            }
            (Some(_), _, _) => {
                return Err(self.invalid(
                    format!("{key}.calibration"),
                    "give either `calibration` (import) or inline `intrinsics` + `pose`, not both",
                ));
            }
        };
        let camera = Camera::new(id, intrinsics, pose);
        let centre = camera.centre();
        if !(0.2..=60.0).contains(&centre.z) {
            return Err(self.invalid(
                key,
                format!(
                    "camera `{}` is {:.2} m above the floor, which is implausible for a store camera \
                     (expected 0.2..60 m): check the calibration's `units` (file units to metres) \
                     and that the pose maps world to camera",
                    camera.id, centre.z
                ),
            ));
        }
        let source = match cam.source {
            Some(src) if src.contains("://") => Some(src),
            Some(src) => Some(
                self.resolve_path(&format!("{key}.source"), &src)?
                    .to_string_lossy()
                    .into_owned(),
            ),
            None => None,
        };
        Ok(CameraConfig {
            source,
            pipeline: cam.pipeline,
            camera,
        })
    }

    fn size(&self, key: &str, cam: &RawCamera) -> Result<(u32, u32), ConfigError> {
        let w = cam.width.ok_or_else(|| {
            self.invalid(format!("{key}.width"), "missing (image width in pixels)")
        })?;
        let h = cam.height.ok_or_else(|| {
            self.invalid(format!("{key}.height"), "missing (image height in pixels)")
        })?;
        if w == 0 || h == 0 || w > 16384 || h > 16384 {
            return Err(self.invalid(
                format!("{key}.width"),
                format!("image size {w}x{h} is not 1..16384 pixels"),
            ));
        }
        Ok((w, h))
    }

    fn lens(&self, key: &str, kind: LensKind, d: &[f64]) -> Result<LensModel, ConfigError> {
        for (i, v) in d.iter().enumerate() {
            self.finite(&format!("{key}[{i}]"), *v)?;
        }
        match kind {
            LensKind::Pinhole => match *d {
                [] => Ok(LensModel::NONE),
                [k1, k2, p1, p2] => Ok(LensModel::Pinhole { k1, k2, p1, p2, k3: 0.0 }),
                [k1, k2, p1, p2, k3] => Ok(LensModel::Pinhole { k1, k2, p1, p2, k3 }),
                // OpenCV writes 8/12/14 coefficients; accept them only when the extras are zero.
                [k1, k2, p1, p2, k3, ref extra @ ..] if extra.iter().all(|v| *v == 0.0) => {
                    Ok(LensModel::Pinhole { k1, k2, p1, p2, k3 })
                }
                _ => Err(self.invalid(
                    key,
                    format!(
                        "pinhole distortion needs 0, 4 or 5 coefficients [k1, k2, p1, p2, k3], found {}",
                        d.len()
                    ),
                )),
            },
            LensKind::Fisheye => match *d {
                [k1, k2, k3, k4] => Ok(LensModel::Fisheye { k1, k2, k3, k4 }),
                _ => Err(self.invalid(
                    key,
                    format!("fisheye distortion needs 4 coefficients [k1, k2, k3, k4], found {}", d.len()),
                )),
            },
            LensKind::Tsai => match *d {
                [kappa] => Ok(LensModel::Tsai { kappa }),
                _ => Err(self.invalid(key, format!("tsai distortion needs 1 coefficient [kappa], found {}", d.len()))),
            },
        }
    }

    fn intrinsics(
        &self,
        key: &str,
        size: (u32, u32),
        k: [f64; 4],
        lens: LensModel,
    ) -> Result<Intrinsics, ConfigError> {
        let fx = self.positive(&format!("{key}.fx"), k[0])?;
        let fy = self.positive(&format!("{key}.fy"), k[1])?;
        let cx = self.finite(&format!("{key}.cx"), k[2])?;
        let cy = self.finite(&format!("{key}.cy"), k[3])?;
        Ok(Intrinsics {
            width: size.0,
            height: size.1,
            fx,
            fy,
            cx,
            cy,
            lens,
        })
    }

    fn inline_intrinsics(
        &self,
        key: &str,
        cam: &RawCamera,
        intr: &RawIntrinsics,
    ) -> Result<Intrinsics, ConfigError> {
        let size = self.size(key, cam)?;
        let ikey = format!("{key}.intrinsics");
        let lens = self.lens(&format!("{ikey}.distortion"), intr.model, &intr.distortion)?;
        self.intrinsics(&ikey, size, [intr.fx, intr.fy, intr.cx, intr.cy], lens)
    }

    fn rotation_matrix(&self, key: &str, rows: [[f64; 3]; 3]) -> Result<DMat3, ConfigError> {
        for row in rows {
            for v in row {
                self.finite(key, v)?;
            }
        }
        // Rows as written -> glam's column-major matrix.
        let m = DMat3::from_cols_array_2d(&rows).transpose();
        let (err, det) = Pose::orthonormality_error(&m);
        if err > 1e-6 || (det - 1.0).abs() > 1e-6 {
            return Err(self.invalid(
                key,
                format!(
                    "not a rotation matrix (|R^T R - I| = {err:.2e}, det = {det:.6}; expected an \
                     orthonormal matrix with determinant +1)"
                ),
            ));
        }
        Ok(m)
    }

    fn inline_pose(&self, key: &str, pose: &RawPose) -> Result<Pose, ConfigError> {
        match (pose.rvec, pose.tvec, &pose.world_from_camera) {
            (Some(rvec), Some(tvec), None) => {
                for v in rvec {
                    self.finite(&format!("{key}.rvec"), v)?;
                }
                for v in tvec {
                    self.finite(&format!("{key}.tvec"), v)?;
                }
                Ok(Pose::from_rvec_tvec(DVec3::from(rvec), DVec3::from(tvec)))
            }
            (None, None, Some(rigid)) => {
                let rotation = self.rotation_matrix(&format!("{key}.world_from_camera.rotation"), rigid.rotation)?;
                for v in rigid.translation {
                    self.finite(&format!("{key}.world_from_camera.translation"), v)?;
                }
                Ok(Pose { rotation, translation: DVec3::from(rigid.translation) }.inverse())
            }
            (Some(_), None, None) => Err(self.invalid(format!("{key}.tvec"), "missing (rvec needs tvec)")),
            (None, Some(_), None) => Err(self.invalid(format!("{key}.rvec"), "missing (tvec needs rvec)")),
            _ => Err(self.invalid(
                key,
                "give either `rvec` + `tvec` (OpenCV camera_from_world, metres) or `world_from_camera`",
            )),
        }
    }

    fn import(
        &self,
        key: &str,
        cam: &RawCamera,
        import: &RawImport,
    ) -> Result<(Intrinsics, Pose), ConfigError> {
        let ckey = format!("{key}.calibration");
        let scale = import.units.metres_per_unit();
        let calib_err = |field: &str, source: CalibError| ConfigError::Calibration {
            path: self.path.to_path_buf(),
            key: format!("{ckey}.{field}"),
            source,
        };
        match import.format {
            ImportFormat::Tsai => {
                if import.intrinsics.is_some()
                    || import.extrinsics.is_some()
                    || import.model.is_some()
                    || import.mirrored
                {
                    return Err(self.invalid(&ckey, "a Tsai import takes `file` and `units` only"));
                }
                let raw = import.file.as_deref().ok_or_else(|| {
                    self.invalid(format!("{ckey}.file"), "missing (the Tsai calibration XML)")
                })?;
                let file = self.resolve_path(&format!("{ckey}.file"), raw)?;
                let tsai = TsaiCalibration::read(&file).map_err(|e| calib_err("file", e))?;
                let intrinsics = tsai.intrinsics();
                if let (Some(w), Some(h)) = (cam.width, cam.height)
                    && (w, h) != (intrinsics.width, intrinsics.height)
                {
                    return Err(self.invalid(
                        format!("{key}.width"),
                        format!(
                            "{w}x{h} differs from the calibration's image size {}x{}",
                            intrinsics.width, intrinsics.height
                        ),
                    ));
                }
                Ok((intrinsics, tsai.camera_from_world(scale)))
            }
            ImportFormat::Opencv => {
                let (ipath, epath) = match (&import.file, &import.intrinsics, &import.extrinsics) {
                    (Some(f), None, None) => (f.as_str(), f.as_str()),
                    (None, Some(i), Some(e)) => (i.as_str(), e.as_str()),
                    _ => {
                        return Err(self.invalid(
                            &ckey,
                            "an OpenCV import takes `file` (one file) or `intrinsics` + `extrinsics`",
                        ));
                    }
                };
                let ifield = if import.file.is_some() {
                    "file"
                } else {
                    "intrinsics"
                };
                let efield = if import.file.is_some() {
                    "file"
                } else {
                    "extrinsics"
                };
                let ifile = self.resolve_path(&format!("{ckey}.{ifield}"), ipath)?;
                let efile = self.resolve_path(&format!("{ckey}.{efield}"), epath)?;
                let ifs = FileStorage::read(&ifile).map_err(|e| calib_err(ifield, e))?;
                let efs = if efile == ifile {
                    ifs.clone()
                } else {
                    FileStorage::read(&efile).map_err(|e| calib_err(efield, e))?
                };
                let k = ifs.camera_matrix().map_err(|e| calib_err(ifield, e))?;
                let dist = ifs.distortion().map_err(|e| calib_err(ifield, e))?;
                let kind = import.model.unwrap_or(LensKind::Pinhole);
                if kind == LensKind::Tsai {
                    return Err(self.invalid(
                        format!("{ckey}.model"),
                        "OpenCV files hold `pinhole` or `fisheye` models",
                    ));
                }
                let lens = self.lens(
                    &format!("{ckey}.{ifield} (distortion_coefficients)"),
                    kind,
                    &dist,
                )?;
                let size = self.size(key, cam)?;
                let intrinsics =
                    self.intrinsics(&format!("{ckey}.{ifield} (camera_matrix)"), size, k, lens)?;
                let (rotation, t) = efs.extrinsics().map_err(|e| calib_err(efield, e))?;
                let tvec = DVec3::from(t) * scale;
                let pose = match rotation {
                    Rotation::Rvec(r) => Pose::from_rvec_tvec(DVec3::from(r), tvec),
                    Rotation::Matrix(m) => Pose {
                        rotation: self.rotation_matrix(&format!("{ckey}.{efield} (R)"), m)?,
                        translation: tvec,
                    },
                };
                let pose = if import.mirrored {
                    Pose {
                        rotation: -pose.rotation,
                        translation: -pose.translation,
                    }
                } else {
                    pose
                };
                Ok((intrinsics, pose))
            }
        }
    }
}
