#include "write/payload_check.h"

#include <openssl/evp.h>

#include <memory>

namespace nomtag {
namespace {

// Merges adjacent ranges, so that two ways of cutting the same bytes into
// ranges compare equal.
std::vector<PayloadPart> Coalesce(const std::vector<PayloadPart>& parts) {
  std::vector<PayloadPart> out;
  for (const auto& p : parts) {
    if (p.is_range && p.length == 0) continue;
    if (p.is_range && !out.empty() && out.back().is_range &&
        out.back().offset + out.back().length == p.offset) {
      out.back().length += p.length;
      continue;
    }
    if (!p.is_range && !out.empty() && !out.back().is_range) {
      out.back().bytes += p.bytes;
      continue;
    }
    out.push_back(p);
  }
  return out;
}

}  // namespace

Result<std::string> PayloadDigest(const std::vector<PayloadPart>& parts,
                                  OverlayStream& stream) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string buf(1 << 20, '\0');
  for (const auto& p : parts) {
    if (!p.is_range) {
      EVP_DigestUpdate(ctx.get(), p.bytes.data(), p.bytes.size());
      continue;
    }
    uint64_t done = 0;
    while (done < p.length) {
      size_t want = std::min<uint64_t>(buf.size(), p.length - done);
      size_t got = 0;
      Status s = stream.Read(p.offset + done, buf.data(), want, &got);
      if (!s.ok()) return s;
      if (got != want)
        return Status::Corrupt("audio payload range runs past the end");
      EVP_DigestUpdate(ctx.get(), buf.data(), got);
      done += got;
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

bool PayloadProvenByMapping(const std::vector<PayloadPart>& before,
                            const std::vector<PayloadPart>& after,
                            OverlayStream& edited) {
  // Translate the new file's ranges to the original's offsets.
  std::vector<PayloadPart> mapped;
  for (const auto& p : after) {
    if (!p.is_range) {
      mapped.push_back(p);
      continue;
    }
    auto base = edited.BaseOffsetOf(p.offset, p.length);
    if (!base) return false;
    mapped.push_back({true, *base, p.length, {}});
  }
  return Coalesce(mapped) == Coalesce(before);
}

Status CheckPayloadUnchanged(const std::vector<PayloadPart>& before,
                             OverlayStream& original,
                             const std::vector<PayloadPart>& after,
                             OverlayStream& edited, bool* proven_by_mapping) {
  *proven_by_mapping = PayloadProvenByMapping(before, after, edited);
  if (*proven_by_mapping) return Status::OK();
  auto old_digest = PayloadDigest(before, original);
  if (!old_digest.ok()) return old_digest.status();
  auto new_digest = PayloadDigest(after, edited);
  if (!new_digest.ok()) return new_digest.status();
  if (*old_digest != *new_digest)
    return Status::Refused("the audio payload would change");
  return Status::OK();
}

}  // namespace nomtag
