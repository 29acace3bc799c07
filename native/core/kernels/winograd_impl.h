// The tile loop of winograd_table.h, compiled once per vector width (winograd_avx512.cc: 16
// lanes, winograd_avx2.cc: 8). Include inside each file's own anonymous namespace, after
// defining kIsa and kLanes. Written on GCC/Clang vectors of kLanes floats: one vector is one
// pixel of one channel block.
//
// F(4x4, 3x3) with the interpolation points 0, -1, 1, 1/2, -2 and infinity: a 6x6 input tile
// d becomes V = B^T d B, the product with the transformed weights U = G g G^T is summed over
// the input channels per each of the 36 positions (a small GEMM), and the 4x4 output tile
// is A^T M A. These points round about four times less than the common 0, +-1, +-2 (largest
// error on random data, float32: 4.5e-6 against 2.0e-5), for a few more operations per tile.

typedef float Vec __attribute__((vector_size(4 * kLanes)));

constexpr int kTile = 4, kWindow = 6, kPositions = 36;

inline Vec load(const float* p) {
  Vec v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Vec v) { __builtin_memcpy(p, &v, sizeof v); }
inline Vec zero() { return Vec{}; }

// V, the transformed inputs of a chunk of tiles: V[t][pos][ic], each tile's 36 positions of
// ic floats in a row, so that the input transform writes whole consecutive cache lines.
inline int64_t v_floats(int64_t ic) { return kChunk * kPositions * ic; }

// B^T applied to six values d0..d5 (a column or a row of the input tile). Its rows:
// (1, -3/2, -2, 3/2, 1, 0), (0, 1, -5/2, 1/2, 1, 0), (0, -1, 1/2, 5/2, 1, 0),
// (0, -2, -1, 2, 1, 0), (0, 1/2, -1, -1/2, 1, 0), (0, 1, -3/2, -2, 3/2, 1).
inline void input_1d(const Vec* d, int stride, Vec* t, int out_stride) {
  const Vec d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride], d4 = d[4 * stride],
            d5 = d[5 * stride];
  const Vec p = d4 - d2, q = d3 - d1;
  t[0] = (d0 + d4) - 1.5f * d1 - 2.f * d2 + 1.5f * d3;
  t[out_stride] = (d4 + d1) - 2.5f * d2 + 0.5f * d3;
  t[2 * out_stride] = (d4 - d1) + 0.5f * d2 + 2.5f * d3;
  t[3 * out_stride] = p + 2.f * q;
  t[4 * out_stride] = p - 0.5f * q;
  t[5 * out_stride] = (d1 + d5) - 1.5f * d2 - 2.f * d3 + 1.5f * d4;
}

// A^T applied to six values m0..m5: four outputs. Its rows: (1, 1, 1, 1, 1, 0),
// (0, -1, 1, 1/2, -2, 0), (0, 1, 1, 1/4, 4, 0), (0, -1, 1, 1/8, -8, 1).
inline void output_1d(const Vec* m, int stride, Vec* y, int out_stride) {
  const Vec m1 = m[stride], m2 = m[2 * stride], m3 = m[3 * stride], m4 = m[4 * stride];
  const Vec s = m1 + m2, d = m2 - m1;
  y[0] = m[0] + s + m3 + m4;
  y[out_stride] = d + 0.5f * m3 - 2.f * m4;
  y[2 * out_stride] = s + 0.25f * m3 + 4.f * m4;
  y[3 * out_stride] = d + 0.125f * m3 - 8.f * m4 + m[5 * stride];
}

// Where a tile's outputs start: image, row, column.
struct TilePlace {
  int64_t n, oy, ox;
};

// The places of tiles tile0, tile0 + 1, ... (count of them), stepping through the images row
// by row without a division per tile.
inline void places_of(const WinogradShape& s, int64_t tile0, int count, TilePlace* out) {
  const int64_t tiles_w = (s.ow + kTile - 1) / kTile, per_image = tiles_w * ((s.oh + kTile - 1) / kTile);
  const int64_t r = tile0 % per_image;
  TilePlace p{tile0 / per_image, (r / tiles_w) * kTile, (r % tiles_w) * kTile};
  for (int t = 0; t < count; ++t) {
    out[t] = p;
    p.ox += kTile;
    if (p.ox >= s.ow) {
      p.ox = 0;
      p.oy += kTile;
      if (p.oy >= s.oh) {
        p.oy = 0;
        ++p.n;
      }
    }
  }
}

