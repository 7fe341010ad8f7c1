#pragma once
// A structural check of the pickle inside a torch.save checkpoint, run before libtorch's
// unpickler sees it. libtorch 1.13's unpickler trusts the stream: an opcode that pops more than
// the stack holds (a REDUCE on one item, a TUPLE without a MARK) reads outside its vectors and
// corrupts memory (found by tests/fuzz/fuzz_weights). The check walks the opcodes a state dict
// is written with, keeps the stack depth and the marks, and refuses anything else.
#include <string_view>

#include "common/error.h"

namespace wanserve::engine {

// Ok for a pickle whose every opcode is one torch.save writes (protocols 2 to 4), with its
// arguments inside the stream, never popping below the top mark or an empty stack, writing
// memo entries numbered below the stream's length and reading only those written before, and
// ending in STOP with one value. kInvalidInput naming the offset and the opcode otherwise.
Status CheckPickle(std::string_view pickle);

// libtorch allocates the size a zip's central directory declares for a record before it reads
// a byte of it (data.pkl, and the version record it reads on opening), so a forged size costs
// gigabytes. Ok when the archive's directory lists a data.pkl (in any folder) and declares no
// record larger than the archive itself: torch.save stores records uncompressed. ZIP64 sizes
// are read from their extra field. kInvalidInput otherwise, or when the directory cannot be found.
Status CheckArchiveRecordSizes(std::string_view archive);

}  // namespace wanserve::engine
