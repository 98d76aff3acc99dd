//! Without the ONNX Runtime library the error names every place that was looked at. (Its own
//! test binary: a process can load the library only once.)

use std::path::PathBuf;

use walkout_infer::InferError;
use walkout_infer::runtime::{self, RuntimeConfig};

#[test]
fn a_missing_runtime_library_names_the_path_and_what_to_do() {
    let missing = PathBuf::from("/nonexistent/libonnxruntime.so.1.31.1");
    let cfg = RuntimeConfig {
        library: Some(missing.clone()),
        ..Default::default()
    };
    let err = runtime::init(&cfg).expect_err("missing library");
    let msg = err.to_string();
    assert!(matches!(err, InferError::RuntimeMissing { .. }), "{msg}");
    assert!(
        msg.contains("/nonexistent/libonnxruntime.so.1.31.1"),
        "{msg}"
    );
    assert!(
        msg.contains("ORT_DYLIB_PATH") && msg.contains("scripts/setup"),
        "{msg}"
    );
    // A file that is not a shared library is refused by the loader, named.
    let bogus = std::env::temp_dir().join(format!("walkout-not-a-lib-{}.so", std::process::id()));
    std::fs::write(&bogus, b"not an ELF file").expect("write");
    let err = runtime::init(&RuntimeConfig {
        library: Some(bogus.clone()),
        ..Default::default()
    })
    .expect_err("not a library");
    assert!(matches!(err, InferError::RuntimeLoad { .. }), "{err}");
    assert!(
        err.to_string().contains(&bogus.display().to_string()),
        "{err}"
    );
}
