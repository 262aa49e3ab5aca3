#pragma once
// Errors as values. An expected failure (a malformed identifier, a bad signature, a full map,
// a peer gone) is returned as an Error; a broken invariant is a bug and throws LogicError.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace tutelle {

// Whose fault a failure is: the caller's input, the peer's, the system's, or ours.
enum class ErrorCode {
  invalid_argument,  // the caller gave a bad value (field, identifier, command)
  not_found,         // the thing named does not exist
  conflict,          // the operation contradicts the state (exists already, fork…)
  refused,           // authorisation or scope refused it
  corrupt,           // bytes that do not decode or verify
  storage,           // LMDB or the file system failed
  map_full,          // the LMDB map is full: raise --map-size
  network,           // a peer or socket failed
  crypto,            // a cryptographic library failed
  internal,          // a bug of ours
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;

  // Returns a copy whose message is prefixed with `where: `.
  [[nodiscard]] Error context(const std::string& where) const {
    return Error{code, where + ": " + message};
  }
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// A storage Error for a system call that failed: "`operation` `path`: <strerror(errno)>".
Error system_call_error(const std::string& operation, const std::filesystem::path& path);

// A value or the Error that prevented it. Check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(check()); }
  const T& value() const& { return std::get<T>(check()); }
  T&& value() && { return std::get<T>(std::move(check())); }
  const Error& error() const { return std::get<Error>(state_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Error>& check() {
    if (!ok()) throw std::logic_error("Result::value() on an error: " + error().message);
    return state_;
  }
  const std::variant<T, Error>& check() const {
    if (!ok()) throw std::logic_error("Result::value() on an error: " + error().message);
    return state_;
  }

  std::variant<T, Error> state_;
};

// The result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace tutelle
