//! Decoded frames -> model input tensors, batched: whole frames letterboxed for the detector, and
//! person crops stretched to the ReID input. One kernel: each job maps a source rectangle of a
//! frame into a destination area of one tensor slot with bilinear sampling (OpenCV's pixel-centre
//! convention, edge pixels replicated inside the frame, the pad value outside the frame and
//! outside the destination area), then channel order, scaling and mean/std.

use std::sync::Arc;
use std::time::Instant;

use bytemuck::{Pod, Zeroable};

use crate::{GpuContext, GpuError, KernelTimings, shaders};

/// Pixel formats of decoded frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// Planar Y, then U and V at half resolution (GStreamer's software decoders).
    I420,
    /// Y, then interleaved UV at half resolution (hardware decoders).
    Nv12,
    /// 8-bit RGBA.
    Rgba,
}

/// A decoded frame in memory.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Bytes per row of the Y plane (or of the RGBA image).
    pub stride: u32,
    /// Bytes per row of the chroma plane(s).
    pub chroma_stride: u32,
    /// All planes, contiguous: Y, then U then V (I420) or UV (NV12).
    pub data: &'a [u8],
}

impl<'a> Frame<'a> {
    /// A tightly packed frame of the given format.
    pub fn packed(format: PixelFormat, width: u32, height: u32, data: &'a [u8]) -> Frame<'a> {
        let chroma_stride = match format {
            PixelFormat::I420 => width.div_ceil(2),
            PixelFormat::Nv12 => width.div_ceil(2) * 2,
            PixelFormat::Rgba => 0,
        };
        let stride = if format == PixelFormat::Rgba {
            width * 4
        } else {
            width
        };
        Frame {
            format,
            width,
            height,
            stride,
            chroma_stride,
            data,
        }
    }

    /// Bytes a packed frame of this format and size needs.
    pub fn packed_len(format: PixelFormat, width: u32, height: u32) -> usize {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        match format {
            PixelFormat::I420 => w * h + 2 * cw * ch,
            PixelFormat::Nv12 => w * h + 2 * cw * ch,
            PixelFormat::Rgba => 4 * w * h,
        }
    }

    fn plane_offsets(&self) -> (u32, u32) {
        let y_size = self.stride * self.height;
        let c_size = self.chroma_stride * self.height.div_ceil(2);
        match self.format {
            PixelFormat::I420 => (y_size, y_size + c_size),
            PixelFormat::Nv12 => (y_size, y_size),
            PixelFormat::Rgba => (0, 0),
        }
    }

    fn check(&self) -> Result<(), GpuError> {
        let need = match self.format {
            PixelFormat::Rgba => self.stride as usize * self.height as usize,
            _ => {
                let (_, v) = self.plane_offsets();
                let c = self.chroma_stride as usize * self.height.div_ceil(2) as usize;
                v as usize + c
            }
        };
        if self.width == 0 || self.height == 0 || self.data.len() < need {
            return Err(GpuError::Input(format!(
                "{:?} frame {}x{} needs {need} bytes, has {}",
                self.format,
                self.width,
                self.height,
                self.data.len()
            )));
        }
        Ok(())
    }
}

/// YUV -> RGB conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMatrix {
    /// ITU-R BT.601, limited range (SD video).
    Bt601,
    /// ITU-R BT.709, limited range (HD video).
    #[default]
    Bt709,
}

impl ColorMatrix {
    /// [ky, kr_v, kg_u, kg_v], [kb_u, y_offset, c_offset, 0].
    fn coefficients(self) -> ([f32; 4], [f32; 4]) {
        match self {
            ColorMatrix::Bt601 => ([1.164, 1.596, -0.392, -0.813], [2.017, 16.0, 128.0, 0.0]),
            ColorMatrix::Bt709 => ([1.164, 1.793, -0.213, -0.533], [2.112, 16.0, 128.0, 0.0]),
        }
    }
}

/// How a tensor is laid out and normalised (one per model contract).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorSpec {
    pub width: u32,
    pub height: u32,
    pub nhwc: bool,
    pub bgr: bool,
    /// Multiplies 0-255 values before mean/std.
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Pad value, 0-255 units.
    pub pad: f32,
    pub color: ColorMatrix,
}

