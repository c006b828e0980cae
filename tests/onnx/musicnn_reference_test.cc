// The original system's MusiCNN backbone and a head, run by the executor,
// against MODELS.md section 5's reference values (produced with ONNX
// Runtime). The input is np.random.default_rng(0).standard_normal
// ((1,187,96)) as float32, checked in as fixtures/rng0_1x187x96.f32 (made
// by fixtures/make_rng0_input.py). The model files are not part of the
// project: when NOMTAG_MODELS_DIR has none, the tests say SKIPPED loudly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "aggregation.h"
#include "model.h"

namespace {

namespace fs = std::filesystem;
using nomtag::onnx::Model;
using nomtag::onnx::Tensor;

const fs::path kMusicnn = fs::path(NOMTAG_MODELS_DIR) / "musicnn";
const fs::path kBackbone = kMusicnn / "embeddings" / "msd-musicnn-1.onnx";

#define SKIP_WITHOUT_MODELS()                                  \
  if (!fs::exists(kBackbone)) {                                \
    std::cerr << "*** SKIPPED: " << kBackbone                  \
              << " is absent (set NOMTAG_MODELS_DIR) ***\n";   \
    GTEST_SKIP() << "SKIPPED: no model files at " << kMusicnn; \
  }

Tensor ReferenceInput() {
  std::ifstream in(NOMTAG_ONNX_FIXTURES "/rng0_1x187x96.f32", std::ios::binary);
  std::vector<float> v(187 * 96);
  in.read(reinterpret_cast<char*>(v.data()), v.size() * sizeof(float));
  EXPECT_TRUE(in) << "fixture unreadable";
  return Tensor::Floats({1, 187, 96}, std::move(v));
}

bool Close(double a, double b) {
  return std::abs(a - b) <= 1e-4 + 1e-4 * std::abs(b);
}

TEST(MusicnnReference, BackboneReproducesOnnxRuntime) {
  SKIP_WITHOUT_MODELS();
  std::string error;
  auto model = Model::Load(kBackbone.string(), &error);
  ASSERT_NE(model, nullptr) << error;
  // Each of the seven Conv nodes absorbs its Relu and the BatchNorm after,
  // and the four front-layer ones the MaxPool after that too (18); the
  // Gather-built conv's MatMul its two Transposes and its bias Add (3).
  EXPECT_EQ(model->fused_count(), 21u);
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(model->Run({{"melspectrogram", ReferenceInput()}}, &out, &error))
      << error;
  const Tensor& e = out.at("embeddings");
  ASSERT_EQ(e.shape, (nomtag::onnx::Shape{1, 200}));
  const double want[10] = {0.187831,  -3.637837, -2.794326, 10.288873,
                           -2.855955, 9.574282,  3.711509,  -10.735729,
                           -2.653842, -3.006411};
  for (int k = 0; k < 10; ++k)
    EXPECT_TRUE(Close(e.f()[k], want[k]))
        << "embeddings[" << k << "] = " << e.f()[k] << ", want " << want[k];
  double l2 = 0;
  for (int64_t k = 0; k < e.size(); ++k) l2 += double(e.f()[k]) * e.f()[k];
  EXPECT_NEAR(*std::min_element(e.f(), e.f() + 200), -18.710917, 2e-4);
  EXPECT_NEAR(*std::max_element(e.f(), e.f() + 200), 16.047617, 2e-4);
  EXPECT_NEAR(std::sqrt(l2), 96.655, 1e-3);
  const Tensor& act = out.at("activations");
  ASSERT_EQ(act.shape, (nomtag::onnx::Shape{1, 50}));
  const float* top = std::max_element(act.f(), act.f() + 50);
  EXPECT_EQ(top - act.f(), 33);
  EXPECT_NEAR(*top, 0.097152, 1e-5);
}

// Patches are independent: one in a batch of three with others gives the
// same embedding as alone (the batched GEMM chunks and the pool's reuse of
// buffers across runs must not mix patches).
TEST(MusicnnReference, BatchedPatchesAreIndependent) {
  SKIP_WITHOUT_MODELS();
  std::string error;
  auto model = Model::Load(kBackbone.string(), &error);
  ASSERT_NE(model, nullptr) << error;
  Tensor one = ReferenceInput();
  std::vector<float> three(3 * 187 * 96);
  for (size_t k = 0; k < three.size(); ++k)
    three[k] = std::sin(0.001f * k) * 2.0f;
  std::copy_n(one.f(), 187 * 96, three.data() + 187 * 96);
  std::map<std::string, Tensor> alone, batch;
  ASSERT_TRUE(model->Run({{"melspectrogram", one}}, &alone, &error)) << error;
  ASSERT_TRUE(
      model->Run({{"melspectrogram", Tensor::Floats({3, 187, 96}, three)}},
                 &batch, &error))
      << error;
  const Tensor& a = alone.at("embeddings");
  const Tensor& b = batch.at("embeddings");
  ASSERT_EQ(b.shape, (nomtag::onnx::Shape{3, 200}));
  for (int k = 0; k < 200; ++k)
    EXPECT_NEAR(b.f()[200 + k], a.f()[k], 1e-4 + 1e-5 * std::abs(a.f()[k]));
}

TEST(MusicnnReference, MoodHappyHeadOnReferenceEmbeddings) {
  SKIP_WITHOUT_MODELS();
  std::string error;
  auto backbone = Model::Load(kBackbone.string(), &error);
  ASSERT_NE(backbone, nullptr) << error;
  auto head = Model::Load(
      (kMusicnn / "heads/softmax/mood_happy-msd-musicnn-1.onnx").string(),
      &error);
  ASSERT_NE(head, nullptr) << error;
  std::map<std::string, Tensor> emb, out;
  ASSERT_TRUE(
      backbone->Run({{"melspectrogram", ReferenceInput()}}, &emb, &error))
      << error;
  ASSERT_EQ(head->input_names().size(), 1u);
  ASSERT_TRUE(
      head->Run({{head->input_names()[0], emb.at("embeddings")}}, &out, &error))
      << error;
  const Tensor& p = out.at(head->output_names()[0]);
  ASSERT_EQ(p.shape, (nomtag::onnx::Shape{1, 2}));
  EXPECT_NEAR(p.f()[0] / 3.30497e-14, 1.0, 2e-3) << p.f()[0];
  EXPECT_NEAR(p.f()[1], 1.0, 1e-6);
}

// Every head of the original layout loads (their operators are all
// implemented) and maps [n,200] to [n,2] rows that sum to 1.
TEST(MusicnnReference, EveryHeadLoadsAndGivesTwoProbabilities) {
  SKIP_WITHOUT_MODELS();
  int heads = 0;
  for (const auto& f : fs::directory_iterator(kMusicnn / "heads/softmax")) {
    std::string error;
    auto head = Model::Load(f.path().string(), &error);
    ASSERT_NE(head, nullptr) << error;
    std::vector<float> x(2 * 200);
    for (size_t k = 0; k < x.size(); ++k) x[k] = std::cos(0.37f * k) * 5;
    std::map<std::string, Tensor> out;
    ASSERT_TRUE(head->Run(
        {{head->input_names()[0], Tensor::Floats({2, 200}, x)}}, &out, &error))
        << error;
    const Tensor& p = out.at(head->output_names()[0]);
    ASSERT_EQ(p.shape, (nomtag::onnx::Shape{2, 2})) << f.path();
    for (int r = 0; r < 2; ++r)
      EXPECT_NEAR(p.f()[2 * r] + p.f()[2 * r + 1], 1.0, 1e-6) << f.path();
    ++heads;
  }
  EXPECT_EQ(heads, 9);
}

// Real audio: three patches of a music-like track through nomtag's
// front-end, with ONNX Runtime's embeddings and head outputs for them
// (fixtures/make_real_audio_fixture.sh: onnxruntime-node 1.17.0, once, by
// hand). MODELS.md: ONNX Runtime and an independent evaluator agree to
// 1.4e-5 on embeddings and 1.6e-6 on pooled scores; the executor is held
// to 1e-4 and 1e-5.
void RealAudioOnce(int n, const std::vector<float>& patches,
                   const nlohmann::json& want);

TEST(MusicnnReference, RealAudioAgreesWithOnnxRuntime) {
  SKIP_WITHOUT_MODELS();
  std::ifstream json_file(NOMTAG_ONNX_FIXTURES "/real_audio_ort.json");
  nlohmann::json want = nlohmann::json::parse(json_file);
  const int n = want["patches"];
  std::ifstream in(NOMTAG_ONNX_FIXTURES "/real_audio_patches.f32",
                   std::ios::binary);
  std::vector<float> patches(n * 187 * 96);
  in.read(reinterpret_cast<char*>(patches.data()),
          patches.size() * sizeof(float));
  ASSERT_TRUE(in);
  // On one thread and on two: the executor's workers split images, bands
  // of rows and matrix rows between them; the numbers must not change.
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    nomtag::onnx::SetThreads(threads);
    RealAudioOnce(n, patches, want);
  }
  nomtag::onnx::SetThreads(1);
}

