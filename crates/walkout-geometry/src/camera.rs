//! Camera models: OpenCV pinhole with 5-coefficient radial/tangential distortion, OpenCV fisheye
//! (Kannala-Brandt), and Tsai's radial model (PETS 2009 calibrations); projection, back-projection
//! to horizontal planes and ground-plane covariance of back-projected points.

use glam::{DMat2, DMat3, DVec2, DVec3};

/// Errors of projection and back-projection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    #[error("pixel ({u:.2}, {v:.2}) cannot be undistorted: {reason}")]
    Undistort {
        u: f64,
        v: f64,
        reason: &'static str,
    },
    #[error(
        "the ray through pixel ({u:.2}, {v:.2}) does not reach the plane z = {height_m} m in front of the camera"
    )]
    RayMissesPlane { u: f64, v: f64, height_m: f64 },
    #[error("the point is behind camera or outside its valid field of view")]
    NotVisible,
    #[error("degenerate projection Jacobian at pixel ({u:.2}, {v:.2})")]
    Degenerate { u: f64, v: f64 },
}

/// The lens distortion model, acting on normalised image coordinates (x/z, y/z).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LensModel {
    /// OpenCV's default model: radial k1, k2, k3 and tangential p1, p2
    /// (`cv2.projectPoints` with 5 coefficients `[k1, k2, p1, p2, k3]`).
    Pinhole {
        k1: f64,
        k2: f64,
        p1: f64,
        p2: f64,
        k3: f64,
    },
    /// OpenCV's `cv2.fisheye` model (Kannala-Brandt):
    /// `theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)`.
    Fisheye { k1: f64, k2: f64, k3: f64, k4: f64 },
    /// Tsai's radial model: the *undistorted* point is `d (1 + kappa |d|^2)` for the distorted
    /// point `d`, both normalised (Tsai's kappa1 in 1/mm^2 times the focal length squared).
    Tsai { kappa: f64 },
}

impl LensModel {
    pub const NONE: LensModel = LensModel::Pinhole {
        k1: 0.0,
        k2: 0.0,
        p1: 0.0,
        p2: 0.0,
        k3: 0.0,
    };

