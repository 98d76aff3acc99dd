//! Video ingest: every camera of a store config becomes a GStreamer pipeline (templates in the
//! repository's `pipelines/`) that delivers decoded I420/NV12 frames with capture timestamps,
//! through observable drop-oldest queues. (Supervision with reconnects, the frame aligner and
//! recording come next; see ARCHITECTURE.md.)

pub mod aligner;
pub mod queue;
pub mod source;
pub mod supervisor;
