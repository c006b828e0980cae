// nomtag: keeps machine-learned music tags in a database and projects them
// into audio files. This file only wires the commands together.
#include <cstdio>
#include <cstdlib>

#include "cli/context.h"

int main(int argc, char** argv) {
  using namespace nomtag::cli;
  CLI::App app{
      "nomtag keeps machine-learned music tags (moods, descriptors, model "
      "scores) in a database and projects them into the `nom` namespace of "
      "your audio files (MP3, MP4/M4A/M4B, FLAC, Ogg Vorbis, Opus). It never "
      "touches a tag that is not its own."};
  app.require_subcommand(1);
  GlobalOptions opts;
  app.add_option("--config", opts.config_path,
                 "plugins.yaml to use (default: $NOMTAG_CONFIG, "
                 "./plugins.yaml, ~/.config/nomtag/plugins.yaml)");
  app.add_option("--plugin-dir", opts.plugin_dirs,
                 "extra directory searched for plugins given by name "
                 "(repeatable)");
  app.add_flag("-v,--verbose", opts.verbose, "show plugins' info messages");
  app.add_option("--db", opts.database,
                 "database to use (default: the storage plugin's `database:` "
                 "setting, else ~/.local/share/nomtag/nomtag.db)");
  app.set_version_flag("--version", "nomtag 0.1.0 (plugin ABI " +
                                        std::to_string(NOMTAG_ABI_MAJOR) + "." +
                                        std::to_string(NOMTAG_ABI_MINOR) + ")");

  int exit_code = 0;
  AddPluginsCommand(app, opts, &exit_code);
  AddTagsCommand(app, opts, &exit_code);
  AddLibraryCommand(app, opts, &exit_code);
  AddScanCommand(app, opts, &exit_code);
  AddReconcileCommand(app, opts, &exit_code);
  AddStatusCommand(app, opts, &exit_code);
  AddCalibrationCommand(app, opts, &exit_code);
  AddRecoverCommand(app, opts, &exit_code);
  AddServeCommand(app, opts, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
