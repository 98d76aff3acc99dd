// Local maxima of the normalised occupancy (occupancy * inverse camera count) above a threshold.
// A cell is a peak when no 8-neighbour is larger, ties going to the lower cell index.

struct PeakParams {
    nx: u32,
    ny: u32,
    capacity: u32,
    threshold: f32,
}

struct Peak {
    cell: u32,
    value: f32,
}

@group(0) @binding(0) var<uniform> params: PeakParams;
@group(0) @binding(1) var<storage, read> occupancy: array<f32>;
@group(0) @binding(2) var<storage, read> inv_visible: array<f32>;
@group(0) @binding(3) var<storage, read_write> peaks: array<Peak>;
@group(0) @binding(4) var<storage, read_write> peak_count: atomic<u32>;

fn norm(k: u32) -> f32 {
    return occupancy[k] * inv_visible[k];
}

@compute @workgroup_size(16, 16, 1)
fn peaks_main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.nx || id.y >= params.ny) {
        return;
    }
    let k = id.y * params.nx + id.x;
    if (occupancy[k] < params.threshold) {
        return;
    }
    let v = norm(k);
    if (v < params.threshold) {
        return;
    }
    let y0 = select(id.y - 1u, 0u, id.y == 0u);
    let x0 = select(id.x - 1u, 0u, id.x == 0u);
    let y1 = min(id.y + 1u, params.ny - 1u);
    let x1 = min(id.x + 1u, params.nx - 1u);
    for (var ny = y0; ny <= y1; ny = ny + 1u) {
        for (var nx = x0; nx <= x1; nx = nx + 1u) {
            let nk = ny * params.nx + nx;
            if (nk == k) {
                continue;
            }
            let nv = norm(nk);
            if (nv > v || (nv == v && nk < k)) {
                return;
            }
        }
    }
    let slot = atomicAdd(&peak_count, 1u);
    if (slot < params.capacity) {
        peaks[slot] = Peak(k, v);
    }
}
