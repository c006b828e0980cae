// The operators the executor implements (ONNX opset 13 semantics), each
// as a load-time check of its attributes and a kernel.
//
//   Add Mul (multidirectional broadcasting)  Relu Sigmoid Softmax
//   Conv (2-D, group 1, im2col + OpenBLAS sgemm)  BatchNormalization
//   (inference)  MaxPool (1-D/2-D, one output)  MatMul (numpy, batched)
//   Reshape Squeeze Unsqueeze Flatten (views, nothing copied)
//   Transpose Concat Pad (constant) Gather ReduceMean ReduceMax
//
// Each is checked against the model's opset: the range each kernel
// implements is in the registry (ops.cc); 13 is the MusiCNN models'.
// Only float32 data is computed on; int64 tensors are accepted where ONNX
// uses them as shapes, axes, pads and indices.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_OPS_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_OPS_H_

#include <string>
#include <vector>

#include "node.h"
#include "tensor.h"
#include "workers.h"

namespace nomtag::onnx {

struct KernelContext {
  BufferPool* pool;
  Workers* workers;  // for pieces of work independent of each other
  Tensor NewFloats(Shape shape) const;
};

struct OpKernel {
  // The model opsets (ai.onnx) whose definition of the operator the kernel
  // implements: the definitions in that range agree for float32 inference.
  int min_opset, max_opset;
  // Empty if the node's attributes are implemented, else why not.
  std::string (*check)(const Node& node);
  // Inputs by position (null for an omitted optional one); throws
  // std::runtime_error on inputs the operator refuses.
  void (*run)(const Node& node, const std::vector<const Tensor*>& in,
              std::vector<Tensor>& out, const KernelContext& ctx);
};

// Null if `op` (domain ai.onnx) is not implemented.
const OpKernel* FindOp(const std::string& op);
// The implemented operator names, sorted.
std::vector<std::string> ImplementedOps();

// Output size and padding before the first window per axis, by ONNX's
// rules for Conv and the pools (kernel_shape, strides, dilations, pads,
// auto_pad, ceil_mode). Throws when a window is larger than the input.
void WindowGeometry(const Node& node, const std::vector<int64_t>& input,
                    const std::vector<int64_t>& kernel,
                    std::vector<int64_t>* output,
                    std::vector<int64_t>* pad_begin);

// Every GEMM of the kernels: C[M,N] = A[M,K] * B[K,N], row-major, through
// OpenBLAS. While a sink is set (benchmarks only; not thread-safe), each
// call's shape is appended to it, so the GEMM floor can be measured on
// exactly the shapes a model runs.
// trans_a: A is stored [K,M] (lda >= M) and used transposed; trans_b: B
// is stored [N,K] (ldb >= K); accumulate: C += A*B.
struct GemmFlags {
  bool trans_a = false, trans_b = false, accumulate = false;
};
struct GemmShape {
  int64_t M, N, K;
  GemmFlags flags;
};
// The sgemm runs in the calling thread.
void Sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
           const float* B, int64_t ldb, float* C, int64_t ldc,
           GemmFlags flags = {});
void RecordGemms(std::vector<GemmShape>* sink);

// Conv, in conv.cc.
std::string CheckConv(const Node& node);
void RunConv(const Node& node, const std::vector<const Tensor*>& in,
             std::vector<Tensor>& out, const KernelContext& ctx);

}  // namespace nomtag::onnx

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_OPS_H_
