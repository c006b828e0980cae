// The server's access token: every API request must carry it as
// `Authorization: Bearer <token>`.
//
// Created at the first start with 32 random bytes from the kernel, kept
// as 64 hex digits in a file only its owner can read
// ($XDG_CONFIG_HOME/nomtag/serve-token, else ~/.config/nomtag/serve-token).
// A token file that others can read or write, or that is a symbolic link,
// is refused rather than used.
#ifndef NOMTAG_SERVER_ACCESS_TOKEN_H_
#define NOMTAG_SERVER_ACCESS_TOKEN_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace nomtag::server {

// The default token file; empty when neither XDG_CONFIG_HOME nor HOME is
// set.
std::string DefaultTokenPath();

// Reads the token at path, or creates it (and its folder, mode 0700) when
// there is none. Fails when the file is unsafe (group/other bits, another
// owner, a link) or unreadable.
Result<std::string> LoadOrCreateToken(const std::string& path);

// n random bytes as 2n hex digits (getrandom).
Result<std::string> RandomHex(size_t n);

// Compares in time independent of where the two differ.
bool SameSecret(std::string_view a, std::string_view b);

}  // namespace nomtag::server

#endif  // NOMTAG_SERVER_ACCESS_TOKEN_H_
