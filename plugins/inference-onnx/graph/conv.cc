// Conv as im2col + one OpenBLAS sgemm per chunk of the batch, with the
// fused epilogue (bias, ReLU, BatchNormalization after the ReLU) applied
// in the single pass that moves the GEMM's result into NCHW order.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "ops.h"

namespace nomtag::onnx {
namespace {

// The im2col matrix of a chunk of images is at most this many floats
// (64 MiB): big enough for GEMMs that keep both cores busy, small enough
// not to matter next to the activations.
constexpr int64_t kMaxColumnFloats = 16 << 20;

struct Geometry {
  int64_t C, H, W, M, KH, KW, OH, OW, PH, PW, SH, SW, DH, DW;
  int64_t K() const { return C * KH * KW; }
  int64_t Pixels() const { return OH * OW; }
};

// Writes image `x` ([C,H,W]) as rows (c,kh,kw) of a [K, ld] matrix whose
// columns col0 .. col0+OH*OW are output pixels.
void Im2Col(const Geometry& g, const float* x, float* col, int64_t ld,
            int64_t col0) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        float* row = col + ((c * g.KH + kh) * g.KW + kw) * ld + col0;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          float* dst = row + oh * g.OW;
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
  out[0] = ctx.NewFloats({N, g.M, g.OH, g.OW});
  float* y = out[0].f();
  const int64_t chunk =
      std::clamp<int64_t>(kMaxColumnFloats / std::max<int64_t>(K * P, 1), 1, N);
  std::shared_ptr<Buffer> col = ctx.pool->Get(DType::kFloat, K * P * chunk);
  // With more than one image per GEMM the result is [M, chunk*P] and the
  // epilogue scatters it to NCHW; with one it lands in place.
  std::shared_ptr<Buffer> acc;
  if (chunk > 1) acc = ctx.pool->Get(DType::kFloat, g.M * P * chunk);
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t cn = std::min(chunk, N - n0), ld = cn * P;
    for (int64_t j = 0; j < cn; ++j)
      Im2Col(g, x.f() + (n0 + j) * g.C * g.H * g.W, col->f.data(), ld, j * P);
    float* dst = chunk > 1 ? acc->f.data() : y + n0 * g.M * P;
    Sgemm(g.M, ld, K, weights, K, col->f.data(), ld, dst, ld);
    for (int64_t j = 0; j < cn; ++j)
      for (int64_t m = 0; m < g.M; ++m) {
        // In place when chunk == 1 (source and target are then the same).
        Epilogue(f, bias, m, dst + m * ld + j * P, y + ((n0 + j) * g.M + m) * P,
                 P);
      }
  }
}

}  // namespace nomtag::onnx
