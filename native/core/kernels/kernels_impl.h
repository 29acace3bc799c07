// The kernels of kernel_table.h, written once against `Vec` (eight float lanes) and compiled
// twice: kernels_avx2.cc (vec_avx2.h, -mavx2 -mfma) and kernels_generic.cc (vec_generic.h).
// Include inside each file's own namespace, after its Vec, and nowhere else.
//
// Rows are walked in chunks of eight lanes. A chunk that would run past a row's end is
// loaded and stored through lane masks, so nothing outside a tensor is read or written.

inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }
inline int64_t out_height(const ConvGeometry& g) { return g.height + 2 * g.pad - 2; }
inline int64_t out_width(const ConvGeometry& g) { return g.width + 2 * g.pad - 2; }
// The zero-bordered input copy: room for the last chunk's reads past the row end.
inline int64_t input_stride(const ConvGeometry& g) { return round_up(out_width(g), 16) + 8; }
inline int64_t input_rows(const ConvGeometry& g) { return g.height + 2 * g.pad + 1; }
inline int64_t grad_stride(const ConvGeometry& g) { return round_up(g.width, 8) + 8; }
inline int64_t grad_rows(const ConvGeometry& g) { return out_height(g) + 2 * (2 - g.pad) + 1; }
inline int64_t stride_of(const PlaneGeometry& g) { return round_up(g.width, 16); }

inline int lanes_left(int64_t width, int64_t j0) { return static_cast<int>(width - j0 < 8 ? width - j0 : 8); }

inline Vec load_row(const float* row, int64_t j0, int64_t width) {
  return j0 + 8 <= width ? Vec::load(row + j0) : Vec::load_first(row + j0, lanes_left(width, j0));
}

inline void store_row(float* row, int64_t j0, int64_t width, Vec v) {
  if (j0 + 8 <= width) {
    v.store(row + j0);
  } else {
    v.store_first(row + j0, lanes_left(width, j0));
  }
}

// e^x, about 1 ulp for x in [-87, 88] (clamped to it; NaN stays NaN): x = n ln2 + r with
// |r| <= ln2/2 (ln2 split in two so n ln2 loses nothing), e^r by its Taylor series to r^7
// (truncation below 5e-9 relative), times 2^n built in the exponent bits.
inline Vec exp(Vec x) {
  x = Vec::min(Vec::set1(88.0f), Vec::max(Vec::set1(-87.0f), x));  // NaN is the second operand: kept
  const Vec n = Vec::round(x * Vec::set1(1.44269504088896341f));
  Vec r = Vec::fmadd(n, Vec::set1(-0.693145751953125f), x);
  r = Vec::fmadd(n, Vec::set1(-1.42860682028622680e-06f), r);
  Vec p = Vec::set1(1.0f / 5040);
  p = Vec::fmadd(p, r, Vec::set1(1.0f / 720));
  p = Vec::fmadd(p, r, Vec::set1(1.0f / 120));
  p = Vec::fmadd(p, r, Vec::set1(1.0f / 24));
  p = Vec::fmadd(p, r, Vec::set1(1.0f / 6));
  p = Vec::fmadd(p, r, Vec::set1(0.5f));
  p = Vec::fmadd(p, r, Vec::set1(1.0f));
  p = Vec::fmadd(p, r, Vec::set1(1.0f));
  return p * Vec::pow2(n);
}

// ATen's form, 1 / (1 + e^-z), to about 2 ulp.
inline Vec sigmoid(Vec z) { return Vec::reciprocal(Vec::set1(1.0f) + exp(Vec::zero() - z)); }

// max(z, 0) with NaN passed through, as torch::relu.
inline Vec relu(Vec z) { return Vec::select(Vec::greater(z, Vec::zero()) | Vec::is_nan(z), z, Vec::zero()); }

inline Vec activate(PoolActivation act, Vec z) { return act == PoolActivation::relu ? relu(z) : sigmoid(z); }

// A zero-bordered copy of a rows x cols image: pad zeros above and left, zeros to the end of
// each `stride`-wide row and over `total_rows` rows.
inline void pad_copy(const float* src, int64_t rows, int64_t cols, int64_t pad, float* dst, int64_t total_rows,
                     int64_t stride) {
  std::memset(dst, 0, sizeof(float) * total_rows * stride);
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + (r + pad) * stride + pad, src + r * cols, sizeof(float) * cols);
}

