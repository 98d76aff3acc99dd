//! Body landmarks on a person crop (MediaPipe pose landmark lite), for the wrist positions that
//! shelf interactions use. Behind a switch: it costs a model run per person.
//!
//! Contract: a square crop, 1.25 times the box's longer side, centred on the box, resampled to
//! 256x256 RGB /255 (NHWC); output `Identity` [1, 195] = 39 landmarks x (x, y, z, visibility
//! logit, presence logit) in crop pixels; 15 and 16 are the wrists.

use ort::value::Tensor;
use walkout_types::Keypoint;

use crate::InferError;
use crate::image::{RgbImage, crop_input};
use crate::manifest::{Manifest, Task};
use crate::model::Model;
use crate::runtime::RuntimeConfig;

/// Landmark indices of the left and right wrists.
pub const WRISTS: [usize; 2] = [15, 16];
const LANDMARKS: usize = 39;

#[derive(Debug)]
pub struct PoseEstimator {
    model: Model,
}

/// All landmarks of one person, and its wrists in frame pixels.
#[derive(Debug, Clone)]
pub struct Pose {
    /// 39 x (x, y, z, visibility logit, presence logit) in crop pixels.
    pub landmarks: Vec<[f32; 5]>,
    /// Left and right wrist in frame pixels, score = sigmoid(visibility).
    pub wrists: [Keypoint; 2],
}

impl PoseEstimator {
    pub fn load(
        manifest: &Manifest,
        name: &str,
        runtime: &RuntimeConfig,
    ) -> Result<PoseEstimator, InferError> {
        let spec = manifest.get(name)?;
        if spec.task != Task::Pose {
            return Err(InferError::Contract {
                name: name.into(),
                message: format!("task is {:?}, not pose", spec.task),
            });
        }
        let model = Model::load(name, spec, &manifest.file(name)?, runtime)?;
        Ok(PoseEstimator { model })
    }

    /// The pose of the person in `bbox` (x, y, w, h in frame pixels).
    pub fn estimate(&mut self, img: &RgbImage, bbox: [f64; 4]) -> Result<Pose, InferError> {
        let [x, y, w, h] = bbox;
        if !(bbox.iter().all(|v| v.is_finite()) && w > 0.0 && h > 0.0) {
            return Err(InferError::Input(format!(
                "pose box {bbox:?}: expected finite x, y and positive width, height"
            )));
        }
        let spec = &self.model.spec;
        let name = self.model.name.clone();
        let fail = |e: ort::Error| InferError::Run {
            name: name.clone(),
            message: e.to_string(),
        };
        let side = 1.25 * w.max(h);
        let (x0, y0) = (x + w / 2.0 - side / 2.0, y + h / 2.0 - side / 2.0);
        let [mw, mh] = spec.size.map(|v| v as usize);
        let mut tensor = Vec::with_capacity(mw * mh * 3);
        crop_input(img, [x0, y0, side, side], spec, &mut tensor);
        let input = Tensor::from_array(([1usize, mh, mw, 3], tensor)).map_err(fail)?;
        let outputs = self
            .model
            .session
            .run(ort::inputs![spec.input.clone() => input])
            .map_err(fail)?;
        let out = outputs
            .get("Identity")
            .ok_or_else(|| InferError::Contract {
                name: name.clone(),
                message: "no output named `Identity`".into(),
            })?;
        let (_, data) = out.try_extract_tensor::<f32>().map_err(fail)?;
        if data.len() < LANDMARKS * 5 {
            return Err(InferError::Contract {
                name: name.clone(),
                message: format!(
                    "`Identity` has {} values, expected {}",
                    data.len(),
                    LANDMARKS * 5
                ),
            });
        }
        let landmarks: Vec<[f32; 5]> = data
            .chunks_exact(5)
            .take(LANDMARKS)
            .map(|c| [c[0], c[1], c[2], c[3], c[4]])
            .collect();
        let scale = side / mw as f64;
        let wrist = |i: usize| {
            let l = landmarks[i];
            Keypoint {
                u: x0 + f64::from(l[0]) * scale,
                v: y0 + f64::from(l[1]) * scale,
                score: 1.0 / (1.0 + (-f64::from(l[3])).exp()),
            }
        };
        Ok(Pose {
            wrists: [wrist(WRISTS[0]), wrist(WRISTS[1])],
            landmarks,
        })
    }
}
