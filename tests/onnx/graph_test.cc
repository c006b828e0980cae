// The executor's own behaviour on small graphs built here: load errors
// that name the file and operator, the Conv/Relu/BatchNormalization and
// Transpose/MatMul fusions against the same graph left unfused, and
// intermediate buffer reuse.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "model.h"

namespace {

using nomtag::onnx::Model;
using nomtag::onnx::Tensor;

struct Builder {
  ::onnx::ModelProto model;
  ::onnx::GraphProto* g = model.mutable_graph();
  Builder() {
    model.set_ir_version(7);
    model.add_opset_import()->set_version(13);
  }
  ::onnx::NodeProto* Node(const std::string& op, std::vector<std::string> in,
                          std::string out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }
  void Ints(::onnx::NodeProto* n, const std::string& name,
            std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  void Value(::onnx::ValueInfoProto* v, const std::string& name) {
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(
        ::onnx::TensorProto::FLOAT);
  }
  void Input(const std::string& name) { Value(g->add_input(), name); }
  void Output(const std::string& name) { Value(g->add_output(), name); }
  void Init(const std::string& name, std::vector<int64_t> dims,
            std::vector<float> values) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (auto v : values) t->add_float_data(v);
  }
  std::unique_ptr<Model> Load(std::string* error) {
    return Model::LoadFromBytes(model.SerializeAsString(), "built.onnx", error);
  }
};

std::vector<float> Random(size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// The graph build(expose) makes, loaded twice: with its intermediate
// values hidden, so the loader fuses `fused_nodes` nodes away, and with
// them exposed as graph outputs, which blocks every fusion (node by node).
void LoadFusedAndPlain(const std::function<Builder(bool)>& build,
                       size_t fused_nodes, std::unique_ptr<Model>* fused,
                       std::unique_ptr<Model>* plain) {
  std::string error;
  *fused = build(false).Load(&error);
  ASSERT_NE(*fused, nullptr) << error;
  *plain = build(true).Load(&error);
  ASSERT_NE(*plain, nullptr) << error;
  EXPECT_EQ((*fused)->fused_count(), fused_nodes);
  EXPECT_EQ((*plain)->fused_count(), 0u);
}

TEST(OnnxGraph, UnknownOperatorIsALoadErrorNamingFileNodeAndOperator) {
  Builder b;
  b.Input("x");
  b.Node("Relu", {"x"}, "r");
  b.Node("Exp", {"r"}, "y");
  b.Output("y");
  auto path = std::filesystem::temp_directory_path() / "nomtag_exp.onnx";
  {
    std::ofstream out(path, std::ios::binary);
    out << b.model.SerializeAsString();
  }
  std::string error;
  EXPECT_EQ(Model::Load(path.string(), &error), nullptr);
  EXPECT_NE(error.find(path.string()), std::string::npos) << error;
  EXPECT_NE(error.find("operator Exp"), std::string::npos) << error;
  EXPECT_NE(error.find("'y'"), std::string::npos) << error;
  std::filesystem::remove(path);
}

TEST(OnnxGraph, MissingOrBrokenFileIsALoadErrorNamingIt) {
  std::string error;
  EXPECT_EQ(Model::Load("/nonexistent/m.onnx", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/m.onnx"), std::string::npos);
  EXPECT_EQ(Model::LoadFromBytes("not a model", "junk.onnx", &error), nullptr);
  EXPECT_NE(error.find("junk.onnx"), std::string::npos);
}

// Conv -> BatchNormalization -> Relu -> BatchNormalization -> MaxPool: the
// first BN folds into the weights, Relu, the second BN and the pool into
// the output pass. Exposing the intermediate values as graph outputs blocks
// fusion, so the same graph runs node by node: both must agree.
TEST(OnnxGraph, FusedConvMatchesTheNodeByNodeGraph) {
  auto build = [](bool expose) {
    Builder b;
    b.Input("x");
    b.Init("w", {6, 1, 5, 3}, Random(6 * 15, -1, 1, 1));
    b.Init("bias", {6}, Random(6, -1, 1, 2));
    for (std::string p : {"a", "b"}) {
      b.Init(p + "g", {6}, Random(6, -2, 2, 3 + p[0]));
      b.Init(p + "b", {6}, Random(6, -1, 1, 5 + p[0]));
      b.Init(p + "m", {6}, Random(6, -1, 1, 7 + p[0]));
      b.Init(p + "v", {6}, Random(6, 0.1f, 2, 9 + p[0]));
    }
    auto* conv = b.Node("Conv", {"x", "w", "bias"}, "c");
    b.Ints(conv, "pads", {2, 0, 3, 1});
    b.Node("BatchNormalization", {"c", "ag", "ab", "am", "av"}, "n1");
    b.Node("Relu", {"n1"}, "r");
    b.Node("BatchNormalization", {"r", "bg", "bb", "bm", "bv"}, "n2");
    auto* pool = b.Node("MaxPool", {"n2"}, "y");
    b.Ints(pool, "kernel_shape", {1, 4});
    b.Ints(pool, "strides", {1, 4});
    b.Output("y");
    if (expose)
      for (auto name : {"c", "n1", "r", "n2"}) b.Output(name);
    return b;
  };
  std::unique_ptr<Model> fused, plain;
  ASSERT_NO_FATAL_FAILURE(LoadFusedAndPlain(build, 4, &fused, &plain));
  std::string error;

  // Two images, so the batched GEMM path and its scatter are exercised.
  std::map<std::string, Tensor> in{
      {"x", Tensor::Floats({2, 1, 17, 12}, Random(2 * 17 * 12, -3, 3, 11))}};
  std::map<std::string, Tensor> a, b;
  ASSERT_TRUE(fused->Run(in, &a, &error)) << error;
  ASSERT_TRUE(plain->Run(in, &b, &error)) << error;
  const Tensor& y1 = a.at("y");
  const Tensor& y2 = b.at("y");
  ASSERT_EQ(y1.shape, (nomtag::onnx::Shape{2, 6, 18, 2}));
  ASSERT_EQ(y1.shape, y2.shape);
  int negative = 0, positive = 0;
  for (int64_t k = 0; k < y1.size(); ++k) {
    EXPECT_NEAR(y1.f()[k], y2.f()[k], 1e-5 + 1e-5 * std::abs(y2.f()[k]));
    (b.at("n1").f()[k] < 0 ? negative : positive)++;
  }
  EXPECT_GT(negative, 0) << "the ReLU never clipped: a weak test";
  EXPECT_GT(positive, 0);
}

// Transpose -> MatMul by a constant -> Add bias -> Transpose becomes one
// MatMul reading and writing through strides (MusiCNN's Gather-built
// conv); it must agree with the node-by-node graph for the layouts that
// make the GEMM's C = A*B, its C^T = B^T*A^T, and for one where no axis
// fits a GEMM (summed value by value), on one thread and on two.
TEST(OnnxGraph, FusedMatMulMatchesTheNodeByNodeGraph) {
  struct Case {
    std::vector<int64_t> a_perm, out_perm;
  };
  for (const Case& c : {Case{{0, 3, 1, 2}, {0, 3, 2, 1}},     // MusiCNN's
                        Case{{0, 2, 1, 3}, {0, 2, 1, 3}},     // C = A*B
                        Case{{0, 3, 1, 2}, {1, 2, 3, 0}}}) {  // no GEMM
    SCOPED_TRACE(::testing::PrintToString(c.out_perm));
    // X [4,9,6,7]; A = a_perm(X); K = A's last axis, N = 5.
    const std::vector<int64_t> xs = {4, 9, 6, 7};
    const int64_t K = xs[c.a_perm[3]], N = 5;
    auto build = [&](bool expose) {
      Builder b;
      b.Input("x");
      b.Init("w", {K, N}, Random(K * N, -1, 1, 21));
      b.Init("bias", {1, 1, 1, N}, Random(N, -1, 1, 22));
      b.Ints(b.Node("Transpose", {"x"}, "a"), "perm", c.a_perm);
      b.Node("MatMul", {"a", "w"}, "m");
      b.Node("Add", {"m", "bias"}, "s");
      b.Ints(b.Node("Transpose", {"s"}, "y"), "perm", c.out_perm);
      b.Output("y");
      if (expose)
        for (auto name : {"a", "m", "s"}) b.Output(name);
      return b;
    };
    std::unique_ptr<Model> fused, plain;
    ASSERT_NO_FATAL_FAILURE(LoadFusedAndPlain(build, 3, &fused, &plain));
    std::string error;
    std::map<std::string, Tensor> in{
        {"x", Tensor::Floats({4, 9, 6, 7}, Random(4 * 9 * 6 * 7, -2, 2, 23))}};
    std::map<std::string, Tensor> want;
    ASSERT_TRUE(plain->Run(in, &want, &error)) << error;
    for (int threads : {1, 2}) {
      nomtag::onnx::SetThreads(threads);
      std::map<std::string, Tensor> got;
      ASSERT_TRUE(fused->Run(in, &got, &error)) << error;
      const Tensor& y1 = got.at("y");
      const Tensor& y2 = want.at("y");
      ASSERT_EQ(y1.shape, y2.shape);
      for (int64_t k = 0; k < y1.size(); ++k)
        ASSERT_NEAR(y1.f()[k], y2.f()[k], 1e-5 + 1e-5 * std::abs(y2.f()[k]))
            << "at " << k << ", threads " << threads;
    }
    nomtag::onnx::SetThreads(1);
  }
}

// A chain of 12 elementwise nodes needs two live buffers at a time, not 12.
TEST(OnnxGraph, IntermediateBuffersAreReused) {
  Builder b;
  b.Input("x");
  std::string last = "x";
  for (int k = 0; k < 12; ++k) {
    std::string next = "v" + std::to_string(k);
    b.Node(k % 2 ? "Relu" : "Sigmoid", {last}, next);
    last = next;
  }
  b.Output(last);
  std::string error;
  auto model = b.Load(&error);
  ASSERT_NE(model, nullptr) << error;
  std::map<std::string, Tensor> in{
      {"x", Tensor::Floats({64, 64}, Random(64 * 64, -3, 3, 1))}},
      out;
  ASSERT_TRUE(model->Run(in, &out, &error)) << error;
  ASSERT_TRUE(model->Run(in, &out, &error)) << error;
  EXPECT_LE(model->pooled_buffers(), 2u);
  // sigmoid then relu, six times, of x: every value is in (0.5, 1).
  for (int64_t k = 0; k < out.at(last).size(); ++k)
    ASSERT_TRUE(out.at(last).f()[k] > 0.5f && out.at(last).f()[k] < 1.0f);
}

}  // namespace
