// ReplyBuilder: appends RESP2 or RESP3 replies, formatted as Redis 7.0 formats them, to a
// caller-owned std::string.
//
// Ownership: the builder does not own the output string; the caller keeps it alive while the
// builder writes to it (set_output() points the builder at another string). One builder serves
// both protocols; the connection switches with set_protocol() after HELLO. Methods only
// append to the string (amortized growth); the hot paths (Integer, Bulk and aggregate
// headers) format numbers without snprintf or streams and allocate nothing else.
//
// Thread-safety: none. A builder belongs to one connection and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keel::resp {

class ReplyBuilder {
 public:
  // `protocol` is 2 or 3 (anything >= 3 is treated as RESP3).
  explicit ReplyBuilder(std::string* out, int protocol = 2) : out_(out), protocol_(protocol) {}

  void set_protocol(int protocol) { protocol_ = protocol; }
  int protocol() const { return protocol_; }
  void set_output(std::string* out) { out_ = out; }
  std::string* output() { return out_; }

  void SimpleString(std::string_view s);  // +s ; CR and LF inside are replaced by spaces
  void Ok();                              // +OK
  // -text ; the caller passes "ERR ...", "WRONGTYPE ..." etc. CR and LF are replaced by
  // spaces; a leading '-' in `text` is not doubled.
  void Error(std::string_view text);
  void Integer(int64_t v);                  // :v
  void Bulk(std::string_view s);            // $len\r\n s \r\n
  void NullBulk();                          // RESP2 $-1 ; RESP3 _
  void NullArray();                         // RESP2 *-1 ; RESP3 _
  void Array(size_t n);                     // *n
  void Map(size_t pairs);                   // RESP3 %n ; RESP2 *2n
  void Set(size_t n);                       // RESP3 ~n ; RESP2 *n
  void Push(size_t n);                      // RESP3 >n ; RESP2 *n
  void Double(double d);                    // RESP3 ,%.17g (inf, -inf, nan) ; RESP2 bulk of it
  void Bool(bool b);                        // RESP3 #t / #f ; RESP2 :1 / :0
  void BigNumber(std::string_view digits);  // RESP3 (digits ; RESP2 bulk
  // RESP3 =len\r\nfmt:s with fmt padded with spaces or cut to 3 bytes ; RESP2 bulk of s.
  void Verbatim(std::string_view s, std::string_view fmt = "txt");

  // An array header followed by one bulk per element.
  void BulkArray(const std::vector<std::string>& items);
  void BulkArray(std::span<const std::string_view> items);

  // Deferred aggregate lengths, for replies whose element count is known only at the end
  // (SCAN, KEYS). Begin* remembers the current end of the output; End* inserts the header
  // there. Deferred aggregates must be ended in reverse order of beginning (properly nested),
  // and the output must not be otherwise modified before the handle's position meanwhile.
  size_t BeginDeferredArray() { return out_->size(); }
  void EndDeferredArray(size_t handle, size_t n);
  size_t BeginDeferredMap() { return out_->size(); }
  void EndDeferredMap(size_t handle, size_t pairs);  // RESP3 %pairs ; RESP2 *2pairs
  size_t BeginDeferredSet() { return out_->size(); }
  void EndDeferredSet(size_t handle, size_t n);  // RESP3 ~n ; RESP2 *n

 private:
  bool resp3() const { return protocol_ >= 3; }
  // Appends <type><n>\r\n.
  void AppendHeader(char type, uint64_t n);
  // Inserts <type><n>\r\n at `pos`.
  void InsertHeader(size_t pos, char type, uint64_t n);
  // Appends <type><s>\r\n with CR and LF in s replaced by spaces.
  void AppendLine(char type, std::string_view s);

  std::string* out_;
  int protocol_;
};

}  // namespace keel::resp
