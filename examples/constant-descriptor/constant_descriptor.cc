// An inference plugin that ignores the audio and reports one constant
// descriptor, "example-constant" (1.0 unless settings say otherwise), and
// one head output. It shows everything a real backend needs: the entry,
// settings, a session, results through the host's sink, and errors that
// never escape as exceptions.
#include <nomtag/inference.h>

#include <memory>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <string>

namespace {

// Settings come as YAML text; this plugin understands one line,
// "value: <number>", and refuses anything it cannot read.
double ParseValue(const std::string& settings, double fallback) {
  size_t at = settings.find("value:");
  if (at == std::string::npos) return fallback;
  try {
    return std::stod(settings.substr(at + 6));
  } catch (const std::exception&) {
    throw nomtag::sdk::Error(NOMTAG_ERR_SETTINGS, "`value:` must be a number");
  }
}

struct Session {
  double value = 1.0;
};

double plugin_value = 1.0;  // from plugins.yaml, read once in init

nomtag_status Init(const nomtag_host*, const char* settings, size_t len,
                   nomtag_error* err) {
  return nomtag::sdk::guard(err, [&] {
    plugin_value = ParseValue(std::string(settings, len), 1.0);
    nomtag::sdk::log(NOMTAG_LOG_INFO, "constant descriptor ready");
  });
}

// A session's own settings override the plugin's.
nomtag_status Open(const char* settings, size_t len, void** out,
                   nomtag_error* err) {
  return nomtag::sdk::guard(err, [&] {
    auto session = std::make_unique<Session>();
    session->value = ParseValue(std::string(settings, len), plugin_value);
    *out = session.release();  // owned by the host until Close
  });
}

nomtag_status Report(const Session* session, const nomtag_inference_sink* sink,
                     nomtag_error* err) {
  static const char kName[] = "example-constant";
  static const char kModel[] = "example-constant/1";
  static const char kLabel[] = "constant";
  nomtag_status st =
      sink->descriptor(sink->ctx, kName, sizeof kName - 1, session->value);
  if (st == NOMTAG_OK)
    st = sink->head(sink->ctx, kModel, sizeof kModel - 1, kLabel,
                    sizeof kLabel - 1, 0.5);
  if (st != NOMTAG_OK) nomtag::sdk::set_error(err, "host sink refused");
  return st;
}

nomtag_status AnalyzeFile(void* session, const char*, const nomtag_stream*,
                          const nomtag_inference_sink* sink,
                          nomtag_error* err) {
  return Report(static_cast<Session*>(session), sink, err);
}

nomtag_status AnalyzeAudio(void* session, const nomtag_audio*,
                           const nomtag_inference_sink* sink,
                           nomtag_error* err) {
  return Report(static_cast<Session*>(session), sink, err);
}

void Close(void* session) { delete static_cast<Session*>(session); }

const nomtag_inference kInference = {
    sizeof(nomtag_inference),
    /*concurrent_analyze=*/1, Open, AnalyzeFile, AnalyzeAudio, Close,
};

const void* GetInterface(const char* id) {
  if (nomtag::sdk::interface_is(id, NOMTAG_INFERENCE_INTERFACE_ID))
    return &kInference;
  return nullptr;
}

}  // namespace

NOMTAG_PLUGIN(NOMTAG_KIND_INFERENCE, "org.example.constant-descriptor",
              "Constant descriptor (example)", "1.0.0", Init, nullptr,
              GetInterface)
