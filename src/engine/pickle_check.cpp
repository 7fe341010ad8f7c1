#include "engine/pickle_check.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace wanserve::engine {
namespace {

// An n-byte little-endian unsigned number at `at` (the caller checked the bounds).
uint64_t Little(std::string_view bytes, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return v;
}

class Walker {
 public:
  explicit Walker(std::string_view pickle) : p_(pickle) {}

  Status Run() {
    while (at_ < p_.size()) {
      op_at_ = at_;
      op_ = static_cast<uint8_t>(p_[at_++]);
      if (op_ == '.') return Stop();
      RETURN_IF_ERROR(Step());
    }
    return Bad("the stream ends without STOP");
  }

 private:
  Error Bad(std::string_view why) const {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("pickle opcode 0x{:02x} at byte {}: {}", op_, op_at_, why));
  }

  // Reads an n-byte little-endian unsigned argument.
  Result<uint64_t> Arg(size_t n) {
    if (p_.size() - at_ < n) return Bad("its argument runs past the end");
    const uint64_t v = Little(p_, at_, n);
    at_ += n;
    return v;
  }
  Status SkipArg(size_t n) {
    if (p_.size() - at_ < n) return Bad("its argument runs past the end");
    at_ += n;
    return Status::Ok();
  }
  Status Skip(uint64_t n) {
    if (p_.size() - at_ < n) return Bad("its data runs past the end");
    at_ += static_cast<size_t>(n);
    return Status::Ok();
  }
  Status Line() {
    const size_t end = p_.find('\n', at_);
    if (end == std::string_view::npos) return Bad("its text has no end of line");
    at_ = end + 1;
    return Status::Ok();
  }

  // Items above the top mark: what an opcode may pop.
  size_t Free() const { return depth_ - (marks_.empty() ? 0 : marks_.back()); }
  Status Pop(size_t n) {
    if (Free() < n) return Bad(fmt::format("pops {} item(s) where {} lie above the mark", n, Free()));
    depth_ -= n;
    return Status::Ok();
  }
  void Push() { ++depth_; }
  // The items since the top mark, which is removed; false when there is no mark.
  Result<size_t> PopMark() {
    if (marks_.empty()) return Bad("no MARK before it");
    const size_t n = depth_ - marks_.back();
    depth_ = marks_.back();
    marks_.pop_back();
    return n;
  }
  // libtorch sizes its memo table by the largest index (16 bytes an entry: a LONG_BINPUT of 275
  // million cost 4.4 GB, the fuzzer's find). torch.save numbers entries 0, 1, 2... and each PUT
  // takes at least two bytes, so an index past the stream's length cannot come from it.
  Status Put(uint64_t index) {
    if (depth_ == 0) return Bad("memoizes an empty stack");
    if (index >= p_.size()) {
      return Bad(fmt::format("memoizes at {}, past what a stream of {} bytes numbers", index, p_.size()));
    }
    memo_.insert(index);
    return Status::Ok();
  }
  Status Get(uint64_t index) {
    if (!memo_.count(index)) return Bad(fmt::format("reads memo {} that was never written", index));
    Push();
    return Status::Ok();
  }

  Status Stop() {
    if (!marks_.empty() || depth_ != 1) return Bad(fmt::format("STOP with {} item(s) and {} mark(s)", depth_, marks_.size()));
    return Status::Ok();
  }

