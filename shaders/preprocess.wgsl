// Decoded frames -> model input tensors. One invocation per destination pixel per job; a job maps
// a source rectangle of one frame into a destination area of one tensor slot (letterbox or
// stretch), everything outside that area or outside the frame is the pad value.

struct Params {
    out_w: u32,
    out_h: u32,
    nhwc: u32,
    bgr: u32,
    scale: f32,
    pad: f32,
    _pad0: f32,
    _pad1: f32,
    mean: vec4<f32>,
    inv_std: vec4<f32>,
    // YUV -> RGB: ky, kr_v, kg_u, kg_v
    yuv0: vec4<f32>,
    // kb_u, y_offset, c_offset, unused
    yuv1: vec4<f32>,
}

struct Job {
    // src_x0 / src_y0: the source rectangle's origin minus half a pixel.
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
    // Source pixels per destination pixel, split into three parts of 8 significant bits each,
    // so that every product with a pixel index is exact.
    inv_sx0: f32,
    inv_sx1: f32,
    inv_sx2: f32,
    inv_sy0: f32,
    inv_sy1: f32,
    inv_sy2: f32,
    dst_x0: f32,
    dst_y0: f32,
    dst_w: f32,
    dst_h: f32,
    out_offset: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
    _pad4: u32,
    _pad5: u32,
    _pad6: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> jobs: array<Job>;
@group(0) @binding(2) var<storage, read> frames: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn byte_at(i: u32) -> f32 {
    return f32((frames[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
}

// RGB (0..255) of pixel (x, y) of the job's frame.
fn rgb_at(j: Job, x: u32, y: u32) -> vec3<f32> {
    let base = j.frame_offset;
    if (j.format == 2u) {
        let p = base + y * j.stride_y + x * 4u;
        return vec3<f32>(byte_at(p), byte_at(p + 1u), byte_at(p + 2u));
    }
    let yy = byte_at(base + y * j.stride_y + x) - params.yuv1.y;
    var u = 0.0;
    var v = 0.0;
    if (j.format == 0u) {
        let ci = (y >> 1u) * j.stride_uv + (x >> 1u);
        u = byte_at(base + j.offset_u + ci);
        v = byte_at(base + j.offset_v + ci);
    } else {
        let ci = (y >> 1u) * j.stride_uv + (x >> 1u) * 2u;
        u = byte_at(base + j.offset_u + ci);
        v = byte_at(base + j.offset_u + ci + 1u);
    }
    u = u - params.yuv1.z;
    v = v - params.yuv1.z;
    let r = params.yuv0.x * yy + params.yuv0.y * v;
    let g = params.yuv0.x * yy + params.yuv0.z * u + params.yuv0.w * v;
    let b = params.yuv0.x * yy + params.yuv1.x * u;
    return clamp(vec3<f32>(r, g, b), vec3<f32>(0.0), vec3<f32>(255.0));
}

@compute @workgroup_size(16, 16, 1)
fn preprocess(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.out_w || id.y >= params.out_h || id.z >= arrayLength(&jobs)) {
        return;
    }
    let j = jobs[id.z];
    let ox = f32(id.x);
    let oy = f32(id.y);
    var rgb = vec3<f32>(params.pad);
    if (ox >= j.dst_x0 && ox < j.dst_x0 + j.dst_w && oy >= j.dst_y0 && oy < j.dst_y0 + j.dst_h) {
        // Exact products, summed in a fixed order (src_x0 already holds src_x - 0.5): the sample
        // position is the same bits on every GPU, fused multiply-add or not, and on the CPU.
        let tx = ox - j.dst_x0 + 0.5;
        let ty = oy - j.dst_y0 + 0.5;
        let sx = tx * j.inv_sx0 + (tx * j.inv_sx1 + (tx * j.inv_sx2 + j.src_x0));
        let sy = ty * j.inv_sy0 + (ty * j.inv_sy1 + (ty * j.inv_sy2 + j.src_y0));
        let w = f32(j.width);
        let h = f32(j.height);
        if (sx >= -0.5 && sy >= -0.5 && sx <= w - 0.5 && sy <= h - 0.5) {
            let fx0 = floor(sx);
            let fy0 = floor(sy);
            let ax = sx - fx0;
            let ay = sy - fy0;
            let x0 = u32(clamp(fx0, 0.0, w - 1.0));
            let x1 = u32(clamp(fx0 + 1.0, 0.0, w - 1.0));
            let y0 = u32(clamp(fy0, 0.0, h - 1.0));
            let y1 = u32(clamp(fy0 + 1.0, 0.0, h - 1.0));
            let top = mix(rgb_at(j, x0, y0), rgb_at(j, x1, y0), ax);
            let bottom = mix(rgb_at(j, x0, y1), rgb_at(j, x1, y1), ax);
            rgb = mix(top, bottom, ay);
        }
    }
    let plane = params.out_w * params.out_h;
    let pixel = id.y * params.out_w + id.x;
    for (var c = 0u; c < 3u; c = c + 1u) {
        let src_c = select(c, 2u - c, params.bgr == 1u);
        let value = (rgb[src_c] * params.scale - params.mean[c]) * params.inv_std[c];
        var idx = j.out_offset + c * plane + pixel;
        if (params.nhwc == 1u) {
            idx = j.out_offset + pixel * 3u + c;
        }
        out[idx] = value;
    }
}
