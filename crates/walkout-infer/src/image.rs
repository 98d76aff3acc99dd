//! RGB images and the CPU preprocessing of the model contracts.
//!
//! Resampling is bilinear with half-pixel centres (`src = x0 + (u + 0.5) * w / W - 0.5`),
//! clamped at the image edges, no antialiasing, computed in f64 and stored as f32 — the same
//! arithmetic as the reference script `scripts/dev/make_infer_fixtures.py`.

use std::path::Path;

use crate::InferError;
use crate::manifest::{Channels, Layout, ModelSpec, Resize};

/// An 8-bit RGB image, rows top to bottom, no padding.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl RgbImage {
    /// Decodes a PNG or JPEG file. JPEG goes through libjpeg-turbo's decoder (as built into
    /// mozjpeg: accurate integer IDCT, fancy upsampling), which is what Pillow and OpenCV use,
    /// so the pixels are the ones the reference outputs were computed from.
    pub fn load(path: &Path) -> Result<RgbImage, InferError> {
        let bad = |message: String| InferError::Image {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        if bytes.starts_with(&[0xff, 0xd8]) {
            return decode_jpeg(&bytes).map_err(|m| bad(format!("not a valid JPEG image ({m})")));
        }
        let img = ::image::load_from_memory(&bytes)
            .map_err(|e| bad(format!("not a PNG or JPEG image ({e})")))?
            .to_rgb8();
        Ok(RgbImage {
            width: img.width(),
            height: img.height(),
            data: img.into_raw(),
        })
    }

    /// An image from RGB8 pixels, rows top to bottom.
    pub fn from_rgb(width: u32, height: u32, data: Vec<u8>) -> Result<RgbImage, InferError> {
        if data.len() != width as usize * height as usize * 3 || width == 0 || height == 0 {
            return Err(InferError::Input(format!(
                "RGB image {width}x{height} needs {} bytes, got {}",
                width as usize * height as usize * 3,
                data.len()
            )));
        }
        Ok(RgbImage {
            width,
            height,
            data,
        })
    }
}

/// JPEG to RGB8 with libjpeg-turbo's defaults (JDCT_ISLOW, fancy upsampling). Corrupt data
/// makes libjpeg raise an error, which mozjpeg turns into a panic: caught here.
fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage, String> {
    let run = || -> std::io::Result<RgbImage> {
        let d = mozjpeg::Decompress::new_mem(bytes)?;
        let mut started = d.rgb()?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let data = started.read_scanlines::<u8>()?;
        started.finish()?;
        Ok(RgbImage {
            width: w,
            height: h,
            data,
        })
    };
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(run);
    std::panic::set_hook(previous);
    match result {
        Ok(Ok(img)) if img.data.len() == img.width as usize * img.height as usize * 3 => Ok(img),
        Ok(Ok(_)) => Err("truncated image data".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(p) => Err(p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "libjpeg error".into())),
    }
}

/// Where the model input came from in the frame: `frame = (model - offset) / scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapping {
    pub scale_x: f64,
    pub scale_y: f64,
    pub offset_x: f64,
    pub offset_y: f64,
}

impl Mapping {
    pub fn to_frame(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (x - self.offset_x) / self.scale_x,
            (y - self.offset_y) / self.scale_y,
        )
    }
}

/// Bilinear sample of region (x0, y0, w, h) of `img` onto an `out_w` x `out_h` grid; writes RGB
/// f64 values (0-255) row-major into `out`.
fn sample(img: &RgbImage, region: [f64; 4], out_w: usize, out_h: usize, out: &mut [f64]) {
    let [x0, y0, w, h] = region;
    let (wi, hi) = (img.width as usize, img.height as usize);
    let xs: Vec<(usize, usize, f64)> = (0..out_w)
        .map(|u| {
            let s = (x0 + (u as f64 + 0.5) * (w / out_w as f64) - 0.5).clamp(0.0, (wi - 1) as f64);
            let lo = s.floor() as usize;
            (lo, (lo + 1).min(wi - 1), s - lo as f64)
        })
        .collect();
    for v in 0..out_h {
        let s = (y0 + (v as f64 + 0.5) * (h / out_h as f64) - 0.5).clamp(0.0, (hi - 1) as f64);
        let ylo = s.floor() as usize;
        let yhi = (ylo + 1).min(hi - 1);
        let fy = s - ylo as f64;
        let (r0, r1) = (ylo * wi * 3, yhi * wi * 3);
        for (u, &(xlo, xhi, fx)) in xs.iter().enumerate() {
            for c in 0..3 {
                let p = |row: usize, x: usize| f64::from(img.data[row + x * 3 + c]);
                let top = p(r0, xlo) * (1.0 - fx) + p(r0, xhi) * fx;
                let bot = p(r1, xlo) * (1.0 - fx) + p(r1, xhi) * fx;
                out[(v * out_w + u) * 3 + c] = top * (1.0 - fy) + bot * fy;
            }
        }
    }
}

