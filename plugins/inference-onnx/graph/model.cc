#include "model.h"

#include <cblas.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "ops.h"
#include "tensor_proto.h"

namespace nomtag::onnx {
namespace {

Attribute ReadAttribute(const ::onnx::AttributeProto& a) {
  Attribute out;
  out.i = a.i();
  out.f = a.f();
  out.s = a.s();
  out.ints.assign(a.ints().begin(), a.ints().end());
  out.floats.assign(a.floats().begin(), a.floats().end());
  return out;
}

std::atomic<int> threads_per_run{1};

// Every sgemm runs in the thread that calls it: the executor splits the
// work between its own threads (workers.h). Once per process, before the
// first Run.
void SingleThreadedBlas() {
  static const bool once = (openblas_set_num_threads(1), true);
  (void)once;
}

// A 2-D MaxPool the conv's output pass can do: no padding, no dilation,
// floor mode.
bool Poolable(const Node& pool) {
  auto zero = [](const std::vector<int64_t>& v, int64_t z) {
    for (auto x : v)
      if (x != z) return false;
    return true;
  };
  std::string pad = pool.String("auto_pad", "NOTSET");
  return pool.Ints("kernel_shape").size() == 2 && zero(pool.Ints("pads"), 0) &&
         zero(pool.Ints("dilations"), 1) && pool.Int("ceil_mode", 0) == 0 &&
         (pad == "NOTSET" || pad == "VALID") && pool.outputs.size() == 1;
}

}  // namespace

std::unique_ptr<Model> Model::Load(const std::string& path,
                                   std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot be opened";
    return nullptr;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    *error = path + ": cannot be read";
    return nullptr;
  }
  return LoadFromBytes(bytes.str(), path, error);
}

