#include "core/augment.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace torchfit {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A shift for one axis of `size` pixels from two uniforms (Keras's get_random_transform):
// a whole-number range n picks |s| in 0..n-1 and a sign; otherwise s is uniform in
// [-v, v), times the size when v < 1.
double draw_shift(double range, bool integer, int64_t size, double u, double sign_u) {
  if (range <= 0) return 0;
  if (integer) {
    const double magnitude = std::min(std::floor(u * range), range - 1);
    return sign_u < 0.5 && magnitude > 0 ? -magnitude : magnitude;
  }
  const double s = (2 * u - 1) * range;
  return range < 1 ? s * static_cast<double>(size) : s;
}

// Neighbour indices outside [0, n) mapped as scipy.ndimage's modes do: 'reflect' is
// half-sample symmetric (d c b a | a b c d | d c b a); 'nearest' and 'constant' clamp
// ('constant' then masks whole samples that fall outside the image).
torch::Tensor extend(const torch::Tensor& index, int64_t n, bool reflect) {
  if (!reflect) return index.clamp(0, n - 1);
  auto k = index.remainder(2 * n);  // non-negative for a positive divisor
  return torch::where(k >= n, 2 * n - 1 - k, k);
}

// Bilinear sampling of (N, C, H, W) at per-pixel source coordinates (N, H*W) in float64.
torch::Tensor sample_bilinear(const torch::Tensor& x, const torch::Tensor& rows, const torch::Tensor& cols,
                              FillMode mode, double cval) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const bool reflect = mode == FillMode::Reflect;
  const auto r0 = rows.floor();
  const auto c0 = cols.floor();
  const auto fr = (rows - r0).unsqueeze(1).to(x.scalar_type());
  const auto fc = (cols - c0).unsqueeze(1).to(x.scalar_type());
  const auto r0i = r0.to(torch::kLong), c0i = c0.to(torch::kLong);
  const auto ra = extend(r0i, h, reflect) * w, rb = extend(r0i + 1, h, reflect) * w;
  const auto ca = extend(c0i, w, reflect), cb = extend(c0i + 1, w, reflect);
  const auto flat = x.reshape({n, c, h * w});
  auto at = [&](const torch::Tensor& index) { return flat.gather(2, index.unsqueeze(1).expand({n, c, h * w})); };
  // Integer coordinates give weights of exactly 1 and 0: shifts by whole pixels copy pixels exactly.
  auto out = (at(ra + ca) * (1 - fc) + at(ra + cb) * fc) * (1 - fr) + (at(rb + ca) * (1 - fc) + at(rb + cb) * fc) * fr;
  if (mode == FillMode::Constant) {
    const auto outside = (rows < 0) | (rows > h - 1) | (cols < 0) | (cols > w - 1);
    out.masked_fill_(outside.unsqueeze(1), cval);
  }
  return out.reshape({n, c, h, w});
}

int64_t extend_index(int64_t k, int64_t n, bool reflect) {
  if (k >= 0 && k < n) return k;
  if (!reflect) return k < 0 ? 0 : n - 1;
  k %= 2 * n;
  if (k < 0) k += 2 * n;
  return k >= n ? 2 * n - 1 - k : k;
}