    /// Short name as used in config files.
    pub fn name(&self) -> &'static str {
        match self {
            LensModel::Pinhole { .. } => "pinhole",
            LensModel::Fisheye { .. } => "fisheye",
            LensModel::Tsai { .. } => "tsai",
        }
    }

    /// Coefficients in config-file order.
    pub fn coefficients(&self) -> Vec<f64> {
        match *self {
            LensModel::Pinhole { k1, k2, p1, p2, k3 } => vec![k1, k2, p1, p2, k3],
            LensModel::Fisheye { k1, k2, k3, k4 } => vec![k1, k2, k3, k4],
            LensModel::Tsai { kappa } => vec![kappa],
        }
    }

    /// Undistorted normalised point -> distorted normalised point, with the Jacobian
    /// d(distorted) / d(undistorted).
    pub fn distort(&self, n: DVec2) -> (DVec2, DMat2) {
        match *self {
            LensModel::Pinhole { k1, k2, p1, p2, k3 } => {
                let (x, y) = (n.x, n.y);
                let r2 = x * x + y * y;
                let radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3));
                // d(radial)/d(r2)
                let dr = k1 + r2 * (2.0 * k2 + 3.0 * k3 * r2);
                let xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x);
                let yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y;
                let dxdx = radial + 2.0 * x * x * dr + 2.0 * p1 * y + 6.0 * p2 * x;
                let dxdy = 2.0 * x * y * dr + 2.0 * p1 * x + 2.0 * p2 * y;
                let dydx = 2.0 * x * y * dr + 2.0 * p1 * x + 2.0 * p2 * y;
                let dydy = radial + 2.0 * y * y * dr + 6.0 * p1 * y + 2.0 * p2 * x;
                // glam matrices are column-major: columns are d/dx and d/dy.
                (
                    DVec2::new(xd, yd),
                    DMat2::from_cols(DVec2::new(dxdx, dydx), DVec2::new(dxdy, dydy)),
                )
            }
            LensModel::Fisheye { k1, k2, k3, k4 } => {
                let r = n.length();
                if r < 1e-8 {
                    return (n, DMat2::IDENTITY);
                }
                let theta = r.atan();
                let t2 = theta * theta;
                let poly = 1.0 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)));
                let theta_d = theta * poly;
                let dtheta_d =
                    1.0 + t2 * (3.0 * k1 + t2 * (5.0 * k2 + t2 * (7.0 * k3 + t2 * 9.0 * k4)));
                let scale = theta_d / r;
                // d(scale)/dr = (theta_d'(theta) theta'(r) r - theta_d) / r^2
                let dscale = (dtheta_d / (1.0 + r * r) * r - theta_d) / (r * r);
                let outer = DMat2::from_cols(n * (n.x / r), n * (n.y / r)) * dscale;
                (n * scale, DMat2::IDENTITY * scale + outer)
            }
            LensModel::Tsai { kappa } => {
                // Solve |n| = rd (1 + kappa rd^2) for rd by Newton's method.
                let rn = n.length();
                if rn < 1e-12 {
                    return (n, DMat2::IDENTITY);
                }
                let mut rd = rn;
                for _ in 0..50 {
                    let f = rd * (1.0 + kappa * rd * rd) - rn;
                    let df = 1.0 + 3.0 * kappa * rd * rd;
                    if df.abs() < 1e-12 {
                        break;
                    }
                    let step = f / df;
                    rd -= step;
                    if step.abs() < 1e-16 {
                        break;
                    }
                }
                let d = n * (rd / rn);
                // Jacobian of the inverse map (undistort) is (1 + k r^2) I + 2 k d d^T.
                let jinv = DMat2::IDENTITY * (1.0 + kappa * rd * rd)
                    + DMat2::from_cols(d * (2.0 * kappa * d.x), d * (2.0 * kappa * d.y));
                (d, jinv.inverse())
            }
        }
    }

    /// Distorted normalised point -> undistorted normalised point.
    pub fn undistort(&self, d: DVec2) -> Option<DVec2> {
        match *self {
            LensModel::Tsai { kappa } => Some(d * (1.0 + kappa * d.length_squared())),
            LensModel::Pinhole { .. } | LensModel::Fisheye { .. } => {
                // Newton's method on distort(n) = d, starting from n = d.
                let mut n = d;
                for _ in 0..100 {
                    let (f, j) = self.distort(n);
                    let det = j.determinant();
                    if !det.is_finite() || det.abs() < 1e-12 {
                        return None;
                    }
                    let step = j.inverse() * (f - d);
                    // Damp very large steps (far outside the calibrated region).
                    let len = step.length();
                    let step = if len > 0.5 { step * (0.5 / len) } else { step };
                    n -= step;
                    if len < 1e-15 * (1.0 + n.length()) {
                        break;
                    }
                }
                let (f, _) = self.distort(n);
                ((f - d).length() < 1e-9 * (1.0 + d.length())).then_some(n)
            }
        }
    }

    /// The largest normalised radius up to which the radial mapping is monotonic (points beyond it
    /// fold back into the image and must not be projected). Capped at 20 (about 87 degrees).
    pub fn max_valid_radius(&self) -> f64 {
        const CAP: f64 = 20.0;
        let radial = |r: f64| self.distort(DVec2::new(r, 0.0)).0.x;
        let steps = 4000;
        let mut prev = 0.0;
        for i in 1..=steps {
            let r = CAP * f64::from(i) / f64::from(steps);
            let v = radial(r);
            if !v.is_finite() || v <= prev {
                return CAP * f64::from(i - 1) / f64::from(steps);
            }
            prev = v;
        }
        CAP
    }
}

/// Image size, focal lengths and principal point (pixels), and the lens model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intrinsics {
    pub width: u32,
    pub height: u32,
    pub fx: f64,
    pub fy: f64,
    pub cx: f64,
    pub cy: f64,
    pub lens: LensModel,
}

impl Intrinsics {
    /// Pixel -> distorted normalised coordinates.
    pub fn pixel_to_distorted(&self, px: DVec2) -> DVec2 {
        DVec2::new((px.x - self.cx) / self.fx, (px.y - self.cy) / self.fy)
    }

    /// Distorted normalised coordinates -> pixel.
    pub fn distorted_to_pixel(&self, d: DVec2) -> DVec2 {
        DVec2::new(self.fx * d.x + self.cx, self.fy * d.y + self.cy)
    }

