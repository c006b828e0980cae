// How every command prints --json: one writer, so that what a command
// reports can always be printed.
//
// File names on Linux are bytes, not text. Strings are written as UTF-8
// where they are valid UTF-8; each byte that is not part of a valid
// sequence is written as the escape \udcXX (a lone low surrogate, as
// Python's "surrogateescape" does), which no valid text can produce. So the
// output is always valid JSON, and no name is lost: in Python,
// os.fsencode(json.loads(out)["path"]) gives back the exact bytes.
#ifndef NOMTAG_CLI_JSON_OUTPUT_H_
#define NOMTAG_CLI_JSON_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>

namespace nomtag::cli {

// j as indented JSON text (two spaces, as nlohmann's dump(2)), strings
// encoded as above. Never throws on the bytes of a string.
std::string JsonText(const nlohmann::json& j);

// JsonText(j) and a newline on stdout.
void PrintJson(const nlohmann::json& j);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_JSON_OUTPUT_H_
