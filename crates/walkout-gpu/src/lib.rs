//! GPU compute for walkout with wgpu: the floor (BEV) occupancy kernels of the fusion stage and the
//! frame preprocessing / person-crop kernel of the inference stage. Every kernel has a CPU
//! reference ([`bev::cpu`], [`preprocess::cpu`]) that the tests compare it with.
//!
//! Policy: on a real GPU the wgpu path is the product path. When the only adapter is a software
//! one (Mesa's lavapipe, 2-10x slower than rayon on 2 cores), [`ComputePath::Auto`] resolves to the
//! CPU path; the wgpu path stays selectable ([`ComputePath::Gpu`]), which the tests use.

pub mod bev;
pub mod preprocess;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// WGSL sources, embedded at build time from the repository's `shaders/`.
pub mod shaders {
    pub const BEV_SPLAT: &str = include_str!("../../../shaders/bev_splat.wgsl");
    pub const BEV_PEAKS: &str = include_str!("../../../shaders/bev_peaks.wgsl");
    pub const PREPROCESS: &str = include_str!("../../../shaders/preprocess.wgsl");
    /// (file name, source) of every shader.
    pub const ALL: [(&str, &str); 3] = [
        ("bev_splat.wgsl", BEV_SPLAT),
        ("bev_peaks.wgsl", BEV_PEAKS),
        ("preprocess.wgsl", PREPROCESS),
    ];
}

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no usable GPU adapter (found: {found}); install Mesa's lavapipe (mesa-vulkan-drivers) or a GPU driver"
    )]
    NoAdapter { found: String },
    #[error("cannot create a device on adapter `{adapter}`")]
    Device {
        adapter: String,
        source: wgpu::RequestDeviceError,
    },
    #[error("GPU readback failed: {0}")]
    Readback(String),
    #[error("invalid input: {0}")]
    Input(String),
}

/// Which implementation a stage runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComputePath {
    /// wgpu on a hardware adapter, CPU when the only adapter is a software one.
    #[default]
    Auto,
    Gpu,
    Cpu,
}

/// A headless wgpu device, shared by the kernels.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    buffers_created: AtomicU64,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GpuContext({} {:?} {:?})",
            self.info.name, self.info.device_type, self.info.backend
        )
    }
}

fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

