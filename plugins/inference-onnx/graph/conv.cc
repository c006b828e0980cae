// Conv as im2col + OpenBLAS sgemm over cache-sized pieces, with the
// fused epilogue (bias, ReLU, BatchNormalization after the ReLU) applied
// in the single pass that moves the GEMM's result into NCHW order.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "ops.h"

namespace nomtag::onnx {
namespace {

// Two ways to cut the work into GEMMs, whichever keeps the im2col matrix
// small enough to stay in cache while the GEMM reads it back:
//  - an image whose im2col matrix is larger than kTileFloats is cut into
//    bands of output rows, one GEMM per band;
//  - smaller images are batched, up to kTileFloats per GEMM, so small
//    convolutions still make GEMMs wide enough for every thread.
constexpr int64_t kTileFloats = 1 << 18;  // 1 MiB

struct Geometry {
  int64_t C, H, W, M, KH, KW, OH, OW, PH, PW, SH, SW, DH, DW;
  int64_t K() const { return C * KH * KW; }
  int64_t Pixels() const { return OH * OW; }
};

// Writes output rows [oh0, oh0+rows) of image `x` ([C,H,W]) as rows
// (c,kh,kw) of a [K, ld] matrix, starting at column col0.
void Im2Col(const Geometry& g, const float* x, int64_t oh0, int64_t rows,
            float* col, int64_t ld, int64_t col0) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        float* row = col + ((c * g.KH + kh) * g.KW + kw) * ld + col0;
        for (int64_t oh = oh0; oh < oh0 + rows; ++oh) {
          float* dst = row + (oh - oh0) * g.OW;
          int64_t h = oh * g.SH - g.PH + kh * g.DH;
          if (h < 0 || h >= g.H) {
            std::fill_n(dst, g.OW, 0.0f);
            continue;
          }
          const float* src = x + (c * g.H + h) * g.W;
          int64_t w0 = kw * g.DW - g.PW;  // input column of output column 0
          if (g.SW == 1) {
            // Contiguous: zeros, a copy, zeros.
            int64_t lo = std::clamp<int64_t>(-w0, 0, g.OW);
            int64_t hi = std::clamp<int64_t>(g.W - w0, lo, g.OW);
            std::fill_n(dst, lo, 0.0f);
            std::memcpy(dst + lo, src + w0 + lo, (hi - lo) * sizeof(float));
            std::fill_n(dst + hi, g.OW - hi, 0.0f);
          } else {
            for (int64_t ow = 0; ow < g.OW; ++ow) {
              int64_t w = w0 + ow * g.SW;
              dst[ow] = (w >= 0 && w < g.W) ? src[w] : 0.0f;
            }
          }
        }
      }
}

// y = epilogue(acc) for one output channel's row of `n` pixels.
inline void Epilogue(const ConvFusion& f, const float* bias, int64_t m,
                     const float* acc, float* y, int64_t n) {
  const float b = bias ? bias[m] : 0.0f;
  const bool post = !f.post_scale.empty();
  const float s = post ? f.post_scale[m] : 1.0f;
  const float t = post ? f.post_shift[m] : 0.0f;
  if (f.relu) {
    for (int64_t k = 0; k < n; ++k) y[k] = std::max(acc[k] + b, 0.0f) * s + t;
  } else {
    for (int64_t k = 0; k < n; ++k) y[k] = (acc[k] + b) * s + t;
  }
}

// The output pass for channel m of output rows [oh0, oh0+rows) of one
// image: `acc` holds those rows of the GEMM's result; `plane` is the
// channel's output plane ([OH,OW], or [PH,PW] when a pool is fused, whose
// windows then never straddle two calls: see RunConv).
//
// With a pool, each window is reduced on the raw sums first and the
// epilogue applied to the one value that wins: bias, ReLU, and scale and
// shift are each monotone (non-decreasing, or non-increasing when the
// scale is negative, and then the window's minimum wins), and so are
// their float roundings, so this is exactly the max of the epilogue's
// values, at a window's fraction of the work.
void OutputPass(const Geometry& g, const ConvFusion& f, const float* bias,
                int64_t m, const float* acc, int64_t oh0, int64_t rows,
                float* plane, int64_t PH, int64_t PW) {
  if (!f.pool) {
    Epilogue(f, bias, m, acc, plane + oh0 * g.OW, rows * g.OW);
    return;
  }
  const bool rising = f.post_scale.empty() || f.post_scale[m] >= 0.0f;
  for (int64_t ph = (oh0 + f.pool_sh - 1) / f.pool_sh; ph < PH; ++ph) {
    int64_t top = ph * f.pool_sh - oh0;
    if (top + f.pool_kh > rows) break;
    for (int64_t pw = 0; pw < PW; ++pw) {
      const float* window = acc + top * g.OW + pw * f.pool_sw;
      float best = window[0];
      for (int64_t kh = 0; kh < f.pool_kh; ++kh) {
        const float* row = window + kh * g.OW;
        if (rising)
          for (int64_t kw = 0; kw < f.pool_kw; ++kw)
            best = std::max(best, row[kw]);
        else
          for (int64_t kw = 0; kw < f.pool_kw; ++kw)
            best = std::min(best, row[kw]);
      }
      Epilogue(f, bias, m, &best, &plane[ph * PW + pw], 1);
    }
  }
}