// The same sampling as sample_bilinear, as one loop per image over CPU float32: the tensor
// version makes about forty passes over the batch (5 ms for 128 28x28 images), this one one.
// Same arithmetic in the same order (coordinates in double, weights in float), same results.
torch::Tensor sample_bilinear_cpu(const torch::Tensor& x_in, const torch::Tensor& matrices, FillMode mode,
                                  double cval) {
  const auto x = x_in.contiguous();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const bool reflect = mode == FillMode::Reflect, constant = mode == FillMode::Constant;
  auto out = torch::empty_like(x);
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const auto m = matrices.accessor<double, 2>();
  const float fill = static_cast<float>(cval);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double m0 = m[i][0], m1 = m[i][1], m2 = m[i][2], m3 = m[i][3], m4 = m[i][4], m5 = m[i][5];
      const float* image = src + i * c * h * w;
      float* result = dst + i * c * h * w;
      for (int64_t r = 0; r < h; ++r) {
        for (int64_t q = 0; q < w; ++q) {
          const double rr = m0 * static_cast<double>(r) + m1 * static_cast<double>(q) + m2;
          const double cc = m3 * static_cast<double>(r) + m4 * static_cast<double>(q) + m5;
          const int64_t at = r * w + q;
          if (constant && (rr < 0 || rr > h - 1 || cc < 0 || cc > w - 1)) {
            for (int64_t k = 0; k < c; ++k) result[k * h * w + at] = fill;
            continue;
          }
          const double r0 = std::floor(rr), c0 = std::floor(cc);
          const float fr = static_cast<float>(rr - r0), fc = static_cast<float>(cc - c0);
          const int64_t ri = static_cast<int64_t>(r0), ci = static_cast<int64_t>(c0);
          const int64_t ra = extend_index(ri, h, reflect) * w, rb = extend_index(ri + 1, h, reflect) * w;
          const int64_t ca = extend_index(ci, w, reflect), cb = extend_index(ci + 1, w, reflect);
          for (int64_t k = 0; k < c; ++k) {
            const float* plane = image + k * h * w;
            const float top = plane[ra + ca] * (1 - fc) + plane[ra + cb] * fc;
            const float bottom = plane[rb + ca] * (1 - fc) + plane[rb + cb] * fc;
            result[k * h * w + at] = top * (1 - fr) + bottom * fr;
          }
        }
      }
    }
  });
  return out;
}

// Keras's apply_affine_transform: M = rotation @ shift @ zoom about the image centre,
// in (row, column) coordinates; output pixel o samples the input at M o.
torch::Tensor affine(const torch::Tensor& x, const torch::Tensor& params, const AugmentConfig& config, bool loop) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const auto p = params.accessor<double, 2>();
  auto m = torch::empty({n, 6}, torch::kFloat64);
  auto ma = m.accessor<double, 2>();
  const double orow = h / 2.0 - 0.5, ocol = w / 2.0 - 0.5;
  for (int64_t i = 0; i < n; ++i) {
    const double theta = p[i][kRotationDegrees] * kPi / 180.0;
    const double cs = std::cos(theta), sn = std::sin(theta);
    const double tr = p[i][kRowShift], tc = p[i][kColShift], zr = p[i][kRowZoom], zc = p[i][kColZoom];
    const double a00 = cs * zr, a01 = -sn * zc, a10 = sn * zr, a11 = cs * zc;
    const double b0 = cs * tr - sn * tc, b1 = sn * tr + cs * tc;
    ma[i][0] = a00;
    ma[i][1] = a01;
    ma[i][2] = a00 * -orow + a01 * -ocol + b0 + orow;
    ma[i][3] = a10;
    ma[i][4] = a11;
    ma[i][5] = a10 * -orow + a11 * -ocol + b1 + ocol;
  }
  if (loop && x.device().is_cpu() && x.scalar_type() == torch::kFloat32) {
    return sample_bilinear_cpu(x, m, config.fill_mode, config.cval);
  }
  const auto options = torch::TensorOptions().dtype(torch::kFloat64).device(x.device());
  m = m.to(x.device());
  const auto grid_rows = torch::arange(h, options).view({h, 1}).expand({h, w}).reshape({1, h * w});
  const auto grid_cols = torch::arange(w, options).view({1, w}).expand({h, w}).reshape({1, h * w});
  auto col = [&](int64_t j) { return m.select(1, j).unsqueeze(1); };
  const auto rows = col(0) * grid_rows + col(1) * grid_cols + col(2);
  const auto cols = col(3) * grid_rows + col(4) * grid_cols + col(5);
  return sample_bilinear(x, rows, cols, config.fill_mode, config.cval);
}

