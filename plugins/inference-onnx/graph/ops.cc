// Every kernel but Conv (conv.cc). Kernels are plain loops: apart from the
// convolutions and MatMul (OpenBLAS) they touch small tensors in MusiCNN.
#include "ops.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>

namespace nomtag::onnx {
namespace {

[[noreturn]] void Fail(const Node& node, const std::string& why) {
  throw std::runtime_error(node.Describe() + ": " + why);
}

const Tensor& Float(const Node& node, const std::vector<const Tensor*>& in,
                    size_t k) {
  if (k >= in.size() || !in[k])
    Fail(node, "input " + std::to_string(k) + " is missing");
  if (in[k]->dtype != DType::kFloat)
    Fail(node, "input " + std::to_string(k) + " is not float32");
  return *in[k];
}

int64_t Axis(const Node& node, int64_t axis, size_t rank) {
  int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    Fail(node, "axis " + std::to_string(axis) + " out of range for rank " +
                   std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

std::vector<int64_t> Strides(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int k = static_cast<int>(shape.size()) - 2; k >= 0; --k)
    s[k] = s[k + 1] * shape[k + 1];
  return s;
}

std::string NoCheck(const Node&) { return {}; }

// Calls fn(begin, end) on consecutive ranges covering [0, units), one per
// thread, or one range when the whole (`cost`, in multiply-adds or values
// moved) is too small to pay for waking the others.
void Split(const KernelContext& ctx, int64_t units, int64_t cost,
           const std::function<void(int64_t, int64_t)>& fn) {
  constexpr int64_t kWorthSplitting = 1 << 16;
  const int64_t pieces =
      cost < kWorthSplitting
          ? 1
          : std::clamp<int64_t>(units, 1, ctx.workers->size());
  const int64_t per = (units + pieces - 1) / pieces;
  ctx.workers->For(pieces, [&](int64_t p, int) {
    const int64_t begin = p * per, end = std::min(units, begin + per);
    if (begin < end) fn(begin, end);
  });
}

// --- elementwise -----------------------------------------------------------

template <typename F>
void Unary(const Node& node, const std::vector<const Tensor*>& in,
           std::vector<Tensor>& out, const KernelContext& ctx, F f) {
  const Tensor& x = Float(node, in, 0);
  out[0] = ctx.NewFloats(x.shape);
  const float* a = x.f();
  float* y = out[0].f();
  Split(ctx, x.size(), x.size(), [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) y[k] = f(a[k]);
  });
}

void RunRelu(const Node& n, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out, const KernelContext& ctx) {
  Unary(n, in, out, ctx, [](float v) { return v > 0 ? v : 0.0f; });
}

void RunSigmoid(const Node& n, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out, const KernelContext& ctx) {
  Unary(n, in, out, ctx, [](float v) {
    if (v >= 0) return 1.0f / (1.0f + std::exp(-v));
    float e = std::exp(v);
    return e / (1.0f + e);
  });
}

// Multidirectional (numpy) broadcasting.
template <typename F>
void Binary(const Node& node, const std::vector<const Tensor*>& in,
            std::vector<Tensor>& out, const KernelContext& ctx, F f) {
  const Tensor& a = Float(node, in, 0);
  const Tensor& b = Float(node, in, 1);
  size_t rank = std::max(a.shape.size(), b.shape.size());
  Shape sa(rank - a.shape.size(), 1), sb(rank - b.shape.size(), 1);
  sa.insert(sa.end(), a.shape.begin(), a.shape.end());
  sb.insert(sb.end(), b.shape.begin(), b.shape.end());
  Shape so(rank);
  for (size_t k = 0; k < rank; ++k) {
    if (sa[k] != sb[k] && sa[k] != 1 && sb[k] != 1)
      Fail(node, "cannot broadcast " + ShapeText(a.shape) + " with " +
                     ShapeText(b.shape));
    so[k] = sa[k] == 1 ? sb[k] : sa[k];
  }
  out[0] = ctx.NewFloats(so);
  float* y = out[0].f();
  const float* pa = a.f();
  const float* pb = b.f();
  int64_t n = out[0].size();
  if (sa == sb) {
    Split(ctx, n, n, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) y[k] = f(pa[k], pb[k]);
    });
    return;
  }
  // Strides of a and b over the output's index space (0 where broadcast).
  std::vector<int64_t> ta = Strides(sa), tb = Strides(sb);
  for (size_t k = 0; k < rank; ++k) {
    if (sa[k] == 1) ta[k] = 0;
    if (sb[k] == 1) tb[k] = 0;
  }
  int64_t inner = rank ? so[rank - 1] : 1;
  int64_t ia = rank ? ta[rank - 1] : 0, ib = rank ? tb[rank - 1] : 0;
  if (!n) return;
  // Rows of the last axis split between the threads; each range starts
  // its odometer at its first row.
  Split(ctx, n / inner, n, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> idx(rank, 0);
    int64_t oa = 0, ob = 0;
    for (int64_t d = static_cast<int64_t>(rank) - 2, r = begin; d >= 0; --d) {
      idx[d] = r % so[d];
      r /= so[d];
      oa += idx[d] * ta[d];
      ob += idx[d] * tb[d];
    }
    for (int64_t k = begin * inner; k < end * inner; k += inner) {
      for (int64_t j = 0; j < inner; ++j)
        y[k + j] = f(pa[oa + j * ia], pb[ob + j * ib]);
      // Advance the odometer over all but the last axis.
      for (int d = static_cast<int>(rank) - 2; d >= 0; --d) {
        oa += ta[d];
        ob += tb[d];
        if (++idx[d] < so[d]) break;
        oa -= ta[d] * so[d];
        ob -= tb[d] * so[d];
        idx[d] = 0;
      }
    }
  });
}

