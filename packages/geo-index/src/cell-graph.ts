import { cellCentre, cellReachM } from '@pushtech/listings';
import { cellToBoundary, gridDisk, latLngToCell } from 'h3-js';
import { chordOf, writeUnitVector } from './sphere.ts';
import { copyInto } from './typed-arrays.ts';

const UNKNOWN = -2;

/** Cells found by `within`: `cells[0..count)`, valid until the next call. */
export interface FoundCells {
  cells: Int32Array;
  count: number;
}

/**
 * The H3 cells of one resolution the index has met, interned to small integers,
 * with what a radius query needs held in typed arrays: centre (unit vector),
 * reach (chord of the circumradius) and neighbours. h3-js is called once per
 * cell (and per listing placed), never per query.
 */
export function createCellGraph(resolution: number) {
  const idOf = new Map<string, number>();
  const h3: string[] = [];
  let capacity = 0;
  let centre = new Float64Array(0);
  let reach = new Float64Array(0);
  let inner = new Float64Array(0);
  let neighbours = new Int32Array(0);
  let stamp = new Uint32Array(0);
  let currentStamp = 0;
  let queue = new Int32Array(1024);
  const found: FoundCells = { cells: new Int32Array(1024), count: 0 };

  function grow(): void {
    capacity = Math.max(1024, capacity * 2);
    centre = copyInto(new Float64Array(capacity * 3), centre);
    reach = copyInto(new Float64Array(capacity), reach);
    inner = copyInto(new Float64Array(capacity), inner);
    neighbours = copyInto(new Int32Array(capacity * 6).fill(UNKNOWN), neighbours);
    stamp = copyInto(new Uint32Array(capacity), stamp);
  }

  function intern(cell: string): number {
    const known = idOf.get(cell);
    if (known !== undefined) return known;
    const id = h3.length;
    if (id === capacity) grow();
    idOf.set(cell, id);
    h3.push(cell);
    const [lng, lat] = cellCentre(cell).coordinates;
    writeUnitVector(centre, id * 3, lng, lat);
    reach[id] = chordOf(cellReachM(cell));
    inner[id] = innerChordSq(cell, centre.subarray(id * 3, id * 3 + 3));
    return id;
  }

  /**
   * Whether the unit vector (x, y, z) surely lies in `cell`: within the circle
   * inscribed in it. Most moves of a few metres stay there, and skip h3-js.
   */
  function surelyIn(cell: number, x: number, y: number, z: number): boolean {
    const dx = centre[cell * 3]! - x;
    const dy = centre[cell * 3 + 1]! - y;
    const dz = centre[cell * 3 + 2]! - z;
    return dx * dx + dy * dy + dz * dz < inner[cell]!;
  }

  /** The interned cell containing (lng, lat). */
  function cellAt(lng: number, lat: number): number {
    return intern(latLngToCell(lat, lng, resolution));
  }

  function neighbourAt(cell: number, i: number): number {
    if (neighbours[cell * 6] === UNKNOWN) {
      // Intern first: interning may grow (replace) the arrays.
      const ring = gridDisk(h3[cell]!, 1)
        .filter((c) => c !== h3[cell])
        .map(intern);
      for (let j = 0; j < 6; j++) neighbours[cell * 6 + j] = j < ring.length ? ring[j]! : -1;
    }
    return neighbours[cell * 6 + i]!;
  }

  /**
   * The cells that can hold a point within `chord` of the unit vector (x, y, z),
   * which lies in cell `origin`: a flood fill over neighbours, keeping cells
   * whose centre is within chord + the cell's reach. (chord(a + b) ≤ chord(a) +
   * chord(b), so the test never drops a cell the circle reaches.) The cells a
   * circle meets are connected, so the fill finds them all.
   */
  function within(origin: number, x: number, y: number, z: number, chord: number): FoundCells {
    if (++currentStamp === 0xffffffff) {
      stamp.fill(0);
      currentStamp = 1;
    }
    let count = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = origin;
    stamp[origin] = currentStamp;
    while (head < tail) {
      const cell = queue[head++]!;
      const dx = centre[cell * 3]! - x;
      const dy = centre[cell * 3 + 1]! - y;
      const dz = centre[cell * 3 + 2]! - z;
      const limit = chord + reach[cell]!;
      if (dx * dx + dy * dy + dz * dz > limit * limit) continue;
      if (count === found.cells.length) found.cells = copyInto(new Int32Array(count * 2), found.cells);
      found.cells[count++] = cell;
      for (let i = 0; i < 6; i++) {
        const next = neighbourAt(cell, i);
        if (next < 0 || stamp[next] === currentStamp) continue;
        stamp[next] = currentStamp;
        if (tail === queue.length) queue = copyInto(new Int32Array(tail * 2), queue);
        queue[tail++] = next;
      }
    }
    found.count = count;
    return found;
  }

  return {
    resolution,
    cellAt,
    surelyIn,
    within,
    /** Cell centres as unit vectors, 3 numbers a cell. Re-read after `cellAt` or `within`: they may grow it. */
    centres: () => centre,
    /** Cell circumradii as chords (with a rounding margin). */
    reaches: () => reach,
    /** The H3 index of an interned cell. */
    h3Of: (cell: number) => h3[cell]!,
    size: () => h3.length,
  };
}

export type CellGraph = ReturnType<typeof createCellGraph>;

/**
 * The squared chord of a radius that fits inside the cell: H3 cells are convex
 * spherical polygons whose edges are great-circle arcs, so a point closer to the
 * centre than every edge's great circle is inside. A margin of 2 % keeps points
 * where rounding could decide on the safe side.
 */
function innerChordSq(cell: string, centre: Float64Array): number {
  const vertices = cellToBoundary(cell).map(([lat, lng]) => {
    const v = new Float64Array(3);
    writeUnitVector(v, 0, lng, lat);
    return v;
  });
  let minSin = 1;
  for (let i = 0; i < vertices.length; i++) {
    const a = vertices[i]!;
    const b = vertices[(i + 1) % vertices.length]!;
    const nx = a[1]! * b[2]! - a[2]! * b[1]!;
    const ny = a[2]! * b[0]! - a[0]! * b[2]!;
    const nz = a[0]! * b[1]! - a[1]! * b[0]!;
    // sin of the angular distance from the centre to the edge's great circle
    const sin = Math.abs(nx * centre[0]! + ny * centre[1]! + nz * centre[2]!) / Math.hypot(nx, ny, nz);
    minSin = Math.min(minSin, sin);
  }
  const chord = 2 * Math.sin((Math.asin(minSin) * 0.98) / 2);
  return chord * chord;
}