  Status Step() {
    switch (op_) {
      case 0x80: return SkipArg(1);                                   // PROTO
      case 0x95: return SkipArg(8);                                   // FRAME
      case 'c': RETURN_IF_ERROR(Line()); RETURN_IF_ERROR(Line()); Push(); return Status::Ok();  // GLOBAL
      case 0x93: RETURN_IF_ERROR(Pop(2)); Push(); return Status::Ok();     // STACK_GLOBAL
      case 'q': { ASSIGN_OR_RETURN(uint64_t i, Arg(1)); return Put(i); }   // BINPUT
      case 'r': { ASSIGN_OR_RETURN(uint64_t i, Arg(4)); return Put(i); }   // LONG_BINPUT
      case 0x94: return Put(memo_.size());                                 // MEMOIZE
      case 'h': { ASSIGN_OR_RETURN(uint64_t i, Arg(1)); return Get(i); }   // BINGET
      case 'j': { ASSIGN_OR_RETURN(uint64_t i, Arg(4)); return Get(i); }   // LONG_BINGET
      case '}': case ']': case ')': case 'N': case 0x88: case 0x89:       // empty dict/list/tuple, None, bools
        Push();
        return Status::Ok();
      case 'J': RETURN_IF_ERROR(SkipArg(4)); Push(); return Status::Ok();  // BININT
      case 'K': RETURN_IF_ERROR(SkipArg(1)); Push(); return Status::Ok();  // BININT1
      case 'M': RETURN_IF_ERROR(SkipArg(2)); Push(); return Status::Ok();  // BININT2
      case 'G': RETURN_IF_ERROR(SkipArg(8)); Push(); return Status::Ok();  // BINFLOAT
      case 0x8a: { ASSIGN_OR_RETURN(uint64_t n, Arg(1)); RETURN_IF_ERROR(Skip(n)); Push(); return Status::Ok(); }  // LONG1
      case 0x8c: case 'U': case 'C': {                                     // short strings and bytes
        ASSIGN_OR_RETURN(uint64_t n, Arg(1));
        RETURN_IF_ERROR(Skip(n));
        Push();
        return Status::Ok();
      }
      case 'X': case 'T': case 'B': {                                      // strings and bytes, 4-byte length
        ASSIGN_OR_RETURN(uint64_t n, Arg(4));
        RETURN_IF_ERROR(Skip(n));
        Push();
        return Status::Ok();
      }
      case 0x8d: case 0x8e: {                                              // BINUNICODE8, BINBYTES8
        ASSIGN_OR_RETURN(uint64_t n, Arg(8));
        RETURN_IF_ERROR(Skip(n));
        Push();
        return Status::Ok();
      }
      case '(': marks_.push_back(depth_); return Status::Ok();             // MARK
      case 't': case 'l': { ASSIGN_OR_RETURN(size_t n, PopMark()); (void)n; Push(); return Status::Ok(); }  // TUPLE, LIST
      case 'd': {                                                          // DICT
        ASSIGN_OR_RETURN(size_t n, PopMark());
        if (n % 2) return Bad("an odd number of keys and values");
        Push();
        return Status::Ok();
      }
      case 0x85: RETURN_IF_ERROR(Pop(1)); Push(); return Status::Ok();     // TUPLE1
      case 0x86: RETURN_IF_ERROR(Pop(2)); Push(); return Status::Ok();     // TUPLE2
      case 0x87: RETURN_IF_ERROR(Pop(3)); Push(); return Status::Ok();     // TUPLE3
      case 'Q': RETURN_IF_ERROR(Pop(1)); Push(); return Status::Ok();      // BINPERSID
      case 'R': case 0x81: RETURN_IF_ERROR(Pop(2)); Push(); return Status::Ok();  // REDUCE, NEWOBJ
      case 'b': case 'a':                                                  // BUILD, APPEND: onto the item below
        if (Free() < 2) return Bad("needs two items above the mark");
        return Pop(1);
      case 's':                                                            // SETITEM
        if (Free() < 3) return Bad("needs three items above the mark");
        return Pop(2);
      case 'e': case 'u': {                                                // APPENDS, SETITEMS
        ASSIGN_OR_RETURN(size_t n, PopMark());
        if (op_ == 'u' && n % 2) return Bad("an odd number of keys and values");
        if (Free() < 1) return Bad("nothing to add them to");
        return Status::Ok();
      }
      default: return Bad("not an opcode torch.save writes");
    }
  }

  std::string_view p_;
  size_t at_ = 0;
  size_t op_at_ = 0;
  uint8_t op_ = 0;
  size_t depth_ = 0;
  std::vector<size_t> marks_;
  std::set<uint64_t> memo_;
};