void RunAdd(const Node& n, const std::vector<const Tensor*>& in,
            std::vector<Tensor>& out, const KernelContext& ctx) {
  Binary(n, in, out, ctx, [](float a, float b) { return a + b; });
}

void RunMul(const Node& n, const std::vector<const Tensor*>& in,
            std::vector<Tensor>& out, const KernelContext& ctx) {
  Binary(n, in, out, ctx, [](float a, float b) { return a * b; });
}

void RunSoftmax(const Node& node, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& x = Float(node, in, 0);
  int64_t axis = Axis(node, node.Int("axis", -1), x.shape.size());
  int64_t outer = 1, inner = 1, len = x.shape[axis];
  for (int64_t k = 0; k < axis; ++k) outer *= x.shape[k];
  for (size_t k = axis + 1; k < x.shape.size(); ++k) inner *= x.shape[k];
  out[0] = ctx.NewFloats(x.shape);
  const float* a = x.f();
  float* y = out[0].f();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* src = a + o * len * inner + i;
      float* dst = y + o * len * inner + i;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) m = std::max(m, src[k * inner]);
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) {
        dst[k * inner] = std::exp(src[k * inner] - m);
        sum += dst[k * inner];
      }
      for (int64_t k = 0; k < len; ++k)
        dst[k * inner] = static_cast<float>(dst[k * inner] / sum);
    }
}

// --- BatchNormalization (inference) ----------------------------------------

std::string CheckBatchNorm(const Node& node) {
  if (node.Int("training_mode", 0) != 0) return "training_mode is not 0";
  if (node.outputs.size() != 1) return "more than one output (training)";
  return {};
}

void RunBatchNorm(const Node& node, const std::vector<const Tensor*>& in,
                  std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& x = Float(node, in, 0);
  const Tensor& scale = Float(node, in, 1);
  const Tensor& bias = Float(node, in, 2);
  const Tensor& mean = Float(node, in, 3);
  const Tensor& var = Float(node, in, 4);
  if (x.shape.size() < 2) Fail(node, "input has rank < 2");
  int64_t channels = x.shape[1];
  for (const Tensor* p : {&scale, &bias, &mean, &var})
    if (p->size() != channels) Fail(node, "parameters do not match channels");
  int64_t spatial = 1;
  for (size_t k = 2; k < x.shape.size(); ++k) spatial *= x.shape[k];
  float eps = node.Float("epsilon", 1e-5f);
  out[0] = ctx.NewFloats(x.shape);
  const float* a = x.f();
  float* y = out[0].f();
  Split(ctx, x.shape[0] * channels, x.size(), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c = p % channels;
      float s = scale.f()[c] / std::sqrt(var.f()[c] + eps);
      float t = bias.f()[c] - mean.f()[c] * s;
      const int64_t base = p * spatial;
      for (int64_t k = 0; k < spatial; ++k) y[base + k] = a[base + k] * s + t;
    }
  });
}

// --- MaxPool ---------------------------------------------------------------

std::string CheckMaxPool(const Node& node) {
  if (node.outputs.size() != 1) return "the Indices output";
  size_t dims = node.Ints("kernel_shape").size();
  if (dims < 1 || dims > 2) return "pooling over other than 1 or 2 axes";
  std::string pad = node.String("auto_pad", "NOTSET");
  if (pad != "NOTSET" && pad != "VALID" && pad != "SAME_UPPER" &&
      pad != "SAME_LOWER")
    return "auto_pad " + pad;
  return {};
}

}  // namespace