    /// Whether a pixel lies on the image (pixel centres from 0 to size - 1, plus half a pixel).
    pub fn contains(&self, px: DVec2) -> bool {
        px.x >= -0.5
            && px.y >= -0.5
            && px.x < f64::from(self.width) - 0.5
            && px.y < f64::from(self.height) - 0.5
    }
}

/// A rigid transform `b_from_a`: `p_b = rotation * p_a + translation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub rotation: DMat3,
    pub translation: DVec3,
}

impl Pose {
    pub const IDENTITY: Pose = Pose {
        rotation: DMat3::IDENTITY,
        translation: DVec3::ZERO,
    };

    /// From an OpenCV Rodrigues rotation vector and translation (`camera_from_world` in OpenCV).
    pub fn from_rvec_tvec(rvec: DVec3, tvec: DVec3) -> Pose {
        let angle = rvec.length();
        let rotation = if angle < 1e-15 {
            DMat3::IDENTITY
        } else {
            DMat3::from_axis_angle(rvec / angle, angle)
        };
        Pose {
            rotation,
            translation: tvec,
        }
    }

    /// The Rodrigues vector of the rotation.
    pub fn rvec(&self) -> DVec3 {
        let q = glam::DQuat::from_mat3(&self.rotation).normalize();
        let (axis, angle) = q.to_axis_angle();
        axis * angle
    }

    pub fn transform_point(&self, p: DVec3) -> DVec3 {
        self.rotation * p + self.translation
    }

    pub fn transform_vector(&self, v: DVec3) -> DVec3 {
        self.rotation * v
    }

    /// `a_from_b` for this `b_from_a`.
    pub fn inverse(&self) -> Pose {
        let rt = self.rotation.transpose();
        Pose {
            rotation: rt,
            translation: -(rt * self.translation),
        }
    }

    /// Largest deviation of `R^T R` from the identity, and the determinant; a rotation has 0 and 1.
    pub fn orthonormality_error(rotation: &DMat3) -> (f64, f64) {
        let m = rotation.transpose() * *rotation - DMat3::IDENTITY;
        let err = [m.x_axis, m.y_axis, m.z_axis]
            .iter()
            .map(|c| c.abs().max_element())
            .fold(0.0, f64::max);
        (err, rotation.determinant())
    }
}

/// A calibrated camera in the store's world frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Camera {
    pub id: String,
    pub intrinsics: Intrinsics,
    pub camera_from_world: Pose,
    pub world_from_camera: Pose,
    /// Normalised radius beyond which projection is refused (see [`LensModel::max_valid_radius`]).
    pub max_radius: f64,
}

impl Camera {
    pub fn new(id: impl Into<String>, intrinsics: Intrinsics, camera_from_world: Pose) -> Camera {
        Camera {
            id: id.into(),
            max_radius: intrinsics.lens.max_valid_radius(),
            intrinsics,
            world_from_camera: camera_from_world.inverse(),
            camera_from_world,
        }
    }

    /// Camera centre in the world frame.
    pub fn centre(&self) -> DVec3 {
        self.world_from_camera.translation
    }

    /// Optical axis (unit vector) in the world frame.
    pub fn forward(&self) -> DVec3 {
        self.world_from_camera.transform_vector(DVec3::Z)
    }

    /// Projects a world point to a pixel exactly as OpenCV does (no visibility checks; the point
    /// must be in front of the camera for the result to mean anything).
    pub fn project_unchecked(&self, p_world: DVec3) -> DVec2 {
        let p = self.camera_from_world.transform_point(p_world);
        let n = DVec2::new(p.x / p.z, p.y / p.z);
        self.intrinsics
            .distorted_to_pixel(self.intrinsics.lens.distort(n).0)
    }

    /// Projects a world point to a pixel; `None` when it is behind the camera or beyond the
    /// lens model's valid radius. The pixel may still lie outside the image.
    pub fn project(&self, p_world: DVec3) -> Option<DVec2> {
        let p = self.camera_from_world.transform_point(p_world);
        if p.z <= 1e-9 {
            return None;
        }
        let n = DVec2::new(p.x / p.z, p.y / p.z);
        if n.length() > self.max_radius {
            return None;
        }
        Some(
            self.intrinsics
                .distorted_to_pixel(self.intrinsics.lens.distort(n).0),
        )
    }