// A kernel as wide as its input, unpadded in width (MusiCNN's 7x561 and
// 7x64 convs: OW = 1). Row oh of the im2col matrix would be input rows
// oh..oh+KH-1 of each channel, a copy KH times the input; instead each
// (channel, kernel row) is one accumulating GEMM that reads the padded
// input rows in place: acc[M,OH] += W[:,c,kh,:] * X_c[kh..kh+OH-1, :]^T.
bool WholeRows(const Geometry& g) {
  return g.KW == g.W && g.PW == 0 && g.OW == 1 && g.SH == 1 && g.DH == 1;
}

// One image of a WholeRows conv into acc ([M, OH]); `padded` holds
// C * (OH + KH - 1) * W floats.
void WholeRowsConv(const Geometry& g, const float* weights, const float* x,
                   float* padded, float* acc) {
  const int64_t rows = g.OH + g.KH - 1;
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t h = r - g.PH;
      float* dst = padded + (c * rows + r) * g.W;
      if (h < 0 || h >= g.H)
        std::fill_n(dst, g.W, 0.0f);
      else
        std::memcpy(dst, x + (c * g.H + h) * g.W, g.W * sizeof(float));
    }
  bool first = true;
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      Sgemm(g.M, g.OH, g.W, weights + (c * g.KH + kh) * g.W, g.K(),
            padded + (c * rows + kh) * g.W, g.W, acc, g.OH,
            {.trans_b = true, .accumulate = !first});
      first = false;
    }
}

}  // namespace

std::string CheckConv(const Node& node) {
  if (node.Int("group", 1) != 1) return "group other than 1";
  std::vector<int64_t> kernel = node.Ints("kernel_shape");
  if (!kernel.empty() && kernel.size() != 2)
    return "convolution over other than 2 axes";
  std::string pad = node.String("auto_pad", "NOTSET");
  if (pad != "NOTSET" && pad != "VALID" && pad != "SAME_UPPER" &&
      pad != "SAME_LOWER")
    return "auto_pad " + pad;
  return {};
}

