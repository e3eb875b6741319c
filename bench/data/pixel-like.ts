// Seeded benchmark data shaped like Fashion-MNIST: 28 x 28 grey images (784 dimensions, values in
// [0, 1], a zero background) of 10 classes, each class a few prototype silhouettes (unions of
// soft-edged ellipses) that every image shifts, stretches and shades. Neighbours are images of the
// same silhouette slightly moved, as in the real set; classes overlap where shapes resemble.
import { createRandom, type Random } from '../../src/engine/random.js';
import type { EmbeddingLikeData } from './embedding-like.js';

export interface PixelLikeOptions {
  count: number;
  queries: number;
  /** Image side in pixels (28: 784 dimensions). */
  side?: number;
  classes?: number;
  prototypesPerClass?: number;
  seed?: number;
}

interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  shade: number;
}

function prototype(random: Random): Ellipse[] {
  const parts = 2 + Math.floor(random() * 3);
  return Array.from({ length: parts }, () => ({
    cx: 0.3 + 0.4 * random(),
    cy: 0.25 + 0.5 * random(),
    rx: 0.08 + 0.25 * random(),
    ry: 0.08 + 0.3 * random(),
    shade: 0.4 + 0.6 * random(),
  }));
}

export function pixelLikeData(options: PixelLikeOptions): EmbeddingLikeData {
  const side = options.side ?? 28;
  const dimension = side * side;
  const classes = options.classes ?? 10;
  const perClass = options.prototypesPerClass ?? 6;
  const random = createRandom(options.seed ?? 42);
  // Prototypes of a class share a base silhouette and vary it, so a class is several nearby modes.
  const prototypes: Ellipse[][] = [];
  for (let c = 0; c < classes; c++) {
    const base = prototype(random);
    for (let p = 0; p < perClass; p++) {
      prototypes.push(base.map((e) => ({
        cx: e.cx + 0.06 * (random() - 0.5),
        cy: e.cy + 0.06 * (random() - 0.5),
        rx: e.rx * (0.8 + 0.4 * random()),
        ry: e.ry * (0.8 + 0.4 * random()),
        shade: Math.min(1, e.shade * (0.8 + 0.4 * random())),
      })));
    }
  }
  const draw = (target: Float32Array, row: number): void => {
    const shape = prototypes[Math.floor(random() * prototypes.length)];
    const dx = 0.08 * (random() - 0.5);
    const dy = 0.08 * (random() - 0.5);
    const stretch = 0.9 + 0.2 * random();
    const gain = 0.75 + 0.25 * random();
    const at = row * dimension;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const u = (x + 0.5) / side - dx;
        const v = (y + 0.5) / side - dy;
        let value = 0;
        for (const e of shape) {
          const r = ((u - e.cx) / (e.rx * stretch)) ** 2 + ((v - e.cy) / e.ry) ** 2;
          // Soft edge: full inside, fading over the rim, zero outside.
          if (r < 1.3) value = Math.max(value, e.shade * Math.min(1, (1.3 - r) / 0.3));
        }
        // Texture and sensor noise on the garment only; the background stays exactly zero.
        target[at + y * side + x] = value === 0 ? 0 : Math.min(1, Math.max(0, value * gain + 0.08 * (random() - 0.5)));
      }
    }
  };
  const base = new Float32Array(options.count * dimension);
  for (let i = 0; i < options.count; i++) draw(base, i);
  const queries = new Float32Array(options.queries * dimension);
  for (let i = 0; i < options.queries; i++) draw(queries, i);
  return { dimension, base, queries };
}
