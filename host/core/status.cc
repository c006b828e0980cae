#include "core/status.h"

namespace nomtag {

const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kInvalidArgument:
      return "invalid argument";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kIoError:
      return "I/O error";
    case Status::Code::kCorrupt:
      return "corrupt";
    case Status::Code::kUnsupported:
      return "unsupported";
    case Status::Code::kRefused:
      return "refused";
    case Status::Code::kConflict:
      return "conflict";
    case Status::Code::kInternal:
      return "internal error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace nomtag