// Output size and the padding before the first window, per ONNX's rules
// for Conv and the pools (shared with conv.cc).
void WindowGeometry(const Node& node, const std::vector<int64_t>& input,
                    const std::vector<int64_t>& kernel,
                    std::vector<int64_t>* output,
                    std::vector<int64_t>* pad_begin) {
  size_t dims = kernel.size();
  std::vector<int64_t> strides = node.Ints("strides");
  std::vector<int64_t> dilations = node.Ints("dilations");
  std::vector<int64_t> pads = node.Ints("pads");
  strides.resize(dims, 1);
  dilations.resize(dims, 1);
  pads.resize(2 * dims, 0);
  std::string auto_pad = node.String("auto_pad", "NOTSET");
  bool ceil_mode = node.Int("ceil_mode", 0) != 0;
  output->assign(dims, 0);
  pad_begin->assign(dims, 0);
  for (size_t k = 0; k < dims; ++k) {
    int64_t extent = (kernel[k] - 1) * dilations[k] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      int64_t o = (input[k] + strides[k] - 1) / strides[k];
      int64_t total =
          std::max<int64_t>(0, (o - 1) * strides[k] + extent - input[k]);
      (*output)[k] = o;
      (*pad_begin)[k] =
          auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else if (auto_pad == "VALID") {
      (*output)[k] = (input[k] - extent) / strides[k] + 1;
    } else {
      int64_t span = input[k] + pads[k] + pads[k + dims] - extent;
      int64_t o = ceil_mode ? (span + strides[k] - 1) / strides[k] + 1
                            : span / strides[k] + 1;
      // A last window starting inside the end padding is dropped.
      if (ceil_mode && (o - 1) * strides[k] >= input[k] + pads[k]) --o;
      (*output)[k] = o;
      (*pad_begin)[k] = pads[k];
    }
    if ((*output)[k] <= 0)
      throw std::runtime_error(node.Describe() + ": window larger than input");
  }
}

namespace {

void RunMaxPool(const Node& node, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& x = Float(node, in, 0);
  std::vector<int64_t> kernel = node.Ints("kernel_shape");
  size_t dims = kernel.size();
  if (x.shape.size() != dims + 2) Fail(node, "input rank does not match");
  // 1-D pools as 2-D ones of height 1.
  std::vector<int64_t> in_hw(x.shape.begin() + 2, x.shape.end());
  std::vector<int64_t> out_hw, pad;
  WindowGeometry(node, in_hw, kernel, &out_hw, &pad);
  std::vector<int64_t> strides = node.Ints("strides"),
                       dil = node.Ints("dilations");
  strides.resize(dims, 1);
  dil.resize(dims, 1);
  if (dims == 1) {
    in_hw.insert(in_hw.begin(), 1);
    out_hw.insert(out_hw.begin(), 1);
    pad.insert(pad.begin(), 0);
    kernel.insert(kernel.begin(), 1);
    strides.insert(strides.begin(), 1);
    dil.insert(dil.begin(), 1);
  }
  Shape so = {x.shape[0], x.shape[1]};
  so.insert(so.end(), out_hw.end() - dims, out_hw.end());
  out[0] = ctx.NewFloats(so);
  const int64_t H = in_hw[0], W = in_hw[1], OH = out_hw[0], OW = out_hw[1];
  const float* a = x.f();
  float* y = out[0].f();
  Split(ctx, x.shape[0] * x.shape[1], x.size(),
        [&](int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; ++p) {
            const float* plane = a + p * H * W;
            float* dst = y + p * OH * OW;
            for (int64_t oh = 0; oh < OH; ++oh)
              for (int64_t ow = 0; ow < OW; ++ow) {
                float m = -std::numeric_limits<float>::infinity();
                for (int64_t kh = 0; kh < kernel[0]; ++kh) {
                  int64_t h = oh * strides[0] - pad[0] + kh * dil[0];
                  if (h < 0 || h >= H) continue;
                  const float* row = plane + h * W;
                  for (int64_t kw = 0; kw < kernel[1]; ++kw) {
                    int64_t w = ow * strides[1] - pad[1] + kw * dil[1];
                    if (w >= 0 && w < W) m = std::max(m, row[w]);
                  }
                }
                dst[oh * OW + ow] = m;
              }
          }
        });
}

// --- MatMul ----------------------------------------------------------------

