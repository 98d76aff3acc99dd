//! One camera's GStreamer pipeline, built from a template of `pipelines/`, delivering decoded frames.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use walkout_types::TimeSource;

/// Templates embedded from the repository's `pipelines/` at build time.
pub mod templates {
    pub const FILE: &str = include_str!("../../../pipelines/file.pipeline");
    pub const RTSP_H264: &str = include_str!("../../../pipelines/rtsp-h264.pipeline");
    pub const RTSP_H265: &str = include_str!("../../../pipelines/rtsp-h265.pipeline");

    /// The template of a name used in store configs.
    pub fn by_name(name: &str) -> Option<&'static str> {
        match name {
            "file" => Some(FILE),
            "rtsp-h264" => Some(RTSP_H264),
            "rtsp-h265" => Some(RTSP_H265),
            _ => None,
        }
    }

    /// A camera's template and source parameters: the config's `pipeline` by name, else the
    /// one its source implies; RTSP sources are live (small dropping queues), files are not.
    pub fn for_camera(
        pipeline: Option<&str>,
        source: String,
        latency_ms: u32,
    ) -> (&'static str, super::SourceParams) {
        let template = pipeline
            .and_then(by_name)
            .unwrap_or_else(|| for_source(&source));
        let live = source.starts_with("rtsp://") || source.starts_with("rtsps://");
        (
            template,
            super::SourceParams {
                location: source,
                latency_ms,
                live,
            },
        )
    }

    /// The template a source URL implies when the config names none.
    pub fn for_source(source: &str) -> &'static str {
        if source.starts_with("rtsp://") || source.starts_with("rtsps://") {
            RTSP_H264
        } else {
            FILE
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("GStreamer could not be initialised")]
    Init(#[source] gst::glib::Error),
    #[error("camera {camera}: cannot build the pipeline `{description}`")]
    Build {
        camera: String,
        description: String,
        source: gst::glib::Error,
    },
    #[error("camera {camera}: the description `{description}` is not a pipeline")]
    NotPipeline { camera: String, description: String },
    #[error("camera {camera}: the pipeline has no appsink named `sink`")]
    NoSink { camera: String },
    #[error("camera {camera}: cannot start the pipeline")]
    Start {
        camera: String,
        source: gst::StateChangeError,
    },
    #[error("camera {camera}: {element}: {message}")]
    Stream {
        camera: String,
        element: String,
        message: String,
    },
    #[error(
        "camera {camera}: the stream carries no video (it offers {media}); check the camera URL"
    )]
    NotVideo { camera: String, media: String },
    #[error("camera {camera}: unexpected frame format: {message}")]
    Format { camera: String, message: String },
}

/// Pixel layout of a decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFormat {
    I420,
    Nv12,
}