    /// Whether a world point is in front of the camera and projects onto the image.
    pub fn sees(&self, p_world: DVec3) -> bool {
        self.project(p_world)
            .is_some_and(|px| self.intrinsics.contains(px))
    }

    /// The viewing ray of a pixel: unit direction in the world frame (from the camera centre).
    pub fn ray(&self, px: DVec2) -> Result<DVec3, GeometryError> {
        let d = self.intrinsics.pixel_to_distorted(px);
        let n = self
            .intrinsics
            .lens
            .undistort(d)
            .ok_or(GeometryError::Undistort {
                u: px.x,
                v: px.y,
                reason: "the lens model does not converge there",
            })?;
        Ok(self
            .world_from_camera
            .transform_vector(DVec3::new(n.x, n.y, 1.0))
            .normalize())
    }

    /// Back-projects a pixel onto the horizontal plane z = `height_m` (0 for the floor).
    pub fn back_project(&self, px: DVec2, height_m: f64) -> Result<DVec3, GeometryError> {
        let dir = self.ray(px)?;
        let origin = self.centre();
        let miss = GeometryError::RayMissesPlane {
            u: px.x,
            v: px.y,
            height_m,
        };
        if dir.z.abs() < 1e-12 {
            return Err(miss);
        }
        let t = (height_m - origin.z) / dir.z;
        if !(t > 0.0 && t.is_finite()) {
            return Err(miss);
        }
        let mut p = origin + dir * t;
        p.z = height_m;
        Ok(p)
    }

    /// Jacobian d(pixel) / d(x, y) of the projection of the point (x, y, z) with z held fixed.
    pub fn projection_jacobian_xy(&self, p_world: DVec3) -> Option<DMat2> {
        let p = self.camera_from_world.transform_point(p_world);
        if p.z <= 1e-9 {
            return None;
        }
        let n = DVec2::new(p.x / p.z, p.y / p.z);
        let (_, jd) = self.intrinsics.lens.distort(n);
        let r = self.camera_from_world.rotation;
        // d p_cam / d(x, y) = first two columns of R; d n / d p_cam for n = (x/z, y/z).
        let dn = |c: DVec3| DVec2::new((c.x - n.x * c.z) / p.z, (c.y - n.y * c.z) / p.z);
        let jn = DMat2::from_cols(dn(r.x_axis), dn(r.y_axis));
        let k = DMat2::from_diagonal(DVec2::new(self.intrinsics.fx, self.intrinsics.fy));
        Some(k * jd * jn)
    }

    /// The pixel of a world point and the Jacobian d(pixel) / d(x, y, z) as its three columns;
    /// `None` behind the camera.
    pub fn project_with_jacobian(&self, p_world: DVec3) -> Option<(DVec2, [DVec2; 3])> {
        let p = self.camera_from_world.transform_point(p_world);
        if p.z <= 1e-9 {
            return None;
        }
        let n = DVec2::new(p.x / p.z, p.y / p.z);
        let (d, jd) = self.intrinsics.lens.distort(n);
        let r = self.camera_from_world.rotation;
        let k = DMat2::from_diagonal(DVec2::new(self.intrinsics.fx, self.intrinsics.fy));
        let kd = k * jd;
        let dn = |c: DVec3| kd * DVec2::new((c.x - n.x * c.z) / p.z, (c.y - n.y * c.z) / p.z);
        Some((
            self.intrinsics.distorted_to_pixel(d),
            [dn(r.x_axis), dn(r.y_axis), dn(r.z_axis)],
        ))
    }

    /// Back-projects a pixel onto the plane z = `height_m` with the 2x2 covariance (m^2) of the
    /// resulting (x, y) for isotropic pixel noise of `sigma_px` (first-order, via the Jacobian).
    pub fn back_project_with_covariance(
        &self,
        px: DVec2,
        height_m: f64,
        sigma_px: f64,
    ) -> Result<(DVec3, DMat2), GeometryError> {
        let p = self.back_project(px, height_m)?;
        let j = self
            .projection_jacobian_xy(p)
            .ok_or(GeometryError::Degenerate { u: px.x, v: px.y })?;
        let det = j.determinant();
        if !det.is_finite() || det.abs() < 1e-12 {
            return Err(GeometryError::Degenerate { u: px.x, v: px.y });
        }
        let jb = j.inverse();
        Ok((p, jb * jb.transpose() * (sigma_px * sigma_px)))
    }

