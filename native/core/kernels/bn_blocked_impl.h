// The loops of bn_blocked_table.h, compiled twice (bn_blocked_avx2.cc, bn_blocked_generic.cc).
// Include inside each file's own namespace and nowhere else. Written on GCC/Clang vectors of
// eight floats (two SSE registers in the portable build, one AVX register in the other): a
// pixel of a 16-lane block is two of them, of an 8-lane block one.
//
// Sums: a float partial over at most kChunk pixels, then added into double, so long planes
// lose nothing to float accumulation and the inner loop stays in float vectors.

typedef float V8 __attribute__((vector_size(32)));
typedef int I8 __attribute__((vector_size(32)));

constexpr int64_t kChunk = 64;

inline V8 load(const float* p) {
  V8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, V8 v) { __builtin_memcpy(p, &v, sizeof v); }
inline V8 splat(float f) { return V8{f, f, f, f, f, f, f, f}; }
// mask ? v : 0, mask being a vector comparison's all-ones/all-zeros lanes.
inline V8 keep(I8 mask, V8 v) { return reinterpret_cast<V8>(mask & reinterpret_cast<I8>(v)); }
inline void add_to(double* acc, V8 v) {
  for (int l = 0; l < 8; ++l) acc[l] += v[l];
}

// U vectors per pixel (B = 8 U).
template <int U>
void stats_u(const float* x, int64_t pixels, const float* shift, double* sum, double* sq) {
  V8 k[U];
  for (int u = 0; u < U; ++u) k[u] = load(shift + 8 * u);
  for (int64_t p0 = 0; p0 < pixels; p0 += kChunk) {
    const int64_t p1 = p0 + kChunk < pixels ? p0 + kChunk : pixels;
    V8 s[U], q[U];
    for (int u = 0; u < U; ++u) s[u] = q[u] = splat(0.f);
    for (int64_t p = p0; p < p1; ++p) {
      for (int u = 0; u < U; ++u) {
        const V8 d = load(x + (p * U + u) * 8) - k[u];
        s[u] += d;
        q[u] += d * d;
      }
    }
    for (int u = 0; u < U; ++u) {
      add_to(sum + 8 * u, s[u]);
      add_to(sq + 8 * u, q[u]);
    }
  }
}

template <int U>
void apply_u(const float* x, int64_t pixels, const float* scale, const float* shift, bool relu, float* y) {
  V8 a[U], b[U];
  for (int u = 0; u < U; ++u) {
    a[u] = load(scale + 8 * u);
    b[u] = load(shift + 8 * u);
  }
  const V8 zero = splat(0.f);
  for (int64_t p = 0; p < pixels; ++p) {
    for (int u = 0; u < U; ++u) {
      const V8 v = load(x + (p * U + u) * 8) * a[u] + b[u];
      store(y + (p * U + u) * 8, relu ? keep(v > zero, v) : v);
    }
  }
}

template <int U>
void grad_stats_u(const float* x, const float* dy, int64_t pixels, const float* mean, const float* scale,
                  const float* shift, bool relu, double* sum_dy, double* sum_dyx) {
  V8 m[U], a[U], b[U];
  for (int u = 0; u < U; ++u) {
    m[u] = load(mean + 8 * u);
    a[u] = load(scale + 8 * u);
    b[u] = load(shift + 8 * u);
  }
  const V8 zero = splat(0.f);
  for (int64_t p0 = 0; p0 < pixels; p0 += kChunk) {
    const int64_t p1 = p0 + kChunk < pixels ? p0 + kChunk : pixels;
    V8 s[U], q[U];
    for (int u = 0; u < U; ++u) s[u] = q[u] = zero;
    for (int64_t p = p0; p < p1; ++p) {
      for (int u = 0; u < U; ++u) {
        const V8 xv = load(x + (p * U + u) * 8);
        V8 g = load(dy + (p * U + u) * 8);
        if (relu) g = keep(xv * a[u] + b[u] > zero, g);
        s[u] += g;
        q[u] += g * (xv - m[u]);
      }
    }
    for (int u = 0; u < U; ++u) {
      add_to(sum_dy + 8 * u, s[u]);
      add_to(sum_dyx + 8 * u, q[u]);
    }
  }
}

template <int U>
void grad_apply_u(const float* x, const float* dy, const float* r, int64_t pixels, const float* mean,
                  const float* scale, const float* shift, bool relu, const float* ka, const float* kb,
                  const float* kc, bool mask_input, float* dx) {
  V8 m[U], a[U], b[U], c1[U], c2[U], c3[U];
  for (int u = 0; u < U; ++u) {
    m[u] = load(mean + 8 * u);
    a[u] = load(scale + 8 * u);
    b[u] = load(shift + 8 * u);
    c1[u] = load(ka + 8 * u);
    c2[u] = load(kb + 8 * u);
    c3[u] = load(kc + 8 * u);
  }
  const V8 zero = splat(0.f);
  for (int64_t p = 0; p < pixels; ++p) {
    for (int u = 0; u < U; ++u) {
      const int64_t o = (p * U + u) * 8;
      const V8 xv = load(x + o);
      V8 g = load(dy + o);
      if (relu) g = keep(xv * a[u] + b[u] > zero, g);
      V8 out = c1[u] * g + c2[u] * (xv - m[u]) + c3[u];
      if (r != nullptr) out += load(r + o);
      if (mask_input) out = keep(xv > zero, out);
      store(dx + o, out);
    }
  }
}

void stats(const float* x, int64_t pixels, int64_t block, const float* shift, double* sum, double* sq) {
  if (block == 16) return stats_u<2>(x, pixels, shift, sum, sq);
  return stats_u<1>(x, pixels, shift, sum, sq);
}

void apply(const float* x, int64_t pixels, int64_t block, const float* scale, const float* shift, bool relu,
           float* y) {
  if (block == 16) return apply_u<2>(x, pixels, scale, shift, relu, y);
  return apply_u<1>(x, pixels, scale, shift, relu, y);
}

void grad_stats(const float* x, const float* dy, int64_t pixels, int64_t block, const float* mean,
                const float* scale, const float* shift, bool relu, double* sum_dy, double* sum_dyx) {
  if (block == 16) return grad_stats_u<2>(x, dy, pixels, mean, scale, shift, relu, sum_dy, sum_dyx);
  return grad_stats_u<1>(x, dy, pixels, mean, scale, shift, relu, sum_dy, sum_dyx);
}

void grad_apply(const float* x, const float* dy, const float* r, int64_t pixels, int64_t block, const float* mean,
                const float* scale, const float* shift, bool relu, const float* ka, const float* kb,
                const float* kc, bool mask_input, float* dx) {
  if (block == 16) return grad_apply_u<2>(x, dy, r, pixels, mean, scale, shift, relu, ka, kb, kc, mask_input, dx);
  return grad_apply_u<1>(x, dy, r, pixels, mean, scale, shift, relu, ka, kb, kc, mask_input, dx);
}

const BnBlockedTable kTable{kIsa, stats, apply, grad_stats, grad_apply};
