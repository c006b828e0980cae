// Issue 21: the MusiCNN backbone on nomtag's ONNX executor, in ms per
// 187x96 patch at batch 32 with 1 and 2 threads, beside the GEMM floor
// measured in the same run: the very sgemm shapes the executor issued for
// one batch on one thread (recorded while it ran), replayed alone on
// buffers of the same sizes with OpenBLAS's own 1 or 2 threads; where the time
// goes per node; a 4-minute track through the front-end, backbone, nine heads
// and pooling (decode aside) in seconds of audio per second; and the peak
// resident memory.
//
//   onnx_bench [--models DIR] [--batch 32] [--runs 5]
#include <cblas.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "aggregation.h"
#include "frontend.h"
#include "model.h"
#include "ops.h"

namespace {

using Clock = std::chrono::steady_clock;
using nomtag::onnx::GemmShape;
using nomtag::onnx::Tensor;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string models = NOMTAG_MODELS_DIR;
  int batch = 32, runs = 5;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (!std::strcmp(argv[k], "--models")) models = argv[k + 1];
    if (!std::strcmp(argv[k], "--batch")) batch = std::atoi(argv[k + 1]);
    if (!std::strcmp(argv[k], "--runs")) runs = std::atoi(argv[k + 1]);
  }
  std::string path = models + "/musicnn/embeddings/msd-musicnn-1.onnx";
  std::string error;
  auto model = nomtag::onnx::Model::Load(path, &error);
  if (!model) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(batch) * 187 * 96);
  for (auto& v : x) v = normal(rng);
  std::map<std::string, Tensor> in{
      {"melspectrogram", Tensor::Floats({batch, 187, 96}, x)}},
      out;

  // The GEMM shapes of one batch.
  std::vector<GemmShape> gemms;
  nomtag::onnx::RecordGemms(&gemms);
  if (!model->Run(in, &out, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  nomtag::onnx::RecordGemms(nullptr);
  double flops = 0;
  size_t biggest_a = 0, biggest_b = 0, biggest_c = 0;
  for (const auto& g : gemms) {
    flops += 2.0 * g.M * g.N * g.K;
    biggest_a = std::max<size_t>(biggest_a, g.M * g.K);
    biggest_b = std::max<size_t>(biggest_b, g.K * g.N);
    biggest_c = std::max<size_t>(biggest_c, g.M * g.N);
  }
  std::vector<float> A(biggest_a), B(biggest_b), C(biggest_c);
  for (auto& v : A) v = normal(rng);
  for (auto& v : B) v = normal(rng);

  std::printf(
      "backbone %s, batch %d, %d runs; %zu GEMMs per batch, %.2f "
      "GFLOP per patch\n",
      path.c_str(), batch, runs, gemms.size(), flops / batch / 1e9);
  // Each run timed alone: the best is what the code can do, the worst
  // how much a shared machine took from it.
  std::printf("%-8s %20s %20s %11s %13s\n", "threads", "model ms/patch",
              "GEMM ms/patch", "model/GEMM", "GEMM GFLOP/s");
  std::printf("%-8s %20s %20s %11s %13s\n", "", "best (worst)", "best (worst)",
              "(best)", "(best)");
  for (int threads : {1, 2}) {
    nomtag::onnx::SetThreads(threads);
    model->Run(in, &out, &error);  // warm
    std::vector<double> model_s, gemm_s;
    for (int r = 0; r < runs; ++r) {
      auto t0 = Clock::now();
      model->Run(in, &out, &error);
      model_s.push_back(Seconds(t0, Clock::now()));
    }
    // The floor: the same GEMMs (as issued on one thread) on OpenBLAS's
    // own threads, which the executor leaves single-threaded.
    openblas_set_num_threads(threads);
    for (int r = 0; r < runs; ++r) {
      auto t0 = Clock::now();
      for (const auto& g : gemms)
        nomtag::onnx::Sgemm(g.M, g.N, g.K, A.data(),
                            g.flags.trans_a ? g.M : g.K, B.data(),
                            g.flags.trans_b ? g.K : g.N, C.data(), g.N,
                            {g.flags.trans_a, g.flags.trans_b});
      gemm_s.push_back(Seconds(t0, Clock::now()));
    }
    openblas_set_num_threads(1);
    auto [mb, mw] = std::minmax_element(model_s.begin(), model_s.end());
    auto [gb, gw] = std::minmax_element(gemm_s.begin(), gemm_s.end());
    std::printf("%-8d %11.2f (%6.2f) %11.2f (%6.2f) %11.2f %13.1f\n", threads,
                *mb * 1e3 / batch, *mw * 1e3 / batch, *gb * 1e3 / batch,
                *gw * 1e3 / batch, *mb / *gb, flops / *gb / 1e9);
  }
  // Where the time goes (2 threads, the last setting), slowest first.
  model->EnableProfile(true);
  for (int r = 0; r < runs; ++r) model->Run(in, &out, &error);
  auto profile = model->Profile();
  std::sort(profile.begin(), profile.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  std::printf("slowest nodes, ms per patch at 2 threads:\n");
  for (size_t k = 0; k < profile.size() && k < 14; ++k)
    std::printf("  %7.2f  %s\n", profile[k].second * 1e3 / runs / batch,
                profile[k].first.c_str());
  // A 4-minute stereo 44.1 kHz track through the plugin's path after the
  // decoder: front-end, backbone in batches of 32, the nine heads,
  // pooling. (Decoding a 3-minute track costs about 0.4 s on one core,
  // MODELS.md; analysis_bench measures FFmpeg decoding.)
  {
    const int rate = 44100, seconds = 240;
    std::vector<float> audio(2 * rate * seconds);
    for (size_t k = 0; k < audio.size(); ++k)
      audio[k] = 0.3f * std::sin(0.0137f * k) + 0.05f * normal(rng);
    std::vector<std::unique_ptr<nomtag::onnx::Model>> heads;
    for (const auto& f :
         std::filesystem::directory_iterator(models + "/musicnn/heads/softmax"))
      heads.push_back(nomtag::onnx::Model::Load(f.path().string(), &error));
    for (int threads : {1, 2}) {
      nomtag::onnx::SetThreads(threads);
      auto t0 = Clock::now();
      nomtag::musicnn::FrontEnd fe(rate, 2);
      for (size_t k = 0; k < audio.size() / 2; k += 4096)
        fe.Feed(audio.data() + 2 * k,
                std::min<size_t>(4096, audio.size() / 2 - k));
      fe.Finish();
      auto t1 = Clock::now();
      const int64_t n = fe.patches();
      std::vector<float> emb;
      for (int64_t b = 0; b < n; b += batch) {
        int64_t c = std::min<int64_t>(batch, n - b);
        std::vector<float> p;
        for (int64_t k = b; k < b + c; ++k) fe.AppendPatch(k, &p);
        model->Run({{"melspectrogram", Tensor::Floats({c, 187, 96}, p)}}, &out,
                   &error);
        const Tensor& e = out.at("embeddings");
        emb.insert(emb.end(), e.f(), e.f() + e.size());
      }
      auto t2 = Clock::now();
      Tensor all = Tensor::Floats({n, 200}, emb);
      for (auto& h : heads) {
        std::map<std::string, Tensor> ho;
        h->Run({{h->input_names()[0], all}}, &ho, &error);
        nomtag::musicnn::TrimmedMean(ho.begin()->second.f(), n, 2);
      }
      nomtag::musicnn::TrimmedMean(emb.data(), n, 200);
      auto t3 = Clock::now();
      double total = Seconds(t0, t3);
      std::printf(
          "4-min track, %d thread(s): %lld patches; front-end %.2f s, "
          "backbone %.2f s, heads+pooling %.3f s; %.0fx real time "
          "(decode not included)\n",
          threads, static_cast<long long>(n), Seconds(t0, t1), Seconds(t1, t2),
          Seconds(t2, t3), seconds / total);
    }
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak resident memory: %.0f MiB\n", ru.ru_maxrss / 1024.0);
  return 0;
}
