// Eight floats as a plain array: the same lanes and the same algorithms as vec_avx2.h,
// for CPUs without AVX2/FMA (the compiler maps it onto whatever the baseline offers).
// Included only by kernels_generic.cc.
#pragma once

// No #includes: this is included inside a namespace; the including file brings its headers.

struct Vec {
  static constexpr int kWidth = 8;
  float v[8];

  template <typename F>
  static Vec map(F f) {
    Vec r;
    for (int i = 0; i < 8; ++i) r.v[i] = f(i);
    return r;
  }
  static Vec zero() { return set1(0.0f); }
  static Vec set1(float x) { return map([&](int) { return x; }); }
  static Vec load(const float* p) { Vec r; std::memcpy(r.v, p, sizeof r.v); return r; }
  void store(float* p) const { std::memcpy(p, v, sizeof v); }
  static Vec load_first(const float* p, int n) { return map([&](int i) { return i < n ? p[i] : 0.0f; }); }
  void store_first(float* p, int n) const {
    for (int i = 0; i < n; ++i) p[i] = v[i];
  }

  friend Vec operator+(Vec a, Vec b) { return map([&](int i) { return a.v[i] + b.v[i]; }); }
  friend Vec operator-(Vec a, Vec b) { return map([&](int i) { return a.v[i] - b.v[i]; }); }
  friend Vec operator*(Vec a, Vec b) { return map([&](int i) { return a.v[i] * b.v[i]; }); }
  friend Vec operator/(Vec a, Vec b) { return map([&](int i) { return a.v[i] / b.v[i]; }); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return map([&](int i) { return std::fma(a.v[i], b.v[i], c.v[i]); }); }
  static Vec reciprocal(Vec a) { return map([&](int i) { return 1.0f / a.v[i]; }); }
  // Same NaN behaviour as minps/maxps: the second operand when either is NaN.
  static Vec min(Vec a, Vec b) { return map([&](int i) { return a.v[i] < b.v[i] ? a.v[i] : b.v[i]; }); }
  static Vec max(Vec a, Vec b) { return map([&](int i) { return a.v[i] > b.v[i] ? a.v[i] : b.v[i]; }); }
  static Vec round(Vec a) { return map([&](int i) { return std::nearbyint(a.v[i]); }); }

  static float bits(bool on) {
    const uint32_t b = on ? 0xFFFFFFFFu : 0u;
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  static bool on(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b != 0;
  }
  static Vec greater(Vec a, Vec b) { return map([&](int i) { return bits(a.v[i] > b.v[i]); }); }
  static Vec is_nan(Vec a) { return map([&](int i) { return bits(std::isnan(a.v[i])); }); }
  static Vec first_lanes(int n) { return map([&](int i) { return bits(i < n); }); }
  static Vec bitwise(Vec a, Vec b, bool is_or) {
    return map([&](int i) {
      uint32_t x, y;
      std::memcpy(&x, &a.v[i], 4);
      std::memcpy(&y, &b.v[i], 4);
      const uint32_t r = is_or ? (x | y) : (x & y);
      float f;
      std::memcpy(&f, &r, 4);
      return f;
    });
  }
  friend Vec operator|(Vec a, Vec b) { return bitwise(a, b, true); }
  friend Vec operator&(Vec a, Vec b) { return bitwise(a, b, false); }
  static Vec select(Vec mask, Vec yes, Vec no) { return map([&](int i) { return on(mask.v[i]) ? yes.v[i] : no.v[i]; }); }

  static Vec pow2(Vec n) {
    return map([&](int i) {
      const uint32_t b = static_cast<uint32_t>(static_cast<int32_t>(n.v[i]) + 127) << 23;
      float f;
      std::memcpy(&f, &b, 4);
      return f;
    });
  }

  static void deinterleave(Vec a, Vec b, Vec& even, Vec& odd) {
    for (int i = 0; i < 4; ++i) {
      even.v[i] = a.v[2 * i];
      odd.v[i] = a.v[2 * i + 1];
      even.v[4 + i] = b.v[2 * i];
      odd.v[4 + i] = b.v[2 * i + 1];
    }
  }

  void store_bytes(uint8_t* p) const {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v[i]);
  }

  double sum() const {
    // Pairwise in float like the AVX2 version, then in double.
    float s4[4];
    for (int i = 0; i < 4; ++i) s4[i] = v[i] + v[4 + i];
    return (static_cast<double>(s4[0]) + s4[2]) + (static_cast<double>(s4[1]) + s4[3]);
  }
};