    /// Horizontal and vertical field of view in degrees (angles between the rays through the
    /// middles of opposite image edges).
    pub fn field_of_view_deg(&self) -> Option<(f64, f64)> {
        let w = f64::from(self.intrinsics.width) - 1.0;
        let h = f64::from(self.intrinsics.height) - 1.0;
        let angle = |a: DVec2, b: DVec2| -> Option<f64> {
            let (ra, rb) = (self.ray(a).ok()?, self.ray(b).ok()?);
            Some(ra.dot(rb).clamp(-1.0, 1.0).acos().to_degrees())
        };
        let (cx, cy) = (self.intrinsics.cx, self.intrinsics.cy);
        Some((
            angle(DVec2::new(0.0, cy), DVec2::new(w, cy))?,
            angle(DVec2::new(cx, 0.0), DVec2::new(cx, h))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(lens: LensModel) -> Camera {
        let intr = Intrinsics {
            width: 1920,
            height: 1080,
            fx: 1000.0,
            fy: 1010.0,
            cx: 955.0,
            cy: 545.0,
            lens,
        };
        // Camera 3 m up at (0, -5), looking down-forward along +y.
        let look = DVec3::new(0.0, 1.0, -0.6).normalize();
        let right = DVec3::X;
        let down = look.cross(right).normalize();
        let camera_from_world_rot = DMat3::from_cols(right, down, look).transpose();
        let centre = DVec3::new(0.0, -5.0, 3.0);
        let pose = Pose {
            rotation: camera_from_world_rot,
            translation: -(camera_from_world_rot * centre),
        };
        Camera::new("t", intr, pose)
    }

    fn lenses() -> [LensModel; 4] {
        [
            LensModel::NONE,
            LensModel::Pinhole {
                k1: -0.2,
                k2: 0.05,
                p1: 0.001,
                p2: -0.002,
                k3: -0.01,
            },
            LensModel::Fisheye {
                k1: 0.05,
                k2: -0.01,
                k3: 0.002,
                k4: -0.0005,
            },
            LensModel::Tsai { kappa: 0.15 },
        ]
    }

    #[test]
    fn distortion_jacobian_matches_finite_differences() {
        for lens in lenses() {
            for n in [
                DVec2::new(0.3, -0.2),
                DVec2::new(-0.05, 0.4),
                DVec2::new(0.01, 0.0),
            ] {
                let (_, j) = lens.distort(n);
                let h = 1e-6;
                let fx = (lens.distort(n + DVec2::X * h).0 - lens.distort(n - DVec2::X * h).0)
                    / (2.0 * h);
                let fy = (lens.distort(n + DVec2::Y * h).0 - lens.distort(n - DVec2::Y * h).0)
                    / (2.0 * h);
                assert!(
                    (j.x_axis - fx).length() < 1e-6,
                    "{lens:?} d/dx {:?} vs {fx:?}",
                    j.x_axis
                );
                assert!(
                    (j.y_axis - fy).length() < 1e-6,
                    "{lens:?} d/dy {:?} vs {fy:?}",
                    j.y_axis
                );
            }
        }
    }

    #[test]
    fn projection_jacobian_matches_finite_differences() {
        for lens in lenses() {
            let cam = camera(lens);
            for p in [
                DVec3::new(0.5, 1.0, 0.0),
                DVec3::new(-1.2, 3.0, 1.7),
                DVec3::new(0.3, 0.0, 0.9),
            ] {
                let (px, j) = cam.project_with_jacobian(p).expect("in front");
                assert!((px - cam.project_unchecked(p)).length() < 1e-9);
                let h = 1e-6;
                for (axis, col) in [DVec3::X, DVec3::Y, DVec3::Z].into_iter().zip(j) {
                    let fd = (cam.project_unchecked(p + axis * h)
                        - cam.project_unchecked(p - axis * h))
                        / (2.0 * h);
                    assert!(
                        (col - fd).length() < 1e-3 * fd.length().max(1.0),
                        "{lens:?} {p:?} d/d{axis:?}: {col:?} vs {fd:?}"
                    );
                }
            }
        }
        let cam = camera(LensModel::NONE);
        assert!(
            cam.project_with_jacobian(DVec3::new(0.0, -8.0, 0.0))
                .is_none()
        );
    }

    #[test]
    fn undistort_inverts_distort() {
        for lens in lenses() {
            for n in [DVec2::new(0.5, -0.3), DVec2::new(-0.1, 0.2), DVec2::ZERO] {
                let d = lens.distort(n).0;
                let back = lens.undistort(d).expect("converges");
                assert!(
                    (back - n).length() < 1e-12,
                    "{lens:?}: {n:?} -> {d:?} -> {back:?}"
                );
            }
        }
    }

    #[test]
    fn strong_barrel_distortion_has_a_finite_valid_radius() {
        let lens = LensModel::Pinhole {
            k1: -0.4,
            k2: 0.0,
            p1: 0.0,
            p2: 0.0,
            k3: 0.0,
        };
        // r (1 - 0.4 r^2) peaks at r = 1/sqrt(1.2).
        let r = lens.max_valid_radius();
        assert!((r - 1.0 / 1.2f64.sqrt()).abs() < 0.01, "{r}");
        assert_eq!(LensModel::NONE.max_valid_radius(), 20.0);
    }

    #[test]
    fn floor_round_trip_and_covariance() {
        for lens in lenses() {
            let cam = camera(lens);
            for p in [
                DVec3::new(0.5, 2.0, 0.0),
                DVec3::new(-2.0, 4.0, 0.0),
                DVec3::new(1.0, 1.0, 1.7),
            ] {
                let px = cam.project(p).expect("visible");
                let back = cam.back_project(px, p.z).expect("hits the plane");
                assert!((back - p).length() < 1e-9, "{lens:?}: {p:?} -> {back:?}");
                // Covariance equals the numeric one.
                let (_, cov) = cam.back_project_with_covariance(px, p.z, 1.0).expect("cov");
                let h = 1e-3;
                let du = (cam.back_project(px + DVec2::X * h, p.z).expect("du")
                    - cam.back_project(px - DVec2::X * h, p.z).expect("du"))
                    / (2.0 * h);
                let dv = (cam.back_project(px + DVec2::Y * h, p.z).expect("dv")
                    - cam.back_project(px - DVec2::Y * h, p.z).expect("dv"))
                    / (2.0 * h);
                let j = DMat2::from_cols(du.truncate(), dv.truncate());
                let numeric = j * j.transpose();
                for (a, b) in [(cov.x_axis, numeric.x_axis), (cov.y_axis, numeric.y_axis)] {
                    assert!(
                        (a - b).length() < 1e-6 * (1.0 + b.length()),
                        "{a:?} vs {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn far_points_have_elongated_covariance() {
        let cam = camera(LensModel::NONE);
        let near = cam.project(DVec3::new(0.0, 0.0, 0.0)).expect("near");
        let far = cam.project(DVec3::new(0.0, 15.0, 0.0)).expect("far");
        let (_, c_near) = cam
            .back_project_with_covariance(near, 0.0, 1.0)
            .expect("near");
        let (_, c_far) = cam
            .back_project_with_covariance(far, 0.0, 1.0)
            .expect("far");
        // Far away the depth (y) uncertainty grows much faster than the lateral one.
        assert!(c_far.y_axis.y > 10.0 * c_near.y_axis.y);
        assert!(c_far.y_axis.y > 4.0 * c_far.x_axis.x);
    }

    #[test]
    fn points_behind_or_above_the_horizon_are_refused() {
        let cam = camera(LensModel::NONE);
        assert_eq!(cam.project(DVec3::new(0.0, -10.0, 0.0)), None);
        // A pixel well above the image looks above the horizon: its ray never meets the floor.
        let err = cam.back_project(DVec2::new(960.0, -400.0), 0.0);
        assert!(
            matches!(err, Err(GeometryError::RayMissesPlane { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn rvec_round_trip() {
        let rvec = DVec3::new(1.759099, 0.467101, -0.331699);
        let pose = Pose::from_rvec_tvec(rvec, DVec3::new(1.0, 2.0, 3.0));
        assert!((pose.rvec() - rvec).length() < 1e-12);
        let (err, det) = Pose::orthonormality_error(&pose.rotation);
        assert!(err < 1e-12 && (det - 1.0).abs() < 1e-12);
        let p = DVec3::new(0.3, -2.0, 5.0);
        let back = pose.inverse().transform_point(pose.transform_point(p));
        assert!((back - p).length() < 1e-12);
    }
}
