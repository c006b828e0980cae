// What -v says about the configuration nomtag chose (see
// plugins/config_search.h for the search order).
#ifndef NOMTAG_CLI_CONFIG_REPORT_H_
#define NOMTAG_CLI_CONFIG_REPORT_H_

#include "plugins/config_search.h"

namespace nomtag::cli {

// Prints on stderr which plugins.yaml is used and why, or that none was
// found and the bundled plugins load with their defaults.
void ReportConfigChoice(const ConfigChoice& choice);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_CONFIG_REPORT_H_