// Y = out_perm(a_perm(X) * B + bias) (node.h's MatMulFusion), B [K,N].
// The GEMMs run over two axes of the product: the n axis and one axis r
// of A's others, picked so that the strides of X and Y fit a GEMM: A's
// (r, k) block of X has a unit stride along one of them, and the result
// block of Y along n (C = A*B) or along r (C^T = B^T * A^T). Every other
// axis is a loop of GEMMs, split between the threads. When no axis fits
// (not so in the models seen), each value is summed on its own.
void RunFusedMatMul(const Node& node, const std::vector<const Tensor*>& in,
                    std::vector<Tensor>& out, const KernelContext& ctx) {
  const MatMulFusion& f = node.matmul;
  const Tensor& x = Float(node, in, 0);
  const Tensor& b = Float(node, in, 1);
  const size_t R = x.shape.size();
  if (R < 2 || (!f.a_perm.empty() && f.a_perm.size() != R) ||
      (!f.out_perm.empty() && f.out_perm.size() != R))
    Fail(node, "the fused transposes do not match the input's rank");
  if (b.shape.size() != 2) Fail(node, "B is not a matrix");
  const std::vector<int64_t> xs = Strides(x.shape);
  Shape sa(R);
  std::vector<int64_t> astr(R);  // stride in X of A's axis i
  for (size_t i = 0; i < R; ++i) {
    const int64_t p = f.a_perm.empty() ? i : f.a_perm[i];
    sa[i] = x.shape[p];
    astr[i] = xs[p];
  }
  const int64_t K = sa[R - 1], N = b.shape[1];
  if (b.shape[0] != K)
    Fail(node, "shapes " + ShapeText(sa) + " and " + ShapeText(b.shape) +
                   " do not multiply");
  if (!f.bias.empty() && static_cast<int64_t>(f.bias.size()) != N)
    Fail(node, "the fused bias does not match the output's last axis");
  Shape so = sa;  // the product's shape; its axis R-1 is n
  so[R - 1] = N;
  Shape sy(R);
  for (size_t i = 0; i < R; ++i)
    sy[i] = so[f.out_perm.empty() ? i : f.out_perm[i]];
  const std::vector<int64_t> ys = Strides(sy);
  std::vector<int64_t> ostr(R);  // stride in Y of the product's axis j
  for (size_t i = 0; i < R; ++i)
    ostr[f.out_perm.empty() ? i : f.out_perm[i]] = ys[i];
  out[0] = ctx.NewFloats(sy);
  float* y = out[0].f();
  const float* px = x.f();
  const float* pb = b.f();
  const int64_t kstr = astr[R - 1], nstr = ostr[R - 1];

  // The GEMM for one axis r: how to call it, or false.
  struct Plan {
    int r = -1;
    bool transposed_c = false;  // C^T = B^T * A^T
    GemmFlags flags;
    int64_t lda = 0, ldb = 0, ldc = 0;
  } plan;
  for (int r = 0; r + 1 < static_cast<int>(R) && plan.r < 0; ++r) {
    const int64_t rows = sa[r], rstr = astr[r];
    Plan p;
    p.r = r;
    if (nstr == 1 && ostr[r] >= N) {  // C[rows,N] = A[rows,K] * B
      p.ldc = ostr[r];
      p.ldb = N;
      if (kstr == 1 && rstr >= K) {
        p.lda = rstr;
      } else if (rstr == 1 && kstr >= rows) {
        p.flags.trans_a = true;
        p.lda = kstr;
      } else {
        continue;
      }
    } else if (ostr[r] == 1 && nstr >= rows) {  // C^T[N,rows] = B^T A^T
      p.transposed_c = true;
      p.ldc = nstr;
      p.flags.trans_a = true;  // B, stored [K,N]
      p.lda = N;
      if (rstr == 1 && kstr >= rows) {
        p.ldb = kstr;
      } else if (kstr == 1 && rstr >= K) {
        p.flags.trans_b = true;
        p.ldb = rstr;
      } else {
        continue;
      }
    } else {
      continue;
    }
    plan = p;
  }

  // The product's other axes (all but r and n), as X and Y offsets.
  std::vector<int> others;
  for (int i = 0; i + 1 < static_cast<int>(R); ++i)
    if (i != plan.r) others.push_back(i);
  int64_t outer = 1;
  for (int i : others) outer *= so[i];
  auto offsets = [&](int64_t index, int64_t* xo, int64_t* yo) {
    *xo = *yo = 0;
    for (auto it = others.rbegin(); it != others.rend(); ++it) {
      const int64_t i = index % so[*it];
      index /= so[*it];
      *xo += i * astr[*it];
      *yo += i * ostr[*it];
    }
  };
  if (plan.r < 0) {
    // No axis fits: every value summed on its own.
    const int64_t rows = sa[0];
    others.erase(others.begin());
    outer /= std::max<int64_t>(so[0], 1);
    for (int64_t o = 0; o < outer; ++o) {
      int64_t xo, yo;
      offsets(o, &xo, &yo);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t n = 0; n < N; ++n) {
          float sum = f.bias.empty() ? 0.0f : f.bias[n];
          for (int64_t k = 0; k < K; ++k)
            sum += px[xo + r * astr[0] + k * kstr] * pb[k * N + n];
          y[yo + r * ostr[0] + n * nstr] = sum;
        }
    }
    return;
  }
  const int64_t rows = sa[plan.r];
  Split(ctx, outer, outer * rows * N * K, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      int64_t xo, yo;
      offsets(o, &xo, &yo);
      float* c = y + yo;
      if (!plan.transposed_c) {
        Sgemm(rows, N, K, px + xo, plan.lda, pb, plan.ldb, c, plan.ldc,
              plan.flags);
        if (!f.bias.empty())
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t n = 0; n < N; ++n) c[r * plan.ldc + n] += f.bias[n];
      } else {
        Sgemm(N, rows, K, pb, plan.lda, px + xo, plan.ldb, c, plan.ldc,
              plan.flags);
        if (!f.bias.empty())
          for (int64_t n = 0; n < N; ++n)
            for (int64_t r = 0; r < rows; ++r) c[n * plan.ldc + r] += f.bias[n];
      }
    }
  });
}

