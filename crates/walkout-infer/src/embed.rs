//! Person crops to L2-normalised appearance embeddings, batched when the model's batch
//! dimension is dynamic (OSNet), one run per crop otherwise (Intel retail-0248).

use ort::value::Tensor;

use crate::InferError;
use crate::image::{RgbImage, crop_input};
use crate::manifest::{Layout, Manifest, Task};
use crate::model::Model;
use crate::runtime::RuntimeConfig;

/// A loaded embedder.
#[derive(Debug)]
pub struct Embedder {
    model: Model,
    /// Largest batch per run when the model takes batches.
    pub max_batch: usize,
}

impl Embedder {
    pub fn load(
        manifest: &Manifest,
        name: &str,
        runtime: &RuntimeConfig,
    ) -> Result<Embedder, InferError> {
        let spec = manifest.get(name)?;
        if spec.task != Task::Embed {
            return Err(InferError::Contract {
                name: name.into(),
                message: format!("task is {:?}, not embed", spec.task),
            });
        }
        let model = Model::load(name, spec, &manifest.file(name)?, runtime)?;
        Ok(Embedder {
            model,
            max_batch: 32,
        })
    }

    pub fn name(&self) -> &str {
        &self.model.name
    }

    /// Whether one run takes several crops.
    pub fn batched(&self) -> bool {
        self.model.batched
    }

    /// Embeddings of the crops `boxes` (x, y, w, h in frame pixels) of `img`, in order.
    pub fn embed(
        &mut self,
        img: &RgbImage,
        boxes: &[[f64; 4]],
    ) -> Result<Vec<Vec<f32>>, InferError> {
        for b in boxes {
            if !(b.iter().all(|v| v.is_finite()) && b[2] > 0.0 && b[3] > 0.0) {
                return Err(InferError::Input(format!(
                    "crop box {b:?}: expected finite x, y and positive width, height"
                )));
            }
        }
        let step = if self.model.batched {
            self.max_batch.max(1)
        } else {
            1
        };
        let mut out = Vec::with_capacity(boxes.len());
        for chunk in boxes.chunks(step) {
            out.extend(self.run(img, chunk)?);
        }
        Ok(out)
    }

    fn run(&mut self, img: &RgbImage, boxes: &[[f64; 4]]) -> Result<Vec<Vec<f32>>, InferError> {
        let spec = &self.model.spec;
        let name = self.model.name.clone();
        let fail = |e: ort::Error| InferError::Run {
            name: name.clone(),
            message: e.to_string(),
        };
        let [w, h] = spec.size.map(|v| v as usize);
        let mut tensor = Vec::with_capacity(boxes.len() * w * h * 3);
        for b in boxes {
            crop_input(img, *b, spec, &mut tensor);
        }
        let n = boxes.len();
        let shape = match spec.layout {
            Layout::Nchw => [n, 3, h, w],
            Layout::Nhwc => [n, h, w, 3],
        };
        let input = Tensor::from_array((shape, tensor)).map_err(fail)?;
        let outputs = self
            .model
            .session
            .run(ort::inputs![spec.input.clone() => input])
            .map_err(fail)?;
        let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(fail)?;
        let dim = data.len() / n.max(1);
        Ok(data
            .chunks_exact(dim.max(1))
            .map(|e| {
                let norm = e
                    .iter()
                    .map(|v| f64::from(*v).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    .max(1e-12);
                e.iter().map(|v| (f64::from(*v) / norm) as f32).collect()
            })
            .collect())
    }
}

/// Cosine similarity of two L2-normalised embeddings.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}
