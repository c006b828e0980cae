// JSON in and out of the HTTP routes: strict request bodies and error
// answers that are always JSON ({"detail": "..."}, as the original
// system's FastAPI answers). Answers are written by the CLI's writer
// (report/json_text.h): strings may hold any bytes.
//
// Bad input is a 4xx with a sentence saying what was wrong; only a bug or
// a failing disk or database is a 5xx.
#ifndef NOMTAG_SERVER_HTTP_JSON_H_
#define NOMTAG_SERVER_HTTP_JSON_H_

#include <httplib.h>

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace nomtag::server {

void SendJson(httplib::Response& res, int http_status,
              const nlohmann::json& body);
void SendError(httplib::Response& res, int http_status,
               const std::string& detail);
// InvalidArgument 400, NotFound 404, Refused 403, Conflict 409, Unsupported
// 422, anything else 500.
int HttpStatusFor(const Status& status);
void SendStatus(httplib::Response& res, const Status& status);

// Parses body as a JSON object whose every field is in allowed. An empty
// body is the empty object. Errors are InvalidArgument naming the problem
// (not JSON, not an object, the unknown field).
Result<nlohmann::json> ParseObject(
    const std::string& body, std::initializer_list<std::string_view> allowed);

// Read one optional field of obj into *out; absent leaves *out alone and
// answers OK; present with another type is InvalidArgument.
Status ReadField(const nlohmann::json& obj, const char* name, std::string* out);
Status ReadField(const nlohmann::json& obj, const char* name, bool* out);

// A non-negative decimal integer of at most 18 digits (path ids, query
// values); nothing else.
bool ParseId(std::string_view text, int64_t* out);

}  // namespace nomtag::server

#endif  // NOMTAG_SERVER_HTTP_JSON_H_