impl TensorSpec {
    /// YOLOX-nano: 416x416 NCHW, BGR, 0-255, letterbox top-left, pad 114.
    pub fn yolox_nano() -> TensorSpec {
        TensorSpec {
            width: 416,
            height: 416,
            nhwc: false,
            bgr: true,
            scale: 1.0,
            mean: [0.0; 3],
            std: [1.0; 3],
            pad: 114.0,
            color: ColorMatrix::default(),
        }
    }

    /// PicoDet-XS 320: 320x320 NCHW, RGB, /255 then ImageNet mean/std, stretched.
    pub fn picodet_xs() -> TensorSpec {
        TensorSpec {
            width: 320,
            height: 320,
            nhwc: false,
            bgr: false,
            scale: 1.0 / 255.0,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            pad: 0.0,
            color: ColorMatrix::default(),
        }
    }

    /// Intel person-reidentification-retail-0248: 128x256 NHWC, BGR, 0-255.
    pub fn reid_retail_0248() -> TensorSpec {
        TensorSpec {
            width: 128,
            height: 256,
            nhwc: true,
            bgr: true,
            scale: 1.0,
            mean: [0.0; 3],
            std: [1.0; 3],
            pad: 0.0,
            color: ColorMatrix::default(),
        }
    }

    /// OSNet x0_25: 128x256 NCHW, RGB, /255 then ImageNet mean/std.
    pub fn osnet_x0_25() -> TensorSpec {
        TensorSpec {
            nhwc: false,
            bgr: false,
            scale: 1.0 / 255.0,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            ..Self::reid_retail_0248()
        }
    }

    /// f32 values per tensor slot (one image).
    pub fn slot_len(&self) -> usize {
        3 * self.width as usize * self.height as usize
    }
}

/// Where a letterboxed frame lies in the tensor; maps detections back to frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Scale from frame to tensor pixels (`min(W/w, H/h)`).
    pub scale: f32,
    /// Size of the resized content, tensor pixels (`floor(w * scale)`, `floor(h * scale)`).
    pub content_w: u32,
    pub content_h: u32,
    /// Offset of the content in the tensor (0 for top-left placement).
    pub offset_x: u32,
    pub offset_y: u32,
}

impl Letterbox {
    pub fn new(frame_w: u32, frame_h: u32, spec: &TensorSpec, centred: bool) -> Letterbox {
        let scale = (spec.width as f32 / frame_w as f32).min(spec.height as f32 / frame_h as f32);
        let content_w = ((frame_w as f32 * scale) as u32).clamp(1, spec.width);
        let content_h = ((frame_h as f32 * scale) as u32).clamp(1, spec.height);
        let (offset_x, offset_y) = if centred {
            ((spec.width - content_w) / 2, (spec.height - content_h) / 2)
        } else {
            (0, 0)
        };
        Letterbox {
            scale,
            content_w,
            content_h,
            offset_x,
            offset_y,
        }
    }

    /// A tensor point back to frame pixels.
    pub fn to_frame(&self, x: f32, y: f32) -> (f32, f32) {
        (
            (x - self.offset_x as f32) / self.scale,
            (y - self.offset_y as f32) / self.scale,
        )
    }
}

/// One image of a batch: a source rectangle of a frame into a destination area of a tensor slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Job {
    /// Index into the frames of the batch.
    pub frame: usize,
    /// Source rectangle in frame pixels (may extend past the frame: that part is padded).
    pub src_x: f32,
    pub src_y: f32,
    pub src_w: f32,
    pub src_h: f32,
    /// Destination area in tensor pixels.
    pub dst_x: u32,
    pub dst_y: u32,
    pub dst_w: u32,
    pub dst_h: u32,
}

impl Job {
    /// The whole frame letterboxed.
    pub fn letterbox(frame: usize, frame_w: u32, frame_h: u32, lb: &Letterbox) -> Job {
        Job {
            frame,
            src_x: 0.0,
            src_y: 0.0,
            src_w: frame_w as f32,
            src_h: frame_h as f32,
            dst_x: lb.offset_x,
            dst_y: lb.offset_y,
            dst_w: lb.content_w,
            dst_h: lb.content_h,
        }
    }

