#include "replication/host/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "datatypes/encoding.h"
#include "datatypes/rdb.h"
#include "datatypes/storage.h"
#include "replication/host/group_host.h"

namespace keel::replication {
namespace {

constexpr std::string_view kMagic = "SNAP1";
constexpr size_t kHeaderBytes = 5 + 8 * 4 + 4 + 1 + 8;
constexpr size_t kMaxColumnFamilies = 8;
constexpr uint64_t kMaxFileBytes = 128u << 20;  // a staged SST file is cut past this

bool SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string EncodeChunk(const ChunkHeader& h, std::string_view records) {
  std::string out(kMagic);
  out.reserve(kHeaderBytes + records.size());
  PutFixed64LE(&out, h.group);
  PutFixed64LE(&out, h.leader);
  PutFixed64LE(&out, h.transfer);
  PutFixed64LE(&out, h.index);
  PutFixed32LE(&out, h.seq);
  out.push_back(h.last ? 1 : 0);
  PutFixed64LE(&out, Crc64(0, records));
  out.append(records);
  return out;
}

bool IsChunk(std::string_view body) { return body.substr(0, kMagic.size()) == kMagic; }

bool DecodeChunk(std::string_view body, ChunkHeader* h, std::string_view* records) {
  if (body.size() < kHeaderBytes || !IsChunk(body)) return false;
  const char* p = body.data() + kMagic.size();
  h->group = GetFixed64LE(p);
  h->leader = GetFixed64LE(p + 8);
  h->transfer = GetFixed64LE(p + 16);
  h->index = GetFixed64LE(p + 24);
  h->seq = GetFixed32LE(p + 32);
  uint8_t last = static_cast<uint8_t>(p[36]);
  if (last > 1) return false;
  h->last = last == 1;
  uint64_t crc = GetFixed64LE(p + 37);
  *records = body.substr(kHeaderBytes);
  return Crc64(0, *records) == crc;
}

std::string MakeHandle(ReplicaId leader, uint64_t transfer, uint64_t index) {
  return "SNAP1 " + std::to_string(leader) + " " + std::to_string(transfer) + " " +
         std::to_string(index);
}

bool ParseHandle(std::string_view handle, ReplicaId* leader, uint64_t* transfer, uint64_t* index) {
  std::istringstream in{std::string(handle)};
  std::string magic;
  in >> magic >> *leader >> *transfer >> *index;
  return !in.fail() && magic == kMagic;
}

// ---------------------------------------------------------------------------------------
// SnapshotSource
// ---------------------------------------------------------------------------------------

SnapshotSource::SnapshotSource(Storage* storage, GroupId group)
    : storage_(storage), snapshot_(storage->db()->GetSnapshot()) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot_;
  std::string v;
  if (storage_->db()->Get(ro, storage_->default_cf(), GroupHost::AppliedKey(group), &v).ok() &&
      v.size() == 8) {
    index_ = GetFixed64LE(v.data());
  }
}

SnapshotSource::~SnapshotSource() {
  it_.reset();
  storage_->db()->ReleaseSnapshot(snapshot_);
}

// Positions it_ on the next record, moving to the next column family when one ends.
bool SnapshotSource::Advance() {
  const auto& cfs = storage_->column_families();
  while (cf_ < cfs.size()) {
    if (!it_) {
      rocksdb::ReadOptions ro;
      ro.snapshot = snapshot_;
      ro.fill_cache = false;
      it_.reset(storage_->db()->NewIterator(ro, cfs[cf_]));
      it_->SeekToFirst();
    }
    if (it_->Valid()) return true;
    if (!it_->status().ok()) {
      status_ = it_->status();
      return false;
    }
    it_.reset();
    ++cf_;
  }
  return false;
}

bool SnapshotSource::Next(size_t max_bytes, std::string* records) {
  size_t before = records->size();
  while (records->size() - before < max_bytes || records->size() == before) {
    if (!Advance()) break;
    rocksdb::Slice k = it_->key(), v = it_->value();
    records->push_back(static_cast<char>(cf_));
    PutFixed32LE(records, static_cast<uint32_t>(k.size()));
    records->append(k.data(), k.size());
    PutFixed32LE(records, static_cast<uint32_t>(v.size()));
    records->append(v.data(), v.size());
    it_->Next();
  }
  return records->size() > before;
}

// ---------------------------------------------------------------------------------------
// SnapshotStager
// ---------------------------------------------------------------------------------------

struct SnapshotStager::Receiving {
  ReplicaId leader = kNoReplica;
  uint64_t transfer = 0;
  uint64_t index = 0;
  uint32_t next_seq = 0;
  std::string dir;
  int cf = -1;
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  std::string file;
  uint64_t file_bytes = 0;
  int file_count = 0;
  std::vector<std::vector<std::string>> files;
};

SnapshotStager::SnapshotStager(std::string dir, GroupId group)
    : dir_(std::move(dir)), group_(group) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  // Transfers of an earlier run (an interrupted install was redone before this runs).
  for (auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    std::filesystem::remove_all(e.path(), ec);
  }
}

