#include "model/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace qs::model {

namespace {

class MappedFile final : public ModelStorage {
public:
    MappedFile(void* base, size_t size) : m_base(base), m_size(size) {}
    ~MappedFile() override { ::munmap(m_base, m_size); }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const uint8_t> bytes() const override {
        return {static_cast<const uint8_t*>(m_base), m_size};
    }

private:
    void* m_base;
    size_t m_size;
};

class HeapBytes final : public ModelStorage {
public:
    explicit HeapBytes(std::span<const uint8_t> src) : m_size(src.size()) {
        // operator new with an alignment keeps every FlatBuffers field aligned as in a file
        // mapped at a page boundary.
        m_data = static_cast<uint8_t*>(::operator new(m_size == 0 ? 1 : m_size, kAlign));
        if (m_size != 0) std::memcpy(m_data, src.data(), m_size);
    }
    ~HeapBytes() override { ::operator delete(m_data, kAlign); }
    HeapBytes(const HeapBytes&) = delete;
    HeapBytes& operator=(const HeapBytes&) = delete;

    std::span<const uint8_t> bytes() const override { return {m_data, m_size}; }

private:
    static constexpr std::align_val_t kAlign{16};
    uint8_t* m_data = nullptr;
    size_t m_size;
};

std::string sysError(const std::filesystem::path& path, const char* what) {
    return path.string() + ": " + what + ": " + std::strerror(errno);
}

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

Result<std::shared_ptr<const ModelStorage>> mapFile(const std::filesystem::path& path) {
    Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) return fail(sysError(path, "cannot open"));
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) return fail(sysError(path, "cannot stat"));
    if (S_ISDIR(st.st_mode)) return fail(path.string() + ": is a directory, not a .tflite file");
    if (!S_ISREG(st.st_mode)) return fail(path.string() + ": not a regular file");
    if (st.st_size == 0) return fail(path.string() + ": file is empty");
    const auto size = static_cast<size_t>(st.st_size);
    // MAP_PRIVATE + PROT_READ: pages come in on demand, so opening costs nothing per byte.
    void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (base == MAP_FAILED) return fail(sysError(path, "cannot mmap"));
    return std::make_shared<const MappedFile>(base, size);
}

std::shared_ptr<const ModelStorage> copyToHeap(std::span<const uint8_t> bytes) {
    return std::make_shared<const HeapBytes>(bytes);
}

}  // namespace qs::model