// Where chunk j0 of an output row starts when it may be stored whole: a chunk that would
// run past the end is moved back to end at the row's end (overlapping its neighbour with
// identical values), unless the row is shorter than a chunk.
inline int64_t whole_chunk_start(int64_t j0, int64_t width) { return (j0 + 8 > width && width >= 8) ? width - 8 : j0; }

void conv_forward(const float* x, const float* weight, const float* bias, int64_t channels, const ConvGeometry& g,
                  float* scratch, float* out) {
  const int64_t oh = out_height(g), ow = out_width(g), xs = input_stride(g);
  pad_copy(x, g.height, g.width, g.pad, scratch, input_rows(g), xs);
  for (int64_t i = 0; i < oh; ++i) {
    for (int64_t chunk = 0; chunk < ow; chunk += 8) {
      const int64_t j0 = whole_chunk_start(chunk, ow);
      Vec taps[9];
      for (int di = 0; di < 3; ++di) {
        for (int dj = 0; dj < 3; ++dj) taps[di * 3 + dj] = Vec::load(scratch + (i + di) * xs + j0 + dj);
      }
      // The nine input vectors stay in registers across all output channels.
      for (int64_t c = 0; c < channels; ++c) {
        const float* w = weight + c * 9;
        Vec acc = Vec::set1(bias[c]);
        for (int t = 0; t < 9; ++t) acc = Vec::fmadd(Vec::set1(w[t]), taps[t], acc);
        store_row(out + (c * oh + i) * ow, j0, ow, acc);
      }
    }
  }
}

void conv_grad_weight(const float* x, const float* dout, int64_t channels, const ConvGeometry& g, float* scratch,
                      double* dweight, double* dbias) {
  const int64_t oh = out_height(g), ow = out_width(g), xs = input_stride(g);
  pad_copy(x, g.height, g.width, g.pad, scratch, input_rows(g), xs);
  for (int64_t c = 0; c < channels; ++c) {
    Vec acc[9], acc_bias = Vec::zero();
    for (auto& a : acc) a = Vec::zero();
    const float* d_plane = dout + c * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      // Lanes past the row's end load as zero, so they add nothing.
      for (int64_t j0 = 0; j0 < ow; j0 += 8) {
        const Vec d = load_row(d_plane + i * ow, j0, ow);
        acc_bias = acc_bias + d;
        for (int di = 0; di < 3; ++di) {
          for (int dj = 0; dj < 3; ++dj) {
            acc[di * 3 + dj] = Vec::fmadd(d, Vec::load(scratch + (i + di) * xs + j0 + dj), acc[di * 3 + dj]);
          }
        }
      }
    }
    for (int t = 0; t < 9; ++t) dweight[c * 9 + t] += acc[t].sum();
    dbias[c] += acc_bias.sum();
  }
}

void conv_grad_input(const float* dout, const float* weight, int64_t channels, const ConvGeometry& g, float* scratch,
                     float* dx) {
  // dx[a][b] = sum_c sum_taps w[c][di][dj] * dout[c][a + pad - di][b + pad - dj]: with dout
  // bordered by q = 2 - pad zeros that is doutpad[a + 2 - di][b + 2 - dj].
  const int64_t oh = out_height(g), ow = out_width(g), q = 2 - g.pad;
  const int64_t ds = grad_stride(g), rows = grad_rows(g), plane = rows * ds;
  const int64_t h = g.height, w = g.width, acc_stride = round_up(w, 8);
  float* acc = scratch + channels * plane;
  std::memset(acc, 0, sizeof(float) * h * acc_stride);
  for (int64_t c = 0; c < channels; ++c) {
    float* padded = scratch + c * plane;
    pad_copy(dout + c * oh * ow, oh, ow, q, padded, rows, ds);
    Vec k[9];
    for (int t = 0; t < 9; ++t) k[t] = Vec::set1(weight[c * 9 + t]);
    for (int64_t a = 0; a < h; ++a) {
      for (int64_t b0 = 0; b0 < w; b0 += 8) {
        Vec sum = Vec::load(acc + a * acc_stride + b0);
        for (int di = 0; di < 3; ++di) {
          for (int dj = 0; dj < 3; ++dj) {
            sum = Vec::fmadd(k[di * 3 + dj], Vec::load(padded + (a + 2 - di) * ds + b0 + 2 - dj), sum);
          }
        }
        sum.store(acc + a * acc_stride + b0);
      }
    }
  }
  for (int64_t a = 0; a < h; ++a) std::memcpy(dx + a * w, acc + a * acc_stride, sizeof(float) * w);
}

