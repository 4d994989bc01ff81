#include "model/associated_files.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "model/str_format.h"

namespace qs::model {

namespace {

// Zip structures (PKWARE APPNOTE.TXT 4.3.7 local file header, 4.3.12 central directory
// header, 4.3.16 end of central directory record). Little-endian fields.
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr size_t kEndSize = 22;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;

uint32_t le16(std::span<const uint8_t> b, size_t at) {
    return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8;
}
uint32_t le32(std::span<const uint8_t> b, size_t at) {
    return le16(b, at) | le16(b, at + 2) << 16;
}

struct Entry {
    std::string name;
    uint32_t method = 0;
    uint64_t size = 0, compressed = 0;
    uint64_t local = 0;  // absolute offset of the local header in the file
};

std::span<const uint8_t> fileBytes(const Model& m) {
    return m.storage ? m.storage->bytes() : std::span<const uint8_t>{};
}

// The central directory, or nullopt when the bytes do not end with a zip archive.
std::optional<std::vector<Entry>> centralDirectory(std::span<const uint8_t> b) {
    if (b.size() < kEndSize) return std::nullopt;
    // The end record is followed by a comment of at most 65535 bytes.
    const size_t lowest = b.size() > kEndSize + 0xffff ? b.size() - kEndSize - 0xffff : 0;
    size_t end = b.size() - kEndSize;
    while (le32(b, end) != kEndSig || end + kEndSize + le16(b, end + 20) != b.size()) {
        if (end == lowest) return std::nullopt;
        --end;
    }
    const uint64_t count = le16(b, end + 10);
    const uint64_t cdSize = le32(b, end + 12);
    const uint64_t cdOffset = le32(b, end + 16);
    if (cdSize + cdOffset > end) return std::nullopt;
    // Offsets are relative to the archive's start; when the archive was appended to other
    // data (a .tflite model) without rewriting them, they are short by the prefix length, as
    // Python's zipfile computes it ("concat" in _RealGetContents).
    const uint64_t concat = end - cdSize - cdOffset;
    std::vector<Entry> entries;
    uint64_t at = concat + cdOffset;
    for (uint64_t i = 0; i < count; ++i) {
        if (at + kCentralSize > end || le32(b, at) != kCentralSig) return std::nullopt;
        Entry e;
        e.method = le16(b, at + 10);
        e.compressed = le32(b, at + 20);
        e.size = le32(b, at + 24);
        const uint64_t nameLen = le16(b, at + 28), extra = le16(b, at + 30),
                       comment = le16(b, at + 32);
        e.local = concat + le32(b, at + 42);
        if (at + kCentralSize + nameLen > end) return std::nullopt;
        e.name.assign(reinterpret_cast<const char*>(b.data() + at + kCentralSize), nameLen);
        entries.push_back(std::move(e));
        at += kCentralSize + nameLen + extra + comment;
    }
    return entries;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// "12 label" or "12: label" -> (12, "label").
std::optional<std::pair<size_t, std::string_view>> indexed(std::string_view line) {
    size_t index = 0;
    const auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), index);
    if (ec != std::errc{} || p == line.data()) return std::nullopt;
    std::string_view rest(p, static_cast<size_t>(line.data() + line.size() - p));
    if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
    if (rest.empty() || !std::isspace(static_cast<unsigned char>(rest.front())))
        return std::nullopt;
    return std::pair{index, trim(rest)};
}

}  // namespace

std::vector<std::string> associatedFileNames(const Model& m) {
    std::vector<std::string> names;
    if (auto cd = centralDirectory(fileBytes(m))) {
        for (auto& e : *cd) names.push_back(std::move(e.name));
    }
    return names;
}

Result<std::vector<uint8_t>> readAssociatedFile(const Model& m, std::string_view name) {
    const auto b = fileBytes(m);
    const auto cd = centralDirectory(b);
    if (!cd) return fail(strFormat("{}: no packed files (no zip archive after the model)", m.path));
    const auto it =
        std::find_if(cd->begin(), cd->end(), [&](const Entry& e) { return e.name == name; });
    if (it == cd->end()) return fail(strFormat("{}: no packed file '{}'", m.path, name));
    if (it->method != 0 || it->compressed != it->size)
        return fail(
            strFormat("{}: packed file '{}' is compressed (method {}); only stored "
                      "files are read",
                      m.path, name, it->method));
    if (it->local + kLocalSize > b.size() || le32(b, it->local) != kLocalSig)
        return fail(strFormat("{}: packed file '{}': bad local header", m.path, name));
    const uint64_t data =
        it->local + kLocalSize + le16(b, it->local + 26) + le16(b, it->local + 28);
    if (data + it->size > b.size())
        return fail(strFormat("{}: packed file '{}' is truncated", m.path, name));
    return std::vector<uint8_t>(b.begin() + static_cast<std::ptrdiff_t>(data),
                                b.begin() + static_cast<std::ptrdiff_t>(data + it->size));
}

std::vector<std::string> parseLabels(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        lines.push_back(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
    bool allIndexed = !lines.empty();
    for (auto l : lines) allIndexed = allIndexed && (trim(l).empty() || indexed(trim(l)));
    std::vector<std::string> labels;
    if (allIndexed) {
        for (auto l : lines) {
            const auto i = indexed(trim(l));
            if (!i || i->first > 1'000'000) continue;
            if (labels.size() <= i->first) labels.resize(i->first + 1);
            labels[i->first] = std::string(i->second);
        }
        return labels;
    }
    for (auto l : lines) labels.emplace_back(trim(l));
    return labels;
}

Result<std::vector<std::string>> outputLabels(const Model& m, size_t output) {
    if (output >= m.output_info.size() || m.output_info[output].label_files.empty())
        return std::vector<std::string>{};
    const std::string& file = m.output_info[output].label_files.front();
    auto bytes = readAssociatedFile(m, file);
    if (!bytes) return std::unexpected(bytes.error());
    return parseLabels(
        std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
}

}  // namespace qs::model