/// One decoded frame with its capture time.
#[derive(Debug, Clone)]
pub struct Frame {
    pub camera: String,
    /// Frame number in this camera's stream since the pipeline started.
    pub seq: u64,
    /// Presentation timestamp, seconds from the stream's start.
    pub pts_s: f64,
    /// Capture time on the store clock, seconds, and where it came from.
    pub time_s: f64,
    pub time_source: TimeSource,
    pub format: FrameFormat,
    pub width: u32,
    pub height: u32,
    /// Bytes per row of each plane (Y, then U and V or UV).
    pub strides: Vec<u32>,
    /// Byte offset of each plane in `data`.
    pub offsets: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parameters that fill a template.
#[derive(Debug, Clone)]
pub struct SourceParams {
    pub location: String,
    pub latency_ms: u32,
    /// Live sources keep a small dropping appsink queue; files block (nothing is lost).
    pub live: bool,
}

/// Initialises GStreamer once per process.
/// Builds the pipeline of a launch description (errors name the camera and the description).
pub(crate) fn launch(camera: &str, description: &str) -> Result<gst::Pipeline, IngestError> {
    gst::parse::launch(description)
        .map_err(|source| IngestError::Build {
            camera: camera.into(),
            description: description.into(),
            source,
        })?
        .downcast::<gst::Pipeline>()
        .map_err(|_| IngestError::NotPipeline {
            camera: camera.into(),
            description: description.into(),
        })
}

pub fn init() -> Result<(), IngestError> {
    gst::init().map_err(IngestError::Init)
}

/// The first installed element among `candidates` (hardware decoders first), else `fallback`.
pub fn choose_element(candidates: &[&str], fallback: &'static str) -> String {
    for name in candidates {
        if gst::ElementFactory::find(name).is_some() {
            tracing::info!(decoder = name, "hardware decoder available");
            return (*name).to_string();
        }
    }
    tracing::info!(decoder = fallback, tried = ?candidates, "no hardware decoder: software decoding");
    fallback.to_string()
}

/// Fills a template's placeholders.
pub fn describe(template: &str, p: &SourceParams) -> String {
    template
        .trim()
        .replace("{location}", &p.location.replace('"', "\\\""))
        .replace("{latency_ms}", &p.latency_ms.to_string())
        .replace("{max_buffers}", if p.live { "2" } else { "4" })
        .replace("{drop}", if p.live { "true" } else { "false" })
        .replace(
            "{h264_decoder}",
            &choose_element(&["nvh264dec", "vah264dec", "vaapih264dec"], "avdec_h264"),
        )
        .replace(
            "{h265_decoder}",
            &choose_element(&["nvh265dec", "vah265dec", "vaapih265dec"], "avdec_h265"),
        )
}

/// A running pipeline.
pub struct Source {
    camera: String,
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    seq: u64,
    origin_pts: Option<gst::ClockTime>,
    latency_s: f64,
    live: bool,
    /// Camera NTP time minus buffer PTS, nanoseconds, from the latest RTP packet that carried a
    /// reference timestamp (RTCP sender reports); `NO_OFFSET` until one has.
    ntp_offset_ns: Arc<AtomicI64>,
    /// Media kinds of the RTSP streams that are not video, as the server announced them.
    other_media: Arc<std::sync::Mutex<Vec<String>>>,
}

const NO_OFFSET: i64 = i64::MIN;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_S: f64 = 2_208_988_800.0;

/// Seconds since the Unix epoch now (the store clock of live cameras).
fn unix_now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Notes the media kind of every stream rtspsrc exposes that is not video (an audio-only URL
/// would otherwise surface as an opaque "not linked" data-flow error).
fn watch_media(pipeline: &gst::Pipeline, other: &Arc<std::sync::Mutex<Vec<String>>>) {
    let rtspsrc = pipeline
        .iterate_recurse()
        .into_iter()
        .flatten()
        .find(|e| e.factory().is_some_and(|f| f.name() == "rtspsrc"));
    let Some(rtspsrc) = rtspsrc else { return };
    let other = other.clone();
    rtspsrc.connect_pad_added(move |_, pad| {
        let media = pad
            .current_caps()
            .and_then(|c| c.structure(0).and_then(|s| s.get::<String>("media").ok()))
            .unwrap_or_default();
        if media != "video" {
            other
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(if media.is_empty() {
                    "unknown".into()
                } else {
                    media
                });
        }
    });
}

/// Watches the RTP packets entering the depayloader (if the pipeline has one) for the NTP
/// reference timestamps rtspsrc adds from RTCP sender reports, and keeps the NTP - PTS offset.
/// Decoders do not carry the meta through, but they keep the PTS.
fn watch_ntp(pipeline: &gst::Pipeline, offset: &Arc<AtomicI64>) {
    let depay = pipeline.iterate_recurse().into_iter().flatten().find(|e| {
        e.factory()
            .is_some_and(|f| f.name().starts_with("rtp") && f.name().ends_with("depay"))
    });
    let Some(pad) = depay.and_then(|d| d.static_pad("sink")) else {
        return;
    };
    let offset = offset.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer()
            && let Some(pts) = buffer.pts()
        {
            let ntp = buffer
                .iter_meta::<gst::meta::ReferenceTimestampMeta>()
                .find(|m| {
                    m.reference()
                        .structure(0)
                        .is_some_and(|s| s.name() == "timestamp/x-ntp")
                })
                .map(|m| m.timestamp());
            if let Some(ntp) = ntp {
                let d = ntp.nseconds() as i128 - pts.nseconds() as i128;
                if let Ok(d) = i64::try_from(d) {
                    offset.store(d, Ordering::Relaxed);
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

impl Source {
    /// Builds and starts the pipeline of `template` for `camera`.
    pub fn start(
        camera: &str,
        template: &str,
        params: &SourceParams,
    ) -> Result<Source, IngestError> {
        init()?;
        let description = describe(template, params);
        let pipeline = launch(camera, &description)?;
        let sink = pipeline
            .by_name("sink")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| IngestError::NoSink {
                camera: camera.into(),
            })?;
        let ntp_offset_ns = Arc::new(AtomicI64::new(NO_OFFSET));
        let other_media = Arc::new(std::sync::Mutex::new(Vec::new()));
        if params.live {
            watch_ntp(&pipeline, &ntp_offset_ns);
            watch_media(&pipeline, &other_media);
        }
        let started = pipeline.set_state(gst::State::Playing);
        let source = Source {
            camera: camera.into(),
            pipeline,
            sink,
            seq: 0,
            origin_pts: None,
            latency_s: f64::from(params.latency_ms) / 1000.0,
            live: params.live,
            ntp_offset_ns,
            other_media,
        };
        if let Err(e) = started {
            // The bus says why (file not found, unreachable host, ...).
            source.check_bus()?;
            return Err(IngestError::Start {
                camera: camera.into(),
                source: e,
            });
        }
        tracing::info!(camera, pipeline = %description, "camera pipeline started");
        Ok(source)
    }

    /// The next frame, waiting up to `timeout`. `Ok(None)`: end of stream or no frame in time
    /// (see [`Source::is_eos`]); `Err`: the pipeline reported an error.
    pub fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, IngestError> {
        self.check_bus()?;
        let Some(sample) = self
            .sink
            .try_pull_sample(gst::ClockTime::from_nseconds(timeout.as_nanos() as u64))
        else {
            self.check_bus()?;
            return Ok(None);
        };
        self.frame(&sample).map(Some)
    }

    /// Whether the stream ended.
    pub fn is_eos(&self) -> bool {
        self.sink.is_eos()
    }

    fn check_bus(&self) -> Result<(), IngestError> {
        let Some(bus) = self.pipeline.bus() else {
            return Ok(());
        };
        while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
            if let gst::MessageView::Error(err) = msg.view() {
                let other = self
                    .other_media
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                if !other.is_empty() && self.seq == 0 {
                    return Err(IngestError::NotVideo {
                        camera: self.camera.clone(),
                        media: other.join(", "),
                    });
                }
                return Err(IngestError::Stream {
                    camera: self.camera.clone(),
                    element: msg
                        .src()
                        .map(|s| s.path_string().to_string())
                        .unwrap_or_else(|| "pipeline".into()),
                    message: match err.debug() {
                        Some(debug) => format!("{} ({debug})", err.error()),
                        None => err.error().to_string(),
                    },
                });
            }
        }
        Ok(())
    }

    fn frame(&mut self, sample: &gst::Sample) -> Result<Frame, IngestError> {
        let bad = |message: String| IngestError::Format {
            camera: self.camera.clone(),
            message,
        };
        let caps = sample
            .caps()
            .ok_or_else(|| bad("sample without caps".into()))?;
        let info = gst_video::VideoInfo::from_caps(caps).map_err(|e| bad(e.to_string()))?;
        let format = match info.format() {
            gst_video::VideoFormat::I420 => FrameFormat::I420,
            gst_video::VideoFormat::Nv12 => FrameFormat::Nv12,
            other => return Err(bad(format!("{other:?}, expected I420 or NV12"))),
        };
        let buffer = sample
            .buffer()
            .ok_or_else(|| bad("sample without buffer".into()))?;
        let map = buffer.map_readable().map_err(|e| bad(e.to_string()))?;
        let pts = buffer.pts().unwrap_or(gst::ClockTime::ZERO);
        let origin = *self.origin_pts.get_or_insert(pts);
        let pts_s = pts.saturating_sub(origin).nseconds() as f64 / 1e9;
        let offset = self.ntp_offset_ns.load(Ordering::Relaxed);
        let (time_s, time_source) = if self.live && offset != NO_OFFSET {
            // The camera's own capture time from RTCP sender reports, as Unix time.
            let ntp_ns = pts.nseconds() as i128 + i128::from(offset);
            (ntp_ns as f64 / 1e9 - NTP_UNIX_OFFSET_S, TimeSource::Ntp)
        } else if self.live {
            // Arrival on the store clock (Unix time) minus the configured latency.
            (unix_now_s() - self.latency_s, TimeSource::Arrival)
        } else {
            (pts_s, TimeSource::Pts)
        };
        let frame = Frame {
            camera: self.camera.clone(),
            seq: self.seq,
            pts_s,
            time_s,
            time_source,
            format,
            width: info.width(),
            height: info.height(),
            strides: info.stride().iter().map(|s| *s as u32).collect(),
            offsets: info.offset().to_vec(),
            data: map.as_slice().to_vec(),
        };
        self.seq += 1;
        Ok(frame)
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}