impl GpuContext {
    /// Picks the best adapter (discrete, then integrated, then virtual, then software) and
    /// creates a device on it. Logs the choice.
    pub fn new() -> Result<Arc<GpuContext>, GpuError> {
        // Vulkan first (NVIDIA, Mesa's lavapipe); OpenGL/EGL only when Vulkan has no adapter.
        let enumerate = |backends: wgpu::Backends| {
            let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
            desc.backends = backends;
            let instance = wgpu::Instance::new(desc);
            pollster::block_on(instance.enumerate_adapters(backends))
        };
        let mut adapters = enumerate(wgpu::Backends::VULKAN);
        if adapters.is_empty() {
            adapters = enumerate(wgpu::Backends::GL);
        }
        let found: Vec<String> = adapters
            .iter()
            .map(|a| {
                let i = a.get_info();
                format!("{} ({:?}, {:?})", i.name, i.device_type, i.backend)
            })
            .collect();
        // Vulkan before GL for the same kind of device.
        adapters.sort_by_key(|a| {
            let i = a.get_info();
            (
                rank(i.device_type),
                u8::from(i.backend != wgpu::Backend::Vulkan),
            )
        });
        let Some(adapter) = adapters.into_iter().next() else {
            return Err(GpuError::NoAdapter {
                found: if found.is_empty() {
                    "none".into()
                } else {
                    found.join(", ")
                },
            });
        };
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("walkout"),
            required_features: wgpu::Features::empty(),
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|source| GpuError::Device {
            adapter: info.name.clone(),
            source,
        })?;
        tracing::info!(
            adapter = %info.name,
            kind = ?info.device_type,
            backend = ?info.backend,
            driver = %info.driver,
            candidates = %found.join(", "),
            "GPU adapter chosen"
        );
        Ok(Arc::new(GpuContext {
            device,
            queue,
            info,
            buffers_created: AtomicU64::new(0),
        }))
    }

    /// Whether the adapter is a software rasteriser (lavapipe, llvmpipe).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Resolves a requested path against this adapter.
    pub fn resolve(&self, requested: ComputePath) -> ComputePath {
        match requested {
            ComputePath::Auto if self.is_software() => ComputePath::Cpu,
            ComputePath::Auto => ComputePath::Gpu,
            other => other,
        }
    }

    /// GPU buffers created through this context so far (the hot path must not add any).
    pub fn buffers_created(&self) -> u64 {
        self.buffers_created.load(Ordering::Relaxed)
    }

    pub(crate) fn buffer(&self, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.buffers_created.fetch_add(1, Ordering::Relaxed);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size
                .max(16)
                .next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT * 4),
            usage,
            mapped_at_creation: false,
        })
    }

    pub(crate) fn pipeline(&self, label: &str, source: &str, entry: &str) -> wgpu::ComputePipeline {
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
    }

    /// Copies `size` bytes of `src` into the mappable `staging` buffer and reads them back.
    pub(crate) fn read(
        &self,
        src: &wgpu::Buffer,
        staging: &wgpu::Buffer,
        size: u64,
    ) -> Result<Vec<u8>, GpuError> {
        let mut out = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
        self.read_into(src, staging, &mut out)?;
        Ok(out)
    }

    /// Copies `src`'s first `dst.len()` bytes (a multiple of 4) into the mappable `staging`
    /// buffer, waits for it, and copies them out of the mapping straight into `dst` (one host
    /// copy, split across threads when large: mapped memory can be slow to read, and a single
    /// core's copy was most of a large readback). Returns the microseconds spent waiting for the
    /// GPU and copying out.
    pub(crate) fn read_into<T: bytemuck::Pod>(
        &self,
        src: &wgpu::Buffer,
        staging: &wgpu::Buffer,
        dst: &mut [T],
    ) -> Result<ReadbackTimings, GpuError> {
        let dst: &mut [u8] = bytemuck::cast_slice_mut(dst);
        let size = dst.len() as u64;
        if size == 0 {
            return Ok(ReadbackTimings::default());
        }
        let t0 = std::time::Instant::now();
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        enc.copy_buffer_to_buffer(src, 0, staging, 0, size);
        self.queue.submit([enc.finish()]);
        let slice = staging.slice(..size);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| GpuError::Readback(e.to_string()))?
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let t1 = std::time::Instant::now();
        {
            let mapped = slice
                .get_mapped_range()
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            copy_parallel(&mapped, dst);
        }
        staging.unmap();
        Ok(ReadbackTimings {
            wait_us: (t1 - t0).as_secs_f64() * 1e6,
            copy_us: t1.elapsed().as_secs_f64() * 1e6,
        })
    }
}

/// Copies `src` into `dst` (same length), in 1 MiB chunks across rayon's threads when it is
/// larger than that.
fn copy_parallel(src: &[u8], dst: &mut [u8]) {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 20;
    if src.len() <= CHUNK {
        dst.copy_from_slice(src);
    } else {
        dst.par_chunks_mut(CHUNK)
            .zip(src.par_chunks(CHUNK))
            .for_each(|(d, s)| d.copy_from_slice(s));
    }
}

/// Where a readback's time went, microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReadbackTimings {
    /// Copy to the staging buffer, mapping, and waiting for the GPU.
    pub wait_us: f64,
    /// Copying out of the mapped staging buffer.
    pub copy_us: f64,
}

/// Wall time of the phases of one kernel run, microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KernelTimings {
    pub upload_us: f64,
    pub dispatch_us: f64,
    /// The whole readback: [`ReadbackTimings`]'s wait and copy, and any conversion after.
    pub readback_us: f64,
    /// Of `readback_us`, the copy out of mapped memory.
    pub readback_copy_us: f64,
}
