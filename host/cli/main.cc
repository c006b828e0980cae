// nomtag: keeps machine-learned music tags in a database and projects them
// into audio files. This file only wires the commands together.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "cli/context.h"
#include "cli/docs_gen.h"
#include "cli/global_options.h"

int main(int argc, char** argv) {
  using namespace nomtag::cli;
  // A group write holds three descriptors per file until the group is
  // durable (write/safe_write.h kMaxGroup), per worker thread: take the
  // room the system allows rather than the historical 1,024.
  if (struct rlimit lim;
      ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  CLI::App app{
      "nomtag keeps machine-learned music tags (moods, descriptors, model "
      "scores) in a database and projects them into the `nom` namespace of "
      "your audio files (MP3, MP4/M4A/M4B, FLAC, Ogg Vorbis, Opus). It never "
      "touches a tag that is not its own.",
      "nomtag"};  // named, so usage lines say `nomtag`, not the binary's path
  app.require_subcommand(1);
  GlobalOptions opts;
  AddGlobalOptions(app, opts);
  const std::string version = "nomtag " NOMTAG_VERSION " (plugin ABI " +
                              std::to_string(NOMTAG_ABI_MAJOR) + "." +
                              std::to_string(NOMTAG_ABI_MINOR) + ")";
  app.set_version_flag("--version", version);

  int exit_code = 0;
  AddPluginsCommand(app, opts, &exit_code);
  AddTagsCommand(app, opts, &exit_code);
  AddLibraryCommand(app, opts, &exit_code);
  AddScanCommand(app, opts, &exit_code);
  AddReconcileCommand(app, opts, &exit_code);
  AddStatusCommand(app, opts, &exit_code);
  AddCalibrationCommand(app, opts, &exit_code);
  AddRecoverCommand(app, opts, &exit_code);
  AddAnalyzeCommand(app, opts, &exit_code);
  AddCalibrateCommand(app, opts, &exit_code);
  AddServeCommand(app, opts, &exit_code);
  AddGenerateDocsCommand(app, version, &exit_code);  // last: it reads them

  try {
    std::vector<std::string> names;
    for (const CLI::App* sub : std::as_const(app).get_subcommands({}))
      names.push_back(sub->get_name());
    std::vector<std::string> args = MoveLeadingJson(argc, argv, names);
    std::vector<char*> arg_ptrs;
    for (auto& a : args) arg_ptrs.push_back(a.data());
    app.parse(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
