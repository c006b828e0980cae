// Status and Result: errors as values at module edges.
//
// A Status is OK or a code plus a message that a user can read (it names
// the file, the step and the cause). Result<T> is a value or a non-OK
// Status. Both are cheap to copy and safe to share between threads once
// built.
#ifndef NOMTAG_CORE_STATUS_H_
#define NOMTAG_CORE_STATUS_H_

#include <optional>
#include <string>
#include <utility>

namespace nomtag {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // bad input from the user or caller
    kNotFound,         // a file, library or plugin that is not there
    kIoError,          // the disk said no
    kCorrupt,          // data that cannot be parsed
    kUnsupported,      // no plugin handles this
    kRefused,          // would change or lose something not ours
    kConflict,         // someone else changed it meanwhile; retry later
    kInternal,         // a bug
  };

  Status() = default;  // OK
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) {
    return Status(Code::kNotFound, std::move(msg));
  }
  static Status IoError(std::string msg) {
    return Status(Code::kIoError, std::move(msg));
  }
  static Status Corrupt(std::string msg) {
    return Status(Code::kCorrupt, std::move(msg));
  }
  static Status Unsupported(std::string msg) {
    return Status(Code::kUnsupported, std::move(msg));
  }
  static Status Refused(std::string msg) {
    return Status(Code::kRefused, std::move(msg));
  }
  static Status Conflict(std::string msg) {
    return Status(Code::kConflict, std::move(msg));
  }
  static Status Internal(std::string msg) {
    return Status(Code::kInternal, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "<code name>: <message>", or "OK".
  std::string ToString() const;

  // The same status with "context: " in front of the message.
  Status Prepend(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

const char* CodeName(Status::Code code);

// A value or an error. REQUIRES: a Result built from a Status is not OK.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace nomtag

#endif  // NOMTAG_CORE_STATUS_H_