/// Converts RGB values (0-255, model-sized, row-major) to the model's tensor layout and
/// normalisation, appending to `tensor`.
fn normalise(rgb: &[f64], spec: &ModelSpec, tensor: &mut Vec<f32>) {
    let [w, h] = spec.size.map(|v| v as usize);
    let order: [usize; 3] = match spec.channels {
        Channels::Rgb => [0, 1, 2],
        Channels::Bgr => [2, 1, 0],
    };
    let value = |i: usize, c: usize| -> f32 {
        ((rgb[i * 3 + order[c]] * spec.scale - spec.mean[c]) / spec.std[c]) as f32
    };
    match spec.layout {
        Layout::Nchw => {
            for c in 0..3 {
                tensor.extend((0..w * h).map(|i| value(i, c)));
            }
        }
        Layout::Nhwc => {
            for i in 0..w * h {
                tensor.extend((0..3).map(|c| value(i, c)));
            }
        }
    }
}

/// Preprocesses a whole frame for a detector (letterbox or stretch), appending one batch item
/// to `tensor`; returns how model coordinates map back to the frame.
pub fn frame_input(img: &RgbImage, spec: &ModelSpec, tensor: &mut Vec<f32>) -> Mapping {
    let [mw, mh] = spec.size.map(|v| v as usize);
    let (fw, fh) = (f64::from(img.width), f64::from(img.height));
    let mut rgb = vec![spec.pad; mw * mh * 3];
    let mapping = match spec.resize {
        Resize::Stretch => {
            sample(img, [0.0, 0.0, fw, fh], mw, mh, &mut rgb);
            Mapping {
                scale_x: mw as f64 / fw,
                scale_y: mh as f64 / fh,
                offset_x: 0.0,
                offset_y: 0.0,
            }
        }
        Resize::Letterbox => {
            let r = (mw as f64 / fw).min(mh as f64 / fh);
            let (nw, nh) = (
                ((fw * r) as usize).clamp(1, mw),
                ((fh * r) as usize).clamp(1, mh),
            );
            let (ox, oy) = if spec.placement == "centre" {
                ((mw - nw) / 2, (mh - nh) / 2)
            } else {
                (0, 0)
            };
            let mut part = vec![0.0; nw * nh * 3];
            sample(img, [0.0, 0.0, fw, fh], nw, nh, &mut part);
            for y in 0..nh {
                let dst = ((y + oy) * mw + ox) * 3;
                rgb[dst..dst + nw * 3].copy_from_slice(&part[y * nw * 3..(y + 1) * nw * 3]);
            }
            Mapping {
                scale_x: r,
                scale_y: r,
                offset_x: ox as f64,
                offset_y: oy as f64,
            }
        }
    };
    normalise(&rgb, spec, tensor);
    mapping
}

/// Preprocesses a crop (x, y, w, h in frame pixels; may extend past the border, which repeats
/// the edge) for an embedder, appending one batch item to `tensor`.
pub fn crop_input(img: &RgbImage, region: [f64; 4], spec: &ModelSpec, tensor: &mut Vec<f32>) {
    let [mw, mh] = spec.size.map(|v| v as usize);
    let mut rgb = vec![0.0; mw * mh * 3];
    sample(img, region, mw, mh, &mut rgb);
    normalise(&rgb, spec, tensor);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_of_a_ramp_is_the_ramp_at_sample_centres() {
        // A horizontal ramp 0, 10, 20, ... : halving the width samples at x = 0.5, 2.5, ...
        let (w, h) = (8u32, 2u32);
        let data = (0..h)
            .flat_map(|_| (0..w).flat_map(|x| [x as u8 * 10; 3]))
            .collect();
        let img = RgbImage::from_rgb(w, h, data).expect("img");
        let mut out = vec![0.0; 4 * 3];
        sample(&img, [0.0, 0.0, 8.0, 2.0], 4, 1, &mut out);
        let r: Vec<f64> = out.chunks(3).map(|p| p[0]).collect();
        assert_eq!(r, vec![5.0, 25.0, 45.0, 65.0]);
    }
}