SnapshotStager::~SnapshotStager() {
  std::lock_guard<std::mutex> l(mu_);
  if (receiving_) {
    receiving_->writer.reset();
    Remove(receiving_->dir);
  }
}

uint64_t SnapshotStager::chunks_received() const {
  std::lock_guard<std::mutex> l(mu_);
  return chunks_;
}

std::string SnapshotStager::Fail(std::string why) {
  if (receiving_) {
    receiving_->writer.reset();
    Remove(receiving_->dir);
    receiving_.reset();
  }
  return "ERR " + why;
}

std::string SnapshotStager::OnChunk(ReplicaId from, std::string_view body) {
  ChunkHeader h;
  std::string_view records;
  if (!DecodeChunk(body, &h, &records)) return "ERR malformed chunk or checksum mismatch";
  if (h.group != group_) return "ERR chunk of another group";
  if (h.leader != from) return "ERR chunk not from its sender";
  std::lock_guard<std::mutex> l(mu_);
  ++chunks_;
  Receiving* cur = receiving_.get();
  bool same = cur != nullptr && cur->leader == h.leader && cur->transfer == h.transfer;
  if (h.seq != 0 && !same) return "ERR no such transfer";  // a stale sender: ignore it
  if (h.seq == 0) {
    (void)Fail("");  // a new transfer replaces an unfinished one
    auto r = std::make_unique<Receiving>();
    r->leader = h.leader;
    r->transfer = h.transfer;
    r->index = h.index;
    r->dir = dir_ + "/" + std::to_string(h.leader) + "-" + std::to_string(h.transfer);
    std::error_code ec;
    if (complete_ && complete_->dir == r->dir) complete_.reset();  // the same transfer, again
    std::filesystem::remove_all(r->dir, ec);
    std::filesystem::create_directories(r->dir, ec);
    if (ec) return "ERR cannot create " + r->dir + ": " + ec.message();
    receiving_ = std::move(r);
  }
  Receiving* r = receiving_.get();
  if (r == nullptr || r->leader != h.leader || r->transfer != h.transfer || r->index != h.index ||
      r->next_seq != h.seq) {
    return Fail("chunk out of order");
  }
  ++r->next_seq;
  while (!records.empty()) {
    if (records.size() < 5) return Fail("truncated record");
    int cf = static_cast<uint8_t>(records[0]);
    uint32_t klen = GetFixed32LE(records.data() + 1);
    if (records.size() < 5 + static_cast<size_t>(klen) + 4) return Fail("truncated record");
    std::string_view key = records.substr(5, klen);
    uint32_t vlen = GetFixed32LE(records.data() + 5 + klen);
    size_t used = 9 + static_cast<size_t>(klen) + vlen;
    if (records.size() < used) return Fail("truncated record");
    std::string_view value = records.substr(9 + klen, vlen);
    records.remove_prefix(used);
    if (cf >= static_cast<int>(kMaxColumnFamilies) || cf < r->cf) {
      return Fail("column families out of order");
    }
    if (cf != r->cf || r->file_bytes > kMaxFileBytes) {
      if (r->writer) {
        rocksdb::Status st = r->writer->Finish();
        if (!st.ok()) return Fail("cannot finish " + r->file + ": " + st.ToString());
        r->files[r->cf].push_back(r->file);
      }
      r->cf = cf;
      if (r->files.size() <= static_cast<size_t>(cf)) r->files.resize(cf + 1);
      r->file =
          r->dir + "/cf" + std::to_string(cf) + "-" + std::to_string(r->file_count++) + ".sst";
      r->file_bytes = 0;
      r->writer =
          std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), rocksdb::Options());
      rocksdb::Status st = r->writer->Open(r->file);
      if (!st.ok()) return Fail("cannot create " + r->file + ": " + st.ToString());
    }
    rocksdb::Status st = r->writer->Put(rocksdb::Slice(key.data(), key.size()),
                                        rocksdb::Slice(value.data(), value.size()));
    if (!st.ok()) return Fail("cannot stage a record: " + st.ToString());
    r->file_bytes += used;
  }
  if (!h.last) return "OK";
  return FinishLocked();
}

