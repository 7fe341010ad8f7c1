#pragma once
#include <cstdint>

namespace wanserve::providers::testpattern {

// 5x7 bitmap glyph: 7 rows, the low 5 bits of each row, most significant bit leftmost.
// Returns the glyph for printable ASCII (lower case drawn as upper case); '?' for the rest.
const uint8_t* Glyph(char c);

}  // namespace wanserve::providers::testpattern