// The plane's sum and squared deviations from its own mean (the plane is still in cache);
// the caller combines planes (Chan et al.'s formula) into the batch statistics.
void plane_stats(const float* s, const PlaneGeometry& g, double* sum, double* m2) {
  const int64_t h = g.height, w = g.width, st = stride_of(g);
  Vec total = Vec::zero();
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j0 = 0; j0 < w; j0 += 8) {
      const Vec v = Vec::load(s + i * st + j0);
      total = total + (j0 + 8 <= w ? v : Vec::select(Vec::first_lanes(lanes_left(w, j0)), v, Vec::zero()));
    }
  }
  const double plane_sum = total.sum();
  const Vec mean = Vec::set1(static_cast<float>(plane_sum / static_cast<double>(h * w)));
  Vec dev = Vec::zero();
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j0 = 0; j0 < w; j0 += 8) {
      Vec d = Vec::load(s + i * st + j0) - mean;
      if (j0 + 8 > w) d = Vec::select(Vec::first_lanes(lanes_left(w, j0)), d, Vec::zero());
      dev = Vec::fmadd(d, d, dev);
    }
  }
  *sum = plane_sum;
  *m2 = dev.sum();
}

// Each 2x2 window's winner for BatchNorm-then-max-pool, found on the sigmoid s itself:
// y = alpha*s + shift is monotonic in s (rounding included), rising for alpha > 0 and falling
// for alpha < 0, so max y sits at max s, or at min s, and equals alpha*s_at + shift exactly.
// Scan order and test are ATen's (a later element wins if strictly better, or if NaN); with
// alpha == 0 every y is equal and the first wins. (Only where two different s round to the
// same y could ATen's first-wins pick another element: a tie either way.)
void pool_argmax_plane(const float* s, const PlaneGeometry& g, int sign, float* s_at, uint8_t* idx) {
  const int64_t st = stride_of(g), ph = g.height / 2, pw = g.width / 2;
  for (int64_t pi = 0; pi < ph; ++pi) {
    const float* r0 = s + 2 * pi * st;
    const float* r1 = r0 + st;
    // Eight windows from sixteen columns of two rows; the stride (a multiple of 16) keeps
    // every load inside the row.
    for (int64_t pj0 = 0; pj0 < pw; pj0 += 8) {
      Vec s00, s01, s10, s11;
      Vec::deinterleave(Vec::load(r0 + 2 * pj0), Vec::load(r0 + 2 * pj0 + 8), s00, s01);
      Vec::deinterleave(Vec::load(r1 + 2 * pj0), Vec::load(r1 + 2 * pj0 + 8), s10, s11);
      Vec best = s00, where = Vec::zero();
      const Vec candidates[3] = {s01, s10, s11};
      for (int k = 0; k < 3; ++k) {
        const Vec c = candidates[k];
        Vec take = Vec::is_nan(c);
        if (sign > 0) take = take | Vec::greater(c, best);
        if (sign < 0) take = take | Vec::greater(best, c);
        best = Vec::select(take, c, best);
        where = Vec::select(take, Vec::set1(static_cast<float>(k + 1)), where);
      }
      store_row(s_at + pi * pw, pj0, pw, best);
      if (idx != nullptr) {
        uint8_t bytes[8];
        where.store_bytes(bytes);
        std::memcpy(idx + pi * pw + pj0, bytes, static_cast<size_t>(lanes_left(pw, pj0)));
      }
    }
  }
}

