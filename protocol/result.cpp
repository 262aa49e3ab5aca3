#include "protocol/result.hpp"

#include <cerrno>
#include <cstring>

namespace tutelle {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid argument";
    case ErrorCode::not_found: return "not found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::refused: return "refused";
    case ErrorCode::corrupt: return "corrupt";
    case ErrorCode::storage: return "storage";
    case ErrorCode::map_full: return "map full";
    case ErrorCode::network: return "network";
    case ErrorCode::crypto: return "crypto";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

Error system_call_error(const std::string& operation, const std::filesystem::path& path) {
  return make_error(ErrorCode::storage,
                    operation + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace tutelle
