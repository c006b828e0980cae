// ONNX's own per-operator node tests (Debian's libonnx-testdata) run by
// nomtag's executor: every test whose operators are all implemented must
// reproduce ONNX's expected outputs to |a-b| <= 1e-4 + 1e-4*|b|, except the
// few listed below with the feature they need that the executor refuses at
// load (it never computes them wrongly: they fail to load, as checked).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "model.h"
#include "ops.h"
#include "tensor_proto.h"

namespace fs = std::filesystem;
using nomtag::onnx::Model;
using nomtag::onnx::Tensor;

namespace {

const fs::path kNodeTests = NOMTAG_ONNX_NODE_TESTS_DIR;

// Tests of implemented operators that use a feature the executor refuses
// at load, with that feature.
const std::map<std::string, std::string> kRefused = {
    {"test_add_uint8", "uint8 tensors"},
    {"test_mul_uint8", "uint8 tensors"},
    {"test_maxpool_2d_uint8", "uint8 tensors"},
    {"test_maxpool_3d_default", "3-D pooling"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "the Indices output"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "the Indices output"},
    {"test_batchnorm_epsilon_training_mode", "training mode"},
    {"test_batchnorm_example_training_mode", "training mode"},
    {"test_edge_pad", "Pad mode edge"},
    {"test_reflect_pad", "Pad mode reflect"},
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> OpsOf(const fs::path& model) {
  ::onnx::ModelProto proto;
  std::set<std::string> ops;
  if (!proto.ParseFromString(ReadFile(model))) return ops;
  for (const auto& n : proto.graph().node()) ops.insert(n.op_type());
  return ops;
}

// Node tests made only of implemented operators, sorted by name.
std::vector<std::string> Selected() {
  std::vector<std::string> names;
  std::error_code ec;
  auto implemented = nomtag::onnx::ImplementedOps();
  for (const auto& entry : fs::directory_iterator(kNodeTests, ec)) {
    auto ops = OpsOf(entry.path() / "model.onnx");
    if (ops.empty()) continue;
    bool all = std::all_of(ops.begin(), ops.end(), [&](const std::string& o) {
      return std::count(implemented.begin(), implemented.end(), o) > 0;
    });
    if (all) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class NodeTest : public testing::TestWithParam<std::string> {};

TEST_P(NodeTest, MatchesOnnxExpectedOutputs) {
  const fs::path dir = kNodeTests / GetParam();
  std::string error;
  auto model = Model::Load((dir / "model.onnx").string(), &error);
  auto refused = kRefused.find(GetParam());
  if (refused != kRefused.end()) {
    EXPECT_EQ(model, nullptr) << "loads though it needs " << refused->second;
    EXPECT_NE(error.find("model.onnx"), std::string::npos) << error;
    GTEST_SKIP() << "refused at load, as it needs " << refused->second << ": "
                 << error;
  }
  ASSERT_NE(model, nullptr) << error;
  int sets = 0;
  for (int s = 0; fs::exists(dir / ("test_data_set_" + std::to_string(s)));
       ++s, ++sets) {
    const fs::path data = dir / ("test_data_set_" + std::to_string(s));
    std::map<std::string, Tensor> inputs, outputs;
    for (size_t k = 0; k < model->input_names().size(); ++k) {
      Tensor t;
      std::string name;
      auto file = data / ("input_" + std::to_string(k) + ".pb");
      ASSERT_TRUE(nomtag::onnx::ParseTensor(ReadFile(file), &t, &name, &error))
          << file << ": " << error;
      inputs[model->input_names()[k]] = t;
    }
    ASSERT_TRUE(model->Run(inputs, &outputs, &error)) << error;
    for (size_t k = 0; k < model->output_names().size(); ++k) {
      Tensor want;
      std::string name;
      auto file = data / ("output_" + std::to_string(k) + ".pb");
      ASSERT_TRUE(
          nomtag::onnx::ParseTensor(ReadFile(file), &want, &name, &error))
          << file << ": " << error;
      const Tensor& got = outputs.at(model->output_names()[k]);
      ASSERT_EQ(got.shape, want.shape) << "output " << k;
      ASSERT_EQ(got.dtype, want.dtype);
      int bad = 0;
      for (int64_t j = 0; j < want.size(); ++j) {
        double a =
            got.dtype == nomtag::onnx::DType::kFloat ? got.f()[j] : got.i()[j];
        double b = want.dtype == nomtag::onnx::DType::kFloat ? want.f()[j]
                                                             : want.i()[j];
        bool same = std::isnan(b)
                        ? std::isnan(a)
                        : std::abs(a - b) <= 1e-4 + 1e-4 * std::abs(b);
        if (!same && bad++ < 5)
          ADD_FAILURE() << "output " << k << " [" << j << "]: " << a
                        << ", expected " << b;
      }
      EXPECT_EQ(bad, 0) << "of " << want.size() << " values";
    }
  }
  EXPECT_GT(sets, 0);
}

INSTANTIATE_TEST_SUITE_P(Onnx, NodeTest, testing::ValuesIn(Selected()),
                         [](const auto& info) { return info.param; });

// The data is there, and each implemented operator has a node test that is
// run, not refused.
TEST(NodeTestCoverage, EveryImplementedOperatorHasARunTest) {
  ASSERT_TRUE(fs::is_directory(kNodeTests))
      << kNodeTests << " is missing: install libonnx-testdata";
  std::map<std::string, int> runs;
  for (const auto& name : Selected())
    if (!kRefused.count(name))
      for (const auto& op : OpsOf(kNodeTests / name / "model.onnx")) ++runs[op];
  for (const auto& op : nomtag::onnx::ImplementedOps())
    EXPECT_GT(runs[op], 0) << op << " has no node test that runs";
}

}  // namespace
