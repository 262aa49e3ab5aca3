#include "protocol/identifiers.hpp"
