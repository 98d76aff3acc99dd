//! Where the runtime pieces are: shared data, models, the ONNX Runtime library.
//!
//! The one place that answers "where is X": `scripts/setup` writes `.walkout/setup.env` in the
//! repository; tests, benches and the daemon read it through this module. Each entry can be
//! overridden by the environment variable of the same name:
//!
//! | variable | what |
//! |---|---|
//! | `WALKOUT_SHARED` | shared data root (default `../shared` next to the repository) |
//! | `WALKOUT_MODELS` | directory holding the model files of `models/models.toml` |
//! | `ORT_DYLIB_PATH` | `libonnxruntime.so` to load |
//! | `WALKOUT_PYTHON` | Python with the tests' clients (eclipse-zenoh, jsonschema) |
//! | `WALKOUT_DEMO_VIDEO` | the demo's video (PETS 2009 `vtest.avi`) |

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Name of the file `scripts/setup` writes, relative to the repository root.
pub const SETUP_ENV: &str = ".walkout/setup.env";

/// Runtime locations, resolved once per process.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    /// The `setup.env` that was found, if any.
    pub setup_env: Option<PathBuf>,
    /// Repository root, when running from a checkout.
    pub repo: Option<PathBuf>,
    pub shared: PathBuf,
    pub models: Option<PathBuf>,
    pub ort_dylib: Option<PathBuf>,
    /// Python with the test clients (zenoh, jsonschema).
    pub python: Option<PathBuf>,
    /// The demo's video (PETS 2009 S2L1 `vtest.avi`).
    pub demo_video: Option<PathBuf>,
}

/// The process-wide locations (environment first, then `.walkout/setup.env`, then defaults).
pub fn locations() -> &'static Locations {
    static LOCATIONS: OnceLock<Locations> = OnceLock::new();
    LOCATIONS.get_or_init(resolve)
}

/// The shared data root (`WALKOUT_SHARED`).
pub fn shared_root() -> &'static Path {
    &locations().shared
}

fn resolve() -> Locations {
    let env_file = find_setup_env();
    let file_vars = env_file
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| parse_env(&text))
        .unwrap_or_default();
    let repo = env_file
        .as_deref()
        .and_then(|p| p.parent())
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .or_else(find_repo);
    let get = |key: &str| -> Option<PathBuf> {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| file_vars.get(key).map(PathBuf::from))
    };
    let shared = get("WALKOUT_SHARED").unwrap_or_else(|| match &repo {
        Some(r) => r.join("../shared"),
        None => PathBuf::from("../shared"),
    });
    Locations {
        setup_env: env_file,
        shared,
        models: get("WALKOUT_MODELS"),
        ort_dylib: get("ORT_DYLIB_PATH"),
        python: get("WALKOUT_PYTHON"),
        demo_video: get("WALKOUT_DEMO_VIDEO"),
        repo,
    }
}

/// Parses `KEY=VALUE` lines; `#` starts a comment line.
pub fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Directories to search upwards from: the working directory, the executable's directory and
/// the directory this crate was built from (so tests find the checkout's setup wherever they run).
fn search_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        roots.push(dir);
    }
    // The crate's directory: at run time where cargo runs it from (a build cache shared by
    // checkouts in different places may hold a binary built from another one), else where
    // it was built.
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        roots.push(PathBuf::from(dir));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    roots
}

fn find_setup_env() -> Option<PathBuf> {
    search_roots().iter().find_map(|root| {
        root.ancestors()
            .map(|dir| dir.join(SETUP_ENV))
            .find(|candidate| candidate.is_file())
    })
}

fn find_repo() -> Option<PathBuf> {
    search_roots().iter().find_map(|root| {
        root.ancestors()
            .find(|dir| dir.join("models/models.toml").is_file() && dir.join("crates").is_dir())
            .map(Path::to_path_buf)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_env_lines() {
        let vars = parse_env("# comment\nA=/x/y\n\n B = z \nnot a pair\n");
        assert_eq!(vars.get("A").map(String::as_str), Some("/x/y"));
        assert_eq!(vars.get("B").map(String::as_str), Some("z"));
        assert_eq!(vars.len(), 2);
    }

    #[test]
    fn finds_the_checkout() {
        // Tests run inside the checkout, so the repository root is always found.
        let loc = locations();
        let repo = loc
            .repo
            .as_ref()
            .expect("repository root found from CARGO_MANIFEST_DIR");
        assert!(repo.join("models/models.toml").is_file());
    }
}