// The winner logic holds for any non-decreasing activation: sigmoid and ReLU both are.
void activation_pool_plane(const float* z, const PlaneGeometry& g, PoolActivation act, int sign, float* s,
                           double* sum, double* m2, float* s_at, uint8_t* idx) {
  const int64_t h = g.height, w = g.width, st = stride_of(g);
  for (int64_t i = 0; i < h; ++i) {
    // The whole stride is written: lanes past the row's end hold act(0), defined values
    // that pooling may read into lanes it never stores; plane_stats never counts them. Two
    // chunks per iteration (the stride is a multiple of 16) give the core independent work.
    for (int64_t j0 = 0; j0 < st; j0 += 16) {
      const Vec a = activate(act, load_row(z + i * w, j0, w)), b = activate(act, load_row(z + i * w, j0 + 8, w));
      a.store(s + i * st + j0);
      b.store(s + i * st + j0 + 8);
    }
  }
  if (sum != nullptr) plane_stats(s, g, sum, m2);
  pool_argmax_plane(s, g, sign, s_at, idx);
}

// bias + the 3x3 taps at `in` (rows `stride` apart), as three shorter dependency chains.
inline Vec conv_chunk(const Vec* k, Vec bias, const float* in, int64_t stride) {
  Vec row[3];
  for (int di = 0; di < 3; ++di) {
    const float* r = in + di * stride;
    row[di] = Vec::fmadd(k[di * 3 + 2], Vec::load(r + 2), Vec::fmadd(k[di * 3 + 1], Vec::load(r + 1), k[di * 3] * Vec::load(r)));
  }
  return (row[0] + bias) + (row[1] + row[2]);
}

// One image of the CNN's first block: for each channel c, z = conv3x3(x) + bias[c] (the
// valid or same convolution of conv_forward, weights held in registers), s = sigmoid(z)
// into s + c*plane, then plane_stats and pool_argmax_plane as above.
void stem_forward_image(const float* x, const float* weight, const float* bias, int64_t channels,
                        const ConvGeometry& cg, const int* signs, float* scratch, float* s, double* sums, double* m2s,
                        float* s_at, uint8_t* idx) {
  const int64_t oh = out_height(cg), ow = out_width(cg), xs = input_stride(cg);
  const PlaneGeometry g{oh, ow};
  const int64_t st = stride_of(g), plane = oh * st, pooled = (oh / 2) * (ow / 2);
  pad_copy(x, cg.height, cg.width, cg.pad, scratch, input_rows(cg), xs);
  for (int64_t c = 0; c < channels; ++c) {
    Vec k[9];
    for (int t = 0; t < 9; ++t) k[t] = Vec::set1(weight[c * 9 + t]);
    const Vec b = Vec::set1(bias[c]);
    float* sc = s + c * plane;
    for (int64_t i = 0; i < oh; ++i) {
      // Lanes past the row's end compute on the zero border: finite, never counted or stored.
      // Two chunks per iteration, as in activation_pool_plane.
      for (int64_t j0 = 0; j0 < st; j0 += 16) {
        const float* in = scratch + i * xs + j0;
        const Vec a = sigmoid(conv_chunk(k, b, in, xs)), c = sigmoid(conv_chunk(k, b, in + 8, xs));
        a.store(sc + i * st + j0);
        c.store(sc + i * st + j0 + 8);
      }
    }
    plane_stats(sc, g, sums + c, m2s + c);
    pool_argmax_plane(sc, g, signs[c], s_at + c * pooled, idx + c * pooled);
  }
}

// Max-pool's gradient for one plane: each pooled gradient at its window's winner, zeros
// elsewhere (including a last odd row or column that no window covers).
void route_pool_gradient(const float* dpooled, const uint8_t* idx, const PlaneGeometry& g, float* dy) {
  const int64_t st = stride_of(g), ph = g.height / 2, pw = g.width / 2;
  std::memset(dy, 0, sizeof(float) * g.height * st);
  for (int64_t pi = 0; pi < ph; ++pi) {
    for (int64_t pj = 0; pj < pw; ++pj) {
      const int k = idx[pi * pw + pj];
      dy[(2 * pi + (k >> 1)) * st + 2 * pj + (k & 1)] = dpooled[pi * pw + pj];
    }
  }
}