// The uncompressed size in a directory entry's extra fields: the first value of the ZIP64
// field (id 1) when the entry's own 32-bit size is 0xffffffff; nullopt when there is none.
std::optional<uint64_t> Zip64Size(std::string_view extra) {
  for (size_t x = 0; x + 4 <= extra.size();) {
    const uint64_t id = Little(extra, x, 2), len = Little(extra, x + 2, 2);
    if (id == 1 && len >= 8 && x + 4 + 8 <= extra.size()) return Little(extra, x + 4, 8);
    x += 4 + len;
  }
  return std::nullopt;
}

Error BadArchive(std::string_view why) {
  return MakeError(ErrorCode::kInvalidInput, fmt::format("not a readable zip archive: {}", why));
}

}  // namespace

Status CheckPickle(std::string_view pickle) { return Walker(pickle).Run(); }

Status CheckArchiveRecordSizes(std::string_view archive) {
  // The end-of-directory record (22 bytes and a comment of up to 64 KiB) closes the archive.
  constexpr std::string_view kEnd("PK\x05\x06", 4), kEnd64Locator("PK\x06\x07", 4), kEnd64("PK\x06\x06", 4);
  constexpr std::string_view kEntry("PK\x01\x02", 4);
  if (archive.size() < 22) return BadArchive("too short");
  const size_t search_from = archive.size() > 22 + 65535 ? archive.size() - 22 - 65535 : 0;
  const size_t end = archive.rfind(kEnd);
  if (end == std::string_view::npos || end < search_from || archive.size() - end < 22) {
    return BadArchive("no end of central directory");
  }
  uint64_t dir_size = Little(archive, end + 12, 4), dir_at = Little(archive, end + 16, 4);
  if (dir_size == 0xffffffff || dir_at == 0xffffffff) {  // ZIP64: the locator lies just before
    if (end < 20 || archive.substr(end - 20, 4) != kEnd64Locator) return BadArchive("no ZIP64 locator");
    const uint64_t end64 = Little(archive, end - 20 + 8, 8);
    if (archive.size() < 56 || end64 > archive.size() - 56 || archive.substr(end64, 4) != kEnd64) {
      return BadArchive("no ZIP64 directory end");
    }
    dir_size = Little(archive, end64 + 40, 8);
    dir_at = Little(archive, end64 + 48, 8);
  }
  if (dir_at > archive.size() || dir_size > archive.size() - dir_at) return BadArchive("the directory lies outside");
  bool has_pickle = false;
  for (uint64_t at = dir_at; at + 46 <= dir_at + dir_size;) {
    if (archive.substr(at, 4) != kEntry) return BadArchive("a damaged directory entry");
    const uint64_t name_len = Little(archive, at + 28, 2), extra_len = Little(archive, at + 30, 2),
                   comment_len = Little(archive, at + 32, 2);
    if (at + 46 + name_len > dir_at + dir_size) return BadArchive("a directory entry runs past the directory");
    const std::string_view name = archive.substr(at + 46, name_len);
    uint64_t declared = Little(archive, at + 24, 4);
    if (declared == 0xffffffff) {  // the size is in the ZIP64 extra field
      const uint64_t extra_at = at + 46 + name_len;
      if (extra_at + extra_len > dir_at + dir_size) return BadArchive("a directory entry runs past the directory");
      const std::optional<uint64_t> size64 = Zip64Size(archive.substr(extra_at, extra_len));
      if (!size64) return BadArchive(fmt::format("{} has no ZIP64 size", name));
      declared = *size64;
    }
    if (declared > archive.size()) {
      return MakeError(ErrorCode::kInvalidInput,
                       fmt::format("{} declares {} bytes in an archive of {}", name, declared, archive.size()));
    }
    constexpr std::string_view kPickle("/data.pkl");
    const bool pickle_here = name == kPickle.substr(1) ||
                             (name.size() > kPickle.size() && name.substr(name.size() - kPickle.size()) == kPickle);
    has_pickle = has_pickle || pickle_here;
    at += 46 + name_len + extra_len + comment_len;
  }
  if (has_pickle) return Status::Ok();
  return BadArchive("no data.pkl");
}

}  // namespace wanserve::engine