std::string SnapshotStager::FinishLocked() {
  Receiving* r = receiving_.get();
  if (r->writer) {
    rocksdb::Status st = r->writer->Finish();  // syncs the file
    if (!st.ok()) return Fail("cannot finish " + r->file + ": " + st.ToString());
    r->files[r->cf].push_back(r->file);
    r->writer.reset();
  }
  std::string manifest = "index " + std::to_string(r->index) + "\n";
  for (size_t cf = 0; cf < r->files.size(); ++cf) {
    for (auto& f : r->files[cf]) {
      manifest += std::to_string(cf) + " " + std::filesystem::path(f).filename().string() + "\n";
    }
  }
  std::string path = r->dir + "/MANIFEST";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << manifest;
    if (!out.flush()) return Fail("cannot write " + path);
  }
  if (!SyncPath(path, false) || !SyncPath(r->dir, true) || !SyncPath(dir_, true)) {
    return Fail("cannot sync " + r->dir);
  }
  if (complete_ && complete_->dir != r->dir) Remove(complete_->dir);
  StagedSnapshot s;
  s.dir = r->dir;
  s.leader = r->leader;
  s.transfer = r->transfer;
  s.index = r->index;
  s.files = std::move(r->files);
  complete_ = std::move(s);
  receiving_.reset();
  return "OK";
}

bool SnapshotStager::CompleteIsLocked(std::string_view handle) const {
  ReplicaId leader = 0;
  uint64_t transfer = 0, index = 0;
  return ParseHandle(handle, &leader, &transfer, &index) && complete_ &&
         complete_->leader == leader && complete_->transfer == transfer &&
         complete_->index == index;
}

bool SnapshotStager::HasComplete(std::string_view handle) {
  std::lock_guard<std::mutex> l(mu_);
  return CompleteIsLocked(handle);
}

bool SnapshotStager::Claim(std::string_view handle, StagedSnapshot* out) {
  std::lock_guard<std::mutex> l(mu_);
  if (!CompleteIsLocked(handle)) return false;
  // Every staged file must still be there before the store is wiped for it.
  for (const auto& files : complete_->files) {
    for (const auto& f : files) {
      if (!std::filesystem::is_regular_file(f)) return false;
    }
  }
  *out = std::move(*complete_);
  complete_.reset();
  return true;
}

bool SnapshotStager::Load(const std::string& dir, StagedSnapshot* out) {
  std::ifstream in(dir + "/MANIFEST");
  std::string word;
  *out = StagedSnapshot();
  out->dir = dir;
  if (!(in >> word >> out->index) || word != "index") return false;
  size_t cf = 0;
  std::string name;
  while (in >> cf >> name) {
    if (cf >= kMaxColumnFamilies || name.find('/') != std::string::npos) return false;
    if (out->files.size() <= cf) out->files.resize(cf + 1);
    out->files[cf].push_back(dir + "/" + name);
  }
  return in.eof();
}

void SnapshotStager::Remove(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace keel::replication