void RunMatMul(const Node& node, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out, const KernelContext& ctx) {
  if (node.matmul.fused) return RunFusedMatMul(node, in, out, ctx);
  const Tensor& a = Float(node, in, 0);
  const Tensor& b = Float(node, in, 1);
  Shape sa = a.shape, sb = b.shape;
  bool a_vec = sa.size() == 1, b_vec = sb.size() == 1;
  if (a_vec) sa.insert(sa.begin(), 1);
  if (b_vec) sb.push_back(1);
  if (sa.size() < 2 || sb.size() < 2) Fail(node, "scalar operand");
  int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  if (sb[sb.size() - 2] != K)
    Fail(node, "shapes " + ShapeText(a.shape) + " and " + ShapeText(b.shape) +
                   " do not multiply");
  Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  size_t rank = std::max(ba.size(), bb.size());
  ba.insert(ba.begin(), rank - ba.size(), 1);
  bb.insert(bb.begin(), rank - bb.size(), 1);
  Shape batch(rank);
  for (size_t k = 0; k < rank; ++k) {
    if (ba[k] != bb[k] && ba[k] != 1 && bb[k] != 1)
      Fail(node, "batch dimensions do not broadcast");
    batch[k] = std::max(ba[k], bb[k]);
  }
  Shape so = batch;
  if (!a_vec) so.push_back(M);
  if (!b_vec) so.push_back(N);
  out[0] = ctx.NewFloats(so);
  float* y = out[0].f();
  if (ElementCount(bb) == 1) {
    // b is one matrix: every row of a in a single GEMM.
    // Rows split between the threads, one sgemm each.
    const int64_t rows = ElementCount(batch) * M;
    Split(ctx, rows, rows * N * K, [&](int64_t r0, int64_t r1) {
      Sgemm(r1 - r0, N, K, a.f() + r0 * K, K, b.f(), N, y + r0 * N, N);
    });
    return;
  }
  std::vector<int64_t> sta = Strides(ba), stb = Strides(bb),
                       sto = Strides(batch);
  ctx.workers->For(ElementCount(batch), [&](int64_t k, int) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      int64_t i = (k / sto[d]) % batch[d];
      if (ba[d] != 1) ia += i * sta[d];
      if (bb[d] != 1) ib += i * stb[d];
    }
    Sgemm(M, N, K, a.f() + ia * M * K, K, b.f() + ib * K * N, N, y + k * M * N,
          N);
  });
}

// --- shape operators: views over the input's buffer -----------------------

void RunReshape(const Node& node, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out, const KernelContext&) {
  const Tensor& x = *in[0];
  if (!in[1]) Fail(node, "shape input is missing");
  std::vector<int64_t> want = in[1]->AsInt64s();
  bool allow_zero = node.Int("allowzero", 0) != 0;
  int64_t known = 1;
  int infer = -1;
  for (size_t k = 0; k < want.size(); ++k) {
    if (want[k] == 0 && !allow_zero) {
      if (k >= x.shape.size()) Fail(node, "0 beyond the input's rank");
      want[k] = x.shape[k];
    }
    if (want[k] == -1) {
      if (infer >= 0) Fail(node, "more than one -1");
      infer = static_cast<int>(k);
    } else {
      known *= want[k];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.size() % known) Fail(node, "-1 cannot be inferred");
    want[infer] = x.size() / known;
  }
  if (ElementCount(want) != x.size())
    Fail(node,
         "cannot reshape " + ShapeText(x.shape) + " to " + ShapeText(want));
  out[0] = x.Reshaped(want);
}

