// A library and its failures as nomtag reports them: `nomtag library
// --json`, `nomtag status --json` and the HTTP API's library answers are
// built from these, so the same library reads the same everywhere.
//
// Strings are kept as their bytes (a root or a file name need not be
// UTF-8); write the result with JsonText (report/json_text.h), which keeps
// them lossless.
#ifndef NOMTAG_REPORT_LIBRARY_JSON_H_
#define NOMTAG_REPORT_LIBRARY_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/library.h"

namespace nomtag {

// {id, name, root, file_write_mode, keep_mtime, write_strategy, hardlinks,
// padding}.
nlohmann::json LibraryJson(const Library& library);

// Whether a file's recorded error is the hard-link refusal (the file is
// held back because other names share it).
bool HeldByHardLinks(const std::string& error);

// [{path, error, hard_links}] for the failures of a library's status
// (path, error pairs).
nlohmann::json FailuresJson(
    const std::vector<std::pair<std::string, std::string>>& failures);

}  // namespace nomtag

#endif  // NOMTAG_REPORT_LIBRARY_JSON_H_