std::unique_ptr<Model> Model::LoadFromBytes(const std::string& bytes,
                                            const std::string& origin,
                                            std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = origin + ": " + why;
    return nullptr;
  };
  ::onnx::ModelProto proto;
  if (!proto.ParseFromString(bytes)) return fail("not an ONNX model");
  int64_t opset = -1;
  for (const auto& o : proto.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  if (opset < 0) return fail("imports no ai.onnx opset");

  std::unique_ptr<Model> m(new Model());
  m->origin_ = origin;
  std::unordered_map<std::string, int> ids;
  auto define = [&](const std::string& name) {
    auto [it, fresh] =
        ids.emplace(name, static_cast<int>(m->value_names_.size()));
    if (fresh) {
      m->value_names_.push_back(name);
      m->constants_.emplace_back();
      m->is_constant_.push_back(false);
    }
    return it->second;
  };
  const auto& graph = proto.graph();
  for (const auto& init : graph.initializer()) {
    int id = define(init.name());
    std::string why;
    if (!TensorFromProto(init, &m->constants_[id], &why)) return fail(why);
    m->is_constant_[id] = true;
  }
  // Kernels compute on float32 only (int64/int32 as shapes and indices):
  // another element type at the graph's edge is refused here, not at run.
  auto element_type_ok = [&](const ::onnx::ValueInfoProto& v) {
    int t = v.type().tensor_type().elem_type();
    if (t == ::onnx::TensorProto::FLOAT || t == ::onnx::TensorProto::INT64 ||
        t == ::onnx::TensorProto::INT32)
      return true;
    *error = origin + ": '" + v.name() + "' has element type " +
             ::onnx::TensorProto::DataType_Name(
                 static_cast<::onnx::TensorProto::DataType>(t)) +
             " (only FLOAT, INT64 and INT32 are implemented)";
    return false;
  };
  for (const auto& input : graph.input()) {
    int id = define(input.name());
    if (m->is_constant_[id]) continue;  // an initialiser listed as input
    if (!element_type_ok(input)) return nullptr;
    m->inputs_.push_back(input.name());
    m->input_ids_.push_back(id);
  }
  for (const auto& node : graph.node()) {
    Node n;
    n.op = node.op_type();
    n.name = node.name().empty() ? (node.output_size() ? node.output(0) : "")
                                 : node.name();
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return fail(n.Describe() + " is in domain '" + node.domain() +
                  "', which is not implemented");
    const OpKernel* kernel = FindOp(n.op);
    if (!kernel)
      return fail(n.Describe() + ": operator " + n.op +
                  " is not implemented by nomtag's executor");
    if (opset < kernel->min_opset || opset > kernel->max_opset)
      return fail(n.Describe() + ": " + n.op + " of opset " +
                  std::to_string(opset) + " is not implemented (opsets " +
                  std::to_string(kernel->min_opset) + " to " +
                  std::to_string(kernel->max_opset) + " are)");
    for (const auto& a : node.attribute())
      n.attributes[a.name()] = ReadAttribute(a);
    for (const auto& name : node.input()) {
      if (name.empty()) {
        n.inputs.push_back(-1);
        continue;
      }
      auto it = ids.find(name);
      if (it == ids.end())
        return fail(n.Describe() + " reads '" + name +
                    "' before anything defines it");
      n.inputs.push_back(it->second);
    }
    for (const auto& name : node.output()) n.outputs.push_back(define(name));
    std::string why = kernel->check(n);
    if (!why.empty())
      return fail(n.Describe() + ": " + why + " is not implemented");
    m->nodes_.push_back(std::move(n));
  }
  for (const auto& output : graph.output()) {
    if (!element_type_ok(output)) return nullptr;
    auto it = ids.find(output.name());
    if (it == ids.end())
      return fail("graph output '" + output.name() + "' is never computed");
    m->outputs_.push_back(output.name());
    m->output_ids_.push_back(it->second);
  }
  try {
    m->Fuse();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  m->PlanLifetimes();
  return m;
}

void Model::Fuse() {
  std::vector<int> readers(value_names_.size(), 0);
  std::vector<int> reader_node(value_names_.size(), -1);
  for (size_t k = 0; k < nodes_.size(); ++k)
    for (int id : nodes_[k].inputs)
      if (id >= 0) {
        ++readers[id];
        reader_node[id] = static_cast<int>(k);
      }
  for (int id : output_ids_) readers[id] += 2;  // never fuse away an output
  auto constant = [&](const Node& n, size_t k) {
    return k < n.inputs.size() && n.inputs[k] >= 0 && is_constant_[n.inputs[k]];
  };
  // Per-channel (scale, shift) of an inference BatchNormalization.
  auto batch_norm = [&](const Node& bn, int64_t channels,
                        std::vector<float>* scale, std::vector<float>* shift) {
    for (size_t k = 1; k < 5; ++k)
      if (!constant(bn, k) || constants_[bn.inputs[k]].dtype != DType::kFloat ||
          constants_[bn.inputs[k]].size() != channels)
        return false;
    const float* g = constants_[bn.inputs[1]].f();
    const float* b = constants_[bn.inputs[2]].f();
    const float* mean = constants_[bn.inputs[3]].f();
    const float* var = constants_[bn.inputs[4]].f();
    float eps = bn.Float("epsilon", 1e-5f);
    scale->resize(channels);
    shift->resize(channels);
    for (int64_t c = 0; c < channels; ++c) {
      (*scale)[c] = g[c] / std::sqrt(var[c] + eps);
      (*shift)[c] = b[c] - mean[c] * (*scale)[c];
    }
    return true;
  };
  std::vector<bool> removed(nodes_.size(), false);
  for (size_t k = 0; k < nodes_.size(); ++k) {
    Node& conv = nodes_[k];
    if (conv.op != "Conv" || !constant(conv, 1)) continue;
    if (conv.inputs.size() > 2 && conv.inputs[2] >= 0 && !constant(conv, 2))
      continue;
    const Tensor& w = constants_[conv.inputs[1]];
    if (w.dtype != DType::kFloat || w.shape.size() != 4) continue;
    const int64_t M = w.shape[0], per = w.size() / M;
    ConvFusion& f = conv.conv;
    f.weights.assign(w.f(), w.f() + w.size());
    f.bias.assign(M, 0.0f);
    if (constant(conv, 2)) {
      const Tensor& b = constants_[conv.inputs[2]];
      if (b.dtype != DType::kFloat || b.size() != M) continue;
      f.bias.assign(b.f(), b.f() + M);
    }
    f.weights_folded = true;
    int out = conv.outputs[0];
    while (readers[out] == 1) {
      Node& next = nodes_[reader_node[out]];
      if (next.inputs.empty() || next.inputs[0] != out || f.pool) break;
      std::vector<float> s, t;
      if (next.op == "Relu" && !f.relu && f.post_scale.empty()) {
        f.relu = true;
      } else if (next.op == "BatchNormalization" && !f.relu &&
                 batch_norm(next, M, &s, &t)) {
        // Before any ReLU: into the weights and bias.
        for (int64_t m = 0; m < M; ++m) {
          for (int64_t j = 0; j < per; ++j) f.weights[m * per + j] *= s[m];
          f.bias[m] = f.bias[m] * s[m] + t[m];
        }
      } else if (next.op == "BatchNormalization" && f.relu &&
                 f.post_scale.empty() && batch_norm(next, M, &s, &t)) {
        // After the ReLU: a scale and shift in the output pass.
        f.post_scale = std::move(s);
        f.post_shift = std::move(t);
      } else if (next.op == "MaxPool" && !f.pool && Poolable(next)) {
        // Last: pooled straight out of the GEMM's result.
        auto k = next.Ints("kernel_shape"), st = next.Ints("strides");
        st.resize(2, 1);
        f.pool = true;
        f.pool_kh = k[0];
        f.pool_kw = k[1];
        f.pool_sh = st[0];
        f.pool_sw = st[1];
      } else {
        break;
      }
      removed[reader_node[out]] = true;
      ++fused_;
      out = next.outputs[0];
    }
    conv.outputs[0] = out;
  }
  FuseMatMuls(readers, reader_node, &removed);
  std::vector<Node> kept;
  for (size_t k = 0; k < nodes_.size(); ++k)
    if (!removed[k]) kept.push_back(std::move(nodes_[k]));
  nodes_ = std::move(kept);
}

// Transpose -> MatMul by a constant matrix -> Add of a constant bias
// along the last axis -> Transpose, each value read once: one MatMul node
// that reads the first Transpose's input and writes the last one's
// output (node.h's MatMulFusion). The Add and the second Transpose are
// optional.
void Model::FuseMatMuls(const std::vector<int>& readers,
                        const std::vector<int>& reader_node,
                        std::vector<bool>* removed) {
  std::vector<int> producer(value_names_.size(), -1);
  for (size_t k = 0; k < nodes_.size(); ++k)
    for (int id : nodes_[k].outputs) producer[id] = static_cast<int>(k);
  auto permutation = [](const std::vector<int64_t>& perm) {
    std::vector<bool> seen(perm.size(), false);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p])
        return false;
      seen[p] = true;
    }
    return !perm.empty();
  };
  for (size_t k = 0; k < nodes_.size(); ++k) {
    Node& mm = nodes_[k];
    if ((*removed)[k] || mm.op != "MatMul" || mm.inputs.size() != 2 ||
        mm.inputs[0] < 0 || mm.inputs[1] < 0 || !is_constant_[mm.inputs[1]])
      continue;
    const Tensor& b = constants_[mm.inputs[1]];
    if (b.dtype != DType::kFloat || b.shape.size() != 2) continue;
    const int64_t N = b.shape[1];
    const int a = mm.inputs[0];
    const int t1 = producer[a];
    if (t1 < 0 || (*removed)[t1] || nodes_[t1].op != "Transpose" ||
        readers[a] != 1 || nodes_[t1].inputs.empty() ||
        nodes_[t1].inputs[0] < 0)
      continue;
    MatMulFusion f;
    f.fused = true;
    f.a_perm = nodes_[t1].Ints("perm");
    if (!permutation(f.a_perm) || f.a_perm.size() < 2) continue;
    const size_t rank = f.a_perm.size();
    std::vector<int> gone = {t1};
    int value = mm.outputs[0];
    auto next = [&](const char* op) -> Node* {
      if (readers[value] != 1) return nullptr;
      Node& n = nodes_[reader_node[value]];
      return n.op == op ? &n : nullptr;
    };
    if (Node* add = next("Add"); add && add->inputs.size() == 2) {
      const int other =
          add->inputs[0] == value ? add->inputs[1] : add->inputs[0];
      if (other >= 0 && is_constant_[other] &&
          constants_[other].dtype == DType::kFloat &&
          constants_[other].size() == N &&
          constants_[other].shape.size() <= rank &&
          (constants_[other].shape.empty() ||
           constants_[other].shape.back() == N)) {
        f.bias.assign(constants_[other].f(), constants_[other].f() + N);
        gone.push_back(reader_node[value]);
        value = add->outputs[0];
      }
    }
    if (Node* t2 = next("Transpose")) {
      std::vector<int64_t> perm = t2->Ints("perm");
      if (permutation(perm) && perm.size() == rank) {
        f.out_perm = std::move(perm);
        gone.push_back(reader_node[value]);
        value = t2->outputs[0];
      }
    }
    mm.inputs[0] = nodes_[t1].inputs[0];
    mm.outputs[0] = value;
    mm.matmul = std::move(f);
    for (int g : gone) (*removed)[g] = true;
    fused_ += gone.size();
  }
}