// BatchNorm's gradient folded into a*dy + b*(s - mean) + c, then the activation's
// derivative from its output s: the sigmoid's s(1 - s), ReLU's s > 0 (ATen's
// threshold_backward on the result).
struct BackwardCoefficients {
  Vec a, b, c, mean;
  BackwardCoefficients(float a_, float b_, float c_, float mean_)
      : a(Vec::set1(a_)), b(Vec::set1(b_)), c(Vec::set1(c_)), mean(Vec::set1(mean_)) {}
  Vec ds(Vec s, Vec dy) const { return Vec::fmadd(a, dy, Vec::fmadd(b, s - mean, c)); }
  Vec dz(Vec s, Vec dy) const { return ds(s, dy) * (s * (Vec::set1(1.0f) - s)); }
  Vec dz(PoolActivation act, Vec s, Vec dy) const {
    if (act == PoolActivation::relu) return Vec::select(Vec::greater(s, Vec::zero()), ds(s, dy), Vec::zero());
    return dz(s, dy);
  }
};

void activation_bn_pool_backward(const float* s, const float* dpooled, const uint8_t* idx, const PlaneGeometry& g,
                                 PoolActivation act, float a, float b, float c, float mean, float* dy_scratch,
                                 float* dz) {
  const int64_t h = g.height, w = g.width, st = stride_of(g);
  route_pool_gradient(dpooled, idx, g, dy_scratch);
  const BackwardCoefficients k(a, b, c, mean);
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j0 = 0; j0 < w; j0 += 8) {
      store_row(dz + i * w, j0, w, k.dz(act, Vec::load(s + i * st + j0), Vec::load(dy_scratch + i * st + j0)));
    }
  }
}

// One image of the first block's backward: dz as in activation_bn_pool_backward (sigmoid), never stored,
// straight into the conv's weight and bias gradients (as conv_grad_weight accumulates them).
void stem_backward_image(const float* x, const float* s, const float* dpooled, const uint8_t* idx, int64_t channels,
                         const ConvGeometry& cg, const float* a, const float* b, const float* c, const float* mean,
                         float* scratch, double* dweight, double* dbias) {
  const int64_t oh = out_height(cg), ow = out_width(cg), xs = input_stride(cg);
  const PlaneGeometry g{oh, ow};
  const int64_t st = stride_of(g), plane = oh * st, pooled = (oh / 2) * (ow / 2);
  float* dy = scratch + input_rows(cg) * xs;
  pad_copy(x, cg.height, cg.width, cg.pad, scratch, input_rows(cg), xs);
  for (int64_t ch = 0; ch < channels; ++ch) {
    route_pool_gradient(dpooled + ch * pooled, idx + ch * pooled, g, dy);
    const BackwardCoefficients k(a[ch], b[ch], c[ch], mean[ch]);
    const float* sc = s + ch * plane;
    Vec acc[9], acc_bias = Vec::zero();
    for (auto& v : acc) v = Vec::zero();
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j0 = 0; j0 < ow; j0 += 8) {
        Vec d = k.dz(Vec::load(sc + i * st + j0), Vec::load(dy + i * st + j0));
        if (j0 + 8 > ow) d = Vec::select(Vec::first_lanes(lanes_left(ow, j0)), d, Vec::zero());
        acc_bias = acc_bias + d;
        for (int di = 0; di < 3; ++di) {
          for (int dj = 0; dj < 3; ++dj) {
            acc[di * 3 + dj] = Vec::fmadd(d, Vec::load(scratch + (i + di) * xs + j0 + dj), acc[di * 3 + dj]);
          }
        }
      }
    }
    for (int t = 0; t < 9; ++t) dweight[ch * 9 + t] += acc[t].sum();
    dbias[ch] += acc_bias.sum();
  }
}

void scale_shift(const float* in, int64_t n, float a, float b, float* out) {
  const Vec va = Vec::set1(a), vb = Vec::set1(b);
  for (int64_t i = 0; i < n; i += 8) store_row(out, i, n, load_row(in, i, n) * va + vb);
}