void RunFlatten(const Node& node, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out, const KernelContext&) {
  const Tensor& x = *in[0];
  int64_t r = static_cast<int64_t>(x.shape.size());
  int64_t axis = node.Int("axis", 1);
  if (axis < -r || axis > r) Fail(node, "axis out of range");
  if (axis < 0) axis += r;
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= x.shape[k];
  out[0] = x.Reshaped({outer, outer ? x.size() / outer : 0});
}

std::vector<int64_t> NormalisedAxes(const Node& node, std::vector<int64_t> ax,
                                    size_t rank) {
  for (auto& a : ax) a = Axis(node, a, rank);
  std::sort(ax.begin(), ax.end());
  if (std::adjacent_find(ax.begin(), ax.end()) != ax.end())
    Fail(node, "repeated axis");
  return ax;
}

void RunSqueeze(const Node& node, const std::vector<const Tensor*>& in,
                std::vector<Tensor>& out, const KernelContext&) {
  const Tensor& x = *in[0];
  Shape so;
  // Axes are an input from opset 13, an attribute before.
  if ((in.size() > 1 && in[1]) || node.has("axes")) {
    auto axes = NormalisedAxes(
        node, in.size() > 1 && in[1] ? in[1]->AsInt64s() : node.Ints("axes"),
        x.shape.size());
    for (size_t k = 0; k < x.shape.size(); ++k) {
      bool drop = std::binary_search(axes.begin(), axes.end(), k);
      if (drop && x.shape[k] != 1) Fail(node, "squeezed axis is not 1");
      if (!drop) so.push_back(x.shape[k]);
    }
  } else {
    for (int64_t d : x.shape)
      if (d != 1) so.push_back(d);
  }
  out[0] = x.Reshaped(so);
}

void RunUnsqueeze(const Node& node, const std::vector<const Tensor*>& in,
                  std::vector<Tensor>& out, const KernelContext&) {
  const Tensor& x = *in[0];
  if ((in.size() < 2 || !in[1]) && !node.has("axes"))
    Fail(node, "axes are missing");
  std::vector<int64_t> ax =
      in.size() > 1 && in[1] ? in[1]->AsInt64s() : node.Ints("axes");
  size_t rank = x.shape.size() + ax.size();
  auto axes = NormalisedAxes(node, ax, rank);
  Shape so;
  size_t next = 0;
  for (size_t k = 0; k < rank; ++k) {
    if (std::binary_search(axes.begin(), axes.end(), k))
      so.push_back(1);
    else
      so.push_back(x.shape[next++]);
  }
  out[0] = x.Reshaped(so);
}

// --- data movement -------------------------------------------------------

void RunTranspose(const Node& node, const std::vector<const Tensor*>& in,
                  std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& x = Float(node, in, 0);
  size_t rank = x.shape.size();
  std::vector<int64_t> perm = node.Ints("perm");
  if (perm.empty())
    for (size_t k = 0; k < rank; ++k) perm.push_back(rank - 1 - k);
  if (perm.size() != rank) Fail(node, "perm does not match the rank");
  Shape so(rank);
  std::vector<int64_t> si = Strides(x.shape), step(rank);
  for (size_t k = 0; k < rank; ++k) {
    int64_t p = Axis(node, perm[k], rank);
    so[k] = x.shape[p];
    step[k] = si[p];  // input stride of output axis k
  }
  out[0] = ctx.NewFloats(so);
  const float* a = x.f();
  float* y = out[0].f();
  int64_t n = out[0].size();
  if (!n) return;
  const int64_t inner = so[rank - 1], istep = step[rank - 1];
  // The output axis the input is contiguous along, if not the last one:
  // then output and input are walked in square tiles of those two axes,
  // so that both are read and written a cache line at a time.
  int q = -1;
  for (size_t k = 0; k + 1 < rank; ++k)
    if (step[k] == 1 && so[k] > 1) q = static_cast<int>(k);
  if (q >= 0 && istep != 1 && inner > 1) {
    constexpr int64_t kTile = 16;
    const std::vector<int64_t> ostr = Strides(so);
    const int64_t tiles = n / (so[q] * inner);  // one per other-axes index
    Split(ctx, tiles, n, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        int64_t from = 0, to = 0, r = t;
        for (int d = static_cast<int>(rank) - 2; d >= 0; --d) {
          if (d == q) continue;
          from += r % so[d] * step[d];
          to += r % so[d] * ostr[d];
          r /= so[d];
        }
        for (int64_t i0 = 0; i0 < so[q]; i0 += kTile)
          for (int64_t j0 = 0; j0 < inner; j0 += kTile)
            for (int64_t i = i0; i < std::min(so[q], i0 + kTile); ++i) {
              float* dst = y + to + i * ostr[q];
              const float* src = a + from + i;
              for (int64_t j = j0; j < std::min(inner, j0 + kTile); ++j)
                dst[j] = src[j * istep];
            }
      }
    });
    return;
  }
  // Output rows (the last axis) split between the threads; each piece
  // starts its walk of the input at its first row.
  const int64_t rows = n / inner;
  Split(ctx, rows, n, [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(rank, 0);
    int64_t off = 0;
    int64_t r = r0;
    for (int d = static_cast<int>(rank) - 2; d >= 0; --d) {
      idx[d] = r % so[d];
      r /= so[d];
      off += idx[d] * step[d];
    }
    for (r = r0; r < r1; ++r) {
      float* dst = y + r * inner;
      for (int64_t j = 0; j < inner; ++j) dst[j] = a[off + j * istep];
      for (int d = static_cast<int>(rank) - 2; d >= 0; --d) {
        off += step[d];
        if (++idx[d] < so[d]) break;
        off -= step[d] * so[d];
        idx[d] = 0;
      }
    }
  });
}