typedef int IVec __attribute__((vector_size(4 * kLanes)));

// v where keep is all ones, +0 where it is zero (bitwise: NaN and infinity outside stay out).
inline Vec masked(Vec v, IVec keep) { return reinterpret_cast<Vec>(reinterpret_cast<IVec>(v) & keep); }

// The input window of one tile and channel block, transformed into vt[pos * pos_stride].
// Pixels outside the input read as zeros: at the edges the load goes to the nearest pixel
// inside and is masked, so no path branches per pixel.
inline void transform_input_tile(const WinogradShape& s, const float* plane, int64_t iy0, int64_t ix0, float* vt,
                                 int64_t pos_stride) {
  Vec tmp[kPositions];
  const bool inside = iy0 >= 0 && ix0 >= 0 && iy0 + kWindow <= s.ih && ix0 + kWindow <= s.iw;
  if (inside) {
    const float* p = plane + (iy0 * s.iw + ix0) * kLanes;
#pragma GCC unroll 6
    for (int j = 0; j < kWindow; ++j) {  // columns, straight from memory
      Vec d[kWindow];
#pragma GCC unroll 6
      for (int i = 0; i < kWindow; ++i) d[i] = load(p + (i * s.iw + j) * kLanes);
      input_1d(d, 1, tmp + j, kWindow);
    }
  } else {
    int64_t row[kWindow], col[kWindow];
    IVec row_keep[kWindow], col_keep[kWindow];
    for (int k = 0; k < kWindow; ++k) {
      const int64_t iy = iy0 + k, ix = ix0 + k;
      row[k] = iy < 0 ? 0 : (iy >= s.ih ? s.ih - 1 : iy);
      col[k] = ix < 0 ? 0 : (ix >= s.iw ? s.iw - 1 : ix);
      row_keep[k] = IVec{} + (iy >= 0 && iy < s.ih ? -1 : 0);
      col_keep[k] = IVec{} + (ix >= 0 && ix < s.iw ? -1 : 0);
    }
    for (int j = 0; j < kWindow; ++j) {
      Vec d[kWindow];
      for (int i = 0; i < kWindow; ++i)
        d[i] = masked(load(plane + (row[i] * s.iw + col[j]) * kLanes), row_keep[i] & col_keep[j]);
      input_1d(d, 1, tmp + j, kWindow);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < kWindow; ++i) {  // rows, then out
    Vec r[kWindow];
    input_1d(tmp + i * kWindow, 1, r, 1);
#pragma GCC unroll 6
    for (int j = 0; j < kWindow; ++j) store(vt + (i * kWindow + j) * pos_stride, r[j]);
  }
}

// V[t][pos][ic] for `count` tiles.
void transform_inputs(const WinogradShape& s, const float* x, const TilePlace* places, int count, float* v) {
  const int64_t blocks = s.ic / kLanes;
  for (int t = 0; t < count; ++t) {
    const TilePlace& p = places[t];
    for (int64_t cb = 0; cb < blocks; ++cb) {
      const float* plane = x + (p.n * blocks + cb) * s.ih * s.iw * kLanes;
      transform_input_tile(s, plane, p.oy - s.pad_top, p.ox - s.pad_left, v + t * kPositions * s.ic + cb * kLanes, s.ic);
    }
  }
}

// One register block of the GEMM at one position: kT tiles x kB output blocks, summed over
// the kIc input channels (a compile-time count for the common widths: fully unrolled).
// V entries are broadcast (tile t's at vp[t * v_tile_stride + c]), U rows loaded once per kT tiles.
template <int kT, int kB, int kIc>
inline void multiply_block(const float* vp, int64_t ic_runtime, int64_t v_tile_stride, const float* up,
                           int64_t u_block_stride, float* mp, int64_t m_tile_stride, int64_t m_block_stride) {
  const int64_t ic = kIc > 0 ? kIc : ic_runtime;
  Vec acc[kT][kB];  // the first channel sets them: no zeroing pass
  {
    Vec w[kB];
#pragma GCC unroll 4
    for (int b = 0; b < kB; ++b) w[b] = load(up + b * u_block_stride);
#pragma GCC unroll 16
    for (int t = 0; t < kT; ++t) {
      const float a = vp[t * v_tile_stride];
#pragma GCC unroll 4
      for (int b = 0; b < kB; ++b) acc[t][b] = a * w[b];
    }
  }
  for (int64_t c = 1; c < ic; ++c) {
    Vec w[kB];
#pragma GCC unroll 4
    for (int b = 0; b < kB; ++b) w[b] = load(up + b * u_block_stride + c * kLanes);
#pragma GCC unroll 16
    for (int t = 0; t < kT; ++t) {
      const float a = vp[t * v_tile_stride + c];
#pragma GCC unroll 4
      for (int b = 0; b < kB; ++b) acc[t][b] += a * w[b];
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < kT; ++t)
#pragma GCC unroll 4
    for (int b = 0; b < kB; ++b) store(mp + t * m_tile_stride + b * m_block_stride, acc[t][b]);
}

// One position's products for 8 tiles and kB output blocks, through the unrolled kernels
// where the channel count is one of theirs.
template <int kB>
inline void multiply_tiles(const float* vp, int64_t ic, const float* up, int64_t u_block_stride, float* mp,
                           int64_t m_tile_stride, int64_t m_block_stride) {
  const int64_t vt = kPositions * ic;
  switch (ic) {
    case 16: return multiply_block<8, kB, 16>(vp, ic, vt, up, u_block_stride, mp, m_tile_stride, m_block_stride);
    case 32: return multiply_block<8, kB, 32>(vp, ic, vt, up, u_block_stride, mp, m_tile_stride, m_block_stride);
    case 64: return multiply_block<8, kB, 64>(vp, ic, vt, up, u_block_stride, mp, m_tile_stride, m_block_stride);
    default: return multiply_block<8, kB, 0>(vp, ic, vt, up, u_block_stride, mp, m_tile_stride, m_block_stride);
  }
}

// M[ob][t][pos] (kLanes output channels each) = sum_ic V[t][pos][ic] * U[ob][pos][ic], for
// every output block ob, two blocks at a time (8 x 2 accumulators: enough FMAs in flight).
void multiply(const WinogradShape& s, const float* v, const float* u, float* m) {
  const int64_t ic = s.ic, blocks = s.oc / kLanes;
  const int64_t u_block_stride = kPositions * ic * kLanes, m_tile_stride = kPositions * kLanes,
                m_block_stride = kChunk * kPositions * kLanes;
  for (int64_t ob = 0; ob < blocks; ob += 2) {
    for (int pos = 0; pos < kPositions; ++pos) {
      const float* up = u + (ob * kPositions + pos) * ic * kLanes;
      for (int t = 0; t < kChunk; t += 8) {
        const float* vp = v + (t * kPositions + pos) * ic;
        float* mp = m + ob * m_block_stride + (t * kPositions + pos) * kLanes;
        if (ob + 1 < blocks)
          multiply_tiles<2>(vp, ic, up, u_block_stride, mp, m_tile_stride, m_block_stride);
        else
          multiply_tiles<1>(vp, ic, up, u_block_stride, mp, m_tile_stride, m_block_stride);
      }
    }
  }
}

// The 4x4 outputs of each tile for block ob, plus the bias and the residual, then the ReLU;
// rows and columns past the output's edge are not stored.
template <bool kResidual, bool kRelu>
void transform_outputs(const WinogradShape& s, const float* m, const TilePlace* places, int count, int64_t ob,
                       const float* bias, const float* residual, float* y) {
  const int64_t blocks = s.oc / kLanes;
  const Vec b = bias != nullptr ? load(bias + ob * kLanes) : zero();
  for (int t = 0; t < count; ++t) {
    const TilePlace& p = places[t];
    Vec tmp[kTile * kWindow];
    for (int j = 0; j < kWindow; ++j) {  // columns
      Vec col[kWindow];
      for (int i = 0; i < kWindow; ++i) col[i] = load(m + (t * kPositions + i * kWindow + j) * kLanes);
      output_1d(col, 1, tmp + j, kWindow);
    }
    const int rows = static_cast<int>(s.oh - p.oy < kTile ? s.oh - p.oy : kTile);
    const int cols = static_cast<int>(s.ow - p.ox < kTile ? s.ow - p.ox : kTile);
    const int64_t plane = (p.n * blocks + ob) * s.oh * s.ow * kLanes;
    for (int i = 0; i < rows; ++i) {  // rows, then out
      Vec out[kTile];
      output_1d(tmp + i * kWindow, 1, out, 1);
      const int64_t row = plane + ((p.oy + i) * s.ow + p.ox) * kLanes;
      for (int j = 0; j < cols; ++j) {
        Vec r = out[j] + b;
        if (kResidual) r += load(residual + row + j * kLanes);
        if (kRelu) r = r > zero() ? r : zero();
        store(y + row + j * kLanes, r);
      }
    }
  }
}

void convolve_tiles(const WinogradShape& s, const float* x, const float* u, const float* bias,
                    const float* residual, bool relu, int64_t tile0, int64_t tile1, float* scratch, float* y) {
  float* v = scratch;
  float* m = scratch + v_floats(s.ic);
  const auto outputs = residual != nullptr ? (relu ? transform_outputs<true, true> : transform_outputs<true, false>)
                                           : (relu ? transform_outputs<false, true> : transform_outputs<false, false>);
  for (int64_t t0 = tile0; t0 < tile1; t0 += kChunk) {
    const int count = static_cast<int>(tile1 - t0 < kChunk ? tile1 - t0 : kChunk);
    // Tiles past the end of the range: zeros, multiplied but never stored.
    if (count < kChunk) __builtin_memset(v, 0, v_floats(s.ic) * sizeof(float));
    TilePlace places[kChunk];
    places_of(s, t0, count, places);
    transform_inputs(s, x, places, count, v);
    multiply(s, v, u, m);
    for (int64_t ob = 0; ob < s.oc / kLanes; ++ob)
      outputs(s, m + ob * kChunk * kPositions * kLanes, places, count, ob, bias, residual, y);
  }
}

// A applied to four values y0..y3 of an output-gradient tile: six values, the transpose of
// output_1d (A's columns are A^T's rows above).
inline void output_grad_1d(const Vec* y, int stride, Vec* m, int out_stride) {
  const Vec y0 = y[0], y1 = y[stride], y2 = y[2 * stride], y3 = y[3 * stride];
  const Vec e = y0 + y2, o = y1 + y3;
  m[0] = y0;
  m[out_stride] = e - o;
  m[2 * out_stride] = e + o;
  m[3 * out_stride] = y0 + 0.5f * y1 + 0.25f * y2 + 0.125f * y3;
  m[4 * out_stride] = y0 - 2.f * y1 + 4.f * y2 - 8.f * y3;
  m[5 * out_stride] = y3;
}

// D[t][pos][oc] = (A dY A^T)[pos] of each tile's 4x4 output gradient (zeros past the edge);
// db (oc) += the tiles' output gradients, the bias gradient (every output pixel is in one tile).
void transform_output_grads(const WinogradShape& s, const float* dy, const TilePlace* places, int count, float* d,
                            float* db) {
  const int64_t blocks = s.oc / kLanes;
  for (int t = 0; t < count; ++t) {
    const TilePlace& p = places[t];
    const int rows = static_cast<int>(s.oh - p.oy < kTile ? s.oh - p.oy : kTile);
    const int cols = static_cast<int>(s.ow - p.ox < kTile ? s.ow - p.ox : kTile);
    for (int64_t ob = 0; ob < blocks; ++ob) {
      const float* plane = dy + (p.n * blocks + ob) * s.oh * s.ow * kLanes;
      Vec g[kTile * kTile];
      for (int i = 0; i < kTile; ++i)
        for (int j = 0; j < kTile; ++j)
          g[i * kTile + j] = i < rows && j < cols ? load(plane + ((p.oy + i) * s.ow + p.ox + j) * kLanes) : zero();
      Vec sum = load(db + ob * kLanes);
      for (int k = 0; k < kTile * kTile; ++k) sum += g[k];
      store(db + ob * kLanes, sum);
      Vec tmp[kWindow * kTile];  // A dY: six rows of four
      for (int j = 0; j < kTile; ++j) output_grad_1d(g + j, kTile, tmp + j, kTile);
      float* out = d + t * kPositions * s.oc + ob * kLanes;
      for (int i = 0; i < kWindow; ++i) {
        Vec r[kWindow];
        output_grad_1d(tmp + i * kTile, 1, r, 1);
        for (int j = 0; j < kWindow; ++j) store(out + (i * kWindow + j) * s.oc, r[j]);
      }
    }
  }
}

// du[pos][o][i..] += sum over `count` tiles of D[t][pos][o] * V[t][pos][i..] for kO output
// channels from o0 and kB input blocks from ib0: kO x kB accumulators held across the tiles.
template <int kO, int kB>
inline void accumulate_block(const WinogradShape& s, const float* v, const float* d, int count, int pos, int64_t o0,
                             int64_t ib0, float* du) {
  Vec acc[kO][kB];
  float* base = du + (pos * s.oc + o0) * s.ic + ib0 * kLanes;
  for (int o = 0; o < kO; ++o)
    for (int b = 0; b < kB; ++b) acc[o][b] = load(base + o * s.ic + b * kLanes);
  const float* vp = v + pos * s.ic + ib0 * kLanes;
  const float* dp = d + pos * s.oc + o0;
  const int64_t step_v = kPositions * s.ic, step_d = kPositions * s.oc;
  for (int t = 0; t < count; ++t) {
    Vec x[kB];
    for (int b = 0; b < kB; ++b) x[b] = load(vp + t * step_v + b * kLanes);
#pragma GCC unroll 8
    for (int o = 0; o < kO; ++o) {
      const float a = dp[t * step_d + o];
      for (int b = 0; b < kB; ++b) acc[o][b] += a * x[b];
    }
  }
  for (int o = 0; o < kO; ++o)
    for (int b = 0; b < kB; ++b) store(base + o * s.ic + b * kLanes, acc[o][b]);
}

// The weight gradient's Winograd-domain sums for output tiles [tile0, tile1), added into du
// (36, oc, ic): per chunk of tiles the input windows (as the forward) and the output gradients
// are transformed, then multiplied position by position.
void weight_gradient_tiles(const WinogradShape& s, const float* x, const float* dy, int64_t tile0, int64_t tile1,
                           float* scratch, float* du, float* db) {
  constexpr int kO = kLanes == 16 ? 8 : 4;  // 16 or 8 accumulators with two input blocks
  float* v = scratch;
  float* d = scratch + v_floats(s.ic);
  const int64_t iblocks = s.ic / kLanes;
  for (int64_t t0 = tile0; t0 < tile1; t0 += kChunk) {
    const int count = static_cast<int>(tile1 - t0 < kChunk ? tile1 - t0 : kChunk);
    TilePlace places[kChunk];
    places_of(s, t0, count, places);
    transform_inputs(s, x, places, count, v);
    transform_output_grads(s, dy, places, count, d, db);
    for (int pos = 0; pos < kPositions; ++pos) {
      for (int64_t o0 = 0; o0 < s.oc; o0 += kO) {
        int64_t ib = 0;
        for (; ib + 2 <= iblocks; ib += 2) accumulate_block<kO, 2>(s, v, d, count, pos, o0, ib, du);
        if (ib < iblocks) accumulate_block<kO, 1>(s, v, d, count, pos, o0, ib, du);
      }
    }
  }
}

// U[ob][pos][i][lane] = (G g G^T)[pos] of the kernel g from input channel i to output
// channel ob * kLanes + lane, for output blocks [ob0, ob1); G is kWinogradG (winograd_table.h),
// the same interpolation points as B^T and A^T above.
void transform_weights(const float* w, int64_t out, int64_t in, bool flip, int64_t ob0, int64_t ob1, float* u) {
  const auto& G = kWinogradG;
  for (int64_t ob = ob0; ob < ob1; ++ob) {
    for (int64_t i = 0; i < in; ++i) {
      Vec g[9];  // the 3x3 kernel, one lane per output channel
      for (int k = 0; k < 9; ++k) {
        for (int lane = 0; lane < kLanes; ++lane) {
          const int64_t o = ob * kLanes + lane;
          g[k][lane] = flip ? w[(i * out + o) * 9 + 8 - k] : w[(o * in + i) * 9 + k];
        }
      }
      Vec t[6][3];  // G g
      for (int a = 0; a < 6; ++a)
        for (int c = 0; c < 3; ++c) t[a][c] = G[a][0] * g[c] + G[a][1] * g[3 + c] + G[a][2] * g[6 + c];
      for (int a = 0; a < 6; ++a)
        for (int b = 0; b < 6; ++b)
          store(u + ((ob * kPositions + a * kWindow + b) * in + i) * kLanes,
                t[a][0] * G[b][0] + t[a][1] * G[b][1] + t[a][2] * G[b][2]);
    }
  }
}

const WinogradTable kTable = {kIsa, kLanes, convolve_tiles, transform_weights, weight_gradient_tiles};
