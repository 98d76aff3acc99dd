//! Person detectors: YOLOX (grid decode of strides 8/16/32, exp sizes, score = objectness x class,
//! NMS) and PicoDet with NMS inside the graph. Boxes come back in frame pixels.

use ort::value::Tensor;
use walkout_types::Detection;

use crate::InferError;
use crate::image::{Mapping, RgbImage, frame_input};
use crate::manifest::{Decoder, Manifest, Task};
use crate::model::Model;
use crate::runtime::RuntimeConfig;

/// Detector thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Person boxes below this score are dropped.
    pub score_threshold: f64,
    /// IoU above which the weaker of two boxes is suppressed (YOLOX; default: the manifest's).
    pub nms_iou: Option<f64>,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            score_threshold: 0.3,
            nms_iou: None,
        }
    }
}

/// A loaded person detector.
#[derive(Debug)]
pub struct Detector {
    model: Model,
    config: DetectorConfig,
}

/// Raw model output of one frame (for checks against the reference).
#[derive(Debug, Clone)]
pub struct RawOutput {
    pub shape: Vec<i64>,
    pub data: Vec<f32>,
}

impl Detector {
    /// Loads detector `name` of `manifest`.
    pub fn load(
        manifest: &Manifest,
        name: &str,
        runtime: &RuntimeConfig,
        config: DetectorConfig,
    ) -> Result<Detector, InferError> {
        let spec = manifest.get(name)?;
        if spec.task != Task::Detect {
            return Err(InferError::Contract {
                name: name.into(),
                message: format!("task is {:?}, not detect", spec.task),
            });
        }
        let model = Model::load(name, spec, &manifest.file(name)?, runtime)?;
        Ok(Detector { model, config })
    }

    pub fn name(&self) -> &str {
        &self.model.name
    }

    /// Person boxes of one frame.
    pub fn detect(&mut self, img: &RgbImage) -> Result<Vec<Detection>, InferError> {
        let (raw, mapping) = self.run(img)?;
        Ok(self.decode(&raw, &mapping))
    }

    /// Person boxes of several frames (one per camera): one run per frame, as both detectors'
    /// graphs take batch 1 (YOLOX's input is fixed at 1; PicoDet's `scale_factor` is [1, 2]).
    pub fn detect_batch(&mut self, imgs: &[&RgbImage]) -> Result<Vec<Vec<Detection>>, InferError> {
        imgs.iter().map(|img| self.detect(img)).collect()
    }

    /// The raw first output of the model for one frame.
    pub fn raw(&mut self, img: &RgbImage) -> Result<RawOutput, InferError> {
        let mut tensor = Vec::new();
        let mapping = frame_input(img, &self.model.spec, &mut tensor);
        self.run_tensor(tensor, &mapping)
    }

    /// Person boxes from an input tensor prepared elsewhere (walkout-gpu's preprocessing of a
    /// decoded I420/NV12 frame): one batch item in the model's size, layout and normalisation;
    /// `mapping` takes model pixels back to frame pixels.
    pub fn detect_prepared(
        &mut self,
        tensor: Vec<f32>,
        mapping: &Mapping,
    ) -> Result<Vec<Detection>, InferError> {
        let [w, h] = self.model.spec.size;
        if tensor.len() != (w * h * 3) as usize {
            return Err(InferError::Input(format!(
                "model `{}`: a prepared tensor has {} values, the contract needs {} ({w}x{h}x3)",
                self.model.name,
                tensor.len(),
                w * h * 3
            )));
        }
        let raw = self.run_tensor(tensor, mapping)?;
        Ok(self.decode(&raw, mapping))
    }

    fn run(&mut self, img: &RgbImage) -> Result<(RawOutput, Mapping), InferError> {
        let mut tensor =
            Vec::with_capacity((self.model.spec.size[0] * self.model.spec.size[1] * 3) as usize);
        let mapping = frame_input(img, &self.model.spec, &mut tensor);
        Ok((self.run_tensor(tensor, &mapping)?, mapping))
    }