void RunConv(const Node& node, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out, const KernelContext& ctx) {
  auto fail = [&](const std::string& why) {
    throw std::runtime_error(node.Describe() + ": " + why);
  };
  if (in.empty() || !in[0] || in[0]->dtype != DType::kFloat)
    fail("input 0 is missing or not float32");
  const Tensor& x = *in[0];
  const ConvFusion& f = node.conv;
  const float* weights;
  const float* bias = nullptr;
  Shape wshape;
  if (f.weights_folded) {
    weights = f.weights.data();
    bias = f.bias.data();
    wshape = in[1]->shape;  // the original weights' shape
  } else {
    if (in.size() < 2 || !in[1] || in[1]->dtype != DType::kFloat)
      fail("weights are missing or not float32");
    weights = in[1]->f();
    wshape = in[1]->shape;
    if (in.size() > 2 && in[2]) bias = in[2]->f();
  }
  if (x.shape.size() != 4 || wshape.size() != 4)
    fail("only 2-D convolutions are implemented");
  Geometry g{};
  g.C = x.shape[1];
  g.H = x.shape[2];
  g.W = x.shape[3];
  g.M = wshape[0];
  g.KH = wshape[2];
  g.KW = wshape[3];
  if (wshape[1] != g.C) fail("weights do not match the input's channels");
  std::vector<int64_t> out_hw, pad;
  WindowGeometry(node, {g.H, g.W}, {g.KH, g.KW}, &out_hw, &pad);
  std::vector<int64_t> strides = node.Ints("strides"),
                       dil = node.Ints("dilations");
  strides.resize(2, 1);
  dil.resize(2, 1);
  g.OH = out_hw[0];
  g.OW = out_hw[1];
  g.PH = pad[0];
  g.PW = pad[1];
  g.SH = strides[0];
  g.SW = strides[1];
  g.DH = dil[0];
  g.DW = dil[1];

  const int64_t N = x.shape[0], K = g.K(), P = g.Pixels();
  // The pooled output's plane, when a MaxPool is fused.
  int64_t PH = g.OH, PW = g.OW;
  if (f.pool) {
    PH = (g.OH - f.pool_kh) / f.pool_sh + 1;
    PW = (g.OW - f.pool_kw) / f.pool_sw + 1;
    if (g.OH < f.pool_kh || g.OW < f.pool_kw) fail("pool larger than input");
  }
  out[0] = ctx.NewFloats({N, g.M, PH, PW});
  float* y = out[0].f();
  const float* images = x.f();
  const int64_t image_floats = g.C * g.H * g.W;
  // Bands of output rows within an image, or whole images per GEMM. A
  // fused pool must not see a window cut by a band: bands are then whole
  // windows (non-overlapping in height), or the whole image.
  if (WholeRows(g)) {
    const int threads = ctx.workers->size();
    const int64_t padded_floats = g.C * (g.OH + g.KH - 1) * g.W;
    std::vector<std::shared_ptr<Buffer>> padded(threads), acc(threads);
    for (int t = 0; t < threads; ++t) {
      padded[t] = ctx.pool->Get(DType::kFloat, padded_floats);
      acc[t] = ctx.pool->Get(DType::kFloat, g.M * g.OH);
    }
    ctx.workers->For(N, [&](int64_t n, int t) {
      float* a = acc[t]->f.data();
      WholeRowsConv(g, weights, images + n * image_floats, padded[t]->f.data(),
                    a);
      for (int64_t m = 0; m < g.M; ++m)
        OutputPass(g, f, bias, m, a + m * g.OH, 0, g.OH,
                   y + (n * g.M + m) * PH * PW, PH, PW);
    });
    return;
  }
  int64_t band = g.OH, images_per_gemm = 1;
  if (K * P > kTileFloats) {
    band = std::max<int64_t>(1, kTileFloats / (K * g.OW));
    if (f.pool)
      band = f.pool_kh == f.pool_sh
                 ? std::max(f.pool_sh, band / f.pool_sh * f.pool_sh)
                 : g.OH;
    band = std::min(band, g.OH);
  } else {
    // At least one group of images per thread.
    const int64_t per_thread =
        (N + ctx.workers->size() - 1) / ctx.workers->size();
    images_per_gemm = std::clamp<int64_t>(kTileFloats / (K * P), 1, per_thread);
  }
  // Every (group of images, band) is one piece of work for one thread:
  // im2col, a single-threaded sgemm and the output pass, on the thread's
  // own scratch buffers.
  const int64_t widest = images_per_gemm * band * g.OW;
  const int threads = ctx.workers->size();
  std::vector<std::shared_ptr<Buffer>> col(threads), acc(threads);
  for (int t = 0; t < threads; ++t) {
    col[t] = ctx.pool->Get(DType::kFloat, K * widest);
    acc[t] = ctx.pool->Get(DType::kFloat, g.M * widest);
  }
  const int64_t groups = (N + images_per_gemm - 1) / images_per_gemm;
  const int64_t bands = (g.OH + band - 1) / band;
  ctx.workers->For(groups * bands, [&](int64_t item, int t) {
    const int64_t n0 = item / bands * images_per_gemm;
    const int64_t oh0 = item % bands * band;
    const int64_t cn = std::min(images_per_gemm, N - n0);
    const int64_t rows = std::min(band, g.OH - oh0), span = rows * g.OW;
    const int64_t ld = cn * span;
    float* c = col[t]->f.data();
    float* a = acc[t]->f.data();
    for (int64_t j = 0; j < cn; ++j)
      Im2Col(g, images + (n0 + j) * image_floats, oh0, rows, c, ld, j * span);
    Sgemm(g.M, ld, K, weights, K, c, ld, a, ld);
    for (int64_t j = 0; j < cn; ++j)
      for (int64_t m = 0; m < g.M; ++m)
        OutputPass(g, f, bias, m, a + m * ld + j * span, oh0, rows,
                   y + ((n0 + j) * g.M + m) * PH * PW, PH, PW);
  });
}

}  // namespace nomtag::onnx