void RunConcat(const Node& node, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& first = Float(node, in, 0);
  size_t rank = first.shape.size();
  int64_t axis = Axis(node, node.Int("axis", 0), rank);
  Shape so = first.shape;
  so[axis] = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const Tensor& t = Float(node, in, k);
    if (t.shape.size() != rank) Fail(node, "inputs differ in rank");
    for (size_t d = 0; d < rank; ++d)
      if (d != static_cast<size_t>(axis) && t.shape[d] != first.shape[d])
        Fail(node, "inputs differ outside the axis");
    so[axis] += t.shape[axis];
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= so[d];
  for (size_t d = axis + 1; d < rank; ++d) inner *= so[d];
  out[0] = ctx.NewFloats(so);
  float* y = out[0].f();
  int64_t row = so[axis] * inner, at = 0;
  for (const Tensor* t : in) {
    int64_t chunk = t->shape[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::copy_n(t->f() + o * chunk, chunk, y + o * row + at);
    at += chunk;
  }
}

std::string CheckPad(const Node& node) {
  std::string mode = node.String("mode", "constant");
  return mode == "constant" ? "" : "mode " + mode;
}

void RunPad(const Node& node, const std::vector<const Tensor*>& in,
            std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& x = Float(node, in, 0);
  size_t rank = x.shape.size();
  if (in.size() < 2 || !in[1]) Fail(node, "pads input is missing");
  std::vector<int64_t> pads = in[1]->AsInt64s();
  if (pads.size() != 2 * rank) Fail(node, "pads do not match the rank");
  float value = 0;
  if (in.size() > 2 && in[2] && in[2]->size())
    value = Float(node, in, 2).f()[0];
  Shape so(rank);
  for (size_t k = 0; k < rank; ++k) {
    so[k] = x.shape[k] + pads[k] + pads[k + rank];
    if (so[k] < 0) Fail(node, "pads remove more than the input");
  }
  out[0] = ctx.NewFloats(so);
  float* y = out[0].f();
  const float* a = x.f();
  std::vector<int64_t> si = Strides(x.shape);
  int64_t n = out[0].size();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = 0;
    bool inside = true;
    for (size_t d = 0; d < rank && inside; ++d) {
      int64_t i = idx[d] - pads[d];
      inside = i >= 0 && i < x.shape[d];
      off += i * si[d];
    }
    y[k] = inside ? a[off] : value;
    for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
      if (++idx[d] < so[d]) break;
      idx[d] = 0;
    }
  }
}

void RunGather(const Node& node, const std::vector<const Tensor*>& in,
               std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& x = Float(node, in, 0);
  if (in.size() < 2 || !in[1]) Fail(node, "indices input is missing");
  const Tensor& indices = *in[1];
  int64_t axis = Axis(node, node.Int("axis", 0), x.shape.size());
  std::vector<int64_t> idx = indices.AsInt64s();
  int64_t len = x.shape[axis];
  for (auto& i : idx) {
    if (i < -len || i >= len) Fail(node, "index out of range");
    if (i < 0) i += len;
  }
  Shape so(x.shape.begin(), x.shape.begin() + axis);
  so.insert(so.end(), indices.shape.begin(), indices.shape.end());
  so.insert(so.end(), x.shape.begin() + axis + 1, x.shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  for (size_t d = axis + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
  out[0] = ctx.NewFloats(so);
  float* y = out[0].f();
  const float* a = x.f();
  int64_t count = static_cast<int64_t>(idx.size());
  Split(ctx, outer, outer * count * inner, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o)
      for (int64_t j = 0; j < count; ++j)
        std::copy_n(a + (o * len + idx[j]) * inner, inner,
                    y + (o * count + j) * inner);
  });
}