    /// A box (left, top, width, height in frame pixels) stretched to the whole tensor.
    pub fn crop(
        frame: usize,
        left: f32,
        top: f32,
        width: f32,
        height: f32,
        spec: &TensorSpec,
    ) -> Job {
        Job {
            frame,
            src_x: left,
            src_y: top,
            src_w: width,
            src_h: height,
            dst_x: 0,
            dst_y: 0,
            dst_w: spec.width,
            dst_h: spec.height,
        }
    }
}

/// Splits `v` into three f32 parts of at most 8 significant bits each (`v == a + b + c`
/// exactly), so that their products with pixel indices (at most 13 significant bits) are exact.
pub fn split3(v: f32) -> [f32; 3] {
    let top8 = |x: f32| f32::from_bits(x.to_bits() & !0x7fff);
    let a = top8(v);
    let r = v - a;
    let b = top8(r);
    [a, b, r - b]
}

/// CPU reference, the same arithmetic as the shader (f32).
pub mod cpu {
    use super::*;

    fn rgb_at(f: &Frame, spec: &TensorSpec, x: u32, y: u32) -> [f32; 3] {
        let d = f.data;
        match f.format {
            PixelFormat::Rgba => {
                let p = (y * f.stride + x * 4) as usize;
                [f32::from(d[p]), f32::from(d[p + 1]), f32::from(d[p + 2])]
            }
            PixelFormat::I420 | PixelFormat::Nv12 => {
                let (k0, k1) = spec.color.coefficients();
                let (ou, ov) = f.plane_offsets();
                let yy = f32::from(d[(y * f.stride + x) as usize]) - k1[1];
                let (u, v) = if f.format == PixelFormat::I420 {
                    let ci = ((y >> 1) * f.chroma_stride + (x >> 1)) as usize;
                    (
                        f32::from(d[ou as usize + ci]),
                        f32::from(d[ov as usize + ci]),
                    )
                } else {
                    let ci = ((y >> 1) * f.chroma_stride + (x >> 1) * 2) as usize;
                    (
                        f32::from(d[ou as usize + ci]),
                        f32::from(d[ou as usize + ci + 1]),
                    )
                };
                let (u, v) = (u - k1[2], v - k1[2]);
                let r = k0[0] * yy + k0[1] * v;
                let g = k0[0] * yy + k0[2] * u + k0[3] * v;
                let b = k0[0] * yy + k1[0] * u;
                [
                    r.clamp(0.0, 255.0),
                    g.clamp(0.0, 255.0),
                    b.clamp(0.0, 255.0),
                ]
            }
        }
    }

    fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
        [0, 1, 2].map(|i| a[i] * (1.0 - t) + b[i] * t)
    }

    /// Runs the jobs; returns `jobs.len()` tensor slots, concatenated.
    pub fn run(frames: &[Frame], jobs: &[Job], spec: &TensorSpec) -> Result<Vec<f32>, GpuError> {
        check(frames, jobs)?;
        let mut out = vec![0.0f32; jobs.len() * spec.slot_len()];
        for (job, slot) in jobs.iter().zip(out.chunks_mut(spec.slot_len())) {
            run_job(&frames[job.frame], job, spec, slot);
        }
        Ok(out)
    }

    /// [`run`] with the jobs in parallel (rayon).
    pub fn run_parallel(
        frames: &[Frame],
        jobs: &[Job],
        spec: &TensorSpec,
    ) -> Result<Vec<f32>, GpuError> {
        use rayon::prelude::*;
        check(frames, jobs)?;
        let mut out = vec![0.0f32; jobs.len() * spec.slot_len()];
        out.par_chunks_mut(spec.slot_len())
            .zip(jobs.par_iter())
            .for_each(|(slot, job)| run_job(&frames[job.frame], job, spec, slot));
        Ok(out)
    }

    fn check(frames: &[Frame], jobs: &[Job]) -> Result<(), GpuError> {
        for f in frames {
            f.check()?;
        }
        match jobs.iter().position(|j| j.frame >= frames.len()) {
            Some(n) => Err(GpuError::Input(format!(
                "job {n}: no frame {}",
                jobs[n].frame
            ))),
            None => Ok(()),
        }
    }

    fn run_job(f: &Frame, job: &Job, spec: &TensorSpec, slot: &mut [f32]) {
        let (w, h) = (spec.width, spec.height);
        let plane = (w * h) as usize;
        let ix = split3(job.src_w / job.dst_w.max(1) as f32);
        let iy = split3(job.src_h / job.dst_h.max(1) as f32);
        let (fw, fh) = (f.width as f32, f.height as f32);
        for oy in 0..h {
            for ox in 0..w {
                let (oxf, oyf) = (ox as f32, oy as f32);
                let mut rgb = [spec.pad; 3];
                let inside = oxf >= job.dst_x as f32
                    && oxf < (job.dst_x + job.dst_w) as f32
                    && oyf >= job.dst_y as f32
                    && oyf < (job.dst_y + job.dst_h) as f32;
                if inside {
                    // As the shader: exact products summed in a fixed order.
                    let (tx, ty) = (oxf - job.dst_x as f32 + 0.5, oyf - job.dst_y as f32 + 0.5);
                    let sx = tx * ix[0] + (tx * ix[1] + (tx * ix[2] + (job.src_x - 0.5)));
                    let sy = ty * iy[0] + (ty * iy[1] + (ty * iy[2] + (job.src_y - 0.5)));
                    if sx >= -0.5 && sy >= -0.5 && sx <= fw - 0.5 && sy <= fh - 0.5 {
                        let (fx0, fy0) = (sx.floor(), sy.floor());
                        let (ax, ay) = (sx - fx0, sy - fy0);
                        let x0 = fx0.clamp(0.0, fw - 1.0) as u32;
                        let x1 = (fx0 + 1.0).clamp(0.0, fw - 1.0) as u32;
                        let y0 = fy0.clamp(0.0, fh - 1.0) as u32;
                        let y1 = (fy0 + 1.0).clamp(0.0, fh - 1.0) as u32;
                        let top = mix(rgb_at(f, spec, x0, y0), rgb_at(f, spec, x1, y0), ax);
                        let bottom = mix(rgb_at(f, spec, x0, y1), rgb_at(f, spec, x1, y1), ax);
                        rgb = mix(top, bottom, ay);
                    }
                }
                let pixel = (oy * w + ox) as usize;
                for c in 0..3 {
                    let src_c = if spec.bgr { 2 - c } else { c };
                    let value = (rgb[src_c] * spec.scale - spec.mean[c]) * (1.0 / spec.std[c]);
                    let idx = if spec.nhwc {
                        pixel * 3 + c
                    } else {
                        c * plane + pixel
                    };
                    slot[idx] = value;
                }
            }
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ParamsUniform {
    out_w: u32,
    out_h: u32,
    nhwc: u32,
    bgr: u32,
    scale: f32,
    pad: f32,
    _pad: [f32; 2],
    mean: [f32; 4],
    inv_std: [f32; 4],
    yuv0: [f32; 4],
    yuv1: [f32; 4],
}

const JOB_BYTES: u64 = std::mem::size_of::<JobGpu>() as u64;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct JobGpu {
    frame_offset: u32,
    format: u32,
    width: u32,
    height: u32,
    stride_y: u32,
    offset_u: u32,
    offset_v: u32,
    stride_uv: u32,
    src_x0: f32,
    src_y0: f32,
    inv_sx: [f32; 3],
    inv_sy: [f32; 3],
    dst_x0: f32,
    dst_y0: f32,
    dst_w: f32,
    dst_h: f32,
    out_offset: u32,
    _pad: [u32; 7],
}

/// The preprocessing kernel for one tensor spec, with persistent buffers that grow only when a
/// batch is larger than any before.
pub struct PreprocessKernel {
    ctx: Arc<GpuContext>,
    spec: TensorSpec,
    pipeline: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    jobs: wgpu::Buffer,
    frames: wgpu::Buffer,
    out: wgpu::Buffer,
    staging: wgpu::Buffer,
    jobs_cap: usize,
    frames_cap: usize,
    out_cap: usize,
    group: Option<wgpu::BindGroup>,
    pub last_timings: KernelTimings,
}

impl PreprocessKernel {
    pub fn new(ctx: Arc<GpuContext>, spec: TensorSpec) -> PreprocessKernel {
        use wgpu::BufferUsages as U;
        let pipeline = ctx.pipeline("preprocess", shaders::PREPROCESS, "preprocess");
        let params = ctx.buffer(
            "preprocess params",
            std::mem::size_of::<ParamsUniform>() as u64,
            U::UNIFORM | U::COPY_DST,
        );
        let (jobs_cap, frames_cap, out_cap) = (1, 4, 4);
        let jobs = ctx.buffer("preprocess jobs", JOB_BYTES, U::STORAGE | U::COPY_DST);
        let frames = ctx.buffer("preprocess frames", 16, U::STORAGE | U::COPY_DST);
        let out = ctx.buffer("preprocess out", 16, U::STORAGE | U::COPY_SRC);
        let staging = ctx.buffer("preprocess staging", 16, U::MAP_READ | U::COPY_DST);
        let (k0, k1) = spec.color.coefficients();
        let p = ParamsUniform {
            out_w: spec.width,
            out_h: spec.height,
            nhwc: u32::from(spec.nhwc),
            bgr: u32::from(spec.bgr),
            scale: spec.scale,
            pad: spec.pad,
            _pad: [0.0; 2],
            mean: [spec.mean[0], spec.mean[1], spec.mean[2], 0.0],
            inv_std: [1.0 / spec.std[0], 1.0 / spec.std[1], 1.0 / spec.std[2], 0.0],
            yuv0: k0,
            yuv1: k1,
        };
        ctx.queue.write_buffer(&params, 0, bytemuck::bytes_of(&p));
        PreprocessKernel {
            ctx,
            spec,
            pipeline,
            params,
            jobs,
            frames,
            out,
            staging,
            jobs_cap,
            frames_cap,
            out_cap,
            group: None,
            last_timings: KernelTimings::default(),
        }
    }

    /// The GPU context this kernel runs on.
    pub fn context(&self) -> Arc<GpuContext> {
        self.ctx.clone()
    }

    pub fn spec(&self) -> &TensorSpec {
        &self.spec
    }

    fn ensure(&mut self, jobs: usize, frame_bytes: usize, out_floats: usize) {
        use wgpu::BufferUsages as U;
        let mut rebind = self.group.is_none();
        if jobs > self.jobs_cap {
            self.jobs_cap = jobs.next_power_of_two();
            self.jobs = self.ctx.buffer(
                "preprocess jobs",
                self.jobs_cap as u64 * JOB_BYTES,
                U::STORAGE | U::COPY_DST,
            );
            rebind = true;
        }
        if frame_bytes > self.frames_cap {
            self.frames_cap = frame_bytes.next_power_of_two();
            self.frames = self.ctx.buffer(
                "preprocess frames",
                self.frames_cap as u64,
                U::STORAGE | U::COPY_DST,
            );
            rebind = true;
        }
        if out_floats > self.out_cap {
            self.out_cap = out_floats.next_power_of_two();
            self.out = self.ctx.buffer(
                "preprocess out",
                self.out_cap as u64 * 4,
                U::STORAGE | U::COPY_SRC,
            );
            self.staging = self.ctx.buffer(
                "preprocess staging",
                self.out_cap as u64 * 4,
                U::MAP_READ | U::COPY_DST,
            );
            rebind = true;
        }
        if rebind {
            fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
                wgpu::BindGroupEntry {
                    binding,
                    resource: buffer.as_entire_binding(),
                }
            }
            self.group = Some(
                self.ctx
                    .device
                    .create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some("preprocess"),
                        layout: &self.pipeline.get_bind_group_layout(0),
                        entries: &[
                            entry(0, &self.params),
                            entry(1, &self.jobs),
                            entry(2, &self.frames),
                            entry(3, &self.out),
                        ],
                    }),
            );
        }
    }

    /// Copies the frames, each padded to 4 bytes, straight into wgpu's staging memory for the
    /// frame buffer: one host copy, no intermediate buffer. (wgpu's write-only view of a byte
    /// range cannot be sent to other threads, so the copy stays on this one.)
    fn upload_frames(&self, frames: &[Frame], frame_bytes: usize) -> Result<(), GpuError> {
        let Some(size) = wgpu::BufferSize::new(frame_bytes as u64) else {
            return Ok(());
        };
        let mut view = self
            .ctx
            .queue
            .write_buffer_with(&self.frames, 0, size)
            .ok_or_else(|| GpuError::Input("the frames do not fit the frame buffer".into()))?;
        let mut rest = view.slice(..);
        for f in frames {
            let (slot, tail) = rest.split_at(f.data.len().next_multiple_of(4));
            rest = tail;
            let (mut dst, mut pad) = slot.split_at(f.data.len());
            dst.copy_from_slice(f.data);
            pad.fill(0);
        }
        Ok(())
    }

    /// Runs a batch; returns `jobs.len()` tensor slots, concatenated (empty for no jobs).
    pub fn run(&mut self, frames: &[Frame], jobs: &[Job]) -> Result<Vec<f32>, GpuError> {
        let mut out = Vec::new();
        self.run_into(frames, jobs, &mut out)?;
        Ok(out)
    }

    /// [`run`](Self::run) into `out` (resized to `jobs.len()` slots): a caller that keeps `out`
    /// across ticks spares the host a fresh allocation, and its page faults, per batch.
    pub fn run_into(
        &mut self,
        frames: &[Frame],
        jobs: &[Job],
        out: &mut Vec<f32>,
    ) -> Result<(), GpuError> {
        out.clear();
        if jobs.is_empty() {
            return Ok(());
        }
        let t0 = Instant::now();
        let mut offsets = Vec::with_capacity(frames.len());
        let mut frame_bytes = 0usize;
        for f in frames {
            f.check()?;
            offsets.push(u32::try_from(frame_bytes).map_err(|_| {
                GpuError::Input(format!(
                    "{} frames are more than 4 GiB to upload at once",
                    frames.len()
                ))
            })?);
            frame_bytes += f.data.len().next_multiple_of(4);
        }
        let mut gpu_jobs = Vec::with_capacity(jobs.len());
        for (n, job) in jobs.iter().enumerate() {
            let f = frames
                .get(job.frame)
                .ok_or_else(|| GpuError::Input(format!("job {n}: no frame {}", job.frame)))?;
            let (ou, ov) = f.plane_offsets();
            gpu_jobs.push(JobGpu {
                frame_offset: offsets[job.frame],
                format: match f.format {
                    PixelFormat::I420 => 0,
                    PixelFormat::Nv12 => 1,
                    PixelFormat::Rgba => 2,
                },
                width: f.width,
                height: f.height,
                stride_y: f.stride,
                offset_u: ou,
                offset_v: ov,
                stride_uv: f.chroma_stride,
                src_x0: job.src_x - 0.5,
                src_y0: job.src_y - 0.5,
                inv_sx: split3(job.src_w / job.dst_w.max(1) as f32),
                inv_sy: split3(job.src_h / job.dst_h.max(1) as f32),
                dst_x0: job.dst_x as f32,
                dst_y0: job.dst_y as f32,
                dst_w: job.dst_w as f32,
                dst_h: job.dst_h as f32,
                out_offset: (n * self.spec.slot_len()) as u32,
                _pad: [0; 7],
            });
        }
        let out_floats = jobs.len() * self.spec.slot_len();
        self.ensure(jobs.len(), frame_bytes, out_floats);
        let q = &self.ctx.queue;
        self.upload_frames(frames, frame_bytes)?;
        q.write_buffer(&self.jobs, 0, bytemuck::cast_slice(&gpu_jobs));
        let t1 = Instant::now();
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("preprocess"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("preprocess"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, self.group.as_ref(), &[]);
            pass.dispatch_workgroups(
                self.spec.width.div_ceil(16),
                self.spec.height.div_ceil(16),
                jobs.len() as u32,
            );
        }
        q.submit([enc.finish()]);
        self.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let t2 = Instant::now();
        out.resize(out_floats, 0.0);
        let rb = self.ctx.read_into(&self.out, &self.staging, out)?;
        self.last_timings = KernelTimings {
            upload_us: (t1 - t0).as_secs_f64() * 1e6,
            dispatch_us: (t2 - t1).as_secs_f64() * 1e6,
            readback_us: t2.elapsed().as_secs_f64() * 1e6,
            readback_copy_us: rb.copy_us,
        };
        Ok(())
    }
}