// out[r, c] = in[r + dr, c + dc], zero outside: a crop of the zero-padded image.
torch::Tensor shift_whole_pixels(const torch::Tensor& x, const torch::Tensor& row_offsets, const torch::Tensor& col_offsets) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const auto options = torch::TensorOptions().dtype(torch::kLong).device(x.device());
  const auto rr = torch::arange(h, options).unsqueeze(0) + row_offsets.to(x.device(), torch::kLong).unsqueeze(1);  // (N, H)
  const auto cc = torch::arange(w, options).unsqueeze(0) + col_offsets.to(x.device(), torch::kLong).unsqueeze(1);  // (N, W)
  const auto inside = ((rr >= 0) & (rr < h)).unsqueeze(2) & ((cc >= 0) & (cc < w)).unsqueeze(1);        // (N, H, W)
  const auto index = (rr.clamp(0, h - 1) * w).unsqueeze(2) + cc.clamp(0, w - 1).unsqueeze(1);
  auto out = x.reshape({n, c, h * w}).gather(2, index.reshape({n, 1, h * w}).expand({n, c, h * w})).reshape({n, c, h, w});
  return out.masked_fill_(inside.logical_not().unsqueeze(1), 0);
}

torch::Tensor flip_where(const torch::Tensor& x, const torch::Tensor& flags, int64_t dim) {
  const auto chosen = flags.to(x.device()).gt(0.5).view({-1, 1, 1, 1});
  return torch::where(chosen, x.flip({dim}), x);
}

}  // namespace

torch::Tensor draw_augment_params(int64_t n, int64_t height, int64_t width, const AugmentConfig& config,
                                  at::Generator& gen) {
  // Eleven uniforms per image whatever is enabled: a seed gives the same images for the same options.
  const auto u = torch::rand({n, 11}, gen, torch::kFloat64);
  const auto ua = u.accessor<double, 2>();
  auto params = torch::zeros({n, kAugmentParamCount}, torch::kFloat64);
  auto p = params.accessor<double, 2>();
  const bool zoom = config.zoom_low != 1 || config.zoom_high != 1;
  const int64_t pad = config.crop_padding;
  for (int64_t i = 0; i < n; ++i) {
    p[i][kRotationDegrees] = config.rotation > 0 ? (2 * ua[i][0] - 1) * config.rotation : 0;
    p[i][kRowShift] = draw_shift(config.height_shift, config.height_shift_integer, height, ua[i][1], ua[i][2]);
    p[i][kColShift] = draw_shift(config.width_shift, config.width_shift_integer, width, ua[i][3], ua[i][4]);
    p[i][kRowZoom] = zoom ? config.zoom_low + ua[i][5] * (config.zoom_high - config.zoom_low) : 1;
    p[i][kColZoom] = zoom ? config.zoom_low + ua[i][6] * (config.zoom_high - config.zoom_low) : 1;
    p[i][kFlipHorizontal] = config.horizontal_flip && ua[i][7] < 0.5 ? 1 : 0;
    p[i][kFlipVertical] = config.vertical_flip && ua[i][8] < 0.5 ? 1 : 0;
    if (pad > 0) {
      const double span = static_cast<double>(2 * pad + 1);
      p[i][kCropRow] = std::min(std::floor(ua[i][9] * span), span - 1) - pad;
      p[i][kCropCol] = std::min(std::floor(ua[i][10] * span), span - 1) - pad;
    }
  }
  return params;
}

torch::Tensor apply_augment(const torch::Tensor& images, const torch::Tensor& params_in, const AugmentConfig& config,
                            bool cpu_loop) {
  torch::NoGradGuard no_grad;
  const auto params = params_in.to(torch::kCPU, torch::kFloat64).contiguous();
  auto x = images;
  const bool any_affine = config.rotation > 0 || config.width_shift > 0 || config.height_shift > 0 ||
                          config.zoom_low != 1 || config.zoom_high != 1;
  if (any_affine) x = affine(x, params, config, cpu_loop);
  if (config.horizontal_flip) x = flip_where(x, params.select(1, kFlipHorizontal), 3);
  if (config.vertical_flip) x = flip_where(x, params.select(1, kFlipVertical), 2);
  if (config.crop_padding > 0) x = shift_whole_pixels(x, params.select(1, kCropRow), params.select(1, kCropCol));
  return x.contiguous();
}

}  // namespace torchfit
