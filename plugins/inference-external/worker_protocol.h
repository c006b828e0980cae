// The JSON-lines protocol between the inference-external plugin and its
// worker (docs/external-worker-protocol.md is the reference for authors).
//
//   worker → plugin, once at start:  {"ready": true, "protocol": 1}
//   plugin → worker, one per file:   {"id": 7, "path": "/abs/song.flac"}
//   worker → plugin, one per request:
//     {"id": 7, "heads": [{"model": "mood-happy/1", "label": "happy",
//                          "value": 0.82, "spread": 0.05}],
//      "descriptors": {"bpm": 121.5},
//      "embedding": {"model": "effnet/1", "values": [0.1, 0.2]}}
//   or {"id": 7, "error": "why this file cannot be analysed"}
//
// Parsing only: no I/O here, so the parser can be unit-tested and fuzzed
// on its own. Every function takes any bytes and returns a value; nothing
// throws.
#ifndef NOMTAG_PLUGINS_INFERENCE_EXTERNAL_WORKER_PROTOCOL_H_
#define NOMTAG_PLUGINS_INFERENCE_EXTERNAL_WORKER_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nomtag::external {

constexpr int kProtocolVersion = 1;
// Bounds on what one answer may hold, whatever the line length allows.
constexpr size_t kMaxHeads = 4096;
constexpr size_t kMaxDescriptors = 4096;
constexpr size_t kMaxEmbedding = 65536;
constexpr size_t kMaxNameBytes = 256;

struct HeadOutput {
  std::string model_id;  // versioned, "mood-happy/1"
  std::string label;
  double value = 0;    // in [0, 1]
  double spread = -1;  // >= 0, or -1 when the worker gave none
};

struct Answer {
  // Set when the worker answered the request with a per-file refusal
  // ("error"); the fields below are then empty.
  std::string refusal;
  std::vector<HeadOutput> heads;
  std::vector<std::pair<std::string, double>> descriptors;
  std::string embedding_model;
  std::vector<float> embedding;
};

// The outcome of parsing one line: either an answer or a protocol error
// (the worker broke the protocol; the plugin restarts it).
struct ParsedAnswer {
  bool ok = false;
  std::string error;  // when !ok: what was wrong, for the per-file reason
  Answer answer;
};

// The request line for one file, newline included. path may hold any
// bytes: bytes that are not UTF-8 are sent as \udcXX escapes (Python's
// surrogateescape reads them back to the same bytes with
// os.fsencode).
std::string RequestLine(uint64_t id, std::string_view path);

// Parses the worker's first line. Empty string when it is a valid hello,
// else what is wrong.
std::string CheckHello(std::string_view line);

// Parses one answer line (without its newline) to the request `id`.
ParsedAnswer ParseAnswer(std::string_view line, uint64_t id);

}  // namespace nomtag::external

#endif  // NOMTAG_PLUGINS_INFERENCE_EXTERNAL_WORKER_PROTOCOL_H_
