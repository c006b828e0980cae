#include "core/plugin_error.h"

namespace nomtag {

Status StatusFromPlugin(nomtag_status code, const std::string& context,
                        const std::string& message) {
  if (code == NOMTAG_OK) return Status::OK();
  std::string msg =
      context + ": " + (message.empty() ? "plugin gave no message" : message);
  switch (code) {
    case NOMTAG_ERR_INVALID_ARGUMENT:
    case NOMTAG_ERR_SETTINGS:
      return Status::InvalidArgument(msg);
    case NOMTAG_ERR_UNSUPPORTED:
      return Status::Unsupported(msg);
    case NOMTAG_ERR_IO:
      return Status::IoError(msg);
    case NOMTAG_ERR_CORRUPT:
      return Status::Corrupt(msg);
    case NOMTAG_ERR_NOT_FOUND:
      return Status::NotFound(msg);
    case NOMTAG_ERR_REFUSED:
      return Status::Refused(msg);
    default:
      return Status::Internal(msg);
  }
}

}  // namespace nomtag
