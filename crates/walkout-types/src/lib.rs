//! Message types every walkout stage and every downstream subscriber shares.
//!
//! All payloads on the bus are JSON of these types. Every message carries `schema`, the version of
//! this crate's wire format ([`SCHEMA_VERSION`]); a subscriber that sees a newer major version should
//! refuse the message rather than guess. The JSON Schema of each message is generated from these
//! types ([`schemas`]) and committed under `docs/schema/`.
//!
//! Conventions: SI units (metres, seconds, kilograms); floor coordinates `x`, `y` in the store's
//! world frame (z up, floor at z = 0); `time` is seconds on the store clock (UNIX epoch for live
//! cameras, seconds from the start for replays). No images or embeddings leave the store: the only
//! message with embeddings is [`ViewDetections`], which travels edge -> fusion inside the store.

pub mod candidate;
pub mod messages;
pub mod setup;

pub use candidate::FloorCandidate;
pub use messages::*;

/// Version of the wire format. Bump on any incompatible change to a message.
pub const SCHEMA_VERSION: u32 = 1;

/// One generated JSON Schema: the file name it is committed under and its pretty JSON text.
pub struct SchemaFile {
    pub file_name: &'static str,
    pub json: String,
}

/// JSON Schemas of every message type, as committed under `docs/schema/`.
pub fn schemas() -> Vec<SchemaFile> {
    fn one<T: schemars::JsonSchema>(file_name: &'static str) -> SchemaFile {
        let schema = schemars::schema_for!(T);
        let mut json = serde_json::to_string_pretty(&schema).unwrap_or_default();
        json.push('\n');
        SchemaFile { file_name, json }
    }
    vec![
        one::<TracksMessage>("tracks.schema.json"),
        one::<ViewDetections>("view_detections.schema.json"),
        one::<Event>("event.schema.json"),
        one::<Cart>("cart.schema.json"),
        one::<Health>("health.schema.json"),
        one::<GateMessage>("gate.schema.json"),
        one::<ShelfWeight>("shelf_weight.schema.json"),
    ]
}
