// Strict JSON bodies and JSON errors for the routes.
#include "server/http_json.h"

#include "report/json_text.h"

namespace nomtag::server {

void SendJson(httplib::Response& res, int http_status,
              const nlohmann::json& body) {
  res.status = http_status;
  res.set_header("Cache-Control", "no-store");
  // The CLI's writer: a name that is not UTF-8 reads as `nomtag --json`
  // prints it (\udcXX per stray byte), never replaced or refused.
  res.set_content(JsonText(body, JsonLayout::kCompact), "application/json");
}

void SendError(httplib::Response& res, int http_status,
               const std::string& detail) {
  SendJson(res, http_status, {{"detail", detail}});
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
          "unknown field '" + key +
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

}  // namespace nomtag::server
