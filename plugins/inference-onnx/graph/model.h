// Model: an ONNX graph loaded with onnx_proto and executed in process.
//
// Generic over graphs built from the operators ops.h lists (the 19 the
// MusiCNN models use, opset 13): nothing here knows one model. At load:
//  - every node's operator and attributes are checked against what the
//    kernels implement; anything else is an error naming the file, the
//    node and the operator, so a model that loads also runs;
//  - a Conv followed by BatchNormalization is folded into the conv's
//    weights and bias, and a Conv followed by Relu (and then, as in
//    MusiCNN, BatchNormalization after the Relu, and a MaxPool) becomes
//    one node whose ReLU, per-channel scale/shift and pooling run in the
//    GEMM's output pass;
//  - a MatMul by a constant matrix between two Transposes (with a bias
//    Add) reads and writes through the transposes' strides (node.h);
//  - every value's last reader is found, so its buffer returns to the pool
//    as soon as the graph is done with it.
// Shape operators (Reshape, Squeeze, Unsqueeze, Flatten) copy nothing.
//
// Thread contract: Run() on one thread at a time (it owns the buffer pool
// and its worker threads); load one Model per thread to run in parallel.
// Threads per Run: SetThreads.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_MODEL_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_MODEL_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "node.h"
#include "tensor.h"
#include "workers.h"

namespace nomtag::onnx {

class Model {
 public:
  // Reads and checks `path`. On failure returns null and sets *error to a
  // message that names the file (and the node and operator, if that is the
  // cause).
  static std::unique_ptr<Model> Load(const std::string& path,
                                     std::string* error);
  // The same from bytes already read; `origin` names them in errors.
  static std::unique_ptr<Model> LoadFromBytes(const std::string& bytes,
                                              const std::string& origin,
                                              std::string* error);

  // Graph inputs (initialisers excluded) and outputs, in the file's order.
  const std::vector<std::string>& input_names() const { return inputs_; }
  const std::vector<std::string>& output_names() const { return outputs_; }
  // Number of nodes after fusion (for tests and diagnostics).
  size_t node_count() const { return nodes_.size(); }
  size_t fused_count() const { return fused_; }
  // Buffers the pool holds between runs (every intermediate one it made).
  size_t pooled_buffers() const { return pool_.free_buffers(); }

  // Runs the graph on named inputs; fills every graph output. On failure
  // (a missing input, shapes the operators refuse) returns false with a
  // message naming the node.
  bool Run(const std::map<std::string, Tensor>& inputs,
           std::map<std::string, Tensor>* outputs, std::string* error);

  // Seconds spent per node (fused nodes as one) over the runs since
  // profiling was enabled; for benchmarks.
  void EnableProfile(bool on);
  std::vector<std::pair<std::string, double>> Profile() const;

 private:
  Model() = default;
  void Fuse();
  void FuseMatMuls(const std::vector<int>& readers,
                   const std::vector<int>& reader_node,
                   std::vector<bool>* removed);
  void PlanLifetimes();

  std::string origin_;
  std::vector<std::string> value_names_;  // value id -> name
  std::vector<Tensor> constants_;         // by value id; empty if not one
  std::vector<bool> is_constant_;
  std::vector<std::string> inputs_, outputs_;
  std::vector<int> input_ids_, output_ids_;
  std::vector<Node> nodes_;
  std::vector<std::vector<int>> release_after_;  // node index -> value ids
  size_t fused_ = 0;
  bool profiling_ = false;
  std::vector<double> profile_;
  BufferPool pool_;
  Workers workers_;
};

// Threads each Model's Run uses from now on (its own workers; OpenBLAS
// itself is kept single-threaded, see workers.h). Process-wide, as the
// plugin's `threads` setting is: workers x threads should not exceed the
// cores.
void SetThreads(int threads);
int Threads();

}  // namespace nomtag::onnx

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_MODEL_H_
