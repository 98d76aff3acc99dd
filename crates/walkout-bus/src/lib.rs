//! walkout on zenoh: the key space of DESIGN.md section 4 under `walkout/<store>/`, JSON payloads
//! of the walkout-types messages (each with its `schema` version), publishers for tracks, events,
//! carts, health and per-view detections, subscribers for the inputs, and a queryable
//! `walkout/<store>/state/**` answering the current tracks, carts and health.
//!
//! zenoh is used through its synchronous API (`Wait`): the session runs on zenoh's own runtime,
//! so the daemon's stage threads stay plain threads.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use zenoh::Wait;
use zenoh::qos::CongestionControl;

/// How this process joins the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusConfig {
    /// `peer` or `client`.
    pub mode: String,
    /// Endpoints to listen on, e.g. `tcp/127.0.0.1:7447`.
    pub listen: Vec<String>,
    /// Endpoints to connect to.
    pub connect: Vec<String>,
    /// Multicast scouting (off by default: stores list their peers explicitly).
    pub multicast_scouting: bool,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            mode: "peer".into(),
            listen: Vec::new(),
            connect: Vec::new(),
            multicast_scouting: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("zenoh config `{key}`: {message}")]
    Config { key: String, message: String },
    #[error(
        "cannot open the zenoh session (mode {mode}, listen {listen:?}, connect {connect:?}): {message}"
    )]
    Open {
        mode: String,
        listen: Vec<String>,
        connect: Vec<String>,
        message: String,
    },
    #[error("zenoh {what} on `{key}`: {message}")]
    Declare {
        what: &'static str,
        key: String,
        message: String,
    },
    #[error("cannot encode a message for `{key}`: {source}")]
    Encode {
        key: String,
        source: serde_json::Error,
    },
}

/// The current state the queryable answers with: JSON documents by key suffix under `state/`
/// (`tracks`, `carts`, `health`).
pub type State = Arc<Mutex<std::collections::BTreeMap<String, serde_json::Value>>>;

/// An open bus for one store.
pub struct Bus {
    session: zenoh::Session,
    store: String,
    state: State,
    _queryable: Option<zenoh::query::Queryable<()>>,
    subscribers: Mutex<Vec<zenoh::pubsub::Subscriber<()>>>,
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Bus {
    /// Opens a zenoh session for `store` and declares the state queryable.
    pub fn open(store: &str, config: &BusConfig) -> Result<Bus, BusError> {
        let mut zc = zenoh::Config::default();
        let set = |zc: &mut zenoh::Config, key: &str, value: String| {
            zc.insert_json5(key, &value).map_err(|e| BusError::Config {
                key: key.into(),
                message: e.to_string(),
            })
        };
        if !matches!(config.mode.as_str(), "peer" | "client") {
            return Err(BusError::Config {
                key: "mode".into(),
                message: format!("`{}`: expected peer or client", config.mode),
            });
        }
        set(&mut zc, "mode", format!("\"{}\"", config.mode))?;
        set(&mut zc, "listen/endpoints", json_list(&config.listen))?;
        set(&mut zc, "connect/endpoints", json_list(&config.connect))?;
        set(
            &mut zc,
            "scouting/multicast/enabled",
            config.multicast_scouting.to_string(),
        )?;
        let session = zenoh::open(zc).wait().map_err(|e| BusError::Open {
            mode: config.mode.clone(),
            listen: config.listen.clone(),
            connect: config.connect.clone(),
            message: e.to_string(),
        })?;
        let state: State = Arc::default();
        let key = format!("walkout/{store}/state/**");
        let (st, prefix) = (state.clone(), format!("walkout/{store}/state/"));
        let queryable = session
            .declare_queryable(&key)
            .callback(move |query| {
                let docs = st.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let asked = query.key_expr().clone();
                for (name, doc) in docs {
                    let k = format!("{prefix}{name}");
                    let Ok(ke) = zenoh::key_expr::KeyExpr::try_from(k.clone()) else {
                        continue;
                    };
                    if asked.intersects(&ke) {
                        let body = doc.to_string();
                        if let Err(e) = query.reply(ke, body).wait() {
                            tracing::warn!(key = %k, error = %e, "state reply failed");
                        }
                    }
                }
            })
            .wait()
            .map_err(|e| BusError::Declare {
                what: "queryable",
                key: key.clone(),
                message: e.to_string(),
            })?;
        Ok(Bus {
            session,
            store: store.into(),
            state,
            _queryable: Some(queryable),
            subscribers: Mutex::new(Vec::new()),
        })
    }

    pub fn store(&self) -> &str {
        &self.store
    }

    /// `walkout/<store>/<suffix>`.
    pub fn key(&self, suffix: &str) -> String {
        format!("walkout/{}/{suffix}", self.store)
    }

    /// Publishes `msg` as JSON on `walkout/<store>/<suffix>`. Tracks, events and carts are not
    /// to be lost: congestion blocks rather than drops.
    pub fn put<T: Serialize>(&self, suffix: &str, msg: &T) -> Result<(), BusError> {
        let key = self.key(suffix);
        let body = serde_json::to_string(msg).map_err(|source| BusError::Encode {
            key: key.clone(),
            source,
        })?;
        self.session
            .put(&key, body)
            .congestion_control(CongestionControl::Block)
            .wait()
            .map_err(|e| BusError::Declare {
                what: "put",
                key,
                message: e.to_string(),
            })
    }

    /// Sets the document the queryable answers for `walkout/<store>/state/<name>`.
    pub fn set_state<T: Serialize>(&self, name: &str, doc: &T) {
        if let Ok(v) = serde_json::to_value(doc) {
            self.state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.into(), v);
        }
    }

