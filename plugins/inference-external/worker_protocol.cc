#include "worker_protocol.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace nomtag::external {
namespace {

using Json = nlohmann::json;

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  unsigned char c = s[i];
  size_t n = c < 0x80         ? 1
             : (c >> 5) == 6  ? 2
             : (c >> 4) == 14 ? 3
             : (c >> 3) == 30 ? 4
                              : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = s[i + k];
    if ((d >> 6) != 2) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// A JSON string literal of any bytes: UTF-8 as is, other bytes as \udcXX.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  char buf[8];
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t n = Utf8Length(s, i);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\udc%02x", c);
      out += buf;
      ++i;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
      ++i;
    } else if (c < 0x20) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out + "\"";
}

// A name the worker gave (model, label, descriptor): non-empty, bounded.
bool Name(const Json& j, std::string* out) {
  if (!j.is_string()) return false;
  *out = j.get<std::string>();
  return !out->empty() && out->size() <= kMaxNameBytes;
}

bool Finite(const Json& j, double* out) {
  if (!j.is_number()) return false;
  *out = j.get<double>();
  return std::isfinite(*out);
}

ParsedAnswer Broken(std::string why) {
  ParsedAnswer p;
  p.error = std::move(why);
  return p;
}

std::string ParseHead(const Json& h, size_t i, HeadOutput* out) {
  std::string at = "heads[" + std::to_string(i) + "]";
  if (!h.is_object()) return at + " is not an object";
  auto model = h.find("model"), label = h.find("label"),
       value = h.find("value");
  if (model == h.end() || !Name(*model, &out->model_id))
    return at + ".model must be a non-empty string of at most 256 bytes";
  if (label == h.end() || !Name(*label, &out->label))
    return at + ".label must be a non-empty string of at most 256 bytes";
  if (value == h.end() || !Finite(*value, &out->value) || out->value < 0 ||
      out->value > 1)
    return at + ".value must be a number in [0, 1]";
  if (auto spread = h.find("spread"); spread != h.end() && !spread->is_null()) {
    if (!Finite(*spread, &out->spread) || out->spread < 0)
      return at + ".spread must be a number >= 0";
  }
  return "";
}

}  // namespace

std::string RequestLine(uint64_t id, std::string_view path) {
  return "{\"id\": " + std::to_string(id) + ", \"path\": " + Quote(path) +
         "}\n";
}

std::string CheckHello(std::string_view line) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return "its first line is not JSON";
  if (!j.is_object()) return "its first line is not a JSON object";
  auto ready = j.find("ready");
  if (ready == j.end() || *ready != true)
    return "its first line does not say \"ready\": true";
  auto protocol = j.find("protocol");
  if (protocol == j.end() || !protocol->is_number_integer() ||
      *protocol != kProtocolVersion)
    return "it speaks another protocol (nomtag speaks \"protocol\": " +
           std::to_string(kProtocolVersion) + ")";
  return "";
}

ParsedAnswer ParseAnswer(std::string_view line, uint64_t id) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Broken("the answer is not valid JSON");
  if (!j.is_object()) return Broken("the answer is not a JSON object");
  auto jid = j.find("id");
  if (jid == j.end() || !jid->is_number_unsigned())
    return Broken("the answer has no \"id\"");
  if (jid->get<uint64_t>() != id)
    return Broken("the answer is for request " +
                  std::to_string(jid->get<uint64_t>()) + ", not " +
                  std::to_string(id));
  ParsedAnswer p;
  if (auto err = j.find("error"); err != j.end()) {
    if (!err->is_string() || err->get_ref<const std::string&>().empty())
      return Broken("\"error\" must be a non-empty string");
    p.answer.refusal = err->get<std::string>();
    if (p.answer.refusal.size() > 1024) p.answer.refusal.resize(1024);
    p.ok = true;
    return p;
  }
  Answer& a = p.answer;
  if (auto heads = j.find("heads"); heads != j.end()) {
    if (!heads->is_array()) return Broken("\"heads\" must be an array");
    if (heads->size() > kMaxHeads)
      return Broken("more than " + std::to_string(kMaxHeads) + " heads");
    for (size_t i = 0; i < heads->size(); ++i) {
      HeadOutput h;
      if (std::string why = ParseHead((*heads)[i], i, &h); !why.empty())
        return Broken(why);
      a.heads.push_back(std::move(h));
    }
  }
  if (auto ds = j.find("descriptors"); ds != j.end()) {
    if (!ds->is_object())
      return Broken("\"descriptors\" must be an object of numbers");
    if (ds->size() > kMaxDescriptors)
      return Broken("more than " + std::to_string(kMaxDescriptors) +
                    " descriptors");
    for (auto it = ds->begin(); it != ds->end(); ++it) {
      double v;
      if (it.key().empty() || it.key().size() > kMaxNameBytes)
        return Broken("a descriptor name must have 1 to 256 bytes");
      if (!Finite(it.value(), &v))
        return Broken("descriptor \"" + it.key() + "\" is not a finite number");
      a.descriptors.emplace_back(it.key(), v);
    }
  }
  if (auto e = j.find("embedding"); e != j.end() && !e->is_null()) {
    auto model = e->is_object() ? e->find("model") : e->end();
    auto values = e->is_object() ? e->find("values") : e->end();
    if (!e->is_object() || model == e->end() ||
        !Name(*model, &a.embedding_model) || values == e->end() ||
        !values->is_array())
      return Broken(
          "\"embedding\" must be {\"model\": string, \"values\": [numbers]}");
    if (values->size() > kMaxEmbedding)
      return Broken("the embedding has more than " +
                    std::to_string(kMaxEmbedding) + " values");
    for (const Json& v : *values) {
      double d;
      if (!Finite(v, &d) || std::fabs(d) > 3.0e38)
        return Broken("the embedding holds a value that is not a float");
      a.embedding.push_back(float(d));
    }
  }
  p.ok = true;
  return p;
}

}  // namespace nomtag::external
