//! Numbered still images (a dataset's frames) encoded to an H.264 MKV video, so that they can
//! go through the same decode path as a camera (the MultiviewX demo's cameras).

use std::path::Path;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;

use crate::source::IngestError;

/// The template, embedded from `pipelines/`.
pub const TEMPLATE: &str = include_str!("../../../pipelines/encode-stills.pipeline");

/// Encodes the JPEG files `pattern` (a `printf` pattern such as `DIR/%04d.jpg`, numbered from 0,
/// ending at the first missing number) into `out` at `fps` frames per second. `camera` names
/// the camera in errors.
pub fn encode_jpegs(camera: &str, pattern: &Path, fps: u32, out: &Path) -> Result<(), IngestError> {
    crate::source::init()?;
    let quote = |p: &Path| p.to_string_lossy().replace('"', "\\\"");
    let description = TEMPLATE
        .trim()
        .replace("{location}", &quote(pattern))
        .replace("{fps}", &fps.max(1).to_string())
        .replace("{out}", &quote(out));
    let pipeline = crate::source::launch(camera, &description)?;
    let stop = |p: &gst::Pipeline| {
        let _ = p.set_state(gst::State::Null);
    };
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|source| IngestError::Start {
            camera: camera.into(),
            source,
        })?;
    let bus = pipeline.bus().ok_or_else(|| IngestError::Stream {
        camera: camera.into(),
        element: "pipeline".into(),
        message: "no bus".into(),
    })?;
    let started = Instant::now();
    let result = loop {
        if started.elapsed() > Duration::from_secs(120) {
            break Err(IngestError::Stream {
                camera: camera.into(),
                element: "pipeline".into(),
                message: format!("encoding {} did not finish in 120 s", pattern.display()),
            });
        }
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Eos(_) => break Ok(()),
            gst::MessageView::Error(e) => {
                break Err(IngestError::Stream {
                    camera: camera.into(),
                    element: e
                        .src()
                        .map_or_else(|| "pipeline".into(), |s| s.name().to_string()),
                    message: format!("{} ({})", e.error(), pattern.display()),
                });
            }
            _ => {}
        }
    };
    stop(&pipeline);
    result
}
