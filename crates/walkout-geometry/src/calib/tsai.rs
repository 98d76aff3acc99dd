//! Tsai camera calibration XML (as shipped with PETS 2009, produced by Reg Willson's Tsai
//! implementation): `<Geometry>` (sensor geometry), `<Intrinsic>` (focal length f in mm, radial
//! kappa1 in 1/mm^2, principal point cx, cy in pixels, scale sx) and `<Extrinsic>` (rotation angles
//! rx, ry, rz in radians, translation tx, ty, tz in file units; world -> camera).

use std::path::Path;

use glam::{DMat3, DVec3};

use super::CalibError;
use crate::camera::{Intrinsics, LensModel, Pose};

/// A Tsai calibration, as in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct TsaiCalibration {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Effective pixel pitch, mm per pixel (x: dx * ncx / nfx).
    pub dpx: f64,
    pub dpy: f64,
    pub focal: f64,
    pub kappa1: f64,
    pub cx: f64,
    pub cy: f64,
    pub sx: f64,
    pub rotation_xyz: [f64; 3],
    pub translation: [f64; 3],
}

impl TsaiCalibration {
    pub fn read(path: &Path) -> Result<TsaiCalibration, CalibError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalibError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<TsaiCalibration, CalibError> {
        let doc = roxmltree::Document::parse(text).map_err(|e| CalibError::Parse {
            path: path.to_path_buf(),
            message: format!("invalid XML: {e}"),
        })?;
        let root = doc.root_element();
        if root.tag_name().name() != "Camera" {
            return Err(CalibError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "expected a Tsai <Camera> root element, found <{}>",
                    root.tag_name().name()
                ),
            });
        }
        let attr = |element: &str, name: &str| -> Result<f64, CalibError> {
            let field = || CalibError::Field {
                path: path.to_path_buf(),
                key: format!("{element}@{name}"),
                message: "missing or not a finite number".into(),
            };
            let node = root
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == element)
                .ok_or_else(field)?;
            node.attribute(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(field)
        };
        let size = |name: &str| -> Result<u32, CalibError> {
            let v = attr("Geometry", name)?;
            if (1.0..=65536.0).contains(&v) && v.fract() == 0.0 {
                Ok(v as u32)
            } else {
                Err(CalibError::Field {
                    path: path.to_path_buf(),
                    key: format!("Geometry@{name}"),
                    message: format!("expected a positive pixel count, found {v}"),
                })
            }
        };
        let cal = TsaiCalibration {
            name: root.attribute("name").unwrap_or("").to_string(),
            width: size("width")?,
            height: size("height")?,
            dpx: attr("Geometry", "dpx")?,
            dpy: attr("Geometry", "dpy")?,
            focal: attr("Intrinsic", "focal")?,
            kappa1: attr("Intrinsic", "kappa1")?,
            cx: attr("Intrinsic", "cx")?,
            cy: attr("Intrinsic", "cy")?,
            sx: attr("Intrinsic", "sx")?,
            rotation_xyz: [
                attr("Extrinsic", "rx")?,
                attr("Extrinsic", "ry")?,
                attr("Extrinsic", "rz")?,
            ],
            translation: [
                attr("Extrinsic", "tx")?,
                attr("Extrinsic", "ty")?,
                attr("Extrinsic", "tz")?,
            ],
        };
        for (key, v) in [
            ("Geometry@dpx", cal.dpx),
            ("Geometry@dpy", cal.dpy),
            ("Intrinsic@focal", cal.focal),
            ("Intrinsic@sx", cal.sx),
        ] {
            if v <= 0.0 {
                return Err(CalibError::Field {
                    path: path.to_path_buf(),
                    key: key.into(),
                    message: format!("must be positive, found {v}"),
                });
            }
        }
        Ok(cal)
    }

    /// Intrinsics in walkout's terms: pixel focal lengths and Tsai's kappa in normalised units.
    pub fn intrinsics(&self) -> Intrinsics {
        Intrinsics {
            width: self.width,
            height: self.height,
            fx: self.focal * self.sx / self.dpx,
            fy: self.focal / self.dpy,
            cx: self.cx,
            cy: self.cy,
            lens: LensModel::Tsai {
                kappa: self.kappa1 * self.focal * self.focal,
            },
        }
    }

    /// `camera_from_world`, with the translation multiplied by `metres_per_unit`.
    /// Tsai's rotation is R = Rz(rz) Ry(ry) Rx(rx).
    pub fn camera_from_world(&self, metres_per_unit: f64) -> Pose {
        let [rx, ry, rz] = self.rotation_xyz;
        let rotation =
            DMat3::from_rotation_z(rz) * DMat3::from_rotation_y(ry) * DMat3::from_rotation_x(rx);
        let [tx, ty, tz] = self.translation;
        Pose {
            rotation,
            translation: DVec3::new(tx, ty, tz) * metres_per_unit,
        }
    }
}
