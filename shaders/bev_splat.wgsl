// Floor occupancy: one invocation per grid cell sums the Gaussians of all observations.
// Inclusion rule (identical in the CPU reference): m2 <= 6.25 (2.5 sigma), |dx| <= radius and
// |dy| <= radius, evaluated at the cell centre.

struct Grid {
    origin_x: f32,
    origin_y: f32,
    cell: f32,
    radius: f32,
    nx: u32,
    ny: u32,
    count: u32,
    _pad: u32,
}

struct Obs {
    x: f32,
    y: f32,
    // Inverse covariance [a b; b c].
    a: f32,
    b: f32,
    c: f32,
    weight: f32,
    _pad0: f32,
    _pad1: f32,
}

@group(0) @binding(0) var<uniform> grid: Grid;
@group(0) @binding(1) var<storage, read> obs: array<Obs>;
@group(0) @binding(2) var<storage, read_write> occupancy: array<f32>;

@compute @workgroup_size(16, 16, 1)
fn splat(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= grid.nx || id.y >= grid.ny) {
        return;
    }
    let cx = grid.origin_x + (f32(id.x) + 0.5) * grid.cell;
    let cy = grid.origin_y + (f32(id.y) + 0.5) * grid.cell;
    var sum = 0.0;
    for (var i = 0u; i < grid.count; i = i + 1u) {
        let o = obs[i];
        let dx = cx - o.x;
        let dy = cy - o.y;
        if (abs(dx) > grid.radius || abs(dy) > grid.radius) {
            continue;
        }
        let m2 = o.a * dx * dx + 2.0 * o.b * dx * dy + o.c * dy * dy;
        if (m2 <= 6.25) {
            sum = sum + o.weight * exp(-0.5 * m2);
        }
    }
    occupancy[id.y * grid.nx + id.x] = sum;
}
