#include "protocol/result.hpp"

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

}  // namespace tutelle
