//! An RTSP server in this process (gstreamer-rtsp-server on its own GLib main context and
//! thread): `walkoutd demo` serves a recorded video as a live camera through it, so the demo runs
//! the real RTSP ingest path end to end.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;

use crate::source::IngestError;

/// A running server with one mount point.
pub struct RtspServer {
    port: u16,
    mount: String,
    main_loop: glib::MainLoop,
    ctx: glib::MainContext,
    server: rtsp::RTSPServer,
    /// The pipeline (bin) of the latest media a client set up.
    media: Arc<Mutex<Option<gst::Bin>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RtspServer {
    /// Serves `launch` (a gst-rtsp-server launch line ending in a payloader named `pay0`) at
    /// `rtsp://127.0.0.1:<port>/<mount>`; port 0 lets the OS choose.
    pub fn start(port: u16, mount: &str, launch: &str) -> Result<RtspServer, IngestError> {
        crate::source::init()?;
        let ctx = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&ctx), false);
        let server = rtsp::RTSPServer::new();
        server.set_address("127.0.0.1");
        server.set_service(&port.to_string());
        let factory = rtsp::RTSPMediaFactory::new();
        factory.set_launch(launch);
        factory.set_shared(true);
        let media: Arc<Mutex<Option<gst::Bin>>> = Arc::default();
        let m = media.clone();
        factory.connect_media_configure(move |_, configured| {
            if let Ok(bin) = configured.element().downcast::<gst::Bin>() {
                *m.lock().unwrap_or_else(|e| e.into_inner()) = Some(bin);
            }
        });
        let mount = format!("/{}", mount.trim_start_matches('/'));
        let fail = |message: String| IngestError::Stream {
            camera: "rtsp-server".into(),
            element: "rtsp-server".into(),
            message,
        };
        server
            .mount_points()
            .ok_or_else(|| fail("no mount points".into()))?
            .add_factory(&mount, factory);
        let (s, c, l) = (server.clone(), ctx.clone(), main_loop.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rtsp-server".into())
            .spawn(move || {
                let r = c.with_thread_default(|| match s.attach(Some(&c)) {
                    Ok(id) => {
                        let _ = tx.send(Ok(s.bound_port()));
                        l.run();
                        if let Some(source) = c.find_source_by_id(&id) {
                            source.destroy();
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                });
                if let Err(e) = r {
                    tracing::error!(error = %e, "RTSP server thread");
                }
            })
            .map_err(|e| fail(e.to_string()))?;
        let port = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(p)) => u16::try_from(p).map_err(|_| fail(format!("bad port {p}")))?,
            Ok(Err(e)) => return Err(fail(format!("cannot listen on 127.0.0.1:{port}: {e}"))),
            Err(_) => return Err(fail("the server did not start within 10 s".into())),
        };
        Ok(RtspServer {
            port,
            mount,
            main_loop,
            ctx,
            server,
            media,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// An element of the served pipeline by name (once a client has set the media up): tests
    /// use a `valve` to freeze a stream without closing it.
    pub fn element(&self, name: &str) -> Option<gst::Element> {
        self.media
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|bin| bin.by_name(name))
    }

    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}{}", self.port, self.mount)
    }

    /// Closes every client and stops listening.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let s = self.server.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        self.ctx.invoke(move || {
            s.client_filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
            let _ = tx.send(());
        });
        let _ = rx.recv_timeout(Duration::from_secs(5));
        self.main_loop.quit();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}
