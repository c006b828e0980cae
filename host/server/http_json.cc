// Strict JSON bodies and JSON errors for the routes.
#include "server/http_json.h"

namespace nomtag::server {

void SendJson(httplib::Response& res, int http_status,
              const nlohmann::json& body) {
  res.status = http_status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      "application/json");
}

void SendError(httplib::Response& res, int http_status,
               const std::string& detail) {
  SendJson(res, http_status, {{"detail", JsonText(detail)}});
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kRefused:
      return 403;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kUnsupported:
      return 422;
    default:
      return 500;
  }
}

void SendStatus(httplib::Response& res, const Status& status) {
  SendError(res, HttpStatusFor(status), status.message());
}

Result<nlohmann::json> ParseObject(
    const std::string& body, std::initializer_list<std::string_view> allowed) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return nlohmann::json::object();
  // No exceptions: a parse error gives a discarded value.
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded())
    return Status::InvalidArgument("the request body is not valid JSON");
  if (!doc.is_object())
    return Status::InvalidArgument("the request body must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string names;
      for (std::string_view a : allowed)
        names += (names.empty() ? "" : ", ") + std::string(a);
      return Status::InvalidArgument(
          "unknown field '" + JsonText(key) +
          "' (this route takes: " + (names.empty() ? "none" : names) + ")");
    }
  }
  return doc;
}

Status ReadField(const nlohmann::json& obj, const char* name,
                 std::string* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return Status::OK();
  if (!it->is_string())
    return Status::InvalidArgument(std::string("'") + name +
                                   "' must be a string");
  *out = it->get<std::string>();
  return Status::OK();
}

Status ReadField(const nlohmann::json& obj, const char* name, bool* out) {
  auto it = obj.find(name);
  if (it == obj.end()) return Status::OK();
  if (!it->is_boolean())
    return Status::InvalidArgument(std::string("'") + name +
                                   "' must be true or false");
  *out = it->get<bool>();
  return Status::OK();
}

bool ParseId(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  *out = n;
  return true;
}

std::string JsonText(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    size_t len = c < 0x80         ? 1
                 : (c >> 5) == 6  ? 2
                 : (c >> 4) == 14 ? 3
                 : (c >> 3) == 30 ? 4
                                  : 0;
    bool valid = len > 0 && i + len <= bytes.size();
    for (size_t k = 1; valid && k < len; ++k)
      valid = (static_cast<unsigned char>(bytes[i + k]) >> 6) == 2;
    if (valid && len > 1) {
      // Overlong forms, surrogates and values past U+10FFFF.
      uint32_t cp = c & (0xFF >> (len + 1));
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(bytes[i + k]) & 0x3F);
      const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= min[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (valid) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace nomtag::server
