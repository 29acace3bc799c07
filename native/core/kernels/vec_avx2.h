// Eight floats in one AVX2 register. Included only by kernels_avx2.cc, which is the one
// file compiled with -mavx2 -mfma; everything here lives in that file's own namespace.
#pragma once

// No #includes: this is included inside a namespace; the including file brings its headers.

struct Vec {
  static constexpr int kWidth = 8;
  __m256 v;

  static Vec zero() { return {_mm256_setzero_ps()}; }
  static Vec set1(float x) { return {_mm256_set1_ps(x)}; }
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  // The first n (0 < n <= 8) lanes only: nothing past them is touched, the rest read as zero.
  static Vec load_first(const float* p, int n) { return {_mm256_maskload_ps(p, lane_mask(n))}; }
  void store_first(float* p, int n) const { _mm256_maskstore_ps(p, lane_mask(n), v); }
  static __m256i lane_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }

  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm256_div_ps(a.v, b.v)}; }
  static Vec fmadd(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }  // a*b + c
  // 1/a to about 1 ulp: the 12-bit estimate and one Newton step, r (2 - a r), instead of a
  // division (the sigmoid's bottleneck: vdivps is slow and barely pipelined on Zen 2).
  static Vec reciprocal(Vec a) {
    const __m256 r = _mm256_rcp_ps(a.v);
    return {_mm256_mul_ps(r, _mm256_fnmadd_ps(a.v, r, _mm256_set1_ps(2.0f)))};
  }
  static Vec min(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
  static Vec max(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }
  static Vec round(Vec a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }

  // Masks: all bits set in lanes where true.
  static Vec greater(Vec a, Vec b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
  static Vec is_nan(Vec a) { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
  static Vec first_lanes(int n) { return {_mm256_castsi256_ps(lane_mask(n))}; }  // lanes 0..n-1 true
  friend Vec operator|(Vec a, Vec b) { return {_mm256_or_ps(a.v, b.v)}; }
  friend Vec operator&(Vec a, Vec b) { return {_mm256_and_ps(a.v, b.v)}; }
  static Vec select(Vec mask, Vec yes, Vec no) { return {_mm256_blendv_ps(no.v, yes.v, mask.v)}; }

  // 2^n for integral n in [-126, 127], as a float.
  static Vec pow2(Vec n) {
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23);
    return {_mm256_castsi256_ps(bits)};
  }

  // From 16 consecutive floats a|b: the even-indexed and the odd-indexed eight, in order.
  static void deinterleave(Vec a, Vec b, Vec& even, Vec& odd) {
    const __m256 e = _mm256_shuffle_ps(a.v, b.v, _MM_SHUFFLE(2, 0, 2, 0));  // a0 a2 b0 b2 | a4 a6 b4 b6
    const __m256 o = _mm256_shuffle_ps(a.v, b.v, _MM_SHUFFLE(3, 1, 3, 1));
    even.v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    odd.v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
  }

  // Lanes holding small non-negative integral floats, stored as eight bytes.
  void store_bytes(uint8_t* p) const {
    const __m256i i32 = _mm256_cvtps_epi32(v);
    const __m128i u16 = _mm_packus_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(u16, u16));
  }

  double sum() const {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m256d d = _mm256_cvtps_pd(s4);
    const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  }
};