    /// Subscribes to `walkout/<store>/<suffix>` (wildcards allowed); every message that decodes
    /// as `T` goes to `on_message` with its key; others are logged and skipped.
    pub fn subscribe<T, F>(&self, suffix: &str, on_message: F) -> Result<(), BusError>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(&str, T) + Send + Sync + 'static,
    {
        let key = self.key(suffix);
        let sub = self
            .session
            .declare_subscriber(&key)
            .callback(move |sample| {
                let k = sample.key_expr().as_str().to_string();
                let bytes = sample.payload().to_bytes();
                match serde_json::from_slice::<T>(&bytes) {
                    Ok(msg) => on_message(&k, msg),
                    Err(e) => tracing::warn!(key = %k, error = %e, "undecodable message skipped"),
                }
            })
            .wait()
            .map_err(|e| BusError::Declare {
                what: "subscriber",
                key: key.clone(),
                message: e.to_string(),
            })?;
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sub);
        Ok(())
    }

    /// Asks `walkout/<store>/state/<name>` (wildcards allowed) and returns the replies' JSON.
    pub fn query_state(
        &self,
        name: &str,
        timeout: std::time::Duration,
    ) -> Result<Vec<(String, serde_json::Value)>, BusError> {
        let key = self.key(&format!("state/{name}"));
        let replies = self
            .session
            .get(&key)
            .timeout(timeout)
            .wait()
            .map_err(|e| BusError::Declare {
                what: "get",
                key: key.clone(),
                message: e.to_string(),
            })?;
        let mut out = Vec::new();
        while let Ok(reply) = replies.recv() {
            if let Ok(sample) = reply.result() {
                let bytes = sample.payload().to_bytes();
                if let Ok(v) = serde_json::from_slice(&bytes) {
                    out.push((sample.key_expr().as_str().to_string(), v));
                }
            }
        }
        Ok(out)
    }

    /// Closes the session (pending messages are flushed).
    pub fn close(self) {
        let Bus {
            session,
            subscribers,
            _queryable,
            ..
        } = self;
        drop(subscribers);
        drop(_queryable);
        if let Err(e) = session.close().wait() {
            tracing::warn!(error = %e, "closing the zenoh session");
        }
    }
}
