//! The committed JSON Schemas under docs/schema/ must equal the ones generated from the types.
//! Regenerate with `WALKOUT_BLESS=1 cargo test -p walkout-types --test schema`.

use std::path::PathBuf;

use walkout_types::*;

fn schema_dir() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../docs/schema")
}

#[test]
fn committed_schemas_match_the_types() {
    let dir = schema_dir();
    let bless = std::env::var_os("WALKOUT_BLESS").is_some();
    let mut drifted = Vec::new();
    for schema in schemas() {
        let path = dir.join(schema.file_name);
        if bless {
            std::fs::create_dir_all(&dir).expect("create docs/schema");
            std::fs::write(&path, &schema.json).expect("write schema");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != schema.json {
            drifted.push(schema.file_name);
        }
    }
    assert!(
        drifted.is_empty(),
        "JSON Schema drifted from the types for {drifted:?}; if the change is intended, run \
         `WALKOUT_BLESS=1 cargo test -p walkout-types --test schema` and commit docs/schema/"
    );
}

#[test]
fn every_message_round_trips_and_carries_the_schema_version() {
    let tracks = TracksMessage {
        schema: SCHEMA_VERSION,
        store: "s".into(),
        seq: 7,
        time: 1.5,
        tracks: vec![Track {
            id: 3,
            shopper: Some("s-1".into()),
            x: 1.0,
            y: 2.0,
            height: 1.7,
            vx: 0.1,
            vy: 0.0,
            state: TrackState::Confirmed,
            confidence: 0.9,
            cameras: vec!["cam0".into()],
        }],
    };
    let json = serde_json::to_value(&tracks).expect("serialise");
    assert_eq!(json["schema"], SCHEMA_VERSION);
    assert_eq!(json["tracks"][0]["state"], "confirmed");
    let back: TracksMessage = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, tracks);

    let event = Event {
        schema: SCHEMA_VERSION,
        store: "s".into(),
        id: 1,
        time: 2.0,
        kind: EventKind::Pick {
            shopper: Some("s-1".into()),
            shelf: "A1".into(),
            level: 2,
            sku: "cola".into(),
            quantity: 2,
            weight_delta_kg: -0.7,
        },
        ambiguous: None,
        corrects: None,
    };
    let json = serde_json::to_value(&event).expect("serialise");
    assert_eq!(json["kind"], "pick");
    assert_eq!(event.kind.key(), "pick");
    let back: Event = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, event);

    // A message from a peer with an unknown field is refused, not silently half-read.
    let bad = r#"{"schema":1,"store":"s","seq":1,"time":0,"tracks":[],"extra":1}"#;
    assert!(serde_json::from_str::<TracksMessage>(bad).is_err());
}
