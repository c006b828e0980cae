// JSON text for what nomtag reports: the CLI's --json and the HTTP API's
// answers use this one writer, so a name reads the same in both and what
// either reports can always be written.
//
// File names on Linux are bytes, not text. Strings are written as UTF-8
// where they are valid UTF-8; each byte that is not part of a valid
// sequence is written as the escape \udcXX (a lone low surrogate, as
// Python's "surrogateescape" does), which no valid text can produce. So the
// output is always valid JSON, and no name is lost: in Python,
// os.fsencode(json.loads(out)["path"]) gives back the exact bytes.
#ifndef NOMTAG_REPORT_JSON_TEXT_H_
#define NOMTAG_REPORT_JSON_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace nomtag {

enum class JsonLayout {
  kIndented,  // two spaces per level, as nlohmann's dump(2): the CLI's
  kCompact,   // no whitespace, as dump(): HTTP answers
};

// j as JSON text, strings encoded as above. Never throws on the bytes of a
// string.
std::string JsonText(const nlohmann::json& j,
                     JsonLayout layout = JsonLayout::kIndented);

// JsonText(j) and a newline on stdout (the CLI's --json).
void PrintJson(const nlohmann::json& j);

// Whether bytes are valid UTF-8 (JsonText writes them as they are).
bool IsUtf8(std::string_view bytes);

}  // namespace nomtag

#endif  // NOMTAG_REPORT_JSON_TEXT_H_
