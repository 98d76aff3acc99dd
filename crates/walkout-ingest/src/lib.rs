//! Video ingest: every camera of a store config becomes a GStreamer pipeline (templates in the
//! repository's `pipelines/`) that delivers decoded I420/NV12 frames with capture timestamps,
//! through observable drop-oldest queues; supervisors reconnect cameras with backoff; the aligner
//! groups frames into ticks; `record` writes cameras to segmented MKV and plays recordings back.

pub mod aligner;
pub mod queue;
pub mod record;
pub mod rtsp_server;
pub mod source;
pub mod stills;
pub mod supervisor;
