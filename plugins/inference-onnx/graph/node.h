// Node: one operator application in a loaded graph, with its attributes
// parsed, and the contract between the loader and the kernels (ops.h).
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_NODE_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_NODE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor.h"

namespace nomtag::onnx {

struct Attribute {
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
};

// What the loader fused into a Conv: its weights and bias with any
// following BatchNormalization folded in, then in the GEMM's output pass
// y = relu(acc + bias) (if relu) and y = y * post_scale[c] + post_shift[c]
// (if post_scale is not empty: a BatchNormalization after the ReLU), and
// then, if `pool`, a MaxPool without padding over each output plane, so
// the full-size conv output never exists.
struct ConvFusion {
  bool weights_folded = false;  // weights/bias below replace inputs 1, 2
  std::vector<float> weights;   // [M, C/group * kernel]
  std::vector<float> bias;      // [M]
  bool relu = false;
  std::vector<float> post_scale, post_shift;
  bool pool = false;
  int64_t pool_kh = 1, pool_kw = 1, pool_sh = 1, pool_sw = 1;
};

// What the loader fused around a MatMul whose B is a constant matrix
// (MusiCNN's Gather-built conv): a Transpose before it (`a_perm`: A is
// X transposed), the Add of a constant bias along the last axis, and a
// Transpose after (`out_perm`). The kernel then reads X and writes the
// final layout through the GEMMs' strides, so neither transposed copy
// exists.
struct MatMulFusion {
  bool fused = false;
  std::vector<int64_t> a_perm;    // empty: A is input 0 as it is
  std::vector<float> bias;        // [N] or empty
  std::vector<int64_t> out_perm;  // empty: the MatMul's own layout
};

struct Node {
  std::string op, name;
  std::vector<int> inputs;  // value ids; -1 for an omitted optional input
  std::vector<int> outputs;
  std::map<std::string, Attribute> attributes;
  ConvFusion conv;
  MatMulFusion matmul;

  bool has(const std::string& a) const { return attributes.count(a) > 0; }
  int64_t Int(const std::string& a, int64_t fallback) const;
  float Float(const std::string& a, float fallback) const;
  std::string String(const std::string& a, const std::string& fallback) const;
  std::vector<int64_t> Ints(const std::string& a) const;
  // "node 'name' (Op)" for messages.
  std::string Describe() const;
};

}  // namespace nomtag::onnx

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_NODE_H_
