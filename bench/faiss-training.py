#!/usr/bin/python3
"""Faiss's IVF training time on the engine benchmark's own data, on this machine, single-threaded:
the baseline issue #13 sets for Cipherdex's default training run.

    npm run bench -- engine --export-vectors=/tmp/base.f32  # writes 100,000 x 128 float32 rows
    /usr/bin/python3 bench/faiss-training.py /tmp/base.f32
    # Debian: apt-get install python3-faiss libopenblas0-pthread (without OpenBLAS, Debian's
    # reference BLAS makes Faiss's k-means about 9x slower: 8.1 s instead of 0.9 s here)

It trains IndexIVFFlat(nlist) the way `index.train` does by default (Faiss samples 256 points per
list and runs its k-means on them), times the median of a few runs, and reports the inertia of
the trained centroids over every vector, comparable with the engine benchmark's inertia column.
Optional: Cipherdex never needs Faiss; only this comparison does.
"""
import argparse
import os
import statistics
import time

# One thread, BLAS included (set before numpy and faiss load it).
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import faiss
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("vectors", help="raw float32 rows written by --export-vectors")
parser.add_argument("--dimension", type=int, default=128)
parser.add_argument("--lists", type=int, default=256)
parser.add_argument("--runs", type=int, default=5)
args = parser.parse_args()

faiss.omp_set_num_threads(1)
x = np.fromfile(args.vectors, dtype="<f4").reshape(-1, args.dimension)
print(f"faiss {faiss.__version__}, {x.shape[0]:,} x {x.shape[1]}, {args.lists} lists, one thread")

seconds, cpu, inertia = [], [], None
for _ in range(args.runs):
    quantizer = faiss.IndexFlatL2(args.dimension)
    index = faiss.IndexIVFFlat(quantizer, args.dimension, args.lists)
    started, started_cpu = time.perf_counter(), time.process_time()
    index.train(x)
    seconds.append(time.perf_counter() - started)
    cpu.append(time.process_time() - started_cpu)
    distances, _ = quantizer.search(x, 1)
    inertia = float(distances.sum(dtype=np.float64))

cp = faiss.ClusteringParameters()
print(f"training points: {min(x.shape[0], args.lists * cp.max_points_per_centroid):,}, "
      f"k-means iterations (IndexIVF default): {faiss.IndexIVFFlat(faiss.IndexFlatL2(args.dimension), args.dimension, args.lists).cp.niter}")
print(f"train seconds, median of {args.runs}: {statistics.median(seconds):.3f} wall, {statistics.median(cpu):.3f} CPU "
      f"(fastest {min(seconds):.3f})")
print(f"inertia over all vectors: {inertia:.4e}")