// Linear layers with few outputs (K <= 8, a template argument so the K accumulators stay in
// registers) and many inputs: the ResNet's 12,544 -> 5 head, where a BLAS spends its time
// packing operands for three skinny products.
template <int K>
void linear_forward_rows_k(const float* x, const float* w, const float* b, int64_t rows, int64_t in, float* y) {
  for (int64_t n = 0; n < rows; ++n) {
    const float* xr = x + n * in;
    Vec acc[K];
    for (auto& a : acc) a = Vec::zero();
    for (int64_t f = 0; f < in; f += 8) {
      const Vec xv = load_row(xr, f, in);
      for (int k = 0; k < K; ++k) acc[k] = Vec::fmadd(xv, load_row(w + k * in, f, in), acc[k]);
    }
    for (int k = 0; k < K; ++k) y[n * K + k] = static_cast<float>(acc[k].sum() + b[k]);
  }
}

template <int K>
void linear_grad_input_rows_k(const float* dy, const float* w, int64_t rows, int64_t in, float* dx) {
  for (int64_t n = 0; n < rows; ++n) {
    Vec g[K];
    for (int k = 0; k < K; ++k) g[k] = Vec::set1(dy[n * K + k]);
    for (int64_t f = 0; f < in; f += 8) {
      Vec acc = Vec::zero();
      for (int k = 0; k < K; ++k) acc = Vec::fmadd(g[k], load_row(w + k * in, f, in), acc);
      store_row(dx + n * in, f, in, acc);
    }
  }
}

// Columns [f0, f1) of dw = dy^T x, summed over the n rows in order. Rows are streamed
// (walking a column down the rows would miss the cache on every row); the block of dw
// stays in cache.
template <int K>
void linear_grad_weight_cols_k(const float* x, const float* dy, int64_t n, int64_t in, int64_t f0, int64_t f1,
                               float* dw) {
  for (int k = 0; k < K; ++k) std::memset(dw + k * in + f0, 0, sizeof(float) * (f1 - f0));
  for (int64_t r = 0; r < n; ++r) {
    Vec g[K];
    for (int k = 0; k < K; ++k) g[k] = Vec::set1(dy[r * K + k]);
    const float* xr = x + r * in;
    for (int64_t f = f0; f < f1; f += 8) {
      const Vec xv = load_row(xr, f, f1);
      for (int k = 0; k < K; ++k) store_row(dw + k * in, f, f1, Vec::fmadd(g[k], xv, load_row(dw + k * in, f, f1)));
    }
  }
}

#define TORCHFIT_BY_OUTPUTS(call)   \
  switch (out) {                    \
    case 1: call(1); break;         \
    case 2: call(2); break;         \
    case 3: call(3); break;         \
    case 4: call(4); break;         \
    case 5: call(5); break;         \
    case 6: call(6); break;         \
    case 7: call(7); break;         \
    default: call(8); break;        \
  }

void linear_forward_rows(const float* x, const float* w, const float* b, int64_t rows, int64_t in, int64_t out,
                         float* y) {
#define TORCHFIT_CALL(K) linear_forward_rows_k<K>(x, w, b, rows, in, y)
  TORCHFIT_BY_OUTPUTS(TORCHFIT_CALL)
#undef TORCHFIT_CALL
}

void linear_grad_input_rows(const float* dy, const float* w, int64_t rows, int64_t in, int64_t out, float* dx) {
#define TORCHFIT_CALL(K) linear_grad_input_rows_k<K>(dy, w, rows, in, dx)
  TORCHFIT_BY_OUTPUTS(TORCHFIT_CALL)
#undef TORCHFIT_CALL
}

void linear_grad_weight_cols(const float* x, const float* dy, int64_t n, int64_t in, int64_t out, int64_t f0,
                             int64_t f1, float* dw) {
#define TORCHFIT_CALL(K) linear_grad_weight_cols_k<K>(x, dy, n, in, f0, f1, dw)
  TORCHFIT_BY_OUTPUTS(TORCHFIT_CALL)
#undef TORCHFIT_CALL
}
#undef TORCHFIT_BY_OUTPUTS

const KernelTable kTable = {kIsa,
                            conv_forward,
                            conv_grad_weight,
                            conv_grad_input,
                            activation_pool_plane,
                            scale_shift,
                            activation_bn_pool_backward,
                            stem_forward_image,
                            stem_backward_image,
                            linear_forward_rows,
                            linear_grad_input_rows,
                            linear_grad_weight_cols};