    fn run_tensor(&mut self, tensor: Vec<f32>, mapping: &Mapping) -> Result<RawOutput, InferError> {
        let spec = &self.model.spec;
        let name = self.model.name.clone();
        let fail = |e: ort::Error| InferError::Run {
            name: name.clone(),
            message: e.to_string(),
        };
        // The frame size, for PicoDet's scale_factor input.
        let frame_w = f64::from(spec.size[0]) / mapping.scale_x;
        let frame_h = f64::from(spec.size[1]) / mapping.scale_y;
        let [w, h] = spec.size.map(|v| v as usize);
        let shape = match spec.layout {
            crate::manifest::Layout::Nchw => [1, 3, h, w],
            crate::manifest::Layout::Nhwc => [1, h, w, 3],
        };
        let input = Tensor::from_array((shape, tensor)).map_err(fail)?;
        let outputs = match spec.decoder {
            Decoder::NmsInside => {
                let sf = Tensor::from_array((
                    [1usize, 2],
                    vec![
                        (f64::from(spec.size[1]) / frame_h) as f32,
                        (f64::from(spec.size[0]) / frame_w) as f32,
                    ],
                ))
                .map_err(fail)?;
                let extra = spec
                    .extra_inputs
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "scale_factor".into());
                self.model
                    .session
                    .run(ort::inputs![spec.input.clone() => input, extra => sf])
                    .map_err(fail)?
            }
            _ => self
                .model
                .session
                .run(ort::inputs![spec.input.clone() => input])
                .map_err(fail)?,
        };
        let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
        let mut raw = RawOutput {
            shape: shape.iter().copied().collect(),
            data: data.to_vec(),
        };
        if spec.decoder == Decoder::NmsInside && outputs.len() > 1 {
            // Keep the rows the count output says are valid.
            if let Ok((_, count)) = outputs[1].try_extract_tensor::<i32>() {
                let n = count.first().copied().unwrap_or(0).max(0) as usize;
                let n = n.min(raw.data.len() / 6);
                raw.data.truncate(n * 6);
                raw.shape = vec![n as i64, 6];
            }
        }
        Ok(raw)
    }

    fn decode(&self, raw: &RawOutput, mapping: &Mapping) -> Vec<Detection> {
        let spec = &self.model.spec;
        let thr = self.config.score_threshold;
        let person = spec.person_class.unwrap_or(0) as usize;
        let mut boxes: Vec<[f64; 5]> = Vec::new();
        match spec.decoder {
            Decoder::Yolox => {
                let row = raw.shape.last().copied().unwrap_or(85).max(6) as usize;
                let mut k = 0;
                for &s in &spec.strides {
                    let n = (spec.size[0] / s) as usize;
                    let m = (spec.size[1] / s) as usize;
                    for gy in 0..m {
                        for gx in 0..n {
                            let Some(r) = raw.data.get(k * row..(k + 1) * row) else {
                                break;
                            };
                            k += 1;
                            let v = |i: usize| f64::from(r[i]);
                            let score = v(4) * v(5 + person);
                            if score < thr {
                                continue;
                            }
                            let s = f64::from(s);
                            let (cx, cy) = ((v(0) + gx as f64) * s, (v(1) + gy as f64) * s);
                            let (w, h) = (v(2).exp() * s, v(3).exp() * s);
                            let (x1, y1) = mapping.to_frame(cx - w / 2.0, cy - h / 2.0);
                            let (x2, y2) = mapping.to_frame(cx + w / 2.0, cy + h / 2.0);
                            boxes.push([x1, y1, x2, y2, score]);
                        }
                    }
                }
                let iou = self.config.nms_iou.or(spec.nms_iou).unwrap_or(0.45);
                boxes = nms(boxes, iou);
            }
            Decoder::NmsInside => {
                for r in raw.data.chunks_exact(6) {
                    let v = |i: usize| f64::from(r[i]);
                    if v(0) as usize == person && v(0) >= 0.0 && v(1) >= thr {
                        boxes.push([v(2), v(3), v(4), v(5), v(1)]);
                    }
                }
                boxes.sort_by(|a, b| b[4].total_cmp(&a[4]));
            }
            _ => {}
        }
        boxes
            .into_iter()
            .map(|[x1, y1, x2, y2, score]| Detection {
                left: x1,
                top: y1,
                width: x2 - x1,
                height: y2 - y1,
                score,
                embedding: None,
                wrists: Vec::new(),
            })
            .collect()
    }
}

/// Greedy non-maximum suppression (boxes `[x1, y1, x2, y2, score]`), strongest first; a box is
/// dropped when its IoU with a kept one exceeds `iou`.
pub fn nms(mut boxes: Vec<[f64; 5]>, iou: f64) -> Vec<[f64; 5]> {
    // Stable sort: equal scores keep their order (as the reference does).
    boxes.sort_by(|a, b| b[4].total_cmp(&a[4]));
    let area = |b: &[f64; 5]| (b[2] - b[0]) * (b[3] - b[1]);
    let mut kept: Vec<[f64; 5]> = Vec::new();
    for b in boxes {
        let suppressed = kept.iter().any(|k| {
            let iw = (b[2].min(k[2]) - b[0].max(k[0])).max(0.0);
            let ih = (b[3].min(k[3]) - b[1].max(k[1])).max(0.0);
            let inter = iw * ih;
            inter / (area(&b) + area(k) - inter) > iou
        });
        if !suppressed {
            kept.push(b);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nms_keeps_the_stronger_of_overlapping_boxes_and_separate_ones() {
        let b = vec![
            [0.0, 0.0, 10.0, 10.0, 0.8],
            [1.0, 1.0, 11.0, 11.0, 0.9],
            [20.0, 20.0, 30.0, 30.0, 0.5],
        ];
        let k = nms(b, 0.45);
        assert_eq!(k.len(), 2);
        assert_eq!(k[0][4], 0.9);
        assert_eq!(k[1][4], 0.5);
    }
}
