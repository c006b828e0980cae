// nomtag serve: the HTTP API and the library page (host/server/).
#include <cstdio>

#include "cli/context.h"
#include "server/serve.h"

namespace nomtag::cli {

void AddServeCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code) {
  auto options = std::make_shared<server::ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve the library page and the HTTP API (routes and errors: the user "
      "guide, \"The web page and the HTTP API\"). Prints a one-time login "
      "link for the page; API clients send `Authorization: Bearer` with the "
      "token kept in ~/.config/nomtag/serve-token.");
  cmd->add_option("--listen", options->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8356; port 0 "
                  "picks a free one)");
  cmd->add_option("--token-file", options->token_path,
                  "where the access token is kept (default "
                  "$XDG_CONFIG_HOME/nomtag/serve-token)");
  cmd->add_flag("--no-token", options->no_token,
                "serve without an access token (refused unless listening on "
                "loopback)");
  cmd->callback([&opts, options, exit_code] {
    if (Status s = server::CheckServeOptions(*options); !s.ok()) {
      *exit_code = Fail(s);
      return;
    }
    // The page adds libraries, so serve, like `library add`, creates the
    // database when there is none yet.
    Session session;
    if (Status s = OpenSession(opts, &session, OpenOptions::Access::kCreate);
        !s.ok()) {
      *exit_code = Fail(s);
      return;
    }
    options->tiers = session.tiers;
    Status s = server::Serve(*options, session.registry, *session.db);
    *exit_code = s.ok() ? 0 : Fail(s);
  });
}

}  // namespace nomtag::cli