template <bool kMean>
void Reduce(const Node& node, const std::vector<const Tensor*>& in,
            std::vector<Tensor>& out, const KernelContext& ctx) {
  const Tensor& x = Float(node, in, 0);
  size_t rank = x.shape.size();
  std::vector<int64_t> axes = node.Ints("axes");
  if (axes.empty())
    for (size_t k = 0; k < rank; ++k) axes.push_back(k);
  axes = NormalisedAxes(node, axes, rank);
  bool keep = node.Int("keepdims", 1) != 0;
  Shape kept = x.shape, so;
  for (int64_t a : axes) kept[a] = 1;
  for (size_t k = 0; k < rank; ++k)
    if (keep || !std::binary_search(axes.begin(), axes.end(), k))
      so.push_back(kept[k]);
  std::vector<int64_t> st = Strides(kept);
  for (int64_t a : axes) st[a] = 0;
  int64_t m = ElementCount(kept);
  std::vector<double> acc(
      m, kMean ? 0.0 : -std::numeric_limits<double>::infinity());
  const float* a = x.f();
  std::vector<int64_t> idx(rank, 0);
  int64_t off = 0;
  for (int64_t k = 0, n = x.size(); k < n; ++k) {
    if (kMean)
      acc[off] += a[k];
    else
      acc[off] = std::max<double>(acc[off], a[k]);
    for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
      off += st[d];
      if (++idx[d] < x.shape[d]) break;
      off -= st[d] * x.shape[d];
      idx[d] = 0;
    }
  }
  double count = m ? static_cast<double>(x.size()) / m : 1;
  out[0] = ctx.NewFloats(so);
  for (int64_t k = 0; k < m; ++k)
    out[0].f()[k] = static_cast<float>(kMean ? acc[k] / count : acc[k]);
}

const std::map<std::string, OpKernel>& Registry() {
  static const std::map<std::string, OpKernel> ops = {
      {"Add", {7, 17, NoCheck, RunAdd}},
      {"BatchNormalization", {9, 17, CheckBatchNorm, RunBatchNorm}},
      {"Concat", {11, 17, NoCheck, RunConcat}},
      {"Conv", {11, 17, CheckConv, RunConv}},
      {"Flatten", {11, 17, NoCheck, RunFlatten}},
      {"Gather", {11, 17, NoCheck, RunGather}},
      {"MatMul", {9, 17, NoCheck, RunMatMul}},
      {"MaxPool", {11, 17, CheckMaxPool, RunMaxPool}},
      {"Mul", {7, 17, NoCheck, RunMul}},
      {"Pad", {11, 17, CheckPad, RunPad}},
      {"ReduceMax", {11, 17, NoCheck, Reduce<false>}},
      {"ReduceMean", {11, 17, NoCheck, Reduce<true>}},
      {"Relu", {6, 17, NoCheck, RunRelu}},
      {"Reshape", {5, 17, NoCheck, RunReshape}},
      {"Sigmoid", {6, 17, NoCheck, RunSigmoid}},
      {"Softmax", {13, 17, NoCheck, RunSoftmax}},
      {"Squeeze", {11, 17, NoCheck, RunSqueeze}},
      {"Transpose", {1, 17, NoCheck, RunTranspose}},
      {"Unsqueeze", {11, 17, NoCheck, RunUnsqueeze}},
  };
  return ops;
}

}  // namespace

namespace {
std::vector<GemmShape>* gemm_sink = nullptr;
std::mutex gemm_sink_mu;  // the workers call Sgemm at once
}  // namespace

void RecordGemms(std::vector<GemmShape>* sink) { gemm_sink = sink; }

void Sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
           const float* B, int64_t ldb, float* C, int64_t ldc,
           GemmFlags flags) {
  if (gemm_sink) {
    std::lock_guard<std::mutex> lock(gemm_sink_mu);
    gemm_sink->push_back({M, N, K, flags});
  }
  cblas_sgemm(CblasRowMajor, flags.trans_a ? CblasTrans : CblasNoTrans,
              flags.trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda,
              B, ldb, flags.accumulate ? 1.0f : 0.0f, C, ldc);
}

Tensor KernelContext::NewFloats(Shape shape) const {
  Tensor t;
  t.dtype = DType::kFloat;
  t.buffer = pool->Get(DType::kFloat, ElementCount(shape));
  t.shape = std::move(shape);
  return t;
}

const OpKernel* FindOp(const std::string& op) {
  auto it = Registry().find(op);
  return it == Registry().end() ? nullptr : &it->second;
}

std::vector<std::string> ImplementedOps() {
  std::vector<std::string> names;
  for (const auto& [name, kernel] : Registry()) names.push_back(name);
  return names;
}

}  // namespace nomtag::onnx