void Model::PlanLifetimes() {
  std::vector<int> last(value_names_.size(), -1);
  for (size_t k = 0; k < nodes_.size(); ++k) {
    for (int id : nodes_[k].inputs)
      if (id >= 0) last[id] = static_cast<int>(k);
    for (int id : nodes_[k].outputs)
      if (last[id] < static_cast<int>(k)) last[id] = static_cast<int>(k);
  }
  std::vector<bool> keep(value_names_.size(), false);
  for (int id : output_ids_) keep[id] = true;
  release_after_.assign(nodes_.size(), {});
  for (size_t id = 0; id < last.size(); ++id)
    if (last[id] >= 0 && !keep[id] && !is_constant_[id])
      release_after_[last[id]].push_back(static_cast<int>(id));
}

bool Model::Run(const std::map<std::string, Tensor>& inputs,
                std::map<std::string, Tensor>* outputs, std::string* error) {
  std::vector<Tensor> values(constants_);
  for (size_t k = 0; k < inputs_.size(); ++k) {
    auto it = inputs.find(inputs_[k]);
    if (it == inputs.end()) {
      *error = origin_ + ": input '" + inputs_[k] + "' is missing";
      return false;
    }
    values[input_ids_[k]] = it->second;
  }
  SingleThreadedBlas();
  workers_.Resize(Threads());
  KernelContext ctx{&pool_, &workers_};
  std::vector<const Tensor*> in;
  std::vector<Tensor> out;
  try {
    for (size_t k = 0; k < nodes_.size(); ++k) {
      const Node& node = nodes_[k];
      in.clear();
      for (int id : node.inputs) {
        const Tensor* t = id >= 0 ? &values[id] : nullptr;
        if (t && !t->buffer)
          throw std::runtime_error(node.Describe() + ": input '" +
                                   value_names_[id] + "' has no value");
        in.push_back(t);
      }
      out.assign(node.outputs.size(), Tensor{});
      auto t0 = std::chrono::steady_clock::now();
      FindOp(node.op)->run(node, in, out, ctx);
      if (profiling_)
        profile_[k] +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                .count();
      for (size_t j = 0; j < out.size(); ++j)
        values[node.outputs[j]] = std::move(out[j]);
      for (int id : release_after_[k]) values[id] = Tensor{};
    }
  } catch (const std::exception& e) {
    *error = origin_ + ": " + e.what();
    return false;
  }
  outputs->clear();
  for (size_t k = 0; k < outputs_.size(); ++k) {
    const Tensor& v = values[output_ids_[k]];
    // Own storage: the caller keeps outputs past the next Run.
    Tensor copy = v.dtype == DType::kFloat
                      ? Tensor::Floats(v.shape, {v.f(), v.f() + v.size()})
                      : Tensor::Int64s(v.shape, {v.i(), v.i() + v.size()});
    (*outputs)[outputs_[k]] = std::move(copy);
  }
  return true;
}

void Model::EnableProfile(bool on) {
  profiling_ = on;
  profile_.assign(nodes_.size(), 0.0);
}

std::vector<std::pair<std::string, double>> Model::Profile() const {
  std::vector<std::pair<std::string, double>> out;
  for (size_t k = 0; k < profile_.size(); ++k)
    out.emplace_back(nodes_[k].Describe(), profile_[k]);
  return out;
}

void SetThreads(int threads) { threads_per_run = std::max(threads, 1); }

int Threads() { return threads_per_run; }

}  // namespace nomtag::onnx