void RealAudioOnce(int n, const std::vector<float>& patches,
                   const nlohmann::json& want) {
  std::string error;
  auto backbone = Model::Load(kBackbone.string(), &error);
  ASSERT_NE(backbone, nullptr) << error;
  std::map<std::string, Tensor> out;
  ASSERT_TRUE(
      backbone->Run({{"melspectrogram", Tensor::Floats({n, 187, 96}, patches)}},
                    &out, &error))
      << error;
  const Tensor& e = out.at("embeddings");
  ASSERT_EQ(e.size(), n * 200);
  double worst = 0;
  for (int k = 0; k < n * 200; ++k)
    worst = std::max(worst,
                     std::abs(e.f()[k] - want["embeddings"][k].get<double>()));
  EXPECT_LE(worst, 1e-4);
  int heads = 0;
  for (const auto& [stem, pooled] : want["heads"].items()) {
    auto head = Model::Load(
        (kMusicnn / "heads/softmax" / (stem + ".onnx")).string(), &error);
    ASSERT_NE(head, nullptr) << error;
    std::map<std::string, Tensor> p;
    ASSERT_TRUE(head->Run({{head->input_names()[0], e}}, &p, &error)) << error;
    auto got =
        nomtag::musicnn::TrimmedMean(p.at(head->output_names()[0]).f(), n, 2);
    for (int c = 0; c < 2; ++c)
      EXPECT_NEAR(got.value[c], pooled[c].get<double>(), 1e-5)
          << stem << " [" << c << "]";
    ++heads;
  }
  EXPECT_EQ(heads, 9);
  std::cerr << "largest embedding difference to ONNX Runtime: " << worst
            << "\n";
}

}  // namespace
