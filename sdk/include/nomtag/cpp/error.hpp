// nomtag SDK C++ helpers — errors at the boundary.
//
// Plugin code may throw; no exception may cross the C ABI. Wrap the body of
// every exported function in guard(): it returns NOMTAG_OK, or turns an
// exception into a status and a message in the caller's nomtag_error.
#ifndef NOMTAG_CPP_ERROR_HPP
#define NOMTAG_CPP_ERROR_HPP

#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../status.h"

namespace nomtag::sdk {

// An error with a status code; throw it from plugin code.
class Error : public std::runtime_error {
 public:
  Error(nomtag_status code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  nomtag_status code() const { return code_; }

 private:
  nomtag_status code_;
};

// Copies message into err's caller-owned buffer, truncated to fit.
inline void set_error(nomtag_error* err, std::string_view message) {
  if (err == nullptr || err->message == nullptr || err->capacity == 0) return;
  size_t n =
      message.size() < err->capacity - 1 ? message.size() : err->capacity - 1;
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
}

// Runs body() (returning void); maps exceptions to a status.
template <class Body>
nomtag_status guard(nomtag_error* err, Body&& body) noexcept {
  try {
    body();
    return NOMTAG_OK;
  } catch (const Error& e) {
    set_error(err, e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    set_error(err, "out of memory");
    return NOMTAG_ERR_INTERNAL;
  } catch (const std::exception& e) {
    set_error(err, e.what());
    return NOMTAG_ERR_INTERNAL;
  } catch (...) {
    set_error(err, "unknown exception in plugin");
    return NOMTAG_ERR_INTERNAL;
  }
}

}  // namespace nomtag::sdk

#endif
