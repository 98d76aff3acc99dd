//! Decoding real footage (PETS 2009 S2L1 View_001, `vtest.avi` from the shared data) through the
//! `file` template, and named errors for sources that cannot work.

use std::time::Duration;

use walkout_ingest::source::{FrameFormat, IngestError, Source, SourceParams, templates};
use walkout_types::TimeSource;

fn params(location: String) -> SourceParams {
    SourceParams {
        location,
        latency_ms: 200,
        live: false,
    }
}

#[test]
fn pets_video_decodes_every_frame_with_increasing_timestamps() {
    let path = walkout_types::setup::shared_root().join("data/pets2009/vtest.avi");
    assert!(
        path.is_file(),
        "{} missing: run scripts/setup (see README)",
        path.display()
    );
    let mut src = Source::start("cam0", templates::FILE, &params(path.display().to_string()))
        .expect("pipeline");
    let mut n = 0u64;
    let mut last_pts = -1.0;
    while let Some(f) = src
        .next_frame(Duration::from_secs(10))
        .expect("no stream error")
    {
        assert_eq!((f.width, f.height), (768, 576));
        assert!(matches!(f.format, FrameFormat::I420 | FrameFormat::Nv12));
        assert_eq!(f.seq, n);
        assert!(
            f.pts_s > last_pts,
            "frame {n}: pts {} after {last_pts}",
            f.pts_s
        );
        assert_eq!(f.time_source, TimeSource::Pts);
        let y_plane = f.strides[0] as usize * f.height as usize;
        assert!(f.data.len() >= y_plane + y_plane / 2);
        last_pts = f.pts_s;
        n += 1;
    }
    assert!(src.is_eos(), "stopped before the end of the stream");
    // 795 frames; the AVI header says 10 fps, so PTS advance 0.1 s a frame.
    assert_eq!(n, 795);
    assert!((last_pts - 79.4).abs() < 0.01, "last pts {last_pts}");
}

#[test]
fn a_missing_file_is_a_named_error() {
    let err = match Source::start(
        "cam7",
        templates::FILE,
        &params("/nonexistent/video.mkv".into()),
    ) {
        Err(e) => e,
        Ok(mut src) => loop {
            match src.next_frame(Duration::from_secs(5)) {
                Err(e) => break e,
                Ok(Some(_)) => panic!("frames from a missing file"),
                Ok(None) => assert!(!src.is_eos(), "end of stream instead of an error"),
            }
        },
    };
    let msg = err.to_string();
    assert!(matches!(err, IngestError::Stream { .. }), "{msg}");
    assert!(
        msg.contains("cam7") && msg.contains("/nonexistent/video.mkv"),
        "{msg}"
    );
}

#[test]
fn a_corrupt_file_is_a_named_error_not_a_panic() {
    let path = std::env::temp_dir().join(format!("walkout-corrupt-{}.mp4", std::process::id()));
    std::fs::write(
        &path,
        b"this is not a video, just bytes that pretend to be one.....",
    )
    .expect("write");
    let mut src = Source::start("cam3", templates::FILE, &params(path.display().to_string()))
        .expect("builds");
    let mut result = src.next_frame(Duration::from_secs(5));
    for _ in 0..5 {
        if result.is_err() {
            break;
        }
        result = src.next_frame(Duration::from_secs(2));
    }
    let err = result.expect_err("a corrupt file must fail");
    assert!(err.to_string().contains("cam3"), "{err}");
}

#[test]
fn a_malformed_template_is_a_build_error() {
    let err = Source::start(
        "cam1",
        "filesrc location={location} ! nosuchelement ! appsink name=sink",
        &params("x".into()),
    )
    .err()
    .expect("must fail");
    assert!(matches!(err, IngestError::Build { .. }), "{err}");
    assert!(err.to_string().contains("cam1"));
}

#[test]
fn multiviewx_stills_encode_to_a_video_that_decodes_frame_for_frame() {
    let dir = walkout_types::setup::shared_root().join("data/multiviewx/Image_subsets/C1");
    let out = std::env::temp_dir().join(format!("walkout-stills-{}.mkv", std::process::id()));
    walkout_ingest::stills::encode_jpegs("cam0", &dir.join("%04d.jpg"), 2, &out).expect("encode");
    let mut src =
        Source::start("cam0", templates::FILE, &params(out.display().to_string())).expect("decode");
    let mut pts = Vec::new();
    while let Some(f) = src.next_frame(Duration::from_secs(10)).expect("no error") {
        assert_eq!((f.width, f.height), (1920, 1080));
        pts.push(f.pts_s);
    }
    let _ = std::fs::remove_file(&out);
    // The sample's 10 frames, 0.5 s apart.
    assert_eq!(pts.len(), 10, "{pts:?}");
    assert!(
        pts.windows(2).all(|w| (w[1] - w[0] - 0.5).abs() < 1e-3),
        "{pts:?}"
    );
}

#[test]
fn stills_that_are_missing_are_a_named_error() {
    let out =
        std::env::temp_dir().join(format!("walkout-stills-missing-{}.mkv", std::process::id()));
    let e = walkout_ingest::stills::encode_jpegs(
        "cam3",
        std::path::Path::new("/nonexistent/%04d.jpg"),
        2,
        &out,
    )
    .expect_err("no images");
    let text = e.to_string();
    assert!(
        text.contains("cam3") && text.contains("/nonexistent/%04d.jpg"),
        "{text}"
    );
}
